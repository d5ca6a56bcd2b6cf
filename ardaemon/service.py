"""The daemon's work, free of pygls: catalog, selection, chat and completion.

JSON-RPC handlers (`server.py`) and the CLI both call this one object, so routing, the
catalog, errors and credentials have exactly one implementation.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import credentials, errors
from .config import Paths, ProviderSpec, Settings, SettingsStore
from .protocol import (
    ChatParams,
    ChatResult,
    CompleteResult,
    CompletionItem,
    ListModelsResult,
    Model,
    Role,
    Selected,
    Status,
)
from .router import Route, route
from .state import StoredSelection, load_selection, save_selection

if TYPE_CHECKING:
    from .catalog import CachedCatalog
    from .completion.context import CompletionContext, Snippet
    from .completion.engine import Engine, Trigger
    from .http import Http

# httpx, the adapters and the catalog are imported on first use (or by `warm_up` right
# after the editor's `initialized`), so answering `initialize` costs no more than pygls.

log = logging.getLogger(__name__)

StatusSink = Callable[[Status], None]
COMPLETION_MAX_RETRY_WAIT = 2.0
INTERNAL_MESSAGE = (
    "ardaemon hit an internal error: the details are in its log file (`ardaemon status` "
    "shows where)."
)


class Service:
    def __init__(
        self,
        paths: Paths,
        store: SettingsStore | None = None,
        *,
        http: Http | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.environ = os.environ if environ is None else environ
        self.store = store or SettingsStore(paths, environ=self.environ)
        self._http = http
        self._selection = StoredSelection()
        self._selection_mtime: int | None = -1
        self.on_status: StatusSink | None = None
        self._catalogs: dict[str, CachedCatalog] = {}
        self._engine: Engine | None = None
        self._active = 0

    @property
    def http(self) -> Http:
        if self._http is None:
            from .http import Http

            self._http = Http()
        return self._http

    @staticmethod
    def warm_up() -> None:
        """Import the request path ahead of the first request (called off the event loop)."""
        from . import catalog, completion, upstream  # noqa: F401

    # --- settings & credentials ---------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.store.settings

    @property
    def provider(self) -> ProviderSpec:
        return self.store.provider

    @property
    def label(self) -> str:
        return self.provider.label or self.provider.name

    def token(self) -> tuple[str | None, credentials.Source]:
        return credentials.lookup(self.provider, self.paths, self.environ)

    def _require_token(self) -> str | None:
        token, _ = self.token()
        if token is None and self.provider.token_required:
            env = self.provider.token_env or "the provider's token variable"
            raise errors.AuthError(f"No token for {self.label}: set {env} or run `ardaemon login`.")
        return token

    def apply_settings(self) -> None:
        """Models named in settings take over like a selection when they change.

        Called whenever a settings layer arrives, so the rule is the same for config.toml,
        initializationOptions and didChangeConfiguration: compare with the values applied
        last time (kept in the selection file), never with what happened to be loaded.
        """
        s = self.settings
        wanted = Selected(completion=s.completion.model or s.models.completion, chat=s.models.chat)
        stored = self._stored()
        if wanted == stored.from_settings:
            return
        seen = stored.from_settings
        self._save_selection(
            StoredSelection(
                completion=wanted.completion
                if wanted.completion and wanted.completion != seen.completion
                else stored.completion,
                chat=wanted.chat if wanted.chat and wanted.chat != seen.chat else stored.chat,
                from_settings=wanted,
            )
        )

    def settings_changed(self, before: Settings) -> None:
        self.apply_settings()
        after = self.settings
        if self._engine is not None and (before.provider, before.base_url) != (
            after.provider,
            after.base_url,
        ):
            self._engine.clear()

    # --- catalog ------------------------------------------------------------------------

    def _catalog_path(self) -> str:
        from . import catalog

        return str(catalog.cache_path(self.paths.cache_dir, self.provider.name, self.base_url))

    @property
    def base_url(self) -> str:
        return self.store.base_url

    def cached_catalog(self) -> CachedCatalog | None:
        from . import catalog

        key = self._catalog_path()
        found = self._catalogs.get(key)
        if found is None:
            found = catalog.load(Path(key))
            if found is not None:
                self._catalogs[key] = found
        return found

    async def fetch_catalog(self, refresh: bool = False) -> tuple[CachedCatalog, str, bool]:
        """(catalog, source, stale): fresh cache, else network, else stale cache."""

        from . import catalog

        cached = self.cached_catalog()
        if cached and not refresh and catalog.is_fresh(cached, self.settings.catalog.max_age_hours):
            return cached, "cache", False
        try:
            fresh = await self.fetch_remote_catalog(self._require_token())
        except errors.UpstreamError as exc:
            if cached is None:
                raise
            log.warning("catalog refresh failed (%s); serving the cached one", exc.kind)
            return cached, "cache", True
        key = self._catalog_path()
        catalog.save(Path(key), fresh)
        self._catalogs[key] = fresh
        return fresh, "network", False

    async def fetch_remote_catalog(self, token: str | None) -> CachedCatalog:
        """`GET /v1/models` with this token, as every catalog request is sent (no cache)."""
        from . import catalog

        return await catalog.fetch(
            self.http,
            provider=self.provider.name,
            label=self.label,
            base_url=self.base_url,
            auth_style=self.provider.auth,
            token=token,
            extra_headers=self.settings.headers,
            timeout=min(self.settings.request_timeout, 30.0),
            anthropic=self.provider.api == "anthropic",
            token_env=self.provider.token_env,
        )

    async def list_models(self, refresh: bool = False) -> ListModelsResult:
        found, source, stale = await self.fetch_catalog(refresh)
        models = [
            Model(
                id=m.id,
                api=self.route_for(m.id, found).api,
                provider=self.provider.name,
                name=m.name,
                owned_by=m.owned_by,
            )
            for m in found.models
        ]
        return ListModelsResult(
            models=models,
            source="network" if source == "network" else "cache",
            stale=stale,
            fetched_at=found.fetched_at_rfc3339,
            selected=self.selected(),
        )

    # --- selection ----------------------------------------------------------------------

    @property
    def selection(self) -> Selected:
        return self._stored().selected

    def _stored(self) -> StoredSelection:
        """The persisted selection; re-read when another process (`ardaemon use`) changed it."""
        mtime = _mtime(self.paths.selection_file)
        if mtime != self._selection_mtime:
            self._selection = load_selection(self.paths.selection_file)
            self._selection_mtime = mtime
        return self._selection

    def selected(self) -> Selected:
        """What requests naming no model use, per role (selection, settings, defaults)."""
        return Selected(
            completion=self.model_for("completion", None, required=False),
            chat=self.model_for("chat", None, required=False),
        )

    async def select_model(self, model: str, role: Role | None) -> Selected:
        model = model.strip()
        if not model:
            raise errors.InvalidParams("Invalid params: `model` must not be empty.")
        known = self.cached_catalog()
        if known is None:
            try:
                known, _, _ = await self.fetch_catalog()
            except errors.ArdaemonError:
                known = None
        if known is not None and known.get(model) is None:
            from . import catalog

            near = catalog.close_matches(model, known.ids) if len(model) < 200 else []
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise errors.InvalidParams(
                f"Unknown model '{errors.quote(model)}' at {self.label}.{hint} "
                "List the models with ardaemon/listModels."
            )
        stored = self._stored()
        self._save_selection(
            StoredSelection(
                completion=model if role in (None, "completion") else stored.completion,
                chat=model if role in (None, "chat") else stored.chat,
                from_settings=stored.from_settings,
            )
        )
        return self.selected()

    def _save_selection(self, stored: StoredSelection) -> None:
        self._selection = stored
        try:
            save_selection(self.paths.selection_file, stored)
            self._selection_mtime = _mtime(self.paths.selection_file)
        except OSError as exc:
            log.warning("could not save the model selection (%s)", exc.strerror)

    def model_for(self, role: Role, explicit: str | None, required: bool = True) -> str | None:
        s = self.settings
        choices: tuple[str | None, ...]
        if role == "completion":
            choices = (explicit, self.selection.completion, s.completion.model, s.models.completion)
            default = self.provider.completion_model
        else:
            choices = (explicit, self.selection.chat, s.models.chat)
            default = self.provider.chat_model
        model = next((c for c in choices if c), None) or self._default_model(default)
        if model is None and required:
            raise errors.InvalidParams(
                f"No {role} model selected: pick one with ardaemon/selectModel or "
                f"set `ardaemon.models.{role}`."
            )
        return model

    def _default_model(self, preferred: str | None) -> str | None:
        known = self.cached_catalog()
        if known is None or not known.models or (preferred and known.get(preferred)):
            return preferred
        return known.models[0].id

    def route_for(self, model: str, known: CachedCatalog | None = None) -> Route:
        known = known or self.cached_catalog()
        entry = known.get(model) if known is not None else None
        return route(
            self.provider,
            self.base_url,
            model,
            entry.endpoint_types if entry else None,
            self.settings.api_overrides,
        )

    # --- chat ---------------------------------------------------------------------------

    async def chat(
        self, params: ChatParams, on_delta: Callable[[str], None] | None = None
    ) -> ChatResult:
        if not params.messages:
            raise errors.InvalidParams("Invalid params: `messages` must not be empty.")
        if params.max_tokens is not None and params.max_tokens < 1:
            raise errors.InvalidParams("Invalid params: `maxTokens` must be at least 1.")
        from .upstream import LlmRequest, Message, generate

        model = self.model_for("chat", params.model)
        assert model is not None
        target = self.route_for(model)
        req = LlmRequest(
            model=model,
            messages=tuple(Message(m.role, m.content) for m in params.messages),
            max_tokens=params.max_tokens or self.settings.chat.max_tokens,
            temperature=params.temperature,
            stream=on_delta is not None,
            purpose="chat",
        )
        result = await generate(
            self.http,
            target,
            self._require_token(),
            req,
            extra_headers=self.settings.headers,
            read_timeout=self.settings.request_timeout,
            on_delta=on_delta,
            total_timeout=self.settings.chat.timeout,
            timeout_setting="ardaemon.chat.timeout",
        )
        return ChatResult(
            content=result.text,
            model=model,
            api=target.api,
            stop_reason=result.stop_reason,
            usage=result.usage,
        )

    # --- completion ---------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from .completion.engine import Engine

            self._engine = Engine(fetch=self._fetch_completion)
        return self._engine

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
    ) -> CompleteResult | None:
        """One completion through the engine; None when a newer request superseded it."""
        if max_tokens is not None and max_tokens < 1:
            raise errors.InvalidParams("Invalid params: `maxTokens` must be at least 1.")
        settings = self.settings.completion
        chosen = self.model_for("completion", model)
        assert chosen is not None
        api = self.route_for(chosen).api
        answer = await self.engine.complete(
            prefix,
            suffix,
            model=chosen,
            api=api,
            max_tokens=max_tokens or settings.max_tokens,
            language_id=language_id,
            path=path,
            document=document,
            trigger=trigger,
            snippets=snippets,
            multiline=None if settings.multiline else False,
            debounce_ms=settings.debounce_ms,
        )
        if answer is None:
            return None
        items = [CompletionItem(answer.text)] if answer.text else []
        return CompleteResult(items=items, model=chosen, api=api, cached=answer.cached)

    async def _fetch_completion(self, ctx: CompletionContext, model: str, max_tokens: int) -> str:
        """One upstream completion request, cleaned to exactly what goes at the cursor."""
        from .completion import build_prompt, postprocess
        from .upstream import LlmRequest, Message, generate

        target = self.route_for(model)
        prompt = build_prompt(ctx, target.api)
        messages = [Message("system", prompt.system)] if prompt.system else []
        messages += [Message("user" if r == "user" else "assistant", c) for r, c in prompt.messages]
        req = LlmRequest(
            model=model,
            messages=tuple(messages),
            max_tokens=max_tokens,
            temperature=0.0,
            stop=prompt.stop,
            purpose="completion",
        )
        self._active += 1
        if self._active == 1:
            self._status(Status(state="inProgress", model=model))
        started = time.perf_counter()
        failed: errors.ArdaemonError | None = None
        try:
            result = await generate(
                self.http,
                target,
                self._require_token(),
                req,
                extra_headers=self.settings.headers,
                read_timeout=self.settings.completion.timeout,
                read_timeout_setting="ardaemon.completion.timeout",
                total_timeout=self.settings.completion.timeout,
                timeout_setting="ardaemon.completion.timeout",
                retries=1,
                # A suggestion that arrives after the user moved on is worthless.
                max_retry_wait=COMPLETION_MAX_RETRY_WAIT,
            )
        except errors.ArdaemonError as exc:
            failed = exc
            raise
        except Exception:
            failed = errors.ArdaemonError(INTERNAL_MESSAGE)
            failed.kind = "internal"
            raise
        finally:
            self._active -= 1
            if failed is not None:
                self._status(
                    Status(state="error", message=failed.message, model=model, kind=failed.kind)
                )
            elif self._active == 0:
                self._status(Status(state="idle", model=model))
        text = postprocess(result.text, ctx)
        log.info(
            "completion %s via %s: %d chars in %.0f ms",
            model,
            target.api,
            len(text),
            (time.perf_counter() - started) * 1000,
        )
        return text

    def forget_document(self, uri: str) -> None:
        if self._engine is not None:
            self._engine.forget(uri)

    def _status(self, status: Status) -> None:
        if self.on_status is not None:
            self.on_status(status)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
