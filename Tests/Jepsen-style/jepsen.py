"""Silo's Jepsen-style harness (JEPSEN-SPEC Part B, first version).

One run: start a cluster (ops/pylib/cluster.py: meta/blob/gateway processes, or one `silo server`), run
the W1 register and W3 set workloads with concurrent clients through every S3 endpoint, inject faults on a
schedule drawn from the seed, heal everything, restart every process (kill -9), read everything back, and
check each history with `silo-jepsen check`. The run passes only if every checker says VALID and the
sanity, coverage and recovery rules hold; an inconclusive check is a failure. Every process the run
started is stopped by pid at the end (namespaces removed), also on failure or interrupt.

Exit status: 0 pass, 1 anomaly or rule failure, 3 inconclusive, 4 vacuous (too few operations or a
scenario that did not happen), 2 harness error (the cluster would not start, a binary is missing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "ops" / "pylib"))
sys.path.insert(0, str(HERE))
from cluster import Cluster, ClusterError  # noqa: E402
from siloprocs import free_port  # noqa: E402
from s3lite import S3, S3_NS  # noqa: E402
import latency as latency_svg  # noqa: E402

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_INCONCLUSIVE, EXIT_VACUOUS = 0, 1, 2, 3, 4


# The cluster's gateway g1 runs the chunk repairer this often; after the last blob disk fault a clean pass
# must follow within REPAIR_BOUND_S of the final heal (K-blob).
REPAIR_EVERY_S = 2
REPAIR_BOUND_S = 60


class HarnessError(RuntimeError):
    pass


class NoRecovery(RuntimeError):
    """A Silo process did not come back after a fault (it refused to start, or never got ready): a failure
    of the system under test (FAIL), not of the harness."""


# ---------------------------------------------------------------------------------------------------
# History (silo-history/1, JEPSEN-SPEC §6.5)


class Clock:
    """The one monotonic clock of the run, in nanoseconds from the run's start."""

    def __init__(self) -> None:
        self.origin = time.monotonic_ns()

    def now(self) -> int:
        return time.monotonic_ns() - self.origin


class HistoryFile:
    """Appends events with strictly increasing index; the time is read under the same lock, so index order
    and time order agree. Invoke times are taken before the request is sent, completion times after the
    whole response body was read."""

    def __init__(self, path: Path, header: dict, clock: Clock):
        self.path = path
        self.clock = clock
        self.lock = threading.Lock()
        self.index = 0
        self.counts: dict[tuple[str, str], int] = {}
        self.handle = open(path, "w", encoding="utf-8")
        self.handle.write(json.dumps({"kind": "header", "format": "silo-history/1", **header},
                                     separators=(",", ":")) + "\n")

    def record(self, **event) -> int:
        with self.lock:
            event["time"] = self.clock.now()
            line = {"index": self.index, **event}
            self.index += 1
            self.handle.write(json.dumps(line, separators=(",", ":")) + "\n")
            if event.get("kind") == "op" and event["type"] != "invoke":
                key = (event["f"], event["type"])
                self.counts[key] = self.counts.get(key, 0) + 1
            return event["time"]

    def close(self) -> None:
        with self.lock:
            self.handle.close()


def classify_write(status: int | None, error_code: str | None) -> str:
    """ok / fail / info for a write's response (JEPSEN-SPEC §6.5): fail only when the response proves that
    nothing was applied; anything server-side or unknown is info."""
    if status is None:
        return "info"
    if 200 <= status < 300:
        return "ok"
    if status in (408, 429) or status >= 500:
        return "info"
    return "fail"  # 412 PreconditionFailed, 409 ConditionalRequestConflict, 404 NoSuchBucket, 403 ...


def transport_error(error: BaseException) -> str:
    name = type(error).__name__
    if "timeout" in name.lower() or "timed out" in str(error):
        return "timeout"
    return f"connection: {name}: {error}"[:200]


# ---------------------------------------------------------------------------------------------------
# Workers


@dataclass
class Context:
    """What every worker shares."""

    run_id: str
    bucket: str
    endpoints: list[tuple[str, str]]  # (gateway name, URL)
    access_key: str
    secret_key: str
    timeout: float
    stop: threading.Event
    clock: Clock
    args: argparse.Namespace
    errors: list[str] = field(default_factory=list)
    # What a workload's own inline checks found (K-multipart): each fails the run.
    violations: list[str] = field(default_factory=list)


class Worker(threading.Thread):
    """One client: at most one outstanding operation; after an `info` its process id is retired and it
    continues as process + concurrency (Jepsen's rule)."""

    def __init__(self, ctx: Context, history: HistoryFile, process: int, concurrency: int, rng: random.Random,
                 rate: float):
        super().__init__(daemon=True, name=f"{type(self).__name__}-{process}")
        self.ctx, self.history, self.process, self.concurrency, self.rng = ctx, history, process, concurrency, rng
        self.seq = 0
        self.pause_mean = concurrency / rate if rate > 0 else 0
        self.gateway_index = process % len(ctx.endpoints)
        self.clients: dict[int, S3] = {}
        self.bucket = ctx.bucket  # W7 writes to a versioned bucket of its own

    def client(self) -> tuple[str, S3]:
        name, url = self.ctx.endpoints[self.gateway_index]
        if self.gateway_index not in self.clients:
            self.clients[self.gateway_index] = S3(url, self.ctx.access_key, self.ctx.secret_key, self.ctx.timeout)
        return name, self.clients[self.gateway_index]

    def next_value(self) -> str:
        self.seq += 1
        return f"{self.ctx.run_id}/{self.process}/{self.seq}"

    def retire(self) -> None:
        self.process += self.concurrency
        # The next operation goes through another gateway (N20: a client retries elsewhere).
        self.gateway_index = (self.gateway_index + 1) % len(self.ctx.endpoints)

    def call(self, f: str, key: str, value, method: str, object_key: str | None, headers=None, body=b"",
             query=None, read=False, decode=None):
        """Invoke, send once, complete. Returns (type, response or None)."""
        gw, client = self.client()
        invoke = {"kind": "op", "type": "invoke", "process": self.process, "f": f, "key": key, "gw": gw}
        if value is not None:
            invoke["value"] = value
        self.history.record(**invoke)
        done = {"kind": "op", "process": self.process, "f": f, "key": key, "gw": gw}
        try:
            response = client.request(method, self.bucket, object_key, query=query, headers=headers, body=body)
        except Exception as error:  # noqa: BLE001 - any transport failure: the outcome is unknown
            # A refused connection never carried the request: a definite no-op. Anything else (a reset, a
            # broken pipe, a timeout) may have reached the server: unknown, unless it was a read.
            outcome = "fail" if read or isinstance(error, ConnectionRefusedError) else "info"
            if value is not None and not read:
                done["value"] = value
            self.history.record(**done, type=outcome, error=transport_error(error))
            if outcome == "info":
                self.retire()
            else:  # the next operation goes through another gateway (N20)
                self.gateway_index = (self.gateway_index + 1) % len(self.ctx.endpoints)
            return outcome, None
        done.update(http=response.status)
        if response.etag:
            done["etag"] = response.etag
        if response.request_id:
            done["req_id"] = response.request_id
        if read:
            if response.status == 200 or (response.status == 404 and response.error_code == "NoSuchKey"):
                try:
                    done["value"] = decode(response)
                    self.history.record(**done, type="ok")
                    return "ok", response
                except Exception as error:  # noqa: BLE001 - an unparsable body: a failed read, no effect
                    self.history.record(**done, type="fail", error=f"undecodable: {error}"[:200])
                    return "fail", response
            self.history.record(**done, type="fail", error=response.error_code or f"http {response.status}")
            return "fail", response
        outcome = classify_write(response.status, response.error_code)
        if value is not None:
            done["value"] = value
        if outcome != "ok":
            done["error"] = response.error_code or f"http {response.status}"
        self.history.record(**done, type=outcome)
        if outcome == "info":
            self.retire()
        return outcome, response

    def run(self) -> None:
        try:
            while not self.ctx.stop.is_set():
                self.step()
                if self.pause_mean:
                    self.ctx.stop.wait(self.rng.uniform(0, 2 * self.pause_mean))
        except Exception:  # noqa: BLE001 - a harness bug must fail the run, loudly
            self.ctx.errors.append(f"{self.name}: {traceback.format_exc()}")
            self.ctx.stop.set()
        finally:
            for client in self.clients.values():
                client.close()


def etag_of(value: str) -> str:
    return '"' + hashlib.md5(value.encode()).hexdigest() + '"'


class RegisterKeys:
    """The W1 key space: `live` keys at once, each retired after its jittered operation budget."""

    def __init__(self, rng: random.Random, live: int, ops_per_key: int, prefix: str = "r"):
        self.lock = threading.Lock()
        self.rng = rng
        self.prefix = prefix
        self.ops_per_key = ops_per_key
        self.next_id = 0
        self.live: list[list] = []  # [key, remaining budget]
        self.all: list[str] = []
        self.recent: dict[str, list[str]] = {}  # key -> recent values written (targets for cas)
        for _ in range(live):
            self._add()

    def _add(self) -> None:
        key = f"{self.prefix}/{self.next_id}"
        self.next_id += 1
        self.live.append([key, max(1, int(self.ops_per_key * self.rng.uniform(0.9, 1.0)))])
        self.all.append(key)
        self.recent[key] = []

    def pick(self, rng: random.Random) -> str:
        with self.lock:
            slot = rng.randrange(len(self.live))
            self.live[slot][1] -= 1
            key = self.live[slot][0]
            if self.live[slot][1] <= 0:
                self.live.pop(slot)
                self._add()
            return key

    def note_value(self, key: str, value: str) -> None:
        with self.lock:
            values = self.recent[key]
            values.append(value)
            del values[:-8]

    def recent_value(self, key: str, rng: random.Random) -> str | None:
        with self.lock:
            values = self.recent[key]
            return rng.choice(values) if values else None


