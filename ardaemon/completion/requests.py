"""Completion requests: the model for this document, the greedy answer through the engine
(debounce, cache, cancel the previous), sampled extra candidates alongside it, one upstream
request per answer through the fallback chain (`dispatch.py`) with its status. No httpx
here."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import errors
from ..config import SettingsStore
from ..protocol import CompleteResult, CompletionItem
from ..router import Route
from ..settings import Settings
from ..status import Activity
from ..wire import LlmRequest, Message
from ..wire.base import FimInput
from .context import CompletionContext, Snippet, build_context, with_stop_reason
from .engine import Engine, Trigger

log = logging.getLogger(__name__)

MAX_CANDIDATES = 5
#: Extra candidates are sampled (the first is greedy) so they can differ.
SAMPLING_TEMPERATURE = 0.8

if TYPE_CHECKING:
    from ..dispatch import Dispatch
    from ..selection import ModelChoice


@dataclass
class _Scope:
    """One completion request's view, handed to its upstream jobs (tasks that inherit the
    request's context): the document's settings in, the answering fallback out."""

    settings: Settings
    answered_by: str | None = None


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("scope", default=None)


class Completions:
    def __init__(
        self,
        store: SettingsStore,
        models: ModelChoice,
        route_for: Callable[[str], Route],
        dispatch: Dispatch,
        activity: Activity,
    ) -> None:
        self._store = store
        self._models = models
        self._route_for = route_for
        self._dispatch = dispatch
        self.activity = activity
        self.engine = Engine(fetch=self.fetch)

    async def complete(
        self,
        prefix: str,
        suffix: str,
        *,
        language_id: str = "",
        path: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        document: str | None = None,
        trigger: Trigger = "explicit",
        snippets: Sequence[Snippet] = (),
        candidates: int = 1,
        folder: Path | None = None,
    ) -> CompleteResult | None:
        """Up to `candidates` distinct completions; None when a newer request for the same
        document superseded this one.

        The first goes through the engine (greedy, cached, shared); the others are sampled
        upstream requests run alongside it: cancelling this call cancels them all.
        `folder`: the document's workspace folder, where its `.ardaemon.toml` is.
        """
        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        settings = self._store.settings_for(folder)
        model = self._models.require(
            "completion",
            model,
            settings=settings,
            trigger="invoked" if trigger == "explicit" else trigger,
            language_id=language_id,
            project=self._store.project_model(folder),
        )
        scope = _Scope(settings)
        # The engine's upstream job is a task created in this context: it sees this scope.
        _SCOPE.set(scope)
        settings_ = scope.settings.completion
        api = self._route_for(model).api
        limit = max_tokens or settings_.max_tokens
        multiline = None if settings_.multiline else False
        extra = max(0, min(candidates, MAX_CANDIDATES) - 1)
        # Built once, when first needed: by the sampled candidates (which start alongside
        # the engine's request), else by the engine after its typing-through check.
        context = functools.cache(
            functools.partial(
                build_context,
                prefix,
                suffix,
                language_id=language_id,
                path=path,
                snippets=snippets,
                multiline=multiline,
                prefix_chars=settings_.prefix_chars,
                suffix_chars=settings_.suffix_chars,
            )
        )
        first = self.engine.complete(
            prefix,
            suffix,
            model=model,
            api=api,
            max_tokens=limit,
            document=document,
            trigger=trigger,
            debounce_ms=settings_.debounce_ms,
            prefix_chars=settings_.prefix_chars,
            suffix_chars=settings_.suffix_chars,
            context=context,
        )
        if not extra:
            answer = await first
            texts = [answer.text] if answer is not None else []
        else:
            sampled = [
                self.fetch(context(), model, limit, SAMPLING_TEMPERATURE) for _ in range(extra)
            ]
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
        answered = scope.answered_by
        return CompleteResult(
            items=items,
            model=answered or model,
            api=self._route_for(answered).api if answered else api,
            cached=answer.cached,
            fallback_from=model if answered else None,
        )

    async def fetch(
        self, ctx: CompletionContext, model: str, max_tokens: int, temperature: float = 0.0
    ) -> str:
        """One upstream completion request, cleaned to exactly what goes at the cursor."""
        scope = _SCOPE.get() or _Scope(self._store.settings)

        def prepare(to: Route) -> LlmRequest:
            if to.fim:
                # Native FIM: the text around the cursor as is, no prompt wording.
                return LlmRequest(
                    model=to.model,
                    messages=(),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=() if ctx.multiline else ("\n",),
                    purpose="completion",
                    fim=FimInput(
                        ctx.prefix, ctx.suffix, tuple((s.path, s.text) for s in ctx.snippets)
                    ),
                )
            from .prompt import build_prompt  # loaded by `Service.warm_up`, not at start-up

            prompt = build_prompt(ctx, to.api)
            messages = [Message("system", prompt.system)] if prompt.system else []
            messages += [
                Message("user" if r == "user" else "assistant", c) for r, c in prompt.messages
            ]
            return LlmRequest(
                model=to.model,
                messages=tuple(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stop=prompt.stop,
                purpose="completion",
            )

        started = time.perf_counter()
        with self.activity.busy(model):
            # A fallback only within the time the first request had.
            deadline = time.monotonic() + scope.settings.completion.timeout
            answer = await self._dispatch.run(
                model, prepare, purpose="completion", settings=scope.settings, deadline=deadline
            )
        if answer.fallback_from:
            scope.answered_by = answer.route.model
            self.activity.fell_back(answer)
        from .postprocess import postprocess  # loaded by `Service.warm_up`, not at start-up

        text = postprocess(answer.result.text, with_stop_reason(ctx, answer.result.stop_reason))
        log.debug(
            "completion %s via %s: %d chars in %.0f ms",
            answer.route.model,
            answer.route.fim or answer.route.api,
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
