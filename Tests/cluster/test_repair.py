"""Self-repair of chunk copies, as processes: 1 `silo meta`, 3 `silo blob` with two data directories each
(two disks), 1 `silo gateway` writing 2 copies of each chunk and running the chunk repairer every second
(ops/pylib/cluster.py, stopped by pid at the end).

Goal (issue 12): a blob node that loses one of its disks (killed, that data directory wiped, restarted with
it empty) gets back every copy the metadata places on it, from the surviving copies, without any client
action; afterwards either of the other two nodes may fail and every object still reads back byte for byte.
Without the repair the objects whose copies were on the lost disk and on the node stopped afterwards would
be unreadable, so the reads would fail.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import running_cluster, s3_client  # noqa: E402

PASS_LINE = re.compile(r"^.*repair pass complete.*$", re.MULTILINE)
REPAIR_DEADLINE_S = 60


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("silo-repair-test-", meta=1, blob=3, gateways=1, replicas=2, repair_every=1,
                         blob_disks=2) as running:
        yield running


def client(cluster):
    return s3_client(cluster)


def passes(log_path: Path, after: int) -> list[dict[str, int]]:
    """The counts of every repair pass logged after byte offset `after` of the gateway's log."""
    text = log_path.read_bytes()[after:].decode(errors="replace")
    found = []
    for line in PASS_LINE.findall(text):
        found.append({name: int(value) for name, value in re.findall(r"(good|repaired|unrepairable|unreachable)=(\d+)", line)})
    return found


def test_wiped_blob_node_is_repaired_from_surviving_copies(cluster):
    s3 = client(cluster)
    bucket = "repair-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    # Above the gateway's inline threshold (32 KiB), so every object has chunks on the blob nodes; the large
    # one has several chunks (1 MiB each), so one object spans several placements.
    bodies = {f"k{i:02d}": os.urandom(100_000 + i * 1000) for i in range(12)}
    bodies["large"] = os.urandom(3 * 1024 * 1024 + 17)
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    digests = {key: hashlib.md5(body).hexdigest() for key, body in bodies.items()}

    gateway_log = Path(cluster.node("gateway", 1).log)
    b1, b2, b3 = (cluster.node("blob", i) for i in (1, 2, 3))
    cluster.kill(b2)
    lost_disk = Path(b2.data) / "d1"
    def stored_bytes(disk: Path) -> int:
        return sum(f.stat().st_size for f in disk.rglob("*") if f.is_file())
    # 13 objects, 16 chunks of 100 kB to 1 MiB, 2 copies over 3 nodes: each disk of b2 holds some.
    assert stored_bytes(lost_disk) > 100_000 and stored_bytes(Path(b2.data) / "d2") > 100_000, \
        "chunks are spread over both disks"
    shutil.rmtree(lost_disk)
    mark = gateway_log.stat().st_size
    cluster.start(b2)
    cluster.wait_ready(b2)
    cluster.save()

    # A pass that repaired copies, then one that found every copy good.
    deadline = time.monotonic() + REPAIR_DEADLINE_S
    repaired = 0
    while True:
        seen = passes(gateway_log, mark)
        repaired = sum(p.get("repaired", 0) for p in seen)
        clean = [p for p in seen if p.get("repaired") == 0 and p.get("unreachable") == 0
                 and p.get("unrepairable") == 0]
        if repaired > 0 and clean and seen.index(clean[-1]) > 0:
            break
        assert time.monotonic() < deadline, f"no clean repair pass within {REPAIR_DEADLINE_S} s: {seen[-5:]}"
        time.sleep(0.5)
    assert repaired >= 1

    def read_all(label):
        for key, digest in digests.items():
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == digest, f"{key} differs with {label}"

    # b2's repaired copies are now the only copies of what was on {b1, b2}, then of what is on {b2, b3}.
    cluster.kill(b1)
    read_all("b1 down")
    cluster.start(b1)
    cluster.wait_ready(b1)
    cluster.kill(b3)
    read_all("b3 down")
    cluster.start(b3)
    cluster.wait_ready(b3)
    cluster.save()


def test_get_with_no_reachable_copy_answers_503_not_a_cut_200(cluster):
    """With every blob node down, a GET of a chunked object fails with a status the client can retry
    (503 ServiceUnavailable with Retry-After), not a 200 whose body is cut short; an inline object, whose
    bytes live in the metadata, still reads."""
    s3 = client(cluster)
    bucket = "down-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="chunked", Body=os.urandom(200_000))
    s3.put_object(Bucket=bucket, Key="inline", Body=b"small")
    blobs = [cluster.node("blob", i) for i in (1, 2, 3)]
    for node in blobs:
        cluster.kill(node)
    try:
        with pytest.raises(ClientError) as failed:
            s3.get_object(Bucket=bucket, Key="chunked")
        response = failed.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 503, response
        assert response["Error"]["Code"] == "ServiceUnavailable", response
        assert "retry-after" in response["ResponseMetadata"]["HTTPHeaders"], response
        assert s3.get_object(Bucket=bucket, Key="inline")["Body"].read() == b"small"
    finally:
        for node in blobs:
            cluster.start(node)
        for node in blobs:
            cluster.wait_ready(node)
        cluster.save()


def test_admin_blob_status_reports_every_node(cluster):
    """`silo admin blob status` shows each node's id, free space and live chunks, and exits 2 while one is
    down (what an operator checks before and after replacing a disk)."""
    import json
    import subprocess
    from clusterkit import SILO
    blobs = ",".join(f"{n.id}={n.addresses['listen']}" for n in cluster.state.nodes if n.role == "blob")
    env = dict(os.environ, SILO_CLUSTER_SECRET=cluster.state.cluster_secret)

    def status():
        done = subprocess.run([SILO, "admin", "blob", "status", "--blob", blobs, "--json"], env=env,
                              capture_output=True, text=True, timeout=60)
        return done.returncode, json.loads(done.stdout)["blobNodes"]

    code, rows = status()
    assert code == 0, rows
    assert [row["id"] for row in rows] == [1, 2, 3]
    assert all(row["reachable"] and row["answersAs"] == row["id"] and row["liveChunks"] > 0 for row in rows), rows
    b3 = cluster.node("blob", 3)
    cluster.kill(b3)
    try:
        code, rows = status()
        assert code == 2, rows
        assert [row["reachable"] for row in rows] == [True, True, False], rows
    finally:
        cluster.start(b3)
        cluster.wait_ready(b3)
        cluster.save()