class RegisterWorker(Worker):
    """W1: get 40%, put 15%, create 15%, cas 20%, delete 10% on a few live keys."""

    keys: RegisterKeys
    stale_cache: dict

    def __init__(self, *args, keys: RegisterKeys, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys
        self.last_read: dict[str, str] = {}
        self.first_read: dict[str, str] = {}  # for the planted stale-read bug

    def decode(self, response) -> str | None:
        if response.status == 404:
            return None
        return response.body.decode()

    def get(self, key: str) -> str:
        stale = self.ctx.args.fault_inject_stale_read
        if stale and key in self.first_read and self.rng.random() < stale:
            # The planted bug (client side only): answer from an old read instead of asking the server.
            gw, _ = self.client()
            self.history.record(kind="op", type="invoke", process=self.process, f="get", key=key, gw=gw)
            self.history.record(kind="op", type="ok", process=self.process, f="get", key=key, gw=gw,
                                value=self.first_read[key], http=200, planted="stale-read")
            return "ok"
        outcome, response = self.call("get", key, None, "GET", key, read=True, decode=self.decode)
        if outcome == "ok" and response.status == 200:
            value = response.body.decode()
            self.last_read[key] = value
            self.first_read.setdefault(key, value)
        elif outcome == "ok":
            self.last_read.pop(key, None)
        return outcome

    def step(self) -> None:
        key = self.keys.pick(self.rng)
        roll = self.rng.random()
        if roll < 0.40:
            self.get(key)
        elif roll < 0.55:
            value = self.next_value()
            self.keys.note_value(key, value)
            self.call("put", key, value, "PUT", key, body=value.encode())
        elif roll < 0.70:
            value = self.next_value()
            self.keys.note_value(key, value)
            self.call("create", key, value, "PUT", key, headers={"If-None-Match": "*"}, body=value.encode())
        elif roll < 0.90:
            target = self.last_read.get(key) if self.rng.random() < 0.7 else None
            target = target or self.keys.recent_value(key, self.rng)
            if target is None:
                self.get(key)
                return
            value = self.next_value()
            self.keys.note_value(key, value)
            outcome, _ = self.call("cas", key, {"from": target, "to": value}, "PUT", key,
                                   headers={"If-Match": etag_of(target)}, body=value.encode())
            if outcome == "ok":
                self.last_read[key] = value
        else:
            self.call("delete", key, None, "DELETE", key)
            self.last_read.pop(key, None)


class BlobWorker(Worker):
    """W6 large objects: put 35% / get 65% on a few live keys `b/<n>` of 256 KiB to 3 MiB (one to three 1 MiB
    chunks each, spread over the ring). The value recorded is `sha256:<32 hex>:<size>` of the body sent, and a
    read records the same digest of the body it got, so the register model sees wrong, torn or mixed bytes as
    a value never written (checked with `--model s3-register`, as W1)."""

    def __init__(self, *args, keys: RegisterKeys, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys

    @staticmethod
    def digest(body: bytes) -> str:
        return f"sha256:{hashlib.sha256(body).hexdigest()[:32]}:{len(body)}"

    def decode(self, response) -> str | None:
        return None if response.status == 404 else self.digest(response.body)

    def get(self, key: str) -> str:
        outcome, _ = self.call("get", key, None, "GET", key, read=True, decode=self.decode)
        return outcome

    def step(self) -> None:
        key = self.keys.pick(self.rng)
        if self.rng.random() < 0.35:
            body = self.rng.randbytes(self.rng.randint(256 << 10, 3 << 20))
            self.call("put", key, self.digest(body), "PUT", key, body=body)
        else:
            self.get(key)


class MultipartWorker(Worker):
    """W4 multipart atomicity, on a few live keys `m/<n>`. An upload is one register write (f `put`, or
    `create` with `If-None-Match: *` on Complete, 15%) whose value is the digest of the body its parts
    assemble (`sha256:<32 hex>:<size>`, as W6): CreateMultipartUpload, one or two parts (a 5 MiB first part
    and a small last one, or a single part of 64 KiB-1 MiB), sometimes a part re-uploaded with other bytes
    (the last upload wins), then Complete. The write is `fail` unless Complete was sent (nothing can become
    visible without it), else as Complete answered. 10% of the uploads are aborted instead and recorded
    nowhere, so a GET that ever returns their bytes reads a value never written (an anomaly for
    `--model s3-register`), as does any mix or truncation of parts. Reads are plain GETs (55%).
    Checked inline (K-multipart, in `ctx.violations`): the ETag of an ok Complete is MD5(part MD5s)-P of the
    parts named, and an UploadPart to an upload that completed or was aborted answers NoSuchUpload."""

    PART_MIN = 5 << 20  # S3's minimum size of every part but the last (the gateways keep it)

    def __init__(self, *args, keys: RegisterKeys, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys

    def decode(self, response) -> str | None:
        return None if response.status == 404 else BlobWorker.digest(response.body)

    def get(self, key: str) -> str:
        outcome, _ = self.call("get", key, None, "GET", key, read=True, decode=self.decode)
        return outcome

    def violation(self, text: str) -> None:
        self.ctx.violations.append(f"K-multipart: {text}")

    def bodies(self) -> list[bytes]:
        if self.rng.random() < 0.5:
            return [self.rng.randbytes(self.rng.randint(64 << 10, 1 << 20))]
        return [self.rng.randbytes(self.PART_MIN), self.rng.randbytes(self.rng.randint(1, 256 << 10))]

    def raw(self, method: str, key: str, query, body=b"", headers=None):
        """One request outside the history (the steps of an upload): the response, or None on a transport error."""
        _, client = self.client()
        try:
            return client.request(method, self.ctx.bucket, key, query=query, headers=headers, body=body)
        except Exception:  # noqa: BLE001 - the step's outcome is unknown; the caller decides what that means
            return None

    def create_upload(self, key: str) -> str | None:
        response = self.raw("POST", key, [("uploads", "")])
        if response is None or response.status != 200:
            return None
        return ET.fromstring(response.body).findtext(f"{S3_NS}UploadId")

    def upload_part(self, key: str, upload: str, number: int, body: bytes):
        return self.raw("PUT", key, [("partNumber", str(number)), ("uploadId", upload)], body=body)

    def expect_no_such_upload(self, key: str, upload: str, after: str) -> None:
        response = self.upload_part(key, upload, 1, b"late")
        if response is not None and response.status == 200:
            self.violation(f"UploadPart to {key} upload {upload} succeeded after its {after}")

    def step(self) -> None:
        key = self.keys.pick(self.rng)
        roll = self.rng.random()
        if roll < 0.55:
            self.get(key)
            return
        parts = self.bodies()
        if roll < 0.60:
            self.abort_one(key, parts)
            return
        f = "create" if self.rng.random() < 0.15 else "put"
        value = BlobWorker.digest(b"".join(parts))
        self.keys.note_value(key, value)
        gw, _ = self.client()
        self.history.record(kind="op", type="invoke", process=self.process, f=f, key=key, gw=gw, value=value)
        done = {"kind": "op", "process": self.process, "f": f, "key": key, "gw": gw, "value": value}
        upload = self.create_upload(key)
        if upload is None:
            self.history.record(**done, type="fail", error="create-multipart-upload")
            return
        etags: list[str] = []
        for number, body in enumerate(parts, start=1):
            if number == 1 and self.rng.random() < 0.15:
                self.upload_part(key, upload, number, self.rng.randbytes(len(body)))  # replaced just below
            response = self.upload_part(key, upload, number, body)
            if response is None or response.status != 200 or not response.etag:
                self.raw("DELETE", key, [("uploadId", upload)])
                self.history.record(**done, type="fail", error=f"upload-part {number}")
                return
            etags.append(response.etag)
        xml = "<CompleteMultipartUpload>" + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags, start=1)
        ) + "</CompleteMultipartUpload>"
        headers = {"If-None-Match": "*"} if f == "create" else None
        _, client = self.client()
        try:
            response = client.request("POST", self.ctx.bucket, key, query=[("uploadId", upload)],
                                      headers=headers, body=xml.encode())
        except Exception as error:  # noqa: BLE001 - Complete may have been applied: unknown
            self.history.record(**done, type="info", error=transport_error(error))
            self.retire()
            return
        outcome = classify_write(response.status, response.error_code)
        # A 200 can still carry an error document (S3 answers Complete with 200 before it is done).
        if outcome == "ok" and b"<Error>" in response.body[:200]:
            outcome = "info"
        extra = {"http": response.status}
        if outcome != "ok":
            extra["error"] = response.error_code or f"http {response.status}"
        self.history.record(**done, type=outcome, **extra)
        if outcome == "info":
            self.retire()
            return
        if outcome == "ok":
            etag = (ET.fromstring(response.body).findtext(f"{S3_NS}ETag") or "").strip('"')
            expected = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest() + f"-{len(etags)}"
            if etag != expected:
                self.violation(f"Complete of {key} upload {upload}: ETag {etag}, expected {expected}")
            if self.rng.random() < 0.3:
                self.expect_no_such_upload(key, upload, "completion")
        else:
            self.raw("DELETE", key, [("uploadId", upload)])

    def abort_one(self, key: str, parts: list[bytes]) -> None:
        upload = self.create_upload(key)
        if upload is None:
            return
        self.upload_part(key, upload, 1, parts[0])
        response = self.raw("DELETE", key, [("uploadId", upload)])
        if response is not None and response.status == 204:
            self.expect_no_such_upload(key, upload, "abort")


class VersionState:
    """What W7 saw, per key, for the K-versions check after the run: every acknowledged PUT (its version id,
    value and times) and every ListObjectVersions (its times and the ids it listed, newest first)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked: dict[str, dict[str, tuple[str, int, int]]] = {}  # key -> version -> (value, invoke, complete)
        self.lists: dict[str, list[tuple[int, int, list[str]]]] = {}  # key -> [(invoke, complete, ids)]
        self.reads_by_version = 0

    def ack(self, key: str, version: str, value: str, invoke_ns: int, complete_ns: int) -> None:
        with self.lock:
            self.acked.setdefault(key, {})[version] = (value, invoke_ns, complete_ns)

    def listed(self, key: str, invoke_ns: int, complete_ns: int, ids: list[str]) -> None:
        with self.lock:
            self.lists.setdefault(key, []).append((invoke_ns, complete_ns, ids))

    def value_of(self, key: str, rng: random.Random) -> tuple[str, str] | None:
        with self.lock:
            versions = self.acked.get(key)
            if not versions:
                return None
            version = rng.choice(sorted(versions))
            return version, versions[version][0]

    def check(self) -> list[str]:
        """K-versions (JEPSEN-SPEC W7): per key, each listing names every version acknowledged before it was
        invoked, in commit order (a version acknowledged before another was written is older), without
        duplicates; and listings are append-only: one invoked after another completed extends it (oldest
        first, the earlier one is a prefix)."""
        problems: list[str] = []
        for key, lists in sorted(self.lists.items()):
            acked = self.acked.get(key, {})
            lists = sorted(lists)
            for invoke, complete, ids in lists:
                if len(set(ids)) != len(ids):
                    problems.append(f"K-versions: {key}: a listing names a version twice: {ids}")
                oldest_first = list(reversed(ids))
                position = {v: i for i, v in enumerate(oldest_first)}
                for version, (_, _, acked_at) in acked.items():
                    if acked_at < invoke and version not in position:
                        problems.append(f"K-versions: {key}: version {version}, acknowledged before a listing, "
                                        f"is missing from it")
                for a, (_, _, a_done) in acked.items():
                    for b, (_, b_invoked, _) in acked.items():
                        if a in position and b in position and a_done < b_invoked and position[a] > position[b]:
                            problems.append(f"K-versions: {key}: {a} was acknowledged before {b} was written, "
                                            f"but is listed as newer")
            for i, (_, first_done, first_ids) in enumerate(lists):
                for later_invoke, _, later_ids in lists[i + 1:]:
                    if later_invoke <= first_done:
                        continue
                    earlier, later = list(reversed(first_ids)), list(reversed(later_ids))
                    if later[:len(earlier)] != earlier:
                        at = next((n for n, (x, y) in enumerate(zip(earlier, later)) if x != y), min(len(earlier), len(later)))
                        problems.append(f"K-versions: {key}: a later listing ({len(later)} versions) does not extend "
                                        f"an earlier one ({len(earlier)}): oldest first, they differ at position {at} "
                                        f"({earlier[at] if at < len(earlier) else None} vs {later[at] if at < len(later) else None})")
                        break
        return problems[:20]


class VersionWorker(Worker):
    """W7 versioning, on a few live keys `v/<n>` of a bucket with versioning Enabled: put 40% (a register
    write; its `x-amz-version-id` noted), get 30% (a register read of the current version), list 20%
    (ListObjectVersions with the key as prefix, noted for K-versions), get-version 10% (GET ?versionId= of an
    acknowledged version: exactly its bytes, or a violation: no version is ever deleted here)."""

    def __init__(self, *args, keys: RegisterKeys, versions: VersionState, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys
        self.versions = versions
        self.bucket = self.ctx.bucket + "-v"

    def decode(self, response) -> str | None:
        return None if response.status == 404 else response.body.decode()

    def get(self, key: str) -> str:
        outcome, _ = self.call("get", key, None, "GET", key, read=True, decode=self.decode)
        return outcome

    def list_versions(self, key: str) -> str:
        _, client = self.client()
        invoke = self.ctx.clock.now()
        try:
            response = client.request("GET", self.bucket, None, query=[("prefix", key), ("versions", "")])
        except Exception:  # noqa: BLE001 - a failed read: no information
            return "fail"
        complete = self.ctx.clock.now()
        if response.status != 200:
            return "fail"
        root = ET.fromstring(response.body)
        ids = [v.findtext(f"{S3_NS}VersionId") for v in root.findall(f"{S3_NS}Version")
               if v.findtext(f"{S3_NS}Key") == key]
        if root.findtext(f"{S3_NS}IsTruncated") == "true":
            return "fail"  # more than a page: not a whole listing
        lost = self.ctx.args.fault_inject_lost_element
        if lost and ids and self.rng.random() < lost:
            ids.pop(self.rng.randrange(len(ids)))  # the planted bug (client side): a version vanishes
        self.versions.listed(key, invoke, complete, ids)
        return "ok"

    def step(self) -> None:
        key = self.keys.pick(self.rng)
        roll = self.rng.random()
        if roll < 0.40:
            value = self.next_value()
            invoke = self.ctx.clock.now()
            outcome, response = self.call("put", key, value, "PUT", key, body=value.encode())
            version = response.headers.get("x-amz-version-id") if response is not None else None
            if outcome == "ok":
                if not version or version == "null":
                    self.ctx.violations.append(f"K-versions: PUT {key} in a versioned bucket answered version {version}")
                else:
                    self.versions.ack(key, version, value, invoke, self.ctx.clock.now())
        elif roll < 0.70:
            self.get(key)
        elif roll < 0.90:
            self.list_versions(key)
        else:
            known = self.versions.value_of(key, self.rng)
            if known is None:
                return
            version, value = known
            _, client = self.client()
            try:
                response = client.request("GET", self.bucket, key, query=[("versionId", version)])
            except Exception:  # noqa: BLE001 - a failed read
                return
            if response.status == 200:
                self.versions.reads_by_version += 1
                if response.body.decode(errors="replace") != value:
                    self.ctx.violations.append(f"K-versions: GET {key}?versionId={version} answered other bytes")
            elif response.status == 404:
                self.ctx.violations.append(f"K-versions: GET {key}?versionId={version} of an acknowledged "
                                           f"version answered {response.error_code}")


class SetState:
    """The W3 sets: `set/<n>/`, each closed after `cap` adds (below one ListObjectsV2 page)."""

    def __init__(self, cap: int):
        self.lock = threading.Lock()
        self.cap = cap
        self.current = 0
        self.count = 0
        self.all = ["set/0"]

    def next_add(self) -> str:
        with self.lock:
            if self.count >= self.cap:
                self.current += 1
                self.count = 0
                self.all.append(f"set/{self.current}")
            self.count += 1
            return f"set/{self.current}"

    def live(self) -> str:
        with self.lock:
            return f"set/{self.current}"


class SetWorker(Worker):
    """W3: add(e) = PUT set/<s>/<e> 80%; read = ListObjectsV2(prefix=set/<s>/) 20%."""

    def __init__(self, *args, sets: SetState, **kwargs):
        super().__init__(*args, **kwargs)
        self.sets = sets

    def read(self, set_key: str) -> str:
        prefix = set_key + "/"

        def decode(response):
            from xml.etree import ElementTree as ET
            ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
            root = ET.fromstring(response.body)
            if (root.findtext(f"{ns}IsTruncated") or "false").lower() == "true":
                raise ValueError("truncated listing (a set outgrew one page)")
            elements = [(c.findtext(f"{ns}Key") or "")[len(prefix):] for c in root.iter(f"{ns}Contents")]
            drop = self.ctx.args.fault_inject_lost_element
            if drop and elements and self.rng.random() < drop:
                elements.pop(self.rng.randrange(len(elements)))  # the planted bug (client side only)
            return elements

        outcome, _ = self.call("read", set_key, None, "GET", None, read=True, decode=decode,
                               query=[("list-type", "2"), ("prefix", prefix), ("max-keys", "1000")])
        return outcome

    def step(self) -> None:
        if self.rng.random() < 0.2:
            self.read(self.sets.live())
        else:
            set_key = self.sets.next_add()
            element = f"{self.ctx.run_id}-{self.process}-{self.next_value().rsplit('/', 1)[1]}"
            self.call("add", set_key, element, "PUT", f"{set_key}/{element}", body=element.encode())


class AppendKeys:
    """The W2 lists: `live` keys `append/<n>` at once, each retired after `cap` appends."""

    def __init__(self, live: int, cap: int):
        self.lock = threading.Lock()
        self.cap = cap
        self.next_id = 0
        self.live: list[list] = []
        self.all: list[str] = []
        for _ in range(live):
            self._add()

    def _add(self) -> None:
        key = f"append/{self.next_id}"
        self.next_id += 1
        self.live.append([key, self.cap])
        self.all.append(key)

    def pick(self, rng: random.Random, write: bool) -> str:
        with self.lock:
            slot = rng.randrange(len(self.live))
            key = self.live[slot][0]
            if write:
                self.live[slot][1] -= 1
                if self.live[slot][1] <= 0:
                    self.live.pop(slot)
                    self._add()
            return key


class AppendWorker(Worker):
    """W2 list-append via conditional PUT: append(x) = GET (body, etag), then PUT If-Match (If-None-Match: *
    when absent) with body + x, retried on 412/409 up to 10 times; ok only if a PUT answered 200. After a PUT
    with an unknown outcome there is no retry (the element may be in: a retry could add it twice): info.
    read = GET, the list of lines. 70% appends, 30% reads."""

    ATTEMPTS = 10

    def __init__(self, *args, keys: AppendKeys, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = keys

    def decode(self, response) -> list[str]:
        if response.status == 404:
            return []
        elements = response.body.decode().splitlines()
        drop = self.ctx.args.fault_inject_lost_element
        if drop and elements and self.rng.random() < drop:
            elements.pop(self.rng.randrange(len(elements)))  # the planted bug (client side only)
        return elements

    def read(self, key: str) -> str:
        outcome, _ = self.call("read", key, None, "GET", key, read=True, decode=self.decode)
        return outcome

    def append(self, key: str) -> str:
        element = f"{self.ctx.run_id}-{self.process}-{self.next_value().rsplit('/', 1)[1]}"
        gw, client = self.client()
        base = {"kind": "op", "process": self.process, "f": "append", "key": key, "value": element, "gw": gw}
        self.history.record(**base, type="invoke")
        outcome, error, status, attempts = "fail", None, None, 0
        for attempts in range(1, self.ATTEMPTS + 1):
            try:
                current = client.request("GET", self.ctx.bucket, key)
            except Exception as e:  # noqa: BLE001 - no PUT of this op is in doubt: a definite no-op
                error = transport_error(e)
                break
            if current.status == 404:
                body, condition = b"", {"If-None-Match": "*"}
            elif current.status == 200 and current.etag:
                body, condition = current.body, {"If-Match": current.etag}
            else:
                error, status = current.error_code or f"GET http {current.status}", current.status
                break
            try:
                response = client.request("PUT", self.ctx.bucket, key, headers=condition,
                                          body=body + (element + "\n").encode())
            except ConnectionRefusedError as e:
                error = transport_error(e)
                break
            except Exception as e:  # noqa: BLE001 - the PUT may have applied
                outcome, error = "info", transport_error(e)
                break
            status = response.status
            verdict = classify_write(response.status, response.error_code)
            if verdict in ("ok", "info"):
                outcome = verdict
                error = None if verdict == "ok" else (response.error_code or f"http {response.status}")
                break
            error = response.error_code or f"http {response.status}"
            if response.status not in (409, 412):
                break
            self.ctx.stop.wait(self.rng.uniform(0, 0.02 * attempts))
        done = {**base, "type": outcome, "attempts": attempts}
        if status is not None:
            done["http"] = status
        if error and outcome != "ok":
            done["error"] = error
        self.history.record(**done)
        if outcome == "info":
            self.retire()
        elif error and (error.startswith("connection") or error == "timeout"):
            self.gateway_index = (self.gateway_index + 1) % len(self.ctx.endpoints)
        return outcome

    def step(self) -> None:
        if self.rng.random() < 0.3:
            self.read(self.keys.pick(self.rng, write=False))
        else:
            self.append(self.keys.pick(self.rng, write=True))


# ---------------------------------------------------------------------------------------------------
# Nemesis


class Nemesis:
    """Faults on a schedule drawn from the seed. Each fault has a start and a stop, recorded in every
    history as `kind: nemesis`, and in nemesis.log. `heal_all` undoes everything that is still active."""

    def __init__(self, cluster: Cluster, histories: list[HistoryFile], log_path: Path, rng: random.Random,
                 faults: list[str], interval: float, clock: Clock):
        self.cluster, self.histories, self.rng, self.faults, self.interval = cluster, histories, rng, faults, interval
        self.clock = clock
        self.log = open(log_path, "w", encoding="utf-8")
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.paused: set[str] = set()
        self.dead: set[str] = set()
        self.cut = False
        self.proxied = False  # some proxy has faults set
        self.last_disk_fault: float | None = None  # monotonic time the last lose/corrupt fault healed
        self.clocked: set[str] = set()  # processes whose clock is shifted
        self.disk_faulted: set[Path] = set()  # blob disk fault files set (N15)
        self.windows: list[dict] = []
        self.restarts: dict[str, int] = {}
        self.leader_changes = 0
        self.errors: list[str] = []
        self.no_recovery: str | None = None  # a process that did not come back after a fault (NoRecovery)

    def record(self, f: str, value) -> None:
        with self.log_lock:  # the nemesis and the leader watcher both record
            times = [h.record(kind="nemesis", type="info", f=f, value=value) for h in self.histories]
            line = {"time_ns": times[0] if times else self.clock.now(),
                    "wall": time.strftime("%H:%M:%S"), "f": f, "value": value}
            self.log.write(json.dumps(line) + "\n")
            self.log.flush()
        print(f"  nemesis {line['wall']} {f} {json.dumps(value)}", flush=True)

    def nodes(self, role: str) -> list[str]:
        return [n.name for n in self.cluster.state.nodes if n.role == role]

    def targets(self, fault: str) -> list[str]:
        server = self.nodes("server")
        metas = self.nodes("meta")
        if server:
            return server
        if fault.endswith("majority"):
            return self.rng.sample(metas, len(metas) // 2 + 1)
        if fault.endswith("-all"):
            return list(metas)
        if fault.endswith("-leader"):
            leader, _ = self.cluster.meta_leader()
            return [leader or self.rng.choice(metas)]  # no leader right now: any meta node
        if fault.startswith(("kill-blob", "pause-blob", "lose-blob", "corrupt-blob", "fill-blob", "eio-blob")):
            return [self.rng.choice(self.nodes("blob"))]
        if fault.startswith(("kill-gateway", "pause-gateway")):
            return [self.rng.choice(self.nodes("gateway"))]
        return [self.rng.choice(metas)]

    def run(self, stop_at: float, stop: threading.Event) -> None:
        """From now until stop_at (monotonic seconds): wait interval ±50%, start a fault, hold it, stop it."""
        deck: list[str] = []
        try:
            while not stop.is_set():
                wait = self.interval * self.rng.uniform(0.5, 1.5)
                if time.monotonic() + wait >= stop_at or stop.wait(wait):
                    break
                if not deck:  # every fault class in turn, in an order drawn from the seed
                    deck = self.rng.sample(self.faults, len(self.faults))
                fault = deck.pop()
                # Up to 1.2 intervals: often longer than the request timeout, so some requests time out.
                hold = self.rng.uniform(1.0, max(1.5, self.interval * 1.2))
                hold = min(hold, max(0.5, stop_at - time.monotonic()))
                self.inject(fault, hold, stop)
        except NoRecovery as error:
            self.no_recovery = str(error)
            stop.set()
        except Exception:  # noqa: BLE001
            self.errors.append(traceback.format_exc())
            stop.set()

    def inject(self, fault: str, hold: float, stop: threading.Event) -> None:
        kind = fault.split("-")[0]
        start = self.clock.now()
        if kind == "kill":
            targets = self.targets(fault)
            self.record("start-kill", {"targets": targets, "spec": fault, "restart_after_s": round(hold, 2)})
            for name in targets:
                with self.lock:
                    self.cluster.kill(self.cluster.node_named(name))
                    self.dead.add(name)
            stop.wait(hold)
            for name in targets:
                self.restart(name)
            self.record("stop-kill", {"targets": targets})
        elif kind == "pause":
            targets = self.targets(fault)
            self.record("start-pause", {"targets": targets, "spec": fault, "hold_s": round(hold, 2)})
            for name in targets:
                with self.lock:
                    self.cluster.pause(self.cluster.node_named(name))
                    self.paused.add(name)
            stop.wait(hold)
            for name in targets:
                with self.lock:
                    self.cluster.resume(self.cluster.node_named(name))
                    self.paused.discard(name)
            self.record("stop-pause", {"targets": targets})
        elif kind == "partition":
            grudge = self.grudge(fault)
            self.record("start-partition", {"grudge": grudge, "spec": fault, "hold_s": round(hold, 2)})
            with self.lock:
                self.cut = True
                for name, enemies in grudge.items():
                    self.cluster.cut(name, enemies, direction="in")
            stop.wait(hold)
            with self.lock:
                self.cluster.heal()
                self.cut = False
            self.record("stop-partition", {})
        elif kind == "transfer":
            # N18: leadership moves to another voter every 1-3 s for the whole hold.
            from cluster import meta_transfer_leadership
            self.record("start-transfer", {"spec": fault, "hold_s": round(hold, 2)})
            deadline = time.monotonic() + hold
            transfers = []
            while not stop.is_set() and time.monotonic() < deadline:
                leader, _ = self.cluster.meta_leader()
                if leader:
                    node = self.cluster.node_named(leader)
                    others = [n for n in self.cluster.state.nodes if n.role == "meta" and n.name != leader]
                    target = self.rng.choice(others)
                    answer = meta_transfer_leadership(node.addresses["api"], self.cluster.state.cluster_secret,
                                                      target.id)
                    transfers.append({"from": leader, "to": target.name, "answer": answer})
                stop.wait(self.rng.uniform(1.0, 3.0))
            self.record("stop-transfer", {"transfers": transfers})
        elif kind == "packet":
            # N12 (loss only: this kernel has no netem): every process drops 20% of what it receives from
            # every other process, at random (the clients' traffic to the gateways is left alone).
            everyone = [n.name for n in self.cluster.state.nodes]
            self.record("start-packet", {"loss_percent": 20, "nodes": everyone, "hold_s": round(hold, 2)})
            with self.lock:
                self.cut = True
                for name in everyone:
                    self.cluster.cut(name, [o for o in everyone if o != name], direction="in", loss_percent=20)
            stop.wait(hold)
            with self.lock:
                self.cluster.heal()
                self.cut = False
            self.record("stop-packet", {})
        elif kind == "membership":
            # N16: a meta node's disk is lost and it is replaced, as ops/README describes: remove it from the
            # group, wipe it, add it back under a new id as a learner at new ports (without the fault proxies:
            # the gateways then find it only through the addresses members publish), start it with --join,
            # promote it once it caught up. The leader is the
            # victim half the time. Writes continue throughout; the hold is not used (the change takes its time).
            metas = self.nodes("meta")
            leader, _ = self.cluster.meta_leader()
            name = leader if leader and self.rng.random() < 0.5 else self.rng.choice(metas)
            node = self.cluster.node_named(name)
            old_id = node.id
            new_id = max(n.id for n in self.cluster.state.nodes if n.role == "meta") + 1
            steps = []
            self.record("start-membership", {"targets": [name], "spec": fault, "old_id": old_id, "new_id": new_id})
            steps.append(["remove", self.admin("remove", "--id", str(old_id))])
            with self.lock:
                self.cluster.kill(node)
                self.dead.add(name)
            shutil.rmtree(node.data, ignore_errors=True)
            argv = list(node.argv)
            if not self.cluster.proxies():
                # The replacement listens elsewhere (new ports), as a new machine would: the gateways' --meta
                # lists still name the old address, so they reach it only by the addresses members publish.
                for kind in ("raft", "api"):
                    host, port = node.addresses[kind].rsplit(":", 1)
                    moved = f"{host}:{free_port() if self.cluster.state.layout == 'loopback' else int(port) + 1}"
                    node.addresses[kind] = moved
                    argv[argv.index(f"--{kind}") + 1] = moved
                steps.append(["moved", {"raft": node.addresses["raft"], "api": node.addresses["api"]}])
                # As an operator's configuration would, the gateways' --meta names the new address for their
                # next start; the running gateways keep their old lists and must find it by themselves.
                apis = ",".join(n.addresses["api"] for n in self.cluster.state.nodes if n.role == "meta")
                for gateway in (n for n in self.cluster.state.nodes if n.role == "gateway"):
                    gateway.argv[gateway.argv.index("--meta") + 1] = apis
            steps.append(["add-learner", self.admin("add-learner", "--id", str(new_id), "--raft", node.addresses["raft"])])
            peers = ",".join(f"{n.id if n is not node else new_id}={n.addresses['raft']}"
                             for n in self.cluster.state.nodes if n.role == "meta")
            argv[argv.index("--id") + 1] = str(new_id)
            argv[argv.index("--peers") + 1] = peers
            if "--join" not in argv:
                argv.append("--join")
            node.argv, node.id, node.ready_line = argv, new_id, f"silo meta {new_id} ready"
            self.restart(name)
            caught_up = self.await_caught_up(name, stop)
            steps.append(["caught-up", caught_up])
            steps.append(["promote", self.admin("promote", "--id", str(new_id))])
            self.record("stop-membership", {"targets": [name], "steps": steps})
        elif kind == "clock":
            # N11 (debug builds: WallClock's fault file): clock-bump shifts one process's wall clock by
            # +/-(1 ms to 300 s, log-uniform) for the hold; clock-strobe flips it between 0 and such an offset
            # every 20-500 ms. The target is the meta leader (it stamps command times), a gateway (its
            # clock dates requests, chunk write times and the sweeps) or a blob node, at random.
            kinds = self.rng.choice(["leader", "gateway", "blob"]) if self.nodes("meta") else "server"
            if kinds == "leader":
                leader, _ = self.cluster.meta_leader()
                name = leader or self.rng.choice(self.nodes("meta"))
            elif kinds == "server":
                name = self.nodes("server")[0]
            else:
                name = self.rng.choice(self.nodes(kinds))
            offset = int(round(10 ** self.rng.uniform(0, math.log10(300_000)))) * self.rng.choice([1, -1])
            self.record(f"start-clock", {"targets": [name], "spec": fault, "offset_ms": offset, "hold_s": round(hold, 2)})
            with self.lock:
                self.clocked.add(name)
            if fault == "clock-strobe":
                deadline = time.monotonic() + hold
                shifted = False
                while not stop.is_set() and time.monotonic() < deadline:
                    shifted = not shifted
                    self.cluster.set_clock_offset(name, offset if shifted else 0)
                    stop.wait(self.rng.uniform(0.02, 0.5))
            else:
                self.cluster.set_clock_offset(name, offset)
                stop.wait(hold)
            self.cluster.set_clock_offset(name, 0)
            with self.lock:
                self.clocked.discard(name)
            self.record("stop-clock", {"targets": [name]})
        elif kind in ("lose", "corrupt"):
            # N14: one blob node loses its data directory (lose-blob-disk), or has bytes of its volume files
            # flipped (corrupt-blob), while it is down; it restarts after the hold. That is at most one copy
            # of any chunk (the gateways keep 3 on 4 nodes), so every GET must still return the exact bytes,
            # and the repairer (gateway g1) must rewrite the lost or damaged copies.
            name = self.rng.choice(self.nodes("blob"))
            node = self.cluster.node_named(name)
            with self.lock:
                self.cluster.kill(node)
                self.dead.add(name)
            detail = {"targets": [name], "spec": fault, "restart_after_s": round(hold, 2)}
            if kind == "lose":
                shutil.rmtree(node.data, ignore_errors=True)
            else:
                detail["flipped_bytes"] = self.flip_bytes(Path(node.data))
            self.record(f"start-{kind}", detail)
            stop.wait(hold)
            self.restart(name)
            self.last_disk_fault = time.monotonic()
            self.record(f"stop-{kind}", {"targets": [name]})
        elif kind in ("fill", "eio"):
            # N15: one blob node's disk is full (fill-blob-disk: its free-space probe answers 0, so it refuses
            # every new chunk) or answers EIO to every read and write (eio-blob-disk), while the process runs;
            # injected through SILO_FAULT_BLOB_DISK_FILE (debug builds), nothing on disk is changed. Writes must
            # go to other nodes and reads to other copies: no wrong bytes, no lost acknowledged object.
            name = self.rng.choice(self.nodes("blob"))
            path = Path(self.cluster.node_named(name).env.get("SILO_FAULT_BLOB_DISK_FILE", ""))
            if not path.name:
                raise HarnessError(f"{fault} needs blob nodes started with disk faults (--target cluster)")
            path.parent.mkdir(parents=True, exist_ok=True)
            self.record(f"start-{kind}", {"targets": [name], "spec": fault, "hold_s": round(hold, 2)})
            with self.lock:
                self.disk_faulted.add(path)
            path.write_text("full\n" if kind == "fill" else "eio\n")
            stop.wait(hold)
            path.write_text("")
            with self.lock:
                self.disk_faulted.discard(path)
            self.record(f"stop-{kind}", {"targets": [name]})
        elif kind in ("delay", "reset", "clog"):
            # N12 and N7 through the fault proxies between the gateways and the meta and blob nodes (--proxies):
            # delay 40-60 ms (Jepsen's 50 ms +/- 10), or 100-800 ms (delay-long: past some request deadlines);
            # reset: 3 % of the pieces forwarded abort their connection (RST both ways); clog: half the proxies,
            # one by one over 1-2 s, forward nothing until unclogged in another order.
            proxies = [n.name for n in self.cluster.proxies()]
            if not proxies:
                raise HarnessError(f"{fault} needs the fault proxies (--proxies)")
            if fault == "delay-long":
                faults, targets = {"delay_ms": [100, 800]}, proxies
            elif kind == "delay":
                faults, targets = {"delay_ms": [40, 60]}, proxies
            elif kind == "reset":
                faults, targets = {"reset_percent": 3}, proxies
            else:
                faults, targets = {"clog": True}, self.rng.sample(proxies, max(1, len(proxies) // 2))
            self.record(f"start-{kind}", {"proxies": targets, "faults": faults, "spec": fault, "hold_s": round(hold, 2)})
            with self.lock:
                self.proxied = True
            for name in targets:
                with self.lock:
                    self.cluster.set_proxy_faults(faults, [name])
                if kind == "clog":
                    stop.wait(self.rng.uniform(1.0, 2.0) / len(targets))
            stop.wait(hold)
            for name in self.rng.sample(targets, len(targets)):
                with self.lock:
                    self.cluster.set_proxy_faults(None, [name])
            with self.lock:
                self.proxied = False
            self.record(f"stop-{kind}", {"proxies": targets})
        else:
            raise HarnessError(f"unknown fault {fault}")
        self.windows.append({"fault": fault, "start_ns": start, "stop_ns": self.clock.now()})

    def admin(self, *args: str, attempts: int = 6) -> str:
        """`silo admin cluster ARGS` against every meta node's RPC, retried (a leader change answers
        not-leader) until it succeeds or attempts run out. Returns "ok" or the last error line."""
        apis = ",".join(n.addresses["api"] for n in self.cluster.state.nodes if n.role == "meta")
        env = dict(os.environ, SILO_CLUSTER_SECRET=self.cluster.state.cluster_secret)
        last = ""
        for _ in range(attempts):
            done = subprocess.run([self.cluster.state.silo, "admin", "cluster", *args, "--meta", apis], env=env,
                                  capture_output=True, text=True, timeout=60)
            if done.returncode == 0:
                return "ok"
            last = (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1][:300]
            time.sleep(0.5)
        self.errors.append(f"silo admin cluster {' '.join(args)} failed: {last}")
        return last

    def await_caught_up(self, name: str, stop: threading.Event, limit: float = 60.0) -> str:
        """Until meta node `name` has applied the leader's commit index (as its own status says)."""
        from cluster import meta_status
        node = self.cluster.node_named(name)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            own = meta_status(node.addresses["api"], self.cluster.state.cluster_secret, 1.0)
            _, term = self.cluster.meta_leader()
            leaders = [s for s in self.cluster.meta_statuses(1.0).values()
                       if s and s["role"].lower() == "leader" and s["term"] == term]
            if own and leaders and own["applied_index"] >= leaders[0]["commit_index"]:
                return "ok"
            time.sleep(0.2)
        return f"not caught up within {limit:.0f}s"

    def flip_bytes(self, data: Path) -> int:
        """Flips about one byte in 20,000 of every volume file (never in its first 64 bytes, so the file still
        opens: damaged records are what the store must detect). Returns how many."""
        flipped = 0
        for path in sorted(p for p in data.rglob("*") if p.is_file() and p.stat().st_size > 64):
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                for _ in range(max(1, size // 20_000)):
                    offset = self.rng.randrange(64, size)
                    handle.seek(offset)
                    byte = handle.read(1)
                    handle.seek(offset)
                    handle.write(bytes([byte[0] ^ 0xFF]))
                    flipped += 1
        return flipped

    def grudge(self, fault: str) -> dict[str, list[str]]:
        """Who drops packets from whom (each side drops what it receives from the other: a full cut)."""
        server = self.nodes("server")
        if server:  # one server: cut it off from the clients
            return {server[0]: ["client"], }
        metas = self.nodes("meta")
        shuffled = self.rng.sample(metas, len(metas))
        if fault == "partition-one":
            alone, rest = shuffled[:1], shuffled[1:]
        elif fault == "partition-leader":
            leader, _ = self.cluster.meta_leader()
            leader = leader or shuffled[0]
            alone, rest = [leader], [m for m in metas if m != leader]
        elif fault == "partition-gateway":
            # One gateway loses the meta leader (its proposals in flight there: the retry/dedup path).
            leader, _ = self.cluster.meta_leader()
            alone, rest = [self.rng.choice(self.nodes("gateway"))], [leader or shuffled[0]]
        elif fault == "partition-all":
            # Every process (meta, blob, gateway) shuffled and bisected; the clients still reach every gateway.
            everyone = metas + self.nodes("blob") + self.nodes("gateway")
            everyone = self.rng.sample(everyone, len(everyone))
            cut = len(everyone) // 2
            alone, rest = everyone[:cut], everyone[cut:]
        elif fault == "partition-ring":
            # N4: 5+ meta nodes: a perfect ring (each node hears only its two neighbours, so each sees a
            # different majority); 3 nodes: Jepsen's construction degenerates, so a cycle of one-way cuts
            # (node i drops what it receives from node i+1).
            n = len(shuffled)
            if n >= 5:
                return {name: [shuffled[(i + d) % n] for d in range(2, n - 1)] for i, name in enumerate(shuffled)}
            return {name: [shuffled[(i + 1) % n]] for i, name in enumerate(shuffled)}
        elif fault == "partition-asymmetric":
            # N6: one node (the leader half the time) receives nothing from the other meta nodes but can
            # still send to them, or the reverse.
            leader, _ = self.cluster.meta_leader()
            node = leader if leader and self.rng.random() < 0.5 else shuffled[0]
            others = [m for m in metas if m != node]
            if self.rng.random() < 0.5:
                return {node: others}  # deaf
            return {other: [node] for other in others}  # mute
        else:  # partition-halves (a majority and a minority)
            cut = len(shuffled) // 2
            alone, rest = shuffled[:cut], shuffled[cut:]
        grudge = {name: list(rest) for name in alone}
        for name in rest:
            grudge[name] = list(alone)
        return grudge

    def restart(self, name: str) -> None:
        node = self.cluster.node_named(name)
        with self.lock:
            self.cluster.start(node)
        await_back(self.cluster, node, 60)
        with self.lock:
            self.dead.discard(name)
            self.restarts[name] = self.restarts.get(name, 0) + 1

    def watch_leader(self, stop: threading.Event, period: float = 1.0) -> None:
        """Polls every meta node's status; each change of (leader, term) is a `f: leader` nemesis line (no
        window: the checkers ignore it), for the coverage rule "a fault run sees a leader change"."""
        last = None
        while not stop.wait(period):
            try:
                leader, term = self.cluster.meta_leader(timeout=0.5)
            except Exception:  # noqa: BLE001
                continue
            if leader is not None and (leader, term) != last:
                if last is not None:
                    self.leader_changes += 1
                self.record("leader", {"leader": leader, "term": term})
                last = (leader, term)

    def heal_all(self) -> None:
        with self.lock:
            paused, dead, cut, proxied = sorted(self.paused), sorted(self.dead), self.cut, self.proxied
        for name in paused:
            self.cluster.resume(self.cluster.node_named(name))
        if cut:
            self.cluster.heal()
        if proxied or self.cluster.proxies():
            self.cluster.set_proxy_faults(None)
            self.proxied = False
        for name in sorted(self.clocked):
            self.cluster.set_clock_offset(name, 0)
        self.clocked.clear()
        for path in sorted(self.disk_faulted):
            path.write_text("")
        self.disk_faulted.clear()
        for name in dead:
            self.restart(name)
        self.paused.clear()
        self.cut = False
        self.record("heal-all", {"resumed": paused, "restarted": dead, "partition_healed": cut})

    def close(self) -> None:
        self.log.close()


# ---------------------------------------------------------------------------------------------------
# The run


def bounded_request(ctx: Context, gw_index: int, method: str, key: str | None, deadline: float, **kwargs):
    """Retry one idempotent request (setup only, never recorded) until it answers 2xx or the deadline."""
    last = None
    while time.monotonic() < deadline:
        name, url = ctx.endpoints[gw_index % len(ctx.endpoints)]
        client = S3(url, ctx.access_key, ctx.secret_key, ctx.timeout)
        try:
            response = client.request(method, ctx.bucket, key, **kwargs)
            if response.status < 300 or response.error_code == "BucketAlreadyOwnedByYou":
                return response
            last = f"{name}: {response.status} {response.error_code}"
        except Exception as error:  # noqa: BLE001
            last = f"{name}: {error}"
        finally:
            client.close()
        gw_index += 1
        time.sleep(0.3)
    raise HarnessError(f"{method} {ctx.bucket}/{key or ''} did not succeed before the deadline: {last}")


def await_back(cluster: Cluster, node, timeout: float) -> None:
    """Waits until a restarted process is ready; one that exits or never gets ready is `NoRecovery`, with
    the last lines of its log."""
    try:
        cluster.wait_ready(node, timeout)
    except ClusterError as error:
        raise NoRecovery(f"{node.name} did not come back after a fault: {error}") from error


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_check(silo_jepsen: Path, history: Path, model: str, out: Path, budget: float) -> tuple[int, str]:
    name = history.stem
    argv = [str(silo_jepsen), "check", "--model", model, "--timeout", str(budget), "--workers", "1",
            "--html", str(out / f"{name}.html"), str(history)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=budget + 60)
        code, text = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired:
        code, text = EXIT_INCONCLUSIVE, f"silo-jepsen check did not finish within {budget + 60:.0f}s\n"
    (out / f"check-{name}.txt").write_text(" ".join(argv) + "\n" + text)
    return code, text


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def history_stats(path: Path, windows: list[dict]) -> dict:
    """Ops by f and outcome, ok ops inside fault windows, latency p50/p99/max per f."""
    open_ops: dict[int, dict] = {}
    counts: dict[str, dict[str, int]] = {}
    latency: dict[str, list[float]] = {}
    inside: list[float] = []  # ok latencies of operations invoked inside a fault window, and outside
    outside: list[float] = []
    ok_in_faults = 0
    errors_500: list[int] = []  # K-crash: a 500 with no fault active
    info_values: set[str] = set()
    observed: set[str] = set()  # every value or element some ok read returned
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            event = json.loads(line)
            if event["kind"] != "op":
                continue
            if event["type"] == "invoke":
                open_ops[event["process"]] = event
                continue
            invoke = open_ops.pop(event["process"], None)
            counts.setdefault(event["f"], {}).setdefault(event["type"], 0)
            counts[event["f"]][event["type"]] += 1
            if invoke:
                latency.setdefault(event["f"], []).append((event["time"] - invoke["time"]) / 1e6)
            in_fault = bool(invoke) and any(w["start_ns"] <= invoke["time"] <= w["stop_ns"] for w in windows)
            if event["type"] == "ok" and invoke:
                (inside if in_fault else outside).append((event["time"] - invoke["time"]) / 1e6)
            if event["type"] == "ok" and in_fault:
                ok_in_faults += 1
            if event.get("http") == 500 and invoke and not any(
                    w["start_ns"] <= invoke["time"] <= w["stop_ns"] for w in windows):
                errors_500.append(event["index"])
            if event["type"] == "info" and isinstance(event.get("value"), (str, dict)):
                value = event["value"]
                info_values.add(value["to"] if isinstance(value, dict) and "to" in value else json.dumps(value)
                                if isinstance(value, dict) else value)
            if event["type"] == "ok" and event["f"] in ("get", "read"):
                seen = event.get("value")
                if isinstance(seen, list):
                    observed.update(x for x in seen if isinstance(x, str))
                elif isinstance(seen, str):
                    observed.add(seen)
    return {"ops": counts, "ok_total": sum(c.get("ok", 0) for c in counts.values()), "ok_in_fault_windows": ok_in_faults,
            "latency_ms": {f: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99), "max": max(v)}
                           for f, v in latency.items()},
            "ok_latency_ms_inside_faults": {"n": len(inside), "p50": percentile(inside, 0.5),
                                            "p99": percentile(inside, 0.99)},
            "ok_latency_ms_outside_faults": {"n": len(outside), "p50": percentile(outside, 0.5),
                                             "p99": percentile(outside, 0.99)},
            "info_writes": len(info_values), "info_writes_observed": len(info_values & observed),
            "http_500_outside_faults": errors_500}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="Tests/Jepsen-style/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock (printed first)")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds of workload (faults included)")
    parser.add_argument("--target", choices=["server", "cluster"], default="server")
    parser.add_argument("--out", default=None, help="default results/jepsen/<time>-seed<N>")
    parser.add_argument("--silo", default=None, help="silo binary (default $SILO_BIN or .build/debug/silo)")
    parser.add_argument("--silo-jepsen", default=None,
                        help="silo-jepsen binary (default $SILO_JEPSEN_BIN or next to the silo binary)")
    parser.add_argument("--workloads", default="register,set,append",
                        help="comma list of register, set, append, blob (W6: 256 KiB-3 MiB objects), "
                             "multipart (W4: uploads completed, aborted and read, atomicity and ETags checked), "
                             "versions (W7: a versioned bucket; PUTs, GETs, ListObjectVersions and GET ?versionId=, "
                             "listings checked append-only and in commit order)")
    parser.add_argument("--nemesis", default="kill,pause",
                        help="comma list of: kill, kill-leader, kill-majority, kill-blob, kill-gateway, pause, "
                             "pause-leader, pause-gateway, partition, partition-one, partition-leader, "
                             "partition-gateway, partition-all, partition-ring, partition-asymmetric, "
                             "packet-loss, transfer-leader, delay, delay-long, reset, clog, lose-blob-disk, "
                             "fill-blob-disk, eio-blob-disk, "
                             "corrupt-blob, clock-bump, clock-strobe, membership, kill-unsynced, "
                             "kill-unsynced-leader, kill-unsynced-majority, kill-unsynced-all, none "
                             "(partition* need --netns; delay, delay-long, reset and clog need --proxies; all but "
                             "kill, pause, partition, kill-unsynced need --target cluster; any kill-unsynced* "
                             "starts every metadata holder with SILO_FAULT_LOSE_UNSYNCED=1, so that every kill of "
                             "one, the final full restart included, loses what its WAL had not synced)")
    parser.add_argument("--nemesis-interval", type=float, default=5.0)
    parser.add_argument("--netns", action="store_true", help="each process in its own network namespace (root)")
    parser.add_argument("--proxies", action="store_true",
                        help="gateways reach meta and blob nodes through fault-injecting TCP proxies (loopback "
                             "layout, not with --netns)")
    parser.add_argument("--concurrency", type=int, default=5, help="register clients (set: half, at least 2)")
    parser.add_argument("--rate", type=float, default=40, help="target ops/s per workload")
    parser.add_argument("--keys-live", type=int, default=3)
    parser.add_argument("--ops-per-key", type=int, default=100)
    parser.add_argument("--set-cap", type=int, default=300)
    parser.add_argument("--append-cap", type=int, default=150, help="appends per list/key before it is retired")
    parser.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument("--check-budget", type=float, default=60.0, help="seconds per checker (then INCONCLUSIVE)")
    parser.add_argument("--recovery-limit", type=float, default=10.0,
                        help="seconds after the final heal within which a write and a read must succeed")
    parser.add_argument("--min-ok", type=int, default=200, help="ok ops each workload needs (else VACUOUS)")
    parser.add_argument("--no-final-restart", action="store_true",
                        help="skip the kill -9 and restart of every process before the final reads")
    parser.add_argument("--meta", type=int, default=3)
    parser.add_argument("--blob", type=int, default=4)
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--keep-data", action="store_true", help="keep data directories even when the run passes")
    parser.add_argument("--fault-inject-stale-read", type=float, default=0.0, metavar="P",
                        help="PLANTED BUG (client side): answer a GET with the first value read, with probability P")
    parser.add_argument("--fault-inject-lost-element", type=float, default=0.0, metavar="P",
                        help="PLANTED BUG (client side): drop one element from a LIST, a list-append read or "
                             "a ListObjectVersions, with probability P")
    parser.add_argument("--fault-inject-skip-fsync", action="store_true",
                        help="PLANTED BUG (Silo side, debug builds, with kill-unsynced*): WAL syncs write nothing "
                             "(SILO_FAULT_LOSE_UNSYNCED=skip-fsync), so acknowledged writes die with the process")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = int(time.time() * 1000) % (2 ** 31)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"seed {args.seed}", flush=True)
    silo = Path(args.silo or os.environ.get("SILO_BIN") or REPO / ".build" / "debug" / "silo").resolve()
    silo_jepsen = Path(args.silo_jepsen or os.environ.get("SILO_JEPSEN_BIN") or silo.parent / "silo-jepsen").resolve()
    for binary in (silo, silo_jepsen):
        if not binary.exists():
            print(f"error: {binary} not found (build it, or pass --silo / --silo-jepsen)", file=sys.stderr)
            return EXIT_ERROR
    workloads = [w for w in args.workloads.split(",") if w]
    faults = [f for f in args.nemesis.split(",") if f and f != "none"]
    if any(f.startswith(("partition", "packet")) for f in faults) and not args.netns:
        print("error: partition and packet faults need --netns (network namespaces and nftables, root)",
              file=sys.stderr)
        return EXIT_ERROR
    if any(f.split("-")[0] in ("delay", "reset", "clog") for f in faults) and not args.proxies:
        print("error: delay, reset and clog faults need --proxies", file=sys.stderr)
        return EXIT_ERROR
    if args.proxies and (args.netns or args.target != "cluster"):
        print("error: --proxies needs --target cluster without --netns", file=sys.stderr)
        return EXIT_ERROR
    if args.target == "server" and any(f not in ("kill", "pause", "partition", "clock-bump", "clock-strobe", "kill-unsynced")
                                       for f in faults):
        print("error: that fault needs --target cluster", file=sys.stderr)
        return EXIT_ERROR
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = Path(args.out or REPO / "results" / "jepsen" / f"{stamp}-seed{args.seed}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"output {out}", flush=True)

    holder: list[Cluster] = []  # the cluster, once it is up (run() appends it)
    verdicts: dict[str, str] = {}
    summary: dict = {"seed": args.seed, "target": args.target, "nemesis": faults, "workloads": workloads,
                     "time_limit_s": args.time_limit, "netns": args.netns, "proxies": args.proxies,
                     "planted": {"stale_read": args.fault_inject_stale_read,
                                 "lost_element": args.fault_inject_lost_element,
                                 "skip_fsync": args.fault_inject_skip_fsync}}
    status = EXIT_ERROR

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        status = run(args, silo, silo_jepsen, out, workloads, faults, summary, verdicts, holder)
    except NoRecovery as error:
        print(f"FAIL: {error}", file=sys.stderr)
        summary["failure"] = str(error)
        status = EXIT_FAIL
    except (ClusterError, HarnessError) as error:
        print(f"error: {error}", file=sys.stderr)
        summary["error"] = str(error)
        status = EXIT_ERROR
    except KeyboardInterrupt as error:
        print(f"interrupted: {error}", file=sys.stderr)
        summary["error"] = f"interrupted: {error}"
        status = EXIT_ERROR
    finally:
        for cluster in holder:
            killed = cluster.down(grace=15)
            if killed:
                summary["needed_sigkill_at_end"] = killed
            if status == EXIT_PASS and not args.keep_data:
                import shutil
                shutil.rmtree(Path(cluster.state.dir) / "data", ignore_errors=True)
        summary["result"] = {EXIT_PASS: "PASS", EXIT_FAIL: "FAIL", EXIT_ERROR: "ERROR",
                             EXIT_INCONCLUSIVE: "INCONCLUSIVE", EXIT_VACUOUS: "VACUOUS"}[status]
        summary["verdicts"] = verdicts
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"result {summary['result']} (seed {args.seed}, {out})", flush=True)
    return status


