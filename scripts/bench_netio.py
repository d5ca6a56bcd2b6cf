#!/usr/bin/env python3
"""httpcore's network backend: anyio (httpx's default) vs `ardaemon.netio`, in one run.

Both measured against the gateway stand-in (its own process), in interleaved rounds so
machine noise hits both alike:
- CPU per streamed chunk read, on a `StreamLoop` thread as the daemon reads chats:
  `--streams` chats at once, a chunk every `--gap` s each (so one chunk is one read);
- CPU per completion (one non-streamed chat-completions call, JSON decoded) on one loop.
With `--tls`, over HTTPS (the real gateways' case): a TLS front in its own process, with a
throwaway certificate, forwards to the stand-in.

Usage: .venv/bin/python scripts/bench_netio.py [--quick] [--tls]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
from benchlib import HEADERS, StandIn, direct_call

from ardaemon import netio
from ardaemon.streamloop import StreamLoop

MARK = "netio-bench"
REPLY = " ".join(f"word{i}" for i in range(200))  # ~100 SSE chunks
#: The TLS front: `python -c FRONT cert.pem upstream_port`; prints its own port.
FRONT = """
import asyncio, ssl, sys
async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    writer.close()
async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1])
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx, backlog=200)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""
#: What clients trust: the default, or the TLS front's throwaway CA.
VERIFY: ssl.SSLContext | bool = True


@contextlib.contextmanager
def tls_front(upstream: str) -> Iterator[str]:
    """An https:// base URL that forwards to the stand-in at `upstream`."""
    import trustme  # a dev dependency

    global VERIFY
    ca = trustme.CA()
    VERIFY = ssl.create_default_context()
    ca.configure_trust(VERIFY)
    with tempfile.TemporaryDirectory() as folder:
        pem = os.path.join(folder, "cert.pem")
        ca.issue_cert("localhost").private_key_and_cert_chain_pem.write_to_path(pem)
        port = upstream.rsplit(":", 1)[1]
        with subprocess.Popen(
            [sys.executable, "-c", FRONT, pem, port], stdout=subprocess.PIPE, text=True
        ) as front:
            assert front.stdout is not None
            try:
                yield f"https://localhost:{front.stdout.readline().strip()}"
            finally:
                front.terminate()


def client(base_url: str, backend: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url, timeout=30, verify=VERIFY)
    if backend == "netio":
        assert netio.install(http)
    return http


async def stream_round(base_url: str, backend: str, streams: int) -> tuple[float, int]:
    """Thread CPU seconds and raw reads of `streams` chats streamed at once."""
    body = {"model": "glm-4.6", "messages": [{"role": "user", "content": MARK}], "stream": True}
    async with client(base_url, backend) as http:

        async def one() -> int:
            reads = 0
            async with http.stream(
                "POST", "/v1/chat/completions", json=body, headers=HEADERS
            ) as response:
                async for _ in response.aiter_raw():
                    reads += 1
            return reads

        await one()  # connections and imports warm
        cpu = time.thread_time()
        reads = sum(await asyncio.gather(*(one() for _ in range(streams))))
        return time.thread_time() - cpu, reads


async def streams_on_loop(base_url: str, backend: str, streams: int, _: None) -> tuple[float, int]:
    return await stream_round(base_url, backend, streams)


async def completion_round(base_url: str, backend: str, n: int) -> float:
    """CPU seconds per completion."""
    async with client(base_url, backend) as http:
        await direct_call(http, "warm")
        cpu = time.thread_time()
        for i in range(n):
            await direct_call(http, f"def handler_{i}(request):\n    ")
        return (time.thread_time() - cpu) / n


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tls", action="store_true", help="over HTTPS (a TLS front)")
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.005)
    args = parser.parse_args()
    rounds, completions = (2, 100) if args.quick else (6, 300)
    per_read: dict[str, list[float]] = {"anyio": [], "netio": []}
    per_call: dict[str, list[float]] = {"anyio": [], "netio": []}
    loop = StreamLoop()
    try:
        with StandIn() as stand_in, contextlib.ExitStack() as stack:
            base = (
                stack.enter_context(tls_front(stand_in.base_url)) if args.tls else stand_in.base_url
            )
            stand_in.control("replies", {"rules": [[MARK, REPLY]], "prepend": True})
            stand_in.control("config", {"chunkDelay": args.gap})
            for r in range(rounds):
                for backend in ("anyio", "netio") if r % 2 == 0 else ("netio", "anyio"):
                    work = functools.partial(streams_on_loop, base, backend, args.streams)
                    cpu, reads = await loop.run(work, None)
                    per_read[backend].append(cpu / reads)
            stand_in.control("config", {"chunkDelay": 0.0})
            for r in range(rounds):
                for backend in ("anyio", "netio") if r % 2 == 0 else ("netio", "anyio"):
                    per_call[backend].append(await completion_round(base, backend, completions))
    finally:
        loop.close()
    print(
        f"bench_netio{' --quick' if args.quick else ''}{' --tls' if args.tls else ''}: "
        f"{rounds} interleaved rounds, {args.streams} streams at a {args.gap * 1000:.0f} ms "
        f"gap, {completions} completions a round, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| measure (median of rounds) | anyio (httpx default) | ardaemon.netio | ratio |")
    print("|---|---|---|---|")
    for name, values in (
        ("CPU per streamed chunk read, stream thread", per_read),
        ("CPU per completion (direct call)", per_call),
    ):
        a, n = statistics.median(values["anyio"]), statistics.median(values["netio"])
        print(f"| {name} | {a * 1e6:.1f} µs | {n * 1e6:.1f} µs | {n / a:.2f}× |")


if __name__ == "__main__":
    asyncio.run(main())
