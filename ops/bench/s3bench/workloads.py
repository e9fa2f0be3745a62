"""What runs against each S3 system: wrk rows (the throughput figures) and real-client rows.

wrk rows replay presigned URLs: PUT of distinct keys with a body of the row's size, GET of the objects the
real-client PUT rows created, and the list-10k pages (ListObjectsV2, 1000 keys a page, start-after). The
real-client rows are s5cmd (PUT, GET, ls, DeleteObjects) and boto3 (DeleteObject one by one, sequential
latency), as a user would run them.
"""

import filecmp
import hashlib
import math
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from siloprocs import own_cpu_seconds

from .config import (ACCESS_KEY, BUCKET, DELETE_BATCH_KEYS, DISK_RESERVE, LATENCY_OPS, LIST_BIG_PAGE_KEYS,
                     LIST_PAGE_KEYS, MAX_ERROR_SAMPLES, MIB, REGION, SECRET_KEY, STEP_TIMEOUT, VENV_BIN,
                     WRK_PUT_BYTES_BOUND, WRK_PUT_RATE_BOUND, WRK_SECONDS)
from .loadgen import cpu_fields, fmt, probe, run_wrk
from .procs import PROCESSES
from .sigv4 import Presigner


class Dataset:
    """The local files the PUT workloads upload (random bytes, in tmpfs when there is one)."""

    def __init__(self, root, sizes):
        self.root = root
        self.files = {tag: self.make(tag, count, size) for tag, (count, size) in sizes.items()}
        self.sizes = {tag: size for tag, (_count, size) in sizes.items()}

    def make(self, name, count, size):
        folder = self.root / name
        folder.mkdir(parents=True)
        paths = []
        for index in range(count):
            path = folder / f"obj-{index:05d}"
            with open(path, "wb") as handle:
                remaining = size
                while remaining:
                    chunk = min(remaining, 8 * MIB)
                    handle.write(os.urandom(chunk))
                    remaining -= chunk
            paths.append(path)
        return paths


def sample(samples, message):
    if len(samples) < MAX_ERROR_SAMPLES and message not in samples:
        samples.append(message[:600])


# --- real clients: s5cmd --------------------------------------------------------------------------

def s5cmd_env(scratch):
    return dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION,
                AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(scratch / "no-aws-config"),
                AWS_SHARED_CREDENTIALS_FILE=str(scratch / "no-aws-credentials"))


def s5cmd(system, argv, scratch):
    """Run s5cmd with its output; returns (Completed, server CPU seconds it cost)."""
    before = system.cpu_seconds()
    done = PROCESSES.run_bounded([VENV_BIN / "s5cmd", "--retry-count", "0", "--endpoint-url", system.endpoint,
                                  *argv], STEP_TIMEOUT, env=s5cmd_env(scratch))
    return done, system.cpu_seconds() - before


def s5cmd_run(system, workers, commands, scratch):
    """s5cmd `run` over a command file: the row's fields (successes, errors, CPU of both sides)."""
    command_file = scratch / "commands.txt"
    command_file.write_text("\n".join(commands) + "\n")
    done, server_cpu = s5cmd(system, ["--json", "--numworkers", str(workers), "run", command_file], scratch)
    successes = sum(1 for line in done.out.splitlines() if '"success":true' in line.replace(" ", ""))
    errors, samples = 0, []
    for line in done.err.splitlines():
        if line.strip():
            errors += 1
            sample(samples, line.strip())
    if done.rc == "timeout":
        samples.insert(0, f"s5cmd timed out after {STEP_TIMEOUT}s")
    elif done.rc != 0 and errors == 0:
        errors = 1
        samples.append(f"s5cmd exit {done.rc}")
    # Operations that neither succeeded nor reported an error (killed by the timeout) count as errors.
    errors = max(errors, len(commands) - successes)
    fields = {"seconds": fmt(done.seconds, 3), "ops_per_s": fmt(successes / done.seconds, 1), "errors": errors}
    fields.update(cpu_fields(server_cpu, done.seconds, done.cpu_seconds, done.seconds, successes))
    fields.update({"_samples": samples, "_ok": errors == 0, "_rate": successes / done.seconds})
    return fields


