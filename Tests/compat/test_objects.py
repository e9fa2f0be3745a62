"""Object operations through boto3: PutObject/GetObject/HeadObject/DeleteObject, metadata and standard
headers, limits (key length, metadata size), Content-MD5, ranges, conditional reads, weird keys."""

import datetime as dt
import hashlib
import socket
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3util import md5_b64, md5_hex, payload, read_http_response, sign_headers


def test_put_get_head_delete_roundtrip(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto sends no x-amz-request-id.
    # Goal: bytes and ETag round trip. Method: put 300 KiB, GET returns identical bytes, ETag is the
    # quoted MD5, HEAD agrees; delete makes GET NoSuchKey and HEAD 404; deleting again is still 204.
    data = payload(300 * 1024, seed=1)
    put = s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=data)
    assert put["ETag"] == f'"{md5_hex(data)}"'
    got = s3.get_object(Bucket=bucket, Key="dir/file.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(data)
    assert got["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")
    head = s3.head_object(Bucket=bucket, Key="dir/file.bin")
    assert head["ContentLength"] == len(data) and head["ETag"] == put["ETag"]
    assert abs((head["LastModified"] - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 300
    d = s3.delete_object(Bucket=bucket, Key="dir/file.bin")
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="dir/file.bin")
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key="dir/file.bin")
    assert s3.delete_object(Bucket=bucket, Key="dir/file.bin")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_empty_object_and_overwrite(s3, bucket):
    # Goal: zero-byte objects, and an overwrite replaces bytes and ETag atomically.
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second" and got["ETag"] == f'"{md5_hex(b"second")}"'


def test_metadata_and_standard_headers_roundtrip(s3, bucket):
    # Goal: x-amz-meta-* and Content-Type/-Encoding/-Disposition/-Language, Cache-Control, Expires are
    # stored and returned on GET and HEAD (metadata names come back lower-cased, as in S3).
    expires = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    s3.put_object(
        Bucket=bucket, Key="meta", Body=b"{}",
        ContentType="application/json; charset=utf-8",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="r\u00e9sum\u00e9.json"'.encode("ascii", "ignore").decode(),
        ContentLanguage="de-CH",
        CacheControl="max-age=60, private",
        Expires=expires,
        Metadata={"Color": "blue", "multi-word-name": "a value with  spaces", "empty": ""},
    )
    for r in (s3.get_object(Bucket=bucket, Key="meta"), s3.head_object(Bucket=bucket, Key="meta")):
        assert r["ContentType"] == "application/json; charset=utf-8"
        assert r["ContentEncoding"] == "identity"
        assert r["ContentDisposition"] == 'attachment; filename="rsum.json"'
        assert r["ContentLanguage"] == "de-CH"
        assert r["CacheControl"] == "max-age=60, private"
        assert r["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Tue, 06 May 2031 07:08:09 GMT"
        assert r["Metadata"] == {"color": "blue", "multi-word-name": "a value with  spaces", "empty": ""}


def test_default_content_type(s3, bucket):
    # Goal: an object put without Content-Type comes back with one (S3 uses binary/octet-stream).
    s3.put_object(Bucket=bucket, Key="noct", Body=b"x")
    ct = s3.head_object(Bucket=bucket, Key="noct")["ContentType"]
    assert ct in ("binary/octet-stream", "application/octet-stream")


def test_key_length_limit(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto counts characters, not UTF-8 bytes.
    # Goal: keys up to 1024 UTF-8 bytes work, 1025 answer KeyTooLongError (400).
    ok = "k/" + "\u00e9" * 511  # 2 + 1022 bytes
    assert len(ok.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=ok, Body=b"1")
    assert s3.get_object(Bucket=bucket, Key=ok)["Body"].read() == b"1"
    expect_error("KeyTooLongError", 400, s3.put_object, Bucket=bucket, Key=ok + "x", Body=b"1")


def test_metadata_too_large(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto has no metadata size limit.
    # Goal: user metadata over 2 KiB answers MetadataTooLarge (400); just under the limit works.
    # S3 counts the UTF-8 bytes of each name (without x-amz-meta-) plus value.
    s3.put_object(Bucket=bucket, Key="fits", Body=b"", Metadata={"a": "v" * 1900})
    expect_error("MetadataTooLarge", 400, s3.put_object, Bucket=bucket, Key="big", Body=b"",
                 Metadata={"a": "v" * 1500, "b": "w" * 1000})
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="big")


def test_content_md5(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto ignores wrong and malformed Content-MD5.
    # Goal: a right Content-MD5 is accepted; a wrong one answers BadDigest (400) and stores nothing;
    # a malformed one answers InvalidDigest (400).
    data = b"checked bytes"
    s3.put_object(Bucket=bucket, Key="ok", Body=data, ContentMD5=md5_b64(data))
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == data
    expect_error("BadDigest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=data,
                 ContentMD5=md5_b64(b"other bytes"))
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="bad")
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=data,
                 ContentMD5="not-base64!")


# ---------------------------------------------------------------------------------------------------
# Ranges

RANGE_DATA = payload(10_000, seed=7)


@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-0", 0, 0),
    ("bytes=0-99", 0, 99),
    ("bytes=100-199", 100, 199),
    ("bytes=9000-", 9000, 9999),
    ("bytes=-500", 9500, 9999),
    ("bytes=9990-20000", 9990, 9999),   # end past the object is clipped
    ("bytes=-20000", 0, 9999),          # suffix longer than the object: whole object
])
def test_range_get(s3, bucket, header, start, end):
    # Goal: satisfiable ranges answer 206 with exactly those bytes and Content-Range bytes a-b/size.
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    r = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes {start}-{end}/{len(RANGE_DATA)}"
    assert r["ContentLength"] == end - start + 1
    assert r["Body"].read() == RANGE_DATA[start:end + 1]


