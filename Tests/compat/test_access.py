"""Access control with real clients: canned ACLs and grants (boto3 and the AWS CLI), anonymous reads with
plain HTTP (urllib, no signature at all), a bucket shared with a second user by grant, and a bucket
policy that opens a prefix to everyone while a Deny keeps one key closed."""

import json
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.second_user


def anonymous_get(target, bucket: str, key: str) -> tuple[int, bytes]:
    """A plain, unsigned HTTP GET: (status, body)."""
    url = f"{target.endpoint}/{bucket}/{key}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def error_code(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else ""


def canonical_id(client) -> str:
    return client.list_buckets()["Owner"]["ID"]


def test_public_read_object_is_fetched_anonymously_and_private_is_refused(target, s3, bucket):
    # Goal: a public-read object reads with plain HTTP; a private one answers 403 AccessDenied and no bytes.
    s3.put_object(Bucket=bucket, Key="public.txt", Body=b"for everyone", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"secret bytes")
    status, body = anonymous_get(target, bucket, "public.txt")
    assert (status, body) == (200, b"for everyone")
    status, body = anonymous_get(target, bucket, "private.txt")
    assert status == 403 and error_code(body) == "AccessDenied" and b"secret bytes" not in body
    # The ACL reads back as S3 writes it: the owner's FULL_CONTROL and AllUsers READ.
    grants = s3.get_object_acl(Bucket=bucket, Key="public.txt")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [g["Grantee"] for g in grants]
    assert sorted(g["Permission"] for g in grants) == ["FULL_CONTROL", "READ"]
    # Made private again, it is refused.
    s3.put_object_acl(Bucket=bucket, Key="public.txt", ACL="private")
    assert anonymous_get(target, bucket, "public.txt")[0] == 403


def test_aws_cli_canned_acl_and_grant(target, tools, s3, s3_bob, bucket, tmp_path):
    # Goal: `aws s3 cp --acl public-read` and `aws s3api put-object-acl --grant-read` work as on AWS.
    source = tmp_path / "page.html"
    source.write_bytes(b"<h1>hello</h1>")
    tools.aws_cmd("s3", "cp", str(source), f"s3://{bucket}/page.html", "--acl", "public-read")
    assert anonymous_get(target, bucket, "page.html") == (200, b"<h1>hello</h1>")
    tools.aws_cmd("s3", "cp", str(source), f"s3://{bucket}/shared.html")
    assert s3_bob_get_status(s3_bob, bucket, "shared.html") == 403
    tools.aws_cmd("s3api", "put-object-acl", "--bucket", bucket, "--key", "shared.html",
                  "--grant-read", f"id={canonical_id(s3_bob)}", "--grant-full-control", f"id={canonical_id(s3)}")
    assert s3_bob.get_object(Bucket=bucket, Key="shared.html")["Body"].read() == b"<h1>hello</h1>"
    acl = json.loads(tools.aws_cmd("s3api", "get-object-acl", "--bucket", bucket, "--key", "shared.html").stdout)
    assert {g["Permission"] for g in acl["Grants"]} == {"READ", "FULL_CONTROL"}


def s3_bob_get_status(client, bucket, key) -> int:
    try:
        client.get_object(Bucket=bucket, Key=key)
        return 200
    except Exception as error:  # botocore ClientError
        return error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_grant_to_second_user(s3, s3_bob, bucket, expect_error):
    # Goal: a bucket granted READ and WRITE to bob lists and takes his writes; bob owns what he writes
    # (the bucket owner may delete it but not read it), and bob cannot change the bucket's ACL.
    s3.put_object(Bucket=bucket, Key="root.txt", Body=b"root's")
    expect_error("AccessDenied", 403, s3_bob.list_objects_v2, Bucket=bucket)
    me, bob = canonical_id(s3), canonical_id(s3_bob)
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f"id={bob}", GrantWrite=f"id={bob}", GrantFullControl=f"id={me}")
    assert [o["Key"] for o in s3_bob.list_objects_v2(Bucket=bucket)["Contents"]] == ["root.txt"]
    s3_bob.put_object(Bucket=bucket, Key="bob.txt", Body=b"bob's")
    assert s3_bob.get_object_acl(Bucket=bucket, Key="bob.txt")["Owner"]["ID"] == bob
    expect_error("AccessDenied", 403, s3.get_object, Bucket=bucket, Key="bob.txt")
    expect_error("AccessDenied", 403, s3_bob.get_object, Bucket=bucket, Key="root.txt")
    expect_error("AccessDenied", 403, s3_bob.put_bucket_acl, Bucket=bucket, ACL="public-read")
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]} == {
        (bob, "READ"), (bob, "WRITE"), (me, "FULL_CONTROL")}
    s3.delete_object(Bucket=bucket, Key="bob.txt")