def put_workload(system, workers, files, size, prefix, scratch):
    fields = {"objects": len(files), "object_bytes": size}
    fields.update(s5cmd_run(system, workers, [f"cp {path} s3://{BUCKET}/{prefix}/{path.name}" for path in files],
                            scratch))
    fields["mib_per_s"] = fmt(fields["_rate"] * size / MIB, 2)
    return fields


def get_workload(system, workers, files, size, prefix, scratch):
    target = scratch / "get"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    fields = {"objects": len(files), "object_bytes": size}
    fields.update(s5cmd_run(system, workers, [f"cp s3://{BUCKET}/{prefix}/{path.name} {target / path.name}"
                                              for path in files], scratch))
    fields["mib_per_s"] = fmt(fields["_rate"] * size / MIB, 2)
    # Check what came back, outside the timed part: a wrong byte is an error, not a success.
    corrupt = 0
    for path in files:
        got = target / path.name
        if got.exists() and not filecmp.cmp(path, got, shallow=False):
            corrupt += 1
            sample(fields["_samples"], f"GET {prefix}/{path.name}: body differs from what was PUT "
                                       f"({got.stat().st_size} bytes, expected {path.stat().st_size})")
    fields["corrupt"] = corrupt
    fields["errors"] += corrupt
    fields["_ok"] = fields["errors"] == 0
    shutil.rmtree(target, ignore_errors=True)
    return fields


def list_workload(system, prefix, expected_keys, scratch):
    """`s5cmd ls` of every key under prefix (ListObjectsV2, 1000 keys a page), once."""
    done, server_cpu = s5cmd(system, ["ls", f"s3://{BUCKET}/{prefix}/"], scratch)
    keys = sum(1 for line in done.out.splitlines() if line.strip())
    errors, samples = 0, []
    if done.rc != 0 or keys != expected_keys:
        errors = 1
        sample(samples, f"ls {prefix}/: rc={done.rc} keys={keys} expected={expected_keys} {done.err.strip()[:400]}")
    fields = {"keys": expected_keys, "seconds": fmt(done.seconds, 3), "keys_per_s": fmt(keys / done.seconds, 0),
              "errors": errors}
    pages = max(1, math.ceil(expected_keys / LIST_BIG_PAGE_KEYS))
    fields.update(cpu_fields(server_cpu, done.seconds, done.cpu_seconds, done.seconds, pages))
    fields.update({"_samples": samples, "_ok": errors == 0, "_rate": 1 / done.seconds})
    return fields


def delete_batches(system, workers, keys, scratch):
    """DeleteObjects with DELETE_BATCH_KEYS keys a request (s5cmd rm with explicit keys), `workers` at once."""
    commands = ["rm " + " ".join(f"s3://{BUCKET}/{key}" for key in keys[start:start + DELETE_BATCH_KEYS])
                for start in range(0, len(keys), DELETE_BATCH_KEYS)]
    fields = {"objects": len(keys), "batch_keys": DELETE_BATCH_KEYS}
    fields.update(s5cmd_run(system, workers, commands, scratch))
    return fields


# --- real clients: boto3 --------------------------------------------------------------------------

class Timed:
    """Server and client (this process) CPU over a block of boto3 requests."""

    def __init__(self, system):
        self.system = system

    def __enter__(self):
        self.server, self.client, self.started = self.system.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        return self

    def fields(self, ops):
        seconds = time.perf_counter() - self.started
        return seconds, cpu_fields(self.system.cpu_seconds() - self.server, seconds, own_cpu_seconds() - self.client,
                                   seconds, ops)

    def __exit__(self, *_):
        return False


