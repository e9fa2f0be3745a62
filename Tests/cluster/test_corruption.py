"""A metadata replica refuses to start on damaged state, and a torn WAL tail is not damage (as processes:
3 `silo meta`, 1 `silo blob`, 1 `silo gateway`, started by ops/pylib/cluster.py, stopped by pid at the end).

Goals (issue 11, ops/README "Operating the metadata group"): a byte flipped in the middle of a replica's WAL
(acknowledged records follow it) or in its SQLite database makes `silo meta` exit while starting with a
message that names the damaged file, instead of serving from a log with a hole or a database it cannot
trust; the refusal changes nothing on disk, so with the files restored the replica starts and catches up.
Garbage after the last record (a write torn by a crash) is cut off and the replica starts. The other two
replicas serve writes throughout.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import ClusterError, running_cluster, s3_client  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("silo-corruption-test-", meta=3, blob=1, gateways=1) as running:
        yield running


def wal_segments(node) -> list[Path]:
    return sorted(Path(node.data).rglob("*.wal"))


def writes_work(s3, bucket: str, tag: str, count: int = 5) -> None:
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"{tag}/{i}", Body=f"{tag}-{i}".encode())
    for i in range(count):
        assert s3.get_object(Bucket=bucket, Key=f"{tag}/{i}")["Body"].read() == f"{tag}-{i}".encode()


def start_fails_naming(cluster, node, needle: str) -> str:
    with pytest.raises(ClusterError) as refused:
        cluster.start(node)
        cluster.wait_ready(node, timeout=60)
    message = str(refused.value)
    assert "exited while starting" in message, message
    assert needle in message, message
    return message


def test_damaged_replica_refuses_to_start_and_torn_tail_is_cut(cluster):
    s3 = s3_client(cluster, attempts=3)
    bucket = "corrupt-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    writes_work(s3, bucket, "before", count=40)
    m3 = cluster.node("meta", 3)
    cluster.stop(m3)
    backup = Path(cluster.state.dir) / "m3-backup"
    shutil.copytree(m3.data, backup)

    # 1. A flipped byte a third of the way into the first WAL segment, acknowledged records after it.
    segment = wal_segments(m3)[0]
    data = bytearray(segment.read_bytes())
    assert len(data) > 3000, f"{segment} holds only {len(data)} bytes"
    data[len(data) // 3] ^= 0xFF
    segment.write_bytes(bytes(data))
    start_fails_naming(cluster, m3, segment.name)
    writes_work(s3, bucket, "m3-wal-refused")

    # 2. The database's header overwritten.
    shutil.rmtree(m3.data)
    shutil.copytree(backup, m3.data)
    database = Path(m3.data) / "meta.sqlite"
    with open(database, "r+b") as handle:
        handle.write(b"\x00" * 100)
    start_fails_naming(cluster, m3, "meta.sqlite")
    writes_work(s3, bucket, "m3-sqlite-refused")

    # 3. Garbage after the last WAL record (a torn write): cut off, and the replica starts and catches up.
    shutil.rmtree(m3.data)
    shutil.copytree(backup, m3.data)
    tail = wal_segments(m3)[-1]
    with open(tail, "ab") as handle:
        handle.write(os.urandom(300))
    cluster.start(m3)
    cluster.wait_ready(m3, timeout=60)
    cluster.save()
    writes_work(s3, bucket, "m3-back")
    # m3 applied what was written while it was down (its own status, next to the leader's commit).
    deadline = time.monotonic() + 30
    while True:
        statuses = cluster.meta_statuses(timeout=2.0)
        leader = next((s for s in statuses.values() if s and s["role"].lower() == "leader"), None)
        own = statuses[m3.name]
        if leader and own and own["applied_index"] >= leader["commit_index"]:
            break
        assert time.monotonic() < deadline, f"m3 did not catch up: {statuses}"
        time.sleep(0.2)
