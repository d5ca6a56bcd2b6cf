"""The completion engine's cost and speed rules, with a fake upstream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ardaemon.completion.context import CompletionContext
from ardaemon.completion.engine import Engine


class FakeUpstream:
    def __init__(self, reply: str = "return a + b", gate: asyncio.Event | None = None) -> None:
        self.reply = reply
        self.gate = gate
        self.calls: list[CompletionContext] = []
        self.cancelled = 0

    async def __call__(self, ctx: CompletionContext, model: str, max_tokens: int) -> str:
        self.calls.append(ctx)
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self.reply


def kw(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "api": "openai", "max_tokens": 64, "document": "file:///a.py", **extra}


PREFIX = "def add(a, b):\n    "


async def test_typing_through_answers_without_upstream() -> None:
    up = FakeUpstream("return a + b")
    engine = Engine(fetch=up)
    first = await engine.complete(PREFIX, "\n", **kw())
    assert first is not None and first.text == "return a + b" and not first.cached
    typed = await engine.complete(PREFIX + "ret", "\n", **kw())
    assert typed is not None and typed.text == "urn a + b" and typed.cached
    assert len(up.calls) == 1 and engine.stats["typed_through"] == 1
    # Typing something else leaves the suggestion behind.
    await engine.complete(PREFIX + "rex", "\n", **kw())
    assert len(up.calls) == 2


async def test_cache_hit_skips_upstream_and_failures_are_not_cached() -> None:
    up = FakeUpstream()
    engine = Engine(fetch=up)
    await engine.complete(PREFIX, "", **kw(document=None))
    again = await engine.complete(PREFIX, "", **kw(document=None))
    assert again is not None and again.cached and len(up.calls) == 1

    async def broken(ctx: CompletionContext, model: str, max_tokens: int) -> str:
        raise RuntimeError("upstream down")

    engine = Engine(fetch=broken)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await engine.complete(PREFIX, "", **kw())
    assert engine.stats["upstream"] == 2


async def test_identical_requests_share_one_upstream_call() -> None:
    gate = asyncio.Event()
    up = FakeUpstream(gate=gate)
    engine = Engine(fetch=up)
    one = asyncio.ensure_future(engine.complete(PREFIX, "", **kw(document="file:///a.py")))
    two = asyncio.ensure_future(engine.complete(PREFIX, "", **kw(document="file:///b.py")))
    await asyncio.sleep(0.01)
    gate.set()
    a, b = await one, await two
    assert a is not None and b is not None and a.text == b.text
    assert len(up.calls) == 1 and b.cached and engine.stats["reused"] == 1


async def test_newer_request_cancels_the_previous_upstream_call() -> None:
    gate = asyncio.Event()
    up = FakeUpstream(gate=gate)
    engine = Engine(fetch=up)
    old = asyncio.ensure_future(engine.complete(PREFIX, "", **kw(trigger="invoked")))
    await asyncio.sleep(0.01)
    new = asyncio.ensure_future(engine.complete(PREFIX + "r", "", **kw(trigger="invoked")))
    await asyncio.sleep(0.01)
    assert up.cancelled == 1, "the older upstream call was cancelled"
    assert await old is None
    gate.set()
    answer = await new
    assert answer is not None and answer.text == "return a + b"


async def test_editor_cancel_stops_upstream_only_when_nobody_else_waits() -> None:
    gate = asyncio.Event()
    up = FakeUpstream(gate=gate)
    engine = Engine(fetch=up)
    first = asyncio.ensure_future(engine.complete(PREFIX, "", **kw(document="file:///a.py")))
    second = asyncio.ensure_future(engine.complete(PREFIX, "", **kw(document="file:///b.py")))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    assert up.cancelled == 0, "the other waiter still needs the answer"
    second.cancel()
    await asyncio.sleep(0.01)
    assert up.cancelled == 1


async def test_a_newer_request_does_not_cancel_a_job_another_document_still_waits_for() -> None:
    gate = asyncio.Event()
    up = FakeUpstream(gate=gate)
    engine = Engine(fetch=up)
    a, b = kw(document="file:///a.py", trigger="invoked"), kw(document="file:///b.py")
    old_a = asyncio.ensure_future(engine.complete(PREFIX, "", **a))
    shared_b = asyncio.ensure_future(engine.complete(PREFIX, "", **b))
    await asyncio.sleep(0.01)
    assert engine.stats["reused"] == 1, "b joined a's job"
    new_a = asyncio.ensure_future(engine.complete(PREFIX + "r", "", **a))
    await asyncio.sleep(0.01)
    assert await old_a is None, "a's older request is superseded"
    assert up.cancelled == 0, "b still waits for the shared job"
    gate.set()
    answer_b, answer_a = await shared_b, await new_a
    assert answer_b is not None and answer_b.text == "return a + b"
    assert answer_a is not None and len(up.calls) == 2
    # With b gone, a newer request from a cancels its own job again.
    gate.clear()
    older = asyncio.ensure_future(engine.complete(PREFIX + "x", "", **a))
    await asyncio.sleep(0.01)
    newer = asyncio.ensure_future(engine.complete(PREFIX + "xy", "", **a))
    await asyncio.sleep(0.01)
    assert await older is None and up.cancelled == 1
    gate.set()
    assert await newer is not None


class ManualTime:
    """A clock and a sleep that move only when the test says so: no timing flakes."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.now + delay, woken))
        await woken

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, woken in list(self.sleepers):
            if deadline <= self.now and not woken.done():
                woken.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)


