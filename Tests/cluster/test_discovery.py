"""A gateway finds the metadata group's members by itself: started with only m1's RPC address, it learns
m2 and m3 from the addresses the replicas publish through the log (`silo meta` does that at start), so
when m1 is killed it keeps serving through the others. Stopped by pid at the end, like every cluster test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clusterkit import running_cluster, s3_client  # noqa: E402


def wait_for_log(path: str, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in Path(path).read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def test_gateway_given_one_meta_address_survives_its_loss():
    with running_cluster("silo-discovery-test-", meta=3, blob=1, gateways=1, replicas=1) as cluster:
        gateway, m1 = cluster.node_named("g1"), cluster.node_named("m1")
        cluster.kill(gateway)
        argv = list(gateway.argv)
        argv[argv.index("--meta") + 1] = m1.addresses["api"]
        gateway.argv = argv
        cluster.start(gateway)
        cluster.wait_ready(gateway, 60)
        s3 = s3_client(cluster, 0)
        s3.create_bucket(Bucket="discovery")
        s3.put_object(Bucket="discovery", Key="before", Body=b"one")
        # The gateway logs each change of its rotation; it must have taken in m2 and m3.
        assert wait_for_log(gateway.log, "metadata members changed", 20), "the gateway learned no members"
        cluster.kill(m1)
        deadline, last = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            try:
                s3.put_object(Bucket="discovery", Key="after", Body=b"two")
                break
            except (ClientError, EndpointConnectionError, ReadTimeoutError) as error:  # an election in progress
                last = error
                time.sleep(0.5)
        else:
            raise AssertionError(f"no write succeeded without m1 within 20 s: {last}")
        assert s3.get_object(Bucket="discovery", Key="before")["Body"].read() == b"one"
        assert s3.get_object(Bucket="discovery", Key="after")["Body"].read() == b"two"
