"""Bucket lifecycle with real clients: the configuration API (boto3, the AWS CLI) with AWS's validation, and
the lifecycle worker expiring objects, noncurrent versions and lone delete markers and aborting uploads, on a
server whose lifecycle "day" is two seconds."""
import json
import time

import pytest

from conftest import ROOT_ACCESS_KEY, ROOT_SECRET_KEY, client_error, make_s3

DAY_SECONDS = 2


def rule(rule_id, prefix, **actions):
    return {"ID": rule_id, "Filter": {"Prefix": prefix}, "Status": "Enabled", **actions}


def test_configuration_round_trips_and_is_validated(s3, bucket, tools, expect_error):
    # Goal: what PutBucketLifecycleConfiguration accepts reads back the same (with a generated ID where none
    # was given); what AWS refuses is refused with its code; Transition is NotImplemented, never ignored.
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    rules = [
        rule("logs", "logs/", Expiration={"Days": 30},
             NoncurrentVersionExpiration={"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
             AbortIncompleteMultipartUpload={"DaysAfterInitiation": 3}),
        {"Filter": {"And": {"Prefix": "t/", "Tags": [{"Key": "k", "Value": "v"}], "ObjectSizeGreaterThan": 10}},
         "Status": "Disabled", "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["ID"] == "logs" and got[0]["Expiration"] == {"Days": 30} and got[0]["Filter"] == {"Prefix": "logs/"}
    assert got[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2}
    assert got[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert got[1]["ID"] and got[1]["Status"] == "Disabled"
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got[1]["Expiration"]["Date"].year == 2030
    # The AWS CLI reads the same document.
    cli = json.loads(tools.aws_cmd("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket).stdout)
    assert [r["ID"] for r in cli["Rules"]] == [r["ID"] for r in got]

    bad = [
        ([rule("a", "", Expiration={"Days": 0})], "InvalidArgument", 400),
        ([rule("a", "", Expiration={"Date": "2030-01-01T12:00:00Z"})], "InvalidArgument", 400),
        ([rule("a", "", Expiration={"Days": 1}), rule("a", "x", Expiration={"Days": 1})], "InvalidArgument", 400),
        ([{"ID": "a", "Filter": {"Prefix": ""}, "Status": "Enabled"}], "InvalidRequest", 400),
        ([rule("a", "", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}])], "NotImplemented", 501),
    ]
    for rules, code, status in bad:
        expect_error(code, status, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
                     LifecycleConfiguration={"Rules": rules})
    # The stored configuration is unchanged by the refusals; delete removes it (and deleting again is fine).
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 2
    s3.delete_bucket_lifecycle(Bucket=bucket)
    s3.delete_bucket_lifecycle(Bucket=bucket)
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)


@pytest.fixture
def fast_server(server_factory, monkeypatch):
    monkeypatch.setenv("SILO_LIFECYCLE_DAY_SECONDS", str(DAY_SECONDS))
    monkeypatch.setenv("SILO_LIFECYCLE_EVERY_SECONDS", "1")
    server = server_factory()
    server.start()
    return make_s3(server.endpoint, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)


def wait_for(what, predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds} s")


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def versions(s3, bucket):
    r = s3.list_object_versions(Bucket=bucket)
    return sorted([(v["Key"], v["VersionId"], v["IsLatest"]) for v in r.get("Versions", [])]
                  + [(m["Key"], m["VersionId"], "marker") for m in r.get("DeleteMarkers", [])])


def test_the_worker_expires_and_aborts_what_is_due(fast_server):
    # Goal: with a day of two seconds, objects under an expiring prefix go after a day and nothing else does;
    # in a versioned bucket noncurrent versions go, the current one stays, and a lone delete marker goes;
    # an upload under an abort rule is aborted. Method: real boto3 calls against a private server, then
    # polling until the pass has run (bounded).
    s3 = fast_server
    s3.create_bucket(Bucket="plain")
    for key in ["exp/a", "exp/b", "keep/c"]:
        s3.put_object(Bucket="plain", Key=key, Body=b"x")
    upload = s3.create_multipart_upload(Bucket="plain", Key="up/big")["UploadId"]
    s3.create_multipart_upload(Bucket="plain", Key="other/big")
    s3.put_bucket_lifecycle_configuration(Bucket="plain", LifecycleConfiguration={"Rules": [
        rule("exp", "exp/", Expiration={"Days": 1}),
        rule("up", "up/", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
    ]})
    wait_for("exp/ expired", lambda: keys(s3, "plain") == ["keep/c"])
    def uploads():
        return [u["Key"] for u in s3.list_multipart_uploads(Bucket="plain").get("Uploads", [])]
    wait_for("up/ aborted", lambda: uploads() == ["other/big"])
    with pytest.raises(Exception) as raised:
        s3.list_parts(Bucket="plain", Key="up/big", UploadId=upload)
    assert client_error(raised) == ("NoSuchUpload", 404)

    s3.create_bucket(Bucket="versioned")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket="versioned", Key="doc", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket="versioned", Key="doc", Body=b"new")["VersionId"]
    gone = s3.put_object(Bucket="versioned", Key="gone", Body=b"g")["VersionId"]
    marker = s3.delete_object(Bucket="versioned", Key="gone")["VersionId"]
    s3.delete_object(Bucket="versioned", Key="gone", VersionId=gone)  # the marker is now alone
    s3.put_bucket_lifecycle_configuration(Bucket="versioned", LifecycleConfiguration={"Rules": [
        rule("noncurrent", "", NoncurrentVersionExpiration={"NoncurrentDays": 1}),
        rule("markers", "", Expiration={"ExpiredObjectDeleteMarker": True}),
    ]})
    assert ("gone", marker, "marker") in versions(s3, "versioned")
    wait_for("noncurrent version and lone marker removed", lambda: versions(s3, "versioned") == [("doc", new, True)])
    assert s3.get_object(Bucket="versioned", Key="doc")["Body"].read() == b"new"
    with pytest.raises(Exception) as raised:
        s3.get_object(Bucket="versioned", Key="doc", VersionId=old)
    assert client_error(raised)[1] == 404
