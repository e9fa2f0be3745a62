"""What the process tests of Tests/cluster share: the silo binary, a cluster started for a test module and
stopped by pid (its directory removed), and boto3 clients of its gateways."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ops" / "pylib"))
from cluster import Cluster, ClusterError  # noqa: E402,F401  (re-exported for the tests)

SILO = os.environ.get("SILO_BIN", str(REPO / ".build" / "debug" / "silo"))


@contextlib.contextmanager
def running_cluster(prefix: str, **layout):
    """`Cluster.up(**layout)` in a fresh temporary directory; on exit every process is stopped by pid and
    the directory removed."""
    directory = tempfile.mkdtemp(prefix=prefix)
    cluster = Cluster.up(directory, silo=SILO, **layout)
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(directory, ignore_errors=True)


def s3_client(cluster: Cluster, index: int = 0, attempts: int = 1):
    """A boto3 client of gateway `index` as root; `attempts` 1 (the default): no SDK retry hides an outcome."""
    return boto3.client(
        "s3", endpoint_url=cluster.state.s3_endpoints[index], region_name="us-east-1",
        aws_access_key_id=cluster.state.root_access_key, aws_secret_access_key=cluster.state.root_secret_key,
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                      s3={"addressing_style": "path"}))
