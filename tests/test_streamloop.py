"""Streamed requests on their own loop thread (`streamloop.StreamLoop`): deltas reach the
caller's loop in order and before the result; errors and cancellation cross over; no delta
arrives after a cancelled stream's caller has returned."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from fakeloop import FakeLoop

from ardaemon.streamloop import HANDOFF, STREAM_NICE, StreamLoop, _Handoff, _Relay


@pytest.fixture
def streams() -> Iterator[StreamLoop]:
    loop = StreamLoop()
    yield loop
    loop.close()
    assert not loop._thread.is_alive()


async def test_deltas_arrive_in_order_on_the_callers_thread_before_the_result(
    streams: StreamLoop,
) -> None:
    home = threading.get_ident()
    got: list[tuple[str, int]] = []

    async def work(deltas: Callable[[str], None] | None) -> str:
        assert deltas is not None and threading.get_ident() != home
        for i in range(500):
            deltas(f"{i},")
            if i % 7 == 0:
                await asyncio.sleep(0)
        return "done"

    result = await streams.run(work, lambda text: got.append((text, threading.get_ident())))
    assert result == "done"
    assert "".join(t for t, _ in got) == "".join(f"{i}," for i in range(500))
    assert {thread for _, thread in got} == {home}


async def test_an_error_on_the_stream_loop_is_raised_to_the_caller(streams: StreamLoop) -> None:
    async def work(deltas: Callable[[str], None] | None) -> None:
        raise ValueError("upstream broke")

    with pytest.raises(ValueError, match="upstream broke"):
        await streams.run(work, None)


async def test_cancelling_the_caller_cancels_the_stream_and_no_delta_comes_after(
    streams: StreamLoop,
) -> None:
    started = threading.Event()
    cancelled = threading.Event()
    got: list[str] = []

    async def work(deltas: Callable[[str], None] | None) -> None:
        assert deltas is not None
        started.set()
        try:
            while True:
                deltas("x")
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            time.sleep(0.05)  # the caller has returned by now
            deltas("after the cancel")
            cancelled.set()
            raise

    task = asyncio.ensure_future(streams.run(work, got.append))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    seen = len(got)
    assert await asyncio.get_running_loop().run_in_executor(None, cancelled.wait, 5)
    await asyncio.sleep(0.05)
    assert len(got) == seen and "after the cancel" not in got
    assert seen > 0 and set("".join(got)) == {"x"}


async def test_many_streams_cross_over_in_one_wake_up_each_streams_text_joined(
    streams: StreamLoop,
) -> None:
    home = asyncio.get_running_loop()
    go = threading.Event()
    got: dict[int, list[str]] = {i: [] for i in range(20)}
    wake_ups = 0
    threadsafe = home.call_soon_threadsafe

    def counting(callback: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal wake_ups
        wake_ups += getattr(callback, "__name__", "") == "drain"
        return threadsafe(callback, *args, **kwargs)

    home.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]

    def work(i: int) -> Callable[[Callable[[str], None] | None], Awaitable[int]]:
        async def run(deltas: Callable[[str], None] | None) -> int:
            assert deltas is not None
            while not go.is_set():
                await asyncio.sleep(0.001)
            for k in range(5):
                deltas(f"{i}.{k},")
                await asyncio.sleep(0)
            return i

        return run

    try:
        runs = [asyncio.ensure_future(streams.run(work(i), got[i].append)) for i in range(20)]
        await asyncio.sleep(0.05)  # all 20 wait on the stream loop
        go.set()
        time.sleep(0.3)  # the request loop is busy while all 20 streams send their text
        assert await asyncio.gather(*runs) == list(range(20))
    finally:
        del home.call_soon_threadsafe
    for i in range(20):
        assert got[i] == ["".join(f"{i}.{k}," for k in range(5))], got[i]
    assert wake_ups == 1, "one wake-up of the request loop for all streams' text"


def test_the_request_loop_is_woken_at_most_once_per_handoff_and_a_first_text_at_once() -> None:
    loop = FakeLoop()  # one clock for both threads' loops
    handoff = _Handoff(loop, loop)  # type: ignore[arg-type]
    got: dict[str, list[str]] = {"a": [], "b": []}
    a, b = _Relay(handoff, got["a"].append), _Relay(handoff, got["b"].append)

    a.push("a0")
    assert loop.run_soon() == 1 and got["a"] == ["a0"], "a stream's first text at once"
    loop.advance(0.001)
    a.push("a1")
    assert loop.run_soon() == 0, "held: the last wake-up was 1 ms ago"
    loop.advance(0.001)
    b.push("b0")  # another stream's first text is not held back, and takes a's along
    assert loop.run_soon() == 1 and got == {"a": ["a0", "a1"], "b": ["b0"]}
    assert loop.timers == [], "the pending wake-up was folded into that one"
    a.push("a2")
    loop.advance(HANDOFF - 0.0001)
    assert loop.run_soon() == 0
    loop.advance(0.0001)  # held text comes with the timer, without more pushes
    assert loop.run_soon() == 1 and got["a"] == ["a0", "a1", "a2"]

    wake_ups = 0
    for tick in range(1000):  # both streams send every 1 ms for a second
        a.push(f"a{tick},")
        b.push(f"b{tick},")
        loop.advance(0.001)
        wake_ups += loop.run_soon()
    a.close()
    b.close()
    assert wake_ups <= 1 / HANDOFF + 1, wake_ups
    assert "".join(got["a"]) == "a0a1a2" + "".join(f"a{t}," for t in range(1000))
    assert "".join(got["b"]) == "b0" + "".join(f"b{t}," for t in range(1000))


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are set on Linux only")
async def test_streams_parse_at_a_lower_priority_than_the_request_loop(
    streams: StreamLoop,
) -> None:
    # When the cores are busy the OS runs the request loop first: a request is answered
    # before the next chunk is parsed.
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def work(deltas: Callable[[str], None] | None) -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    theirs = await streams.run(work, None)
    assert theirs == min(19, mine + STREAM_NICE)
    assert theirs > mine or mine == 19


def test_closing_finishes_the_async_generators_a_stream_left_open() -> None:
    """A stream that stops iterating a body early leaves its async generator to the
    garbage collector, whose clean-up task used to be destroyed pending when the loop
    stopped ("Task was destroyed but it is pending!" at `ardaemon chat`'s exit)."""
    streams = StreamLoop()
    finished: list[str] = []
    left_open = []

    async def body() -> AsyncIterator[str]:
        try:
            yield "chunk"
            yield "more"
        finally:
            await asyncio.sleep(0)  # clean-up that needs the loop, as httpx's does
            finished.append("closed")

    async def work(deltas: Callable[[str], None] | None) -> str:
        chunks = body()
        left_open.append(chunks)
        return await chunks.__anext__()  # one chunk, then walks away

    assert asyncio.run(streams.run(work, None)) == "chunk"
    streams.close()
    assert finished == ["closed"] and not streams._thread.is_alive()
