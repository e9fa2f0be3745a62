"""The real command-line clients against the server: the AWS CLI (`s3 mb/cp/ls/sync/rm/presign/rb`,
`s3api` multipart and conditional calls), rclone (`copy`, `sync`, `check`) and s5cmd (parallel `cp`,
`ls`, `rm`). Each test checks the bytes that arrive and what the tools print, not only exit codes."""

import hashlib
import json
from pathlib import Path

import pytest
import requests

from conftest import unique_bucket
from s3util import md5_hex, multipart_etag, payload

MiB = 1024 * 1024


def make_tree(root: Path, big: int = 3 * MiB) -> dict[str, bytes]:
    """A local tree with nested directories, a few MiB-sized files and small ones; returns rel->bytes."""
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "dir1/b.bin": payload(big, seed=91),
        "dir1/sub/c.bin": payload(big + 1, seed=92),
        "dir1/sub/deeper/d.txt": b"deep\n" * 1000,
        "dir2/e.bin": payload(1 * MiB + 3, seed=93),
        "dir2/sp ace \u00e9.txt": b"unicode name\n",
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def remote_tree(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


# ---------------------------------------------------------------------------------------------------
# AWS CLI


@pytest.mark.slow
def test_aws_cli_s3_commands(tools, s3, tmp_path):
    # Goal: mb, cp both ways (a 9 MiB file goes multipart in the CLI), ls, sync up/down/--delete,
    # presign + plain GET, rm --recursive, rb; the bytes on both sides always match.
    b = unique_bucket("cli")
    out = tools.aws_cmd("s3", "mb", f"s3://{b}").stdout
    assert f"make_bucket: {b}" in out
    try:
        assert b in tools.aws_cmd("s3", "ls").stdout

        big = tmp_path / "big.bin"
        big.write_bytes(payload(9 * MiB + 11, seed=94))
        tools.aws_cmd("s3", "cp", str(big), f"s3://{b}/single/big.bin")
        head = s3.head_object(Bucket=b, Key="single/big.bin")
        assert head["ContentLength"] == big.stat().st_size and head["ETag"].endswith('-2"')
        back = tmp_path / "back.bin"
        tools.aws_cmd("s3", "cp", f"s3://{b}/single/big.bin", str(back))
        assert back.read_bytes() == big.read_bytes()

        src = tmp_path / "src"
        files = make_tree(src)
        tools.aws_cmd("s3", "sync", str(src), f"s3://{b}/tree/")
        assert remote_tree(s3, b, "tree/") == files

        listing = tools.aws_cmd("s3", "ls", "--recursive", f"s3://{b}/tree/").stdout
        for rel, data in files.items():
            assert any(line.endswith(f"tree/{rel}") and f" {len(data)} " in line for line in listing.splitlines()), rel
        top = tools.aws_cmd("s3", "ls", f"s3://{b}/tree/").stdout
        assert "PRE dir1/" in top and "PRE dir2/" in top and "a.txt" in top

        # Change one file, delete one, add one; sync --delete mirrors exactly.
        (src / "a.txt").write_bytes(b"alpha changed, longer\n")
        (src / "dir2" / "e.bin").unlink()
        (src / "new.txt").write_bytes(b"new\n")
        tools.aws_cmd("s3", "sync", "--delete", str(src), f"s3://{b}/tree/")
        assert remote_tree(s3, b, "tree/") == read_tree(src)

        down = tmp_path / "down"
        tools.aws_cmd("s3", "sync", f"s3://{b}/tree/", str(down))
        assert read_tree(down) == read_tree(src)

        url = tools.aws_cmd("s3", "presign", f"s3://{b}/tree/new.txt", "--expires-in", "300").stdout.strip()
        r = requests.get(url, timeout=30)
        assert r.status_code == 200 and r.content == b"new\n"

        out = tools.aws_cmd("s3", "rm", "--recursive", f"s3://{b}/tree/").stdout
        assert out.count("delete: s3://") == len(read_tree(src))
        assert s3.list_objects_v2(Bucket=b, Prefix="tree/")["KeyCount"] == 0
    finally:
        tools.aws_cmd("s3", "rb", "--force", f"s3://{b}", check=False)
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_aws_cli_s3api_multipart_and_conditional(tools, s3, bucket, tmp_path):
    # Goal: s3api create-multipart-upload / upload-part / list-parts / complete-multipart-upload with
    # the ETag computed here; put-object --if-none-match '*' twice (second: PreconditionFailed);
    # get-object with --if-match and --range.
    p1, p2 = payload(5 * MiB, seed=95), b"last part"
    (tmp_path / "p1").write_bytes(p1)
    (tmp_path / "p2").write_bytes(p2)
    up = json.loads(tools.aws_cmd("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp").stdout)["UploadId"]
    e1 = json.loads(tools.aws_cmd("s3api", "upload-part", "--bucket", bucket, "--key", "mp", "--upload-id", up,
                                  "--part-number", "1", "--body", str(tmp_path / "p1")).stdout)["ETag"]
    e2 = json.loads(tools.aws_cmd("s3api", "upload-part", "--bucket", bucket, "--key", "mp", "--upload-id", up,
                                  "--part-number", "2", "--body", str(tmp_path / "p2")).stdout)["ETag"]
    assert (e1, e2) == (f'"{md5_hex(p1)}"', f'"{md5_hex(p2)}"')
    parts = json.loads(tools.aws_cmd("s3api", "list-parts", "--bucket", bucket, "--key", "mp", "--upload-id", up).stdout)
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, len(p1)), (2, len(p2))]
    (tmp_path / "parts.json").write_text(json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}))
    done = json.loads(tools.aws_cmd("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp",
                                    "--upload-id", up, "--multipart-upload", f"file://{tmp_path / 'parts.json'}").stdout)
    assert done["ETag"] == multipart_etag([p1, p2])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == p1 + p2

    (tmp_path / "v1").write_bytes(b"version one")
    first = json.loads(tools.aws_cmd("s3api", "put-object", "--bucket", bucket, "--key", "cond", "--body",
                                     str(tmp_path / "v1"), "--if-none-match", "*").stdout)
    assert first["ETag"] == f'"{md5_hex(b"version one")}"'
    second = tools.aws_cmd("s3api", "put-object", "--bucket", bucket, "--key", "cond", "--body",
                           str(tmp_path / "p2"), "--if-none-match", "*", check=False)
    assert second.returncode != 0 and "PreconditionFailed" in second.stderr, second.stderr
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"version one"

    bad = tools.aws_cmd("s3api", "get-object", "--bucket", bucket, "--key", "cond", "--if-match", '"0000"',
                        str(tmp_path / "x"), check=False)
    assert bad.returncode != 0 and "PreconditionFailed" in bad.stderr, bad.stderr
    got = json.loads(tools.aws_cmd("s3api", "get-object", "--bucket", bucket, "--key", "cond", "--if-match",
                                   first["ETag"], "--range", "bytes=0-6", str(tmp_path / "out")).stdout)
    assert got["ContentRange"] == "bytes 0-6/11" and (tmp_path / "out").read_bytes() == b"version"


