"""Durability across restarts, on a server process of the test's own: write buckets and objects
(empty, small, 1 MiB, multipart, with metadata, overwritten, deleted, an upload in progress), kill -9,
restart on the same data dir, and read everything back byte-exact; then the same after a clean
SIGTERM shutdown."""

import signal

import pytest

from conftest import make_s3
from s3util import md5_hex, multipart_etag, payload

MiB = 1024 * 1024

pytestmark = [pytest.mark.own_server, pytest.mark.slow]


def write_state(s3):
    """Writes the reference state; returns what must be found after a restart."""
    s3.create_bucket(Bucket="restart-a")
    s3.create_bucket(Bucket="restart-b")
    s3.create_bucket(Bucket="restart-empty")
    objects = {
        ("restart-a", "empty"): b"",
        ("restart-a", "one"): b"1",
        ("restart-a", "dir/mib.bin"): payload(MiB, seed=101),
        ("restart-a", "weird/..//\u00e9\x01"): b"weird key",
        ("restart-b", "overwritten"): b"second version",
        ("restart-b", "meta"): b"{}",
    }
    for (b, k), data in objects.items():
        if k == "overwritten":
            s3.put_object(Bucket=b, Key=k, Body=b"first version")
        extra = dict(ContentType="application/json", Metadata={"m": "v"}) if k == "meta" else {}
        s3.put_object(Bucket=b, Key=k, Body=data, **extra)
    s3.put_object(Bucket="restart-b", Key="deleted", Body=b"gone")
    s3.delete_object(Bucket="restart-b", Key="deleted")

    parts = [payload(5 * MiB, seed=102), payload(123, seed=103)]
    up = s3.create_multipart_upload(Bucket="restart-b", Key="multi")["UploadId"]
    etags = [s3.upload_part(Bucket="restart-b", Key="multi", UploadId=up, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket="restart-b", Key="multi", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    objects[("restart-b", "multi")] = b"".join(parts)

    pending_part = payload(5 * MiB, seed=104)
    pending = s3.create_multipart_upload(Bucket="restart-a", Key="pending")["UploadId"]
    pe = s3.upload_part(Bucket="restart-a", Key="pending", UploadId=pending, PartNumber=1, Body=pending_part)["ETag"]
    return objects, (pending, pe, pending_part), multipart_etag(parts)


def verify_state(s3, objects, pending, multi_etag):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert {"restart-a", "restart-b", "restart-empty"} <= set(names)
    for (b, k), data in objects.items():
        r = s3.get_object(Bucket=b, Key=k)
        assert r["Body"].read() == data, (b, k)
        assert r["ETag"] == (multi_etag if k == "multi" else f'"{md5_hex(data)}"'), (b, k)
    meta = s3.head_object(Bucket="restart-b", Key="meta")
    assert meta["ContentType"] == "application/json" and meta["Metadata"] == {"m": "v"}
    for b in ("restart-a", "restart-b"):
        listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", []))
        assert listed == sorted(k for (bb, k) in objects if bb == b)
    assert s3.list_objects_v2(Bucket="restart-empty")["KeyCount"] == 0
    upload_id, part_etag, _ = pending
    parts = s3.list_parts(Bucket="restart-a", Key="pending", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, part_etag)]


def test_kill_9_then_clean_restart(server_factory):
    server = server_factory()
    server.start()
    s3 = make_s3(server.endpoint, server.access_key, server.secret_key)
    objects, pending, multi_etag = write_state(s3)
    verify_state(s3, objects, pending, multi_etag)

    # kill -9: every acknowledged write must survive.
    server.kill()
    server.start()
    s3 = make_s3(server.endpoint, server.access_key, server.secret_key)
    verify_state(s3, objects, pending, multi_etag)

    # The pending upload completes after the restart.
    upload_id, part_etag, part = pending
    s3.complete_multipart_upload(Bucket="restart-a", Key="pending", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part_etag}]})
    assert s3.get_object(Bucket="restart-a", Key="pending")["Body"].read() == part
    objects[("restart-a", "pending")] = part
    s3.put_object(Bucket="restart-a", Key="after-crash", Body=b"written after the crash")
    objects[("restart-a", "after-crash")] = b"written after the crash"

    # Clean shutdown on SIGTERM exits 0 and loses nothing either.
    code = server.stop()
    assert code in (0, -signal.SIGTERM), f"exit code {code} on SIGTERM:\n{server.log_tail()}"
    server.start()
    s3 = make_s3(server.endpoint, server.access_key, server.secret_key)
    for (b, k), data in objects.items():
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == data, (b, k)
    assert s3.list_multipart_uploads(Bucket="restart-a").get("Uploads", []) == []


def test_repeated_kill_9_during_writes(server_factory):
    # Goal: several crash/restart cycles, each after a burst of writes: every acknowledged object is
    # found after every restart.
    server = server_factory()
    server.start()
    acknowledged = {}
    for cycle in range(3):
        s3 = make_s3(server.endpoint, server.access_key, server.secret_key)
        if cycle == 0:
            s3.create_bucket(Bucket="cycles")
        for i in range(20):
            data = payload(1000 * (i + 1), seed=cycle * 100 + i)
            s3.put_object(Bucket="cycles", Key=f"c{cycle}/o{i}", Body=data)
            acknowledged[f"c{cycle}/o{i}"] = data
        server.kill()
        server.start()
        s3 = make_s3(server.endpoint, server.access_key, server.secret_key)
        listed = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="cycles")
                  for o in p.get("Contents", [])]
        assert sorted(listed) == sorted(acknowledged)
        for k, data in acknowledged.items():
            assert s3.get_object(Bucket="cycles", Key=k)["Body"].read() == data, k