def test_bad_acl_input(s3, bucket, expect_error):
    # Goal: the errors a client expects for ACLs S3 refuses.
    expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=bucket, GrantRead="id=0123")
    expect_error("UnresolvableGrantByEmailAddress", 400, s3.put_bucket_acl, Bucket=bucket,
                 GrantRead="emailAddress=nobody@example.com")
    expect_error("MalformedACLError", 400, s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": canonical_id(s3)},
        "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                    "Permission": "EVERYTHING"}]})


def test_ownership_controls_disable_acls(s3, bucket_factory, expect_error):
    # Goal: BucketOwnerEnforced disables ACLs as AWS does.
    name = bucket_factory()
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    expect_error("AccessControlListNotSupported", 400, s3.put_bucket_acl, Bucket=name, ACL="public-read")
    expect_error("AccessControlListNotSupported", 400, s3.put_object, Bucket=name, Key="k", Body=b"x", ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.delete_bucket_ownership_controls(Bucket=name)
    expect_error("OwnershipControlsNotFoundError", 404, s3.get_bucket_ownership_controls, Bucket=name)


def test_bucket_policy_opens_a_prefix_and_deny_wins(target, tools, s3, s3_bob, bucket, expect_error):
    # Goal: a policy lets anyone GetObject under public/, a Deny keeps public/secret* closed, for the owner
    # too; GetBucketPolicyStatus says public; the AWS CLI reads the policy back; bad JSON is MalformedPolicy.
    for key in ("public/a.txt", "public/secret.txt", "private/b.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert anonymous_get(target, bucket, "public/a.txt")[0] == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PublicPrefix", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/public/*"},
            {"Sid": "KeepSecret", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/public/secret*"},
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert anonymous_get(target, bucket, "public/a.txt") == (200, b"public/a.txt")
    status, body = anonymous_get(target, bucket, "public/secret.txt")
    assert status == 403 and error_code(body) == "AccessDenied"
    assert anonymous_get(target, bucket, "private/b.txt")[0] == 403
    expect_error("AccessDenied", 403, s3.get_object, Bucket=bucket, Key="public/secret.txt")
    assert s3_bob.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"public/a.txt"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    read_back = json.loads(tools.aws_cmd("s3api", "get-bucket-policy", "--bucket", bucket).stdout)
    assert json.loads(read_back["Policy"]) == policy
    expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy="{not json")
    expect_error("AccessDenied", 403, s3_bob.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy))
    tools.aws_cmd("s3api", "delete-bucket-policy", "--bucket", bucket)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)
    assert anonymous_get(target, bucket, "public/a.txt")[0] == 403


def test_secure_transport_condition_follows_tls(target, s3, bucket, tmp_path, expect_error):
    # Goal: aws:SecureTransport is true exactly on a TLS endpoint. A policy that opens a prefix only over
    # TLS and denies everything else over plain HTTP: the plain-HTTP session server refuses the anonymous
    # read (and the owner's), a TLS server with the same policy serves it to urllib trusting the certificate.
    import shutil
    import ssl

    import boto3

    from conftest import REGION, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, client_config, unique_bucket

    def policy(name: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/tls/*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ]})

    s3.put_object(Bucket=bucket, Key="tls/page", Body=b"only over TLS")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket))
    assert anonymous_get(target, bucket, "tls/page")[0] == 403
    expect_error("AccessDenied", 403, s3.get_object, Bucket=bucket, Key="tls/page")
    s3.delete_bucket_policy(Bucket=bucket)

    if shutil.which("openssl") is None or target.external:
        pytest.skip("the TLS half needs openssl and its own server")
    from test_tls import make_certificate, start
    from conftest import PROCESSES
    cert, key = make_certificate(tmp_path)
    proc, port, log, state = start(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert state == "ready", log.read_text(errors="replace")[-2000:]
        endpoint = f"https://127.0.0.1:{port}"
        secure = boto3.session.Session().client("s3", endpoint_url=endpoint, aws_access_key_id=ROOT_ACCESS_KEY,
                                                aws_secret_access_key=ROOT_SECRET_KEY, region_name=REGION,
                                                config=client_config(), verify=str(cert))
        name = unique_bucket("tls")
        secure.create_bucket(Bucket=name)
        secure.put_object(Bucket=name, Key="tls/page", Body=b"only over TLS")
        secure.put_object(Bucket=name, Key="other", Body=b"private")
        secure.put_bucket_policy(Bucket=name, Policy=policy(name))
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"{endpoint}/{name}/tls/page", context=context, timeout=30) as response:
            assert (response.status, response.read()) == (200, b"only over TLS")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{endpoint}/{name}/other", context=context, timeout=30)
        assert refused.value.code == 403
        assert secure.get_object(Bucket=name, Key="other")["Body"].read() == b"private"
    finally:
        PROCESSES.stop(proc)


def test_revoked_write_access_is_refused_at_once(s3, s3_bob, bucket, expect_error):
    # Goal: object writes are authorized on a bucket record the gateway may have cached, and re-checked at
    # apply time: once the owner revokes a grant or adds a Deny, bob's very next write of each kind is
    # refused (PutObject, an upload's part, its completion, DeleteObject), and nothing he sent lands.
    me, bob = canonical_id(s3), canonical_id(s3_bob)
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={bob}", GrantFullControl=f"id={me}")
    s3_bob.put_object(Bucket=bucket, Key="warm.txt", Body=b"bob's")
    upload = s3_bob.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    part = s3_bob.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    expect_error("AccessDenied", 403, s3_bob.put_object, Bucket=bucket, Key="late.txt", Body=b"late")
    expect_error("AccessDenied", 403, s3_bob.upload_part, Bucket=bucket, Key="big.bin", UploadId=upload,
                 PartNumber=2, Body=b"y" * 1024)
    expect_error("AccessDenied", 403, s3_bob.complete_multipart_upload, Bucket=bucket, Key="big.bin",
                 UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    expect_error("AccessDenied", 403, s3_bob.delete_object, Bucket=bucket, Key="warm.txt")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["warm.txt"]

    # Granted again, then closed by a policy Deny rather than an ACL change.
    s3.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={bob}", GrantFullControl=f"id={me}")
    s3_bob.put_object(Bucket=bucket, Key="again.txt", Body=b"again")
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"CanonicalUser": bob}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny))
    expect_error("AccessDenied", 403, s3_bob.put_object, Bucket=bucket, Key="denied.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="owner.txt", Body=b"still mine")
    s3.delete_bucket_policy(Bucket=bucket)
    s3_bob.put_object(Bucket=bucket, Key="reopened.txt", Body=b"yes")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == [
        "again.txt", "owner.txt", "reopened.txt", "warm.txt"]
    s3.abort_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload)


def test_public_access_block(target, s3, s3_bob, bucket, expect_error):
    # Goal: Put/Get/DeletePublicAccessBlock round-trip with boto3, and each switch acts: BlockPublicAcls
    # refuses public canned ACLs on PutObject and PutBucketAcl (private ones pass), BlockPublicPolicy refuses a
    # public policy, RestrictPublicBuckets withholds a public policy from anonymous readers but not from the
    # owner, IgnorePublicAcls makes a public-read object private to strangers.
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block, Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="open.txt", Body=b"open", ACL="public-read")
    assert anonymous_get(target, bucket, "open.txt") == (200, b"open")
    conf = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == conf
    expect_error("AccessDenied", 403, s3.put_object, Bucket=bucket, Key="p.txt", Body=b"x", ACL="public-read")
    expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket=bucket, ACL="authenticated-read")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"x", ACL="private")
    public_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(public_policy))
    expect_error("AccessDenied", 403, s3_bob.put_public_access_block, Bucket=bucket,
                 PublicAccessBlockConfiguration=conf)

    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_policy))
    status, body = anonymous_get(target, bucket, "private.txt")
    assert status == 403 and error_code(body) == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="private.txt")["Body"].read() == b"x"
    s3.delete_bucket_policy(Bucket=bucket)

    assert anonymous_get(target, bucket, "open.txt") == (200, b"open")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    assert anonymous_get(target, bucket, "open.txt")[0] == 403
    s3.delete_public_access_block(Bucket=bucket)
    s3.delete_public_access_block(Bucket=bucket)  # nothing to delete: still 204
    assert anonymous_get(target, bucket, "open.txt") == (200, b"open")
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block, Bucket=bucket)
