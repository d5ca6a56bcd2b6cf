"""Streamed chat deltas joined per display frame: never held back first, never lost or
reordered, the rest sent by `flush` (before the result)."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

from fakeloop import FakeLoop

from ardaemon.coalesce import DeltaCoalescer, Pace


def make(
    pace: Pace | None = None, loop: FakeLoop | None = None
) -> tuple[DeltaCoalescer, FakeLoop, list[tuple[float, str]]]:
    clock = loop or FakeLoop()
    sent: list[tuple[float, str]] = []
    coalescer = DeltaCoalescer(lambda text: sent.append((clock.now, text)), pace, clock)  # type: ignore[arg-type]
    return coalescer, clock, sent


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


def test_many_streams_at_once_share_a_bounded_rate_and_one_stream_keeps_16_ms() -> None:
    pace = Pace()
    loop = FakeLoop()
    streams = [make(pace, loop) for _ in range(100)]
    assert pace.open == 100 and pace.frame() == 0.1
    pushed: list[list[str]] = [[] for _ in streams]
    for tick in range(200):  # a chunk every 5 ms on every stream, for 1 s
        for i, (c, _, _) in enumerate(streams):
            pushed[i].append(f"{i}.{tick} ")
            c.push(pushed[i][-1])
        if tick == 0:
            assert all(len(sent) == 1 for _, _, sent in streams), "first text never held"
        loop.advance(0.005)
    for c, _, _ in streams:
        c.close()
    sends = sum(len(sent) for _, _, sent in streams)
    assert sends <= 1000 * 1.0 + 2 * 100, sends  # RATE for 1 s, plus each first and last
    for i, (_, _, sent) in enumerate(streams):
        assert "".join(t for _, t in sent) == "".join(pushed[i]), "nothing lost or reordered"
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent[:-1])]
        assert all(g >= 0.1 - 1e-9 for g in gaps), gaps
    assert pace.open == 0 and loop.timers == []

    alone, _, sent = make(pace, loop)  # the others are done: back to a display frame
    for _ in range(40):
        alone.push("x")
        loop.advance(0.004)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
    assert gaps and all(abs(g - 0.016) < 1e-9 for g in gaps), gaps


def test_the_frame_grows_with_open_streams_up_to_a_limit() -> None:
    pace = Pace()
    assert pace.frame() == 0.016
    loop = FakeLoop()
    made = [make(pace, loop)[0] for _ in range(16)]
    assert pace.frame() == 0.016
    made += [make(pace, loop)[0] for _ in range(34)]
    assert pace.frame() == 0.05
    made += [make(pace, loop)[0] for _ in range(950)]
    assert pace.frame() == 0.25, "no stream waits longer than LONGEST"
    for c in made:
        c.close()
        c.close()  # twice counts once
    assert pace.open == 0


def test_with_many_streams_held_text_leaves_in_shared_turns_of_the_loop() -> None:
    pace = Pace()
    loop = FakeLoop()
    timers: set[float] = set()
    call_at = loop.call_at

    def recording(when: float, callback: Any) -> Any:
        timers.add(round(when, 9))
        return call_at(when, callback)

    loop.call_at = recording  # type: ignore[method-assign]
    rng = random.Random(3)
    streams = [make(pace, loop) for _ in range(100)]
    for _ in range(2000):  # 1 s of chunks at random moments on random streams
        rng.choice(streams)[0].push("x")
        loop.advance(0.0005)
    # Held text leaves on a 16 ms grid: one loop turn per grid step, not one per stream.
    assert len(timers) <= 1 / 0.016 + 2, len(timers)
    assert all(abs(t / 0.016 - round(t / 0.016)) < 1e-6 for t in timers)
    for _, _, sent in streams:
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
        assert all(g >= 0.1 - 1e-9 for g in gaps), gaps
