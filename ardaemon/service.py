"""The daemon's work, free of pygls: list and select models, chat, complete.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation. Its parts: the catalog
cache (`catalog.CatalogStore`), the model choice (`selection.ModelChoice`), routes
(`router.Router`), completion requests (`completion.requests.Completions`) and the way
out (`upstream.Upstream`, the one lazily imported part).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from . import credentials, errors, usage
from .catalog import CachedCatalog, CatalogStore
from .completion.context import Snippet
from .completion.engine import Engine, Trigger
from .completion.requests import Completions
from .config import Settings, SettingsStore
from .feedback import Feedback
from .paths import Paths
from .protocol import (
    Acceptance,
    ChatParams,
    ChatResult,
    CompleteResult,
    ListModelsResult,
    Model,
    Role,
    Selected,
    Status,
    StatusResult,
    TokenSource,
    UsageResult,
)
from .providers import ProviderSpec
from .router import Route, Router
from .selection import ModelChoice
from .status import Activity
from .wire import LlmRequest, Message

if TYPE_CHECKING:
    import httpx

    from .dispatch import Answer, Dispatch
    from .upstream import Upstream

WarningSink = Callable[[list[str]], None]


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
        self.router = Router(self.store, self.catalog)
        self.activity = Activity()
        self.completions = Completions(
            self._run_completion,
            self.router.route,
            lambda: self.settings,
            self.activity,
            self._said_fallback,
        )
        self.on_warning: WarningSink | None = None
        self.meter = usage.Meter(usage.Ledger(paths.state_dir), self._catalog_price, self._warn)
        self._dispatch: Dispatch | None = None
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

    @property
    def dispatch(self) -> Dispatch:
        """The fallback chain and the usage ledger around `upstream` (`dispatch.py`)."""
        if self._dispatch is None:
            from .dispatch import Dispatch

            self._dispatch = Dispatch(
                provider=self.provider,
                paths=self.paths,
                environ=self.environ,
                upstream=self.upstream,
                meter=self.meter,
                route_for=self.router.route,
                require_token=self._require_token,
            )
        # The configured provider can change with the settings; the rest does not.
        self._dispatch.provider = self.provider
        return self._dispatch

    @staticmethod
    def warm_up() -> None:
        """Import the request path ahead of the first request (called off the event loop)."""
        from . import upstream  # noqa: F401
        from .completion import postprocess, prompt  # noqa: F401  (the answer's clean-up)

    @property
    def engine(self) -> Engine:
        return self.completions.engine

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
        return credentials.require(self.provider, self.paths, self.environ)

    def token_source(self) -> TokenSource:
        return credentials.source_of(self.provider, self.paths, self.environ)

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
        return self.router.route(model, known)

    # --- chat and completion ------------------------------------------------------------

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("`messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        model = self.models.require("chat", params.model)
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or self.settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        with self.activity.reporting(model):
            answer = await self.dispatch.run(
                model,
                lambda to: msgspec.structs.replace(req, model=to.model),
                purpose="chat",
                settings=self.settings,
                on_delta=on_delta,
            )
        if answer.fallback_from:
            self._said_fallback(answer)
        return ChatResult(
            content=answer.result.text,
            model=answer.route.model,
            api=answer.route.api,
            stop_reason=answer.result.stop_reason,
            usage=answer.result.usage,
            fallback_from=answer.fallback_from,
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
        folder: Path | None = None,
    ) -> CompleteResult | None:
        """Up to `candidates` distinct completions (`completion.requests`); None when a
        newer request for the same document superseded this one. `folder`: the document's
        workspace folder, where its `.ardaemon.toml` is."""
        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("`maxTokens` must be at least 1.")
        here = self.store.settings_for(folder)
        chosen = self.models.require(
            "completion",
            model,
            settings=here,
            trigger="invoked" if trigger == "explicit" else trigger,
            language_id=language_id,
            project=self.store.project_model(folder),
        )
        return await self.completions.complete(
            prefix,
            suffix,
            model=chosen,
            max_tokens=max_tokens,
            language_id=language_id,
            path=path,
            document=document,
            trigger=trigger,
            snippets=snippets,
            candidates=candidates,
            settings=here,
        )

    async def _run_completion(
        self,
        model: str,
        prepare: Callable[[Route], LlmRequest],
        settings: Settings,
        deadline: float,
    ) -> Answer:
        return await self.dispatch.run(
            model, prepare, purpose="completion", settings=settings, deadline=deadline
        )

    # --- usage --------------------------------------------------------------------------

    def usage(self, since: str | None = None, by: usage.GroupBy = "model") -> UsageResult:
        try:
            return usage.summarize(
                self.paths.state_dir, since, by, self.settings.usage.daily_token_warning
            )
        except ValueError as exc:
            raise errors.InvalidParams(f"{exc}.") from None

    def _catalog_price(self, provider: str, model: str) -> tuple[float, float] | None:
        known = self.catalog.cached() if provider == self.provider.name else None
        entry = known.get(model) if known is not None else None
        if entry is not None and entry.price_in is not None and entry.price_out is not None:
            return entry.price_in, entry.price_out
        return None

    def _warn(self, message: str) -> None:
        self.activity.report(Status(state="idle", kind="budget", message=message))
        if self.on_warning is not None:
            self.on_warning([message])

    def _said_fallback(self, answer: Answer) -> None:
        self.activity.report(
            Status(
                state="idle",
                kind="fallback",
                model=answer.route.model,
                message=f"{answer.fallback_from} failed ({answer.reason}); answered by the "
                f"fallback {answer.route.provider.name}:{answer.route.model}.",
            )
        )

    def forget_document(self, uri: str) -> None:
        self.engine.forget(uri)

    async def aclose(self) -> None:
        self.feedback.flush()
        if self._upstream is not None:
            await self._upstream.aclose()
