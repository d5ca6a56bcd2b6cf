"""The daemon's work, free of pygls: list and select models, chat, complete.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation. The catalog cache is
`catalog.CatalogStore`, the model choice `selection.ModelChoice`, the network `upstream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from . import credentials, errors
from .catalog import CachedCatalog, CatalogStore
from .completion import CompletionContext, Snippet, build_context, build_prompt, postprocess
from .completion.engine import Engine, Trigger
from .config import Paths, ProviderSpec, Settings, SettingsStore
from .feedback import Feedback
from .protocol import (
    Acceptance,
    ChatParams,
    ChatResult,
    CompleteResult,
    CompletionItem,
    ListModelsResult,
    Model,
    Role,
    Selected,
    StatusResult,
    TokenSource,
)
from .router import Route, route
from .selection import ModelChoice
from .status import Activity
from .wire import LlmRequest, Message

if TYPE_CHECKING:
    import httpx

    from .upstream import Upstream

log = logging.getLogger(__name__)

#: Models whose route is remembered (requests may name any model).
ROUTE_MEMO = 64
MAX_CANDIDATES = 5
#: Extra candidates are sampled (the first is greedy) so they can differ.
SAMPLING_TEMPERATURE = 0.8


class Service:
    def __init__(
        self,
        paths: Paths,
        store: SettingsStore | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.environ = os.environ if environ is None else environ
        self.store = store or SettingsStore(paths, environ=self.environ)
        self.catalog = CatalogStore(paths.cache_dir, self.store, self._download_catalog)
        self.models = ModelChoice(paths.selection_file, self.store, self.catalog)
        self.engine = Engine(fetch=self._fetch_completion)
        self.activity = Activity()
        self._routes: dict[str, tuple[Settings, CachedCatalog, Route]] = {}
        self.feedback = Feedback(paths.feedback_file)
        self._transport = transport
        self._upstream: Upstream | None = None

    @property
    def upstream(self) -> Upstream:
        """The one lazy-import seam: httpx, SSE and the wire formats load on first use (or
        in `warm_up`, right after `initialized`), so answering `initialize` costs no more
        than pygls itself."""
        if self._upstream is None:
            from .upstream import Upstream

            self._upstream = Upstream(self.store, self._transport)
        return self._upstream

    @staticmethod
    def warm_up() -> None:
        """Import the request path ahead of the first request (called off the event loop)."""
        from . import upstream  # noqa: F401

    # --- settings & credentials ---------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.store.settings

    @property
    def provider(self) -> ProviderSpec:
        return self.store.provider

    @property
    def base_url(self) -> str:
        return self.store.base_url

    @property
    def label(self) -> str:
        return self.provider.label or self.provider.name

    def token(self) -> tuple[str | None, credentials.Source]:
        return credentials.lookup(self.provider, self.paths, self.environ)

    def _require_token(self) -> str | None:
        token, _ = self.token()
        if token is None and self.provider.token_required:
            raise errors.AuthError(reason="no_token").add_context(
                provider=self.label,
                token_env=self.provider.token_env or "the provider's token variable",
            )
        return token

    def token_source(self) -> TokenSource:
        """Where the token comes from (never the token itself)."""
        _, source = self.token()
        detail: str | None = None
        if source == "env":
            detail = self.provider.token_env
        elif source == "keyring":
            detail = credentials.keyring_backend()
        elif source == "file":
            detail = str(self.paths.credentials_file)
        return TokenSource(source=source, detail=detail)

    def status(self) -> StatusResult:
        counts = self.feedback.counts()
        return StatusResult(
            token=self.token_source(),
            acceptance=[Acceptance(m, c.shown, c.accepted) for m, c in sorted(counts.items())],
        )

    def settings_changed(self, before: Settings) -> None:
        self.models.apply_settings()
        after = self.settings
        if (before.provider, before.base_url) != (after.provider, after.base_url):
            self.engine.clear()

    # --- models -------------------------------------------------------------------------

    async def download_catalog(self, token: str | None) -> CachedCatalog:
        """`GET /v1/models` with this token, as every catalog request is sent (no cache)."""
        return await self.upstream.list_models(token)

    async def _download_catalog(self) -> CachedCatalog:
        return await self.download_catalog(self._require_token())

    async def list_models(self, refresh: bool = False) -> ListModelsResult:
        found, source, stale = await self.catalog.get(refresh)
        return ListModelsResult(
            models=[
                Model(
                    id=m.id,
                    api=self.route_for(m.id, found).api,
                    provider=self.provider.name,
                    name=m.name,
                    owned_by=m.owned_by,
                )
                for m in found.models
            ],
            source=source,
            stale=stale,
            fetched_at=found.fetched_at_rfc3339,
            selected=self.models.current(),
        )

    async def select_model(self, model: str, role: Role | None) -> Selected:
        known = self.catalog.cached()
        if known is None and model.strip():
            with contextlib.suppress(errors.ArdaemonError):
                known = (await self.catalog.get()).catalog
        return self.models.select(model, role, known)

    def route_for(self, model: str, known: CachedCatalog | None = None) -> Route:
        """The route of a model, worked out once per settings and catalog."""
        known = known or self.catalog.cached() or _EMPTY
        settings = self.settings  # the same object until the settings change
        memo = self._routes.get(model)
        if memo is not None and memo[0] is settings and memo[1] is known:
            return memo[2]
        entry = known.get(model)
        found = route(
            self.provider,
            self.base_url,
            model,
            entry.endpoint_types if entry else None,
            settings.api_overrides,
        )
        if len(self._routes) >= ROUTE_MEMO:
            self._routes.clear()
        self._routes[model] = (settings, known, found)
        return found

    # --- chat and completion ------------------------------------------------------------

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("`messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        model = self.models.require("chat", params.model)
        target = self.route_for(model)
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or self.settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        result = await self.upstream.generate(target, self._require_token(), req, on_delta)
        return ChatResult(
            content=result.text,
            model=model,
            api=target.api,
            stop_reason=result.stop_reason,
            usage=result.usage,
        )

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
    ) -> CompleteResult | None:
        """Up to `candidates` distinct completions; None when a newer request superseded it.

        The first goes through the engine (greedy, cached, shared); the others are sampled
        upstream requests run alongside it: cancelling this call cancels them all.
        """
        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        settings = self.settings.completion
        chosen = self.models.require("completion", model)
        api = self.route_for(chosen).api
        limit = max_tokens or settings.max_tokens
        multiline = None if settings.multiline else False
        first = self.engine.complete(
            prefix,
            suffix,
            model=chosen,
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
            sampled = [
                self._fetch_completion(ctx, chosen, limit, SAMPLING_TEMPERATURE)
                for _ in range(extra)
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
        return CompleteResult(items=items, model=chosen, api=api, cached=answer.cached)

    async def _fetch_completion(
        self, ctx: CompletionContext, model: str, max_tokens: int, temperature: float = 0.0
    ) -> str:
        """One upstream completion request, cleaned to exactly what goes at the cursor."""
        target = self.route_for(model)
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
            result = await self.upstream.generate(target, self._require_token(), req)
        text = postprocess(result.text, ctx)
        log.debug(
            "completion %s via %s: %d chars in %.0f ms",
            model,
            target.api,
            len(text),
            (time.perf_counter() - started) * 1000,
        )
        return text

    def forget_document(self, uri: str) -> None:
        self.engine.forget(uri)

    async def aclose(self) -> None:
        self.feedback.flush()
        if self._upstream is not None:
            await self._upstream.aclose()


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


_EMPTY = CachedCatalog(provider="", base_url="", fetched_at=0.0, models=[])
