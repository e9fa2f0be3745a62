"""Object and bucket tagging and CORS through boto3, the AWS CLI (`s3api`) and plain HTTP (`requests`): tags on
PUT, multipart and copy, per version; the AWS limits and error codes; bucket tag sets; CORS configurations,
the anonymous OPTIONS preflight and the CORS headers of ordinary responses."""

import json

import pytest
import requests
from botocore.exceptions import ClientError


def tagset(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def tags_of(s3, bucket, key, **kw):
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]]


def test_boto3_object_tagging(s3, bucket, expect_error):
    # Goal: PutObject with x-amz-tagging, Get/Put/DeleteObjectTagging, x-amz-tagging-count on GET and HEAD,
    # tags sorted by key, the AWS limits (10 tags, 128/256 characters, no duplicates, no aws: prefix) as
    # InvalidTag, and a missing key as NoSuchKey.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="team=blue&env=prod")
    assert tags_of(s3, bucket, "k") == [("env", "prod"), ("team", "blue")]
    assert s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset([(str(i), "v" * 256) for i in range(10)]))
    assert len(tags_of(s3, bucket, "k")) == 10
    for bad in [tagset([(str(i), "v") for i in range(11)]), tagset([("k" * 129, "v")]), tagset([("k", "v" * 257)]),
                tagset([("aws:x", "v")]), tagset([("a", "1"), ("a", "2")]), tagset([("semi;colon", "v")])]:
        expect_error("InvalidTag", 400, s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=bad)
    assert len(tags_of(s3, bucket, "k")) == 10
    assert s3.delete_object_tagging(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == []
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    expect_error("NoSuchKey", 404, s3.get_object_tagging, Bucket=bucket, Key="missing")
    expect_error("InvalidTag", 400, s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="aws:a=1")
    expect_error("InvalidArgument", 400, s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="a=1&a=2")


def test_tags_per_version_multipart_and_copy(s3, bucket, expect_error):
    # Goal: tags belong to a version (an old one keeps its own, versionId reads and writes it); a multipart
    # upload's x-amz-tagging reaches the completed object; a copy copies the source's tags unless the
    # tagging directive says REPLACE.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"1", Tagging="gen=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"2")["VersionId"]
    assert tags_of(s3, bucket, "doc") == []
    assert tags_of(s3, bucket, "doc", VersionId=v1) == [("gen", "1")]
    put = s3.put_object_tagging(Bucket=bucket, Key="doc", VersionId=v1, Tagging=tagset([("gen", "old")]))
    assert put["VersionId"] == v1
    assert tags_of(s3, bucket, "doc", VersionId=v1) == [("gen", "old")]
    assert tags_of(s3, bucket, "doc", VersionId=v2) == []
    marker = s3.delete_object(Bucket=bucket, Key="doc")["VersionId"]
    expect_error("MethodNotAllowed", 405, s3.get_object_tagging, Bucket=bucket, Key="doc", VersionId=marker)
    expect_error("NoSuchKey", 404, s3.put_object_tagging, Bucket=bucket, Key="doc", Tagging=tagset([("a", "b")]))

    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="Hello=World&foo=bar")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert tags_of(s3, bucket, "mp") == [("Hello", "World"), ("foo", "bar")]

    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "mp"})
    assert tags_of(s3, bucket, "copied") == [("Hello", "World"), ("foo", "bar")]
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "mp"},
                   TaggingDirective="REPLACE", Tagging="only=this")
    assert tags_of(s3, bucket, "replaced") == [("only", "this")]
    s3.copy_object(Bucket=bucket, Key="bare", CopySource={"Bucket": bucket, "Key": "mp"}, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "bare") == []


