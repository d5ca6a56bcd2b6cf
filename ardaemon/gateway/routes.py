"""From a recorded request to the reply a real AgentRouter would give: auth, faults, validation.

Nothing here does I/O: `handle` returns a `Reply` and the server writes it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from . import fim, wire
from .catalog import emits_reasoning, rejects_sampling_params
from .replies import generate
from .state import Fault, RecordedRequest, State, make_fault

# Paths served per wire format; anything else (including `/v1/v1/...`) is a 404.
ROUTES: dict[tuple[str, str], wire.Api] = {
    ("GET", "/v1/models"): "openai",
    ("POST", "/v1/chat/completions"): "openai",
    ("POST", "/v1/messages"): "anthropic",
}


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: list[bytes] | None = None  # SSE frames, written one by one
    delay: float = 0.0  # before the status line
    chunk_delay: float = 0.0  # between stream frames
    drip: float = 0.0  # a slow link: one byte of the body (or stream) per `drip` seconds
    hang: bool = False  # never answer
    drop: bool = False  # close the connection: before the status line, or after `stream`


class BadRequest(Exception):
    """A validation failure, with the body the real API sends."""

    def __init__(self, body: dict[str, Any], status: int = 400) -> None:
        super().__init__(body)
        self.body = body
        self.status = status


def json_reply(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, [*wire.JSON_HEADERS, *(headers or [])], wire.dumps(body))


async def handle(state: State, req: RecordedRequest) -> Reply:
    if req.path.startswith("/_gateway/"):
        return await control(state, req)
    dialect = fim.ROUTES.get((req.method, req.path))
    # FIM routes take the OpenAI-format faults (status and timing are what clients see).
    api = ROUTES.get((req.method, req.path)) or ("openai" if dialect else None)
    request_id = wire.gateway_request_id()
    ids = [("x-oneapi-request-id", request_id)]
    if api is None:
        message = f"Invalid URL ({req.method} {req.path})"
        return json_reply(404, wire.openai_error(message, "invalid_request_error", code=""), ids)
    ids.append(
        ("request-id", wire.random_id("req_"))
        if api == "anthropic"
        else ("x-request-id", request_id)
    )

    rules, models, latency, chunk_delay = state.snapshot()
    authorized = dialect in fim.NO_AUTH or any(state.token_ok(t) for t in _tokens(req.headers, api))
    modifiers, fault = state.take_faults(req.path, authorized)
    delay = latency + sum(float(f.opts.get("delay", 0.0)) for f in modifiers)
    chunk_delay = max([chunk_delay, *(float(f.opts.get("chunk_delay", 0.0)) for f in modifiers)])

    if fault is not None and fault.name not in ("midstream_error", "drop"):
        reply = fault_reply(fault, api, req, request_id)
    elif fault is not None and fault.name == "drop" and not _wants_stream(req, fault):
        reply = Reply(drop=True)
    elif not authorized:
        if dialect:
            reply = json_reply(*fim.unauthorized(dialect))
        else:
            reply = json_reply(401, wire.gateway_invalid_token(request_id))
    elif dialect:
        status, headers, payload = fim.answer(dialect, req.path, req.json, rules)
        if isinstance(payload, list):
            reply = Reply(status, headers, stream=payload)
        else:
            reply = Reply(status, headers, payload)
        if status == 200:
            reply.headers.extend(state.reply_headers)
    else:
        try:
            if req.path == "/v1/models":
                reply = json_reply(200, {"object": "list", "data": models, "success": True})
            elif api == "openai":
                reply = chat_completions(req, rules, fault)
            else:
                reply = messages(req, rules, fault)
        except BadRequest as exc:
            reply = json_reply(exc.status, exc.body)
        if reply.status == 200 and req.path != "/v1/models":
            reply.headers.extend(state.reply_headers)
    reply.headers.extend(ids)
    reply.delay += delay
    reply.chunk_delay = max(reply.chunk_delay, chunk_delay)
    reply.drip = max([0.0, *(float(f.opts.get("drip", 0.0)) for f in modifiers)])
    return reply


def _tokens(headers: dict[str, str], api: wire.Api) -> list[str]:
    """`Authorization: Bearer` everywhere; `x-api-key` too on the Anthropic route."""
    tokens = []
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        tokens.append(value.strip())
    if api == "anthropic":
        tokens.append(headers.get("x-api-key", ""))
    return tokens


def _wants_stream(req: RecordedRequest, fault: Fault) -> bool:
    """`drop` with `after=N` cuts a stream after N frames; otherwise it drops before answering."""
    return "after" in fault.opts and isinstance(req.json, dict) and req.json.get("stream") is True


# Faults -------------------------------------------------------------------------------------------

_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def fault_reply(fault: Fault, api: wire.Api, req: RecordedRequest, request_id: str) -> Reply:
    opts = fault.opts
    extra = [(str(k).lower(), str(v)) for k, v in opts.get("headers", {}).items()]
    message = opts.get("message")
    name = fault.name
    if name == "hang":
        return Reply(hang=True)
    if name == "unauthorized_client":
        if opts.get("html"):
            status = int(opts.get("status", 403))
            page = wire.firewall_page(status, message)
            return Reply(status, [*wire.HTML_HEADERS, *extra], page)
        body = wire.gateway_unauthorized_client(message)
        return json_reply(int(opts.get("status", 401)), body, extra)
    if name == "bad_token":
        return json_reply(401, wire.gateway_invalid_token(request_id, message), extra)
    if name == "rate_limit":
        retry_after = opts.get("retry_after", 1)
        if retry_after is not None:
            ms = opts.get("retry_after_ms", int(float(retry_after) * 1000))
            extra += [("retry-after", _seconds(retry_after)), ("retry-after-ms", str(ms))]
        if api == "anthropic":
            body = wire.anthropic_error(
                "rate_limit_error",
                message
                or "This request would exceed the rate limit for your organization. "
                "Please try again later.",
                wire.random_id("req_"),
            )
        else:
            body = wire.openai_error(
                message or "Rate limit reached for requests. Please try again in 1s.",
                "requests",
                code="rate_limit_exceeded",
            )
        return json_reply(429, body, extra)
    if name == "server_error":
        status = int(opts.get("status", 500))
        reason = _REASONS.get(status, "Server Error")
        if opts.get("html"):
            return Reply(
                status, [*wire.HTML_HEADERS, *extra], wire.proxy_error_page(status, reason)
            )
        if api == "anthropic":
            return json_reply(status, wire.anthropic_error("api_error", message or reason), extra)
        text = message or "The server had an error while processing your request. Sorry about that!"
        return json_reply(status, wire.openai_error(text, "server_error"), extra)
    if name == "overloaded":
        if api == "anthropic":
            status = int(opts.get("status", 529))
            return json_reply(
                status, wire.anthropic_error("overloaded_error", message or "Overloaded"), extra
            )
        status = int(opts.get("status", 503))
        text = message or "The server is overloaded or not ready yet."
        return json_reply(status, wire.openai_error(text, "server_error"), extra)
    if name == "model_not_found":
        requested = req.json.get("model") if isinstance(req.json, dict) else None
        model = opts.get("model") or requested or "unknown"
        status = int(opts.get("status", 404))
        if api == "anthropic" and status == 404:
            body = wire.anthropic_error("not_found_error", message or f"model: {model}")
            return json_reply(status, body, extra)
        err = {
            "code": "model_not_found",
            "message": message or f"model {model} not found",
            "type": "invalid_request_error",
        }
        return json_reply(status, {"error": err}, extra)
    raise ValueError(f"fault {name!r} has no direct reply")


def _seconds(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else str(number)


def _cut_stream(
    head: list[bytes], body: list[bytes], tail: list[bytes], fault: Fault | None, api: wire.Api
) -> tuple[list[bytes], bool]:
    """Apply `midstream_error` / `drop after=N` to a stream; returns (frames, drop_after)."""
    if fault is None:
        return [*head, *body, *tail], False
    after = int(fault.opts.get("after", 2))
    if fault.name == "drop":
        return [*head, *body[:after]], True
    message = fault.opts.get("message")
    if api == "anthropic":
        error = wire.sse_event(
            "error",
            wire.anthropic_error(
                fault.opts.get("type", "overloaded_error"), message or "Overloaded"
            ),
        )
    else:
        error = wire.sse_data(
            wire.openai_error(
                message
                or "The server had an error while processing your request. Sorry about that!",
                fault.opts.get("type", "server_error"),
            )
        )
    return [*head, *body[:after], error], False


def _midstream_nonstream(fault: Fault, api: wire.Api) -> BadRequest:
    """Without a stream, a generation failure is an error status."""
    message = fault.opts.get("message")
    if api == "anthropic":
        return BadRequest(wire.anthropic_error("overloaded_error", message or "Overloaded"), 529)
    text = message or "The server had an error while processing your request. Sorry about that!"
    return BadRequest(wire.openai_error(text, "server_error"), 500)


# Shared request helpers ---------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _prompt(system: Any, msgs: list[Any]) -> tuple[str, str]:
    """(all the request's text, the last user message's text)."""
    texts = [_text_of(system)] if system else []
    last_user = ""
    for m in msgs:
        if isinstance(m, dict):
            text = _text_of(m.get("content"))
            texts.append(text)
            if m.get("role") == "user":
                last_user = text
    return "\n".join(texts), last_user


def _body(req: RecordedRequest, api: wire.Api) -> dict[str, Any]:
    if isinstance(req.json, dict):
        return req.json
    if api == "anthropic":
        raise BadRequest(
            wire.anthropic_error(
                "invalid_request_error",
                "There was an issue with the request body: expected a JSON object",
            )
        )
    raise BadRequest(
        wire.openai_error(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
            "sent was not valid JSON.",
            "invalid_request_error",
        )
    )


# POST /v1/chat/completions -------------------------------------------------------------------------


def _openai_invalid(message: str, param: str | None = None, code: str | None = None) -> BadRequest:
    return BadRequest(wire.openai_error(message, "invalid_request_error", param=param, code=code))


def chat_completions(
    req: RecordedRequest, rules: list[tuple[str, str]], fault: Fault | None
) -> Reply:
    body = _body(req, "openai")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _openai_invalid("you must provide a model parameter", "model")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise _openai_invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    if rejects_sampling_params(model):
        for param, hint in (
            ("temperature", ""),
            ("max_tokens", " Use 'max_completion_tokens' instead."),
        ):
            if body.get(param) is not None:
                raise _openai_invalid(
                    f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
                    param,
                    "unsupported_parameter",
                )
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or [] if isinstance(s, str)]
    prompt, last_user = _prompt(None, msgs)
    gen = generate(
        rules,
        model=model,
        path=req.path,
        prompt=prompt,
        last_user=last_user,
        limit=limit if isinstance(limit, int) else None,
        stops=stops,
        reasoning=emits_reasoning(model, body),
        sampled=_sampled(body.get("temperature")),
    )
    completion_id = wire.random_id("chatcmpl-")
    if body.get("stream") is not True:
        if fault is not None and fault.name == "midstream_error":
            raise _midstream_nonstream(fault, "openai")
        return json_reply(200, wire.openai_completion(gen, model, completion_id))
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    head, frames, tail = wire.openai_stream(gen, model, completion_id, include_usage=include_usage)
    stream, drop = _cut_stream(head, frames, tail, fault, "openai")
    return Reply(200, list(wire.SSE_HEADERS), stream=stream, drop=drop)


# POST /v1/messages ---------------------------------------------------------------------------------


def _anthropic_invalid(message: str) -> BadRequest:
    return BadRequest(
        wire.anthropic_error("invalid_request_error", message, wire.random_id("req_"))
    )


def _validate_messages(msgs: Any) -> list[dict[str, Any]]:
    """Anthropic's own checks, which catch real client bugs (a "system" message, bad order)."""
    if not isinstance(msgs, list):
        raise _anthropic_invalid("messages: Field required")
    if not msgs:
        raise _anthropic_invalid("messages: at least one message is required")
    previous = None
    for i, m in enumerate(msgs):
        role = m.get("role") if isinstance(m, dict) else None
        if role == "system":
            raise _anthropic_invalid(
                f'messages.{i}.role: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            raise _anthropic_invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if i == 0 and role != "user":
            raise _anthropic_invalid('messages: first message must use the "user" role')
        if role == previous:
            raise _anthropic_invalid(
                'messages: roles must alternate between "user" and "assistant", but found '
                f'multiple "{role}" roles in a row'
            )
        previous = role
        content = m.get("content")
        last = i == len(msgs) - 1
        if not _text_of(content) and not (last and role == "assistant"):
            raise _anthropic_invalid(
                f"messages.{i}: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        if last and role == "assistant" and _text_of(content) != _text_of(content).rstrip():
            raise _anthropic_invalid(
                "messages: final assistant content cannot end with trailing whitespace"
            )
    return msgs


def _sampled(temperature: Any) -> bool:
    # Only an explicit temperature above 0 samples: rules set by tests stay predictable.
    return isinstance(temperature, (int, float)) and temperature > 0


def _thinking_enabled(thinking: Any, max_tokens: int, temperature: Any) -> bool:
    if not (isinstance(thinking, dict) and thinking.get("type") == "enabled"):
        return False
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        raise _anthropic_invalid(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        )
    if max_tokens <= budget:
        raise _anthropic_invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    if temperature is not None and temperature != 1:
        raise _anthropic_invalid(
            "`temperature` may only be set to 1 when thinking is enabled or in interleaved "
            "thinking mode."
        )
    return True


def messages(req: RecordedRequest, rules: list[tuple[str, str]], fault: Fault | None) -> Reply:
    if "anthropic-version" not in req.headers:
        raise _anthropic_invalid("anthropic-version: header is required")
    body = _body(req, "anthropic")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _anthropic_invalid("model: Field required")
    limit = body.get("max_tokens")
    if limit is None:
        raise _anthropic_invalid("max_tokens: Field required")
    if not isinstance(limit, int) or limit < 1:
        raise _anthropic_invalid("max_tokens: Input should be greater than or equal to 1")
    msgs = _validate_messages(body.get("messages"))
    temperature = body.get("temperature")
    if isinstance(temperature, (int, float)) and not 0 <= temperature <= 1:
        raise _anthropic_invalid("temperature: Input should be less than or equal to 1")
    reasoning = _thinking_enabled(body.get("thinking"), limit, temperature)
    stops = [s for s in body.get("stop_sequences") or [] if isinstance(s, str)]
    prompt, last_user = _prompt(body.get("system"), msgs)
    gen = generate(
        rules,
        model=model,
        path=req.path,
        prompt=prompt,
        last_user=last_user,
        limit=limit,
        stops=stops,
        reasoning=reasoning,
        sampled=_sampled(temperature),
    )
    message_id = wire.random_id("msg_01", 22)
    if body.get("stream") is not True:
        if fault is not None and fault.name == "midstream_error":
            raise _midstream_nonstream(fault, "anthropic")
        return json_reply(200, wire.anthropic_message(gen, model, message_id))
    head, frames, tail = wire.anthropic_stream(gen, model, message_id)
    stream, drop = _cut_stream(head, frames, tail, fault, "anthropic")
    return Reply(200, list(wire.SSE_HEADERS), stream=stream, drop=drop)


# /_gateway/* ---------------------------------------------------------------------------------------


async def control(state: State, req: RecordedRequest) -> Reply:
    """Remote control for other processes; no auth, never recorded."""
    body = req.json if isinstance(req.json, dict) else {}
    action = req.path.removeprefix("/_gateway/")
    try:
        if (req.method, action) == ("GET", "requests"):
            return json_reply(200, [r.to_dict() for r in state.list_requests()])
        if req.method != "POST":
            return json_reply(405, {"error": f"{req.method} /_gateway/{action} is not supported"})
        if action == "fault":
            opts = {k: v for k, v in body.items() if k not in ("name", "times", "paths")}
            state.set_fault(
                make_fault(str(body.get("name")), body.get("times"), body.get("paths"), opts)
            )
        elif action == "clear":
            state.clear_faults()
        elif action == "reset":
            state.reset()
        elif action == "replies":
            state.set_rules(body.get("rules", []), prepend=bool(body.get("prepend", False)))
        elif action == "config":
            _configure(state, body)
        elif action == "wait_disconnect":
            found = await _await_disconnect(state, float(body.get("timeout", 5.0)))
            return json_reply(200, found.to_dict() if found else None)
        else:
            return json_reply(404, {"error": f"unknown control endpoint /_gateway/{action}"})
    except (ValueError, TypeError) as exc:
        return json_reply(400, {"error": str(exc)})
    return json_reply(200, {"ok": True})


def _configure(state: State, body: dict[str, Any]) -> None:
    latency = body.get("latency")
    chunk_delay = body.get("chunkDelay", body.get("chunk_delay"))
    with state.cond:
        if latency is not None:
            state.latency = float(latency)
        if chunk_delay is not None:
            state.chunk_delay = float(chunk_delay)
    if "models" in body:
        state.set_models(body["models"])


async def _await_disconnect(state: State, timeout: float) -> RecordedRequest | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = state.poll_disconnect()
        if found is not None or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.02)


def parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
