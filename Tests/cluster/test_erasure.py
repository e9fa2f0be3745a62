"""Erasure-coded buckets, as processes: 1 `silo meta`, 6 `silo blob`, 1 `silo gateway` (default replication 2,
chunk repairer every second; ops/pylib/cluster.py, stopped by pid at the end).

Goal (issue 12 items 3-5): a bucket set to `ec:4+2` with `silo admin bucket durability` stores each chunk as
4 data + 2 parity Reed-Solomon shards on 6 distinct nodes; with any two blob nodes killed every object, and
every ranged read, still returns its exact bytes (reconstructed from parity where a data shard is gone); a
wiped node gets its shards rebuilt by the repairer from the others, after which two *other* nodes may fail
and everything still reads. A replicated bucket beside it behaves as before, and objects keep the layout
they were written with when the bucket's durability changes. Bad input to the admin command is refused with
a message. Deleting erasure-coded objects reclaims their shards on every node. Without erasure coding (2 copies), two dead nodes would make some chunks unreadable.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import SILO, running_cluster, s3_client  # noqa: E402

PASS_LINE = re.compile(r"^.*repair pass complete.*$", re.MULTILINE)
REPAIR_DEADLINE_S = 90
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster():
    # A 1 s garbage grace, so that the reclaim test sees deleted shards go within seconds.
    with running_cluster("silo-ec-test-", meta=1, blob=6, gateways=1, replicas=2, repair_every=1,
                         gateway_args=["--garbage-grace-seconds", "1"]) as running:
        yield running


def admin(cluster, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SILO_ROOT_ACCESS_KEY=cluster.state.root_access_key,
               SILO_ROOT_SECRET_KEY=cluster.state.root_secret_key)
    return subprocess.run([SILO, "admin", *args, "--endpoint", cluster.state.s3_endpoints[0]], env=env,
                          capture_output=True, text=True, timeout=60)


def blob_status(cluster) -> list[dict]:
    blobs = ",".join(f"{n.id}={n.addresses['listen']}" for n in cluster.state.nodes if n.role == "blob")
    env = dict(os.environ, SILO_CLUSTER_SECRET=cluster.state.cluster_secret)
    done = subprocess.run([SILO, "admin", "blob", "status", "--blob", blobs, "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout)["blobNodes"]


def passes(log_path: Path, after: int) -> list[dict[str, int]]:
    text = log_path.read_bytes()[after:].decode(errors="replace")
    return [{name: int(value) for name, value in re.findall(r"(good|repaired|unrepairable|unreachable|relocated)=(\d+)", line)}
            for line in PASS_LINE.findall(text)]


# Odd sizes and several chunks (1 MiB each); all above the 32 KiB inline threshold, so every object has chunks.
SIZES = {"one-chunk": 1 * MiB, "odd-small": 100_003, "just-over": MiB + 1, "three": 3 * MiB + 17,
         "odd-large": 5_000_001}
RANGES = [(0, 0), (0, 99), (262_143, 262_145), (MiB - 3, MiB + 5), (1_234_567, 3_000_000), (5_000_000, 5_000_000)]


def put_all(s3, bucket: str) -> dict[str, bytes]:
    bodies = {key: os.urandom(size) for key, size in SIZES.items()}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bodies


def check_all(s3, bucket: str, bodies: dict[str, bytes], label: str) -> None:
    for key, body in bodies.items():
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), f"{key} differs ({label})"
    large = bodies["odd-large"]
    for first, last in RANGES:
        got = s3.get_object(Bucket=bucket, Key="odd-large", Range=f"bytes={first}-{last}")["Body"].read()
        assert got == large[first:last + 1], f"range {first}-{last} differs ({label})"


def test_admin_durability_refuses_bad_input(cluster):
    s3 = s3_client(cluster)
    bucket = "ecbad-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    for bad in ["ec:4", "ec:0+2", "replicas:0", "replicas:x", "ec:17+1", "mirror:3"]:
        done = admin(cluster, "bucket", "durability", bucket, bad)
        assert done.returncode != 0, (bad, done.stdout)
        assert "replicas:N" in done.stderr and "ec:K+M" in done.stderr, (bad, done.stderr)
    # Six blob nodes: ec:6+2 cannot be placed on distinct nodes.
    done = admin(cluster, "bucket", "durability", bucket, "ec:6+2")
    assert done.returncode != 0 and "needs 8 blob nodes" in done.stderr, done.stderr
    done = admin(cluster, "bucket", "durability", "no-such-" + bucket, "ec:4+2")
    assert done.returncode != 0 and "NoSuchBucket" in done.stderr, done.stderr
    info = admin(cluster, "bucket", "info", bucket)
    assert info.returncode == 0 and "durability: replicas:2 (cluster default)" in info.stdout, info


def test_ec_bucket_survives_two_dead_nodes_and_is_repaired(cluster):
    s3 = s3_client(cluster)
    bucket = "ec-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    done = admin(cluster, "bucket", "durability", bucket, "ec:4+2")
    assert done.returncode == 0 and "durability: ec:4+2" in done.stdout, done
    info = admin(cluster, "bucket", "info", bucket)
    assert "durability: ec:4+2" in info.stdout and "cluster default" not in info.stdout, info.stdout
    before = {row["id"]: row["liveChunks"] for row in blob_status(cluster)}
    bodies = put_all(s3, bucket)
    # A multipart upload: its parts are written with the bucket's durability too.
    part1, part2 = os.urandom(5 * MiB), os.urandom(MiB + 3)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=n, Body=b)["ETag"]
             for n, b in ((1, part1), (2, part2))]
    s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    bodies["multi"] = part1 + part2
    check_all(s3, bucket, bodies, "all nodes up")
    # Every chunk is 6 shards on 6 distinct nodes: each node gained one shard per chunk.
    chunks = sum((size + MiB - 1) // MiB for size in SIZES.values()) + 5 + 2
    after = {row["id"]: row["liveChunks"] for row in blob_status(cluster)}
    assert all(after[node] - before[node] == chunks for node in after), (before, after, chunks)

    blobs = [cluster.node("blob", i) for i in range(1, 7)]
    # Any two nodes down: data shards lost, reads reconstruct from parity.
    for down in ((blobs[0], blobs[1]), (blobs[4], blobs[5]), (blobs[1], blobs[3])):
        for node in down:
            cluster.kill(node)
        try:
            check_all(s3, bucket, bodies, f"{[n.name for n in down]} down")
            # A write needs all six shards durable on six distinct nodes: refused with a retryable 503.
            with pytest.raises(ClientError) as refused:
                s3.put_object(Bucket=bucket, Key="while-down", Body=os.urandom(MiB))
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        finally:
            for node in down:
                cluster.start(node)
            for node in down:
                cluster.wait_ready(node)
            cluster.save()

    # A node loses its disk: killed, wiped, restarted empty. The repairer rebuilds its shards from the others.
    gateway_log = Path(cluster.node("gateway", 1).log)
    wiped = blobs[2]
    cluster.kill(wiped)
    shutil.rmtree(wiped.data)
    os.makedirs(wiped.data)
    mark = gateway_log.stat().st_size
    cluster.start(wiped)
    cluster.wait_ready(wiped)
    cluster.save()
    deadline = time.monotonic() + REPAIR_DEADLINE_S
    started = time.monotonic()
    while True:
        seen = passes(gateway_log, mark)
        repaired = sum(p.get("repaired", 0) for p in seen)
        clean = [i for i, p in enumerate(seen) if i > 0 and p.get("repaired") == 0 and p.get("unreachable") == 0
                 and p.get("unrepairable") == 0]
        if repaired >= chunks and clean:
            break
        assert time.monotonic() < deadline, f"no clean repair pass within {REPAIR_DEADLINE_S} s: {seen[-5:]}"
        time.sleep(0.5)
    print(f"ec:4+2 redundancy restored in {time.monotonic() - started:.1f} s ({repaired} shards rebuilt)")
    assert next(row for row in blob_status(cluster) if row["id"] == wiped.id)["liveChunks"] >= chunks

    # The rebuilt shards carry the load: with two other nodes down, everything still reads.
    down = (blobs[0], blobs[5])
    for node in down:
        cluster.kill(node)
    try:
        check_all(s3, bucket, bodies, "after repair, b1 and b6 down")
    finally:
        for node in down:
            cluster.start(node)
        for node in down:
            cluster.wait_ready(node)
        cluster.save()

    # Back to replication: new objects are replicated, the erasure-coded ones keep their layout and read.
    done = admin(cluster, "bucket", "durability", bucket, "default")
    assert done.returncode == 0 and "durability: replicas:2 (cluster default)" in done.stdout, done
    later = os.urandom(2 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="later", Body=later)
    assert s3.get_object(Bucket=bucket, Key="later")["Body"].read() == later
    check_all(s3, bucket, bodies, "after returning to replication")


def test_replicated_bucket_is_unchanged(cluster):
    s3 = s3_client(cluster)
    bucket = "rep-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    before = sum(row["liveChunks"] for row in blob_status(cluster))
    bodies = put_all(s3, bucket)
    check_all(s3, bucket, bodies, "replicated")
    chunks = sum((size + MiB - 1) // MiB for size in SIZES.values())
    assert sum(row["liveChunks"] for row in blob_status(cluster)) - before == 2 * chunks
    # replicas:2 survives one dead node.
    node = cluster.node("blob", 4)
    cluster.kill(node)
    try:
        check_all(s3, bucket, bodies, "replicated, b4 down")
    finally:
        cluster.start(node)
        cluster.wait_ready(node)
        cluster.save()
    # An explicit replicas:3 is honoured too.
    assert admin(cluster, "bucket", "durability", bucket, "replicas:3").returncode == 0
    before = sum(row["liveChunks"] for row in blob_status(cluster))
    s3.put_object(Bucket=bucket, Key="copies-3", Body=os.urandom(MiB))  # a new key: no garbage
    assert sum(row["liveChunks"] for row in blob_status(cluster)) - before == 3


def test_deleted_ec_objects_free_their_shards_on_every_node(cluster):
    """The garbage collector deletes every shard of a deleted erasure-coded chunk (stored under ids derived
    from the chunk's), on each of the six nodes, not only a chunk id no node holds."""
    s3 = s3_client(cluster)
    bucket = "ecgc-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    assert admin(cluster, "bucket", "durability", bucket, "ec:4+2").returncode == 0
    before = {row["id"]: row["liveChunks"] for row in blob_status(cluster)}
    bodies = put_all(s3, bucket)
    chunks = sum((size + MiB - 1) // MiB for size in SIZES.values())
    written = {row["id"]: row["liveChunks"] for row in blob_status(cluster)}
    assert all(written[node] - before[node] == chunks for node in written), (before, written)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in bodies]})
    deadline = time.monotonic() + 60
    while True:
        now = {row["id"]: row["liveChunks"] for row in blob_status(cluster)}
        if now == before:
            break
        assert time.monotonic() < deadline, f"shards not reclaimed within 60 s: {before} -> {now}"
        time.sleep(0.5)