@pytest.mark.parametrize("header", ["bytes=10000-", "bytes=10000-10005", "bytes=20000-30000"])
def test_range_unsatisfiable(s3, bucket, expect_error, header):
    # Goal: a range starting at or past the end answers 416 InvalidRange.
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    expect_error("InvalidRange", 416, s3.get_object, Bucket=bucket, Key="r", Range=header)


def test_range_on_empty_object(s3, bucket, expect_error):
    # Goal: any byte range of an empty object is unsatisfiable (416), S3's answer.
    s3.put_object(Bucket=bucket, Key="e", Body=b"")
    expect_error("InvalidRange", 416, s3.get_object, Bucket=bucket, Key="e", Range="bytes=0-0")


def test_head_with_range(s3, bucket):
    # Goal: HEAD honours Range too (206, Content-Length of the range).
    s3.put_object(Bucket=bucket, Key="r", Body=RANGE_DATA)
    r = s3.head_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentLength"] == 10


# ---------------------------------------------------------------------------------------------------
# Conditional reads


def test_conditional_get_and_head(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto answers 412 for If-Match true + If-Unmodified-Since false.
    # Goal: If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since with S3's precedence.
    # Method: each header alone, then the two combinations S3 documents (If-Match true wins over
    # If-Unmodified-Since false; If-None-Match false wins over If-Modified-Since true -> 304).
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)

    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="c", IfMatch='"0000"')
    expect_error("412", 412, s3.head_object, Bucket=bucket, Key="c", IfMatch='"0000"')

    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    expect_error("304", 304, s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0000"')["Body"].read() == b"conditional"

    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=future)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["Body"].read() == b"conditional"

    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=future)["Body"].read() == b"conditional"

    # Combinations (S3 user guide, "conditional requests").
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=past)["Body"].read() == b"conditional"
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=past)

    # A 304 still carries the ETag.
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert ei.value.response["ResponseMetadata"]["HTTPHeaders"].get("etag") == etag


def test_conditional_get_with_range(s3, bucket, expect_error):
    # Goal: conditions are checked before the range: a failing If-Match is 412 even with a Range.
    s3.put_object(Bucket=bucket, Key="c", Body=RANGE_DATA)
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="c", Range="bytes=0-9",
                 IfMatch='"0000"')
    etag = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    r = s3.get_object(Bucket=bucket, Key="c", Range="bytes=0-9", IfMatch=etag)
    assert r["Body"].read() == RANGE_DATA[:10]


# ---------------------------------------------------------------------------------------------------
# Keys


