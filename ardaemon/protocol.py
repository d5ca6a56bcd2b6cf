"""The contract with editors (docs/protocol.md), as msgspec Structs.

This module is the one place where method names and shapes live. The Neovim plugin
(`editors/nvim/lua/ardaemon/protocol.lua`) and the VS Code extension
(`editors/vscode/src/protocol.ts`) mirror it; drift tests compare them to `METHODS`.

Params that editors send are decoded strictly (unknown fields are tolerated because
editors add their own, but types are checked and errors name the field).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec

from .errors import INVALID_PARAMS as INVALID_PARAMS
from .errors import REQUEST_CANCELLED as REQUEST_CANCELLED
from .errors import REQUEST_FAILED as REQUEST_FAILED
from .errors import InvalidParams

LIST_MODELS = "ardaemon/listModels"
SELECT_MODEL = "ardaemon/selectModel"
COMPLETE = "ardaemon/complete"
CHAT = "ardaemon/chat"
DID_CHANGE_STATUS = "ardaemon/didChangeStatus"
USAGE = "ardaemon/usage"
INLINE_COMPLETION = "textDocument/inlineCompletion"
STATUS = "ardaemon/status"

#: The contract's version, bumped on any change an older editor client or daemon cannot follow.
#: Both sides announce it at `initialize` under `capabilities.experimental.ardaemon` and say
#: which side to update when they differ (mirrored in protocol.ts and protocol.lua).
PROTOCOL_VERSION = 1

#: Every name of the contract, by kind; drift tests read this.
METHODS: dict[str, str] = {
    "listModels": LIST_MODELS,
    "selectModel": SELECT_MODEL,
    "complete": COMPLETE,
    "chat": CHAT,
    "didChangeStatus": DID_CHANGE_STATUS,
    "usage": USAGE,
    "inlineCompletion": INLINE_COMPLETION,
    "status": STATUS,
}

Api = Literal["openai", "anthropic"]
Role = Literal["completion", "chat"]
StatusState = Literal["idle", "inProgress", "error"]

# RequestFailed / InvalidParams / RequestCancelled (LSP 3.17 codes) are defined with the
# exception tree in errors.py and re-exported here as part of the contract.


class Wire(msgspec.Struct, rename="camel", omit_defaults=True):
    """Base for contract shapes: camelCase on the wire, defaults left out."""


# --- ardaemon/listModels -------------------------------------------------------------


class ListModelsParams(Wire):
    refresh: bool = False


class Model(Wire):
    id: str
    api: Api
    provider: str
    name: str | None = None
    owned_by: str | None = None


class Selected(Wire, omit_defaults=False):
    completion: str | None = None
    chat: str | None = None


class ListModelsResult(Wire, omit_defaults=False):
    models: list[Model]
    source: Literal["network", "cache"]
    stale: bool
    fetched_at: str
    selected: Selected


# --- ardaemon/selectModel ------------------------------------------------------------


#: A model id from an editor: bounded, so no message ever echoes megabytes back.
ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SelectModelParams(Wire):
    model: ModelId
    role: Role | None = None


class SelectModelResult(Wire, omit_defaults=False):
    selected: Selected


# --- ardaemon/complete ---------------------------------------------------------------


UInt = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]


class Position(Wire):
    line: UInt
    character: UInt


class TextDocumentId(Wire):
    uri: str


class CompleteParams(Wire):
    text_document: TextDocumentId | None = None
    position: Position | None = None
    prefix: str | None = None
    suffix: str | None = None
    language_id: str | None = None
    model: ModelId | None = None
    max_tokens: int | None = None


class CompletionItem(Wire):
    insert_text: str


class CompleteResult(Wire):
    items: list[CompletionItem]
    model: str
    api: Api
    cached: bool
    #: The model first asked, when a fallback (`models.fallback`) answered instead.
    fallback_from: str | None = None


# --- ardaemon/chat -------------------------------------------------------------------


class ChatMessage(Wire):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatParams(Wire):
    messages: list[ChatMessage]
    model: ModelId | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    partial_result_token: str | int | None = None


class Usage(Wire):
    input_tokens: int
    output_tokens: int


class ChatResult(Wire):
    content: str
    model: str
    api: Api
    stop_reason: str
    usage: Usage | None = None
    #: The model first asked, when a fallback (`models.fallback`) answered instead.
    fallback_from: str | None = None


class ChatDelta(Wire):
    delta: str


# --- ardaemon/usage (an addition: docs/protocol.md) ----------------------------------


class UsageParams(Wire):
    #: "today" (default), "7d", "12h" or an ISO date.
    since: str | None = None
    by: Literal["model", "day", "purpose"] = "model"


class UsageGroup(Wire, omit_defaults=False):
    key: str
    requests: int
    failed: int
    input_tokens: int
    output_tokens: int
    unknown_usage: int
    cost: float | None
    cost_unknown: int


class UsageResult(Wire, omit_defaults=False):
    since: str
    by: str
    total: UsageGroup
    groups: list[UsageGroup]
    #: Today's tokens and the `usage.dailyTokenWarning` threshold (null when unset).
    today_tokens: int
    daily_token_warning: int | None
    ledger: str


# --- ardaemon/didChangeStatus --------------------------------------------------------


class Status(Wire):
    state: StatusState
    message: str | None = None
    model: str | None = None
    kind: str | None = None


# --- ardaemon/status, acceptance feedback --------------------------------------------


class TokenSource(Wire):
    #: "env", "keyring", "file" or "none"; never the token itself.
    source: str
    #: The variable name, keyring backend or file path.
    detail: str | None = None


class Acceptance(Wire, omit_defaults=False):
    model: str
    shown: int
    accepted: int


class StatusResult(Wire, omit_defaults=False):
    token: TokenSource
    acceptance: list[Acceptance]


class AcceptedParams(Wire):
    """The argument of the `ardaemon.accepted` command an inline item carries."""

    model: ModelId


# --- helpers -------------------------------------------------------------------------

T = TypeVar("T")


def decode_params(params: Any, type_: type[T]) -> T:
    """Turn what pygls hands a custom method into a contract Struct.

    pygls gives custom-method params as namedtuple-like objects; normalise to builtins
    first. A type error becomes InvalidParams naming the field.
    """
    if params is None:
        params = {}
    try:
        return msgspec.convert(to_builtins(params), type_)
    except msgspec.ValidationError as exc:
        raise InvalidParams(f"{_camel_path(str(exc))}.") from None
    except RecursionError:  # JSON a few hundred levels deep still parses; we do not walk it
        raise InvalidParams("`params` nest too deeply.") from None


def encode(result: msgspec.Struct) -> Any:
    """Builtins for pygls: a Struct returned from a handler sends no response at all."""
    return msgspec.to_builtins(result)


def to_builtins(obj: Any) -> Any:
    """Plain dicts and lists from what pygls hands over (namedtuple-like objects)."""
    if isinstance(obj, dict):
        return {k: to_builtins(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_builtins(v) for v in obj]
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return {k: to_builtins(v) for k, v in obj._asdict().items()}
    if isinstance(obj, tuple):
        return [to_builtins(v) for v in obj]
    return obj


def _camel_path(message: str) -> str:
    # msgspec reports "... - at `$.messages[0].role`"; editors know the field by that path.
    return message.replace("`$.", "`").replace("`$", "`params")


def peer_protocol_version(experimental: Any) -> int | None:
    """`experimental.ardaemon.protocolVersion` of the other side, None when it has none."""
    own = experimental.get("ardaemon") if isinstance(experimental, dict) else None
    version = own.get("protocolVersion") if isinstance(own, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def protocol_mismatch(client_version: int | None, daemon_version: str) -> str | None:
    """What to update when an editor client speaks another protocol version, else None."""
    if client_version is None or client_version == PROTOCOL_VERSION:
        return None
    newer, update = (
        ("the daemon", "the editor extension/plugin")
        if client_version < PROTOCOL_VERSION
        else (
            "the editor client",
            "the daemon (VS Code: its bundled daemon comes with the extension; Neovim: :Ardaemon install)",
        )
    )
    return (
        f"the editor client speaks ardaemon protocol {client_version}, this daemon "
        f"(ardaemon {daemon_version}) protocol {PROTOCOL_VERSION}; {newer} is newer: update {update}"
    )
