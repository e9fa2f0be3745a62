"""The servers under test (Silo, SeaweedFS at its defaults and with fsync) and the nginx HTTP floor.

Each one runs on a free loopback port with a fresh directory, leads its own session (so the CPU of all its
processes can be summed from /proc), and is stopped by PID at the end.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config
from siloprocs import free_port, log_tail, session_cpu_seconds, wait_ready

from .config import ACCESS_KEY, BUCKET, MIB, REGION, SECRET_KEY, START_TIMEOUT, VENV_BIN
from .procs import PROCESSES

RECLAIM_BYTES_MIN = 256 * MIB  # below this, a vacuum is not worth its wait


class Server:
    """A process the bench started and measures: its PID, its endpoint, the CPU its session has used."""

    name = "server"
    durability = ""

    def __init__(self, workdir):
        self.workdir = workdir
        self.process = None
        self.port = None
        self.failure = None  # why it could not be started or stopped answering, if so
        self.log_path = workdir / f"{self.name}.log"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}" if self.port else None

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def cpu_seconds(self):
        return session_cpu_seconds(self.process.pid)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def launch(self, argv, env=None, ready=None):
        self.process = PROCESSES.start(argv, self.log_path, env=env)
        state = wait_ready(self.process, ready, START_TIMEOUT, interval=0.3)
        if state == "exited":
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}: "
                               f"{log_tail(self.log_path, separator=' | ')}")
        if state == "timeout":
            raise RuntimeError(f"{self.name} not ready after {START_TIMEOUT}s: {log_tail(self.log_path, 5, ' | ')}")

    def stop(self):
        PROCESSES.stop(self.process)


class S3System(Server):
    """An S3 server under test."""

    def client(self, workers=1):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 1, "mode": "standard"},
                          max_pool_connections=max(10, workers), connect_timeout=10, read_timeout=120,
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def answers_s3(self):
        self.client().list_buckets()
        return True

    def setup(self):
        """Start, wait until S3 answers, configure, create the bucket."""
        self.start()
        self.configure()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.client().create_bucket(Bucket=BUCKET)
                return
            except Exception as error:  # noqa: BLE001 - SeaweedFS needs its volumes grown first
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: create bucket failed: {error}") from error
                time.sleep(1)

    def configure(self):
        pass

    def reclaim(self, deleted_bytes):
        """After deleting a run's objects: give the space back if the server needs to be told to."""


class Silo(S3System):
    name = "silo"
    durability = "fsync before acknowledging every write (group commit)"

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary

    def start(self):
        self.port = free_port()
        data = self.workdir / "data"
        data.mkdir(parents=True)
        env = dict(os.environ, SILO_ROOT_ACCESS_KEY=ACCESS_KEY, SILO_ROOT_SECRET_KEY=SECRET_KEY,
                   SILO_LOG_LEVEL=os.environ.get("SILO_LOG_LEVEL", "warning"))
        self.launch([self.binary, "server", "--address", self.host, "--data", data, "--region", REGION],
                    env, self.answers_s3)


# Every cluster the bench started (its processes are not in PROCESSES: ops/pylib/cluster.py owns them), stopped
# by `stop_clusters()` at the end of the run, also when it fails.
CLUSTERS = []


def stop_clusters():
    for system in CLUSTERS:
        system.stop()


class SiloCluster(S3System):
    """Silo as a cluster on this machine: 3 `silo meta` (RaftKit), 1 `silo blob`, 1 `silo gateway`, started
    by ops/pylib/cluster.py. Its CPU is the sum over all five processes."""

    name = "silo-cluster"
    durability = "metadata committed on 2 of 3 Raft replicas (each fsyncs its log), bytes fsynced on the blob node"

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary
        self.cluster = None

    def start(self):
        from cluster import Cluster  # ops/pylib, on the path with siloprocs

        self.cluster = Cluster.up(self.workdir / "cluster", meta=3, blob=1, gateways=1, silo=self.binary,
                                  root_keys=(ACCESS_KEY, SECRET_KEY),
                                  log_level=os.environ.get("SILO_LOG_LEVEL", "warning"))
        CLUSTERS.append(self)
        gateway = self.cluster.state.s3_endpoints[0]
        self.port = int(gateway.rsplit(":", 1)[1])

    def cpu_seconds(self):
        return sum(session_cpu_seconds(node.pid) for node in self.cluster.state.nodes if node.pid)

    def alive(self):
        return self.cluster is not None and all(
            self.cluster.healthy(node) for node in self.cluster.state.nodes if node.role == "gateway")

    def stop(self):
        if self.cluster is not None:
            self.cluster.down()
            self.cluster = None


