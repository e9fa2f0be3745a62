"""ListObjects v1 and v2: prefix, delimiter/CommonPrefixes, max-keys paging (marker, NextMarker,
continuation token, start-after), fetch-owner, encoding-type=url, and DeleteObjects in bulk."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import pytest

from s3util import xml_all, xml_text

TREE = [
    "a/b/c.txt", "a/b/d.txt", "a/e.txt", "a/f/g/h.txt", "b.txt", "c/", "c/x", "d/y/z",
    "photos/2024/jan/1.jpg", "photos/2024/feb/2.jpg", "photos/2025/mar/3.jpg", "readme",
]


@pytest.fixture
def tree(s3, bucket):
    for k in TREE:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def sorted_keys(keys):
    return sorted(keys, key=lambda k: k.encode())


def test_list_v2_all_and_prefix(s3, tree):
    # Goal: full listing in UTF-8 byte order with sizes and ETags; Prefix filters.
    r = s3.list_objects_v2(Bucket=tree)
    assert [o["Key"] for o in r["Contents"]] == sorted_keys(TREE)
    assert r["KeyCount"] == len(TREE) and r["IsTruncated"] is False
    for o in r["Contents"]:
        assert o["Size"] == len(o["Key"]) and o["ETag"].startswith('"')
        assert "Owner" not in o  # only with fetch-owner
    r = s3.list_objects_v2(Bucket=tree, Prefix="a/")
    assert [o["Key"] for o in r["Contents"]] == ["a/b/c.txt", "a/b/d.txt", "a/e.txt", "a/f/g/h.txt"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="nothing")
    assert r["KeyCount"] == 0 and "Contents" not in r


def test_list_v2_delimiter(s3, tree):
    # Goal: Delimiter groups keys into CommonPrefixes, at the top level and under a prefix.
    r = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in r.get("Contents", [])] == ["b.txt", "readme"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/", "d/", "photos/"]
    assert r["KeyCount"] == 6
    r = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/e.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/", "a/f/"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="photos/20", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]
    r = s3.list_objects_v2(Bucket=tree, Prefix="c/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["c/", "c/x"]
    # A delimiter other than '/'.
    r = s3.list_objects_v2(Bucket=tree, Delimiter=".")
    assert "a/b/c." in [p["Prefix"] for p in r["CommonPrefixes"]]


def test_list_v2_paging(s3, tree):
    # Goal: max-keys paging with continuation tokens visits every key and prefix exactly once, with
    # IsTruncated true on every page but the last.
    for delimiter in (None, "/"):
        seen, token, pages = [], None, 0
        while True:
            kw = dict(Bucket=tree, MaxKeys=2)
            if delimiter:
                kw["Delimiter"] = delimiter
            if token:
                kw["ContinuationToken"] = token
            r = s3.list_objects_v2(**kw)
            pages += 1
            entries = [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            assert 1 <= len(entries) <= 2 and r["KeyCount"] == len(entries)
            seen += entries
            if not r["IsTruncated"]:
                assert "NextContinuationToken" not in r
                break
            token = r["NextContinuationToken"]
            assert pages < 50
        expected = sorted_keys(TREE) if not delimiter else ["a/", "b.txt", "c/", "d/", "photos/", "readme"]
        assert sorted_keys(seen) == sorted_keys(expected) and len(seen) == len(expected)


def test_list_v2_start_after_and_fetch_owner(s3, tree):
    # Real S3 behaviour asserted; moto deviates: moto's object Owner ID differs from ListBuckets' Owner ID.
    # Goal: StartAfter skips keys up to and including it; FetchOwner adds Owner ID/DisplayName.
    r = s3.list_objects_v2(Bucket=tree, StartAfter="c/x")
    assert [o["Key"] for o in r["Contents"]] == [k for k in sorted_keys(TREE) if k.encode() > b"c/x"]
    assert r["StartAfter"] == "c/x"
    r = s3.list_objects_v2(Bucket=tree, FetchOwner=True, MaxKeys=3)
    for o in r["Contents"]:
        assert o["Owner"]["ID"] and o["Owner"].get("DisplayName")
    buckets_owner = s3.list_buckets()["Owner"]["ID"]
    assert r["Contents"][0]["Owner"]["ID"] == buckets_owner


def test_list_v1_marker_and_next_marker(s3, tree):
    # Goal: v1 paging: Marker, IsTruncated, NextMarker (returned when a delimiter is given; without
    # one the client continues from the last key), Owner always present in v1.
    r = s3.list_objects(Bucket=tree, MaxKeys=5)
    assert r["IsTruncated"] is True and len(r["Contents"]) == 5
    assert r["Contents"][0]["Owner"]["ID"]
    last = r["Contents"][-1]["Key"]
    r2 = s3.list_objects(Bucket=tree, Marker=last)
    assert [o["Key"] for o in r["Contents"] + r2["Contents"]] == sorted_keys(TREE)
    assert r2["IsTruncated"] is False
    seen, marker = [], ""
    for _ in range(20):
        r = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2, Marker=marker)
        seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        assert r["NextMarker"], r
        marker = r["NextMarker"]
    assert sorted(seen) == ["a/", "b.txt", "c/", "d/", "photos/", "readme"] and len(seen) == 6


def test_list_max_keys_zero_and_large(s3, tree):
    # Goal: MaxKeys=0 returns no entries; MaxKeys above 1000 is capped at 1000 entries per page.
    r = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r
    r = s3.list_objects_v2(Bucket=tree, MaxKeys=5000)
    assert r["KeyCount"] == len(TREE) and r["MaxKeys"] in (1000, 5000)


ENCODED_KEYS = ["plain", "sp ace", "ctrl\x01x", "nl\nx", "\u00e9t\u00e9", "amp&lt", "pct%41", "plus+"]


def test_encoding_type_url_raw(s3, raw, bucket):
    # Real S3 behaviour asserted; moto deviates: moto answers 404 on PUT for the key with \n.
    # Goal: with encoding-type=url, Key/Prefix/Delimiter/StartAfter in the XML are URL-encoded and the
    # response says <EncodingType>url</EncodingType>; decoding gives the exact keys. Method: a raw
    # signed GET (boto3 would decode for us), v2 and v1.
    for k in ENCODED_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    for query in ([("list-type", "2"), ("encoding-type", "url")], [("encoding-type", "url")]):
        r = raw.request("GET", f"/{bucket}", query=query)
        assert r.status == 200, r.body
        root = r.xml()
        assert xml_text(root, "EncodingType") == "url"
        keys = [xml_text(c, "Key") for c in xml_all(root, "Contents")]
        assert "sp ace" not in keys and "ctrl\x01x" not in keys  # really encoded
        assert [unquote(k) for k in keys] == sorted_keys(ENCODED_KEYS)


def test_encoding_type_url_boto3(s3, bucket):
    # Goal: boto3 (which sends encoding-type=url and decodes) sees the exact keys, also as prefixes.
    keys = ["dir one/\u00e9/a", "dir one/\u00e9/b", "dir\x02two/c"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir\x02two/", "dir one/"]  # 0x02 < 0x20
    r = s3.list_objects_v2(Bucket=bucket, Prefix="dir one/\u00e9/")
    assert [o["Key"] for o in r["Contents"]] == keys[:2]


def test_unreadable_prefix_echoed(s3, tree):
    # Goal: a prefix with a control character is echoed exactly by v1 (whose Prefix AWS leaves
    # unencoded: botocore does not decode it), v2 and ListObjectVersions, and matches nothing.
    for call in (s3.list_objects, s3.list_objects_v2, s3.list_object_versions):
        r = call(Bucket=tree, Prefix="\x0a")
        assert r["Prefix"] == "\x0a", call
        assert "Contents" not in r and "Versions" not in r and "CommonPrefixes" not in r


# ---------------------------------------------------------------------------------------------------
# DeleteObjects


def put_many(s3, bucket, keys):
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))


@pytest.mark.slow
def test_delete_objects_1000_quiet_and_verbose(s3, bucket):
    # Real S3 behaviour asserted; moto deviates: moto ignores Quiet.
    # Goal: DeleteObjects with 1000 keys, quiet (no <Deleted> entries) and non-quiet (one per key,
    # also for keys that never existed); the bucket is empty after.
    keys = [f"k/{i:04d}" for i in range(1000)]
    put_many(s3, bucket, keys)
    assert sum(len(p.get("Contents", [])) for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)) == 1000
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:500]] +
                                                 [{"Key": f"never/{i}"} for i in range(500)], "Quiet": True})
    assert r.get("Deleted", []) == [] and r.get("Errors", []) == []
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[500:]]})
    assert sorted(d["Key"] for d in r["Deleted"]) == keys[500:]
    assert r.get("Errors", []) == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_over_1000_is_malformed(s3, bucket, expect_error):
    # Real S3 behaviour asserted; moto deviates: moto accepts more than 1000 keys.
    # Goal: more than 1000 keys in one DeleteObjects answers MalformedXML (400) and deletes nothing.
    s3.put_object(Bucket=bucket, Key="keep", Body=b"1")
    expect_error("MalformedXML", 400, s3.delete_objects, Bucket=bucket,
                 Delete={"Objects": [{"Key": "keep"}] + [{"Key": f"x{i}"} for i in range(1000)]})
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"1"


def test_delete_objects_weird_keys(s3, bucket):
    # Goal: keys needing XML escaping are deleted exactly.
    keys = ["<a>&b", "\u00fc/\U0001F600", "sp ace", "q'\"x"]
    put_many(s3, bucket, keys)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# ---------------------------------------------------------------------------------------------------
# ListObjectVersions (unversioned buckets: every object is its key's `null` version) and VersionId=null


def test_list_object_versions_boto3(s3, tree):
    # Goal: every object is listed once as version "null", latest, with its size and ETag; Prefix and
    # Delimiter work as in ListObjects; max-keys pages with NextKeyMarker/NextVersionIdMarker until done.
    r = s3.list_object_versions(Bucket=tree)
    versions = r["Versions"]
    assert [v["Key"] for v in versions] == sorted_keys(TREE)
    assert all(v["VersionId"] == "null" and v["IsLatest"] is True for v in versions)
    assert all(v["Size"] == len(v["Key"]) and v["ETag"].startswith('"') for v in versions)
    assert all(v["Owner"]["ID"] and v["StorageClass"] == "STANDARD" for v in versions)
    assert r["IsTruncated"] is False and "NextKeyMarker" not in r and "DeleteMarkers" not in r
    r = s3.list_object_versions(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [v["Key"] for v in r["Versions"]] == ["a/e.txt"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/", "a/f/"]
    seen, kwargs, pages = [], {"Bucket": tree, "MaxKeys": 5}, 0
    while True:
        page = s3.list_object_versions(**kwargs)
        pages += 1
        seen += [v["Key"] for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        assert page["NextKeyMarker"] == seen[-1] and page["NextVersionIdMarker"] == "null"
        kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    assert (seen, pages) == (sorted_keys(TREE), 3)
    # A key marker alone starts after that key, too.
    r = s3.list_object_versions(Bucket=tree, KeyMarker="b.txt")
    assert [v["Key"] for v in r["Versions"]] == [k for k in sorted_keys(TREE) if k.encode() > b"b.txt"]
    # The paginator (what sync tools use) sees everything once.
    listed = [v["Key"] for p in s3.get_paginator("list_object_versions").paginate(
        Bucket=tree, PaginationConfig={"PageSize": 4}) for v in p.get("Versions", [])]
    assert listed == sorted_keys(TREE)


def test_list_object_versions_raw_markers_and_encoding(s3, raw, bucket):
    # Goal: the XML shape (ListVersionsResult, Version entries), encoding-type=url for keys and markers,
    # and the marker errors: a version-id-marker without key-marker, or other than null, is
    # InvalidArgument.
    for k in ENCODED_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    r = raw.request("GET", f"/{bucket}", query=[("versions", ""), ("encoding-type", "url"), ("max-keys", "1")])
    assert r.status == 200, r.body
    root = r.xml()
    assert root.tag.endswith("ListVersionsResult")
    first = sorted_keys(ENCODED_KEYS)[0]
    keys = [xml_text(v, "Key") for v in xml_all(root, "Version")]
    assert [unquote(k) for k in keys] == [first]
    assert xml_text(root, "IsTruncated") == "true" and xml_text(root, "EncodingType") == "url"
    assert unquote(xml_text(root, "NextKeyMarker")) == first and xml_text(root, "NextVersionIdMarker") == "null"
    for query in ([("versions", ""), ("version-id-marker", "null")],
                  [("versions", ""), ("key-marker", "a"), ("version-id-marker", "3HL4kqtJlcpXroDTDmJ")],
                  [("versions", ""), ("encoding-type", "base64")]):
        r = raw.request("GET", f"/{bucket}", query=query)
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (query, r.body)


def test_delete_with_null_version_id(s3, bucket, expect_error):
    # Goal: the suite-style cleanup works: DeleteObjects naming VersionId "null" (with
    # x-amz-bypass-governance-retention) and DeleteObject?versionId=null delete the current object;
    # any other version id is InvalidArgument and deletes nothing.
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[:2]}, BypassGovernanceRetention=True)
    assert sorted((d["Key"], d["VersionId"]) for d in r["Deleted"]) == [("a", "null"), ("b", "null")]
    assert r.get("Errors", []) == []
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c", "VersionId": "not-a-version"}]})
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("c", "InvalidArgument")]
    expect_error("InvalidArgument", 400, s3.delete_object, Bucket=bucket, Key="c", VersionId="not-a-version")
    assert s3.get_object(Bucket=bucket, Key="c", VersionId="null")["Body"].read() == b"1"
    s3.delete_object(Bucket=bucket, Key="c", VersionId="null")
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
