#!/usr/bin/env python3
"""Self-test of ops/pylib/tcpproxy.py (a few seconds, no Silo build): through a proxy to a local echo
server, bytes pass untouched; with a delay every reply comes at least the lower bound later; a clog holds
every byte until it is lifted, then delivers them in order; a reset aborts the connection. The proxy is
started as a process and stopped by pid. Exit 0 when every check holds."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PROXY = REPO / "ops" / "pylib" / "tcpproxy.py"
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def echo_server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve(connection):
        with connection:
            while data := connection.recv(65536):
                connection.sendall(data)

    def accept():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_faults(control: Path, faults: dict) -> None:
    tmp = control.with_suffix(".tmp")
    tmp.write_text(json.dumps(faults))
    os.replace(tmp, control)
    time.sleep(0.3)  # the proxy polls every 0.1 s


def round_trip(port: int, payload: bytes, timeout: float = 5.0) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        received = b""
        while len(received) < len(payload):
            piece = s.recv(65536)
            if not piece:
                break
            received += piece
    return received, time.monotonic() - started


def main() -> int:
    server, target = echo_server()
    work = Path(tempfile.mkdtemp(prefix="tcpproxy-selftest-"))
    control = work / "control.json"
    port = free_port()
    proxy = subprocess.Popen([sys.executable, str(PROXY), "--listen", f"127.0.0.1:{port}",
                              "--target", f"127.0.0.1:{target}", "--control", str(control)],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        check("tcpproxy ready" in proxy.stdout.readline(), "proxy prints its ready line")
        payload = os.urandom(200_000)
        got, _ = round_trip(port, payload)
        check(got == payload, "no faults: 200 kB echoed byte for byte")

        set_faults(control, {"delay_ms": [150, 200]})
        got, elapsed = round_trip(port, b"ping")
        check(got == b"ping" and elapsed >= 0.3, f"delay 150-200 ms each way: echo after {elapsed:.3f} s (>= 0.3)")

        set_faults(control, {"clog": True})
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"first")
            s.settimeout(0.5)
            try:
                early = s.recv(100)
            except socket.timeout:
                early = None
            check(early is None, "clog: nothing arrives while clogged")
            s.sendall(b"second")
            set_faults(control, {})
            s.settimeout(5)
            received = b""
            while len(received) < len(b"firstsecond"):
                piece = s.recv(100)
                if not piece:
                    break
                received += piece
            check(received == b"firstsecond", f"unclogged: held bytes delivered in order ({received!r})")

        set_faults(control, {"reset_percent": 100})
        try:
            got, _ = round_trip(port, b"doomed", timeout=3)
            reset = got == b""
        except (ConnectionError, socket.timeout):
            reset = True
        check(reset, "reset 100 %: the connection is aborted, nothing echoed")
        set_faults(control, {})
        got, _ = round_trip(port, b"again")
        check(got == b"again", "faults lifted: a new connection echoes again")
    finally:
        os.killpg(proxy.pid, signal.SIGTERM)
        try:
            proxy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proxy.pid, signal.SIGKILL)
            proxy.wait()
        server.close()
    print("tcpproxy self-test: " + ("passed" if not failures else f"{len(failures)} FAILED"), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