class SeaweedFS(S3System):
    def __init__(self, workdir, fsync):
        self.name = "seaweedfs-fsync" if fsync else "seaweedfs"
        super().__init__(workdir)
        self.fsync = fsync
        self.durability = ("fs.configure -locationPrefix=/buckets/ -fsync: volume writes fsynced before the "
                           "reply; filer metadata (leveldb) not fsynced" if fsync else
                           "defaults: no fsync (page cache only)")

    def start(self):
        data = self.workdir / "data"
        data.mkdir(parents=True)
        config = self.workdir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "bench", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        # SeaweedFS puts each gRPC port at the HTTP port + 10000.
        self.ports = {name: free_port(also_plus=10000) for name in ("master", "volume", "filer", "s3")}
        self.port = self.ports["s3"]
        argv = [VENV_BIN / "weed", "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={self.ports['master']}", f"-volume.port={self.ports['volume']}",
                f"-filer.port={self.ports['filer']}", "-s3", f"-s3.port={self.port}",
                f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        self.launch(argv, None, self.answers_s3)

    def shell(self, commands, timeout=120):
        return subprocess.run([str(VENV_BIN / "weed"), "shell", f"-master=127.0.0.1:{self.ports['master']}",
                               f"-filer=127.0.0.1:{self.ports['filer']}"], input=commands, text=True,
                              capture_output=True, timeout=timeout)

    def configure(self):
        """For the fsync row: make every write under /buckets/ fsync before the volume server replies."""
        if not self.fsync:
            return
        result = self.shell("fs.configure -locationPrefix=/buckets/ -fsync -apply\nfs.configure\n", timeout=60)
        if not re.search(r'"fsync":\s*true', result.stdout):
            raise RuntimeError(f"fs.configure -fsync did not apply: {result.stdout[-500:]} {result.stderr[-500:]}")

    def reclaim(self, deleted_bytes):
        """Deleted needles keep their space until a vacuum (the master runs one by itself only every 15
        minutes); run one after large PUT runs so they do not fill the disk. The master decides from the
        volume servers' heartbeats (every 5 s), so wait for one first."""
        if deleted_bytes < RECLAIM_BYTES_MIN:
            return
        time.sleep(6)
        try:
            self.shell("lock\nvolume.vacuum -garbageThreshold 0.01\nunlock\n", timeout=300)
        except subprocess.TimeoutExpired:
            pass


NGINX_CONFIG = """
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    types {{ }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


class Nginx(Server):
    """The HTTP floor: nginx (one worker, sendfile) serving static files of the rows' sizes.

    Its directory is a temp dir of its own, readable by all, because the worker drops to `nobody` when
    nginx starts as root; stop() removes it.
    """

    name = "nginx"
    durability = "static files, read only"

    def __init__(self, files):
        super().__init__(Path(tempfile.mkdtemp(prefix="silo-s3-bench-nginx-")))
        self.files = files  # name -> local path of the bytes to serve

    def start(self):
        nginx = shutil.which("nginx")
        if not nginx:
            raise RuntimeError("nginx is not installed (Debian package nginx)")
        os.chmod(self.workdir, 0o755)
        root = self.workdir / "root"
        root.mkdir(mode=0o755)
        for name, source in self.files.items():
            shutil.copyfile(source, root / name)
            os.chmod(root / name, 0o644)
        self.port = free_port()
        config = self.workdir / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(dir=self.workdir, port=self.port, root=root))
        name = next(iter(self.files))
        self.launch([nginx, "-e", self.workdir / "error.log", "-p", self.workdir, "-c", config], None,
                    lambda: _http_status(self.port, f"/{name}") == 200)

    def stop(self):
        super().stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _http_status(port, path):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("HEAD", path)
        return connection.getresponse().status
    finally:
        connection.close()
