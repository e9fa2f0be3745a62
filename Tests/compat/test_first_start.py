"""The README's first minute: `silo server` with no keys in the environment generates a root key, stores it
in the data dir with mode 0600, prints it once, and uses the same key after a restart; `silo admin` finds
it through `--data`."""

import json
import os
import stat
import subprocess

import pytest

from conftest import make_s3, silo_bin

pytestmark = [pytest.mark.own_server]


def test_first_start_generates_stores_and_reuses_the_root_key(server_factory, tmp_path):
    server = server_factory(tmp_path / "fresh", generated_keys=True)
    server.start()
    credentials_file = tmp_path / "fresh" / "root-credentials"
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    keys = json.loads(credentials_file.read_text())
    access, secret = keys["accessKeyID"], keys["secretAccessKey"]
    first_log = server.log_tail()
    assert f"AWS_ACCESS_KEY_ID={access}" in first_log and f"AWS_SECRET_ACCESS_KEY={secret}" in first_log

    s3 = make_s3(server.endpoint, access, secret)
    s3.create_bucket(Bucket="first-minute")
    s3.put_object(Bucket="first-minute", Key="hello.txt", Body=b"hello")

    assert server.stop() in (0, -15)
    server.start()
    assert json.loads(credentials_file.read_text()) == keys  # the same key, not a new one
    assert server.log_tail().count(f"AWS_SECRET_ACCESS_KEY={secret}") == 1  # printed only when generated
    s3 = make_s3(server.endpoint, access, secret)
    assert s3.get_object(Bucket="first-minute", Key="hello.txt")["Body"].read() == b"hello"

    env = {k: v for k, v in os.environ.items() if not k.startswith("SILO_ROOT_")}
    listed = subprocess.run(
        [str(silo_bin()), "admin", "user", "list", "--endpoint", server.endpoint, "--data", str(tmp_path / "fresh")],
        env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "root" in listed.stdout and access in listed.stdout
