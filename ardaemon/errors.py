"""The daemon's exception tree, mapped once to JSON-RPC `{code, message, data}`.

Every failure a user can meet is one of these. `message` is one sentence that says what
failed and what to do; it never holds the token, a prompt or a stack trace.
"""

from __future__ import annotations

from typing import Any

from .protocol import INVALID_PARAMS, REQUEST_CANCELLED, REQUEST_FAILED

#: How much of a client's input an error message or log line may quote.
QUOTE_LIMIT = 80


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A short, printable prefix of user input for messages and logs."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


class ArdaemonError(Exception):
    """Base of every error the daemon reports to an editor."""

    code: int = REQUEST_FAILED
    kind: str = "upstream"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.model = None if model is None else quote(model, 200)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.status is not None:
            data["status"] = self.status
        if self.retry_after is not None:
            data["retryAfter"] = self.retry_after
        if self.model is not None:
            data["model"] = self.model
        return data


class InvalidParams(ArdaemonError):
    code = INVALID_PARAMS
    kind = "invalid_params"


class Cancelled(ArdaemonError):
    code = REQUEST_CANCELLED
    kind = "cancelled"


class UpstreamError(ArdaemonError):
    """Trouble with the gateway or provider: RequestFailed with a `data.kind`."""


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


class Timeout(UpstreamError):
    kind = "timeout"


class BadResponse(UpstreamError):
    kind = "bad_response"


KINDS = (
    "auth",
    "unauthorized_client",
    "model_not_found",
    "rate_limited",
    "overloaded",
    "upstream",
    "network",
    "timeout",
    "bad_response",
)
