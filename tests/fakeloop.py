"""An event loop's clock and timers, moved by the test (for pacing code: coalescer, hand-over)."""

from __future__ import annotations

from typing import Any


class FakeLoop:
    """`time`, `call_at` and `call_soon_threadsafe` (recorded, run by `run_soon`) on a
    clock that `advance` moves, running the timers that fall due."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Any]] = []
        self.soon: list[Any] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any) -> Any:
        loop = self

        class Handle:
            def cancel(self) -> None:
                loop.timers = [t for t in loop.timers if t[1] is not callback]

        self.timers.append((when, callback))
        return Handle()

    def call_soon_threadsafe(self, callback: Any) -> None:
        self.soon.append(callback)

    def run_soon(self) -> int:
        ran, self.soon = self.soon, []
        for callback in ran:
            callback()
        return len(ran)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback in sorted(due, key=lambda t: t[0]):
            callback()