async def test_debounce_lets_only_the_last_keystroke_through() -> None:
    up = FakeUpstream()
    time = ManualTime()
    engine = Engine(fetch=up, clock=time.clock, sleep=time.sleep)
    tasks = []
    for i in range(5):
        tasks.append(
            asyncio.ensure_future(
                engine.complete(PREFIX + "x" * i, "", **kw(trigger="automatic", debounce_ms=40))
            )
        )
        await time.advance(0.005)
    assert len(time.sleepers) == 5 and not up.calls, "every keystroke waits"
    await time.advance(1.0)
    results = await asyncio.gather(*tasks)
    assert results[:4] == [None] * 4 and results[4] is not None
    assert len(up.calls) == 1 and engine.stats["debounced"] == 4


def test_debounce_adapts_to_typing_speed() -> None:
    now = [0.0]
    engine = Engine(fetch=FakeUpstream(), clock=lambda: now[0])
    from ardaemon.completion.engine import _Rhythm

    rhythm = _Rhythm()
    delays = []
    for _ in range(10):
        delays.append(engine._debounce(rhythm, 75))
        now[0] += 0.2  # a slow, steady typist: 200 ms between keys
    assert delays[0] == pytest.approx(0.075)
    assert delays[-1] == pytest.approx(0.25, abs=0.01), "waits just past the typing rhythm"
    now[0] += 5  # a pause resets nothing but is not counted as rhythm
    assert engine._debounce(rhythm, 75) <= 4 * 0.075


async def test_invoked_and_explicit_triggers_are_not_debounced() -> None:
    up = FakeUpstream()
    engine = Engine(fetch=up)
    answer = await asyncio.wait_for(
        engine.complete(PREFIX, "", **kw(trigger="invoked", debounce_ms=10_000)), 1
    )
    assert answer is not None


async def test_a_request_never_joins_a_job_that_is_being_cancelled() -> None:
    async def fetch(ctx: CompletionContext, model: str, max_tokens: int) -> str:
        try:
            await asyncio.sleep(0.2)
            return "ANSWER"
        finally:
            await asyncio.sleep(0.01)  # like closing the HTTP response: takes loop turns

    engine = Engine(fetch=fetch)
    first = asyncio.ensure_future(engine.complete("x = ", "", **kw(trigger="invoked")))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(engine.complete("x = 1", "", **kw(trigger="invoked")))
    await asyncio.sleep(0)
    # The user deletes the "1": the same context as the first, whose job is dying.
    newest = asyncio.ensure_future(engine.complete("x = ", "", **kw(trigger="invoked")))
    assert await first is None and await second is None
    answer = await newest
    assert answer is not None and answer.text == "ANSWER"
    assert engine.stats["reused"] == 0
