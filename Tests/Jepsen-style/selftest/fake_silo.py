#!/usr/bin/env python3
"""A stand-in for the `silo` binary that follows the cluster CLI contract just enough for ops/cluster's
self-test: `meta`/`blob`/`gateway` print their ready line and answer HTTP 200 (`/_silo/health` included)
on their listen address; `server` answers HTTP. FAKE_SILO_FAIL=<role>:<id> makes that process exit at
start with a message, to test the error path. It stores nothing and speaks no S3."""

import http.server
import os
import socketserver
import sys

args = sys.argv[1:]
role = args[0]


def option(name):
    return args[args.index(name) + 1] if name in args else None


if role == "meta":
    listen, line = option("--api"), f"silo meta {option('--id')} ready"
elif role == "blob":
    listen, line = option("--listen"), f"silo blob {option('--id')} serving on {option('--listen')}"
elif role == "gateway":
    listen, line = option("--listen"), f"Silo is serving S3 on http://{option('--listen')}"
else:
    listen, line = option("--address"), None
if os.environ.get("FAKE_SILO_FAIL") == f"{role}:{option('--id')}":
    print(f"fake {role} {option('--id')}: failing at start as asked", flush=True)
    sys.exit(3)
if not os.environ.get("SILO_CLUSTER_SECRET") and role != "server":
    print("fake: SILO_CLUSTER_SECRET missing", flush=True)
    sys.exit(4)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


host, port = listen.rsplit(":", 1)
socketserver.TCPServer.allow_reuse_address = True
server = socketserver.TCPServer((host, int(port)), Handler)
if line:
    print(line, flush=True)
server.serve_forever()
