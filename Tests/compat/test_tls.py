"""S3 over TLS (`--tls-cert`, `--tls-key`): a `silo server` with a self-signed certificate made by openssl for
127.0.0.1, reached by boto3 and the AWS CLI with that certificate as their CA bundle (issue 16: the S3
endpoint speaks TLS). Plain HTTP to the TLS port gets no S3 answer; a key file that does not load stops the
start with the file's path; --tls-cert without --tls-key is refused."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from conftest import (PROCESSES, READY_TIMEOUT_S, REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, client_config, silo_bin,
                      unique_bucket)
from siloprocs import free_port, wait_ready

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=silo-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def start(tmp_path: Path, *tls_args: str):
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    env = dict(os.environ, SILO_ROOT_ACCESS_KEY=ROOT_ACCESS_KEY, SILO_ROOT_SECRET_KEY=ROOT_SECRET_KEY)
    proc = PROCESSES.start([silo_bin(), "server", "--address", f"127.0.0.1:{port}", "--data", tmp_path / "data",
                            *tls_args], log, env=env)
    state = wait_ready(proc, lambda: "Silo is serving S3 on" in log.read_text(errors="replace"),
                       READY_TIMEOUT_S, interval=0.1)
    return proc, port, log, state


@pytest.fixture
def tls_server(tmp_path):
    if not silo_bin().exists():
        pytest.skip(f"needs the silo binary ({silo_bin()})")
    cert, key = make_certificate(tmp_path)
    proc, port, log, state = start(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert state == "ready", log.read_text(errors="replace")[-2000:]
        assert f"Silo is serving S3 on https://127.0.0.1:{port}" in log.read_text()
        yield port, cert
    finally:
        PROCESSES.stop(proc)


def test_boto3_and_aws_cli_over_tls(tls_server, tmp_path):
    port, cert = tls_server
    endpoint = f"https://127.0.0.1:{port}"
    s3 = boto3.session.Session().client("s3", endpoint_url=endpoint, aws_access_key_id=ROOT_ACCESS_KEY,
                                        aws_secret_access_key=ROOT_SECRET_KEY, region_name=REGION,
                                        config=client_config(), verify=str(cert))
    bucket = unique_bucket("tls")
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(3 * 1024 * 1024 + 5)
    s3.put_object(Bucket=bucket, Key="over/tls", Body=body)
    assert s3.get_object(Bucket=bucket, Key="over/tls")["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["over/tls"]

    aws = shutil.which("aws")
    if aws:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=ROOT_SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_CA_BUNDLE=str(cert), AWS_EC2_METADATA_DISABLED="true")
        listed = subprocess.run([aws, "--endpoint-url", endpoint, "s3api", "list-objects-v2", "--bucket", bucket],
                                env=env, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert [o["Key"] for o in json.loads(listed.stdout)["Contents"]] == ["over/tls"]

    # The certificate is checked: a client that does not trust it refuses the connection.
    untrusted = ssl.create_default_context()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{endpoint}/", context=untrusted, timeout=10)
    # Plain HTTP to the TLS port gets no S3 answer.
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()


def test_bad_tls_files_stop_the_start_with_their_path(tmp_path):
    if not silo_bin().exists():
        pytest.skip(f"needs the silo binary ({silo_bin()})")
    cert, _ = make_certificate(tmp_path)
    missing = tmp_path / "no-such-key.pem"
    proc, _, log, state = start(tmp_path, "--tls-cert", str(cert), "--tls-key", str(missing))
    try:
        assert state != "ready"
        proc.wait(timeout=30)
        assert proc.returncode != 0
        assert str(missing) in log.read_text(errors="replace")
    finally:
        PROCESSES.stop(proc)
    done = subprocess.run([silo_bin(), "server", "--tls-cert", str(cert)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode != 0 and "--tls-cert and --tls-key go together" in done.stderr
