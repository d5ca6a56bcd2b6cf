"""The providers table: `providers.toml` as shipped, overlaid with the user's
`[providers]`. A provider is data (base URL, token variable, wire format, FIM dialect), so
another gateway needs no code."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import msgspec

from . import files


class ProviderSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    label: str = ""
    base_url: str
    base_url_env: str | None = None
    token_env: str | None = None
    token_required: bool = True
    api: Literal["auto", "openai", "anthropic"] = "openai"
    #: With api = "auto": the wire format for Claude models (OpenRouter: "openai").
    claude_api: Literal["openai", "anthropic"] = "anthropic"
    auth: Literal["bearer", "x-api-key", "both"] = "bearer"
    anthropic_auth: Literal["bearer", "x-api-key", "both"] = "both"
    completion_model: str | None = None
    chat_model: str | None = None
    #: Whether OpenAI-format streams may ask for a usage chunk (`stream_options`); some
    #: OpenAI-compatible servers reject the field.
    stream_usage: bool = True
    #: Native fill-in-the-middle for completions: the dialect, its path when not the
    #: dialect's usual one, and which models have it (globs, case-insensitive).
    fim: Literal["llamacpp", "ollama", "openai-completions", "mistral"] | None = None
    fim_path: str | None = None
    fim_models: list[str] = msgspec.field(default_factory=lambda: ["*"])


@cache
def shipped_providers() -> dict[str, dict[str, Any]]:
    tomllib = files.tomllib()
    text = Path(__file__).with_name("providers.toml").read_text("utf-8")
    table: dict[str, dict[str, Any]] = tomllib.loads(text)
    return table


def providers_table(user: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, ProviderSpec]:
    """Shipped providers overlaid with the user's; a bad user entry is skipped."""
    table = _overlay(user or {})
    out: dict[str, ProviderSpec] = {}
    for name, raw in table.items():
        try:
            out[name] = msgspec.convert({**raw, "name": name}, ProviderSpec)
        except msgspec.ValidationError:
            continue
    return out


def provider_problems(user: Mapping[str, Mapping[str, Any]]) -> list[str]:
    table = _overlay(user)
    problems = []
    for name in user:
        try:
            msgspec.convert({**table[name], "name": name}, ProviderSpec)
        except msgspec.ValidationError as exc:
            problems.append(f"provider '{name}' ignored ({exc})")
    return problems


def normalize_base_url(url: str) -> str:
    """One form for every base URL: no trailing slash, no trailing `/v1`."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def _overlay(user: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A user's entry overrides the shipped one key by key (providers.toml has no nested
    tables, so this is the settings layers' deep merge)."""
    table = {name: dict(raw) for name, raw in shipped_providers().items()}
    for name, raw in user.items():
        table[name] = {**table.get(name, {}), **raw}
    return table
