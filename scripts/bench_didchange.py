#!/usr/bin/env python3
"""In-process cost of one incremental didChange on `LineDocument`, by line length.

Each row types and deletes single characters in the middle of a line (alternately) and
prints the mean time per edit. "copy floor" is what Python alone needs to build the
edited line (two slices and a join): the least any edit of a `str` line can cost.

Usage: .venv/bin/python scripts/bench_didchange.py [--quick]
"""

from __future__ import annotations

import argparse
import time

from lsprotocol import types

from ardaemon.document import LineDocument

LINE = "x = compute(a, b)  # fifty characters of code here\n"


def shapes(quick: bool) -> list[tuple[str, str, int]]:
    """(label, text, edits)."""
    return [
        ("1 MB, 50-char lines", LINE * (1_000_000 // len(LINE)), 200),
        ("1 MB, one line", "a" * 1_000_000, 200),
        *([] if quick else [("10 MB, one line", "a" * 10_000_000, 100)]),
        ("1 MB, one line, non-ASCII (é)", "aé" * 500_000, 20),
    ]


def per_edit(text: str, edits: int) -> tuple[float, float]:
    """(ms per didChange, ms per copy floor) in the middle of the middle line."""
    doc = LineDocument("file:///bench.js", text, 1, "javascript")
    row = len(doc.lines) // 2
    col = len(doc.lines[row].encode("utf-16-le")) // 4  # UTF-16 units, mid-line
    at = types.Position(row, col)
    after = types.Position(row, col + 1)
    t0 = time.perf_counter()
    for i in range(edits):
        span = types.Range(at, at) if i % 2 == 0 else types.Range(at, after)
        doc.apply_change(
            types.TextDocumentContentChangePartial(range=span, text="y" if i % 2 == 0 else "")
        )
    change = (time.perf_counter() - t0) / edits
    line, mid = doc.lines[row], len(doc.lines[row]) // 2
    t0 = time.perf_counter()
    for _ in range(edits):
        "".join((line[:mid], "y", line[mid:]))
    floor = (time.perf_counter() - t0) / edits
    return change * 1e3, floor * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="without the 10 MB line")
    args = parser.parse_args()
    print(f"{'document':<32} {'edits':>5} {'didChange ms':>13} {'copy floor ms':>14}")
    for label, text, edits in shapes(args.quick):
        change, floor = per_edit(text, edits)
        print(f"{label:<32} {edits:>5} {change:>13.4f} {floor:>14.4f}")


if __name__ == "__main__":
    main()
