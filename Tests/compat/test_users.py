"""Users and ownership: buckets belong to their creator; another user's bucket answers AccessDenied;
ListBuckets shows only one's own buckets; BucketAlreadyExists for a name another user holds; the
`silo admin user` CLI (create/list/delete)."""

import pytest

from conftest import admin, make_s3, parse_created_keys, silo_bin, unique_bucket

pytestmark = pytest.mark.second_user


def test_list_buckets_shows_only_own(s3, s3_bob, bucket_factory):
    # Goal: each user sees exactly their own buckets, with distinct Owner IDs.
    mine = bucket_factory()
    bobs = bucket_factory(client=s3_bob, prefix="bob")
    root_list = s3.list_buckets()
    bob_list = s3_bob.list_buckets()
    root_names = [b["Name"] for b in root_list["Buckets"]]
    bob_names = [b["Name"] for b in bob_list["Buckets"]]
    assert mine in root_names and bobs not in root_names
    assert bobs in bob_names and mine not in bob_names
    assert root_list["Owner"]["ID"] != bob_list["Owner"]["ID"]
    assert bob_list["Owner"].get("DisplayName")


def test_other_users_bucket_access_denied(s3, s3_bob, bucket, expect_error):
    # Goal: every operation on another user's bucket answers 403 AccessDenied and changes nothing.
    s3.put_object(Bucket=bucket, Key="root-only", Body=b"private")
    for fn, kw in (
        (s3_bob.list_objects_v2, dict(Bucket=bucket)),
        (s3_bob.list_objects, dict(Bucket=bucket)),
        (s3_bob.get_object, dict(Bucket=bucket, Key="root-only")),
        (s3_bob.put_object, dict(Bucket=bucket, Key="intruder", Body=b"x")),
        (s3_bob.delete_object, dict(Bucket=bucket, Key="root-only")),
        (s3_bob.delete_bucket, dict(Bucket=bucket)),
        (s3_bob.create_multipart_upload, dict(Bucket=bucket, Key="mp")),
        (s3_bob.copy_object, dict(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "root-only"})),
        (s3_bob.delete_objects, dict(Bucket=bucket, Delete={"Objects": [{"Key": "root-only"}]})),
        (s3_bob.get_bucket_location, dict(Bucket=bucket)),
    ):
        expect_error("AccessDenied", 403, fn, **kw)
    expect_error("403", 403, s3_bob.head_bucket, Bucket=bucket)
    expect_error("403", 403, s3_bob.head_object, Bucket=bucket, Key="root-only")
    assert s3.get_object(Bucket=bucket, Key="root-only")["Body"].read() == b"private"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["root-only"]


def test_copy_from_other_users_bucket_denied(s3, s3_bob, bucket, bucket_factory, expect_error):
    # Goal: bob cannot copy root's object into his own bucket either.
    s3.put_object(Bucket=bucket, Key="src", Body=b"private")
    bobs = bucket_factory(client=s3_bob, prefix="bob")
    expect_error("AccessDenied", 403, s3_bob.copy_object, Bucket=bobs, Key="stolen",
                 CopySource={"Bucket": bucket, "Key": "src"})
    expect_error("NoSuchKey", 404, s3_bob.get_object, Bucket=bobs, Key="stolen")


def test_bucket_already_exists(s3, s3_bob, bucket, expect_error):
    # Goal: a name held by another user answers 409 BucketAlreadyExists.
    expect_error("BucketAlreadyExists", 409, s3_bob.create_bucket, Bucket=bucket)


@pytest.mark.own_server
def test_admin_user_lifecycle(target, s3, expect_error):
    # Goal: `silo admin user create NAME` prints working keys, `user list` shows the user, `user delete`
    # removes them and their keys stop working (InvalidAccessKeyId).
    if not silo_bin().exists():
        pytest.skip("needs the silo admin CLI")
    name = f"compat-carol-{unique_bucket('u')[-6:]}"
    created = admin(target, "user", "create", name)
    ak, sk = parse_created_keys(created.stdout + created.stderr)
    carol = make_s3(target.endpoint, ak, sk)
    b = unique_bucket("carol")
    carol.create_bucket(Bucket=b)
    carol.put_object(Bucket=b, Key="k", Body=b"carol's")
    assert carol.get_object(Bucket=b, Key="k")["Body"].read() == b"carol's"
    assert name in admin(target, "user", "list").stdout
    carol.delete_object(Bucket=b, Key="k")
    carol.delete_bucket(Bucket=b)
    admin(target, "user", "delete", name)
    assert name not in admin(target, "user", "list").stdout
    expect_error("InvalidAccessKeyId", 403, carol.list_buckets)
    # Creating a user whose name exists fails (non-zero exit).
    dup = admin(target, "user", "create", "compat-dup-" + name[-6:])
    assert admin(target, "user", "create", "compat-dup-" + name[-6:], check=False).returncode != 0
    parse_created_keys(dup.stdout + dup.stderr)
    admin(target, "user", "delete", "compat-dup-" + name[-6:])


def test_admin_endpoint_refuses_bad_input(raw, second_user):
    # Goal: the admin endpoint (not S3) answers hostile or malformed input with a clear error, never a 500:
    # non-root callers, malformed JSON, bad names, an oversized body, an unknown route, anonymous calls.
    users = "/_silo/admin/users"
    as_bob = raw.request("GET", users, access_key=second_user.access_key, secret_key=second_user.secret_key)
    assert as_bob.status == 403 and as_bob.error_code() == "AccessDenied"
    malformed = raw.request("POST", users, body=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status == 400 and malformed.error_code() == "InvalidArgument"
    bad_name = raw.request("POST", users, body=b'{"name": "../etc"}', headers={"Content-Type": "application/json"})
    assert bad_name.status == 400 and bad_name.error_code() == "InvalidArgument"
    huge = raw.request("POST", users, body=b'{"name": "' + b"a" * (70 << 10) + b'"}',
                       headers={"Content-Type": "application/json"})
    assert huge.status == 400 and huge.error_code() == "EntityTooLarge"
    unknown = raw.request("GET", "/_silo/admin/nothing-here")
    assert unknown.status == 405 and unknown.error_code() == "MethodNotAllowed"
    anonymous = raw.request("GET", users, sign=False)
    assert anonymous.status == 403 and anonymous.error_code() == "AccessDenied"