def delete_one_by_one(system, workers, keys):
    """DeleteObject per key with boto3, `workers` requests in flight."""
    client = system.client(workers)
    errors, samples = [0], []
    lock = threading.Lock()

    def delete(key):
        try:
            client.delete_object(Bucket=BUCKET, Key=key)
        except Exception as error:  # noqa: BLE001 - every failure is counted and sampled
            with lock:
                errors[0] += 1
                sample(samples, f"DeleteObject {key}: {error}")

    with Timed(system) as timed:
        pool = ThreadPoolExecutor(max_workers=workers)
        futures = [pool.submit(delete, key) for key in keys]
        done = 0
        try:
            for future in futures:
                future.result(timeout=max(0.0, STEP_TIMEOUT - (time.perf_counter() - timed.started)))
                done += 1
        except TimeoutError:
            samples.insert(0, f"timed out after {STEP_TIMEOUT}s with {len(keys) - done} deletes unfinished")
            errors[0] += len(keys) - done
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        ok = max(0, len(keys) - errors[0])
        seconds, cpu = timed.fields(ok)
    fields = {"objects": len(keys), "seconds": fmt(seconds, 3), "ops_per_s": fmt(ok / seconds, 1),
              "errors": errors[0]}
    fields.update(cpu)
    fields.update({"_samples": samples, "_ok": errors[0] == 0, "_rate": ok / seconds})
    return fields


def remaining_keys(system, prefix):
    paginator = system.client().get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix + "/"))


def delete_keys(system, keys):
    """DeleteObjects of keys (existing or not), 1000 a request, 4 in flight; untimed clean-up."""
    client = system.client(4)
    batches = [keys[start:start + DELETE_BATCH_KEYS] for start in range(0, len(keys), DELETE_BATCH_KEYS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda batch: client.delete_objects(
            Bucket=BUCKET, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}), batches))


def percentile(sorted_values, pct):
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(pct / 100 * len(sorted_values)) - 1)]


def latency_workloads(system, payload):
    """Sequential boto3 requests (one in flight): PUT, GET, HEAD, then LIST pages of LIST_PAGE_KEYS keys."""
    client = system.client()
    keys = [f"lat/obj-{index:05d}" for index in range(LATENCY_OPS)]
    results = {}

    def measure(name, operation, items):
        timings, errors, samples = [], 0, []
        deadline = time.monotonic() + STEP_TIMEOUT
        with Timed(system) as timed:
            for item in items:
                if time.monotonic() > deadline:
                    errors += 1
                    sample(samples, f"{name}: step timed out after {STEP_TIMEOUT}s")
                    continue
                started = time.perf_counter()
                try:
                    operation(item)
                    timings.append(time.perf_counter() - started)
                except Exception as error:  # noqa: BLE001 - counted and sampled
                    errors += 1
                    sample(samples, f"{name} {item}: {error}")
            _seconds, cpu = timed.fields(len(timings))
        timings.sort()
        fields = {"ops": len(items), "p50_ms": fmt(percentile(timings, 50) * 1000, 3),
                  "p99_ms": fmt(percentile(timings, 99) * 1000, 3), "errors": errors}
        fields.update(cpu)
        fields.update({"_samples": samples, "_ok": errors == 0 and bool(timings), "_p50": percentile(timings, 50)})
        results[name] = fields

    def get(key):
        body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if body != payload:
            raise ValueError(f"body differs ({len(body)} bytes)")

    def list_page(_):
        page = client.list_objects_v2(Bucket=BUCKET, Prefix="lat/", MaxKeys=LIST_PAGE_KEYS)
        if page.get("KeyCount", 0) != min(LIST_PAGE_KEYS, LATENCY_OPS):
            raise ValueError(f"KeyCount {page.get('KeyCount')}")

    measure("lat-put", lambda key: client.put_object(Bucket=BUCKET, Key=key, Body=payload), keys)
    measure("lat-get", get, keys)
    measure("lat-head", lambda key: client.head_object(Bucket=BUCKET, Key=key), keys)
    measure("lat-list", list_page, range(LATENCY_OPS))
    results["lat-list"]["page_keys"] = LIST_PAGE_KEYS
    return results


# --- wrk rows -------------------------------------------------------------------------------------

def presigner(system):
    return Presigner(system.host, ACCESS_KEY, SECRET_KEY, REGION)


def same_bytes(system, key, path):
    """GET key with boto3 and compare it with the local file, by SHA-256 in 8 MiB pieces."""
    body = system.client().get_object(Bucket=BUCKET, Key=key)["Body"]
    got, want = hashlib.sha256(), hashlib.sha256()
    for piece in iter(lambda: body.read(8 * MIB), b""):
        got.update(piece)
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(8 * MIB), b""):
            want.update(piece)
    return got.digest() == want.digest()