# ---------------------------------------------------------------------------------------------------
# rclone


@pytest.mark.slow
def test_rclone_copy_sync_check(tools, s3, bucket, tmp_path):
    # Goal: rclone copy, check (0 differences), sync after local changes (mirrors deletes), check
    # again, and copy back; a 12 MiB file goes multipart (upload cutoff 5 MiB).
    src = tmp_path / "src"
    files = make_tree(src)
    (src / "dir3").mkdir()
    (src / "dir3" / "multi.bin").write_bytes(payload(12 * MiB + 5, seed=96))
    remote = f"{tools.rclone_remote}:{bucket}/rc"
    opts = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", "--transfers", "4", "--retries", "1",
            "--low-level-retries", "1"]
    tools.rclone_cmd("copy", str(src), remote, *opts)
    assert remote_tree(s3, bucket, "rc/") == read_tree(src)
    assert s3.head_object(Bucket=bucket, Key="rc/dir3/multi.bin")["ETag"].endswith('-3"')
    check = tools.rclone_cmd("check", str(src), remote)
    assert "0 differences found" in check.stderr, check.stderr

    (src / "a.txt").write_bytes(b"changed by sync test\n")
    (src / "dir1" / "sub" / "c.bin").unlink()
    (src / "dir2" / "f.txt").write_bytes(b"added\n")
    tools.rclone_cmd("sync", str(src), remote, *opts)
    assert remote_tree(s3, bucket, "rc/") == read_tree(src)
    check = tools.rclone_cmd("check", str(src), remote)
    assert "0 differences found" in check.stderr, check.stderr

    listed = json.loads(tools.rclone_cmd("lsjson", "-R", "--files-only", remote).stdout)
    assert sorted(x["Path"] for x in listed) == sorted(read_tree(src))
    assert {x["Path"]: x["Size"] for x in listed} == {k: len(v) for k, v in read_tree(src).items()}

    down = tmp_path / "down"
    tools.rclone_cmd("copy", remote, str(down), *opts)
    assert read_tree(down) == read_tree(src)

    # A check that must find a difference: change a remote object behind rclone's back.
    s3.put_object(Bucket=bucket, Key="rc/a.txt", Body=b"tampered remotely\n")
    bad = tools.rclone_cmd("check", str(src), remote, check=False)
    assert bad.returncode != 0 and "1 differences found" in bad.stderr, bad.stderr


