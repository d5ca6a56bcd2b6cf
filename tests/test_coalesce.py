"""Streamed chat deltas joined per display frame: never held back first, never lost or
reordered, the rest sent by `flush` (before the result)."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

from ardaemon.coalesce import DeltaCoalescer


class FakeLoop:
    """The two loop methods the coalescer uses, on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Any]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any) -> Any:
        loop = self

        class Handle:
            def cancel(self) -> None:
                loop.timers = [t for t in loop.timers if t[1] is not callback]

        self.timers.append((when, callback))
        return Handle()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback in sorted(due, key=lambda t: t[0]):
            callback()


def make(interval: float = 0.016) -> tuple[DeltaCoalescer, FakeLoop, list[tuple[float, str]]]:
    loop = FakeLoop()
    sent: list[tuple[float, str]] = []
    coalescer = DeltaCoalescer(lambda text: sent.append((loop.now, text)), interval, loop)  # type: ignore[arg-type]
    return coalescer, loop, sent


def test_first_delta_is_sent_at_once_and_a_burst_is_joined() -> None:
    c, loop, sent = make()
    c.push("Hel")
    assert sent == [(0.0, "Hel")], "the first delta is never held back"
    for piece in ("lo", ", ", "wor"):
        loop.advance(0.001)
        c.push(piece)
    assert sent == [(0.0, "Hel")]
    loop.advance(0.013)  # the frame is over
    assert sent == [(0.0, "Hel"), (0.016, "lo, wor")]
    c.push("ld")
    c.flush()  # end of stream: the rest goes now, not at the next frame
    assert [t for _, t in sent] == ["Hel", "lo, wor", "ld"]
    assert loop.timers == []


def test_a_slow_stream_is_not_delayed() -> None:
    c, loop, sent = make()
    for i in range(5):
        c.push(f"w{i} ")
        loop.advance(0.05)
    assert [t for _, t in sent] == [f"w{i} " for i in range(5)]
    assert [at for at, _ in sent] == [i * 0.05 for i in range(5)]


def test_random_streams_keep_every_character_in_order_at_most_one_send_per_frame() -> None:
    rng = random.Random(12)
    for _ in range(200):
        c, loop, sent = make()
        pushed = []
        for _ in range(rng.randrange(1, 60)):
            text = "".join(rng.choice("ab é\n😀") for _ in range(rng.randrange(0, 4)))
            pushed.append(text)
            c.push(text)
            loop.advance(rng.choice([0.0, 0.001, 0.005, 0.02, 0.1]))
        timed = list(sent)
        c.flush()
        assert "".join(t for _, t in sent) == "".join(pushed)
        assert all(t for _, t in sent), "no empty notification"
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(timed)]
        assert all(g >= 0.016 - 1e-9 for g in gaps), gaps


async def test_on_a_real_loop_the_held_text_arrives_without_flush() -> None:
    sent: list[str] = []
    c = DeltaCoalescer(sent.append)
    c.push("a")
    c.push("b")
    c.push("c")
    assert sent == ["a"]
    await asyncio.sleep(0.05)
    assert sent == ["a", "bc"]
