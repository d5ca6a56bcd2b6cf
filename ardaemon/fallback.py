"""The fallback chain: which model to try next when a request failed before any output.

`models.fallback.<role>` lists models in order, either a bare model id (same provider) or
`provider:model` naming another provider of the user's table (its own base URL and token;
from a project file or an editor, only a configured one: `trust.confine_fallbacks`).
A fallback is worth trying only for trouble another model or provider may not have:
overloaded, rate limited, network. "unauthorized client" is the gateway refusing
ardaemon, so only a different provider can help. Never on `auth` (the user's token is
wrong: trying elsewhere would hide it) nor `invalid_params` (the request itself is bad).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import errors
from .providers import ProviderSpec

TRANSIENT_KINDS = frozenset({"overloaded", "rate_limited", "network"})


@dataclass(frozen=True)
class Target:
    provider: ProviderSpec
    model: str

    @property
    def label(self) -> str:
        return f"{self.provider.name}:{self.model}"


def parse(entry: str, table: Mapping[str, ProviderSpec], current: ProviderSpec) -> Target:
    """`provider:model` when the part before the first colon names a provider, else a
    model of the current provider (model ids may hold colons: `codellama:code`)."""
    entry = entry.strip()
    head, sep, rest = entry.partition(":")
    if sep and head in table and rest:
        return Target(table[head], rest)
    return Target(current, entry)


def chain(
    first: Target, entries: list[str], table: Mapping[str, ProviderSpec], current: ProviderSpec
) -> list[Target]:
    """The first target, then the configured fallbacks, each once."""
    out = [first]
    for entry in entries:
        target = parse(entry, table, current)
        if target.model and all(
            (t.provider.name, t.model) != (target.provider.name, target.model) for t in out
        ):
            out.append(target)
    return out


def worth_trying(error: errors.ArdaemonError, failed: Target, nxt: Target) -> bool:
    if error.kind in TRANSIENT_KINDS:
        return True
    if isinstance(error, errors.UnauthorizedClient):
        return nxt.provider.name != failed.provider.name
    return False