# ---------------------------------------------------------------------------------------------------
# s5cmd


@pytest.mark.slow
def test_s5cmd_parallel_cp_ls_rm(tools, s3, bucket, tmp_path):
    # Goal: s5cmd uploads 300 files in parallel (--numworkers 32), lists them, downloads them back in
    # parallel, and removes them with a wildcard; bytes and counts match at every step.
    src = tmp_path / "many"
    files = {}
    for i in range(300):
        rel = f"d{i % 7}/f{i:03d}.dat"
        data = payload(1000 + i * 37, seed=1000 + i)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
        files[rel] = data
    (src / "big.bin").write_bytes(payload(7 * MiB, seed=97))
    files["big.bin"] = (src / "big.bin").read_bytes()

    tools.s5cmd_cmd("--numworkers", "32", "cp", f"{src}/*", f"s3://{bucket}/s5/")
    assert remote_tree(s3, bucket, "s5/") == files

    ls = tools.s5cmd_cmd("ls", f"s3://{bucket}/s5/*").stdout
    lines = [line for line in ls.splitlines() if line.strip()]
    assert len(lines) == len(files)
    # Lines look like "2026/01/02 03:04:05      1234  d0/f000.dat" (path relative to the wildcard).
    assert {line.split()[-1]: int(line.split()[-2]) for line in lines} == {k: len(v) for k, v in files.items()}
    top = tools.s5cmd_cmd("ls", f"s3://{bucket}/s5/").stdout
    assert sum("DIR" in line for line in top.splitlines()) == 7

    down = tmp_path / "down"
    down.mkdir()
    tools.s5cmd_cmd("--numworkers", "32", "cp", f"s3://{bucket}/s5/*", f"{down}/")
    assert read_tree(down) == files

    tools.s5cmd_cmd("--numworkers", "32", "rm", f"s3://{bucket}/s5/*")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="s5/")["KeyCount"] == 0
    empty = tools.s5cmd_cmd("ls", f"s3://{bucket}/s5/*", check=False)
    assert "s5/" not in empty.stdout


def test_s5cmd_cat_and_md5(tools, s3, bucket):
    # Goal: s5cmd cat streams an object's exact bytes (a GET through s5cmd's own client).
    data = payload(2 * MiB + 1, seed=98)
    s3.put_object(Bucket=bucket, Key="cat.bin", Body=data)
    import subprocess
    proc = subprocess.run([tools.s5cmd, "--endpoint-url", tools.endpoint, "cat", f"s3://{bucket}/cat.bin"],
                          env=tools.env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(proc.stdout).digest() == hashlib.sha256(data).digest()


def test_aws_cli_list_object_versions_and_delete(tools, s3, bucket):
    # Goal: `aws s3api list-object-versions` lists every object as version "null" (latest), with
    # pagination by the CLI itself (--page-size); `delete-objects` with those version ids empties the
    # bucket, and `rb` removes it although a multipart upload is still open (AWS aborts it).
    keys = [f"dir/{i}" for i in range(5)] + ["top"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    out = json.loads(tools.aws_cmd("s3api", "list-object-versions", "--bucket", bucket, "--page-size", "2").stdout)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [(k, "null", True) for k in keys]
    out = json.loads(tools.aws_cmd("s3api", "list-object-versions", "--bucket", bucket, "--delimiter", "/").stdout)
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/"]
    assert [v["Key"] for v in out["Versions"]] == ["top"]
    delete = {"Objects": [{"Key": k, "VersionId": "null"} for k in keys], "Quiet": True}
    out = tools.aws_cmd("s3api", "delete-objects", "--bucket", bucket, "--delete", json.dumps(delete)).stdout
    assert "Errors" not in (json.loads(out) if out.strip() else {})
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.create_multipart_upload(Bucket=bucket, Key="open")
    tools.aws_cmd("s3", "rb", f"s3://{bucket}")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
