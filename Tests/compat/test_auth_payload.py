"""Authentication (SigV4 header and presigned, expiry, skew, anonymous, wrong keys) and every payload
mode: signed payload, UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD (per-chunk signatures, with
and without a signed trailer), STREAMING-UNSIGNED-PAYLOAD-TRAILER (boto3's own encoder), and the
x-amz-checksum-* algorithms (CRC32, CRC32C, SHA1, SHA256, CRC64NVME) stored and returned."""

import datetime as dt
import hashlib
import time

import pytest
import requests

from s3util import (
    CHECKSUM_ALGORITHMS, EMPTY_SHA256, checksum_b64, encode_key_path, md5_hex, payload, presign_url,
    sign_headers, signed_chunks, unsigned_chunks,
)

# ---------------------------------------------------------------------------------------------------
# Checksums through boto3


@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
def test_checksum_header_stored_and_returned(s3, bucket, algorithm):
    # Goal: boto3 sends x-amz-checksum-<alg> (as a header over plain HTTP); the server verifies it,
    # returns it on PUT, and on GET/HEAD when asked with ChecksumMode=ENABLED (boto3 then validates
    # the body against it too).
    data = payload(100_000, seed=71)
    expected = checksum_b64(algorithm, data)
    r = s3.put_object(Bucket=bucket, Key="c", Body=data, ChecksumAlgorithm=algorithm)
    assert r.get(f"Checksum{algorithm}") == expected
    h = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert h.get(f"Checksum{algorithm}") == expected
    g = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert g.get(f"Checksum{algorithm}") == expected
    assert g["Body"].read() == data
    # Without ChecksumMode the checksum is not returned.
    assert f"Checksum{algorithm}" not in s3.head_object(Bucket=bucket, Key="c")


def force_trailer(**kwargs):
    """before-call hook: make botocore put the checksum in an aws-chunked trailer, as it does over TLS
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER); over plain HTTP it would otherwise send a header."""
    algo = kwargs["context"].get("checksum", {}).get("request_algorithm")
    if isinstance(algo, dict):
        algo["in"] = "trailer"


@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
def test_checksum_trailer_boto3(s3_factory, bucket, algorithm):
    # Goal: boto3's aws-chunked upload with the checksum in a trailer (what boto3 >= 1.36 sends by
    # default over HTTPS) stores exact bytes and the trailer's checksum.
    c = s3_factory()
    sent = {}
    c.meta.events.register("before-call.s3.PutObject", force_trailer)
    c.meta.events.register("before-send.s3.PutObject",
                           lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}))
    data = payload(300_000, seed=72)
    c.put_object(Bucket=bucket, Key="t", Body=data, ChecksumAlgorithm=algorithm)
    assert sent["x-amz-content-sha256"] in (b"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert sent["x-amz-trailer"] in (f"x-amz-checksum-{algorithm.lower()}", f"x-amz-checksum-{algorithm.lower()}".encode())
    h = c.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert h.get(f"Checksum{algorithm}") == checksum_b64(algorithm, data)
    assert h["ContentLength"] == len(data)
    assert c.get_object(Bucket=bucket, Key="t")["Body"].read() == data


def test_when_required_sends_no_checksum(s3_factory, bucket):
    # Goal: with request_checksum_calculation=when_required boto3 sends a plain signed payload (no
    # checksum header); the upload works and Content-MD5 style ETag is right.
    c = s3_factory(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    sent = {}
    c.meta.events.register("before-send.s3.PutObject",
                           lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}))
    data = payload(50_000, seed=73)
    r = c.put_object(Bucket=bucket, Key="w", Body=data)
    assert not any(k.startswith("x-amz-checksum-") for k in sent)
    assert r["ETag"] == f'"{md5_hex(data)}"'
    assert c.get_object(Bucket=bucket, Key="w")["Body"].read() == data


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256", "CRC64NVME"])
def test_wrong_checksum_header_rejected(s3_factory, bucket, expect_error, algorithm):
    # Real S3 behaviour asserted; moto deviates: moto accepts wrong checksums.
    # Goal: a wrong x-amz-checksum-* header answers 400 BadDigest (or XAmzContentChecksumMismatch) and
    # stores nothing.
    c = s3_factory(request_checksum_calculation="when_required")
    wrong = checksum_b64(algorithm, b"something else")
    expect_error(("BadDigest", "XAmzContentChecksumMismatch", "InvalidRequest"), 400, c.put_object,
                 Bucket=bucket, Key="bad", Body=b"the real body", **{f"Checksum{algorithm}": wrong})
    expect_error("NoSuchKey", 404, c.get_object, Bucket=bucket, Key="bad")


