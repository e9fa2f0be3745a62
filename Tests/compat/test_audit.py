"""The audit log (`--audit-log PATH`): one JSON line per S3 request with who, what and how it ended, for a
`silo server` of this test's own (issue 16: an audit trail an operator can read). No secret ever appears."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import PROCESSES, READY_TIMEOUT_S, REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, client_config, silo_bin
from siloprocs import answers_http, free_port, wait_ready


@pytest.fixture
def audited(tmp_path):
    if not silo_bin().exists():
        pytest.skip(f"needs the silo binary ({silo_bin()})")
    port = free_port()
    audit = tmp_path / "audit.jsonl"
    env = dict(os.environ, SILO_ROOT_ACCESS_KEY=ROOT_ACCESS_KEY, SILO_ROOT_SECRET_KEY=ROOT_SECRET_KEY)
    proc = PROCESSES.start([silo_bin(), "server", "--address", f"127.0.0.1:{port}", "--data", tmp_path / "data",
                            "--audit-log", audit], tmp_path / "server.log", env=env)
    try:
        assert wait_ready(proc, lambda: answers_http(port), READY_TIMEOUT_S, interval=0.1) == "ready"
        yield port, audit
    finally:
        PROCESSES.stop(proc)


def test_every_request_is_one_line_with_who_what_and_outcome(audited):
    port, audit = audited
    s3 = boto3.session.Session().client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                                        aws_access_key_id=ROOT_ACCESS_KEY, aws_secret_access_key=ROOT_SECRET_KEY,
                                        config=client_config())
    s3.create_bucket(Bucket="audited")
    put = s3.put_object(Bucket="audited", Key="dir/file.txt", Body=b"x" * 1234)
    s3.get_object(Bucket="audited", Key="dir/file.txt")["Body"].read()
    with pytest.raises(ClientError):
        s3.get_object(Bucket="audited", Key="missing")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/audited/dir/file.txt", timeout=10)
    text = audit.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    by_op = {}
    for line in lines:
        by_op.setdefault(line["operation"], []).append(line)
    put_line = next(l for l in by_op["PutObject"] if l["key"] == "dir/file.txt")
    assert put_line["requestID"] == put["ResponseMetadata"]["RequestId"]
    assert put_line["user"] == "root" and put_line["accessKey"] == ROOT_ACCESS_KEY
    assert put_line["bucket"] == "audited" and put_line["status"] == 200 and put_line["bytesIn"] == 1234
    assert put_line["remote"].startswith("127.0.0.1:") and put_line["time"].endswith("Z") and put_line["ms"] >= 0
    gets = by_op["GetObject"]
    assert any(l["key"] == "dir/file.txt" and l["status"] == 200 and l["bytesOut"] == 1234 for l in gets), gets
    assert any(l["key"] == "missing" and l["status"] == 404 and l["error"] == "NoSuchKey" for l in gets), gets
    anonymous = [l for l in gets if l.get("user") is None]
    assert anonymous and anonymous[0]["status"] == 403 and anonymous[0]["error"] == "AccessDenied", gets
    assert ROOT_SECRET_KEY not in text and "Signature" not in text
    assert oct(audit.stat().st_mode & 0o777) == "0o600"
