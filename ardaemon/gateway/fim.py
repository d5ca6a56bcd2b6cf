"""The four native fill-in-the-middle formats, as their servers answer them.

Shapes follow the servers' own docs and source (see /work/shared/upstream-fim.md): llama.cpp
`/infill` (SSE without `[DONE]`, the last event `"stop": true` with empty content), Ollama
`/api/generate` (NDJSON, streaming unless `"stream": false`, no auth), DeepSeek
`/beta/completions` and OpenAI-style `/v1/completions` (`text_completion`, SSE with
`[DONE]`), Mistral `/v1/fim/completions` (chat-like `choices[0].message.content`, 422
`detail` on validation). Each dialect refuses a bad token with its own body.
"""

from __future__ import annotations

import json
import time
from typing import Any

from . import wire
from .replies import Generation, Rule, generate, pieces

ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/infill"): "llamacpp",
    ("POST", "/api/generate"): "ollama",
    ("POST", "/beta/completions"): "openai-completions",
    ("POST", "/v1/completions"): "openai-completions",
    ("POST", "/v1/fim/completions"): "mistral",
}
#: Ollama has no authentication at all.
NO_AUTH = frozenset({"ollama"})
NDJSON_HEADERS = [("content-type", "application/x-ndjson")]


class FimError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(body)
        self.status, self.body = status, body


