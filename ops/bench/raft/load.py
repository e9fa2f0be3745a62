#!/usr/bin/env python3
"""Closed-loop put load for ops/bench/raft: N workers, each with its own connection, each sending one 256-byte
put and waiting for its answer before the next. The same shape drives RaftKit (its frame protocol, see
node/main.swift) and etcd, either through its native gRPC API (`etcd-grpc`: KV/Put over HTTP/2, one
channel per worker, the PutRequest encoded by hand so no generated code is needed) or through the v3
HTTP/JSON gateway (`etcd`: POST /v3/kv/put). Prints one JSON line:
{"ops": n, "seconds": s, "ops_per_s": x, "p50_ms": a, "p99_ms": b, "errors": e, "client_cpu_s": c}.
With --processes P the workers are split over P processes (Python is the slower side otherwise);
client_cpu_s is their CPU time, so a reader can see whether the load generator was the limit."""
import argparse, asyncio, base64, json, os, resource, struct, subprocess, sys, time

VALUE_BYTES = 256


def value_for(worker, n):
    head = struct.pack("<IQ", worker, n)
    return head + bytes((i * 7 + n) & 0xFF for i in range(VALUE_BYTES - len(head)))


async def raftkit_leader(endpoints):
    """Asks the first node; follows its NotLeader hint. Returns (host, port) of the leader's client port."""
    for _ in range(200):
        for endpoint in endpoints:
            host, port = endpoint.split(":")
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(struct.pack(">IQ", 4, 0) + b"ping")
                await writer.drain()
                header = await reader.readexactly(12)
                length, _ = struct.unpack(">IQ", header)
                body = await reader.readexactly(length)
                writer.close()
                if body[0] == 0:
                    return host, int(port)
            except OSError:
                pass
        await asyncio.sleep(0.1)
    raise SystemExit("no RaftKit leader found")


async def raftkit_worker(address, worker, deadline, latencies, errors):
    reader, writer = await asyncio.open_connection(*address)
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        payload = value_for(worker, n)
        start = time.perf_counter()
        writer.write(struct.pack(">IQ", len(payload), n) + payload)
        await writer.drain()
        header = await reader.readexactly(12)
        length, request = struct.unpack(">IQ", header)
        body = await reader.readexactly(length)
        if body[0] == 0 and request == n:
            latencies.append(time.perf_counter() - start)
        else:
            errors[0] += 1
    writer.close()


async def etcd_leader(endpoints):
    for _ in range(200):
        for endpoint in endpoints:
            try:
                status = await etcd_request(endpoint, "/v3/maintenance/status", b"{}")
                if status["header"]["member_id"] == status["leader"]:
                    return endpoint
            except (OSError, KeyError, ValueError):
                pass
        await asyncio.sleep(0.1)
    raise SystemExit("no etcd leader found")


async def etcd_request(endpoint, path, body, connection=None):
    host, port = endpoint.split(":")
    reader, writer = connection or await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + endpoint.encode() +
        b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    data = await reader.readexactly(length)
    if connection is None:
        writer.close()
    if b" 200 " not in status_line:
        raise ValueError(status_line)
    return json.loads(data)


async def etcd_worker(endpoint, worker, deadline, latencies, errors):
    host, port = endpoint.split(":")
    connection = await asyncio.open_connection(host, int(port))
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        key = base64.b64encode(b"bench/%d/%d" % (worker, n))
        value = base64.b64encode(value_for(worker, n))
        body = b'{"key":"' + key + b'","value":"' + value + b'"}'
        start = time.perf_counter()
        try:
            await etcd_request(endpoint, "/v3/kv/put", body, connection)
            latencies.append(time.perf_counter() - start)
        except ValueError:
            errors[0] += 1
    connection[1].close()


def protobuf_bytes_field(number, data):
    """A length-delimited protobuf field (wire type 2)."""
    length, varint = len(data), b""
    while True:
        byte, length = length & 0x7F, length >> 7
        varint += bytes([byte | 0x80]) if length else bytes([byte])
        if not length:
            break
    return bytes([number << 3 | 2]) + varint + data


async def etcd_grpc_worker(endpoint, worker, deadline, latencies, errors):
    import grpc  # from the bench venv (ops/bench/raft/run.sh installs it)
    async with grpc.aio.insecure_channel(endpoint) as channel:
        # No serializers: the request is the encoded etcdserverpb.PutRequest {key = 1, value = 2}.
        put = channel.unary_unary("/etcdserverpb.KV/Put")
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            request = protobuf_bytes_field(1, b"bench/%d/%d" % (worker, n)) + protobuf_bytes_field(2, value_for(worker, n))
            start = time.perf_counter()
            try:
                await put(request, timeout=10)
                latencies.append(time.perf_counter() - start)
            except grpc.aio.AioRpcError:
                errors[0] += 1


async def run(args, first_worker, workers):
    endpoints = args.endpoints.split(",")
    latencies, errors = [], [0]
    if args.kind == "raftkit":
        target = await raftkit_leader(endpoints)
        worker = raftkit_worker
    else:
        target = await etcd_leader(endpoints)
        worker = etcd_grpc_worker if args.kind == "etcd-grpc" else etcd_worker
    deadline = time.perf_counter() + args.seconds
    start = time.perf_counter()
    await asyncio.gather(*(worker(target, first_worker + i, deadline, latencies, errors) for i in range(workers)))
    return {"latencies": latencies, "seconds": time.perf_counter() - start, "errors": errors[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["raftkit", "etcd", "etcd-grpc"], required=True)
    parser.add_argument("--endpoints", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--worker-range")  # internal: "first,count" for a child process
    args = parser.parse_args()
    if args.worker_range:
        first, count = map(int, args.worker_range.split(","))
        result = asyncio.run(run(args, first, count))
        print(json.dumps(result))
        return
    processes = max(1, min(args.processes, args.concurrency))
    children = []
    for p in range(processes):
        count = args.concurrency // processes + (1 if p < args.concurrency % processes else 0)
        first = sum(args.concurrency // processes + (1 if q < args.concurrency % processes else 0) for q in range(p))
        children.append(subprocess.Popen(
            [sys.executable, __file__, "--kind", args.kind, "--endpoints", args.endpoints, "--seconds",
             str(args.seconds), "--worker-range", "%d,%d" % (first, count)], stdout=subprocess.PIPE))
    latencies, errors, seconds = [], 0, 0.0
    for child in children:
        out, _ = child.communicate(timeout=args.seconds + 60)
        result = json.loads(out.decode().strip().splitlines()[-1])
        latencies += result["latencies"]
        errors += result["errors"]
        seconds = max(seconds, result["seconds"])
    children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    latencies.sort()
    def percentile(q):
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    print(json.dumps({"ops": len(latencies), "seconds": round(seconds, 3),
                      "ops_per_s": round(len(latencies) / seconds, 1) if seconds else 0,
                      "p50_ms": round(percentile(0.50), 3), "p90_ms": round(percentile(0.90), 3),
                      "p99_ms": round(percentile(0.99), 3), "p999_ms": round(percentile(0.999), 3), "errors": errors,
                      "client_cpu_s": round(children_cpu.ru_utime + children_cpu.ru_stime, 2)}))


if __name__ == "__main__":
    main()
