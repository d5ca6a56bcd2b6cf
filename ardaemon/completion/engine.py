"""The inline completion engine: few upstream requests, answers that are quick and clean.

Between an editor's keystrokes and the gateway sit, in order:
1. typing-through: the user typed the start of the suggestion on screen → answer the rest
   at once, no upstream;
2. an LRU cache keyed on model + context;
3. a debounce for automatic triggers, adaptive to the user's typing speed (a newer request
   for the same document supersedes this one before it costs anything);
4. in-flight reuse: a request whose context matches a running one waits for that one;
5. cancel-previous: a new upstream request for a document supersedes the older one.
Upstream work runs as a job separate from the handler so the cases above can share it; the
job is cancelled (closing the HTTP response) once nobody waits for it: a superseded request
stops waiting, but a job another document shares runs on for that one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .context import PREFIX_CHARS, SUFFIX_CHARS, CompletionContext, build_context

Trigger = Literal["automatic", "invoked", "explicit"]
CacheKey = tuple[str, ...]
Fetch = Callable[[CompletionContext, str, int], Awaitable[str]]

CACHE_SIZE = 512
#: Intervals longer than this are pauses, not typing rhythm.
TYPING_GAP = 1.0


@dataclass
class Answer:
    text: str
    #: Answered without a new upstream request (cache, typing-through or a shared job).
    cached: bool


@dataclass
class _Job:
    key: CacheKey
    task: asyncio.Task[str]
    #: The requests waiting, by document: a newer request for a document releases that
    #: document's waiters (resolving their futures), not the other documents'.
    waiting: dict[str, list[asyncio.Future[None]]] = field(default_factory=dict)

    @property
    def waiters(self) -> int:
        return sum(map(len, self.waiting.values()))


@dataclass
class _Shown:
    prefix: str
    suffix: str
    text: str


@dataclass
class _Rhythm:
    last: float | None = None
    interval: float | None = None  # moving average of recent keystroke intervals
    generation: int = 0


@dataclass
class Engine:
    """Per-daemon state; `fetch(ctx, model, max_tokens)` does one upstream completion."""

    fetch: Fetch
    #: Time, injectable so tests run the debounce on a fake clock.
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    stats: Counter[str] = field(default_factory=Counter)
    _cache: OrderedDict[CacheKey, str] = field(default_factory=OrderedDict)
    _jobs: dict[CacheKey, _Job] = field(default_factory=dict)
    _latest: dict[str, _Job] = field(default_factory=dict)
    _shown: dict[str, _Shown] = field(default_factory=dict)
    _rhythm: dict[str, _Rhythm] = field(default_factory=dict)

    async def complete(
        self,
        prefix: str,
        suffix: str,
        *,
        model: str,
        api: str,
        max_tokens: int,
        document: str | None = None,
        trigger: Trigger = "explicit",
        debounce_ms: int = 0,
        prefix_chars: int = PREFIX_CHARS,
        suffix_chars: int = SUFFIX_CHARS,
        context: Callable[[], CompletionContext] | None = None,
    ) -> Answer | None:
        """The text to insert at the cursor; None when a newer request superseded this one.

        `context` builds the request's context (language, snippets, shape) when it is
        needed (not when typing through); by default the text within the budget."""
        doc = document or ""
        rhythm = self._rhythm.setdefault(doc, _Rhythm())
        delay = self._debounce(rhythm, debounce_ms) if trigger == "automatic" else 0.0
        rhythm.generation += 1
        generation = rhythm.generation

        through = self._type_through(doc, prefix, suffix)
        if through is not None:
            self.stats["typed_through"] += 1
            return Answer(through, cached=True)

        ctx = (
            context()
            if context is not None
            else build_context(prefix, suffix, prefix_chars=prefix_chars, suffix_chars=suffix_chars)
        )
        # The budget is part of the key: an answer made from another budget's context (a
        # project file with a smaller one) is never served for this one.
        key = (
            model,
            api,
            str(max_tokens),
            f"{prefix_chars}/{suffix_chars}",
            ctx.language_id,
            str(ctx.multiline),
            ctx.prefix,
            ctx.suffix,
        )
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self.stats["cache_hits"] += 1
            self._remember(doc, prefix, suffix, hit)
            return Answer(hit, cached=True)

        if delay > 0:
            await self.sleep(delay)
            if rhythm.generation != generation:
                self.stats["debounced"] += 1
                return None

        job = self._jobs.get(key)
        shared = job is not None
        if job is None:
            previous = self._latest.get(doc) if doc else None
            if previous is not None and not previous.task.done():
                self._supersede(doc, previous)
            job = _Job(key, asyncio.ensure_future(self.fetch(ctx, model, max_tokens)))
            self._jobs[key] = job
            job.task.add_done_callback(functools.partial(self._finish, key, job))
            self.stats["upstream"] += 1
        else:
            self.stats["reused"] += 1
        if doc:
            self._latest[doc] = job
        released: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        job.waiting.setdefault(doc, []).append(released)
        try:
            either: set[asyncio.Future[Any]] = {job.task, released}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # The editor cancelled this request: stop the upstream if nobody else waits.
            self._leave(job, doc, released)
            if job.waiters <= 0:
                self._cancel(job)
            raise
        self._leave(job, doc, released)
        if released.done() or job.task.cancelled():
            return None  # superseded by a newer request for this document
        text = job.task.result()
        self._remember(doc, prefix, suffix, text)
        return Answer(text, cached=shared)

    def _supersede(self, doc: str, job: _Job) -> None:
        """A newer request for `doc` starts: release doc's waiters on its older job, and
        cancel that job unless another document still waits for it."""
        for released in job.waiting.pop(doc, []):
            released.set_result(None)
        if job.waiters <= 0:
            self.stats["cancelled_previous"] += 1
            self._cancel(job)

    @staticmethod
    def _leave(job: _Job, doc: str, released: asyncio.Future[None]) -> None:
        waiting = job.waiting.get(doc, [])
        if released in waiting:
            waiting.remove(released)

    def _cancel(self, job: _Job) -> None:
        """Cancel a job and unlist it at once: closing the HTTP response takes a few loop
        turns, and a request arriving meanwhile must start afresh, not join a dying job."""
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        for doc, latest in list(self._latest.items()):
            if latest is job:
                del self._latest[doc]
        job.task.cancel()

    def _finish(self, key: CacheKey, job: _Job, _task: object = None) -> None:
        if self._jobs.get(key) is job:
            del self._jobs[key]
        if job.task.cancelled() or job.task.exception() is not None:
            return
        self._cache[key] = job.task.result()
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _debounce(self, rhythm: _Rhythm, base_ms: int) -> float:
        """Wait a little longer than the user's typing rhythm, within 1×–4× the base."""
        now = self.clock()
        if rhythm.last is not None:
            gap = now - rhythm.last
            if gap < TYPING_GAP:
                rhythm.interval = (
                    gap if rhythm.interval is None else 0.7 * rhythm.interval + 0.3 * gap
                )
        rhythm.last = now
        base = base_ms / 1000
        if base <= 0:
            return 0.0
        if rhythm.interval is None:
            return base
        return min(4 * base, max(base, 1.25 * rhythm.interval))

    def _type_through(self, doc: str, prefix: str, suffix: str) -> str | None:
        shown = self._shown.get(doc) if doc else None
        if shown is None or suffix != shown.suffix or not prefix.startswith(shown.prefix):
            return None
        typed = prefix[len(shown.prefix) :]
        if not typed or not shown.text.startswith(typed) or len(typed) >= len(shown.text):
            return None
        return shown.text[len(typed) :]

    def _remember(self, doc: str, prefix: str, suffix: str, text: str) -> None:
        if doc and text:
            self._shown[doc] = _Shown(prefix, suffix, text)
        elif doc:
            self._shown.pop(doc, None)

    def forget(self, document: str) -> None:
        """The document closed: drop what is kept for it, stop its upstream work."""
        self._shown.pop(document, None)
        self._rhythm.pop(document, None)
        job = self._latest.pop(document, None)
        if job is not None and job.waiters <= 0 and not job.task.done():
            self._cancel(job)

    def clear(self) -> None:
        self._cache.clear()
        self._shown.clear()
