"""Wire formats in process: request bodies, results, and streams fed with the stand-in
gateway's real SSE bytes (the same bytes the official SDKs are checked against), through
`upstream.generate` and httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ardaemon import errors, upstream
from ardaemon.gateway import wire as gw
from ardaemon.gateway.replies import Generation
from ardaemon.http import Http
from ardaemon.providers import ProviderSpec
from ardaemon.router import route
from ardaemon.upstream import ADAPTERS
from ardaemon.wire import LlmRequest, Message, anthropic, openai
from ardaemon.wire.base import ThinkFilter

PROVIDER = ProviderSpec(name="gw", label="Gateway", base_url="https://gw.example", api="auto")
GEN = Generation(
    reasoning="hmm",
    text="<think>plan</think>\nHello there, friend.",
    finish="stop",
    stop_sequence=None,
    input_tokens=7,
    output_tokens=5,
    reasoning_tokens=1,
)


def request(model: str, stream: bool) -> LlmRequest:
    return LlmRequest(
        model=model,
        messages=(Message("system", "be brief"), Message("user", "hi")),
        max_tokens=50,
        temperature=0.0,
        stop=("</completion>",),
        stream=stream,
    )


class Frames(httpx.AsyncByteStream):
    """A stream's frames one network read each (deltas are handed over once per read)."""

    def __init__(self, frames: tuple[list[bytes], list[bytes], list[bytes]]) -> None:
        self.frames = [frame for part in frames for frame in part]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for frame in self.frames:
            yield frame


def replying(api: str, stream: bool, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if api == "openai":
            if stream:
                frames = gw.openai_stream(GEN, "glm-4.6", "c1", include_usage=True)
                return httpx.Response(200, headers=gw.SSE_HEADERS, stream=Frames(frames))
            return httpx.Response(200, json=gw.openai_completion(GEN, "glm-4.6", "c1"))
        if stream:
            frames = gw.anthropic_stream(GEN, "claude-x", "m1")
            return httpx.Response(200, headers=gw.SSE_HEADERS, stream=Frames(frames))
        return httpx.Response(200, json=gw.anthropic_message(GEN, "claude-x", "m1"))

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "api"), [("glm-4.6", "openai"), ("claude-x", "anthropic")])
async def test_one_request_through_each_format(model: str, api: str, stream: bool) -> None:
    seen: list[httpx.Request] = []
    http = Http(replying(api, stream, seen))
    deltas: list[str] = []
    target = route(PROVIDER, PROVIDER.base_url, model)
    assert target.api == api
    try:
        result = await upstream.generate(
            http,
            target,
            "tok-123456789",
            request(model, stream),
            extra_headers={},
            read_timeout=5,
            on_delta=deltas.append if stream else None,
        )
    finally:
        await http.aclose()
    assert result.text == "Hello there, friend.", "the think block is gone, stream or not"
    assert result.stop_reason == "end_turn"
    assert result.usage is not None and result.usage.output_tokens == 5
    if stream:
        assert len(deltas) > 1 and "".join(deltas) == result.text
    body = json.loads(seen[0].content)
    if api == "anthropic":
        assert seen[0].url.path == "/v1/messages" and body["system"] == "be brief"
        assert seen[0].headers["anthropic-version"] == "2023-06-01"
    else:
        assert (
            seen[0].url.path == "/v1/chat/completions" and body["messages"][0]["role"] == "system"
        )


def test_every_registered_format_builds_a_body() -> None:
    for api, adapter in ADAPTERS.items():
        body = adapter.build_body(request("m", False))
        assert body["model"] == "m" and body["stream"] is False, api


def test_anthropic_turns_alternate_and_start_with_the_user() -> None:
    system, turns = anthropic.conversation(
        (
            Message("system", "s"),
            Message("assistant", "a"),
            Message("user", "u"),
            Message("user", "v"),
        )
    )
    assert system == "s"
    assert turns == [
        {"role": "user", "content": "(continue)"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "u\n\nv"},
    ]


def test_openai_reasoning_models_get_their_parameters() -> None:
    body = openai.build_body(request("gpt-5", False))
    assert body["max_completion_tokens"] == 50 and "temperature" not in body and "stop" not in body
    assert openai.build_body(request("gpt-5-chat", False))["max_tokens"] == 50


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (openai.parse_result, {"choices": []}),
        (anthropic.parse_result, {"content": 3}),
    ],
)
def test_unreadable_results_are_bad_responses(parse: Any, data: Any) -> None:
    with pytest.raises(errors.BadResponse) as caught:
        parse(data)
    assert caught.value.reason == "unreadable"


def test_an_error_event_mid_stream_is_classified() -> None:
    parser = anthropic.StreamParser()
    data = json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    with pytest.raises(errors.Overloaded):
        list(parser.feed("error", data))


async def test_a_stream_cut_before_its_end_is_a_network_error() -> None:
    head, body, _tail = gw.anthropic_stream(GEN, "claude-x", "m1")
    cut = b"".join(head + body[:2])
    http = Http(
        httpx.MockTransport(lambda r: httpx.Response(200, headers=gw.SSE_HEADERS, content=cut))
    )
    with pytest.raises(errors.NetworkError) as caught:
        await upstream.generate(
            http,
            route(PROVIDER, PROVIDER.base_url, "claude-x"),
            None,
            request("claude-x", True),
            extra_headers={},
            read_timeout=5,
        )
    await http.aclose()
    assert caught.value.reason == "stream_cut"
    assert caught.value.context["provider"] == "Gateway" and caught.value.model == "claude-x"


async def test_a_json_answer_to_a_stream_request_is_read_as_an_error() -> None:
    error = {"error": {"message": "model x not found", "code": "model_not_found"}}
    http = Http(httpx.MockTransport(lambda r: httpx.Response(200, json=error)))
    with pytest.raises(errors.ModelNotFound):
        await upstream.generate(
            http,
            route(PROVIDER, PROVIDER.base_url, "x"),
            None,
            request("x", True),
            extra_headers={},
            read_timeout=5,
        )
    await http.aclose()


@pytest.mark.parametrize(
    ("chunks", "out"),
    [
        (["<Thinking>x", "y</thinking>\nans"], "ans"),
        (["<thi", "nk>a</think>b"], "b"),
        (["  <reasoning>r</REASONING>ok"], "ok"),
        (["<th", "e end"], "<the end"),
        (["<thinking>never closed"], ""),
        (["text <think>kept</think>"], "text <think>kept</think>"),
    ],
)
def test_the_think_filter_takes_every_tag_across_chunk_edges(chunks: list[str], out: str) -> None:
    think = ThinkFilter()
    assert "".join(think.feed(c) for c in chunks) + think.flush() == out
