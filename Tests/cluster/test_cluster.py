"""The cluster, as processes: 3 `silo meta`, 4 `silo blob`, 2 `silo gateway` on loopback, started by
ops/pylib/cluster.py (the code behind `ops/cluster up`) and stopped by pid at the end.

Goals (issue 11's proof): what one gateway writes the other reads and lists at once; a conditional create
raced through both gateways has one winner per key; killing the metadata leader while writes flow loses no
acknowledged write and a new leader serves within a few election timeouts; a conditional PUT whose first
attempt met a leader change is applied once (never 412 on its own write); every metadata node killed at
once finds everything on restart; an object lock set through one gateway holds on the other, and a legal
hold raced with a delete never lets both succeed. Clients never retry (max_attempts=1), so no SDK hides an outcome.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import running_cluster, s3_client  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with running_cluster("silo-cluster-test-", meta=3, blob=4, gateways=2) as running:
        yield running


def client(cluster, index: int):
    return s3_client(cluster, index)


def status_of(error: ClientError) -> int:
    return error.response["ResponseMetadata"]["HTTPStatusCode"]


def fresh_bucket(s3) -> str:
    name = "c-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


def test_read_list_and_delete_across_gateways(cluster):
    a, b = client(cluster, 0), client(cluster, 1)
    bucket = fresh_bucket(a)
    b.head_bucket(Bucket=bucket)
    for index in range(30):
        body = os.urandom(index * 997 + (1 << 20 if index % 10 == 0 else 0))
        a.put_object(Bucket=bucket, Key=f"k/{index}", Body=body)
        assert b.get_object(Bucket=bucket, Key=f"k/{index}")["Body"].read() == body
        keys = [o["Key"] for o in b.list_objects_v2(Bucket=bucket, Prefix="k/").get("Contents", [])]
        assert f"k/{index}" in keys and len(keys) == index + 1
    a.delete_object(Bucket=bucket, Key="k/3")
    with pytest.raises(ClientError) as missing:
        b.get_object(Bucket=bucket, Key="k/3")
    assert status_of(missing.value) == 404


def test_conditional_create_raced_through_both_gateways(cluster):
    gateways = [client(cluster, 0), client(cluster, 1)]
    bucket = fresh_bucket(gateways[0])

    def create(key: str, gateway: int) -> int:
        try:
            gateways[gateway].put_object(Bucket=bucket, Key=key, Body=f"{gateway}".encode(), IfNoneMatch="*")
            return 200
        except ClientError as error:
            return status_of(error)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        futures = {(key, g): pool.submit(create, key, g) for key in [f"race/{i}" for i in range(25)] for g in (0, 1)}
    for key in {k for k, _ in futures}:
        outcomes = sorted(futures[(key, g)].result() for g in (0, 1))
        assert outcomes[0] == 200 and outcomes[1] in (409, 412), (key, outcomes)
        winner = gateways[0].get_object(Bucket=bucket, Key=key)["Body"].read()
        assert gateways[1].get_object(Bucket=bucket, Key=key)["Body"].read() == winner


def _leader(cluster, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        name, _ = cluster.meta_leader()
        if name:
            return cluster.node_named(name)
        time.sleep(0.1)
    raise AssertionError("no metadata leader")


def test_leader_killed_while_writes_flow(cluster):
    a = client(cluster, 0)
    bucket = fresh_bucket(a)
    acknowledged: list[str] = []
    conditional_statuses: list[int] = []
    stop = threading.Event()
    lock = threading.Lock()

    def writer(worker: int):
        s3 = client(cluster, worker % 2)
        sequence = 0
        while not stop.is_set():
            key = f"w{worker}/{sequence}"
            sequence += 1
            try:
                # If-None-Match on a fresh key: a gateway that re-sent a committed command under a new id
                # would see its own write and answer 412.
                s3.put_object(Bucket=bucket, Key=key, Body=key.encode(), IfNoneMatch="*")
                with lock:
                    acknowledged.append(key)
            except ClientError as error:
                with lock:
                    conditional_statuses.append(status_of(error))
            except Exception:  # a connection error: outcome unknown, not acknowledged
                pass

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        leader = _leader(cluster)
        cluster.kill(leader)
        killed_at = time.monotonic()
        new_leader = _leader(cluster)
        elected_after = time.monotonic() - killed_at
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    cluster.start(leader)
    cluster.wait_ready(leader)
    assert new_leader.name != leader.name
    assert elected_after < 15, f"no new leader for {elected_after:.1f} s"
    assert 412 not in conditional_statuses, "a write was applied twice (412 on its own key)"
    assert all(s == 503 for s in conditional_statuses), conditional_statuses
    listed = set()
    token = None
    while True:
        page = a.list_objects_v2(Bucket=bucket, **({"ContinuationToken": token} if token else {}))
        listed.update(o["Key"] for o in page.get("Contents", []))
        if not page.get("IsTruncated"):
            break
        token = page["NextContinuationToken"]
    missing = [k for k in acknowledged if k not in listed]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    print(f"leader-kill: {len(acknowledged)} acknowledged, refusals {conditional_statuses}, new leader after {elected_after:.2f} s")
    assert len(acknowledged) > 20


def test_multipart_completed_across_a_leader_change(cluster):
    a = client(cluster, 0)
    bucket = fresh_bucket(a)
    upload = a.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    bodies = [os.urandom(5 << 20), os.urandom(1 << 20)]
    for number, body in enumerate(bodies, start=1):
        etag = a.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    leader = _leader(cluster)
    cluster.kill(leader)
    try:
        result = a.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                             MultipartUpload={"Parts": parts})
        assert result["ETag"].strip('"').endswith("-2")
    except ClientError as error:
        # The only other honest answer: the outcome is unknown (503); then the upload either completed or not.
        assert status_of(error) == 503
    finally:
        cluster.start(leader)
        cluster.wait_ready(leader)
    got = a.get_object(Bucket=bucket, Key="mp")["Body"].read()
    assert got == b"".join(bodies)


def test_every_meta_node_killed_at_once_finds_everything(cluster):
    a, b = client(cluster, 0), client(cluster, 1)
    bucket = fresh_bucket(a)
    bodies = {f"d/{i}": os.urandom(i * 1500) for i in range(40)}
    for key, body in bodies.items():
        a.put_object(Bucket=bucket, Key=key, Body=body)
    metas = [n for n in cluster.state.nodes if n.role == "meta"]
    for node in metas:
        cluster.kill(node)
    for node in metas:
        cluster.start(node)
    for node in metas:
        cluster.wait_ready(node)
    deadline = time.monotonic() + 30
    while True:
        try:
            keys = [o["Key"] for o in b.list_objects_v2(Bucket=bucket).get("Contents", [])]
            break
        except ClientError as error:
            if status_of(error) != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert sorted(keys) == sorted(bodies)
    for key, body in bodies.items():
        assert b.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_a_blob_node_down_costs_neither_reads_nor_writes(cluster):
    # Three copies of every chunk on four nodes (the gateway's default): with one node killed, objects written
    # before are read from another copy, and new writes go to the next nodes of each chunk's ring order.
    a, b = client(cluster, 0), client(cluster, 1)
    bucket = fresh_bucket(a)
    before = {f"before/{i}": os.urandom((1 << 20) + i * 4099) for i in range(6)}
    for key, body in before.items():
        a.put_object(Bucket=bucket, Key=key, Body=body)
    victim = next(n for n in cluster.state.nodes if n.role == "blob")
    cluster.kill(victim)
    try:
        for key, body in before.items():
            assert b.get_object(Bucket=bucket, Key=key)["Body"].read() == body
        during = {f"during/{i}": os.urandom((2 << 20) + i * 577) for i in range(6)}
        for key, body in during.items():
            a.put_object(Bucket=bucket, Key=key, Body=body)
            assert b.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    finally:
        cluster.start(victim)
        cluster.wait_ready(victim)
    for key, body in {**before, **during}.items():
        assert a.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def anonymous_put(cluster, index: int, bucket: str, key: str, body: bytes) -> int:
    """An unsigned PUT through gateway `index`: its HTTP status."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{cluster.state.s3_endpoints[index]}/{bucket}/{key}", data=body, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_access_revoked_through_one_gateway_holds_on_the_other(cluster):
    # Goal: gateway 0 authorizes object writes on a bucket record it cached; when gateway 1 makes the
    # bucket private, gateway 0's very next anonymous write is refused (the stamp is re-checked at apply)
    # and nothing it carried lands; opened again, it is accepted again.
    a, b = client(cluster, 0), client(cluster, 1)
    bucket = fresh_bucket(a)
    a.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert anonymous_put(cluster, 0, bucket, "open-1", b"one") == 200
    assert anonymous_put(cluster, 0, bucket, "open-2", b"two") == 200
    b.put_bucket_acl(Bucket=bucket, ACL="private")
    assert anonymous_put(cluster, 0, bucket, "closed", b"no") == 403
    assert anonymous_put(cluster, 1, bucket, "closed", b"no") == 403
    keys = sorted(o["Key"] for o in b.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["open-1", "open-2"]
    b.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert anonymous_put(cluster, 0, bucket, "reopened", b"yes") == 200


def test_object_lock_holds_across_gateways(cluster):
    # Goal: the lock is decided where the log orders writes. A legal hold set through gateway 1 refuses
    # gateway 0's very next delete of that version; a hold and a delete raced through the two gateways
    # never both succeed: either the delete came first (the version is gone and the hold finds nothing) or
    # the hold did (the delete is AccessDenied and the version stays, held).
    a, b = client(cluster, 0), client(cluster, 1)
    bucket = "c-" + uuid.uuid4().hex[:12]
    a.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    held = a.put_object(Bucket=bucket, Key="held", Body=b"x")["VersionId"]
    b.put_object_legal_hold(Bucket=bucket, Key="held", VersionId=held, LegalHold={"Status": "ON"})
    with pytest.raises(ClientError) as refused:
        a.delete_object(Bucket=bucket, Key="held", VersionId=held)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    outcomes = set()
    for round_ in range(12):
        key = f"race-{round_}"
        version = a.put_object(Bucket=bucket, Key=key, Body=b"y")["VersionId"]
        start = threading.Barrier(2)

        def hold():
            start.wait()
            try:
                b.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=version, LegalHold={"Status": "ON"})
                return "held"
            except ClientError as error:
                return error.response["Error"]["Code"]

        def delete():
            start.wait()
            try:
                a.delete_object(Bucket=bucket, Key=key, VersionId=version)
                return "deleted"
            except ClientError as error:
                return error.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            held_f, deleted_f = pool.submit(hold), pool.submit(delete)
            pair = (held_f.result(), deleted_f.result())
        listed = [v["VersionId"] for v in a.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])]
        if pair == ("held", "AccessDenied"):
            assert listed == [version]
            assert a.get_object_legal_hold(Bucket=bucket, Key=key, VersionId=version)["LegalHold"]["Status"] == "ON"
        else:
            assert pair[1] == "deleted" and pair[0] in ("NoSuchVersion", "NoSuchKey"), pair
            assert listed == []
        outcomes.add(pair)
    for v in a.list_object_versions(Bucket=bucket).get("Versions", []):
        a.put_object_legal_hold(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"})
        a.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
    a.delete_bucket(Bucket=bucket)