WEIRD_KEYS = [
    "a/../b",
    "../escape",
    "..",
    "./dot",
    "a//b",
    "//leading-slashes",
    "trailing/",
    "ctrl\x01\x02\x1f-chars",
    "tab\tand\nnewline\rcr",
    "\u00fcn\u00efc\u00f6d\u00e9/\u65e5\u672c\u8a9e/\U0001F600",
    "space key with  two spaces ",
    "plus+sign",
    "percent%20literal",
    "query?x=1&y=2",
    "hash#fragment",
    "semi;colon,comma",
    "<xml>&amp;\"quote'",
    "back\\slash",
    "~tilde!$*()",
]


def test_weird_keys_roundtrip(s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto (werkzeug) answers 404 for keys with \n or \r.
    # Goal: keys with .., //, control characters and non-ASCII are stored and returned exactly, and never
    # touch the filesystem as paths. Method: put each with distinct bytes, GET each back, and compare
    # the set of listed keys (boto3 asks for encoding-type=url and decodes) with what was put.
    for i, key in enumerate(WEIRD_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(WEIRD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"body {i}".encode(), repr(key)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(f"body {i}")
    listed = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in p.get("Contents", [])]
    assert listed == sorted(WEIRD_KEYS, key=lambda k: k.encode())
    # "b" must not exist: "a/../b" was not normalised.
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="b")


def test_weird_keys_virtual_host(s3, s3_vhost, bucket):
    # Real S3 behaviour asserted; moto deviates: moto (werkzeug) answers 404 for keys with \n or \r.
    # Goal: the same keys through virtual-host addressing reach the same objects.
    for i, key in enumerate(WEIRD_KEYS):
        s3_vhost.put_object(Bucket=bucket, Key=key, Body=f"v{i}".encode())
    for i, key in enumerate(WEIRD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"v{i}".encode(), repr(key)


def test_large_object_with_expect_continue(s3, bucket):
    # Goal: boto3 sends `Expect: 100-continue` for bodies over 1 MB; the upload works and is exact.
    data = payload(3 * 1024 * 1024 + 17, seed=3)
    sent = {}

    def capture(request, **_):
        sent["expect"] = request.headers.get("Expect")

    s3.meta.events.register("before-send.s3.PutObject", capture)
    try:
        s3.put_object(Bucket=bucket, Key="big", Body=data)
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", capture)
    assert sent["expect"] in (b"100-continue", "100-continue")
    got = s3.get_object(Bucket=bucket, Key="big")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_keys_never_become_paths(target, s3, bucket):
    # Goal: object keys never touch the filesystem as paths. Method: put keys that would escape or name
    # files ("../", absolute-looking, a unique marker) and check that no file or directory name under
    # the server's data dir contains the marker, and nothing appeared outside it.
    if target.server is None:
        pytest.skip("needs the server's data dir (own server)")
    marker = "compatmarker" + bucket[-12:]
    keys = [f"../../{marker}", f"/tmp/{marker}", f"{marker}/../../x", f"..\\..\\{marker}"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"not a path")
    data_dir = target.server.data_dir
    names = [p.name for p in data_dir.rglob("*")]
    assert not [n for n in names if marker in n]
    assert not [p for p in data_dir.parent.parent.rglob(f"*{marker}*")]
    assert not list(Path("/tmp").glob(f"*{marker}*"))
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == b"not a path"


def test_read_after_write_under_concurrency(s3, bucket):
    # Goal: strong consistency seen by clients: 8 writers in parallel, each reading its own write back
    # immediately (GET, HEAD and LIST), and last-writer-wins on one shared key (the final value is one
    # of the values written, with the matching ETag).
    from concurrent.futures import ThreadPoolExecutor

    def writer(w):
        for i in range(15):
            key = f"w{w}/k{i}"
            data = payload(500 + i, seed=w * 1000 + i)
            etag = s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"]
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
            assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == etag
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"w{w}/")
            assert listed["KeyCount"] == i + 1
            s3.put_object(Bucket=bucket, Key="shared", Body=f"writer {w} round {i}".encode())
        return w

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(writer, range(8))) == list(range(8))
    final = s3.get_object(Bucket=bucket, Key="shared")
    body = final["Body"].read()
    assert body.startswith(b"writer ") and final["ETag"] == f'"{md5_hex(body)}"'


