"""What the usage ledger costs: one append per upstream request, `ardaemon/usage` reads.

Prints a table: the time of one append (the request path pays it once per upstream call),
the incremental "tokens today" check the budget warning runs after each answer, and a full
summary over a ledger at its rotation size. Run: `.venv/bin/python scripts/bench_usage.py`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchlib import pct

from ardaemon import usage


def record(i: int) -> usage.Record:
    return usage.Record(
        ts=time.time(),
        provider="agent_router",
        model=f"model-{i % 7}",
        api="openai",
        purpose="completion" if i % 3 else "chat",
        outcome="ok",
        latency_ms=120,
        input_tokens=900,
        output_tokens=40,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = usage.Ledger(Path(tmp))
        appends, checks = [], []
        n = 0
        # Fill up to the rotation size, timing each append and each budget check.
        while not usage.rotated(Path(tmp)):
            started = time.perf_counter()
            ledger.append(record(n))
            appends.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger.tokens_today()
            checks.append(time.perf_counter() - started)
            n += 1
        summaries = []
        for _ in range(5):
            started = time.perf_counter()
            result = usage.summarize(Path(tmp), "7d", "model")
            summaries.append(time.perf_counter() - started)
        assert result.total.requests == n
    print(f"{'operation':<44}{'p50':>10}{'p95':>10}")
    for name, values in (
        ("append one record (open, write, close)", appends),
        ("tokens today, incremental (budget check)", checks),
        (f"ardaemon/usage summary over {n:,} records", summaries),
    ):
        print(f"{name:<44}{pct(values, 50) * 1e3:>8.3f}ms{pct(values, 95) * 1e3:>8.3f}ms")


if __name__ == "__main__":
    main()
