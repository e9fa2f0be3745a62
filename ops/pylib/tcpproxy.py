#!/usr/bin/env python3
"""A fault-injecting TCP proxy: listens on one address, forwards every connection to one target, and
applies the faults named in a small JSON control file, re-read whenever it changes.

    tcpproxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT --control FILE

Control file (absent or `{}`: forward untouched):
    {"delay_ms": [LO, HI]}     every piece read is written LO..HI ms later (uniform), order kept per direction
    {"reset_percent": P}       each piece read aborts its connection (both sides, RST) with probability P %
    {"clog": true}             nothing is forwarded (pieces wait, connections stay open) until unclogged

Faults apply to pieces already queued too, so a change takes effect at once. TCP keeps bytes in order and
exactly once within a connection, so "duplicate" and "reorder" become delays that differ between
connections (and directions) and resets that make clients resend on a new connection: the stream faults
a node actually sees through a lossy network.

Prints `tcpproxy ready on HOST:PORT` once listening (ops/pylib/cluster.py waits for that line), and a
line per fault change. Stops on SIGTERM. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time

POLL_S = 0.1
READ_BYTES = 64 * 1024


class Faults:
    def __init__(self, path: str):
        self.path = path
        self.mtime: float | None = None
        self.delay_ms: tuple[float, float] | None = None
        self.reset_percent = 0.0
        self.clog = False
        self.changed = asyncio.Event()

    def reload(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime == self.mtime:
            return
        self.mtime = mtime
        spec = {}
        if mtime is not None:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    spec = json.load(handle) or {}
            except (OSError, ValueError) as error:
                print(f"tcpproxy: ignoring unreadable control file {self.path}: {error}", flush=True)
                return
        delay = spec.get("delay_ms")
        self.delay_ms = (float(delay[0]), float(delay[1])) if delay else None
        self.reset_percent = float(spec.get("reset_percent", 0))
        self.clog = bool(spec.get("clog", False))
        print(f"tcpproxy: faults {json.dumps(spec, sort_keys=True)}", flush=True)
        self.changed.set()
        self.changed = asyncio.Event()

    async def watch(self) -> None:
        while True:
            self.reload()
            await asyncio.sleep(POLL_S)


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, faults: Faults,
               abort) -> None:
    """Copies reader to writer, piece by piece, each released at its due time (order kept)."""
    queue: asyncio.Queue = asyncio.Queue()

    async def release() -> None:
        last_due = 0.0
        while True:
            piece, arrived = await queue.get()
            if piece is None:
                break
            while True:
                if faults.clog:
                    changed = faults.changed
                    await changed.wait()
                    continue
                due = arrived
                if faults.delay_ms:
                    due += random.uniform(*faults.delay_ms) / 1000.0
                due = max(due, last_due)
                wait = due - time.monotonic()
                if wait <= 0:
                    break
                changed = faults.changed
                try:
                    await asyncio.wait_for(changed.wait(), timeout=wait)
                except asyncio.TimeoutError:
                    break
            last_due = max(last_due, time.monotonic())
            writer.write(piece)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    releaser = asyncio.ensure_future(release())
    try:
        while True:
            piece = await reader.read(READ_BYTES)
            if not piece:
                break
            if faults.reset_percent and random.uniform(0, 100) < faults.reset_percent:
                abort()
                return
            queue.put_nowait((piece, time.monotonic()))
        queue.put_nowait((None, 0.0))
        await releaser
    finally:
        releaser.cancel()


async def handle(client_reader, client_writer, target: tuple[str, int], faults: Faults) -> None:
    try:
        server_reader, server_writer = await asyncio.open_connection(*target)
    except OSError:
        client_writer.transport.abort()
        return

    def abort() -> None:
        client_writer.transport.abort()
        server_writer.transport.abort()

    try:
        await asyncio.gather(pump(client_reader, server_writer, faults, abort),
                             pump(server_reader, client_writer, faults, abort))
    except (ConnectionError, OSError, asyncio.CancelledError):
        pass
    finally:
        abort()


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--control", required=True)
    args = parser.parse_args(argv)
    faults = Faults(args.control)
    faults.reload()
    target = address(args.target)
    host, port = address(args.listen)
    server = await asyncio.start_server(lambda r, w: handle(r, w, target, faults), host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watcher = asyncio.ensure_future(faults.watch())
    print(f"tcpproxy ready on {args.listen} -> {args.target}", flush=True)
    await stop.wait()
    watcher.cancel()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
