#!/usr/bin/env python3
"""Self-test of ops/pylib/cluster.py against fake_silo.py (no Silo build needed, a few seconds):
up / status / kill / restart / pause / down through the command line, cluster.json contents, the error
path (a process that exits at start is named, with its log, and everything started is stopped), and, as
root with nftables, the netns layout with a cut and a heal. Exit 0 when every check holds."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "ops" / "pylib"))
from cluster import Cluster, ClusterError, http_status, pid_state  # noqa: E402

FAKE = str(HERE / "fake_silo.py")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def cli(*args, env=None):
    return subprocess.run([str(REPO / "ops" / "cluster"), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="silo-cluster-selftest-"))
    try:
        d = str(base / "c1")
        r = cli("up", "--silo", FAKE, "--dir", d)
        check(r.returncode == 0, f"up: 3 meta, 4 blob, 2 gateways ({r.stderr.strip()[:200]})")
        state = json.loads((Path(d) / "cluster.json").read_text())
        check(len(state["nodes"]) == 9 and len(state["s3_endpoints"]) == 2, "cluster.json lists 9 processes, 2 endpoints")
        check(oct(os.stat(Path(d) / "cluster.json").st_mode & 0o777) == "0o600", "cluster.json is 0600")
        m1 = state["nodes"][0]
        check(m1["argv"][1:3] == ["meta", "--id"] and "--peers" in m1["argv"] and m1["env"].get("SILO_CLUSTER_SECRET"),
              "meta argv has --id/--peers, env has the cluster secret")
        g1 = [n for n in state["nodes"] if n["name"] == "g1"][0]
        check(g1["env"].get("SILO_ROOT_ACCESS_KEY") == state["root_access_key"], "gateway env has the root key")
        check(cli("status", "--dir", d).returncode == 0, "status: all alive")
        check(cli("kill", "--dir", d, "meta", "2").returncode == 0, "kill meta 2")
        r = cli("status", "--dir", d)
        check(r.returncode == 1 and "dead" in r.stdout, "status after kill: exit 1, m2 dead")
        check(cli("restart", "--dir", d, "meta", "2").returncode == 0, "restart meta 2")
        check(cli("status", "--dir", d).returncode == 0, "status after restart: all alive")
        check(cli("pause", "--dir", d, "gateway", "1").returncode == 0, "pause gateway 1")
        cluster = Cluster.load(d)
        check(pid_state(cluster.node("gateway", 1).pid, cluster.node("gateway", 1).pid_start) == "stopped",
              "paused gateway is stopped")
        r = cli("down", "--dir", d)
        check(r.returncode == 0, "down (a paused process included)")
        cluster = Cluster.load(d)
        check(all(pid_state(n.pid, n.pid_start) == "dead" for n in cluster.state.nodes), "down: every pid is gone")

        d2 = str(base / "c2")
        r = cli("up", "--silo", FAKE, "--dir", d2, env={"FAKE_SILO_FAIL": "blob:3"})
        check(r.returncode == 1 and "b3" in r.stderr and "failing at start" in r.stderr,
              "a blob that exits at start is named, with the tail of its log")
        cluster = Cluster.load(d2)
        check(all(pid_state(n.pid, n.pid_start) == "dead" for n in cluster.state.nodes),
              "after a failed up nothing is left running")

        if os.geteuid() == 0 and shutil.which("nft"):
            d3 = str(base / "c3")
            try:
                cluster = Cluster.up(d3, meta=3, blob=1, gateways=1, silo=FAKE, netns=True, ready_timeout=30)
                gateway = cluster.node("gateway", 1)
                check(http_status(gateway.addresses["s3"], "/_silo/health") == 200, "netns: gateway reachable")
                cluster.cut("g1", ["client"])
                check(http_status(gateway.addresses["s3"], "/", timeout=1) is None, "netns: cut from the client")
                cluster.heal()
                check(http_status(gateway.addresses["s3"], "/") == 200, "netns: healed")
                cluster.down()
                names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
                bridge = cluster.state.bridge
                links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
                check(f"silo{bridge.removeprefix('silobr')}-" not in names and f" {bridge}:" not in links,
                      "netns: namespaces and bridge removed")
            except ClusterError as error:
                check(False, f"netns layout: {error}")
        else:
            print("skip netns (needs root and nft)")
    finally:
        for directory in base.iterdir():
            try:
                Cluster.load(directory).down(grace=5)
            except ClusterError:
                pass
        shutil.rmtree(base, ignore_errors=True)
    print(f"cluster self-test: {'FAIL ' + str(len(failures)) if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