def test_shards_of_a_node_gone_for_good_are_rebuilt_elsewhere():
    """With `--repair-replace-after`, a blob node that stays down has its shards (and the copies of a
    replicated bucket) rebuilt on other nodes and the moves recorded, so redundancy returns without it:
    afterwards any other node may fail and every replicated object reads, and two *more* nodes may fail
    (three down of seven) and every erasure-coded object still reads. Without the relocation, chunks with shards on the dead node and on
    both others would have only three of four needed shards. Its own cluster: seven blob nodes."""
    with running_cluster("silo-ec-move-test-", meta=1, blob=7, gateways=1, replicas=2, repair_every=1,
                         gateway_args=["--repair-replace-after", "2"]) as cluster:
        s3 = s3_client(cluster)
        bucket = "ecmove-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        assert admin(cluster, "bucket", "durability", bucket, "ec:4+2").returncode == 0
        bodies = put_all(s3, bucket)
        # A replicated bucket beside it (2 copies): its copies on the lost node move the same way.
        replicated = "repmove-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=replicated)
        copies = put_all(s3, replicated)
        gateway_log = Path(cluster.node("gateway", 1).log)
        blobs = [cluster.node("blob", i) for i in range(1, 8)]
        dead = blobs[6]
        on_dead = next(row for row in blob_status(cluster) if row["id"] == dead.id)["liveChunks"]
        assert on_dead > 0, "the node to lose holds shards"
        mark = gateway_log.stat().st_size
        cluster.kill(dead)
        started = time.monotonic()
        # Six of seven nodes up: a write places every shard, moving those the ring gave the dead node.
        during = os.urandom(3 * MiB + 1)
        s3.put_object(Bucket=bucket, Key="during", Body=during)
        deadline = started + REPAIR_DEADLINE_S
        while True:
            seen = passes(gateway_log, mark)
            relocated = sum(p.get("relocated", 0) for p in seen)
            clean = [i for i, p in enumerate(seen) if i > 0 and p.get("unreachable") == 0 and p.get("relocated") == 0
                     and p.get("unrepairable") == 0 and p.get("repaired") == 0]
            if relocated >= on_dead and clean:
                break
            assert time.monotonic() < deadline, f"no clean pass within {REPAIR_DEADLINE_S} s: {seen[-5:]}"
            time.sleep(0.5)
        print(f"shards and copies of a lost node rebuilt elsewhere in {time.monotonic() - started:.1f} s "
              f"({relocated} shards and copies)")
        assert relocated == on_dead
        check_all(s3, bucket, bodies, "b7 gone, shards relocated")
        bodies["during"] = during
        # Every copy moved too: with any one other node down, each replicated object still reads.
        for node in blobs[:6]:
            cluster.kill(node)
            try:
                check_all(s3, replicated, copies, f"b7 gone, {node.name} down")
            finally:
                cluster.start(node)
                cluster.wait_ready(node)
                cluster.save()
        for node in (blobs[0], blobs[3]):
            cluster.kill(node)
        check_all(s3, bucket, bodies, "b7 gone, b1 and b4 down")


