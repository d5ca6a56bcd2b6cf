"""The gateway stand-in, driven by the official `openai` and `anthropic` SDKs as clients.

If the SDKs parse what it sends (and raise the errors they raise for the real services), the
stand-in speaks the real wire formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from conftest import TOKEN

from ardaemon.gateway import Gateway

CLAUDE = "claude-sonnet-4-5-20250929"
pytestmark = [pytest.mark.subprocess, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def oai(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=TOKEN, max_retries=0) as client:
        yield client


@pytest.fixture
def ant(gateway: Gateway) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gateway.base_url, api_key=TOKEN, max_retries=0) as client:
        yield client


USER = [{"role": "user", "content": "hi there, stand-in"}]


def expected(model: str, path: str, said: str = "hi there, stand-in") -> str:
    return f"Hello from {model} via {path}, the ardaemon gateway stand-in. You said: {said}"


# OpenAI Chat Completions -------------------------------------------------------------------------


def test_models_list(oai: openai.OpenAI, gateway: Gateway) -> None:
    models = {m.id: m for m in oai.models.list()}
    assert {"claude-sonnet-4-5-20250929", "gpt-5", "glm-4.6", "deepseek-r1", "kimi-k2"} <= set(
        models
    )
    assert models[CLAUDE].model_extra["supported_endpoint_types"] == ["anthropic", "openai"]
    assert models["kimi-k2"].model_extra["supported_endpoint_types"] == ["openai"]
    [req] = gateway.requests
    assert (req.method, req.path, req.status) == ("GET", "/v1/models", 200)
    assert req.headers["authorization"] == f"Bearer {TOKEN}"


def test_models_can_be_replaced() -> None:
    with Gateway(token=TOKEN, models=["m-one", {"id": "claude-x", "owned_by": "me"}]) as gateway:
        client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=TOKEN, max_retries=0)
        models = list(client.models.list())
        assert [m.id for m in models] == ["m-one", "claude-x"]
        assert models[1].owned_by == "me"
        assert models[1].model_extra["supported_endpoint_types"] == ["anthropic", "openai"]


def test_chat_non_stream(oai: openai.OpenAI) -> None:
    result = oai.chat.completions.create(model="glm-4.6", messages=USER)
    choice = result.choices[0]
    assert result.id.startswith("chatcmpl-")
    assert result.object == "chat.completion"
    assert choice.message.role == "assistant"
    assert choice.message.content == expected("glm-4.6", "/v1/chat/completions")
    assert choice.finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.completion_tokens == len(choice.message.content.split())
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens


def test_chat_stream_with_usage(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="kimi-k2", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) >= 4
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected(
        "kimi-k2", "/v1/chat/completions"
    )
    assert content[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in content[:-1])
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None and usage_chunk.usage.completion_tokens > 0


def test_chat_max_tokens_cuts_with_length(oai: openai.OpenAI) -> None:
    result = oai.chat.completions.create(model="gpt-4o-mini", messages=USER, max_tokens=3)
    assert result.choices[0].message.content == "Hello from gpt-4o-mini"
    assert result.choices[0].finish_reason == "length"
    assert result.usage is not None and result.usage.completion_tokens == 3


def test_chat_stop_sequence(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(model="glm-4.6", messages=USER, stop=[" via"], stream=True)
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from glm-4.6"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_reasoning_model_streams_reasoning_content_first(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="deepseek-r1", messages=USER, stream=True
    )
    kinds = []
    answer = ""
    for chunk in raw.parse():
        delta = chunk.choices[0].delta
        extra = delta.model_extra or {}
        if extra.get("reasoning_content"):
            kinds.append("reasoning")
        if delta.content:
            kinds.append("content")
            answer += delta.content
    assert kinds[0] == "reasoning" and kinds[-1] == "content"
    assert kinds.index("content") > max(i for i, k in enumerate(kinds) if k == "reasoning")
    assert answer == expected("deepseek-r1", "/v1/chat/completions")

    result = oai.chat.completions.create(model="deepseek-r1", messages=USER)
    assert result.choices[0].message.model_extra["reasoning_content"]
    assert result.choices[0].message.content == answer


def test_reasoning_counts_against_max_tokens(oai: openai.OpenAI) -> None:
    result = oai.chat.completions.create(model="deepseek-r1", messages=USER, max_tokens=5)
    assert result.choices[0].message.content == ""
    assert result.choices[0].finish_reason == "length"


def test_openai_reasoning_models_reject_temperature_and_max_tokens(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="gpt-5", messages=USER, temperature=0.2)
    assert (info.value.param, info.value.code) == ("temperature", "unsupported_parameter")
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="o3-mini", messages=USER, max_tokens=10)
    assert info.value.param == "max_tokens"
    assert "max_completion_tokens" in info.value.message
    ok = oai.chat.completions.create(model="gpt-5", messages=USER, max_completion_tokens=2)
    assert ok.choices[0].message.content == "Hello from"


def test_canned_completion_and_custom_replies(oai: openai.OpenAI, gateway: Gateway) -> None:
    def ask(text: str) -> str | None:
        result = oai.chat.completions.create(
            model="glm-4.6", messages=[{"role": "user", "content": text}]
        )
        return result.choices[0].message.content

    fib = ask("Complete the code.\n<prefix>def fibonacci(n):\n</prefix>")
    assert fib is not None and fib.startswith("```python\n") and "fibonacci(n - 1)" in fib
    gateway.set_replies([("ping", "pong")])
    assert ask("ping?") == "pong"
    assert ask("def fibonacci(n):").startswith("Hello from")  # type: ignore[union-attr]
    gateway.add_reply("ping", "PONG first")
    assert ask("ping?") == "PONG first"
    gateway.reset()
    assert ask("def fibonacci(n):").startswith("```python")  # type: ignore[union-attr]


# Anthropic Messages ------------------------------------------------------------------------------


def test_messages_non_stream(ant: anthropic.Anthropic, gateway: Gateway) -> None:
    msg = ant.messages.create(model=CLAUDE, max_tokens=100, system="be brief", messages=USER)
    assert msg.id.startswith("msg_")
    assert msg.type == "message" and msg.role == "assistant" and msg.model == CLAUDE
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == expected(CLAUDE, "/v1/messages")  # type: ignore[union-attr]
    assert (msg.stop_reason, msg.stop_sequence) == ("end_turn", None)
    assert msg.usage.output_tokens == len(msg.content[0].text.split())  # type: ignore[union-attr]
    req = gateway.requests[-1]
    # anthropic 2.x sends the key as a Bearer token (x-api-key is covered in test_gateway_http).
    assert req.headers["authorization"] == f"Bearer {TOKEN}" and req.headers["anthropic-version"]


def test_messages_stop_reasons(ant: anthropic.Anthropic) -> None:
    msg = ant.messages.create(model=CLAUDE, max_tokens=2, messages=USER)
    assert (msg.content[0].text, msg.stop_reason) == ("Hello from", "max_tokens")  # type: ignore[union-attr]
    msg = ant.messages.create(
        model=CLAUDE, max_tokens=100, messages=USER, stop_sequences=["stand-in."]
    )
    assert msg.stop_reason == "stop_sequence" and msg.stop_sequence == "stand-in."
    assert msg.content[0].text.endswith("the ardaemon gateway ")  # type: ignore[union-attr]


def test_messages_stream_helper_and_event_order(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(model=CLAUDE, max_tokens=100, messages=USER) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(texts) >= 4
    assert "".join(texts) == expected(CLAUDE, "/v1/messages")
    assert final.content[0].text == "".join(texts)  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0

    events = [
        e.type
        for e in ant.messages.create(model=CLAUDE, max_tokens=100, messages=USER, stream=True)
    ]
    deltas = events.count("content_block_delta")
    assert events == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_messages_thinking_block_comes_first(ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(
        model=CLAUDE,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=USER,
    ) as stream:
        events = [(e.type, getattr(e, "index", None)) for e in stream]
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking and final.content[0].signature  # type: ignore[union-attr]
    assert final.content[1].text == expected(CLAUDE, "/v1/messages")  # type: ignore[union-attr]
    starts = [i for t, i in events if t == "content_block_start"]
    assert starts == [0, 1]
    assert events.index(("content_block_stop", 0)) < events.index(("content_block_start", 1))


def test_messages_validation_errors(ant: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        ant.post("/v1/messages", cast_to=object, body={"model": CLAUDE, "messages": USER})
    assert info.value.body["error"] == {  # type: ignore[index]
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    bad_conversations: list[list[dict[str, Any]]] = [
        [{"role": "system", "content": "rules"}, *USER],
        [{"role": "assistant", "content": "hi"}, *USER],
        [*USER, *USER],
        [{"role": "user", "content": ""}],
    ]
    for conversation in bad_conversations:
        with pytest.raises(anthropic.BadRequestError) as info:
            ant.messages.create(model=CLAUDE, max_tokens=10, messages=conversation)  # type: ignore[arg-type]
        assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError, match="budget_tokens"):
        ant.messages.create(
            model=CLAUDE,
            max_tokens=2000,
            thinking={"type": "enabled", "budget_tokens": 100},
            messages=USER,
        )


# Errors ------------------------------------------------------------------------------------------


def test_bad_token_is_authentication_error(gateway: Gateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.models.list()
    assert "invalid token" in info.value.message
    assert "unauthorized client" not in info.value.message
    ac = anthropic.Anthropic(base_url=gateway.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as ainfo:
        ac.messages.create(model=CLAUDE, max_tokens=10, messages=USER)
    assert ainfo.value.body["error"]["type"] == "new_api_error"  # type: ignore[index]


def test_unauthorized_client(
    oai: openai.OpenAI, ant: anthropic.Anthropic, gateway: Gateway
) -> None:
    gateway.set_fault("unauthorized_client")
    with pytest.raises(openai.AuthenticationError) as info:
        oai.chat.completions.create(model="glm-4.6", messages=USER)
    assert "unauthorized client detected" in info.value.message
    with pytest.raises(anthropic.AuthenticationError) as ainfo:
        ant.messages.create(model=CLAUDE, max_tokens=10, messages=USER)
    assert "unauthorized client detected" in str(ainfo.value)

    gateway.set_fault("unauthorized_client", html=True)
    with pytest.raises(openai.PermissionDeniedError) as pinfo:
        oai.models.list()
    assert pinfo.value.status_code == 403
    assert pinfo.value.response.headers["content-type"].startswith("text/html")
    # For a non-JSON body the SDK's message is only "Error code: 403": the text is in `body`.
    assert pinfo.value.message == "Error code: 403"
    assert "unauthorized client detected" in str(pinfo.value.body)


def test_rate_limit(oai: openai.OpenAI, ant: anthropic.Anthropic, gateway: Gateway) -> None:
    gateway.set_fault("rate_limit", retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        oai.chat.completions.create(model="glm-4.6", messages=USER)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.response.headers["retry-after-ms"] == "7000"
    assert info.value.code == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as ainfo:
        ant.messages.create(model=CLAUDE, max_tokens=10, messages=USER)
    assert ainfo.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_sdk_retry_after_rate_limit_succeeds(gateway: Gateway) -> None:
    gateway.set_fault("rate_limit", times=1, retry_after=0)
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=TOKEN, max_retries=2)
    result = client.chat.completions.create(model="glm-4.6", messages=USER)
    assert result.choices[0].message.content
    assert gateway.count("/v1/chat/completions") == 2
    assert [r.status for r in gateway.requests] == [429, 200]
    assert gateway.requests[1].headers["x-stainless-retry-count"] == "1"


def test_overloaded_and_server_errors(
    oai: openai.OpenAI, ant: anthropic.Anthropic, gateway: Gateway
) -> None:
    gateway.set_fault("overloaded", times=1)
    with pytest.raises(anthropic.InternalServerError) as info:
        ant.messages.create(model=CLAUDE, max_tokens=10, messages=USER)
    assert info.value.status_code == 529
    assert info.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    gateway.set_fault("server_error", status=502, times=1)
    with pytest.raises(openai.InternalServerError) as oinfo:
        oai.chat.completions.create(model="glm-4.6", messages=USER)
    assert oinfo.value.status_code == 502 and oinfo.value.type == "server_error"


def test_model_not_found_variants(oai: openai.OpenAI, gateway: Gateway) -> None:
    gateway.set_fault("model_not_found", times=1)
    with pytest.raises(openai.NotFoundError) as info:
        oai.chat.completions.create(model="nope-1", messages=USER)
    assert info.value.code == "model_not_found"
    # The gateway quirk: HTTP 200 with an error object. The SDK does NOT raise: it hands back a
    # completion without choices, so a client has to check the body.
    gateway.set_fault("model_not_found", status=200, times=1)
    result = oai.chat.completions.create(model="nope-1", messages=USER)
    assert result.choices is None
    assert result.model_extra["error"]["code"] == "model_not_found"


def test_midstream_error_openai(oai: openai.OpenAI, gateway: Gateway) -> None:
    gateway.set_fault("midstream_error", after=2)
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in oai.chat.completions.create(model="glm-4.6", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert not isinstance(info.value, openai.APIStatusError)
    assert received[1:] == ["Hello from ", "glm-4.6 via "]
    assert info.value.type == "server_error"


def test_midstream_error_anthropic(ant: anthropic.Anthropic, gateway: Gateway) -> None:
    gateway.set_fault("midstream_error", after=1)
    received = []
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        ant.messages.stream(model=CLAUDE, max_tokens=100, messages=USER) as stream,
    ):
        received.extend(stream.text_stream)
    # The status line said 200: the SDK raises the plain APIStatusError, not OverloadedError.
    assert info.value.status_code == 200
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert received == ["Hello from "]


def test_connection_drop(oai: openai.OpenAI, ant: anthropic.Anthropic, gateway: Gateway) -> None:
    gateway.set_fault("drop")
    with pytest.raises(openai.APIConnectionError):
        oai.models.list()
    with pytest.raises(anthropic.APIConnectionError):
        ant.messages.create(model=CLAUDE, max_tokens=10, messages=USER)
    assert [r.status for r in gateway.requests] == [None, None]


def test_hang_times_out_and_is_seen_as_disconnect(gateway: Gateway) -> None:
    gateway.set_fault("hang", times=1)
    client = openai.OpenAI(
        base_url=gateway.base_url + "/v1", api_key=TOKEN, max_retries=0, timeout=0.5
    )
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="glm-4.6", messages=USER)
    gone = gateway.wait_disconnect(timeout=10)
    assert gone is not None and gone.disconnected and gone.status is None
    assert gone.json["model"] == "glm-4.6"
    assert json.loads(json.dumps(gone.to_dict()))["disconnected"] is True
