"""Bucket versioning through boto3, the AWS CLI (`s3api`) and rclone (`--s3-versions`): versions kept on
overwrite, old versions readable by id, delete markers, deletes of one version, the `null` version under
suspension, ListObjectVersions pagination, copies from an old version."""

import json

import pytest
from botocore.exceptions import ClientError


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def listing(s3, bucket, **kw):
    """(key, version id, latest, marker) of every entry, in the order S3 lists them."""
    out = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, **kw):
        entries = [(v["Key"], v["VersionId"], v["IsLatest"], False, v["LastModified"]) for v in page.get("Versions", [])]
        entries += [(m["Key"], m["VersionId"], m["IsLatest"], True, m["LastModified"]) for m in page.get("DeleteMarkers", [])]
        # boto3 splits the two kinds; within a page S3's order is key, then newest first.
        out += [e[:4] for e in sorted(entries, key=lambda e: (e[0], -e[4].timestamp()))]
    return out


def test_versioning_configuration(s3, bucket, expect_error):
    # Goal: GetBucketVersioning is empty until set, then Enabled / Suspended; a bad status is MalformedXML;
    # MFA delete is refused with the error AWS gives without an MFA header.
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    expect_error("MalformedXML", 400, s3.put_bucket_versioning, Bucket=bucket,
                 VersioningConfiguration={"Status": "Sometimes"})
    expect_error("AccessDenied", 403, s3.put_bucket_versioning, Bucket=bucket,
                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_boto3_versions_markers_and_restore(s3, bucket, expect_error):
    # Goal: the whole life of a versioned key with boto3. Two PUTs give two version ids; the old one reads
    # back by id; DELETE makes a marker (GET 404 with x-amz-delete-marker, GET of the marker's id 405);
    # deleting the marker restores the newest version; deleting a version by id removes only it.
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"second")["VersionId"]
    assert v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"second"
    old = s3.get_object(Bucket=bucket, Key="doc", VersionId=v1)
    assert old["Body"].read() == b"first" and old["VersionId"] == v1
    assert s3.head_object(Bucket=bucket, Key="doc", VersionId=v1)["ContentLength"] == 5
    assert listing(s3, bucket) == [("doc", v2, True, False), ("doc", v1, False, False)]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc"]

    deleted = s3.delete_object(Bucket=bucket, Key="doc")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker not in (v1, v2)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="doc")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert listing(s3, bucket) == [("doc", marker, True, True), ("doc", v2, False, False), ("doc", v1, False, False)]
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=bucket, Key="doc", VersionId="0" * 32)
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=bucket, Key="doc", VersionId="not-a-version")

    gone = s3.delete_object(Bucket=bucket, Key="doc", VersionId=marker)
    assert gone["DeleteMarker"] is True and gone["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"second"
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"first"
    assert listing(s3, bucket) == [("doc", v1, True, False)]

    # A copy from an old version, and DeleteObjects by version id.
    v3 = s3.put_object(Bucket=bucket, Key="doc", Body=b"third")["VersionId"]
    copy = s3.copy_object(Bucket=bucket, Key="restored", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1})
    assert copy["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"first"
    # UploadPartCopy from an old version.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    part = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=1,
                               CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1})
    assert part["CopySourceVersionId"] == v1
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == b"first"
    # Restoring an old version in place: a copy of it onto its own key becomes the newest version.
    back = s3.copy_object(Bucket=bucket, Key="doc", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1})
    assert back["VersionId"] not in (v1, v3) and s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"first"
    s3.delete_object(Bucket=bucket, Key="doc", VersionId=back["VersionId"])
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "doc", "VersionId": v3}, {"Key": "restored"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["doc"]["VersionId"] == v3 and "DeleteMarker" not in by_key["doc"]
    assert by_key["restored"]["DeleteMarker"] is True and by_key["restored"]["DeleteMarkerVersionId"]


def test_null_version_under_suspension(s3, bucket):
    # Goal: an object written before versioning is the `null` version; it survives Enabled as a noncurrent
    # version; under Suspended a PUT replaces the null version (one null, however many PUTs) and a DELETE
    # makes a null delete marker.
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"enabled")["VersionId"]
    assert listing(s3, bucket) == [("k", v1, True, False), ("k", "null", False, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    enable(s3, bucket, "Suspended")
    s3.put_object(Bucket=bucket, Key="k", Body=b"suspended 1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"suspended 2")
    assert listing(s3, bucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"suspended 2"
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    assert listing(s3, bucket) == [("k", "null", True, True), ("k", v1, False, False)]


def test_list_object_versions_pagination(s3, bucket):
    # Goal: key and version-id markers walk every version exactly once whatever the page size; prefix and
    # delimiter roll keys up as in ListObjects.
    enable(s3, bucket)
    for key in ["a", "d/x", "d/y", "z"]:
        for round in range(3):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key}{round}".encode())
    s3.delete_object(Bucket=bucket, Key="z")
    everything = listing(s3, bucket)
    assert len(everything) == 13 and everything[-4] == ("z", everything[-4][1], True, True)
    for size in (1, 2, 5):
        walked = []
        kw = {"Bucket": bucket, "MaxKeys": size}
        while True:
            page = s3.list_object_versions(**kw)
            entries = [(v["Key"], v["VersionId"], v["IsLatest"], False, v["LastModified"]) for v in page.get("Versions", [])]
            entries += [(m["Key"], m["VersionId"], m["IsLatest"], True, m["LastModified"]) for m in page.get("DeleteMarkers", [])]
            assert len(entries) <= size
            walked += [e[:4] for e in sorted(entries, key=lambda e: (e[0], -e[4].timestamp()))]
            if not page["IsTruncated"]:
                break
            kw["KeyMarker"] = page["NextKeyMarker"]
            kw["VersionIdMarker"] = page.get("NextVersionIdMarker", "")
        assert sorted(walked) == sorted(everything), size
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["d/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a", "z"}


def test_aws_cli_s3api_versioning(tools, s3, bucket, tmp_path):
    # Goal: the AWS CLI's s3api versioning calls: put-bucket-versioning, put-object twice,
    # list-object-versions, get-object --version-id of the old version, delete-object (a marker), and
    # delete-object --version-id.
    tools.aws_cmd("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    got = json.loads(tools.aws_cmd("s3api", "get-bucket-versioning", "--bucket", bucket).stdout)
    assert got["Status"] == "Enabled"
    body = tmp_path / "body"
    body.write_bytes(b"one")
    v1 = json.loads(tools.aws_cmd("s3api", "put-object", "--bucket", bucket, "--key", "f", "--body", str(body)).stdout)["VersionId"]
    body.write_bytes(b"two")
    v2 = json.loads(tools.aws_cmd("s3api", "put-object", "--bucket", bucket, "--key", "f", "--body", str(body)).stdout)["VersionId"]
    out = json.loads(tools.aws_cmd("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [(v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [(v2, True), (v1, False)]
    target = tmp_path / "old"
    meta = json.loads(tools.aws_cmd("s3api", "get-object", "--bucket", bucket, "--key", "f", "--version-id", v1,
                                    str(target)).stdout)
    assert meta["VersionId"] == v1 and target.read_bytes() == b"one"
    marker = json.loads(tools.aws_cmd("s3api", "delete-object", "--bucket", bucket, "--key", "f").stdout)
    assert marker["DeleteMarker"] is True
    out = json.loads(tools.aws_cmd("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [(m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [(marker["VersionId"], True)]
    tools.aws_cmd("s3api", "delete-object", "--bucket", bucket, "--key", "f", "--version-id", v1)
    out = json.loads(tools.aws_cmd("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [v["VersionId"] for v in out["Versions"]] == [v2]


def test_rclone_lists_old_versions(tools, s3, bucket):
    # Goal: `rclone --s3-versions` sees the noncurrent versions of an overwritten file (rclone names them
    # with a -vTIMESTAMP suffix), and a plain listing only the current one.
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"draft")
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"final version")
    remote = f"{tools.rclone_remote}:{bucket}"
    plain = json.loads(tools.rclone_cmd("lsjson", remote).stdout)
    assert [x["Path"] for x in plain] == ["notes.txt"]
    versions = json.loads(tools.rclone_cmd("lsjson", "--s3-versions", remote).stdout)
    names = sorted(x["Path"] for x in versions)
    assert len(names) == 2 and "notes.txt" in names, names
    old = [x for x in versions if x["Path"] != "notes.txt"][0]
    assert old["Path"].startswith("notes-v") and old["Size"] == len(b"draft")


def test_object_acl_of_a_named_version(s3, bucket, expect_error):
    """GetObjectAcl with versionId reads that version's ACL (checked as GetObjectVersionAcl); an unknown
    version id is NoSuchVersion."""
    enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"v1", ACL="public-read")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    public = "http://acs.amazonaws.com/groups/global/AllUsers"
    grants = s3.get_object_acl(Bucket=bucket, Key="k", VersionId=old)["Grants"]
    assert any(g["Grantee"].get("URI") == public and g["Permission"] == "READ" for g in grants), grants
    current = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert not any(g["Grantee"].get("URI") == public for g in current), current
    expect_error("NoSuchVersion", 404, s3.get_object_acl, Bucket=bucket, Key="k", VersionId="no-such-version")
