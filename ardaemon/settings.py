"""What can be set: the settings as typed Structs with their defaults (camelCase as editors
send them; config.toml may spell them snake_case). Where they come from is `config.py`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .completion.context import PREFIX_CHARS, SUFFIX_CHARS


class _Settings(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Base: camelCase keys as VS Code sends them; unknown keys are caught by `validate`."""


class Fallback(_Settings):
    """Per role, models tried in order when a request fails before any output."""

    completion: list[str] = msgspec.field(default_factory=list)
    chat: list[str] = msgspec.field(default_factory=list)


class Models(_Settings):
    completion: str | None = None
    chat: str | None = None
    fallback: Fallback = msgspec.field(default_factory=Fallback)


class CompletionModels(_Settings):
    """Presets per trigger: a cheap, fast model while typing, a stronger one on request."""

    automatic: str | None = None
    invoked: str | None = None


class LanguagePreset(_Settings):
    model: str | None = None


#: `completion.languages`: the `allow` / `deny` lists, and `<languageId>: {model}` presets.
Languages = dict[str, list[str] | LanguagePreset]
LANGUAGE_LISTS = ("allow", "deny")


#: The context budget (characters of the document sent before / after the cursor): at
#: least one, at most what a prompt can sensibly carry (~25k tokens).
MAX_CONTEXT_CHARS = 100_000
ContextChars = Annotated[int, msgspec.Meta(ge=1, le=MAX_CONTEXT_CHARS)]


class CompletionSettings(_Settings):
    enabled: bool = True
    #: Only answer invoked (explicit) inline completion requests.
    manual: bool = False
    model: str | None = None
    max_tokens: int = 128
    debounce_ms: int = 75
    multiline: bool = True
    #: Total seconds for a completion (also the longest wait for a byte); a late one
    #: is worthless.
    timeout: float = 8.0
    #: Use a model's native fill-in-the-middle endpoint when the providers table has one.
    fim: bool = True
    models: CompletionModels = msgspec.field(default_factory=CompletionModels)
    languages: Languages = msgspec.field(default_factory=dict)
    #: Globs of files never sent upstream, added to the built-in default-deny list
    #: (`.env`, keys, credential files: `completion.guard.DEFAULT_EXCLUDE`).
    exclude: list[str] = msgspec.field(default_factory=list)
    #: Larger documents are not kept (nor completed): memory comes back on close.
    max_document_size: int = 1_000_000
    #: Up to this many distinct suggestions for an invoked request (1–5), fetched
    #: concurrently; automatic requests (as you type) get `automaticCandidates`.
    candidates: int = 1
    automatic_candidates: int = 1
    #: The context budget: characters before and after the cursor that go upstream.
    prefix_chars: ContextChars = PREFIX_CHARS
    suffix_chars: ContextChars = SUFFIX_CHARS

    def language_list(self, key: Literal["allow", "deny"]) -> list[str]:
        found = self.languages.get(key)
        return found if isinstance(found, list) else []

    def language_model(self, language_id: str) -> str | None:
        found = self.languages.get(language_id) if language_id else None
        return found.model if isinstance(found, LanguagePreset) else None


class ChatSettings(_Settings):
    max_tokens: int = 4096
    #: Total seconds for a chat answer, streaming included (`requestTimeout` bounds the
    #: wait between bytes).
    timeout: float = 600.0


class CatalogSettings(_Settings):
    max_age_hours: float = 24.0


class UsageSettings(_Settings):
    #: One warning when today's tokens (all daemons of this user) cross this number.
    daily_token_warning: int | None = None


class Price(_Settings):
    """US dollars per million tokens."""

    input: float
    output: float


class Settings(_Settings):
    provider: str = "agent_router"
    base_url: str | None = None
    models: Models = msgspec.field(default_factory=Models)
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    #: Seconds between bytes before a chat request gives up.
    request_timeout: float = 120.0
    completion: CompletionSettings = msgspec.field(default_factory=CompletionSettings)
    chat: ChatSettings = msgspec.field(default_factory=ChatSettings)
    catalog: CatalogSettings = msgspec.field(default_factory=CatalogSettings)
    usage: UsageSettings = msgspec.field(default_factory=UsageSettings)
    #: Per-model prices for the usage ledger, e.g. {"gpt-4o-mini": {input = 0.15, output = 0.6}}.
    prices: dict[str, Price] = msgspec.field(default_factory=dict)
    #: Per-model wire format override, e.g. {"glm-4.6": "anthropic"}.
    api_overrides: dict[str, Literal["openai", "anthropic"]] = msgspec.field(default_factory=dict)
    #: User-defined providers or overrides of shipped ones (same keys as providers.toml).
    providers: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
