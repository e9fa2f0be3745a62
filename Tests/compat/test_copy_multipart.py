"""CopyObject (COPY/REPLACE, same-key REPLACE, copy-source conditions), multipart upload (Create,
UploadPart, UploadPartCopy with ranges, Complete with ETag and part checks, Abort, ListParts,
ListMultipartUploads) and conditional writes (If-None-Match: *, If-Match) on PutObject and Complete."""

import datetime as dt
import hashlib

import boto3.s3.transfer
import pytest

from s3util import md5_hex, multipart_etag, payload

MiB = 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# CopyObject


def test_copy_object_copy_and_replace(s3, bucket, bucket_factory):
    # Goal: COPY keeps the source's metadata and headers; REPLACE takes the request's; bytes and ETag
    # (MD5 for single-part sources) are the source's; copies across buckets work.
    data = payload(70_000, seed=11)
    s3.put_object(Bucket=bucket, Key="src \u00e9", Body=data, ContentType="text/x-src",
                  CacheControl="no-cache", Metadata={"origin": "source"})
    other = bucket_factory()
    r = s3.copy_object(Bucket=other, Key="copy", CopySource={"Bucket": bucket, "Key": "src \u00e9"})
    assert r["CopyObjectResult"]["ETag"] == f'"{md5_hex(data)}"'
    g = s3.get_object(Bucket=other, Key="copy")
    assert g["Body"].read() == data
    assert g["ContentType"] == "text/x-src" and g["CacheControl"] == "no-cache"
    assert g["Metadata"] == {"origin": "source"}

    s3.copy_object(Bucket=other, Key="replaced", CopySource={"Bucket": bucket, "Key": "src \u00e9"},
                   MetadataDirective="REPLACE", ContentType="text/x-new", Metadata={"new": "yes"})
    g = s3.get_object(Bucket=other, Key="replaced")
    assert g["Body"].read() == data
    assert g["ContentType"] == "text/x-new" and g["Metadata"] == {"new": "yes"}
    assert g.get("CacheControl") is None


def test_copy_to_itself(s3, bucket, expect_error):
    # Goal: copying a key onto itself without REPLACE is InvalidRequest (400); with REPLACE it updates
    # the metadata and keeps the bytes.
    s3.put_object(Bucket=bucket, Key="self", Body=b"same bytes", Metadata={"v": "1"})
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="self",
                 CopySource={"Bucket": bucket, "Key": "self"})
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"v": "2"}, ContentType="text/plain")
    g = s3.get_object(Bucket=bucket, Key="self")
    assert g["Body"].read() == b"same bytes" and g["Metadata"] == {"v": "2"}
    assert g["ContentType"] == "text/plain"


def test_copy_source_conditions(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto ignores x-amz-copy-source-if-match.
    # Goal: x-amz-copy-source-if-* conditions: failing ones answer 412 PreconditionFailed and copy
    # nothing; passing ones copy.
    s3.put_object(Bucket=bucket, Key="s", Body=b"cond")
    etag = s3.head_object(Bucket=bucket, Key="s")["ETag"]
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    src = {"Bucket": bucket, "Key": "s"}
    for kw in (dict(CopySourceIfMatch='"0000"'), dict(CopySourceIfNoneMatch=etag),
               dict(CopySourceIfModifiedSince=future), dict(CopySourceIfUnmodifiedSince=past)):
        expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=bucket, Key="d", CopySource=src, **kw)
        expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="d")
    for kw in (dict(CopySourceIfMatch=etag), dict(CopySourceIfNoneMatch='"0000"'),
               dict(CopySourceIfModifiedSince=past), dict(CopySourceIfUnmodifiedSince=future)):
        s3.copy_object(Bucket=bucket, Key="d", CopySource=src, **kw)
        assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"cond"


def test_copy_missing_source(s3, bucket, expect_error):
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket=bucket, Key="d",
                 CopySource={"Bucket": bucket, "Key": "absent"})


# ---------------------------------------------------------------------------------------------------
# Multipart


def upload_parts(s3, bucket, key, parts, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for i, p in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=p)
        assert r["ETag"] == f'"{md5_hex(p)}"'
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return up, done


