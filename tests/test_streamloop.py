"""Streamed requests on their own loop thread (`streamloop.StreamLoop`): deltas reach the
caller's loop in order and before the result; errors and cancellation cross over; no delta
arrives after a cancelled stream's caller has returned."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ardaemon.streamloop import STREAM_NICE, StreamLoop


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
    assert seen > 0 and set(got) == {"x"}


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
