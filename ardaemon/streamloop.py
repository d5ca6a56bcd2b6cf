"""Streamed chats read their HTTP on a loop of their own, off the loop that serves stdin.

Every SSE chunk costs the HTTP stack (httpx, httpcore, h11, anyio) tens of microseconds;
100 chats streaming are ~20,000 chunks a second, more than one core parses. On the loop
that reads stdin, a tiny request then queued behind whole bursts of chunk work (p99
~20-60 ms). Here the chunks are parsed on a thread's own event loop; the request loop only
takes the text (one hand-over for all streams at most every `HANDOFF`, each stream's
text joined) and answers requests. The two
share the GIL: `SWITCH_INTERVAL` bounds how long the request loop waits for it, and on
Linux the stream thread runs at a lower OS priority (`STREAM_NICE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

#: How much less CPU share the stream thread asks of the OS than the request loop (nice
#: steps; ~9:1 by Linux's weights): when the cores are busy, a request is answered before
#: the next chunk is parsed. A stream needs little (~65 µs a chunk, 0.3 % of a core at 50
#: chunks a second), so even a tenth of a busy core keeps it flowing. Under 100 streams,
#: interleaved runs gave a tiny request's p99 of 6.6-10.8 ms at 10, 9.7-12.1 ms at 5.
STREAM_NICE = 10
#: The longest a thread that wants the GIL waits for a busy one (Python's default: 5 ms).
#: Under 100 streams, paired runs gave a tiny request's p99 ~50 ms at 1 ms, ~35 at 0.2 ms.
SWITCH_INTERVAL = 0.0002
#: The request loop is woken for streamed text at most this often (a stream's first
#: text at once): a display frame is 16 ms or longer.
HANDOFF = 0.005


class StreamLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._handoffs: dict[asyncio.AbstractEventLoop, _Handoff] = {}
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="ardaemon-streams", daemon=True
        )
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._thread.start()
        started.wait()

    def _run(self, started: threading.Event) -> None:
        _lower_priority()
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        self.loop.run_forever()

    async def run(
        self,
        work: Callable[[Callable[[str], None] | None], Awaitable[T]],
        on_delta: Callable[[str], None] | None,
    ) -> T:
        """`work(deltas)` on the stream loop; its deltas reach `on_delta` on the calling
        loop, in order and before the result. Cancelling the caller cancels the work."""
        home = asyncio.get_running_loop()
        relay = None
        if on_delta is not None:
            handoff = self._handoffs.get(home)
            if handoff is None or handoff.home.is_closed():
                handoff = self._handoffs[home] = _Handoff(home, self.loop)
            relay = _Relay(handoff, on_delta)

        async def job() -> T:
            return await work(None if relay is None else relay.push)

        done = asyncio.run_coroutine_threadsafe(job(), self.loop)
        try:
            return await asyncio.wrap_future(done)
        finally:
            if relay is not None:
                relay.close()  # text that came with the end, and none after (a cancel)

    def close(self) -> None:
        """Cancel what still streams, finish its async generators, stop the loop and its
        thread (within 5 s each)."""
        if self.loop.is_running():
            done = asyncio.run_coroutine_threadsafe(self._wind_down(), self.loop)
            with contextlib.suppress(Exception):
                done.result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()

    async def _wind_down(self) -> None:
        """What `asyncio.run` does before it closes a loop. Without it, an async generator
        a stream left unfinished (httpx's body iterators) was closed by a task that the
        garbage collector started on the stopping loop: "Task was destroyed but it is
        pending!" on stderr at exit, when the collector ran just then."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.loop.shutdown_asyncgens()

    async def aclose_soon(
        self, work: Callable[[], Coroutine[Any, Any, None]], timeout: float = 5.0
    ) -> None:
        """Run clean-up `work` on the stream loop (within `timeout`), then stop it."""
        if self.loop.is_running():
            done: Future[None] = asyncio.run_coroutine_threadsafe(work(), self.loop)
            with contextlib.suppress(Exception):  # a failed clean-up must not stop the exit
                await asyncio.wait_for(asyncio.wrap_future(done), timeout)
        self.close()


def _lower_priority() -> None:
    """Nice this thread by `STREAM_NICE`. Only on Linux, where a thread id is a valid
    `setpriority` target (elsewhere the same number could name another process)."""
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):  # a sandbox may forbid it: streams just keep pace
        os.setpriority(
            os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + STREAM_NICE)
        )


class _Handoff:
    """Deltas of all streams to one home loop. Each wake-up of the home loop costs it a
    turn and the GIL a hand-over; 100 streams woke it ~10,000 times a second, for text
    that leaves at most once a frame (`coalesce`). So the home loop is woken at most once
    per `HANDOFF` for all streams (a stream's first text at once), and gets one call per
    stream with that stream's text of the batch joined."""

    def __init__(self, home: asyncio.AbstractEventLoop, streams: asyncio.AbstractEventLoop):
        self.home = home
        self._streams = streams
        self._items: deque[tuple[_Relay, str]] = deque()
        self._woken = False  # a drain is on its way to the home loop
        self._timer: asyncio.TimerHandle | None = None
        self._last = float("-inf")  # stream loop time of the last wake-up

    def push(self, relay: _Relay, text: str, first: bool) -> None:  # on the stream thread
        self._items.append((relay, text))
        if self._woken:
            return
        due = self._last + HANDOFF
        if first or self._streams.time() >= due:
            self._wake()
        elif self._timer is None:
            self._timer = self._streams.call_at(due, self._wake)

    def _wake(self) -> None:  # on the stream thread
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._woken = True
        self._last = self._streams.time()
        self.home.call_soon_threadsafe(self.drain)

    def drain(self) -> None:  # on the home loop
        self._woken = False  # before taking the items: a push from now on wakes again
        batch: dict[_Relay, list[str]] = {}
        items = self._items
        while items:
            relay, text = items.popleft()
            batch.setdefault(relay, []).append(text)
        for relay, texts in batch.items():
            try:
                relay.deliver(texts[0] if len(texts) == 1 else "".join(texts))
            except Exception:  # one stream's fault must not lose the others' text
                log.exception("a streamed delta could not be delivered")


class _Relay:
    """One stream's deltas, through the shared `_Handoff`, to `on_delta` on the home loop."""

    def __init__(self, handoff: _Handoff, on_delta: Callable[[str], None]) -> None:
        self._handoff = handoff
        self._on_delta = on_delta
        self._closed = False
        self._first = True

    def push(self, text: str) -> None:  # on the stream thread
        if not self._closed:
            self._handoff.push(self, text, self._first)
            self._first = False

    def deliver(self, text: str) -> None:  # on the home loop
        if not self._closed:
            self._on_delta(text)

    def close(self) -> None:
        """Deliver what came, then drop what a cancelled stream still sends: every delta
        reaches the editor before the answer, never after."""
        self._handoff.drain()
        self._closed = True