@pytest.mark.slow
def test_multipart_upload_complete(s3, bucket):
    # Goal: a 3-part upload (5 MiB, 5 MiB, 1 KiB) completes with ETag md5-of-md5s-3 (computed here),
    # GET returns the concatenation, metadata from Create is kept, and the upload is gone afterwards.
    parts = [payload(5 * MiB, seed=21), payload(5 * MiB, seed=22), payload(1024, seed=23)]
    up, done = upload_parts(s3, bucket, "mp/obj", parts, ContentType="video/x-test", Metadata={"k": "v"})
    listed = s3.list_parts(Bucket=bucket, Key="mp/obj", UploadId=up)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (d["PartNumber"], len(parts[i]), d["ETag"]) for i, d in enumerate(done)]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp/obj", UploadId=up, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag(parts)
    assert r["Key"] == "mp/obj" and r["Bucket"] == bucket
    g = s3.get_object(Bucket=bucket, Key="mp/obj")
    body = g["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(b"".join(parts)).digest()
    assert g["ETag"] == multipart_etag(parts) and g["ContentType"] == "video/x-test"
    assert g["Metadata"] == {"k": "v"}
    # A range across the part boundary.
    r = s3.get_object(Bucket=bucket, Key="mp/obj", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")
    assert r["Body"].read() == (parts[0] + parts[1])[5 * MiB - 10:5 * MiB + 10]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == []


@pytest.mark.slow
def test_multipart_part_overwrite_and_subset(s3, bucket):
    # Goal: re-uploading a part number replaces it; completing with a subset of uploaded parts (1 and 3)
    # builds the object from just those.
    a1, a2, b1, c = payload(5 * MiB, seed=31), payload(5 * MiB, seed=32), payload(5 * MiB, seed=33), b"tail"
    up = s3.create_multipart_upload(Bucket=bucket, Key="o")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="o", UploadId=up, PartNumber=1, Body=a1)
    e1 = s3.upload_part(Bucket=bucket, Key="o", UploadId=up, PartNumber=1, Body=b1)["ETag"]
    s3.upload_part(Bucket=bucket, Key="o", UploadId=up, PartNumber=2, Body=a2)
    e3 = s3.upload_part(Bucket=bucket, Key="o", UploadId=up, PartNumber=3, Body=c)["ETag"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="o", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e3}]})
    assert r["ETag"] == multipart_etag([b1, c])
    assert s3.get_object(Bucket=bucket, Key="o")["Body"].read() == b1 + c


def test_multipart_errors(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto answers 500 for UploadPart with an unknown upload id.
    # Goal: EntityTooSmall (a non-last part under 5 MiB), InvalidPart (wrong ETag, part never uploaded),
    # InvalidPartOrder (descending), NoSuchUpload (unknown id on part, list, complete, abort), and
    # MalformedXML (empty part list); none of them creates the object.
    small = [b"x" * 1024, b"y" * 1024]
    up, done = upload_parts(s3, bucket, "e", small)
    expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                 MultipartUpload={"Parts": done})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                 MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": done[1]["ETag"]}]})
    expect_error("MalformedXML", 400, s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                 MultipartUpload={"Parts": []})
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="e")
    bogus = "bogus-upload-id-0000"
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key="e", UploadId=bogus, PartNumber=1, Body=b"1")
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="e", UploadId=bogus)
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=bogus,
                 MultipartUpload={"Parts": done})
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=bucket, Key="e", UploadId=bogus)
    # The upload id is bound to its key.
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="other-key", UploadId=up)


@pytest.mark.slow
def test_multipart_invalid_part_order(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto completes parts listed out of order.
    # Goal: parts listed out of ascending order answer InvalidPartOrder (parts big enough that size is
    # not the reason).
    parts = [payload(5 * MiB, seed=61), payload(5 * MiB, seed=62)]
    up, done = upload_parts(s3, bucket, "order", parts)
    expect_error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket=bucket, Key="order", UploadId=up,
                 MultipartUpload={"Parts": [done[1], done[0]]})
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="order")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="order", UploadId=up, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag(parts)


def test_single_part_upload_may_be_small(s3, bucket):
    # Goal: a one-part upload may be any size (the last part has no minimum).
    up, done = upload_parts(s3, bucket, "one", [b"tiny"])
    r = s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=up, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag([b"tiny"])
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == b"tiny"


def test_multipart_abort(s3, bucket, expect_error):
    # Goal: Abort discards the parts: ListParts answers NoSuchUpload, no object, not listed.
    up, _ = upload_parts(s3, bucket, "ab", [b"1" * 100])
    assert s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=up)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="ab", UploadId=up)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="ab")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_list_parts_paging(s3, bucket):
    # Goal: ListParts MaxParts / PartNumberMarker / NextPartNumberMarker / IsTruncated.
    parts = [f"part{i}".encode() for i in range(1, 6)]
    up, done = upload_parts(s3, bucket, "lp", parts)
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2] and r["IsTruncated"] is True
    assert int(r["NextPartNumberMarker"]) == 2
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=up, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3, 4, 5] and r["IsTruncated"] is False
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=up)


def test_list_multipart_uploads(s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto returns no CommonPrefixes for uploads.
    # Goal: ListMultipartUploads with Prefix, Delimiter (CommonPrefixes), MaxUploads paging with
    # KeyMarker/UploadIdMarker, and two uploads of one key both listed.
    keys = ["a/1", "a/2", "a/2", "b/x/1", "c"]
    ups = [(k, s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]) for k in keys]
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert sorted((u["Key"], u["UploadId"]) for u in r["Uploads"]) == sorted(ups)
    assert [u["Key"] for u in r["Uploads"]] == sorted(keys)
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert sorted(u["Key"] for u in r["Uploads"]) == ["a/1", "a/2", "a/2"]
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert [u["Key"] for u in r.get("Uploads", [])] == ["c"]
    seen, km, uim = [], None, None
    for _ in range(10):
        kw = dict(Bucket=bucket, MaxUploads=2)
        if km is not None:
            kw.update(KeyMarker=km, UploadIdMarker=uim)
        r = s3.list_multipart_uploads(**kw)
        seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        km, uim = r["NextKeyMarker"], r["NextUploadIdMarker"]
    assert sorted(seen) == sorted(ups) and len(seen) == len(ups)
    for k, u in ups:
        s3.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=u)


