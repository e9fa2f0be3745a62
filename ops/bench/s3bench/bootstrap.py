"""Before anything else: the venv with the pinned clients, the Debian tools, then re-exec inside the venv.

Runs with any python3 and the standard library only (nothing of the venv is importable yet).
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .config import BENCH, REQUIREMENTS, VENV

STAMP = VENV / ".requirements.sha256"
# Debian packages the bench uses when they are there: command -> package.
DEBIAN_TOOLS = {"iperf3": "iperf3", "fio": "fio", "wrk": "wrk", "nginx": "nginx"}
_APT_UPDATED = []


def log(message):
    """Progress goes to stderr so stdout stays the key=value result stream."""
    print(f"# {message}", file=sys.stderr, flush=True)


def apt_install(packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _APT_UPDATED:
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=600)
        _APT_UPDATED.append(True)
    log(f"apt-get install {' '.join(packages)}")
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages, env=env,
                   timeout=900, stdout=subprocess.DEVNULL)


def ensure_venv():
    """Create or refresh the venv when the pinned requirements changed; install missing Debian tools."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    python = VENV / "bin" / "python"
    have = STAMP.read_text().strip() if STAMP.exists() else ""
    if not python.exists() or have != wanted:
        log(f"creating venv {VENV} from {REQUIREMENTS}")
        result = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)])
        if result.returncode != 0 and os.geteuid() == 0:
            apt_install(["python3-venv"])  # Debian's python3 needs it for ensurepip
            result = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)])
        if result.returncode != 0:
            sys.exit("ops/bench/s3: cannot create a venv (install python3-venv)")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-input", "-r", str(REQUIREMENTS)],
                       check=True, timeout=900)
        STAMP.write_text(wanted + "\n")
    missing = [package for tool, package in DEBIAN_TOOLS.items() if not shutil.which(tool)]
    if missing:
        if os.geteuid() == 0:
            apt_install(missing)
        else:
            log(f"missing {missing} and not root: the lines that need them will say unavailable")
    return python


def reexec_in_venv():
    """Run `python -m s3bench` again with the venv's python, unless this already is it."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = ensure_venv()
    pythonpath = os.pathsep.join([str(BENCH), str(BENCH.parent / "pylib")])
    env = dict(os.environ, PYTHONPATH=pythonpath + (os.pathsep + os.environ["PYTHONPATH"]
                                                    if os.environ.get("PYTHONPATH") else ""))
    os.execve(str(python), [str(python), "-m", "s3bench"] + sys.argv[1:], env)
