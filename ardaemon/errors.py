"""The daemon's exception tree, mapped once to JSON-RPC `{code, message, data}`.

    ArdaemonError               data.kind            JSON-RPC code
    ├── Internal                internal             -32603 InternalError
    ├── InvalidParams           invalid_params       -32602 InvalidParams
    │   ├── NoModel
    │   └── UnknownModel
    ├── Cancelled               cancelled            -32800 RequestCancelled
    └── UpstreamError           upstream             -32803 RequestFailed
        ├── AuthError           auth                 (the gateway answered …)
        ├── UnauthorizedClient  unauthorized_client
        ├── ModelNotFound       model_not_found
        ├── RateLimited         rate_limited
        ├── Overloaded          overloaded
        ├── NetworkError        network              (… or the way there broke)
        ├── Timeout             timeout
        └── BadResponse         bad_response

Errors carry facts, not prose: `reason` (which of the kind's sentences applies), the HTTP
`status`, the gateway's own `code`, `type` and message (`detail`), `retry_after`, and the
`context` (provider label, model, token variable, the setting that bounds a timeout)
attached once, where it is known. The sentence a person reads is rendered at each edge
(JSON-RPC, status line, CLI) by `messages.render`, in that front end's words.
"""

from __future__ import annotations

from typing import Any, ClassVar

# LSP 3.17 / JSON-RPC codes (protocol.py re-exports them as part of the contract).
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803

#: How much of a client's input an error message or log line may quote.
QUOTE_LIMIT = 80


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A short, printable prefix of user input for messages and logs."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


class ArdaemonError(Exception):
    """Base of every error the daemon reports; on its own, a bug of ours (`internal`)."""

    rpc_code: ClassVar[int] = INTERNAL_ERROR
    kind: ClassVar[str] = "internal"
    #: Whether the gateway answered (an HTTP status or an error body): orders KINDS.
    answered: ClassVar[bool] = False

    def __init__(
        self,
        detail: str = "",
        *,
        reason: str = "",
        status: int | None = None,
        code: str = "",
        type: str = "",
        retry_after: float | None = None,
        model: str | None = None,
        **facts: Any,
    ) -> None:
        super().__init__(detail or reason or self.kind)
        #: For our own errors the sentence itself; for the gateway's, its own message.
        self.detail = detail
        self.reason = reason
        self.status = status
        self.code = code
        self.type = type
        self.retry_after = retry_after
        self.facts: dict[str, Any] = facts
        self.context: dict[str, Any] = {}
        if model is not None:
            self.context["model"] = model

    def add_context(self, **context: Any) -> ArdaemonError:
        """Who and what this error is about; what a lower layer already said stays."""
        for key, value in context.items():
            if value is not None:
                self.context.setdefault(key, value)
        return self

    @property
    def model(self) -> str | None:
        model = self.context.get("model")
        return None if model is None else quote(model, 200)

    @property
    def message(self) -> str:
        """The sentence for logs and clients whose front end is not known."""
        from .messages import render  # messages imports this module

        return render(self)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.status is not None:
            data["status"] = self.status
        if self.retry_after is not None:
            data["retryAfter"] = self.retry_after
        if self.model is not None:
            data["model"] = self.model
        return data


class Internal(ArdaemonError):
    """A bug of ours: the details go to the log, never to the editor."""


class InvalidParams(ArdaemonError):
    rpc_code = INVALID_PARAMS
    kind = "invalid_params"


class NoModel(InvalidParams):
    def __init__(self, role: str) -> None:
        super().__init__(reason="no_model", role=role)


class UnknownModel(InvalidParams):
    def __init__(self, model: str, near: list[str]) -> None:
        super().__init__(reason="unknown_model", model=model, near=near)


class Cancelled(ArdaemonError):
    rpc_code = REQUEST_CANCELLED
    kind = "cancelled"


class UpstreamError(ArdaemonError):
    """Trouble with the gateway or provider: RequestFailed with a `data.kind`."""

    rpc_code = REQUEST_FAILED
    kind = "upstream"
    answered = True


class AuthError(UpstreamError):
    kind = "auth"


class UnauthorizedClient(UpstreamError):
    kind = "unauthorized_client"


class ModelNotFound(UpstreamError):
    kind = "model_not_found"


class RateLimited(UpstreamError):
    kind = "rate_limited"


class Overloaded(UpstreamError):
    kind = "overloaded"


class NetworkError(UpstreamError):
    kind = "network"
    answered = False


class Timeout(UpstreamError):
    kind = "timeout"
    answered = False


class BadResponse(UpstreamError):
    kind = "bad_response"
    answered = False


def _kinds() -> tuple[str, ...]:
    """`data.kind` of RequestFailed, in the contract's order: what the gateway answered
    (specific kinds, then `upstream` for any other), then what broke on the way."""
    classes = UpstreamError.__subclasses__()
    return (
        *(c.kind for c in classes if c.answered),
        UpstreamError.kind,
        *(c.kind for c in classes if not c.answered),
    )


KINDS = _kinds()
