"""One model request through the fallback chain, each attempt metered in the usage ledger.

Between `Service` (which model, which prompt) and `Upstream` (HTTP and time budgets): the
first target is the model asked for; `models.fallback.<role>` may add others
(`fallback.py` says which failures are worth another try). A completion's attempt goes to
the model's native fill-in-the-middle endpoint when the providers table has one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import credentials, errors, fallback
from .config import SettingsStore
from .providers import ProviderSpec, normalize_base_url, providers_table
from .router import Route, for_completion, route
from .settings import Settings

if TYPE_CHECKING:
    from .upstream import Upstream
    from .usage import Meter
    from .wire import LlmRequest, LlmResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    result: LlmResult
    #: The route that answered (its model may be a fallback's).
    route: Route
    #: The model first asked, when a fallback answered; the failure that caused it.
    fallback_from: str | None = None
    reason: str | None = None


@dataclass
class Dispatch:
    #: The configured provider (it changes with the settings).
    store: SettingsStore
    tokens: credentials.Tokens
    #: `Service.upstream`, the lazy-import seam: nothing of HTTP loads before a request.
    upstream: Callable[[], Upstream]
    meter: Meter
    route_for: Callable[[str], Route]
    _table: tuple[object, dict[str, ProviderSpec]] | None = field(default=None, init=False)

    async def run(
        self,
        model: str,
        prepare: Callable[[Route], LlmRequest],
        *,
        purpose: str,
        settings: Settings,
        on_delta: Callable[[str], None] | None = None,
        deadline: float | None = None,
    ) -> Answer:
        current = self.store.provider
        table = self._providers(settings)
        first = fallback.Target(current, model)
        entries = getattr(settings.models.fallback, purpose)
        targets = fallback.chain(first, entries, table, current)
        emitted = False

        def delta(text: str) -> None:
            nonlocal emitted
            emitted = True
            if on_delta is not None:
                on_delta(text)

        failure: errors.ArdaemonError | None = None
        failed = first
        for index, target in enumerate(targets):
            if failure is not None and not fallback.worth_trying(failure, failed, target):
                continue  # e.g. the provider that refused this client, under another model
            usable, token = self._token(target, current, first=index == 0)
            if not usable:
                log.info("fallback %s skipped: no token for its provider", target.label)
                continue
            if deadline is not None and index > 0 and not _time_for_another(deadline, settings):
                break
            to = self._route(target, current, settings)
            if purpose == "completion" and settings.completion.fim:
                to = for_completion(to)
            attempt = prepare(to)
            started = time.perf_counter()
            try:
                result = await self.upstream().generate(
                    to,
                    token,
                    attempt,
                    delta if on_delta is not None else None,
                    settings=settings,
                    deadline=deadline,
                    # The user's headers belong to their provider, never to another one.
                    headers=None if target.provider == current else {},
                )
            except errors.ArdaemonError as exc:
                self.meter.record(to, attempt, started, settings, outcome=exc.kind)
                failure, failed = exc, target
                rest = [t for t in targets[index + 1 :] if fallback.worth_trying(exc, target, t)]
                # Once text reached the editor, another model cannot take over mid-answer.
                if emitted or not rest:
                    raise
                log.info("%s failed (%s); trying %s", target.label, exc.kind, rest[0].label)
                continue
            except asyncio.CancelledError:
                self.meter.record(to, attempt, started, settings, outcome="cancelled")
                raise
            if index == 0:
                self.meter.record(to, attempt, started, settings, result=result)
                return Answer(result, to)
            self.meter.record(to, attempt, started, settings, result=result, fallback_from=model)
            reason = failure.kind if failure is not None else "error"
            return Answer(result, to, fallback_from=model, reason=reason)
        assert failure is not None
        raise failure

    def _providers(self, settings: Settings) -> dict[str, ProviderSpec]:
        """The providers table of these settings, made once per settings object (a
        settings change makes a new one) instead of once per request."""
        made = self._table
        if made is None or made[0] is not settings.providers:
            made = self._table = (settings.providers, providers_table(settings.providers))
        return made[1]

    def _token(
        self, target: fallback.Target, current: ProviderSpec, *, first: bool
    ) -> tuple[bool, str | None]:
        """(usable, token) for a target's provider: a fallback without a token is skipped."""
        if target.provider == current and first:
            token = self.tokens.require()  # raises AuthError when it is required and missing
        else:
            token = self.tokens.lookup(target.provider)[0]
        return token is not None or not target.provider.token_required, token

    def _route(self, target: fallback.Target, current: ProviderSpec, settings: Settings) -> Route:
        if target.provider == current:
            return self.route_for(target.model)
        p = target.provider
        base = normalize_base_url(
            (self.tokens.environ.get(p.base_url_env) if p.base_url_env else None) or p.base_url
        )
        return route(p, base, target.model, None, settings.api_overrides)


#: A completion's fallback needs this share of the completion's time still left: with less,
#: it cannot produce a suggestion before the deadline, only spend a request and turn the
#: first model's error into a timeout.
FALLBACK_MIN_SHARE = 0.25


def _time_for_another(deadline: float, settings: Settings) -> bool:
    return deadline - time.monotonic() >= FALLBACK_MIN_SHARE * settings.completion.timeout
