"""A local Silo cluster: `silo meta` x N, `silo blob` x N, `silo gateway` x N (or one `silo server`).

`ops/cluster` is the command line; `Tests/Jepsen-style` uses the Python API (`Cluster.up`, `kill`,
`restart`, `pause`, `resume`, `down`). Every process runs in its own session with its output in
DIR/logs/<name>.log; DIR/cluster.json records, for each process, its role, id, pid (and the kernel's start
time of that pid, so a recycled pid is never signalled), listen addresses, data directory and the exact
argv and environment that restart it, plus the S3 endpoints and the root credentials.

Two network layouts:
- loopback (default): every process listens on a free 127.0.0.1 port;
- netns (`--netns`): every process runs in its own network namespace, joined by a veth pair to one bridge
  on 10.213.<n>.0/24 (the harness reaches the gateways through the bridge address .1). Partitions are then
  nftables rules inside the namespaces (`cut`, `heal`). Root only; the namespaces and the bridge are
  removed by `down`.

With `proxies` (loopback only), every gateway reaches each metadata replica's RPC and each blob node
through its own fault-injecting TCP proxy (ops/pylib/tcpproxy.py, a `proxy` process per target, named
p-m1, p-b2, …); `set_proxy_faults` delays, clogs or resets what they forward (the harness's delay nemesis).
Raft traffic between replicas is direct.

Standard library only (imported from the tests' venv and from plain python3).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from siloprocs import free_port, log_tail  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120
STOP_GRACE_S = 15
HEALTH_PATH = "/_silo/health"
# The environment a node gets from the cluster (everything else is inherited from whoever starts it).
NODE_ENV_KEYS = ("SILO_CLUSTER_SECRET", "SILO_ROOT_ACCESS_KEY", "SILO_ROOT_SECRET_KEY", "SILO_LOG_LEVEL")
# Ports inside a namespace (every node has its own address there, so fixed ports cannot collide).
NETNS_PORTS = {"raft": 7100, "api": 7200, "blob": 7300, "s3": 9000, "metrics": 9300}


class ClusterError(RuntimeError):
    pass


def default_silo() -> Path:
    return Path(os.environ.get("SILO_BIN", REPO / ".build" / "debug" / "silo"))


@dataclass
class Node:
    """One process of the cluster, with everything needed to (re)start and signal it."""

    role: str  # meta | blob | gateway | server
    id: int
    name: str  # m1, b2, g1, s1
    argv: list[str]
    env: dict[str, str]  # the cluster's variables; the rest of the environment is inherited
    data: str | None
    addresses: dict[str, str]  # raft/api (meta), listen (blob), s3 (gateway, server)
    log: str
    ready_line: str | None  # what the process prints once serving (None: probe HTTP instead)
    pid: int | None = None
    pid_start: int | None = None  # field 22 of /proc/PID/stat when we started it
    netns: str | None = None
    ip: str | None = None
    veth: str | None = None


@dataclass
class ClusterState:
    dir: str
    layout: str  # loopback | netns
    silo: str
    root_access_key: str
    root_secret_key: str
    cluster_secret: str
    s3_endpoints: list[str]
    nodes: list[Node]
    bridge: str | None = None
    bridge_ip: str | None = None
    subnet: str | None = None
    created: float = field(default_factory=time.time)
    # True: blob nodes register in the cluster map (`silo blob --meta --advertise`) and gateways follow it
    # (no --blob); False: gateways get the fixed `--blob` list.
    blob_map: bool = False
    # The metadata replicas' RPC addresses (what blob nodes of the map and `silo admin` are given).
    meta_apis: str = ""


# ---------------------------------------------------------------------------------------------------
# pid helpers (work for processes this Python started and for those an earlier `ops/cluster up` started)


def _proc_stat(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()  # fields[0] is field 3 (state)


def pid_start_time(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None  # field 22 of proc(5)


def pid_state(pid: int | None, start: int | None) -> str:
    """"alive", "stopped" (SIGSTOP), "dead" (gone, a zombie, or the pid now belongs to another process)."""
    if not pid:
        return "dead"
    fields = _proc_stat(pid)
    if fields is None or (start is not None and int(fields[19]) != start):
        return "dead"
    state = fields[0].decode()
    if state in ("Z", "X"):
        return "dead"
    return "stopped" if state in ("T", "t") else "alive"


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _signal(node: Node, signum: int) -> bool:
    """Signal the process group the node leads (its own session). False if it is not running."""
    if pid_state(node.pid, node.pid_start) == "dead":
        return False
    try:
        os.killpg(node.pid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        os.kill(node.pid, signum)
    return True


def _wait_dead(node: Node, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(node.pid)
        if pid_state(node.pid, node.pid_start) == "dead":
            return True
        time.sleep(0.05)
    return False


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def http_status(address: str, path: str, timeout: float = 2.0) -> int | None:
    host, port = address.rsplit(":", 1)
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException):
        return None


def _read_exactly(sock, count: int) -> bytes:
    data = b""
    while len(data) < count:
        piece = sock.recv(count - len(data))
        if not piece:
            raise OSError("connection closed")
        data += piece
    return data


def _read_frame(sock) -> tuple[int, bytes]:
    """One metadata-RPC frame: [payload length u32][id u64][payload], big-endian (RaftKit's FrameCodec)."""
    header = _read_exactly(sock, 12)
    length = int.from_bytes(header[:4], "big")
    if length > 1 << 20:
        raise OSError(f"frame of {length} bytes")
    return int.from_bytes(header[4:], "big"), _read_exactly(sock, length)


def _frame(request_id: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + request_id.to_bytes(8, "big") + payload


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _meta_call(address: str, secret: str, payload: bytes, timeout: float) -> bytes | None:
    """One authenticated metadata-RPC request (nonce, HMAC proof, request id 1); the reply, or None."""
    import hashlib
    import hmac
    import socket
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            _, nonce = _read_frame(sock)
            proof = hmac.new(secret.encode(), nonce + b"silo-meta/1", hashlib.sha256).digest()
            sock.sendall(_frame(0, proof) + _frame(1, payload))
            request_id, reply = _read_frame(sock)
            return reply if request_id == 1 and reply else None
    except OSError:
        return None


def meta_transfer_leadership(address: str, secret: str, to_id: int, timeout: float = 5.0) -> str:
    """Asks the node at address (the leader) to hand leadership to node to_id (MetaWire op 4, membership
    request 4). Returns "ok", "not_leader", "refused", "outcome_unknown", "fault" or "no answer"."""
    body = bytes([4, 4])
    value = to_id
    while True:  # varint
        if value < 0x80:
            body += bytes([value])
            break
        body += bytes([(value & 0x7F) | 0x80])
        value >>= 7
    reply = _meta_call(address, secret, body, timeout)
    if reply is None:
        return "no answer"
    return {0: "ok", 1: "not_leader", 2: "refused", 3: "outcome_unknown"}.get(reply[0], "fault")


def meta_status(address: str, secret: str, timeout: float = 2.0) -> dict | None:
    """A metadata node's status over its RPC (MetaWire op 3): id, term, role, leader id, commit and applied
    index, voters, learners. None if it does not answer in time."""
    reply = _meta_call(address, secret, bytes([3]), timeout)
    if reply is None or reply[0] != 0:
        return None
    try:
        body, offset, values = reply[1:], 0, []
        for _ in range(5):
            value, offset = _varint(body, offset)
            values.append(value)
        length, offset = _varint(body, offset)
        role = body[offset:offset + length].decode()
        offset += length
        lists = []
        for _ in range(2):
            count, offset = _varint(body, offset)
            items = []
            for _ in range(count):
                item, offset = _varint(body, offset)
                items.append(item)
            lists.append(items)
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    return {"id": values[0], "term": values[1], "leader_id": values[2], "commit_index": values[3],
            "applied_index": values[4], "role": role, "voters": lists[0], "learners": lists[1]}


# ---------------------------------------------------------------------------------------------------


class Cluster:
    """A running (or recorded) cluster. Build one with `Cluster.up(...)` or `Cluster.load(dir)`."""

    def __init__(self, state: ClusterState):
        self.state = state

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory) -> "Cluster":
        path = Path(directory) / "cluster.json"
        try:
            raw = json.loads(path.read_text())
        except OSError as error:
            raise ClusterError(f"no cluster at {directory}: {error}") from None
        raw["nodes"] = [Node(**n) for n in raw["nodes"]]
        return cls(ClusterState(**raw))

    def save(self) -> None:
        path = Path(self.state.dir) / "cluster.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self.state), indent=2) + "\n")
        os.chmod(tmp, 0o600)  # it holds the root secret and the cluster secret
        os.replace(tmp, path)

    @classmethod
    def up(cls, directory, meta: int = 3, blob: int = 4, gateways: int = 2, silo=None, single: bool = False,
           netns: bool = False, log_level: str | None = None, ready_timeout: float = READY_TIMEOUT_S,
           echo=None, root_keys: tuple[str, str] | None = None, replicas: int | None = None,
           repair_every: int | None = None, proxies: bool = False, blob_disks: int = 1,
           gateway_args: list[str] | None = None, meta_env: dict | None = None,
           blob_map: bool = False, blob_disk_faults: bool = False) -> "Cluster":
        """Start a cluster (or, with single, one `silo server`) and wait until it serves S3.

        `blob_map`: blob nodes register in the cluster map in the metadata and send it heartbeats
        (`silo blob --meta … --advertise …`), and gateways follow the map (no `--blob`); gateways start once
        every blob node is in the map. Otherwise gateways get a fixed `--blob` list (the default: tests that
        name blob zones or weights on the gateways' command line need it).

        `replicas`: copies of each chunk (the gateways' --replicas; default theirs). `repair_every`: gateway 1
        runs the chunk repairer with a pass every that many seconds (off when None). `proxies`: gateways talk
        to meta and blob nodes through fault-injecting proxies (loopback layout only). `blob_disks`: data
        directories per blob node (DATA/d1, DATA/d2, …; 1: DATA itself). `gateway_args`: extra flags for every
        gateway (e.g. `--blob-zone 1=a,2=b`). `meta_env`: extra environment of every metadata holder (meta
        nodes, or the single server), e.g. the debug fault switch `SILO_FAULT_LOSE_UNSYNCED=1`.

        On any failure every process already started is stopped again and the error names the process and
        shows the tail of its log."""
        directory = Path(directory).resolve()
        if (directory / "cluster.json").exists():
            old = cls.load(directory)
            if any(pid_state(n.pid, n.pid_start) != "dead" for n in old.state.nodes):
                raise ClusterError(f"a cluster is already running in {directory} (ops/cluster down --dir {directory})")
        if proxies and (netns or single):
            raise ClusterError("proxies need the loopback layout of a cluster (not --netns, not --single)")
        silo = Path(silo or default_silo()).resolve()
        if not silo.exists():
            raise ClusterError(f"silo binary not found at {silo} (build it, set SILO_BIN or pass --silo)")
        (directory / "logs").mkdir(parents=True, exist_ok=True)
        (directory / "data").mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        state = ClusterState(
            dir=str(directory), layout="netns" if netns else "loopback", silo=str(silo),
            root_access_key=root_keys[0] if root_keys else "SILOROOT" + secrets.token_hex(6).upper(),
            root_secret_key=root_keys[1] if root_keys else secrets.token_urlsafe(30),
            cluster_secret=secrets.token_hex(32), s3_endpoints=[], nodes=[], blob_map=blob_map)
        cluster = cls(state)
        try:
            if netns:
                cluster._make_bridge()
            cluster._plan(meta, blob, gateways, single, log_level, replicas, repair_every, proxies, blob_disks,
                          gateway_args or [], meta_env or {}, blob_disk_faults)
            for node in state.nodes:
                if netns:
                    cluster._make_namespace(node)
            cluster.save()
            order = [["server"]] if single else [["meta"], ["blob"], ["proxy"], ["gateway"]]
            for roles in order:
                group = [n for n in state.nodes if n.role in roles]
                for node in group:
                    cluster.start(node)
                    if echo:
                        echo(f"started {node.name} pid {node.pid}")
                cluster.save()
                for node in group:
                    cluster.wait_ready(node, ready_timeout)
                if roles == ["blob"] and blob_map and group:
                    cluster.wait_blob_map(lambda nodes, ids=[n.id for n in group]: all(
                        nodes.get(i, {}).get("state") == "up" for i in ids), ready_timeout)
            deadline = time.monotonic() + ready_timeout
            for node in cluster.s3_nodes():
                cluster.wait_healthy(node, max(1.0, deadline - time.monotonic()))
            cluster.save()
            return cluster
        except BaseException:
            cluster.down(quiet=True)
            raise

    def _plan(self, meta: int, blob: int, gateways: int, single: bool, log_level: str | None,
              replicas: int | None = None, repair_every: int | None = None, proxies: bool = False,
              blob_disks: int = 1, gateway_args: list[str] | None = None, meta_env: dict | None = None,
              blob_disk_faults: bool = False) -> None:
        state = self.state
        directory = Path(state.dir)

        def address(node_index: int, kind: str) -> str:
            if state.layout == "netns":
                return f"{self._ip_for(node_index)}:{NETNS_PORTS[kind]}"
            return f"127.0.0.1:{free_port()}"

        base_env = {"SILO_CLUSTER_SECRET": state.cluster_secret}
        if log_level:
            base_env["SILO_LOG_LEVEL"] = log_level
        root_env = {"SILO_ROOT_ACCESS_KEY": state.root_access_key, "SILO_ROOT_SECRET_KEY": state.root_secret_key}
        log_args = ["--log-level", log_level] if log_level else []
        index = 0

        def node(role: str, nid: int, name: str, argv_tail, env, data, addresses, ready_line) -> Node:
            # Debug builds shift their wall clock by the milliseconds in this file (absent: 0), for the
            # harness's clock nemeses (`set_clock_offset`); release builds ignore it.
            env = {**env, "SILO_FAULT_CLOCK_FILE": str(directory / "clocks" / name)}
            return Node(role=role, id=nid, name=name, argv=[state.silo, *argv_tail, *log_args], env=env,
                        data=str(data) if data else None, addresses=addresses,
                        log=str(directory / "logs" / f"{name}.log"), ready_line=ready_line,
                        ip=self._ip_for(index) if state.layout == "netns" else None)

        if single:
            s3 = address(index, "s3")
            data = directory / "data" / "s1"
            state.nodes.append(node("server", 1, "s1", ["server", "--address", s3, "--data", str(data)],
                                    {**root_env, **({"SILO_LOG_LEVEL": log_level} if log_level else {}),
                                     **(meta_env or {})}, data,
                                    {"s3": s3}, None))
            state.s3_endpoints = [f"http://{s3}"]
            return
        metas = []
        for i in range(1, meta + 1):
            metas.append((i, address(index + i - 1, "raft"), address(index + i - 1, "api")))
        peers = ",".join(f"{i}={raft}" for i, raft, _ in metas)
        for i, raft, api in metas:
            data = directory / "data" / f"m{i}"
            metrics = address(index, "metrics")
            state.nodes.append(node("meta", i, f"m{i}", ["meta", "--id", str(i), "--data", str(data), "--raft", raft,
                                                         "--api", api, "--peers", peers, "--metrics", metrics],
                                    {**base_env, **(meta_env or {})}, data, {"raft": raft, "api": api, "metrics": metrics},
                                    f"silo meta {i} ready"))
            index += 1
        blobs = []
        for i in range(1, blob + 1):
            listen = address(index, "blob")
            data = directory / "data" / f"b{i}"
            metrics = address(index, "metrics")
            disks = [str(data)] if blob_disks <= 1 else [str(data / f"d{d}") for d in range(1, blob_disks + 1)]
            blob_env = dict(base_env)
            if blob_disk_faults:
                # Debug builds: the node reads injected disk faults (`full`, `eio`) from this file, outside its
                # data directory so that a lost disk does not take the switch with it (BlobNode DiskFaults).
                blob_env["SILO_FAULT_BLOB_DISK_FILE"] = str(directory / "faults" / f"b{i}.disk")
            state.nodes.append(node("blob", i, f"b{i}", ["blob", "--id", str(i), "--data", ",".join(disks),
                                                         "--listen", listen, "--metrics", metrics],
                                    blob_env, data, {"listen": listen, "metrics": metrics},
                                    f"silo blob {i} serving on"))
            blobs.append((i, listen))
            index += 1
        direct_metas = list(metas)
        if proxies:
            def proxied(name: str, target: str) -> str:
                listen = f"127.0.0.1:{free_port()}"
                control = directory / "proxies" / f"{name}.json"
                control.parent.mkdir(parents=True, exist_ok=True)
                state.nodes.append(Node(role="proxy", id=len([n for n in state.nodes if n.role == "proxy"]) + 1,
                                        name=name, argv=[sys.executable, str(Path(__file__).resolve().parent
                                                                            / "tcpproxy.py"),
                                                         "--listen", listen, "--target", target,
                                                         "--control", str(control)],
                                        env={}, data=None, addresses={"listen": listen, "target": target,
                                                                      "control": str(control)},
                                        log=str(directory / "logs" / f"{name}.log"), ready_line="tcpproxy ready"))
                return listen
            metas = [(i, raft, proxied(f"p-m{i}", api)) for i, raft, api in metas]
            blobs = [(i, proxied(f"p-b{i}", listen)) for i, listen in blobs]
        meta_apis = ",".join(api for _, _, api in metas)
        state.meta_apis = ",".join(api for _, _, api in direct_metas)
        if state.blob_map:
            # Each node registers the address gateways reach it at (its proxy's, with proxies).
            for i, reached in blobs:
                blob = next(n for n in state.nodes if n.role == "blob" and n.id == i)
                blob.argv[blob.argv.index("--metrics"):blob.argv.index("--metrics")] = [
                    "--meta", state.meta_apis, "--advertise", reached]
        blob_list = ",".join(f"{i}={listen}" for i, listen in blobs)
        for i in range(1, gateways + 1):
            s3 = address(index, "s3")
            metrics = address(index, "metrics")
            extra = (["--replicas", str(replicas)] if replicas else []) + list(gateway_args or [])
            if repair_every and i == 1:
                extra += ["--repair-every", str(repair_every)]
            # BUCKET.localhost works for virtual-host-style clients on one machine.
            blob_args = [] if state.blob_map else ["--blob", blob_list]
            state.nodes.append(node("gateway", i, f"g{i}", ["gateway", "--listen", s3, "--meta", meta_apis,
                                                            *blob_args, "--domain", "localhost",
                                                            "--metrics", metrics, *extra],
                                    {**base_env, **root_env}, None, {"s3": s3, "metrics": metrics},
                                    "Silo is serving S3 on"))
            state.s3_endpoints.append(f"http://{s3}")
            index += 1

    # --- the blob cluster map -----------------------------------------------------------------------

    def admin(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """`silo admin cluster ARGS… --meta META_APIS` with the cluster secret; raises on a non-zero exit."""
        argv = [self.state.silo, "admin", "cluster", *args, "--meta", self.state.meta_apis]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                env={**os.environ, "SILO_CLUSTER_SECRET": self.state.cluster_secret})
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(argv[1:])} exited {result.returncode}: {result.stderr.strip()}")
        return result

    def blob_map(self) -> tuple[int, dict[int, dict]]:
        """The cluster map's epoch and its nodes by id (`silo admin cluster blob list --json`)."""
        listed = json.loads(self.admin("blob", "list", "--json").stdout)
        return listed["epoch"], {node["id"]: node for node in listed["nodes"]}

    def wait_blob_map(self, condition, timeout: float) -> dict[int, dict]:
        """Polls the map until `condition(nodes by id)` holds; returns those nodes. Raises after `timeout`."""
        deadline, nodes = time.monotonic() + timeout, {}
        while True:
            try:
                _, nodes = self.blob_map()
                if condition(nodes):
                    return nodes
            except (ClusterError, subprocess.TimeoutExpired, ValueError):
                pass
            if time.monotonic() >= deadline:
                raise ClusterError(f"the blob cluster map did not reach the expected state within {timeout:.0f}s: "
                                   f"{ {i: n.get('state') for i, n in nodes.items()} }")
            time.sleep(0.5)

    def add_blob(self, ready_timeout: float = READY_TIMEOUT_S) -> Node:
        """Starts one more blob node that registers in the cluster map (clusters made with `blob_map`), waits
        until the map holds it up, and records it in cluster.json."""
        if not self.state.blob_map:
            raise ClusterError("add-blob needs a cluster whose gateways follow the blob map (up --blob-map)")
        if self.state.layout != "loopback":
            raise ClusterError("add-blob works on the loopback layout only")
        directory = Path(self.state.dir)
        nid = max([n.id for n in self.state.nodes if n.role == "blob"], default=0) + 1
        listen, metrics = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        data = directory / "data" / f"b{nid}"
        template = next((n for n in self.state.nodes if n.role in ("meta", "blob")), None)
        log_args = []
        if template and "--log-level" in template.argv:
            log_args = ["--log-level", template.argv[template.argv.index("--log-level") + 1]]
        node = Node(role="blob", id=nid, name=f"b{nid}",
                    argv=[self.state.silo, "blob", "--id", str(nid), "--data", str(data), "--listen", listen,
                          "--meta", self.state.meta_apis, "--advertise", listen, "--metrics", metrics, *log_args],
                    env={"SILO_CLUSTER_SECRET": self.state.cluster_secret,
                         "SILO_FAULT_CLOCK_FILE": str(directory / "clocks" / f"b{nid}")},
                    data=str(data), addresses={"listen": listen, "metrics": metrics},
                    log=str(directory / "logs" / f"b{nid}.log"), ready_line=f"silo blob {nid} serving on")
        self.state.nodes.append(node)
        self.start(node)
        self.save()
        self.wait_ready(node, ready_timeout)
        self.wait_blob_map(lambda nodes: nodes.get(nid, {}).get("state") == "up", ready_timeout)
        return node

    # --- namespaces ---------------------------------------------------------------------------------

    def _ip_for(self, node_index: int) -> str:
        return f"{self.state.subnet}.{10 + node_index}"

    def _make_bridge(self) -> None:
        if os.geteuid() != 0:
            raise ClusterError("--netns needs root (network namespaces, a bridge and veth pairs)")
        existing = _sh("ip", "-o", "link", "show", check=False).stdout
        for n in range(1, 250):
            bridge = f"silobr{n}"
            if bridge not in existing:
                break
        else:
            raise ClusterError("no free bridge name silobr1..249")
        self.state.bridge = bridge
        self.state.subnet = f"10.213.{n}"
        self.state.bridge_ip = f"{self.state.subnet}.1"
        _sh("ip", "link", "add", bridge, "type", "bridge")
        _sh("ip", "addr", "add", f"{self.state.bridge_ip}/24", "dev", bridge)
        _sh("ip", "link", "set", bridge, "up")
        self.save_quietly()

    def save_quietly(self) -> None:
        try:
            self.save()
        except OSError:
            pass

    def _make_namespace(self, node: Node) -> None:
        tag = self.state.bridge.removeprefix("silobr")
        node.netns = f"silo{tag}-{node.name}"
        node.veth = f"sv{tag}{node.name}"  # host side; at most 15 characters
        peer = node.veth + "p"
        _sh("ip", "netns", "add", node.netns)
        self.save_quietly()
        _sh("ip", "link", "add", node.veth, "type", "veth", "peer", "name", peer)
        _sh("ip", "link", "set", peer, "netns", node.netns)
        _sh("ip", "link", "set", node.veth, "master", self.state.bridge)
        _sh("ip", "link", "set", node.veth, "up")
        ns = ["ip", "netns", "exec", node.netns]
        _sh(*ns, "ip", "link", "set", "lo", "up")
        _sh(*ns, "ip", "link", "set", peer, "name", "eth0")
        _sh(*ns, "ip", "addr", "add", f"{node.ip}/24", "dev", "eth0")
        _sh(*ns, "ip", "link", "set", "eth0", "up")
        node.argv = [*ns, *node.argv]

    def _remove_namespaces(self) -> None:
        for node in self.state.nodes:
            if node.netns:
                _sh("ip", "netns", "del", node.netns, check=False)  # removes the veth pair with it
        if self.state.bridge:
            _sh("ip", "link", "del", self.state.bridge, check=False)

    def cut(self, node_name: str, from_names, direction: str = "both", loss_percent: int | None = None) -> None:
        """Drop packets between node_name and each of from_names (netns layout only).

        direction "in": node_name receives nothing from them; "out": it sends them nothing; "both".
        loss_percent: drop only that share of the packets, at random (nft numgen), instead of all."""
        node = self.node_named(node_name)
        if not node.netns:
            raise ClusterError("partitions need the netns layout (ops/cluster up --netns)")
        ips = sorted(self.ip_of(name) for name in from_names)
        if not ips:
            return
        self._nft(node, "add table inet silo")
        self._nft(node, "add chain inet silo input { type filter hook input priority 0 ; }")
        self._nft(node, "add chain inet silo output { type filter hook output priority 0 ; }")
        addresses = "{ " + ", ".join(ips) + " }"
        verdict = "drop" if loss_percent is None else f"numgen random mod 100 < {int(loss_percent)} drop"
        if direction in ("in", "both"):
            self._nft(node, f"add rule inet silo input ip saddr {addresses} {verdict}")
        if direction in ("out", "both"):
            self._nft(node, f"add rule inet silo output ip daddr {addresses} {verdict}")

    def set_clock_offset(self, name: str, milliseconds: int) -> None:
        """Shifts the wall clock of process `name` by `milliseconds` (0: back to the real time), within about
        50 ms, in debug builds (WallClock reads SILO_FAULT_CLOCK_FILE)."""
        path = Path(self.state.dir) / "clocks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{int(milliseconds)}\n")
        os.replace(tmp, path)

    def proxies(self) -> list[Node]:
        return [n for n in self.state.nodes if n.role == "proxy"]

    def set_proxy_faults(self, faults: dict | None, names: list[str] | None = None) -> None:
        """Writes the control file of the named proxies (default all): `{"delay_ms": [lo, hi]}`,
        `{"reset_percent": p}`, `{"clog": true}`, or None to forward untouched. Proxies apply it within
        about 0.1 s (tcpproxy.py polls the file)."""
        for node in self.proxies():
            if names is not None and node.name not in names:
                continue
            path = Path(node.addresses["control"])
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(faults or {}) + "\n")
            os.replace(tmp, path)

    def heal(self, node_name: str | None = None) -> None:
        for node in self.state.nodes:
            if node.netns and (node_name is None or node.name == node_name):
                _sh("ip", "netns", "exec", node.netns, "nft", "delete", "table", "inet", "silo", check=False)

    def ip_of(self, name: str) -> str:
        if name in ("client", "host"):
            return self.state.bridge_ip
        return self.node_named(name).ip

    def _nft(self, node: Node, rule: str) -> None:
        _sh("ip", "netns", "exec", node.netns, "nft", rule)

    # --- processes ----------------------------------------------------------------------------------

    def node(self, role: str, nid: int) -> Node:
        for node in self.state.nodes:
            if node.role == role and node.id == int(nid):
                return node
        raise ClusterError(f"no {role} {nid} in this cluster")

    def node_named(self, name: str) -> Node:
        for node in self.state.nodes:
            if node.name == name:
                return node
        raise ClusterError(f"no process {name} in this cluster")

    def s3_nodes(self) -> list[Node]:
        return [n for n in self.state.nodes if n.role in ("gateway", "server")]

    def start(self, node: Node) -> None:
        if pid_state(node.pid, node.pid_start) != "dead":
            raise ClusterError(f"{node.name} is still running (pid {node.pid})")
        if node.data:
            Path(node.data).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **node.env}
        with open(node.log, "ab") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} start {' '.join(node.argv)}\n".encode())
            log.flush()
            process = subprocess.Popen(node.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, start_new_session=True)
        node.pid = process.pid
        node.pid_start = pid_start_time(process.pid)
        node.log_offset = Path(node.log).stat().st_size  # type: ignore[attr-defined]  (not saved)
        self.save_quietly()

    def wait_ready(self, node: Node, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the node prints its ready line (or, without one, answers HTTP). Raises naming it."""
        offset = getattr(node, "log_offset", 0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(node.pid)
            if pid_state(node.pid, node.pid_start) == "dead":
                raise ClusterError(f"{node.name} ({node.role} {node.id}, pid {node.pid}) exited while starting; "
                                   f"tail of {node.log}:\n{log_tail(Path(node.log), 25)}")
            if node.ready_line is None:
                if http_status(node.addresses["s3"], "/") is not None:
                    return
            else:
                try:
                    with open(node.log, "rb") as log:
                        log.seek(offset)
                        if node.ready_line.encode() in log.read():
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise ClusterError(f"{node.name} ({node.role} {node.id}, pid {node.pid}) not ready within {timeout:.0f}s; "
                           f"tail of {node.log}:\n{log_tail(Path(node.log), 25)}")

    def healthy(self, node: Node, timeout: float = 2.0) -> bool:
        """A gateway: /_silo/health answers 200. A gateway without that endpoint (404) and a single server:
        a signed ListBuckets as root answers 200."""
        if node.role == "gateway":
            status = http_status(node.addresses["s3"], HEALTH_PATH, timeout)
            if status != 404:
                return status == 200
        return self.list_buckets_ok(node, timeout)

    def list_buckets_ok(self, node: Node, timeout: float = 2.0) -> bool:
        from s3lite import S3
        client = S3(f"http://{node.addresses['s3']}", self.state.root_access_key, self.state.root_secret_key, timeout)
        try:
            return client.request("GET", "").status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            client.close()

    def wait_healthy(self, node: Node, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(node.pid)
            if pid_state(node.pid, node.pid_start) == "dead":
                raise ClusterError(f"{node.name} exited before it was healthy; tail of {node.log}:\n"
                                   f"{log_tail(Path(node.log), 25)}")
            if self.healthy(node):
                return
            time.sleep(0.2)
        status = http_status(node.addresses["s3"], HEALTH_PATH)
        raise ClusterError(f"{node.name} not healthy within {timeout:.0f}s (last {HEALTH_PATH}: {status}); tail of "
                           f"{node.log}:\n{log_tail(Path(node.log), 25)}")

    def meta_statuses(self, timeout: float = 1.0) -> dict[str, dict | None]:
        return {n.name: meta_status(n.addresses["api"], self.state.cluster_secret, timeout)
                for n in self.state.nodes if n.role == "meta"}

    def meta_leader(self, timeout: float = 1.0) -> tuple[str | None, int]:
        """The meta node that says it leads in the highest term any node reports, and that term."""
        best, best_term = None, -1
        for name, status in self.meta_statuses(timeout).items():
            if status and status["role"].lower() == "leader" and status["term"] > best_term:
                best, best_term = name, status["term"]
        return best, best_term

    def kill(self, node: Node, signum: int = signal.SIGKILL) -> bool:
        """kill -9 (default) the node's process group; wait until it is gone. False if it was not running."""
        if not _signal(node, signum):
            return False
        if signum == signal.SIGKILL:
            if pid_state(node.pid, node.pid_start) == "stopped":
                pass  # SIGKILL ends a stopped process too
            if not _wait_dead(node, 10):
                raise ClusterError(f"{node.name} (pid {node.pid}) survived SIGKILL for 10 s")
        return True

    def stop(self, node: Node, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM (after SIGCONT, in case it is paused), then SIGKILL after grace seconds."""
        if pid_state(node.pid, node.pid_start) == "dead":
            _reap(node.pid) if node.pid else None
            return
        _signal(node, signal.SIGCONT)
        _signal(node, signal.SIGTERM)
        if not _wait_dead(node, grace):
            self.kill(node)

    def restart(self, node: Node, ready_timeout: float = READY_TIMEOUT_S, graceful: bool = False) -> None:
        """Kill -9 (or stop, with graceful) and start again with the same argv, env and data."""
        if graceful:
            self.stop(node)
        else:
            self.kill(node)
        self.start(node)
        self.wait_ready(node, ready_timeout)

    def pause(self, node: Node) -> bool:
        return _signal(node, signal.SIGSTOP)

    def resume(self, node: Node) -> bool:
        return _signal(node, signal.SIGCONT)

    def status(self) -> list[dict]:
        rows = []
        for node in self.state.nodes:
            row = {"name": node.name, "role": node.role, "id": node.id, "pid": node.pid,
                   "state": pid_state(node.pid, node.pid_start), "addresses": node.addresses}
            if node.role == "gateway":
                row["health"] = http_status(node.addresses["s3"], HEALTH_PATH)
            if node.role == "meta" and row["state"] == "alive":
                status = meta_status(node.addresses["api"], self.state.cluster_secret)
                row["raft"] = (f"{status['role']} term {status['term']} leader {status['leader_id']} "
                               f"commit {status['commit_index']}") if status else "no status"
            if node.role == "server":
                row["health"] = "ListBuckets ok" if self.list_buckets_ok(node) else "ListBuckets failed"
            rows.append(row)
        return rows

    def down(self, grace: float = STOP_GRACE_S, quiet: bool = False) -> list[str]:
        """Stop every process by pid (SIGCONT + SIGTERM, SIGKILL after grace), gateways first; heal and
        remove the namespaces and the bridge. Returns the names of processes that needed SIGKILL."""
        order = {"gateway": 0, "server": 0, "blob": 1, "meta": 2}
        living = [n for n in self.state.nodes if pid_state(n.pid, n.pid_start) != "dead"]
        for node in living:
            _signal(node, signal.SIGCONT)
            _signal(node, signal.SIGTERM)
        killed = []
        deadline = time.monotonic() + grace
        for node in sorted(living, key=lambda n: order.get(n.role, 3)):
            if not _wait_dead(node, max(0.1, deadline - time.monotonic())):
                self.kill(node)
                killed.append(node.name)
        for node in self.state.nodes:
            if node.pid:
                _reap(node.pid)
        try:
            self._remove_namespaces()
        finally:
            self.save_quietly()
        return killed


# ---------------------------------------------------------------------------------------------------
# Command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ops/cluster", description="A local Silo cluster on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a cluster and wait until every gateway is healthy")
    up.add_argument("--meta", type=int, default=3, choices=[1, 3, 5])
    up.add_argument("--blob", type=int, default=4)
    up.add_argument("--gateways", type=int, default=2)
    up.add_argument("--dir", default="silo-cluster")
    up.add_argument("--silo", default=None, help="the silo binary (default $SILO_BIN or .build/debug/silo)")
    up.add_argument("--single", action="store_true", help="one `silo server` instead of meta/blob/gateway")
    up.add_argument("--netns", action="store_true", help="each process in its own network namespace (root)")
    up.add_argument("--log-level", default=None)
    up.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT_S)
    up.add_argument("--proxies", action="store_true",
                    help="gateways reach meta and blob nodes through fault-injecting TCP proxies (loopback only)")
    up.add_argument("--blob-disks", type=int, default=1, help="data directories per blob node (default 1)")
    up.add_argument("--replicas", type=int, default=None, help="copies of each chunk (default: the gateways' own)")
    up.add_argument("--repair-every", type=int, default=600,
                    help="seconds between chunk-repair passes, run by gateway 1 (0: off; default 600)")
    up.add_argument("--blob-map", action="store_true",
                    help="blob nodes register in the cluster map (silo blob --meta) and gateways follow it (no --blob)")
    add_blob = sub.add_parser("add-blob", help="start one more blob node that registers in the cluster map")
    add_blob.add_argument("--dir", default="silo-cluster")
    for name, helptext in (("status", "pids alive, health of each gateway"), ("down", "stop every process")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--dir", default="silo-cluster")
    for name in ("restart", "kill", "pause", "resume"):
        p = sub.add_parser(name, help=f"{name} one process")
        p.add_argument("--dir", default="silo-cluster")
        p.add_argument("role", choices=["meta", "blob", "gateway", "server"])
        p.add_argument("id", type=int)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            cluster = Cluster.up(args.dir, args.meta, args.blob, args.gateways, args.silo, args.single, args.netns,
                                 args.log_level, args.ready_timeout, echo=lambda line: print(line, flush=True),
                                 replicas=args.replicas, repair_every=args.repair_every or None,
                                 proxies=args.proxies, blob_disks=args.blob_disks, blob_map=args.blob_map)
            print(f"cluster up in {cluster.state.dir} ({cluster.state.dir}/cluster.json)")
            for endpoint in cluster.state.s3_endpoints:
                print(f"  S3: {endpoint}")
            print(f"  AWS_ACCESS_KEY_ID={cluster.state.root_access_key}")
            print(f"  AWS_SECRET_ACCESS_KEY={cluster.state.root_secret_key}")
            return 0
        cluster = Cluster.load(args.dir)
        if args.command == "status":
            rows = cluster.status()
            for row in rows:
                health = f"  health {row['health']}" if "health" in row else ""
                health += f"  {row['raft']}" if "raft" in row else ""
                addresses = " ".join(f"{k}={v}" for k, v in row["addresses"].items())
                print(f"{row['name']:4} {row['role']:8} pid {row['pid']!s:8} {row['state']:8} {addresses}{health}")
            return 0 if all(r["state"] == "alive" for r in rows) else 1
        if args.command == "add-blob":
            node = cluster.add_blob()
            print(f"{node.name} up in the blob cluster map, pid {node.pid}, chunk protocol on {node.addresses['listen']}")
            return 0
        if args.command == "down":
            killed = cluster.down()
            print("stopped" + (f" (SIGKILL: {', '.join(killed)})" if killed else ""))
            return 0
        node = cluster.node(args.role, args.id)
        if args.command == "restart":
            cluster.restart(node)
            print(f"{node.name} restarted, pid {node.pid}")
        elif args.command == "kill":
            print(f"{node.name} killed" if cluster.kill(node) else f"{node.name} was not running")
        elif args.command == "pause":
            cluster.pause(node)
        elif args.command == "resume":
            cluster.resume(node)
        cluster.save()
        return 0
    except ClusterError as error:
        print(f"ops/cluster: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
