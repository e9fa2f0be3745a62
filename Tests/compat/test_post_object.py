"""POST Object (browser-based uploads) with real clients: boto3's generate_presigned_post (SigV4 policy) sent
with requests as a browser form would, its conditions enforced (key prefix, content-length-range, fields
not covered), a bad signature or an expired policy refused, success_action_status and redirect, a large
file streamed through, and an anonymous form where the bucket lets everyone write and nowhere else."""

import base64
import datetime
import hashlib
import hmac
import json
import os

import pytest
import requests


def error_code(response) -> str:
    text = response.text
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else ""


def post(target, bucket: str, fields: dict, body: bytes, filename: str = "upload.bin", **kwargs):
    return requests.post(f"{target.endpoint}/{bucket}", data=fields,
                         files={"file": (filename, body, "application/octet-stream")}, timeout=60, **kwargs)


def test_presigned_post_uploads_with_metadata_and_acl(target, s3, bucket):
    # Goal: the form boto3 signs (SigV4) stores the file with its Content-Type, metadata and ACL.
    presigned = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "browser", "acl": "public-read"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                    {"x-amz-meta-origin": "browser"}, {"acl": "public-read"}, ["content-length-range", 1, 1 << 20]],
        ExpiresIn=600)
    response = post(target, bucket, presigned["fields"], b"hello from a form", filename="notes.txt")
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key="uploads/notes.txt")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"origin": "browser"}
    assert s3.get_object(Bucket=bucket, Key="uploads/notes.txt")["Body"].read() == b"hello from a form"
    grants = s3.get_object_acl(Bucket=bucket, Key="uploads/notes.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)
    assert response.headers["ETag"] == head["ETag"]


def test_policy_conditions_are_enforced(target, s3, bucket):
    # Goal: a key outside the policy's prefix, a file outside its size range, a field the policy does not
    # name, a changed policy and an expired one are each refused, and nothing is stored.
    presigned = s3.generate_presigned_post(bucket, "in/x", Conditions=[["content-length-range", 10, 100]],
                                           ExpiresIn=600)
    fields = dict(presigned["fields"])
    assert post(target, bucket, fields, b"just right!").status_code == 204
    small = post(target, bucket, fields, b"tiny")
    assert (small.status_code, error_code(small)) == (400, "EntityTooSmall")
    large = post(target, bucket, fields, b"x" * 101)
    assert (large.status_code, error_code(large)) == (400, "EntityTooLarge")
    moved = post(target, bucket, {**fields, "key": "elsewhere/x"}, b"just right!")
    assert (moved.status_code, error_code(moved)) == (403, "AccessDenied")
    extra = post(target, bucket, {**fields, "x-amz-meta-sneaky": "1"}, b"just right!")
    assert (extra.status_code, error_code(extra)) == (403, "AccessDenied")
    forged = json.loads(base64.b64decode(fields["policy"]))
    forged["conditions"] = [c for c in forged["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    tampered = post(target, bucket, {**fields, "policy": base64.b64encode(json.dumps(forged).encode()).decode()},
                    b"x" * 500)
    assert (tampered.status_code, error_code(tampered)) == (403, "SignatureDoesNotMatch")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["in/x"]
    expired = s3.generate_presigned_post(bucket, "late", ExpiresIn=-10)
    response = post(target, bucket, expired["fields"], b"too late")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_sigv2_form_success_status_and_redirect(target, s3, bucket):
    # Goal: the SigV2 form (AWSAccessKeyId, signature) that older SDKs and s3-tests send; 201 answers a
    # PostResponse document, success_action_redirect a 303 carrying bucket, key and ETag.
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = base64.b64encode(json.dumps({"expiration": expires, "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", "v2/"], ["starts-with", "$success_action_status", ""],
        ["starts-with", "$success_action_redirect", ""]]}).encode())
    signature = base64.b64encode(hmac.new(target.secret_key.encode(), policy, hashlib.sha1).digest()).decode()
    fields = {"key": "v2/a", "AWSAccessKeyId": target.access_key, "policy": policy.decode(), "signature": signature,
              "success_action_status": "201"}
    response = post(target, bucket, fields, b"v2 body")
    assert response.status_code == 201, response.text
    assert "<Key>v2/a</Key>" in response.text and f"<Bucket>{bucket}</Bucket>" in response.text
    redirected = post(target, bucket, {**fields, "key": "v2/b", "success_action_status": "",
                                       "success_action_redirect": "http://example.invalid/done"}, b"v2 body",
                      allow_redirects=False)
    assert redirected.status_code == 303, redirected.text
    assert redirected.headers["Location"].startswith("http://example.invalid/done?bucket=")
    assert "&key=v2" in redirected.headers["Location"] and "&etag=" in redirected.headers["Location"]
    assert s3.get_object(Bucket=bucket, Key="v2/b")["Body"].read() == b"v2 body"


