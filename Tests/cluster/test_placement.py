"""Placement by zone and weight, as processes: 1 `silo meta`, 3 `silo blob`, 1 `silo gateway` with
`--blob-zone 1=rack-a,2=rack-a,3=rack-b --blob-weight 1=0 --replicas 2` (ops/pylib/cluster.py, stopped by pid).

Goals (issue 12: placement weighted by capacity, distinct zones where nodes are labelled): with two copies
and two zones, every chunk has a copy in rack-b (node 3) and one in rack-a; node 1, weight 0 (draining),
takes no chunk at all, so rack-a's copy is always on node 2. Counted with `silo admin blob status`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import SILO, running_cluster, s3_client  # noqa: E402

GATEWAY_ARGS = ["--blob-zone", "1=rack-a,2=rack-a,3=rack-b", "--blob-weight", "1=0"]


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("silo-placement-test-", meta=1, blob=3, gateways=1, replicas=2,
                         gateway_args=GATEWAY_ARGS) as running:
        yield running


def live_chunks(cluster) -> dict[int, int]:
    blobs = ",".join(f"{n.id}={n.addresses['listen']}" for n in cluster.state.nodes if n.role == "blob")
    done = subprocess.run([SILO, "admin", "blob", "status", "--blob", blobs, "--json"],
                          env=dict(os.environ, SILO_CLUSTER_SECRET=cluster.state.cluster_secret),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return {row["id"]: row["liveChunks"] for row in json.loads(done.stdout)["blobNodes"]}


def test_copies_go_to_distinct_zones_and_a_draining_node_takes_none(cluster):
    s3 = s3_client(cluster)
    bucket = "place-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    # 20 objects of one chunk (above the inline threshold, below the 1 MiB chunk) and one of five chunks.
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=os.urandom(64 * 1024))
    s3.put_object(Bucket=bucket, Key="large", Body=os.urandom(5 * 1024 * 1024))
    chunks = 20 + 5
    counts = live_chunks(cluster)
    assert counts == {1: 0, 2: chunks, 3: chunks}, counts


def test_a_gateway_refuses_impossible_placement(tmp_path):
    """--replicas above the nodes that take writes, a weight below 0, or a zone for an unlisted node stop the
    gateway at start with a message saying why."""
    base = ["gateway", "--listen", "127.0.0.1:0", "--meta", "127.0.0.1:1", "--blob", "1=127.0.0.1:2,2=127.0.0.1:3"]
    env = dict(os.environ, SILO_CLUSTER_SECRET="placement-test-secret-0123456789")
    for extra, message in [
        (["--replicas", "2", "--blob-weight", "2=0"], "--replicas 2 must be 1...1"),
        (["--blob-weight", "1=-1"], "weights are 0 (draining) or more"),
        (["--blob-zone", "7=rack-c"], "blob node 7 has a zone or weight but is not in --blob"),
        (["--blob-weight", "1=lots"], "is not a whole number"),
    ]:
        done = subprocess.run([SILO, *base, *extra], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, extra
        assert message in done.stdout + done.stderr, (extra, done.stdout + done.stderr)