# ---------------------------------------------------------------------------------------------------
# Hand-made payload modes


def test_unsigned_payload(raw, s3, bucket):
    # Goal: x-amz-content-sha256: UNSIGNED-PAYLOAD is accepted and the bytes stored exactly.
    data = payload(40_000, seed=74)
    r = raw.request("PUT", encode_key_path(bucket, "unsigned"), body=data, payload_hash="UNSIGNED-PAYLOAD")
    assert r.status == 200, r.body
    assert r.headers["etag"] == f'"{md5_hex(data)}"'
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == data


def test_signed_payload_hash_mismatch(raw, s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto does not check x-amz-content-sha256.
    # Goal: a body whose SHA-256 differs from the signed x-amz-content-sha256 answers 400
    # XAmzContentSHA256Mismatch and stores nothing.
    r = raw.request("PUT", encode_key_path(bucket, "mismatch"), body=b"actual body",
                    payload_hash=hashlib.sha256(b"claimed body").hexdigest())
    assert r.status == 400 and r.error_code() == "XAmzContentSHA256Mismatch", r.body
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="mismatch")


def streaming_put(raw, bucket, key, data, chunk_size=64 * 1024, trailer_algorithm=None, tamper=False,
                  decoded_length=None):
    path = encode_key_path(bucket, key)
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer_algorithm else "")
    # Content-Length of the encoded body is needed in the signed headers: encode once with a dummy
    # signature of the same length, then sign for real.
    trailer = ({f"x-amz-checksum-{trailer_algorithm.lower()}": checksum_b64(trailer_algorithm, data)}
               if trailer_algorithm else None)
    headers = {
        "Host": raw.netloc,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(decoded_length if decoded_length is not None else len(data)),
    }
    if trailer:
        headers["x-amz-trailer"] = next(iter(trailer))
    probe = sign_headers("PUT", path, [], dict(headers, **{"Content-Length": "0"}), mode, raw.access_key, raw.secret_key)
    length = len(signed_chunks(data, chunk_size, probe, trailer))
    headers["Content-Length"] = str(length)
    signed = sign_headers("PUT", path, [], headers, mode, raw.access_key, raw.secret_key)
    body = signed_chunks(data, chunk_size, signed, trailer)
    assert len(body) == length
    if tamper:
        at = body.index(b"chunk-signature=", 100) + len("chunk-signature=")
        body = body[:at] + (b"0" if body[at:at + 1] != b"0" else b"1") + body[at + 1:]
    return raw.request("PUT", path, headers=signed.headers, body=body, sign=False)


def test_streaming_signed_chunks(raw, s3, bucket):
    # Goal: STREAMING-AWS4-HMAC-SHA256-PAYLOAD with per-chunk signatures (200 KiB + 7 in 64 KiB chunks)
    # stores exactly the decoded bytes.
    data = payload(200 * 1024 + 7, seed=75)
    r = streaming_put(raw, bucket, "streamed", data)
    assert r.status == 200, r.body
    g = s3.get_object(Bucket=bucket, Key="streamed")
    assert g["Body"].read() == data and g["ContentLength"] == len(data)
    assert g["ETag"] == f'"{md5_hex(data)}"'
    assert g.get("ContentEncoding") in (None, "")  # aws-chunked is not stored as the object's encoding


