"""Streamed chat text to the editor at a frame rate, not per upstream chunk.

A model streams a chunk every few milliseconds; one `$/progress` per chunk costs the daemon
a JSON encode and a write each, and the editor a re-render each, for text nobody can read
that fast. Deltas are joined so one stream sends at most one notification per frame. The
first delta goes out at once (time to first text is what the user feels); nothing is
dropped or reordered, and `flush` sends the rest before the result.

A frame is one display frame (16 ms) while few chats stream. With many at once (`Pace`)
each stream's frame grows so that all of them together send at most `RATE` notifications
a second: nobody reads 100 streams at 60 fps, and each notification is work on the loop
that answers requests (and in the editor). Their held text then leaves on a 16 ms grid,
many streams in one turn of the loop instead of a wake-up each.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

FRAME = 0.016
#: `$/progress` a second for all streams together, once there are more than
#: FRAME * RATE (16) of them: 100 chats at once get a frame of 0.1 s each.
RATE = 1000.0
#: No stream waits longer than this between two notifications, however many stream.
LONGEST = 0.25


class Pace:
    """The frame for the streams open now (one `Pace` is shared by all of them)."""

    def __init__(self, shortest: float = FRAME, rate: float = RATE, longest: float = LONGEST):
        self.shortest = shortest
        self.rate = rate
        self.longest = longest
        self.open = 0

    def frame(self) -> float:
        return min(self.longest, max(self.shortest, self.open / self.rate))

    def due(self, last: float) -> float:
        """When a stream that last sent at `last` may send again. With frames longer than
        the shortest, on a grid of the shortest: the streams' held text then leaves in
        shared turns of the loop, not one wake-up per stream."""
        frame = self.frame()
        if frame <= self.shortest or last == -math.inf:
            return last + frame
        return math.ceil((last + frame) / self.shortest) * self.shortest


class DeltaCoalescer:
    """One stream's deltas. `close` (or `flush`) at the end, before the result."""

    def __init__(
        self,
        send: Callable[[str], None],
        pace: Pace | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._send = send
        self._pace = pace or Pace()
        self._pace.open += 1
        self._open = True
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
        due = self._pace.due(self._last)
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

    def close(self) -> None:
        """Flush, and no longer count as an open stream in the shared `Pace`."""
        self.flush()
        if self._open:
            self._open = False
            self._pace.open -= 1