def flip_bytes(data: Path, rng) -> int:
    """Flips about one byte in 20,000 of every file of a blob node's data (never in a file's first 64 bytes,
    so it still opens: damaged records are what the store must detect), as the Jepsen-style corrupt-blob
    fault does. Returns how many."""
    flipped = 0
    for path in sorted(p for p in data.rglob("*") if p.is_file() and p.stat().st_size > 64):
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            for _ in range(max(1, size // 20_000)):
                offset = rng.randrange(64, size)
                handle.seek(offset)
                byte = handle.read(1)
                handle.seek(offset)
                handle.write(bytes([byte[0] ^ 0xFF]))
                flipped += 1
    return flipped


def test_corrupted_shards_on_two_nodes_read_exactly_and_are_repaired():
    """Bytes flipped in the volume files of two of six blob nodes (every chunk has a shard on each): every GET
    still returns the exact bytes, from the four intact shards, and the repairer rewrites the damaged or lost
    shards, after which two *other* nodes may fail. Its own cluster, so no other bucket shares the damage."""
    import random
    rng = random.Random(12)
    with running_cluster("silo-ec-corrupt-test-", meta=1, blob=6, gateways=1, replicas=2, repair_every=1) as cluster:
        s3 = s3_client(cluster)
        bucket = "eccorrupt-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        assert admin(cluster, "bucket", "durability", bucket, "ec:4+2").returncode == 0
        bodies = put_all(s3, bucket)
        gateway_log = Path(cluster.node("gateway", 1).log)
        blobs = [cluster.node("blob", i) for i in range(1, 7)]
        mark = gateway_log.stat().st_size
        for node in (blobs[1], blobs[4]):
            cluster.kill(node)
            assert flip_bytes(Path(node.data), rng) > 100
        for node in (blobs[1], blobs[4]):
            cluster.start(node)
            cluster.wait_ready(node)
        cluster.save()
        check_all(s3, bucket, bodies, "b2 and b5 corrupted")
        deadline = time.monotonic() + REPAIR_DEADLINE_S
        while True:
            seen = passes(gateway_log, mark)
            repaired = sum(p.get("repaired", 0) for p in seen)
            clean = [i for i, p in enumerate(seen) if i > 0 and p.get("repaired") == 0 and p.get("unreachable") == 0
                     and p.get("unrepairable") == 0]
            if repaired > 0 and clean and clean[-1] > [i for i, p in enumerate(seen) if p.get("repaired")][-1]:
                break
            assert time.monotonic() < deadline, f"no clean repair pass within {REPAIR_DEADLINE_S} s: {seen[-5:]}"
            time.sleep(0.5)
        print(f"corrupted ec:4+2 shards on two nodes: {repaired} rewritten by the repairer")
        for node in (blobs[0], blobs[3]):
            cluster.kill(node)
        check_all(s3, bucket, bodies, "after repair, b1 and b4 down")
