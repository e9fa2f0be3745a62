"""Bucket operations through boto3: ListBuckets, CreateBucket (naming rules, already-exists answers),
HeadBucket, DeleteBucket, GetBucketLocation, and operations Silo does not implement (501)."""

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete, unique_bucket


def test_create_list_head_delete(s3):
    # Goal: the bucket lifecycle. Method: create, see it in ListBuckets with a creation date and the
    # owner, HeadBucket 200, delete, HeadBucket 404 and gone from the list.
    name = unique_bucket()
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("Location") in (f"/{name}", None)
    listed = s3.list_buckets()
    mine = [b for b in listed["Buckets"] if b["Name"] == name]
    assert len(mine) == 1 and mine[0]["CreationDate"] is not None
    assert listed["Owner"]["ID"], listed["Owner"]
    assert listed["Owner"].get("DisplayName"), listed["Owner"]
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=name)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_sorted(s3, bucket_factory):
    # Real S3 behaviour asserted; moto deviates: moto lists in creation order; S3 sorts by name.
    # Goal: ListBuckets lists names in ascending order (S3 does). Method: create three, compare order.
    names = [bucket_factory(prefix=p) for p in ("zz", "aa", "mm")]
    listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    positions = [listed.index(n) for n in sorted(names)]
    assert positions == sorted(positions)


def test_get_bucket_location(s3, bucket):
    # Goal: us-east-1 buckets report an empty LocationConstraint (boto3 maps it to None).
    r = s3.get_bucket_location(Bucket=bucket)
    assert r.get("LocationConstraint") in (None, "", "us-east-1")


@pytest.mark.parametrize("name", [
    "ab",                       # too short
    "a" * 64,                   # too long
    "UpperCase",                # upper case
    "under_score",              # underscore
    "-leading-dash",
    "trailing-dash-",
    "double..dot",
    "192.168.5.4",              # IP address form
    "xn--prefix-not-allowed",
    "dot-.dash",
])
def test_invalid_bucket_names(s3, expect_error, name):
    # Real S3 behaviour asserted; moto deviates: moto only checks the length.
    # Goal: S3 naming rules. Method: each name breaks one rule; CreateBucket answers 400 InvalidBucketName.
    # (boto3's client-side check only rejects characters outside [A-Za-z0-9.\-_], so these reach the server.)
    expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket=name)


def test_bucket_recreated_by_owner_in_us_east_1(s3, bucket):
    # Real S3 behaviour asserted; moto agrees. Other regions answer 409 BucketAlreadyOwnedByYou.
    # Goal: in us-east-1 (Silo's default region), re-creating one's own bucket answers 200, as AWS's
    # legacy region does, and changes nothing: what the bucket holds stays.
    s3.put_object(Bucket=bucket, Key="kept", Body=b"still here")
    r = s3.create_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"still here"


@pytest.mark.second_user
def test_bucket_owned_by_another_user(s3_factory, second_user, bucket, expect_error):
    # Goal: another user's bucket name is taken: 409 BucketAlreadyExists (never the 200 of the owner).
    other = s3_factory(second_user.access_key, second_user.secret_key)
    expect_error("BucketAlreadyExists", 409, other.create_bucket, Bucket=bucket)


def test_delete_bucket_not_empty_and_missing(s3, bucket, expect_error):
    # Goal: BucketNotEmpty (409) with an object inside, NoSuchBucket (404) for an unknown bucket.
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="x")
    s3.delete_bucket(Bucket=bucket)
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket=bucket)
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket=unique_bucket("missing"))
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket=unique_bucket("missing"), Key="k", Body=b"")
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket=unique_bucket("missing"), Key="k")


def test_delete_bucket_aborts_open_uploads(s3, expect_error):
    # Goal: as in AWS, a bucket holding only in-progress multipart uploads (with parts) is deleted and its
    # uploads with it; an object still refuses the delete, and then the uploads are untouched. A bucket of
    # the same name starts without them.
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    try:
        uploads = [s3.create_multipart_upload(Bucket=name, Key=f"big/{i}")["UploadId"] for i in range(3)]
        s3.upload_part(Bucket=name, Key="big/0", UploadId=uploads[0], PartNumber=1, Body=b"part one")
        s3.put_object(Bucket=name, Key="obj", Body=b"1")
        expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=name)
        assert len(s3.list_multipart_uploads(Bucket=name)["Uploads"]) == 3
        s3.delete_object(Bucket=name, Key="obj")
        assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as ei:
            s3.head_bucket(Bucket=name)
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        s3.create_bucket(Bucket=name)
        assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=name, Key="big/0", UploadId=uploads[0])
    finally:
        empty_and_delete(s3, name)


