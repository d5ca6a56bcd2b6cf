"""Completion requests: the greedy answer through the engine (debounce, cache, cancel the
previous), sampled extra candidates alongside it, one upstream request per answer with its
status. The upstream call is injected: no httpx here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from ..config import CompletionSettings
from ..protocol import CompleteResult, CompletionItem
from ..router import Route
from ..status import Activity
from ..wire import LlmRequest, LlmResult, Message
from .context import CompletionContext, Snippet, build_context
from .engine import Engine, Trigger
from .postprocess import postprocess
from .prompt import build_prompt

log = logging.getLogger(__name__)

MAX_CANDIDATES = 5
#: Extra candidates are sampled (the first is greedy) so they can differ.
SAMPLING_TEMPERATURE = 0.8

Generate = Callable[[Route, LlmRequest], Awaitable[LlmResult]]


class Completions:
    def __init__(
        self,
        generate: Generate,
        route_for: Callable[[str], Route],
        settings: Callable[[], CompletionSettings],
        activity: Activity,
    ) -> None:
        self._generate = generate
        self._route_for = route_for
        self._settings = settings
        self.activity = activity
        self.engine = Engine(fetch=self.fetch)

    async def complete(
        self,
        prefix: str,
        suffix: str,
        *,
        model: str,
        max_tokens: int | None,
        language_id: str,
        path: str | None,
        document: str | None,
        trigger: Trigger,
        snippets: Sequence[Snippet],
        candidates: int,
    ) -> CompleteResult | None:
        """Up to `candidates` distinct completions; None when a newer request superseded it.

        The first goes through the engine (greedy, cached, shared); the others are sampled
        upstream requests run alongside it: cancelling this call cancels them all.
        """
        settings = self._settings()
        api = self._route_for(model).api
        limit = max_tokens or settings.max_tokens
        multiline = None if settings.multiline else False
        first = self.engine.complete(
            prefix,
            suffix,
            model=model,
            api=api,
            max_tokens=limit,
            language_id=language_id,
            path=path,
            document=document,
            trigger=trigger,
            snippets=snippets,
            multiline=multiline,
            debounce_ms=settings.debounce_ms,
        )
        extra = max(0, min(candidates, MAX_CANDIDATES) - 1)
        if not extra:
            answer = await first
            texts = [answer.text] if answer is not None else []
        else:
            ctx = build_context(
                prefix,
                suffix,
                language_id=language_id,
                path=path,
                snippets=snippets,
                multiline=multiline,
            )
            sampled = [self.fetch(ctx, model, limit, SAMPLING_TEMPERATURE) for _ in range(extra)]
            got, *others = await asyncio.gather(first, *sampled, return_exceptions=True)
            if isinstance(got, BaseException):
                raise got
            assert not isinstance(got, str)
            answer = got
            texts = [answer.text] if answer is not None else []
            # A failed extra costs only that candidate; the greedy answer still counts.
            texts += [t for t in others if isinstance(t, str)]
        if answer is None:
            return None
        items = [CompletionItem(t) for t in _distinct(texts)]
        return CompleteResult(items=items, model=model, api=api, cached=answer.cached)

    async def fetch(
        self, ctx: CompletionContext, model: str, max_tokens: int, temperature: float = 0.0
    ) -> str:
        """One upstream completion request, cleaned to exactly what goes at the cursor."""
        target = self._route_for(model)
        prompt = build_prompt(ctx, target.api)
        messages = [Message("system", prompt.system)] if prompt.system else []
        messages += [Message("user" if r == "user" else "assistant", c) for r, c in prompt.messages]
        req = LlmRequest(
            model=model,
            messages=tuple(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=prompt.stop,
            purpose="completion",
        )
        started = time.perf_counter()
        with self.activity.busy(model):
            result = await self._generate(target, req)
        text = postprocess(result.text, ctx)
        log.debug(
            "completion %s via %s: %d chars in %.0f ms",
            model,
            target.api,
            len(text),
            (time.perf_counter() - started) * 1000,
        )
        return text


def _distinct(texts: Sequence[str]) -> list[str]:
    """Non-empty texts, first of each (ignoring trailing whitespace) in order."""
    seen: set[str] = set()
    out = []
    for text in texts:
        key = text.rstrip()
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out