def test_boto3_bucket_tagging(s3, bucket, expect_error):
    # Goal: NoSuchTagSet until set, then the set back; 50 tags allowed and 51 refused; delete answers 204
    # (also when there is nothing to delete).
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("Hello", "World")]))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "Hello", "Value": "World"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([(f"k{i}", "v") for i in range(50)]))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
                 Tagging=tagset([(f"k{i}", "v") for i in range(51)]))
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_aws_cli_tagging_and_cors(tools, s3, bucket, tmp_path):
    # Goal: the AWS CLI's s3api calls: put-object-tagging / get-object-tagging, put-bucket-tagging,
    # put-bucket-cors / get-bucket-cors / delete-bucket-cors.
    s3.put_object(Bucket=bucket, Key="f", Body=b"x")
    tools.aws_cmd("s3api", "put-object-tagging", "--bucket", bucket, "--key", "f",
                  "--tagging", "TagSet=[{Key=project,Value=silo}]")
    got = json.loads(tools.aws_cmd("s3api", "get-object-tagging", "--bucket", bucket, "--key", "f").stdout)
    assert got["TagSet"] == [{"Key": "project", "Value": "silo"}]
    tools.aws_cmd("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=cost,Value=42}]")
    got = json.loads(tools.aws_cmd("s3api", "get-bucket-tagging", "--bucket", bucket).stdout)
    assert got["TagSet"] == [{"Key": "cost", "Value": "42"}]
    cors = tmp_path / "cors.json"
    cors.write_text(json.dumps({"CORSRules": [{"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"],
                                               "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}))
    tools.aws_cmd("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", f"file://{cors}")
    got = json.loads(tools.aws_cmd("s3api", "get-bucket-cors", "--bucket", bucket).stdout)
    assert got["CORSRules"] == [{"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"],
                                 "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
    tools.aws_cmd("s3api", "delete-bucket-cors", "--bucket", bucket)
    missing = tools.aws_cmd("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert missing.returncode != 0 and "NoSuchCORSConfiguration" in missing.stderr


def test_cors_configuration_and_preflight(target, s3, bucket, expect_error):
    # Goal: Put/Get/DeleteBucketCors with AWS's validation; the anonymous preflight answers from the rules
    # (200 with the Allow headers, 403 AccessForbidden without a match or a configuration, 400 without Origin
    # or Access-Control-Request-Method); ordinary responses to a request with a matching Origin carry the
    # CORS headers, errors included.
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket)
    url = f"{target.endpoint}/{bucket}/obj"
    no_config = requests.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert no_config.status_code == 403 and "<Code>AccessForbidden</Code>" in no_config.text
    rules = {"CORSRules": [
        {"AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["x-amz-*", "content-type"],
         "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=rules)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["https://*.example"]
    for bad, code in [({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest"),
                      ({"AllowedOrigins": ["*.*"], "AllowedMethods": ["GET"]}, "InvalidRequest"),
                      ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-*"]}, "InvalidRequest")]:
        expect_error(code, 400, s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={"CORSRules": [bad]})

    ok = requests.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                                        "Access-Control-Request-Headers": "X-Amz-Date, Content-Type"})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert ok.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert ok.headers["Access-Control-Allow-Headers"] == "X-Amz-Date, Content-Type"
    assert ok.headers["Access-Control-Max-Age"] == "300"
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag"
    assert "Origin" in ok.headers["Vary"]
    wildcard = requests.options(url, headers={"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "HEAD"})
    assert wildcard.status_code == 200 and wildcard.headers["Access-Control-Allow-Origin"] == "*"
    for headers in [{"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "GET"},
                    {"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"}]:
        refused = requests.options(url, headers=headers)
        assert refused.status_code == 403 and "<Code>AccessForbidden</Code>" in refused.text
    assert requests.options(url).status_code == 400
    assert requests.options(url, headers={"Origin": "https://app.example"}).status_code == 400

    # An ordinary request (anonymous here, so refused) still carries the matching rule's headers.
    denied = requests.get(url, headers={"Origin": "https://app.example"})
    assert denied.status_code == 403
    assert denied.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in requests.get(url, headers={"Origin": "https://nope.test"}).headers
    s3.delete_bucket_cors(Bucket=bucket)
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket)
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_tagging_policy_conditions(s3, s3_bob, bucket):
    # Goal: s3:ExistingObjectTag/<key> in a bucket policy decides GetObject, and s3:GetObjectTagging is its
    # own permission: a second user allowed only objects tagged security=public reads those and no other.
    s3.put_object(Bucket=bucket, Key="public", Body=b"p", Tagging="security=public")
    s3.put_object(Bucket=bucket, Key="private", Body=b"q", Tagging="security=private")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert s3_bob.get_object(Bucket=bucket, Key="public")["Body"].read() == b"p"
    with pytest.raises(ClientError) as denied:
        s3_bob.get_object(Bucket=bucket, Key="private")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        s3_bob.get_object_tagging(Bucket=bucket, Key="public")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
