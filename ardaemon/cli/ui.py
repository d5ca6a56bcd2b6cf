"""Terminal output: colour and symbols only on a TTY, aligned tables, a spinner, JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..credentials import redact


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _encodable(stream: TextIO, text: str) -> bool:
    try:
        text.encode(stream.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


class Style:
    """ANSI styling for one stream; plain text when it is not a terminal or NO_COLOR is set."""

    def __init__(self, stream: TextIO) -> None:
        import os

        self.stream = stream
        self.color = is_tty(stream) and not os.environ.get("NO_COLOR")
        fancy = _encodable(stream, "✓✗→•⠋")
        self.ok = "✓" if fancy else "ok"
        self.fail = "✗" if fancy else "FAIL"
        self.arrow = "→" if fancy else "->"
        self.bullet = "•" if fancy else "-"

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def red(self, text: str) -> str:
        return self._wrap("31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def good(self, text: str) -> str:
        return f"{self.green(self.ok)} {text}"

    def bad(self, text: str) -> str:
        return f"{self.red(self.fail)} {text}"


def out(text: str = "", *, end: str = "\n") -> None:
    sys.stdout.write(redact(text) + end)
    sys.stdout.flush()


def err(text: str = "") -> None:
    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    style = Style(sys.stderr)
    err(f"{style.yellow('warning:')} {text}")


def print_json(data: Any) -> None:
    out(json.dumps(data, indent=2, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style) -> str:
    """Left-aligned columns separated by two spaces; the header bold on a terminal."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    head = line(headers)
    return "\n".join([style.bold(head), *(line(r) for r in rows)])


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"  # pragma: no cover


def age_of(timestamp: float) -> str:
    return ago(time.time() - timestamp)


class Spinner:
    """A spinner on stderr while waiting for the first token; silent unless stderr is a TTY."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str) -> None:
        self.text = text
        self.enabled = is_tty(sys.stderr) and _encodable(sys.stderr, self.FRAMES)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Spinner:
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._spin())
        return self

    async def _spin(self) -> None:
        i = 0
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                frame = self.FRAMES[i % len(self.FRAMES)]
                sys.stderr.write(f"\r{frame} {self.text}")
                sys.stderr.flush()
                i += 1
                await asyncio.sleep(0.08)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
