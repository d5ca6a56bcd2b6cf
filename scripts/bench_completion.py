#!/usr/bin/env python3
"""Inline completion benchmark, over real stdio against the gateway stand-in.

First the clean-up corpus (tests/data/completion_corpus.toml): pass rate per artefact class
and per language. Then one table, all figures from this one run:
- latency the daemon adds over the stand-in's own latency (p50/p99),
- answer time of a cache hit and of typing-through (no upstream request; target p50 ≤ 2 ms),
- upstream requests per 100 simulated keystrokes, with and without debounce.
Usage: .venv/bin/python scripts/bench_completion.py [--corpus-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchlib import Doc, paired_latency, pct

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from completion_corpus import CLASSES, load_corpus

from ardaemon.gateway import DEFAULT_TOKEN, Gateway
from ardaemon.stdio_client import StdioClient

URI = "file:///bench/main.py"


def ms(values: list[float]) -> str:
    return f"{pct(values, 50) * 1000:.2f} / {pct(values, 99) * 1000:.2f} ms"


def env_for(gw: Gateway, home: str) -> dict[str, str]:
    return gw.daemon_env(home, ARDAEMON_LOG_LEVEL="WARNING")


async def added_latency(
    gw: Gateway, env: dict[str, str], n: int
) -> tuple[list[float], list[float]]:
    client = await StdioClient.spawn(env)
    await client.initialize({"models": {"completion": "glm-4.6"}})
    try:
        direct, via, _ = await paired_latency(gw.base_url, client, n)
        return direct, via
    finally:
        await client.close()


async def instant_answers(
    gw: Gateway, env: dict[str, str], n: int
) -> tuple[list[float], list[float], int]:
    gw.add_reply("def area(", "return math.pi * radius ** 2 + sum(extra_terms_for_the_benchmark)")
    client = await StdioClient.spawn(env)
    await client.initialize({"models": {"completion": "glm-4.6"}, "completion": {"debounceMs": 0}})
    doc = Doc(client, "import math\n\ndef area(radius):\n    ")
    before = gw.count()
    await client.request("textDocument/inlineCompletion", doc.inline_params(False))
    upstream_first = gw.count() - before
    cache: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        await client.request(
            "ardaemon/complete", {"textDocument": {"uri": URI}, "position": doc.position()}
        )
        cache.append(time.perf_counter() - t0)
    through: list[float] = []
    for ch in "return math.pi * radius ** 2 + sum(extra_terms_for_the_b"[:n]:
        doc.type(ch)
        t0 = time.perf_counter()
        result = await client.request("textDocument/inlineCompletion", doc.inline_params(True))
        through.append(time.perf_counter() - t0)
        assert result and result["items"], "typing-through answered nothing"
    upstream = gw.count() - before - upstream_first
    await client.close()
    return cache, through, upstream


async def keystrokes(
    gw: Gateway, env: dict[str, str], debounce_ms: int, interval: float, n: int
) -> int:
    """Type n characters that never match the suggestion; the editor cancels stale requests."""
    client = await StdioClient.spawn(env)
    await client.initialize(
        {"models": {"completion": "glm-4.6"}, "completion": {"debounceMs": debounce_ms}}
    )
    doc = Doc(client, "def process(records):\n    ")
    await asyncio.sleep(0.2)
    before = gw.count()
    text = ("total = sum(record.value for record in records if record.valid) " * 3)[:n]
    pending: tuple[int, asyncio.Future[Any]] | None = None
    for ch in text:
        doc.type(ch)
        if pending is not None and not pending[1].done():
            client.cancel(pending[0])  # what VS Code and Neovim do on the next keystroke
        pending = client.start("textDocument/inlineCompletion", doc.inline_params(True))
        pending[1].add_done_callback(lambda f: f.exception())
        await asyncio.sleep(interval)
    if pending is not None:
        await asyncio.gather(pending[1], return_exceptions=True)
    count = gw.count() - before
    await client.close()
    return count


def corpus_report() -> None:
    """Pass rate of the corpus per class (issue 10's order) and per language."""
    cases = load_corpus()
    by_class: dict[str, list[bool]] = defaultdict(list)
    by_language: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        ok = case.result() == case.expected
        by_class[case.cls].append(ok)
        by_language[case.language_id].append(ok)
    passed = sum(sum(v) for v in by_class.values())
    print(
        f"completion corpus: {passed}/{len(cases)} documents as expected, {len(by_language)} languages"
    )
    for title, groups in (
        ("class", [(c, by_class[c]) for c in CLASSES if c in by_class]),
        ("language", sorted(by_language.items())),
    ):
        print(f"  {title:<16} pass   rate")
        for name, oks in groups:
            print(f"  {name:<16} {sum(oks):>3}/{len(oks):<3} {100 * sum(oks) / len(oks):5.1f} %")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus-only", action="store_true", help="only the clean-up corpus")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05, help="stand-in latency, seconds")
    parser.add_argument("--interval", type=float, default=0.08, help="seconds between keystrokes")
    args = parser.parse_args()
    corpus_report()
    if args.corpus_only:
        return
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as home:
        with Gateway(token=DEFAULT_TOKEN) as gw:
            direct, via = await added_latency(gw, env_for(gw, home + "/a"), args.requests)
        added = [v - d for v, d in zip(via, direct, strict=True)]
        rows.append(("stand-in alone (direct httpx), p50 / p99", ms(direct), ""))
        rows.append(("ardaemon/complete, p50 / p99", ms(via), ""))
        rows.append(("added by the daemon, p50 / p99", ms(added), ""))
        with Gateway(token=DEFAULT_TOKEN, latency=args.latency) as gw:
            cache, through, upstream = await instant_answers(gw, env_for(gw, home + "/b"), 50)
            rows.append(("cache hit answer, p50 / p99", ms(cache), "target p50 ≤ 2 ms"))
            rows.append(
                ("typing-through answer, p50 / p99", ms(through), f"{upstream} upstream requests")
            )
            for debounce in (0, 75):
                count = await keystrokes(
                    gw, env_for(gw, home + f"/k{debounce}"), debounce, args.interval, 100
                )
                label = f"upstream requests / 100 keystrokes, debounce {debounce} ms"
                rows.append((label, str(count), f"typing every {args.interval * 1000:.0f} ms"))
    print(
        f"bench_completion: {args.requests} completions; stand-in latency {args.latency * 1000:.0f} ms "
        f"for the cache/typing rows; Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    asyncio.run(main())
