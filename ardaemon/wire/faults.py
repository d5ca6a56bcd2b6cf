"""Gateway error answers (OpenAI, Anthropic and New API bodies, HTTP statuses) → the tree.

No httpx here: the adapters and the catalog parse bodies with it, `http.send` statuses.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

from .. import errors
from ..credentials import redact


def classify(status: int, headers: Mapping[str, str], body: bytes) -> errors.UpstreamError:
    """The error an answer with this status and body is; the caller adds who and which model."""
    text = body.decode("utf-8", "replace")
    message, code, type_ = _error_fields(text)
    lowered = text.lower()
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "type": type_,
        "detail": _detail(message),
    }
    if "unauthorized client detected" in lowered:
        # The fact already quotes the gateway's words.
        return errors.UnauthorizedClient(status=status, code=code, type=type_)
    if status in (401, 403) or type_ in ("authentication_error", "permission_error"):
        return errors.AuthError(**fields)
    if status == 429 or type_ == "rate_limit_error" or code == "rate_limit_exceeded":
        return errors.RateLimited(retry_after=retry_after_seconds(headers), **fields)
    if status == 529 or type_ == "overloaded_error" or (status == 503 and "overload" in lowered):
        return errors.Overloaded(**fields)
    if _is_model_not_found(status, code, type_, message):
        return errors.ModelNotFound(**fields)
    if status == 200:
        return errors.BadResponse(**fields)
    if 300 <= status < 400:
        return errors.UpstreamError(reason="redirect", **fields)
    return errors.UpstreamError(**fields)


def error_in_body(data: Any) -> errors.UpstreamError | None:
    """A 200 body (or stream event) holding an `error` object is an error."""
    if (
        isinstance(data, dict)
        and data.get("error")
        and (("choices" not in data and "content" not in data) or data.get("type") == "error")
    ):
        return classify(200, {}, json.dumps(data).encode())
    return None


def raise_error_in(data: Any) -> None:
    """Raise the error a 200 body holds (`error_in_body`); return when it holds none."""
    error = error_in_body(data)
    if error is not None:
        raise error


def _is_model_not_found(status: int, code: str, type_: str, message: str) -> bool:
    if code in ("model_not_found", "model_not_available") or type_ == "not_found_error":
        return True
    lowered = message.lower()
    mentions = "model" in lowered and any(
        s in lowered
        for s in ("not found", "does not exist", "not exist", "no available", "unknown")
    )
    return mentions or (status == 404 and not message)


def _error_fields(text: str) -> tuple[str, str, str]:
    """(message, code, type) from OpenAI, Anthropic and New API error bodies."""
    try:
        data = json.loads(text)
    except ValueError:
        return "", "", ""
    if not isinstance(data, dict):
        return "", "", ""
    err = data.get("error", data)
    if isinstance(err, str):
        return err, "", ""
    if not isinstance(err, dict):
        return "", "", ""
    message = err.get("message") if isinstance(err.get("message"), str) else ""
    code = err.get("code") if isinstance(err.get("code"), str) else ""
    type_ = err.get("type") if isinstance(err.get("type"), str) else ""
    return message or "", code or "", type_ or ""


def _detail(message: str) -> str:
    """The gateway's own words, quotable: first line, no token, at most 200 characters."""
    if not message.strip():
        return ""
    return redact(message.strip().splitlines()[0])[:200].rstrip(" .")


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