# Headers that ask for a feature Silo does not have must not be silently ignored (a wrong success): S3
# semantics for an unimplemented header is 501 NotImplemented, and nothing is stored.
@pytest.mark.silo_only
@pytest.mark.parametrize("extra", [
    {"ServerSideEncryption": "AES256"},
    {"StorageClass": "GLACIER"},
    {"WebsiteRedirectLocation": "/elsewhere"},
])
def test_unsupported_feature_headers_answer_not_implemented(s3, bucket, extra):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x", **extra)
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key="refused")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The plain defaults clients send are accepted.
    s3.put_object(Bucket=bucket, Key="accepted", Body=b"x", StorageClass="STANDARD", ACL="private")
    assert s3.get_object(Bucket=bucket, Key="accepted")["Body"].read() == b"x"


def test_small_objects_live_in_metadata(server_factory):
    # Goal: objects up to the inline threshold (32 KiB) round-trip exactly (whole, ranges, copies,
    # overwrites, empty) while their bytes never reach the blob volumes: one durable write per small PUT.
    # A private server: on the shared one, compaction of other tests' garbage shrinks the volumes meanwhile.
    import os
    from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY, make_s3
    server = server_factory()
    server.start()
    s3 = make_s3(server.endpoint, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
    bucket = "small-inline"
    s3.create_bucket(Bucket=bucket)
    blobs = server.data_dir / "blobs"

    def volume_bytes() -> int:
        return sum(p.stat().st_size for p in blobs.iterdir() if p.is_file() and p.name != "LOCK")

    before = volume_bytes()
    bodies = {f"small/{i}": os.urandom(i * 331 % (32 << 10)) for i in range(1, 60)}
    bodies["small/empty"] = b""
    bodies["small/limit"] = os.urandom(32 << 10)
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    # The bodies (about 600 KiB together) would be far more than volume headers and record framing.
    assert volume_bytes() - before < 16 << 10, "small bodies were written to blob volumes"
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
    body = bodies["small/limit"]
    got = s3.get_object(Bucket=bucket, Key="small/limit", Range="bytes=100-199")
    assert got["Body"].read() == body[100:200] and got["ContentRange"] == f"bytes 100-199/{len(body)}"
    s3.copy_object(Bucket=bucket, Key="small/copy", CopySource={"Bucket": bucket, "Key": "small/limit"})
    assert s3.get_object(Bucket=bucket, Key="small/copy")["Body"].read() == body
    s3.put_object(Bucket=bucket, Key="small/1", Body=b"replaced")
    assert s3.get_object(Bucket=bucket, Key="small/1")["Body"].read() == b"replaced"
    # One byte over the threshold goes to the blob store as before.
    s3.put_object(Bucket=bucket, Key="big", Body=os.urandom((32 << 10) + 1))
    assert volume_bytes() > before


def _send_raw_put(raw, bucket, key, head_lines, body):
    """A signed PUT (UNSIGNED-PAYLOAD) whose framing headers are exactly `head_lines`: nothing adds a
    Content-Length. Returns the raw response bytes."""
    path = f"/{bucket}/{key}"
    signed = sign_headers("PUT", path, [], {"Host": raw.netloc}, "UNSIGNED-PAYLOAD", raw.access_key,
                          raw.secret_key)
    lines = [f"PUT {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in signed.headers.items()] + head_lines
    with socket.create_connection((raw.host, raw.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return read_http_response(sock)


def test_put_with_chunked_transfer_encoding(s3, raw, bucket):
    # Goal: a PUT framed by HTTP's Transfer-Encoding: chunked, without Content-Length, stores exactly
    # the de-chunked bytes (their length is known only at the end); a PUT with neither is refused with
    # 411 MissingContentLength.
    data = payload(70_000, seed=7)
    framed = b""
    for start in range(0, len(data), 30_000):
        piece = data[start:start + 30_000]
        framed += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    framed += b"0\r\n\r\n"
    reply = _send_raw_put(raw, bucket, "chunked", ["Transfer-Encoding: chunked", "Connection: close"], framed)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["ContentLength"] == len(data) and got["Body"].read() == data
    assert got["ETag"] == f'"{md5_hex(data)}"'
    reply = _send_raw_put(raw, bucket, "nolength", ["Connection: close"], b"")
    assert reply.startswith(b"HTTP/1.1 411") and b"MissingContentLength" in reply, reply[:300]


def test_content_encoding_kept_without_aws_chunked(s3, bucket):
    # Goal: Content-Encoding comes back as the client sent it, with only the aws-chunked framing removed.
    cases = [("gzip", "gzip"), ("deflate, gzip", "deflate, gzip"), ("gzip, aws-chunked", "gzip"),
             ("aws-chunked, gzip", "gzip"), ("aws-chunked", None)]
    for sent, kept in cases:
        s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ContentEncoding=sent)
        assert s3.head_object(Bucket=bucket, Key="enc").get("ContentEncoding") == kept, sent


ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_get_object_attributes(s3, raw, bucket, expect_error):
    # Goal: GetObjectAttributes answers the attributes asked for: the ETag without quotes, the size, the
    # storage class, the additional checksum the object was stored with, and for a multipart object its
    # part count (AWS lists the parts themselves only for objects with per-part checksums). Only what
    # was asked is answered; a missing key is NoSuchKey; a missing or unknown attribute is InvalidArgument.
    etag = s3.put_object(Bucket=bucket, Key="plain", Body=b"foo")["ETag"].strip('"')
    r = s3.get_object_attributes(Bucket=bucket, Key="plain", ObjectAttributes=ATTRIBUTES)
    assert (r["ETag"], r["ObjectSize"], r["StorageClass"]) == (etag, 3, "STANDARD")
    assert "ObjectParts" not in r and "VersionId" not in r
    assert r["LastModified"] == s3.head_object(Bucket=bucket, Key="plain")["LastModified"]
    r = s3.get_object_attributes(Bucket=bucket, Key="plain", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 3 and "ETag" not in r and "StorageClass" not in r

    sha = s3.put_object(Bucket=bucket, Key="summed", Body=b"bar", ChecksumAlgorithm="SHA256")["ChecksumSHA256"]
    r = s3.get_object_attributes(Bucket=bucket, Key="summed", ObjectAttributes=ATTRIBUTES)
    assert r["Checksum"]["ChecksumSHA256"] == sha and "ChecksumCRC32" not in r["Checksum"]
    r = s3.get_object_attributes(Bucket=bucket, Key="summed", ObjectAttributes=["ETag"])
    assert "Checksum" not in r

    up = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    parts = []
    for number, body in enumerate([b"a" * (5 * 1024 * 1024), b"b" * (5 * 1024 * 1024), b"tail"], start=1):
        e = s3.upload_part(Bucket=bucket, Key="multi", UploadId=up, PartNumber=number, Body=body)["ETag"]
        parts.append({"PartNumber": number, "ETag": e})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=up, MultipartUpload={"Parts": parts})
    r = s3.get_object_attributes(Bucket=bucket, Key="multi", ObjectAttributes=ATTRIBUTES, MaxParts=1)
    assert r["ETag"] == done["ETag"].strip('"') and r["ObjectSize"] == 10 * 1024 * 1024 + 4
    page = r["ObjectParts"]
    assert page["TotalPartsCount"] == 3 and page["MaxParts"] == 1 and page["IsTruncated"]
    assert [(p["PartNumber"], p["Size"]) for p in page["Parts"]] == [(1, 5 * 1024 * 1024)]
    assert page["NextPartNumberMarker"] == 1
    r = s3.get_object_attributes(Bucket=bucket, Key="multi", ObjectAttributes=["ObjectParts"],
                                 PartNumberMarker=page["NextPartNumberMarker"])
    page = r["ObjectParts"]
    assert not page["IsTruncated"] and page["PartNumberMarker"] == 1
    assert [(p["PartNumber"], p["Size"]) for p in page["Parts"]] == [(2, 5 * 1024 * 1024), (3, 4)]
    assert all("ChecksumSHA256" not in p for p in page["Parts"])  # none kept per part

    expect_error("NoSuchKey", 404, s3.get_object_attributes, Bucket=bucket, Key="missing", ObjectAttributes=ATTRIBUTES)
    for value in (None, "ETag,Colour"):
        headers = {} if value is None else {"x-amz-object-attributes": value}
        resp = raw.request("GET", f"/{bucket}/plain", query=[("attributes", "")], headers=headers)
        assert (resp.status, resp.error_code()) == (400, "InvalidArgument"), (value, resp.body)
    resp = raw.request("PUT", f"/{bucket}/plain", query=[("attributes", "")])
    assert resp.status == 405, resp.body
