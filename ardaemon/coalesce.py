"""Streamed chat text to the editor at a frame rate, not per upstream chunk.

A model streams a chunk every few milliseconds; one `$/progress` per chunk costs the daemon
a JSON encode and a write each, and the editor a re-render each, for text nobody can read
that fast. Deltas are joined so one stream sends at most one notification per `interval`
(one display frame). The first delta goes out at once (time to first text is what the
user feels); nothing is dropped or reordered, and `flush` sends the rest before the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

FRAME = 0.016


class DeltaCoalescer:
    def __init__(
        self,
        send: Callable[[str], None],
        interval: float = FRAME,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._send = send
        self._interval = interval
        self._loop = loop or asyncio.get_running_loop()
        self._parts: list[str] = []
        self._last = float("-inf")  # loop time of the last notification
        self._timer: asyncio.TimerHandle | None = None
        self.sent = 0

    def push(self, text: str) -> None:
        if not text:
            return
        self._parts.append(text)
        if self._timer is not None:
            return  # a flush is already due
        due = self._last + self._interval
        if self._loop.time() >= due:
            self.flush()
        else:
            self._timer = self._loop.call_at(due, self.flush)

    def flush(self) -> None:
        """Send what is held back now (at the end of the stream, before its result)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._parts:
            return
        text = "".join(self._parts)
        self._parts.clear()
        self._last = self._loop.time()
        self.sent += 1
        self._send(text)