def test_list_buckets_paginated(s3, bucket_factory, expect_error):
    # Goal: ListBuckets with max-buckets pages in name order with a continuation token, the last page has
    # none, and prefix filters. Method: three buckets under a prefix of their own.
    prefix = unique_bucket("pg")[:14]
    names = sorted(bucket_factory(prefix=prefix) for _ in range(3))
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxBuckets": 2, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        r = s3.list_buckets(**kwargs)
        pages += 1
        assert len(r["Buckets"]) <= 2 and r.get("Prefix") == prefix
        seen += [b["Name"] for b in r["Buckets"]]
        token = r.get("ContinuationToken")
        if not token:
            break
    assert (seen, pages) == (names, 2)
    assert [b["Name"] for b in s3.list_buckets(Prefix=prefix)["Buckets"]] == names
    r = s3.list_buckets(MaxBuckets=1, Prefix=prefix, ContinuationToken=s3.list_buckets(
        MaxBuckets=1, Prefix=prefix)["ContinuationToken"])
    assert [b["Name"] for b in r["Buckets"]] == names[1:2]


def test_list_buckets_bad_parameters(raw):
    # Goal: max-buckets outside 1..10000 and an undecodable continuation token are InvalidArgument.
    for query in ([("max-buckets", "0")], [("max-buckets", "10001")], [("max-buckets", "x")],
                  [("continuation-token", "%%%")]):
        r = raw.request("GET", "/", query=query)
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (query, r.body)


def test_recreate_after_delete(s3):
    # Goal: a deleted bucket's name is free again and the new bucket is empty.
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="old", Body=b"old")
    s3.delete_object(Bucket=name, Key="old")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    finally:
        empty_and_delete(s3, name)


@pytest.mark.silo_only
@pytest.mark.parametrize("call", [
    ("put_bucket_encryption", dict(ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})),
    ("put_bucket_website", dict(WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})),
])
def test_unsupported_operations_answer_501(s3, bucket, expect_error, call):
    # Real S3 behaviour asserted; moto deviates: moto (like S3) implements these; Silo-only test.
    # Goal: anything Silo does not implement answers 501 NotImplemented, never a wrong success.
    # (Real S3 implements these; this asserts Silo's documented behaviour, issue 3 item 5.)
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    name, kwargs = call
    expect_error("NotImplemented", 501, getattr(s3, name), Bucket=bucket, **kwargs)
    # And nothing changed: the object is still there with its bytes.
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"x"


def test_acls_report_the_owner_only(s3, bucket, expect_error):
    # Goal: a bucket and an object created without an ACL are private to their owner, and the ACL reads
    # say so: the owner (the ListBuckets Owner) with FULL_CONTROL. The canned ACL "private" and an access
    # control policy document granting the owner FULL_CONTROL leave it so; a missing object is NoSuchKey.
    # (Other ACLs: test_access.py.)
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    owner = s3.list_buckets()["Owner"]
    for acl in (s3.get_bucket_acl(Bucket=bucket), s3.get_object_acl(Bucket=bucket, Key="obj")):
        assert acl["Owner"] == owner
        assert acl["Grants"] == [{"Grantee": {"ID": owner["ID"], "DisplayName": owner["DisplayName"],
                                              "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    s3.put_object_acl(Bucket=bucket, Key="obj", ACL="private")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    expect_error("NoSuchKey", 404, s3.get_object_acl, Bucket=bucket, Key="missing")
    policy = {"Owner": {"ID": owner["ID"]}, "Grants": [
        {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]}
    s3.put_object_acl(Bucket=bucket, Key="obj", AccessControlPolicy=policy)
    acl = s3.get_object_acl(Bucket=bucket, Key="obj")
    assert acl["Grants"] == [{"Grantee": {"ID": owner["ID"], "DisplayName": owner["DisplayName"],
                                          "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]


def test_unknown_canned_acl_is_invalid(s3, bucket, expect_error):
    # Goal: x-amz-acl naming no canned ACL is 400 InvalidArgument (the client's mistake), on PutBucketAcl
    # and PutObject alike.
    def misspell(**kwargs):
        kwargs["params"]["headers"]["x-amz-acl"] = "public-ready"
    for event in ("before-call.s3.PutBucketAcl", "before-call.s3.PutObject"):
        s3.meta.events.register(event, misspell)
    try:
        expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
        expect_error("InvalidArgument", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x")
    finally:
        for event in ("before-call.s3.PutBucketAcl", "before-call.s3.PutObject"):
            s3.meta.events.unregister(event, misspell)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="k")
