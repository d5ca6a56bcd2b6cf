#!/usr/bin/env python3
"""httpcore's network backend: anyio (httpx's default) vs `ardaemon.netio`, in one run.

Both measured against the gateway stand-in (its own process), in interleaved rounds so
machine noise hits both alike:
- CPU per streamed chunk read, on a `StreamLoop` thread as the daemon reads chats:
  `--streams` chats at once, a chunk every `--gap` s each (so one chunk is one read);
- CPU per completion (one non-streamed chat-completions call, JSON decoded) on one loop.

Usage: .venv/bin/python scripts/bench_netio.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import sys
import time

import httpx
from benchlib import HEADERS, StandIn, direct_call

from ardaemon import netio
from ardaemon.streamloop import StreamLoop

MARK = "netio-bench"
REPLY = " ".join(f"word{i}" for i in range(200))  # ~100 SSE chunks


def client(base_url: str, backend: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
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
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.005)
    args = parser.parse_args()
    rounds, completions = (2, 100) if args.quick else (6, 300)
    per_read: dict[str, list[float]] = {"anyio": [], "netio": []}
    per_call: dict[str, list[float]] = {"anyio": [], "netio": []}
    loop = StreamLoop()
    try:
        with StandIn() as stand_in:
            stand_in.control("replies", {"rules": [[MARK, REPLY]], "prepend": True})
            stand_in.control("config", {"chunkDelay": args.gap})
            for r in range(rounds):
                order = ("anyio", "netio") if r % 2 == 0 else ("netio", "anyio")
                for backend in order:
                    cpu, reads = await loop.run(
                        functools.partial(
                            streams_on_loop, stand_in.base_url, backend, args.streams
                        ),
                        None,
                    )
                    per_read[backend].append(cpu / reads)
            stand_in.control("config", {"chunkDelay": 0.0})
            for r in range(rounds):
                order = ("anyio", "netio") if r % 2 == 0 else ("netio", "anyio")
                for backend in order:
                    per_call[backend].append(
                        await completion_round(stand_in.base_url, backend, completions)
                    )
    finally:
        loop.close()
    print(
        f"bench_netio{' --quick' if args.quick else ''}: {rounds} interleaved rounds, "
        f"{args.streams} streams at a {args.gap * 1000:.0f} ms gap, {completions} completions "
        f"a round, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    print("| measure (median of rounds) | anyio (httpx default) | ardaemon.netio | ratio |")
    print("|---|---|---|---|")
    for name, values, unit, scale in (
        ("CPU per streamed chunk read, stream thread", per_read, "µs", 1e6),
        ("CPU per completion (direct call)", per_call, "µs", 1e6),
    ):
        a, n = statistics.median(values["anyio"]), statistics.median(values["netio"])
        print(f"| {name} | {a * scale:.1f} {unit} | {n * scale:.1f} {unit} | {n / a:.2f}× |")


if __name__ == "__main__":
    asyncio.run(main())