def test_large_file_streams_and_anonymous_needs_a_public_bucket(target, s3, bucket, bucket_factory):
    # Goal: a 12 MiB file part (several chunks) arrives byte for byte; an unsigned form is refused on a
    # private bucket and accepted where the bucket's ACL lets everyone write.
    body = os.urandom(12 << 20)
    presigned = s3.generate_presigned_post(bucket, "big", ExpiresIn=600)
    assert post(target, bucket, presigned["fields"], body).status_code == 204
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == body
    refused = post(target, bucket, {"key": "anon"}, b"anonymous")
    assert (refused.status_code, error_code(refused)) == (403, "AccessDenied")
    public = bucket_factory()
    s3.put_bucket_acl(Bucket=public, ACL="public-read-write")
    assert post(target, public, {"key": "anon"}, b"anonymous").status_code == 204
    assert s3.get_object(Bucket=public, Key="anon")["Body"].read() == b"anonymous"


def test_malformed_forms_get_clear_errors(target, bucket):
    # Goal: no key field, no file, and a body that is not multipart each answer the S3 error, never a 500.
    no_key = requests.post(f"{target.endpoint}/{bucket}", files={"file": ("f", b"x")}, timeout=30)
    assert (no_key.status_code, error_code(no_key)) == (400, "InvalidArgument")
    no_file = requests.post(f"{target.endpoint}/{bucket}", files={"key": (None, "k")}, timeout=30)
    assert no_file.status_code == 400, no_file.text
    not_multipart = requests.post(f"{target.endpoint}/{bucket}", data=b"key=k", timeout=30,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (not_multipart.status_code, error_code(not_multipart)) == (412, "PreconditionFailed")
    cut = requests.post(f"{target.endpoint}/{bucket}", timeout=30,
                        data=b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--B\r\n"
                             b"Content-Disposition: form-data; name=\"file\"\r\n\r\nno end",
                        headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert cut.status_code in (400, 403), cut.text


def test_a_refusal_before_the_file_is_read_does_not_hang(target, s3, bucket):
    # Goal: a form refused once its fields are read (here a checksum field that is not canonical base64)
    # answers 400 at once, twice on the same connection, while a 2 MiB file part was on its way: the body
    # is still read to its end (a reader that waited for it to be consumed once hung the request).
    presigned = s3.generate_presigned_post(bucket, "sum", ExpiresIn=600)
    fields = {**presigned["fields"], "x-amz-checksum-sha256": "aTL9MeXa9HObn6eP93eygxsJlcwdCwCTysgGAZAgE7x="}
    with requests.Session() as session:
        for _ in range(2):
            response = session.post(f"{target.endpoint}/{bucket}", data=fields, timeout=30,
                                    files={"file": ("f", b"x" * (2 << 20))})
            assert (response.status_code, error_code(response)) == (400, "InvalidRequest"), response.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_too_many_fields_before_the_file_are_refused(target, bucket):
    # Goal: the fields before the file are bounded by their names as well as their values: 3,000 empty
    # fields with 40-byte names (more than the 64 KiB allowed) answer 400, and nothing is stored.
    fields = [(f"x-ignore-{i:031d}", "") for i in range(3000)] + [("key", "k")]
    response = requests.post(f"{target.endpoint}/{bucket}", data=fields, files={"file": ("f", b"x")}, timeout=60)
    assert (response.status_code, error_code(response)) == (400, "MaxPostPreDataLengthExceededError"), response.text[:300]