@pytest.mark.slow
def test_upload_part_copy_with_ranges(s3, bucket):
    # Goal: UploadPartCopy with x-amz-copy-source-range builds an object out of byte ranges of another
    # (also a multipart source), exactly.
    src = payload(11 * MiB + 123, seed=41)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    ranges = [(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, len(src) - 1)]
    parts = []
    for i, (a, b) in enumerate(ranges, start=1):
        r = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up, PartNumber=i,
                                CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={a}-{b}")
        assert r["CopyPartResult"]["ETag"] == f'"{md5_hex(src[a:b + 1])}"'
        parts.append({"PartNumber": i, "ETag": r["CopyPartResult"]["ETag"]})
    r = s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=up, MultipartUpload={"Parts": parts})
    assert r["ETag"] == multipart_etag([src[a:b + 1] for a, b in ranges])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src
    # A part copied from a range of the multipart result, plus a plain upload part.
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst2")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst2", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "dst"}, CopySourceRange=f"bytes=100-{5 * MiB + 99}")
    r2 = s3.upload_part(Bucket=bucket, Key="dst2", UploadId=up, PartNumber=2, Body=b"end")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst2", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == src[100:5 * MiB + 100] + b"end"


def test_upload_part_copy_bad_range(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto accepts a range past the source's end.
    # Goal: a copy-source range past the source's end is refused (InvalidRange 416, or InvalidArgument
    # 400 as some S3 front ends answer).
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    expect_error("InvalidRange", 416, s3.upload_part_copy, Bucket=bucket, Key="dst",
                 UploadId=up, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=5-20")


@pytest.mark.slow
def test_transfer_manager_multipart(s3, bucket, tmp_path):
    # Goal: boto3's transfer manager (parallel multipart upload and ranged parallel download) round
    # trips a 21 MiB file exactly.
    data = payload(21 * MiB + 5, seed=51)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "tm/file.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="tm/file.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-5"')
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "tm/file.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


# ---------------------------------------------------------------------------------------------------
# Conditional writes


def test_put_if_none_match_star(s3, bucket, expect_error):
    # Goal: If-None-Match: * creates only when the key is absent: first 200, second 412, bytes of the
    # first kept.
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_put_if_match(s3, bucket, expect_error):
    # Goal: If-Match on PutObject: the current ETag replaces, a stale one answers 412, a missing key
    # answers 404 NoSuchKey (S3's documented answer).
    e1 = s3.put_object(Bucket=bucket, Key="cas", Body=b"v1")["ETag"]
    e2 = s3.put_object(Bucket=bucket, Key="cas", Body=b"v2", IfMatch=e1)["ETag"]
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="cas", Body=b"v3", IfMatch=e1)
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v2"
    assert e2 == f'"{md5_hex(b"v2")}"'
    # S3's user guide answers 404 NoSuchKey when no object has the key, for an ETag and for *.
    for condition in (e1, "*"):
        expect_error("NoSuchKey", 404, s3.put_object, Bucket=bucket, Key="absent", Body=b"x", IfMatch=condition)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="absent")
    # If-Match: * replaces whatever is current.
    s3.put_object(Bucket=bucket, Key="cas", Body=b"v4", IfMatch="*")
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v4"


def test_put_if_none_match_etag(s3, bucket, expect_error):
    # Goal: If-None-Match with an ETag writes unless the current version has that ETag (a missing key
    # writes); the refused write answers 412 and keeps the bytes.
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch='"0123456789abcdef0123456789abcdef"')["ETag"]
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="k", Body=b"two", IfNoneMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfNoneMatch='"0123456789abcdef0123456789abcdef"')
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"three"


def test_complete_multipart_conditional(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto ignores a stale If-Match on Complete.
    # Goal: If-None-Match: * and If-Match on CompleteMultipartUpload, decided at completion: an upload
    # created before the key existed fails with 412 once another writer created the key.
    up1, d1 = upload_parts(s3, bucket, "mpc", [b"from upload 1"])
    up2, d2 = upload_parts(s3, bucket, "mpc", [b"from upload 2"])
    s3.complete_multipart_upload(Bucket=bucket, Key="mpc", UploadId=up1, MultipartUpload={"Parts": d1}, IfNoneMatch="*")
    expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=bucket, Key="mpc", UploadId=up2,
                 MultipartUpload={"Parts": d2}, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="mpc")["Body"].read() == b"from upload 1"
    etag = s3.head_object(Bucket=bucket, Key="mpc")["ETag"]
    expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=bucket, Key="mpc", UploadId=up2,
                 MultipartUpload={"Parts": d2}, IfMatch='"00000000000000000000000000000000-1"')
    s3.complete_multipart_upload(Bucket=bucket, Key="mpc", UploadId=up2, MultipartUpload={"Parts": d2}, IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="mpc")["Body"].read() == b"from upload 2"