def run(args, silo: Path, silo_jepsen: Path, out: Path, workloads, faults, summary, verdicts, holder) -> int:
    rng = random.Random(args.seed)
    # N9: Silo's own storage layer holds WAL and snapshot writes in memory until synced (StorageFaults, debug
    # builds), so SIGKILL is a power failure for them. No FUSE here, so no lazyfs: the report says which ran.
    lose_unsynced = any(f.startswith("kill-unsynced") for f in faults)
    summary["storage_fault_layer"] = "silo StorageFaults (SILO_FAULT_LOSE_UNSYNCED)" if lose_unsynced else None
    cluster = Cluster.up(out / "cluster", meta=args.meta, blob=args.blob, gateways=args.gateways, silo=silo,
                         single=args.target == "server", netns=args.netns, ready_timeout=120,
                         proxies=args.proxies, repair_every=None if args.target == "server" else REPAIR_EVERY_S,
                         blob_disk_faults=any(f in ("fill-blob-disk", "eio-blob-disk") for f in faults),
                         meta_env={"SILO_FAULT_LOSE_UNSYNCED": "skip-fsync" if args.fault_inject_skip_fsync else "1"}
                         if lose_unsynced else None)
    holder.append(cluster)
    state = cluster.state
    gateways = [n for n in state.nodes if n.role in ("gateway", "server")]
    endpoints = [(n.name, f"http://{n.addresses['s3']}") for n in gateways]
    clock = Clock()
    stop = threading.Event()
    run_id = f"j{args.seed}"
    ctx = Context(run_id=run_id, bucket=f"jepsen-{args.seed}", endpoints=endpoints, access_key=state.root_access_key,
                  secret_key=state.root_secret_key, timeout=args.request_timeout, stop=stop, clock=clock, args=args)
    bounded_request(ctx, 0, "PUT", None, time.monotonic() + 30)
    if "versions" in workloads:
        versioned = Context(**{**ctx.__dict__, "bucket": ctx.bucket + "-v"})
        bounded_request(versioned, 0, "PUT", None, time.monotonic() + 30)
        enable = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
        bounded_request(versioned, 0, "PUT", None, time.monotonic() + 30, query=[("versioning", "")], body=enable)
    nodes = {"meta": [n.name for n in state.nodes if n.role == "meta"],
             "blob": [n.name for n in state.nodes if n.role == "blob"],
             "gw": [n.name for n in gateways]}
    config = {"concurrency": args.concurrency, "ops_per_key": args.ops_per_key, "rate": args.rate,
              "time_limit_s": args.time_limit, "nemesis": faults, "nemesis_interval_s": args.nemesis_interval,
              "target": args.target, "netns": args.netns, "proxies": args.proxies}
    histories: dict[str, HistoryFile] = {}
    for workload in workloads:
        header = {"test": f"{workload}+{'+'.join(faults) or 'none'}", "seed": args.seed, "git": git_commit(),
                  "started_wall": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "clock": "monotonic-ns",
                  "nodes": nodes, "config": {**config, "workload": workload}}
        histories[workload] = HistoryFile(out / f"history-{workload}.jsonl", header, clock)

    workers: list[Worker] = []
    register_keys = RegisterKeys(random.Random(rng.random()), args.keys_live, args.ops_per_key)
    blob_keys = RegisterKeys(random.Random(rng.random()), args.keys_live, max(4, args.ops_per_key // 10), prefix="b")
    multipart_keys = RegisterKeys(random.Random(rng.random()), args.keys_live, max(4, args.ops_per_key // 10),
                                  prefix="m")
    version_keys = RegisterKeys(random.Random(rng.random()), args.keys_live, args.ops_per_key, prefix="v")
    versions = VersionState()
    sets = SetState(args.set_cap)
    append_keys = AppendKeys(2, args.append_cap)
    if "register" in histories:
        for p in range(args.concurrency):
            workers.append(RegisterWorker(ctx, histories["register"], p, args.concurrency,
                                          random.Random(rng.random()), args.rate, keys=register_keys))
    if "blob" in histories:
        n = max(2, args.concurrency // 2)
        for p in range(n):
            workers.append(BlobWorker(ctx, histories["blob"], p, n, random.Random(rng.random()), args.rate / 4,
                                      keys=blob_keys))
    if "multipart" in histories:
        n = max(2, args.concurrency // 2)
        for p in range(n):
            workers.append(MultipartWorker(ctx, histories["multipart"], p, n, random.Random(rng.random()),
                                           args.rate / 3, keys=multipart_keys))
    if "versions" in histories:
        n = max(2, args.concurrency // 2)
        for p in range(n):
            workers.append(VersionWorker(ctx, histories["versions"], p, n, random.Random(rng.random()), args.rate / 2,
                                         keys=version_keys, versions=versions))
    if "set" in histories:
        n = max(2, args.concurrency // 2)
        for p in range(n):
            workers.append(SetWorker(ctx, histories["set"], p, n, random.Random(rng.random()), args.rate, sets=sets))
    if "append" in histories:
        n = max(2, args.concurrency // 2)
        for p in range(n):
            workers.append(AppendWorker(ctx, histories["append"], p, n, random.Random(rng.random()), args.rate,
                                        keys=append_keys))
    nemesis = Nemesis(cluster, list(histories.values()), out / "nemesis.log", random.Random(rng.random()), faults,
                      args.nemesis_interval, clock)

    print(f"workload {', '.join(workloads)} for {args.time_limit:.0f}s; nemesis {', '.join(faults) or 'none'}"
          f" every ~{args.nemesis_interval:.0f}s; {len(endpoints)} S3 endpoint(s)", flush=True)
    started = time.monotonic()
    for worker in workers:
        worker.start()
    quiet_end = min(5.0, args.time_limit * 0.15)
    nemesis_thread = threading.Thread(target=nemesis.run, args=(started + args.time_limit - quiet_end, stop),
                                      daemon=True)
    first_fault_delay = min(args.nemesis_interval, args.time_limit * 0.2)
    # Before the first fault: the sanity rule wants ops flowing (minimum QPS) before anything breaks.
    watcher = None
    if nodes["meta"]:
        watcher = threading.Thread(target=nemesis.watch_leader, args=(stop,), daemon=True)
        watcher.start()
    if faults:
        stop.wait(first_fault_delay * 0.5)
        nemesis_thread.start()
    stop.wait(max(0.0, started + args.time_limit - time.monotonic()))
    stop.set()
    if nemesis_thread.is_alive():
        nemesis_thread.join(timeout=90)
    for worker in workers:
        worker.join(timeout=args.request_timeout + 5)
    if watcher is not None:
        watcher.join(timeout=5)
    if any(w.is_alive() for w in workers) or nemesis_thread.is_alive():
        raise HarnessError("a worker or the nemesis did not stop within its bound")
    workload_seconds = time.monotonic() - started
    ok_before_first = None
    if nemesis.windows and "register" in histories:
        first = nemesis.windows[0]["start_ns"]
        ok_before_first = sum(1 for _ in iter_ok_before(histories["register"].path, first)) / max(first / 1e9, 1e-3)

    # A nemesis failure first, so that a heal that trips over the state it left does not hide it.
    for error in nemesis.errors:
        print(f"nemesis error:\n{error}", file=sys.stderr, flush=True)
    if nemesis.no_recovery:
        raise NoRecovery(nemesis.no_recovery)
    # Heal everything, then (K-durable) kill -9 and restart every process, then recovery and final reads.
    nemesis.heal_all()
    crashed = unexpected_exits(cluster)  # before the final restart, which would hide them
    if not args.no_final_restart:
        names = [n.name for n in state.nodes]
        nemesis.record("start-kill", {"targets": names, "spec": "final-full-restart"})
        for node in state.nodes:
            cluster.kill(node)
        order = [["server"], ["meta"], ["blob"], ["proxy"], ["gateway"]]
        for roles in order:
            group = [n for n in state.nodes if n.role in roles]
            for node in group:
                cluster.start(node)
            for node in group:
                await_back(cluster, node, 60)
        nemesis.record("stop-kill", {"targets": names})
    healed_at = time.monotonic()
    recovery = recover(ctx, histories, healed_at, args.recovery_limit)
    summary["recovery"] = recovery
    repair = None
    if nemesis.last_disk_fault is not None:
        repair = await_clean_repair(cluster, time.monotonic())
        summary["repair"] = repair
        print(f"  repair: {repair['detail']}", flush=True)
    unread = final_reads(ctx, histories, register_keys, sets, append_keys, args, blob_keys, multipart_keys,
                         version_keys, versions)
    for history in histories.values():
        history.close()
    nemesis.close()
    if ctx.errors or nemesis.errors:
        for error in ctx.errors + nemesis.errors:
            print(error, file=sys.stderr)
        raise HarnessError("a worker or the nemesis crashed (see above)")

    # Checks.
    problems: list[str] = []
    vacuous: list[str] = []
    inconclusive = False
    summary["faults"] = nemesis.windows
    summary["restarts"] = nemesis.restarts
    summary["workload_seconds"] = round(workload_seconds, 1)
    summary["ok_per_s_before_first_fault"] = ok_before_first
    if crashed:
        problems.append(f"K-crash: processes died without a nemesis: {', '.join(crashed)}")
    for workload, history in histories.items():
        model = {"register": "s3-register", "blob": "s3-register", "multipart": "s3-register", "set": "set",
                 "append": "list-append", "versions": "s3-register"}[workload]
        code, text = run_check(silo_jepsen, history.path, model, out, args.check_budget)
        first_line = text.strip().splitlines()[0] if text.strip() else f"exit {code}"
        print(f"  check {workload}: {first_line}", flush=True)
        verdicts[workload] = {0: "VALID", 1: "ANOMALY", 3: "INCONCLUSIVE"}.get(code, f"ERROR (exit {code})")
        if code == 3:
            inconclusive = True
        elif code != 0:
            problems.append(f"{workload}: {verdicts[workload]}\n{text}")
        stats = history_stats(history.path, nemesis.windows)
        summary[f"stats_{workload}"] = stats
        latency_svg.write(history.path, nemesis.windows, out / f"latency-{workload}.svg",
                      f"{workload}: latency of every operation (seed {args.seed}; shaded: fault windows)")
        inside, outside = stats["ok_latency_ms_inside_faults"], stats["ok_latency_ms_outside_faults"]
        print(f"  latency {workload}: ok p50/p99 {fmt_ms(outside['p50'])}/{fmt_ms(outside['p99'])} outside faults, "
              f"{fmt_ms(inside['p50'])}/{fmt_ms(inside['p99'])} inside ({inside['n']} ops)", flush=True)
        if stats["http_500_outside_faults"]:
            problems.append(f"K-crash: {workload}: HTTP 500 with no fault active (events "
                            f"{stats['http_500_outside_faults'][:10]})")
        if stats["ok_total"] < args.min_ok:
            vacuous.append(f"{workload}: {stats['ok_total']} ok ops < {args.min_ok}")
        if workload == "register":
            ops = stats["ops"]
            if ops.get("cas", {}).get("ok", 0) < 1:
                vacuous.append("register: no successful cas")
            if sum(ops.get(f, {}).get("fail", 0) for f in ("cas", "create")) < 1:
                vacuous.append("register: no 412 (PreconditionFailed)")
        if args.target == "cluster" and nemesis.windows and stats["ok_in_fault_windows"] < 20:
            vacuous.append(f"{workload}: {stats['ok_in_fault_windows']} ok ops inside fault windows < 20")
    missing_faults = sorted(set(faults) - {w["fault"] for w in nemesis.windows})
    if missing_faults:
        vacuous.append(f"fault classes never injected: {', '.join(missing_faults)} (raise --time-limit)")
    summary["leader_changes"] = nemesis.leader_changes
    meta_faults = [f for f in faults if f in ("kill-leader", "kill-majority", "pause-leader", "partition-leader",
                                              "transfer-leader")]
    if args.target == "cluster" and meta_faults and nemesis.leader_changes < 1:
        vacuous.append(f"no leader change seen under {', '.join(meta_faults)}")
    if any(f.startswith("kill") for f in faults) and not nemesis.restarts:
        vacuous.append("a kill run without a restart")
    if ok_before_first is not None and ok_before_first < 0.5 * args.rate:
        vacuous.append(f"{ok_before_first:.1f} ok ops/s before the first fault < half the target rate {args.rate}")
    if repair is not None and not repair["ok"]:
        problems.append(f"K-blob: {repair['detail']}")
    if unread:
        problems.append(f"K-durable: the final reads of {', '.join(unread)} never succeeded")
    problems.extend(ctx.violations[:20])
    if "versions" in histories:
        problems.extend(versions.check())
        listings = sum(len(v) for v in versions.lists.values())
        acked = sum(len(v) for v in versions.acked.values())
        summary["versions"] = {"acknowledged": acked, "listings": listings, "reads_by_version": versions.reads_by_version}
        print(f"  versions: {acked} acknowledged versions, {listings} listings, "
              f"{versions.reads_by_version} reads by version id", flush=True)
        if listings < 10 or versions.reads_by_version < 5:
            vacuous.append(f"versions: {listings} listings, {versions.reads_by_version} reads by version id")
    if not recovery["ok"]:
        problems.append(f"K-live: {recovery['detail']}")
    summary["problems"] = problems
    summary["vacuous"] = vacuous
    for problem in problems:
        print(f"FAIL {problem}", flush=True)
    for reason in vacuous:
        print(f"VACUOUS {reason}", flush=True)
    if problems:
        return EXIT_FAIL
    if inconclusive:
        return EXIT_INCONCLUSIVE
    if vacuous:
        return EXIT_VACUOUS
    return EXIT_PASS


def iter_ok_before(path: Path, before_ns: int):
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            event = json.loads(line)
            if event["time"] > before_ns:
                return
            if event["kind"] == "op" and event["type"] == "ok":
                yield event


def unexpected_exits(cluster: Cluster) -> list[str]:
    from cluster import pid_state
    return [n.name for n in cluster.state.nodes if pid_state(n.pid, n.pid_start) == "dead"]


def recover(ctx: Context, histories: dict[str, HistoryFile], healed_at: float, limit: float) -> dict:
    """K-live: after the final heal a write and a read must succeed within `limit` seconds. Recorded in
    the register history (key `recovery`), so they are checked too."""
    history = histories.get("register") or next(iter(histories.values()))
    probe = RegisterWorker(ctx, history, 10_000, 1, random.Random(0), 0, keys=RegisterKeys(random.Random(0), 0, 1))
    wrote = read = None
    deadline = healed_at + limit
    index = 0
    try:
        while time.monotonic() < deadline and (wrote is None or read is None):
            probe.gateway_index = index % len(ctx.endpoints)
            index += 1
            if history is histories.get("register"):
                if wrote is None:
                    value = probe.next_value()
                    outcome, _ = probe.call("put", "recovery", value, "PUT", "recovery", body=value.encode())
                    if outcome == "ok":
                        wrote = time.monotonic() - healed_at
                if wrote is not None:
                    outcome, _ = probe.call("get", "recovery", None, "GET", "recovery", read=True, decode=probe.decode)
                    if outcome == "ok":
                        read = time.monotonic() - healed_at
            else:
                name, url = ctx.endpoints[probe.gateway_index]
                try:
                    client = S3(url, ctx.access_key, ctx.secret_key, ctx.timeout)
                    if client.request("PUT", ctx.bucket, "recovery", body=b"x").status == 200:
                        wrote = wrote or time.monotonic() - healed_at
                        if client.request("GET", ctx.bucket, "recovery").status == 200:
                            read = time.monotonic() - healed_at
                    client.close()
                except Exception:  # noqa: BLE001
                    pass
            if wrote is None or read is None:
                time.sleep(0.2)
    finally:
        for client in probe.clients.values():
            client.close()
    ok = wrote is not None and read is not None
    detail = (f"write after {wrote:.2f}s, read after {read:.2f}s" if ok else
              f"no acknowledged write and read within {limit:.0f}s of the final heal (write: {wrote}, read: {read})")
    print(f"  recovery: {detail}", flush=True)
    return {"ok": ok, "write_s": wrote, "read_s": read, "detail": detail}


def await_clean_repair(cluster: Cluster, since: float) -> dict:
    """K-blob: waits until gateway g1's repairer logs two complete passes after `since` that found every copy
    good (repaired, unrepairable and unreachable all 0): the copies lost or damaged by N14 are back. Passes
    that repaired copies on the way are counted. A pass that found no good copy of some chunk is data loss."""
    log = Path(cluster.node("gateway", 1).log)
    offset = log.stat().st_size
    deadline = since + REPAIR_BOUND_S
    clean = repaired = unrepairable = 0
    while time.monotonic() < deadline:
        text = log.read_bytes()[offset:].decode(errors="replace")
        clean = repaired = unrepairable = 0
        for line in text.splitlines():
            if "repair pass complete" not in line:
                continue
            counts = {k: int(v) for k, v in re.findall(r"(repaired|unrepairable|unreachable)=(\d+)", line)}
            repaired += counts.get("repaired", 0)
            unrepairable += counts.get("unrepairable", 0)
            clean = clean + 1 if not any(counts.values()) else 0
        if unrepairable:
            return {"ok": False, "detail": f"{unrepairable} copies had no good copy to repair from (data loss)"}
        if clean >= 2:
            seconds = time.monotonic() - since
            return {"ok": True, "seconds": round(seconds, 1), "repaired_after_heal": repaired,
                    "detail": f"every copy good {seconds:.1f}s after the heal ({repaired} repaired since)"}
        time.sleep(0.5)
    return {"ok": False, "detail": f"no clean repair pass within {REPAIR_BOUND_S}s of the final heal "
                                   f"({repaired} copies repaired meanwhile)"}


def final_reads(ctx: Context, histories, register_keys: RegisterKeys, sets: SetState, append_keys: AppendKeys,
                args, blob_keys: RegisterKeys | None = None,
                multipart_keys: RegisterKeys | None = None, version_keys: RegisterKeys | None = None,
                versions: VersionState | None = None) -> list[str]:
    """After heal (and restart): read every key and every set, recorded, with a fresh process per key, a
    bounded number of attempts each. A key that cannot be read at all fails the run later (as missing)."""
    clean_args = argparse.Namespace(**{**vars(args), "fault_inject_stale_read": 0.0, "fault_inject_lost_element": 0.0})
    local = Context(**{**ctx.__dict__, "stop": threading.Event(), "args": clean_args})
    missing: list[str] = []

    def read_each(reader: Worker, keys: list[str], read) -> None:
        """Each key read by a fresh process, through each gateway in turn, up to 5 attempts."""
        for key in keys:
            for attempt in range(5):
                reader.gateway_index = attempt % len(ctx.endpoints)
                if read(key) == "ok":
                    break
                time.sleep(0.5)
            else:
                missing.append(key)
            reader.process += 1

    if "register" in histories:
        reader = RegisterWorker(local, histories["register"], 20_000, 1, random.Random(1), 0,
                                keys=RegisterKeys(random.Random(0), 0, 1))
        read_each(reader, register_keys.all, reader.get)
    if "blob" in histories and blob_keys is not None:
        reader = BlobWorker(local, histories["blob"], 20_000, 1, random.Random(1), 0,
                            keys=RegisterKeys(random.Random(0), 0, 1, prefix="b"))
        read_each(reader, blob_keys.all, reader.get)
    if "multipart" in histories and multipart_keys is not None:
        reader = MultipartWorker(local, histories["multipart"], 20_000, 1, random.Random(1), 0,
                                 keys=RegisterKeys(random.Random(0), 0, 1, prefix="m"))
        read_each(reader, multipart_keys.all, reader.get)
    if "versions" in histories and version_keys is not None and versions is not None:
        reader = VersionWorker(local, histories["versions"], 20_000, 1, random.Random(1), 0,
                               keys=RegisterKeys(random.Random(0), 0, 1, prefix="v"), versions=versions)
        read_each(reader, version_keys.all, reader.get)
        # One more listing of every key after the restart: acknowledged versions survive it, in order.
        read_each(reader, version_keys.all, reader.list_versions)
    if "set" in histories:
        reader = SetWorker(local, histories["set"], 20_000, 1, random.Random(1), 0, sets=sets)
        read_each(reader, sets.all, reader.read)
    if "append" in histories:
        reader = AppendWorker(local, histories["append"], 20_000, 1, random.Random(1), 0, keys=append_keys)
        read_each(reader, append_keys.all, reader.read)
    return missing


if __name__ == "__main__":
    sys.exit(main())
