#!/usr/bin/env python3
"""Core benchmark: start-up and memory beside an empty pygls server, and the latency the
daemon adds to a completion over a direct httpx call to the same gateway stand-in.

Prints one table; every figure is from this one run. Usage: .venv/bin/python scripts/bench_core.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import paired_latency, pct

from ardaemon.gateway import DEFAULT_TOKEN, Gateway
from ardaemon.stdio_client import StdioClient

EMPTY_SERVER = """
from pygls.lsp.server import LanguageServer
LanguageServer("empty", "0").start_io()
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def cold_start(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds from spawn to the initialize answer, and RSS right after."""
    started = time.perf_counter()
    client = await StdioClient.spawn(env, argv)
    await client.initialize()
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.3)  # let warm-up imports settle before reading memory
    rss = rss_kib(client.proc.pid)
    await client.close()
    return elapsed, rss


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with Gateway(token=DEFAULT_TOKEN) as gw, tempfile.TemporaryDirectory() as home:
        env = gw.daemon_env(home, ARDAEMON_LOG_LEVEL="WARNING")
        daemon_argv = [sys.executable, "-m", "ardaemon", "serve"]
        empty_argv = [sys.executable, "-c", EMPTY_SERVER]
        starts: dict[str, list[float]] = {"ardaemon serve": [], "empty pygls server": []}
        rss: dict[str, list[int]] = {"ardaemon serve": [], "empty pygls server": []}
        await cold_start(daemon_argv, env)  # fill the OS page cache once
        await cold_start(empty_argv, env)
        for _ in range(args.starts):  # interleaved, so machine noise hits both alike
            for name, argv in (("ardaemon serve", daemon_argv), ("empty pygls server", empty_argv)):
                seconds, kib = await cold_start(argv, env)
                starts[name].append(seconds)
                rss[name].append(kib)

        client = await StdioClient.spawn(env, daemon_argv)
        await client.initialize()
        direct, via = await paired_latency(gw, client, args.requests)
        rss_after = rss_kib(client.proc.pid)
        await client.close()

    d_start = statistics.median(starts["ardaemon serve"])
    e_start = statistics.median(starts["empty pygls server"])
    d_rss = statistics.median(rss["ardaemon serve"])
    e_rss = statistics.median(rss["empty pygls server"])
    added = [v - d for v, d in zip(via, direct, strict=True)]
    rows = [
        (
            "cold start → initialize answer (median)",
            f"{d_start * 1000:.0f} ms",
            f"{e_start * 1000:.0f} ms",
            f"{d_start / e_start:.2f}×",
        ),
        (
            "RSS after initialize (median)",
            f"{d_rss / 1024:.1f} MiB",
            f"{e_rss / 1024:.1f} MiB",
            f"{d_rss / e_rss:.2f}×",
        ),
        (f"RSS after {args.requests} completions", f"{rss_after / 1024:.1f} MiB", "", ""),
        (
            "complete via daemon, p50 / p99",
            f"{pct(via, 50) * 1000:.2f} / {pct(via, 99) * 1000:.2f} ms",
            "",
            "",
        ),
        (
            "direct httpx call, p50 / p99",
            f"{pct(direct, 50) * 1000:.2f} / {pct(direct, 99) * 1000:.2f} ms",
            "",
            "",
        ),
        (
            "added by the daemon, p50 / p99",
            f"{pct(added, 50) * 1000:.2f} / {pct(added, 99) * 1000:.2f} ms",
            "",
            "target p50 ≤ 2 ms",
        ),
    ]
    print(
        f"bench_core: {args.starts} interleaved starts each, {args.requests} completions, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "ardaemon", "empty pygls", "ratio")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(
        json.dumps(
            {
                "start_ratio": round(d_start / e_start, 3),
                "added_p50_ms": round(pct(added, 50) * 1000, 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
