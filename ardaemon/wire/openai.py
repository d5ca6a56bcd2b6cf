"""OpenAI Chat Completions: request body, result and stream events."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .. import errors
from ..protocol import Usage
from ..router import bare_id
from .base import Finish, LlmRequest, LlmResult, StreamEvent, TextDelta, UsageReport
from .faults import raise_error_in

# Reasoning models take max_completion_tokens and reject temperature and stop;
# gpt-5-chat is the non-reasoning variant of the family.
_REASONING = re.compile(r"^(o\d|gpt-5(?!-chat))")
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}
MAX_STOPS = 4


def is_reasoning(model: str) -> bool:
    return bool(_REASONING.match(bare_id(model)))


def build_body(req: LlmRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": req.model,
        "messages": [{"role": m.role, "content": m.content} for m in req.messages],
        "stream": req.stream,
    }
    model = bare_id(req.model)
    if is_reasoning(req.model):
        body["max_completion_tokens"] = req.max_tokens
        if req.purpose == "completion" and model.startswith("gpt-5"):
            # gpt-5.1 and later replaced "minimal" with "none".
            body["reasoning_effort"] = "none" if model.startswith("gpt-5.") else "minimal"
    else:
        body["max_tokens"] = req.max_tokens
        if req.temperature is not None:
            body["temperature"] = req.temperature
    if req.purpose == "completion" and model.startswith("glm-4"):
        # GLM thinks by default; a completion has no time for it.
        body["thinking"] = {"type": "disabled"}
    # Reasoning models reject `stop`; the completion prompt's closing tag is then cut
    # by post-processing instead.
    if req.stop and not is_reasoning(req.model):
        body["stop"] = list(req.stop[:MAX_STOPS])
    if req.stream and req.stream_usage:
        body["stream_options"] = {"include_usage": True}
    return body


def _usage(data: Any) -> Usage | None:
    # No counts is unknown usage, never zero.
    if not isinstance(data, dict) or not ({"prompt_tokens", "completion_tokens"} & data.keys()):
        return None
    try:
        return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0))
    except (TypeError, ValueError):
        return None


def parse_result(data: Any) -> LlmResult:
    raise_error_in(data)
    try:
        choice = data["choices"][0]
        content = choice["message"].get("content") or ""
        reason = choice.get("finish_reason") or "end_turn"
    except (KeyError, IndexError, TypeError, AttributeError):
        raise _bad() from None
    return LlmResult(
        text=str(content),
        stop_reason=_STOP_REASONS.get(reason, reason),
        usage=_usage(data.get("usage")),
    )


class StreamParser:
    """Turns `data:` payloads into events; `[DONE]` ends the stream."""

    def __init__(self) -> None:
        self.done = False

    def feed(self, event: str, data: str) -> Iterator[StreamEvent]:
        if data.strip() == "[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _bad() from None
        raise_error_in(chunk)
        if not isinstance(chunk, dict):
            raise _bad()
        for choice in (chunk.get("choices") or [])[:1]:
            delta = choice.get("delta") or {}
            # `reasoning_content` is the model thinking aloud: never the answer.
            text = delta.get("content")
            if text:
                yield TextDelta(text)
            reason = choice.get("finish_reason")
            if reason:
                yield Finish(_STOP_REASONS.get(reason, reason))
        usage = _usage(chunk.get("usage"))
        if usage:
            yield UsageReport(usage)


def _bad() -> errors.BadResponse:
    return errors.BadResponse(reason="unreadable", format="Chat Completions")
