"""Process handling shared by ops/bench/s3 and Tests/compat.

Both start servers on free loopback ports, each in its own session with its output in a log file, wait
until they answer, and stop them by PID at the end (SIGTERM to the process group the server leads, then
SIGKILL), also when the run fails or is interrupted. The bench also runs bounded client commands and
reads how much CPU a server's processes used. Standard library only: this module is imported both from
the bench's venv and from the test suite's.
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_USED_PORTS: set[int] = set()


def free_port(also_plus: int = 0) -> int:
    """A loopback TCP port free now, never handed out before by this process.

    With also_plus, port + also_plus is free too (SeaweedFS puts each gRPC port at its HTTP port + 10000).
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if also_plus:
            if port + also_plus > 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port + also_plus))
                except OSError:
                    continue
        if port in _USED_PORTS or port + also_plus in _USED_PORTS:
            continue
        _USED_PORTS.update({port, port + also_plus})
        return port
    raise RuntimeError("no free loopback port")


def answers_http(port: int, host: str = "127.0.0.1") -> bool:
    """True when something on host:port answers a plain GET / with an HTTP status line."""
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            connection.settimeout(5)
            return connection.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


def wait_ready(process: subprocess.Popen, ready, timeout: float, interval: float = 0.2) -> str:
    """Poll ready() until it returns true: "ready", "exited" (the process died first) or "timeout"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if ready():
                return "ready"
        except Exception:  # noqa: BLE001 - any failure of the probe means "not ready yet"
            pass
        time.sleep(interval)
    return "exited" if process.poll() is not None else "timeout"


def log_tail(path: Path, lines: int = 15, separator: str = "\n") -> str:
    try:
        return separator.join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the process group the process leads (it and its children); the PID alone if it leads none."""
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
    except ProcessLookupError:
        pass


@dataclass
class Completed:
    """A bounded command that ran: exit code (or "timeout"), its output, wall and CPU seconds."""

    rc: int | str
    out: str
    err: str
    seconds: float
    cpu_seconds: float  # user + system time of the command and the children it waited for


class Processes:
    """The processes one run started, by PID, each the leader of its own session, so none outlives the run."""

    def __init__(self) -> None:
        self._started: dict[int, subprocess.Popen] = {}
        atexit.register(self.kill_all)

    def start(self, argv, log_path: Path, env=None, cwd=None, banner: str | None = None) -> subprocess.Popen:
        """Start argv in a new session, stdout and stderr appended to log_path (after banner, if any)."""
        with open(log_path, "ab") as log:
            if banner:
                log.write(banner.encode())
                log.flush()
            process = subprocess.Popen([str(part) for part in argv], stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        self._started[process.pid] = process
        return process

    def forget(self, process: subprocess.Popen) -> None:
        self._started.pop(process.pid, None)

    def stop(self, process: subprocess.Popen | None, grace: float = 15) -> int | None:
        """SIGTERM and wait (a clean shutdown); SIGKILL if it is not gone in time. Returns the exit code."""
        if process is None:
            return None
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        self.forget(process)
        return process.returncode

    def kill(self, process: subprocess.Popen | None) -> None:
        """kill -9: no chance to flush or clean up."""
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)
        self.forget(process)

    def stop_all(self, grace: float = 15) -> None:
        for process in reversed(list(self._started.values())):
            self.stop(process, grace)

    def kill_all(self) -> None:
        for process in list(self._started.values()):
            self.kill(process)

    def run_bounded(self, argv, timeout: float, env=None, cwd=None) -> Completed:
        """Run a client command in its own session; kill that session when it outlives timeout."""
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen([str(part) for part in argv], stdout=out, stderr=err,
                                       stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
            self._started[process.pid] = process
            deadline = time.monotonic() + timeout
            rc, usage = None, None
            try:
                while rc is None:
                    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                    if pid:
                        rc = os.waitstatus_to_exitcode(status)
                        process.returncode = rc
                    elif time.monotonic() > deadline:
                        _signal_group(process, signal.SIGKILL)
                        _, _, usage = os.wait4(process.pid, 0)
                        process.returncode = rc = "timeout"
                    else:
                        time.sleep(0.02)
            finally:
                if rc is None:  # interrupted: do not leave the client running
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout=10)
                self.forget(process)
            out.seek(0)
            err.seek(0)
            text_out = out.read().decode(errors="replace")
            text_err = err.read().decode(errors="replace")
        cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
        return Completed(rc, text_out, text_err, time.perf_counter() - started, cpu)


_TICKS = os.sysconf("SC_CLK_TCK")


def session_cpu_seconds(session_id: int) -> float:
    """User + system CPU seconds of every live process in a session (threads included), plus what they
    collected from children they reaped. The servers lead their own session, so this is all of a server."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone in the meantime
        fields = stat[stat.rfind(b")") + 2:].split()
        # fields[0] is field 3 of proc(5) (state): session is field 6, utime..cstime are fields 14-17.
        if int(fields[3]) == session_id:
            total += sum(int(value) for value in fields[11:15])
    return total / _TICKS


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this Python process (for clients that run in it, such as boto3)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