def unauthorized(dialect: str) -> tuple[int, Any]:
    if dialect == "llamacpp":
        return 401, {
            "error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}
        }
    if dialect == "mistral":
        return 401, {"message": "Unauthorized", "request_id": wire.random_id("", 32)}
    return 401, {
        "error": {
            "message": "Authentication Fails, Your api key: ****test is invalid",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }


def answer(
    dialect: str, path: str, body: Any, rules: list[Rule]
) -> tuple[int, list[tuple[str, str]], bytes | list[bytes]]:
    """(status, headers, body or stream frames) for one FIM request."""
    try:
        prefix, suffix, model, limit, stops, stream = _read(dialect, body)
    except FimError as exc:
        return exc.status, list(wire.JSON_HEADERS), wire.dumps(exc.body)
    gen = generate(
        rules,
        model=model,
        path=path,
        prompt=prefix + suffix,
        last_user=prefix,
        limit=limit,
        stops=stops,
        reasoning=False,
    )
    if dialect == "llamacpp":
        return _llamacpp(gen, model, stream)
    if dialect == "ollama":
        return _ollama(gen, model, stream)
    return _openai_like(gen, model, stream, chat_like=dialect == "mistral")


def _read(dialect: str, body: Any) -> tuple[str, str, str, int | None, list[str], bool]:
    if not isinstance(body, dict):
        raise FimError(400, _invalid(dialect, "body must be a JSON object", "body"))
    if dialect == "llamacpp":
        for field in ("input_prefix", "input_suffix"):
            if not isinstance(body.get(field), str):
                raise FimError(400, _invalid(dialect, f'"{field}" is required', field))
        extra = body.get("input_extra", [])
        if not isinstance(extra, list) or not all(
            isinstance(e, dict) and isinstance(e.get("text"), str) for e in extra
        ):
            raise FimError(
                400,
                _invalid(
                    dialect,
                    '"input_extra" must be an array of {"filename": string, "text": string}',
                    "input_extra",
                ),
            )
        prefix, suffix = body["input_prefix"], body["input_suffix"]
        model = str(body.get("model") or "qwen2.5-coder")
        limit = body.get("n_predict", -1)
        stream = body.get("stream") is True
    else:
        named = body.get("model")
        if not isinstance(named, str) or not named:
            raise FimError(
                400 if dialect != "mistral" else 422,
                _invalid(dialect, "model is required", "model"),
            )
        model = named
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise FimError(
                400 if dialect != "mistral" else 422, _invalid(dialect, "Field required", "prompt")
            )
        prefix, suffix = prompt, str(body.get("suffix") or "")
        if dialect == "ollama":
            options = body.get("options") or {}
            limit = options.get("num_predict", -1)
            stops = options.get("stop") or []
            # Omitted means streaming, on this API only.
            stream = body.get("stream") is not False
        else:
            limit = body.get("max_tokens")
            stops = body.get("stop") or []
            stream = body.get("stream") is True
    if dialect == "llamacpp":
        stops = body.get("stop") or []
    if isinstance(stops, str):
        stops = [stops]
    limit = limit if isinstance(limit, int) and limit >= 0 else None
    return prefix, suffix, model, limit, [s for s in stops if isinstance(s, str)], stream


def _invalid(dialect: str, message: str, field: str) -> Any:
    if dialect == "llamacpp":
        return {"error": {"code": 400, "message": message, "type": "invalid_request_error"}}
    if dialect == "ollama":
        return {"error": message}
    if dialect == "mistral":
        return {"detail": [{"loc": ["body", field], "msg": message, "type": "missing"}]}
    return wire.openai_error(message, "invalid_request_error", param=field)


def _llamacpp(
    gen: Generation, model: str, stream: bool
) -> tuple[int, list[tuple[str, str]], bytes | list[bytes]]:
    stop_type = {"length": "limit", "stop_sequence": "word"}.get(gen.finish, "eos")
    final = {
        "index": 0,
        "content": "" if stream else gen.text,
        "tokens": [],
        "id_slot": 0,
        "stop": True,
        "model": model,
        "tokens_predicted": gen.output_tokens,
        "tokens_evaluated": gen.input_tokens,
        "generation_settings": {"n_predict": -1, "temperature": 0.0},
        "prompt": "<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>",
        "has_new_line": "\n" in gen.text,
        "truncated": False,
        "stop_type": stop_type,
        "stopping_word": gen.stop_sequence or "",
        "tokens_cached": 0,
        "timings": {"prompt_n": gen.input_tokens, "predicted_n": gen.output_tokens},
    }
    if not stream:
        return 200, list(wire.JSON_HEADERS), wire.dumps(final)
    frames = [
        wire.sse_data(
            {
                "index": 0,
                "content": piece,
                "tokens": [],
                "stop": False,
                "id_slot": 0,
                "tokens_predicted": i + 1,
                "tokens_evaluated": gen.input_tokens,
            }
        )
        for i, piece in enumerate(pieces(gen.text))
    ]
    # No `[DONE]`: the last event says `"stop": true`, then the body ends.
    return 200, list(wire.SSE_HEADERS), [*frames, wire.sse_data(final)]


def _ollama(
    gen: Generation, model: str, stream: bool
) -> tuple[int, list[tuple[str, str]], bytes | list[bytes]]:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    final = {
        "model": model,
        "created_at": now,
        "response": "" if stream else gen.text,
        "done": True,
        "done_reason": "length" if gen.finish == "length" else "stop",
        "context": [1, 2, 3],
        "total_duration": 1_162_761_250,
        "load_duration": 6_683_708,
        "prompt_eval_count": gen.input_tokens,
        "prompt_eval_duration": 201_222_000,
        "eval_count": gen.output_tokens,
        "eval_duration": 953_997_000,
    }
    if not stream:
        return 200, list(wire.JSON_HEADERS), wire.dumps(final)
    lines = [
        json.dumps({"model": model, "created_at": now, "response": piece, "done": False}).encode()
        + b"\n"
        for piece in pieces(gen.text)
    ]
    return 200, list(NDJSON_HEADERS), [*lines, json.dumps(final).encode() + b"\n"]


def _openai_like(
    gen: Generation, model: str, stream: bool, *, chat_like: bool
) -> tuple[int, list[tuple[str, str]], bytes | list[bytes]]:
    ident = wire.random_id("cmpl-")
    created = int(time.time())
    reason = "length" if gen.finish == "length" else "stop"
    usage = {
        "prompt_tokens": gen.input_tokens,
        "completion_tokens": gen.output_tokens,
        "total_tokens": gen.input_tokens + gen.output_tokens,
    }
    if chat_like:
        message = {"role": "assistant", "content": gen.text, "prefix": False, "tool_calls": None}
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": reason}
        kind = "chat.completion"
    else:
        choice = {"text": gen.text, "index": 0, "logprobs": None, "finish_reason": reason}
        kind = "text_completion"
    if not stream:
        body = {
            "id": ident,
            "object": kind,
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": usage,
        }
        if not chat_like:
            body["system_fingerprint"] = "fp_standin"
        return 200, list(wire.JSON_HEADERS), wire.dumps(body)

    def chunk(text: str, finish: str | None, last: bool = False) -> bytes:
        if chat_like:
            part: dict[str, Any] = {
                "index": 0,
                "delta": {"content": text},
                "finish_reason": finish,
            }
        else:
            part = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        obj: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk" if chat_like else "text_completion",
            "created": created,
            "model": model,
            "choices": [part],
        }
        if last:
            obj["usage"] = usage
        return wire.sse_data(obj)

    frames = [chunk("", None)] + [chunk(p, None) for p in pieces(gen.text)]
    return (
        200,
        list(wire.SSE_HEADERS),
        [*frames, chunk("", reason, last=True), wire.SSE_DONE],
    )
