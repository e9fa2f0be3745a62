"""The run's processes (one registry, stopped by PID at the end) and perf sampling of a server."""

import shutil
import signal
import subprocess
import sys
import time

from siloprocs import Processes

from .config import OUT_DIR

PROCESSES = Processes()


def log(message):
    """Progress goes to stderr so stdout stays the key=value result stream."""
    print(f"# {message}", file=sys.stderr, flush=True)


class perf_record:
    """Samples a server process with call graphs for the duration of a `with` block (BENCH_PROFILE)."""

    def __init__(self, system, key):
        self.system = system
        self.data = OUT_DIR / f"perf-{key}-{system.name}.data"
        self.report = OUT_DIR / f"perf-{key}-{system.name}.txt"

    def __enter__(self):
        argv = ["perf", "record", "-F", "499", "-g", "-p", str(self.system.process.pid), "-o", str(self.data)]
        self.process = PROCESSES.start(argv, OUT_DIR / f"perf-{self.system.name}.log")
        time.sleep(1)  # let perf attach before the workload starts
        return self

    def __exit__(self, *_):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            PROCESSES.stop(self.process)
        PROCESSES.forget(self.process)
        demangle = shutil.which("swift-demangle")
        with open(self.report, "w") as handle:
            for extra in (["--no-children", "--sort", "symbol"], ["--children", "--sort", "symbol", "-g", "none"]):
                report = subprocess.run(["perf", "report", "-i", str(self.data), "--stdio", "--percent-limit", "0.5",
                                         *extra], capture_output=True, text=True, timeout=600).stdout
                if demangle:
                    report = subprocess.run([demangle, "--simplified"], input=report, capture_output=True,
                                            text=True, timeout=120).stdout
                handle.write(report + "\n")
        log(f"perf report in {self.report}")
        return False
