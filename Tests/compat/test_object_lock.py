"""S3 object lock through boto3 and the AWS CLI (`s3api`): buckets created with object lock, the bucket's
default retention, per-version retention (GOVERNANCE, COMPLIANCE) and legal hold, the lock headers on
PutObject, CopyObject and CreateMultipartUpload, deletes of locked versions refused (AccessDenied, alone in a
DeleteObjects), and the governance bypass with its permission."""

import datetime
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

DAY = datetime.timedelta(days=1)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def whole_seconds(moment):
    return moment.replace(microsecond=0)


def nuke(s3, bucket):
    """Deletes every version with the bypass, after lifting legal holds (COMPLIANCE versions must have
    expired), then the bucket."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            try:
                s3.put_object_legal_hold(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"],
                                         LegalHold={"Status": "OFF"})
            except ClientError:
                pass
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if entries:
            s3.delete_objects(Bucket=bucket, BypassGovernanceRetention=True,
                              Delete={"Objects": [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]})
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture
def locked(s3):
    """A fresh bucket created with object lock, emptied (with the bypass) and deleted afterwards."""
    name = f"lock-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    nuke(s3, name)


def test_bucket_configuration(s3, locked, bucket, expect_error):
    # Goal: a bucket created with object lock is versioned for good and reports an Enabled configuration;
    # default retentions round-trip and are validated as AWS does; a bucket without object lock has no
    # configuration and gets one only once its versioning is Enabled.
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    expect_error("InvalidBucketState", 409, s3.put_bucket_versioning, Bucket=locked,
                 VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    for rule in ({"Mode": "GOVERNANCE", "Days": 3}, {"Mode": "COMPLIANCE", "Years": 2}):
        conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": rule}}
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
        assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == conf
    for rule, code in (({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
                       ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidRetentionPeriod"),
                       ({"Mode": "GOVERNANCE", "Years": 101}, "InvalidRetentionPeriod"),
                       ({"Mode": "governance", "Days": 1}, "MalformedXML")):
        expect_error(code, 400, s3.put_object_lock_configuration, Bucket=locked,
                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": rule}})

    expect_error("ObjectLockConfigurationNotFoundError", 404, s3.get_object_lock_configuration, Bucket=bucket)
    conf = {"ObjectLockEnabled": "Enabled"}
    expect_error("InvalidBucketState", 409, s3.put_object_lock_configuration, Bucket=bucket,
                 ObjectLockConfiguration=conf)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error("InvalidRequest", 400, s3.get_object_retention, Bucket=bucket, Key="k")
    expect_error("InvalidRequest", 400, s3.put_object_legal_hold, Bucket=bucket, Key="k",
                 LegalHold={"Status": "ON"})
    expect_error("InvalidRequest", 400, s3.put_object, Bucket=bucket, Key="k2", Body=b"x",
                 ObjectLockLegalHoldStatus="ON")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == conf


def test_locked_versions_are_not_deleted(s3, locked, expect_error):
    # Goal: the lock headers of a PUT come back on HEAD; a version under GOVERNANCE retention goes only with
    # the bypass, one under legal hold not even then; a delete without a version id makes a marker; in a
    # DeleteObjects the locked version fails alone.
    until = whole_seconds(utc_now() + DAY)
    v1 = s3.put_object(Bucket=locked, Key="g", Body=b"1", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=locked, Key="g")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] == until
    assert "ObjectLockLegalHoldStatus" not in head
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_legal_hold, Bucket=locked, Key="g")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=locked, Key="g", VersionId=v1)
    marker = s3.delete_object(Bucket=locked, Key="g")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=locked, Key="g", VersionId=v1, BypassGovernanceRetention=True)

    h1 = s3.put_object(Bucket=locked, Key="h", Body=b"2", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object(Bucket=locked, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_retention, Bucket=locked, Key="h")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=locked, Key="h", VersionId=h1,
                 BypassGovernanceRetention=True)
    free = s3.put_object(Bucket=locked, Key="free", Body=b"3")["VersionId"]
    result = s3.delete_objects(Bucket=locked, BypassGovernanceRetention=True, Delete={"Objects": [
        {"Key": "h", "VersionId": h1}, {"Key": "free", "VersionId": free}]})
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in result["Errors"]] == [("h", h1, "AccessDenied")]
    assert [(d["Key"], d["VersionId"]) for d in result["Deleted"]] == [("free", free)]
    s3.put_object_legal_hold(Bucket=locked, Key="h", VersionId=h1, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="h")["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=locked, Key="h", VersionId=h1)


def test_retention_can_only_grow_under_compliance(s3, locked, expect_error):
    # Goal: GOVERNANCE is extended freely and shortened or changed only with the bypass; COMPLIANCE is never
    # shortened or deleted, bypass or not, until its date passes; a date in the past is refused.
    v1 = s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"]
    far = whole_seconds(utc_now() + 3 * DAY)
    s3.put_object_retention(Bucket=locked, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": far})
    near = whole_seconds(utc_now() + DAY)
    expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=locked, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": near})
    expect_error("InvalidArgument", 400, s3.put_object_retention, Bucket=locked, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": whole_seconds(utc_now() - DAY)})
    soon = whole_seconds(utc_now()) + datetime.timedelta(seconds=4)
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=v1, BypassGovernanceRetention=True,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon})
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=v1)["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": soon}
    expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=locked, Key="k", BypassGovernanceRetention=True,
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": far})
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=locked, Key="k", VersionId=v1,
                 BypassGovernanceRetention=True)
    time.sleep(max(0.0, (soon - utc_now()).total_seconds()) + 0.5)
    s3.delete_object(Bucket=locked, Key="k", VersionId=v1)


def test_default_retention_copy_and_multipart(s3, tools, locked):
    # Goal: new versions take the bucket's default retention unless they ask for their own; a copy never
    # takes its source's lock; a multipart upload's lock headers reach the object its completion makes; the
    # AWS CLI reads retention and legal hold back.
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    before = utc_now()
    s3.put_object(Bucket=locked, Key="d", Body=b"x", ObjectLockLegalHoldStatus="ON")
    head = s3.head_object(Bucket=locked, Key="d")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert before + DAY - datetime.timedelta(seconds=5) < head["ObjectLockRetainUntilDate"] < utc_now() + DAY
    s3.copy_object(Bucket=locked, Key="c", CopySource={"Bucket": locked, "Key": "d"})
    copy = s3.head_object(Bucket=locked, Key="c")
    assert copy["ObjectLockMode"] == "GOVERNANCE" and "ObjectLockLegalHoldStatus" not in copy

    upload = s3.create_multipart_upload(Bucket=locked, Key="m", ObjectLockLegalHoldStatus="ON")["UploadId"]
    etag = s3.upload_part(Bucket=locked, Key="m", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    done = s3.complete_multipart_upload(Bucket=locked, Key="m", UploadId=upload,
                                        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    hold = json.loads(tools.aws_cmd("s3api", "get-object-legal-hold", "--bucket", locked, "--key", "m",
                                    "--version-id", done["VersionId"]).stdout)
    assert hold == {"LegalHold": {"Status": "ON"}}
    retention = json.loads(tools.aws_cmd("s3api", "get-object-retention", "--bucket", locked, "--key", "m").stdout)
    assert retention["Retention"]["Mode"] == "GOVERNANCE"


@pytest.mark.second_user
def test_bypass_needs_its_permission(s3, s3_bob, second_user, locked, expect_error):
    # Goal: x-amz-bypass-governance-retention lifts GOVERNANCE only for a caller with
    # s3:BypassGovernanceRetention: another user allowed to delete, but not to bypass, is refused; once a
    # policy grants the bypass, the same delete goes. HEAD shows the retention only to a caller with
    # s3:GetObjectRetention.
    until = whole_seconds(utc_now() + DAY)
    v1 = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=until)["VersionId"]

    def allow(*actions):
        s3.put_bucket_policy(Bucket=locked, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [second_user.name]}, "Action": list(actions),
             "Resource": [f"arn:aws:s3:::{locked}/*"]}]}))

    allow("s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion")
    assert "ObjectLockMode" not in s3_bob.head_object(Bucket=locked, Key="k")
    expect_error("AccessDenied", 403, s3_bob.delete_object, Bucket=locked, Key="k", VersionId=v1,
                 BypassGovernanceRetention=True)
    allow("s3:GetObject", "s3:GetObjectRetention", "s3:DeleteObject", "s3:DeleteObjectVersion",
          "s3:BypassGovernanceRetention")
    assert s3_bob.head_object(Bucket=locked, Key="k")["ObjectLockMode"] == "GOVERNANCE"
    s3_bob.delete_object(Bucket=locked, Key="k", VersionId=v1, BypassGovernanceRetention=True)
    s3.delete_bucket_policy(Bucket=locked)
