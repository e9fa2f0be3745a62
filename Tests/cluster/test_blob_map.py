"""The blob cluster map, as processes: 3 `silo meta`, 3 `silo blob --meta … --advertise …`, 1 `silo gateway`
with no `--blob` (ops/pylib/cluster.py with blob_map=True, every process stopped by pid).

Goals (issue 12, item 2): blob nodes register themselves and appear in `silo admin cluster blob list`; a
gateway that was given no blob node serves PUT and GET from the map; a drained node takes no new chunks; a
metadata leader killed with SIGKILL leaves every node up (the new leader's timers start at its election, so
the map's epoch does not move); a node killed with SIGKILL is marked down
by the metadata leader once silent past the heartbeat timeout (15 s), and up again when it restarts; a node
added after the gateway started receives new chunks; heartbeats never reach the Raft log. The tests share one
cluster and run in file order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import SILO, running_cluster, s3_client  # noqa: E402

# BlobMapLimits.heartbeatSilenceMax and heartbeatInterval, and the slack for the leader's 1 s check, the
# proposal and this test's polling.
SILENCE_S = 15
HEARTBEAT_S = 3
SLACK_S = 10


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("silo-blobmap-test-", meta=3, blob=3, gateways=1, blob_map=True) as running:
        yield running


def live_chunks(cluster) -> dict[int, int]:
    blobs = ",".join(f"{n.id}={n.addresses['listen']}" for n in cluster.state.nodes if n.role == "blob")
    done = subprocess.run([SILO, "admin", "blob", "status", "--blob", blobs, "--json"],
                          env=dict(os.environ, SILO_CLUSTER_SECRET=cluster.state.cluster_secret),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return {row["id"]: row["liveChunks"] for row in json.loads(done.stdout)["blobNodes"]}


def wait_for_log(path: str, text: str, timeout: float, after: int = 0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in Path(path).read_text(errors="replace")[after:]:
            return True
        time.sleep(0.2)
    return False


def test_nodes_register_and_appear_in_the_list(cluster):
    # Every node registered before the gateway started; its first heartbeat follows its registration.
    cluster.wait_blob_map(lambda nodes: all("lastHeartbeatMs" in n for n in nodes.values()), 10)
    epoch, nodes = cluster.blob_map()
    blobs = {n.id: n for n in cluster.state.nodes if n.role == "blob"}
    assert sorted(nodes) == sorted(blobs)
    for nid, node in nodes.items():
        assert node["state"] == "up", node
        assert node["address"] == blobs[nid].addresses["listen"]
        assert node["weight"] == 1
        assert node["capacityBytes"] > 0
        assert "lastHeartbeatMs" in node, node  # the leader holds a heartbeat of every node
    assert epoch >= 3
    listed = cluster.admin("blob", "list").stdout
    assert listed.startswith(f"epoch {epoch}\n"), listed
    assert "--blob" not in cluster.node_named("g1").argv


def test_heartbeats_are_not_log_entries(cluster):
    """Three nodes beat every 3 s, yet the metadata log does not grow while nothing else writes: the
    leader keeps heartbeats in memory and proposes only transitions."""
    def commit_index() -> int:
        leader, _ = cluster.meta_leader()
        assert leader is not None
        return cluster.meta_statuses()[leader]["commit_index"]

    # Start-up writes (members publishing their addresses, the root user) settle first.
    deadline, before = time.monotonic() + 30, commit_index()
    while time.monotonic() < deadline:
        time.sleep(2)
        now = commit_index()
        if now == before:
            break
        before = now
    before_beats = {i: n["lastHeartbeatMs"] for i, n in cluster.blob_map()[1].items()}
    time.sleep(3 * HEARTBEAT_S)
    after_beats = {i: n["lastHeartbeatMs"] for i, n in cluster.blob_map()[1].items()}
    assert commit_index() == before
    # The heartbeats did arrive meanwhile: each node's last one is younger than the wait.
    assert all(age < 3 * HEARTBEAT_S * 1000 for age in after_beats.values()), (before_beats, after_beats)


def test_a_gateway_without_blob_serves_put_and_get(cluster):
    s3 = s3_client(cluster)
    s3.create_bucket(Bucket="mapped")
    small, large = os.urandom(64 * 1024), os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket="mapped", Key="small", Body=small)
    s3.put_object(Bucket="mapped", Key="large", Body=large)
    assert s3.get_object(Bucket="mapped", Key="small")["Body"].read() == small
    assert s3.get_object(Bucket="mapped", Key="large")["Body"].read() == large
    # Three copies of each of the 1 + 4 chunks, one on each node.
    assert live_chunks(cluster) == {1: 5, 2: 5, 3: 5}


def test_a_drained_node_takes_no_new_chunks(cluster):
    gateway = cluster.node_named("g1")
    gateway_log = len(Path(gateway.log).read_text(errors="replace"))
    cluster.admin("blob", "drain", "1")
    assert cluster.blob_map()[1][1]["state"] == "draining"
    assert wait_for_log(gateway.log, "1=draining", 15, after=gateway_log), "the gateway did not follow the map"
    before = live_chunks(cluster)
    s3 = s3_client(cluster)
    for i in range(5):
        s3.put_object(Bucket="mapped", Key=f"drained{i}", Body=os.urandom(64 * 1024))
    after = live_chunks(cluster)
    # Two copies (the default is min(3, members up or down): the draining node is leaving) on nodes 2 and 3,
    # none on the draining node, which still serves what it holds.
    assert after[1] == before[1], (before, after)
    assert after[2] - before[2] == after[3] - before[3] == 5, (before, after)
    assert s3.get_object(Bucket="mapped", Key="small")["Body"].read()
    gateway_log = len(Path(gateway.log).read_text(errors="replace"))
    cluster.admin("blob", "up", "1")
    assert wait_for_log(gateway.log, "1=up,2=up,3=up", 15, after=gateway_log), "the gateway did not follow the map"


def test_a_leader_change_marks_no_node_down(cluster):
    """A new metadata leader starts its liveness timers at its election: killing the leader must not turn
    any blob node down, although the new leader has heard no heartbeat before it leads."""
    epoch, _ = cluster.blob_map()
    leader, _ = cluster.meta_leader()
    assert leader is not None
    old = cluster.node_named(leader)
    cluster.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        new, _ = cluster.meta_leader()
        if new is not None and new != leader:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("no new metadata leader within 20 s")
    # Longer than the silence limit: a node the new leader failed to hear would be down by now.
    time.sleep(SILENCE_S + 3)
    # Not even for a moment: every down or up transition would have moved the epoch.
    after, nodes = cluster.blob_map()
    assert all(node["state"] == "up" for node in nodes.values()), nodes
    assert after == epoch, f"the map moved from epoch {epoch} to {after} across the leader change"
    cluster.start(old)
    cluster.wait_ready(old, 60)


def test_a_killed_node_is_marked_down_and_back_up_when_restarted(cluster):
    b3, gateway = cluster.node_named("b3"), cluster.node_named("g1")
    gateway_log = len(Path(gateway.log).read_text(errors="replace"))
    cluster.kill(b3, signal.SIGKILL)
    killed = time.monotonic()
    cluster.wait_blob_map(lambda nodes: nodes[3]["state"] == "down", SILENCE_S + SLACK_S)
    to_down = time.monotonic() - killed
    print(f"\nblob node 3: SIGKILL to down in the map: {to_down:.1f} s")
    # Silence counts from the last heartbeat, at most one interval before the kill.
    assert to_down >= SILENCE_S - HEARTBEAT_S - 1, f"marked down after {to_down:.1f} s, before its silence limit"
    _, nodes = cluster.blob_map()
    assert nodes[1]["state"] == nodes[2]["state"] == "up"
    # The gateway takes the new epoch. The cluster has three members and one is down: a new object's three
    # copies cannot be placed, so the write is refused (503) rather than kept with two copies that nothing
    # would bring back to three. Reads of chunks recorded on the dead node use the other copies.
    assert wait_for_log(gateway.log, "3=down", 15, after=gateway_log), "the gateway did not follow the map"
    s3 = s3_client(cluster)
    body = os.urandom(64 * 1024)
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="mapped", Key="while-down", Body=body)
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailable", refused.value.response
    assert len(s3.get_object(Bucket="mapped", Key="large")["Body"].read()) == 3 * 1024 * 1024 + 17

    cluster.start(b3)
    cluster.wait_ready(b3, 60)
    started = time.monotonic()
    cluster.wait_blob_map(lambda nodes: nodes[3]["state"] == "up", 30)
    print(f"blob node 3: restart to up in the map: {time.monotonic() - started:.1f} s")
    gateway_log = len(Path(gateway.log).read_text(errors="replace"))
    assert wait_for_log(gateway.log, "3=up", 15, after=gateway_log), "the gateway did not follow the map"
    before = live_chunks(cluster)
    s3.put_object(Bucket="mapped", Key="while-down", Body=body)
    assert s3.get_object(Bucket="mapped", Key="while-down")["Body"].read() == body
    after = live_chunks(cluster)
    assert all(after[n] - before[n] == 1 for n in (1, 2, 3)), (before, after)


def test_a_node_added_later_receives_new_chunks(cluster):
    gateway = cluster.node_named("g1")
    gateway_log = len(Path(gateway.log).read_text(errors="replace"))
    b4 = cluster.add_blob()
    assert wait_for_log(gateway.log, "4=up", 15, after=gateway_log), "the gateway did not follow the map"
    before = live_chunks(cluster)
    assert before[4] == 0
    s3 = s3_client(cluster)
    bucket = "grown-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    for i in range(20):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=os.urandom(64 * 1024))
    after = live_chunks(cluster)
    # Three copies on four nodes: node 4 holds about three quarters of the 20 new chunks.
    assert after[4] >= 5, after
    assert sum(after.values()) - sum(before.values()) == 60, (before, after)
    assert s3.get_object(Bucket=bucket, Key="k0")["Body"].read()
    assert b4.addresses["listen"] == cluster.blob_map()[1][4]["address"]


def test_blob_map_flags_go_together():
    env = dict(os.environ, SILO_CLUSTER_SECRET="blob-map-test-secret-0123456789")
    base = [SILO, "blob", "--id", "1", "--data", "/tmp/silo-never-created", "--listen", "127.0.0.1:0"]
    for extra, message in [
        (["--zone", "a"], "--advertise, --zone and --weight go with --meta"),
        (["--meta", "127.0.0.1:1"], "--meta needs --advertise"),
        (["--meta", "127.0.0.1:1", "--advertise", "0.0.0.0:7300"], "--advertise must be an address"),
    ]:
        done = subprocess.run([*base, *extra], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, extra
        assert message in done.stdout + done.stderr, (extra, done.stdout + done.stderr)