def body_check(system, key, path, when):
    """None when key holds the bytes of path, else what is wrong (checked outside the timed part)."""
    try:
        return None if same_bytes(system, key, path) else f"GET {key} {when}: body differs from what was PUT"
    except Exception as error:  # noqa: BLE001 - reported as the row's error
        return f"GET {key} {when}: {error}"


def add_errors(fields, messages):
    """Count each message as an error of the row (and sample it)."""
    for message in messages:
        if message:
            fields["errors"] = fields.get("errors", 0) + 1
            fields["_ok"] = False
            sample(fields.setdefault("_samples", []), message)
    return fields


def wrk_put(system, tag, size, connections, run, body_file, scratch):
    """PUT of distinct keys (each with the body of body_file) for WRK_SECONDS, then check and clean up."""
    count = max(connections * 4, min(WRK_PUT_RATE_BOUND[tag] * WRK_SECONDS, WRK_PUT_BYTES_BOUND // size))
    free = shutil.disk_usage(system.workdir).free
    if free < count * size + DISK_RESERVE:
        return add_errors({"_rate": 0.0, "_server_cpu_ms": float("nan")},
                          [f"skipped: {free // MIB} MiB free, the run may write {count * size // MIB} MiB"])
    keys = [f"wrk/put-{tag}-c{connections}/r{run}/k{index:07d}" for index in range(count)]
    signer = presigner(system)
    targets = [f"PUT {signer.target('PUT', BUCKET, key)}" for key in keys]
    fields = run_wrk(system, targets, connections, WRK_SECONDS, scratch, size, body_file, timeout_s=20)
    fields["distinct_keys"] = count
    fields["key_reuse"] = fields.pop("_reused", 0)
    if fields.get("ops"):
        # Thread 0's first request goes to wrk's own request check and is not sent; its second is.
        probe_key = keys[fields["threads"]] if len(keys) > fields["threads"] else keys[0]
        add_errors(fields, [body_check(system, probe_key, body_file, "after the PUT run")])
    used = keys[:fields.pop("_used", len(keys))]
    delete_keys(system, used)
    system.reclaim(len(used) * size)
    return fields


def wrk_get(system, connections, keys, files, size, scratch):
    """GET of existing objects (keys[i] holds files[i]), cycling over them, for WRK_SECONDS."""
    signer = presigner(system)
    targets = [f"GET {signer.target('GET', BUCKET, key)}" for key in keys]
    before = body_check(system, keys[0], files[0], "before the run")
    fields = run_wrk(system, targets, connections, WRK_SECONDS, scratch, size, timeout_s=20)
    return add_errors(fields, [before])


def wrk_list(system, prefix, keys, scratch):
    """ListObjectsV2 pages of LIST_BIG_PAGE_KEYS keys (start-after, so presignable) of keys, one in flight."""
    signer = presigner(system)
    ordered = sorted(keys)
    pages = []
    for start in range(0, len(ordered), LIST_BIG_PAGE_KEYS):
        params = {"list-type": "2", "prefix": f"{prefix}/", "max-keys": str(LIST_BIG_PAGE_KEYS)}
        if start:
            params["start-after"] = ordered[start - 1]
        pages.append((f"GET {signer.target('GET', BUCKET, '', params)}",
                      len(ordered[start:start + LIST_BIG_PAGE_KEYS])))
    samples = []
    for target, expected in pages:  # check every page once, outside the timed part
        got = list_page_keys(system, target)
        if got != expected:
            sample(samples, f"page {target.split('start-after=')[-1][:60]}: {got} keys, expected {expected}")
    fields = run_wrk(system, [target for target, _ in pages], 1, WRK_SECONDS, scratch, 0)
    fields.pop("mib_per_s", None)
    fields.pop("object_bytes", None)
    fields["keys"] = len(keys)
    fields["page_keys"] = LIST_BIG_PAGE_KEYS
    rate = fields["_rate"] / len(pages)  # complete listings a second
    fields["lists_per_s"] = fmt(rate, 2)
    fields["_rate"] = rate
    return add_errors(fields, samples)


def list_page_keys(system, target):
    import urllib.request
    try:
        with urllib.request.urlopen(f"{system.endpoint}{target.split(' ', 1)[1]}", timeout=60) as response:
            return response.read().count(b"<Key>")
    except OSError as error:
        return f"error {error}: {probe(system, target)}"
