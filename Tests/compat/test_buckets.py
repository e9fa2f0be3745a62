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


def test_bucket_already_owned_by_you(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto answers 200 here, as real S3 does in us-east-1 only.
    # Goal: re-creating one's own bucket answers 409 BucketAlreadyOwnedByYou.
    # Real S3 deviation note: in us-east-1 only, AWS answers 200 for this (legacy behaviour); issue 3
    # asks for BucketAlreadyOwnedByYou as every other region answers.
    expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket=bucket)


def test_delete_bucket_not_empty_and_missing(s3, bucket, expect_error):
    # Goal: BucketNotEmpty (409) with an object inside, NoSuchBucket (404) for an unknown bucket; and a
    # bucket left with only an in-progress multipart upload is emptied by aborting it.
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="x")
    s3.delete_bucket(Bucket=bucket)
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket=bucket)
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket=unique_bucket("missing"))
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket=unique_bucket("missing"), Key="k", Body=b"")
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket=unique_bucket("missing"), Key="k")


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
    ("put_bucket_versioning", dict(VersioningConfiguration={"Status": "Enabled"})),
    ("put_bucket_policy", dict(Policy='{"Version":"2012-10-17","Statement":[]}')),
    ("put_bucket_lifecycle_configuration", dict(LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})),
    ("get_object_acl", dict(Key="obj")),
    ("put_object_acl", dict(Key="obj", ACL="public-read")),
    ("put_object_tagging", dict(Key="obj", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})),
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
