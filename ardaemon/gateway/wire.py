"""Bytes on the wire: OpenAI and Anthropic bodies, SSE frames and error bodies.

Pure functions; a stream is returned as (head, body, tail) frame lists so that faults can cut it
after a few body frames.
"""

from __future__ import annotations

import html
import json
import secrets
import string
import time
from typing import Any, Literal

from .replies import Generation, pieces

Api = Literal["openai", "anthropic"]
Frames = list[bytes]

_ALNUM = string.ascii_letters + string.digits

SSE_HEADERS: list[tuple[str, str]] = [
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
]
JSON_HEADERS: list[tuple[str, str]] = [("content-type", "application/json; charset=utf-8")]
HTML_HEADERS: list[tuple[str, str]] = [("content-type", "text/html; charset=utf-8")]

OPENAI_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length"}
ANTHROPIC_STOP = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens"}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def gateway_request_id() -> str:
    """New API style: a timestamp followed by random characters."""
    return time.strftime("%Y%m%d%H%M%S") + random_id("", 16)


def sse_data(obj: Any) -> bytes:
    return b"data: " + dumps(obj) + b"\n\n"


def sse_event(name: str, obj: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(obj) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
SSE_COMMENT_PING = b": ping\n\n"


# Errors ------------------------------------------------------------------------------------------


def openai_error(
    message: str, type_: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def anthropic_error(type_: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": type_, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


UNAUTHORIZED_CLIENT = "unauthorized client detected, contact support"


def gateway_invalid_token(request_id: str, message: str | None = None) -> dict[str, Any]:
    """What New API answers for a missing or wrong token, on every route."""
    return {
        "error": {
            "message": message or f"invalid token (request id: {request_id})",
            "type": "new_api_error",
            "param": "",
            "code": None,
        }
    }


def gateway_unauthorized_client(message: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message or UNAUTHORIZED_CLIENT,
            "type": "unauthorized_client_error",
        },
        "success": False,
    }


def firewall_page(status: int, message: str | None = None) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n<head><title>Access denied</title></head>\n<body>\n"
        f"<h1>{status} Access denied</h1>\n"
        f"<p>{html.escape(message or UNAUTHORIZED_CLIENT)}</p>\n"
        "<hr><p>gateway firewall</p>\n</body>\n</html>\n"
    ).encode()


def proxy_error_page(status: int, reason: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


# OpenAI Chat Completions --------------------------------------------------------------------------


def openai_usage(gen: Generation) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": gen.input_tokens,
        "completion_tokens": gen.output_tokens,
        "total_tokens": gen.input_tokens + gen.output_tokens,
    }
    if gen.reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": gen.reasoning_tokens}
    return usage


def openai_completion(gen: Generation, model: str, completion_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": gen.text}
    if gen.reasoning:
        message["reasoning_content"] = gen.reasoning
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": OPENAI_FINISH[gen.finish],
                "logprobs": None,
            }
        ],
        "usage": openai_usage(gen),
        "system_fingerprint": None,
    }


def openai_stream(
    gen: Generation, model: str, completion_id: str, *, include_usage: bool
) -> tuple[Frames, Frames, Frames]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        obj: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish},
            ],
        }
        if include_usage:
            obj["usage"] = None
        return sse_data(obj)

    head = [chunk({"role": "assistant", "content": ""}), SSE_COMMENT_PING]
    body = [chunk({"content": None, "reasoning_content": p}) for p in pieces(gen.reasoning)]
    texts = pieces(gen.text) or [""]
    finish = OPENAI_FINISH[gen.finish]
    for i, text in enumerate(texts):
        delta: dict[str, Any] = {"content": text}
        if gen.reasoning:
            delta["reasoning_content"] = None
        body.append(chunk(delta, finish if i == len(texts) - 1 else None))
    tail: Frames = []
    if include_usage:
        tail.append(
            sse_data(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": None,
                    "choices": [],
                    "usage": openai_usage(gen),
                }
            )
        )
    tail.append(SSE_DONE)
    return head, body, tail


# Anthropic Messages -------------------------------------------------------------------------------


def _signature(gen: Generation) -> str:
    return "EqQBCkYIBxgCKkA" + str(len(gen.reasoning)).zfill(6) + "stand-in-signature"


def anthropic_usage(gen: Generation, output_tokens: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": gen.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": gen.output_tokens if output_tokens is None else output_tokens,
    }


def anthropic_message(gen: Generation, model: str, message_id: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if gen.reasoning:
        content.append(
            {"type": "thinking", "thinking": gen.reasoning, "signature": _signature(gen)}
        )
    content.append({"type": "text", "text": gen.text})
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": ANTHROPIC_STOP[gen.finish],
        "stop_sequence": gen.stop_sequence,
        "usage": anthropic_usage(gen),
    }


def anthropic_stream(gen: Generation, model: str, message_id: str) -> tuple[Frames, Frames, Frames]:
    start = {
        "type": "message_start",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": anthropic_usage(gen, output_tokens=1),
        },
    }
    blocks: Frames = []
    index = 0
    if gen.reasoning:
        blocks.append(
            sse_event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
        )
        for p in pieces(gen.reasoning):
            blocks.append(_block_delta(0, {"type": "thinking_delta", "thinking": p}))
        blocks.append(_block_delta(0, {"type": "signature_delta", "signature": _signature(gen)}))
        blocks.append(sse_event("content_block_stop", {"type": "content_block_stop", "index": 0}))
        index = 1
    blocks.append(
        sse_event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
        )
    )
    for p in pieces(gen.text):
        blocks.append(_block_delta(index, {"type": "text_delta", "text": p}))

    head = [sse_event("message_start", start), blocks[0], sse_event("ping", {"type": "ping"})]
    body = blocks[1:]
    tail = [
        sse_event("content_block_stop", {"type": "content_block_stop", "index": index}),
        sse_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": ANTHROPIC_STOP[gen.finish],
                    "stop_sequence": gen.stop_sequence,
                },
                "usage": {"output_tokens": gen.output_tokens},
            },
        ),
        sse_event("message_stop", {"type": "message_stop"}),
    ]
    return head, body, tail


def _block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return sse_event(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )
