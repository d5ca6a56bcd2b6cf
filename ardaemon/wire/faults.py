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


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    label: str = "the gateway",
    model: str | None = None,
    *,
    token_env: str | None = None,
) -> errors.UpstreamError:
    text = body.decode("utf-8", "replace")
    message, code, type_ = _error_fields(text)
    lowered = text.lower()
    detail = _detail(message)

    if "unauthorized client detected" in lowered:
        return errors.UnauthorizedClient(
            f'{label} refused this client ("unauthorized client detected"): the token may be '
            "fine, but the gateway has not allowed ardaemon; use another provider or base URL, "
            "set the extra headers your gateway documents in `ardaemon.headers`, or ask the "
            "gateway's support to allow it.",
            status=status,
            model=model,
        )
    if status in (401, 403) or type_ in ("authentication_error", "permission_error"):
        return errors.AuthError(
            f"{label} rejected the token (HTTP {status}{detail}): check "
            f"{token_env or 'the token'} or run `ardaemon login`.",
            status=status,
            model=model,
        )
    if status == 429 or type_ == "rate_limit_error" or code == "rate_limit_exceeded":
        retry_after = retry_after_seconds(headers)
        when = f"retry in {retry_after:g} s" if retry_after is not None else "retry shortly"
        return errors.RateLimited(
            f"{label} is rate limiting requests{detail}: {when}, or pick another model.",
            status=status,
            retry_after=retry_after,
            model=model,
        )
    if status == 529 or type_ == "overloaded_error" or (status == 503 and "overload" in lowered):
        return errors.Overloaded(
            f"{label} is overloaded (HTTP {status}): try again in a moment or pick another model.",
            status=status,
            model=model,
        )
    if _is_model_not_found(status, code, type_, message):
        name = f"'{errors.quote(model)}'" if model else "The model"
        return errors.ModelNotFound(
            f"Model {name} is not available at {label}{detail}: pick another model "
            "(ardaemon/listModels, `ardaemon models`).",
            status=status,
            model=model,
        )
    if status == 200:
        return errors.BadResponse(
            f"{label} answered with an error{detail}: try again or pick another model.",
            status=status,
            model=model,
        )
    if 300 <= status < 400:
        return errors.UpstreamError(
            f"{label} redirected the request (HTTP {status}); ardaemon does not follow redirects "
            "with your token: set `ardaemon.baseUrl` to the final address.",
            status=status,
            model=model,
        )
    hint = (
        "try again later" if status >= 500 else "check the request settings or pick another model"
    )
    return errors.UpstreamError(
        f"{label} answered HTTP {status}{detail}: {hint}.", status=status, model=model
    )


def error_in_body(data: Any, label: str, model: str | None) -> errors.UpstreamError | None:
    """A 200 body (or stream event) holding an `error` object is an error."""
    if (
        isinstance(data, dict)
        and data.get("error")
        and (("choices" not in data and "content" not in data) or data.get("type") == "error")
    ):
        return classify(200, {}, json.dumps(data).encode(), label, model)
    return None


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
    if not message:
        return ""
    first = redact(message.strip().splitlines()[0])[:200].rstrip(" .")
    return f": {first}"


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