def test_streaming_signed_chunks_tampered(raw, s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto does not check chunk signatures.
    # Goal: one wrong chunk signature answers 403 SignatureDoesNotMatch and no object appears.
    r = streaming_put(raw, bucket, "tampered", payload(200 * 1024, seed=76), tamper=True)
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", (r.status, r.body)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="tampered")


def test_streaming_signed_chunks_with_trailer(raw, s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto drops the trailer's checksum.
    # Goal: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: signed chunks plus a signed CRC32C trailer; the
    # trailer's checksum is stored and returned.
    data = payload(150 * 1024 + 3, seed=77)
    r = streaming_put(raw, bucket, "trailed", data, trailer_algorithm="CRC32C")
    assert r.status == 200, r.body
    h = s3.head_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert h.get("ChecksumCRC32C") == checksum_b64("CRC32C", data)
    assert s3.get_object(Bucket=bucket, Key="trailed")["Body"].read() == data


def test_streaming_short_decoded_length(raw, s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto accepts the short body.
    # Goal: x-amz-decoded-content-length larger than the chunks carry answers 400 (IncompleteBody) and
    # stores nothing.
    data = payload(70_000, seed=78)
    r = streaming_put(raw, bucket, "short", data, decoded_length=len(data) + 1000)
    assert r.status == 400 and r.error_code() in ("IncompleteBody", "InvalidRequest"), (r.status, r.body)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="short")


def unsigned_trailer_put(raw, bucket, key, data, algorithm, value):
    path = encode_key_path(bucket, key)
    name = f"x-amz-checksum-{algorithm.lower()}"
    body = unsigned_chunks(data, 16 * 1024, {name: value})
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": name, "Content-Length": str(len(body))}
    return raw.request("PUT", path, headers=headers, body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")


def test_unsigned_trailer_raw_and_wrong_trailer(raw, s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto accepts a wrong trailer checksum.
    # Goal: a hand-made STREAMING-UNSIGNED-PAYLOAD-TRAILER upload works with a right SHA1 trailer, and a
    # wrong trailer checksum answers 400 (BadDigest / XAmzContentChecksumMismatch) with no object.
    data = payload(60_000, seed=79)
    r = unsigned_trailer_put(raw, bucket, "good", data, "SHA1", checksum_b64("SHA1", data))
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key="good")["Body"].read() == data
    r = unsigned_trailer_put(raw, bucket, "bad", data, "CRC32", checksum_b64("CRC32", b"different"))
    assert r.status == 400 and r.error_code() in ("BadDigest", "XAmzContentChecksumMismatch"), (r.status, r.body)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="bad")


# ---------------------------------------------------------------------------------------------------
# Authentication


def test_anonymous_requests_denied(target, bucket, s3):
    # Real S3 behaviour asserted; moto deviates: moto does not authenticate.
    # Goal: requests without any signature answer 403 AccessDenied (list, get, put), and the put stores
    # nothing.
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    for method, url, body in (("GET", f"{target.endpoint}/{bucket}", None),
                              ("GET", f"{target.endpoint}/{bucket}/private", None),
                              ("PUT", f"{target.endpoint}/{bucket}/anon", b"x"),
                              ("GET", f"{target.endpoint}/", None)):
        r = requests.request(method, url, data=body, timeout=30)
        assert r.status_code == 403, (method, url, r.status_code, r.text)
        assert "<Code>AccessDenied</Code>" in r.text
        assert b"secret" not in r.content
    assert s3.list_objects_v2(Bucket=bucket, Prefix="anon")["KeyCount"] == 0


def test_wrong_secret_and_unknown_key(s3_factory, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto does not authenticate.
    # Goal: a wrong secret answers SignatureDoesNotMatch (403), an unknown access key InvalidAccessKeyId
    # (403); neither writes.
    expect_error("SignatureDoesNotMatch", 403, s3_factory(secret_key="wrong-secret-0000000000").put_object,
                 Bucket=bucket, Key="x", Body=b"1")
    expect_error("InvalidAccessKeyId", 403, s3_factory(access_key="AKIDUNKNOWN000000000").list_objects_v2,
                 Bucket=bucket)
    expect_error("NoSuchKey", 404, s3_factory().get_object, Bucket=bucket, Key="x")


def test_clock_skew(raw, bucket):
    # Real S3 behaviour asserted; moto deviates: moto does not authenticate.
    # Goal: a request signed 20 minutes in the past or future answers 403 RequestTimeTooSkewed; 5
    # minutes is fine.
    for minutes, ok in ((-20, False), (20, False), (-5, True)):
        date = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)).strftime("%Y%m%dT%H%M%SZ")
        r = raw.request("GET", f"/{bucket}", query=[("list-type", "2")], amz_date=date)
        if ok:
            assert r.status == 200, r.body
        else:
            assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", (minutes, r.status, r.body)


def test_presigned_get_put_and_overrides(s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto does not check presigned signatures (overrides work).
    # Goal: presigned PUT and GET work with plain HTTP clients, and response-* parameters override the
    # returned headers on a presigned GET.
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p r\u00e9"}, ExpiresIn=300)
    r = requests.put(put_url, data=b"presigned body", timeout=30)
    assert r.status_code == 200, r.text
    params = {
        "Bucket": bucket, "Key": "p r\u00e9",
        "ResponseContentType": "text/x-override",
        "ResponseContentDisposition": 'attachment; filename="x.txt"',
        "ResponseCacheControl": "no-store",
        "ResponseContentLanguage": "fr",
        "ResponseContentEncoding": "identity",
        "ResponseExpires": dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    }
    get_url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    r = requests.get(get_url, timeout=30)
    assert r.status_code == 200 and r.content == b"presigned body"
    assert r.headers["Content-Type"] == "text/x-override"
    assert r.headers["Content-Disposition"] == 'attachment; filename="x.txt"'
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Language"] == "fr"
    assert r.headers["Content-Encoding"] == "identity"
    assert r.headers["Expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    # Tampering with a signed parameter breaks the signature.
    r = requests.get(get_url.replace("text%2Fx-override", "text%2Fhtml"), timeout=30)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_presigned_expired(s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto does not enforce expiry.
    # Goal: an expired presigned URL answers 403 AccessDenied.
    s3.put_object(Bucket=bucket, Key="e", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"}, ExpiresIn=1)
    time.sleep(2.5)
    r = requests.get(url, timeout=30)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text


def test_presigned_expiry_over_seven_days(target, bucket, s3):
    # Real S3 behaviour asserted; moto deviates: moto does not enforce expiry.
    # Goal: X-Amz-Expires above 604800 s (7 days) is refused (400 AuthorizationQueryParametersError);
    # exactly 7 days works.
    s3.put_object(Bucket=bucket, Key="w", Body=b"week")
    path = f"/{bucket}/w"
    ok = presign_url(target.endpoint, "GET", path, target.access_key, target.secret_key, 604800)
    r = requests.get(ok, timeout=30)
    assert r.status_code == 200 and r.content == b"week", r.text
    bad = presign_url(target.endpoint, "GET", path, target.access_key, target.secret_key, 604801)
    r = requests.get(bad, timeout=30)
    assert r.status_code == 400 and "AuthorizationQueryParametersError" in r.text, r.text


def test_empty_body_hash_constant(raw, bucket):
    # Goal: a GET signed with the empty-payload hash works (the common SDK case), as a baseline for the
    # failure tests above.
    r = raw.request("GET", f"/{bucket}", query=[("list-type", "2")], payload_hash=EMPTY_SHA256)
    assert r.status == 200, r.body
