"""Anthropic Messages: request body, result and stream events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .. import errors
from ..protocol import Usage
from .base import Finish, LlmRequest, LlmResult, Message, StreamEvent, TextDelta, UsageReport
from .faults import error_in_body, raise_error_in


def conversation(messages: tuple[Message, ...]) -> tuple[str, list[dict[str, str]]]:
    """Top-level system text, and user/assistant turns that alternate and start with user.

    Messages' API rejects a `system` role, two turns of one role in a row, empty turns and
    a conversation that opens with the assistant; merge and pad instead of failing.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[dict[str, str]] = []
    for m in messages:
        if m.role == "system" or not m.content:
            continue
        if turns and turns[-1]["role"] == m.role:
            turns[-1]["content"] += "\n\n" + m.content
        else:
            turns.append({"role": m.role, "content": m.content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": "(continue)"})
    return system, turns


def build_body(req: LlmRequest) -> dict[str, Any]:
    system, turns = conversation(req.messages)
    body: dict[str, Any] = {
        "model": req.model,
        "max_tokens": req.max_tokens,
        "messages": turns,
        "stream": req.stream,
    }
    if system:
        body["system"] = system
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    return body


def _usage(data: Any, input_tokens: int = 0) -> Usage | None:
    # No counts is unknown usage, never zero.
    if not isinstance(data, dict) or not ({"input_tokens", "output_tokens"} & data.keys()):
        return None
    try:
        return Usage(
            int(data.get("input_tokens") or input_tokens), int(data.get("output_tokens") or 0)
        )
    except (TypeError, ValueError):
        return None


def parse_result(data: Any) -> LlmResult:
    raise_error_in(data)
    try:
        blocks = data["content"]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    except (KeyError, TypeError, AttributeError):
        raise _bad() from None
    return LlmResult(
        text=text,
        stop_reason=data.get("stop_reason") or "end_turn",
        usage=_usage(data.get("usage")),
    )


class StreamParser:
    """Named events in order; thinking blocks are skipped, `message_stop` ends the stream."""

    def __init__(self) -> None:
        self.done = False
        self._input_tokens = 0

    def feed(self, event: str, data: str) -> Iterator[StreamEvent]:
        if event == "ping" or not data:
            return
        try:
            payload = json.loads(data)
        except ValueError:
            raise _bad() from None
        kind = payload.get("type", event) if isinstance(payload, dict) else event
        if kind == "error" or event == "error":
            raise error_in_body(payload) or _bad()
        if kind == "message_start":
            usage = _usage((payload.get("message") or {}).get("usage"))
            self._input_tokens = usage.input_tokens if usage else 0
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            # thinking_delta / signature_delta belong to thinking blocks: never text.
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield TextDelta(delta["text"])
        elif kind == "message_delta":
            reason = (payload.get("delta") or {}).get("stop_reason")
            if reason:
                yield Finish(reason)
            usage = _usage(payload.get("usage"), self._input_tokens)
            if usage:
                yield UsageReport(usage)
        elif kind == "message_stop":
            self.done = True


def _bad() -> errors.BadResponse:
    return errors.BadResponse(reason="unreadable", format="Messages")
