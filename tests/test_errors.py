"""Every error kind of the contract, each one sentence a person can act on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, Client, isolated_env, request, start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.subprocess

CHAT = {"model": "glm-4.6", "messages": [{"role": "user", "content": "hi"}]}
CLAUDE_CHAT = {**CHAT, "model": "claude-haiku-4-5-20251001"}


async def failing(client: Client, params: dict[str, Any] = CHAT) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as err:
        await request(client, "ardaemon/chat", params)
    error = err.value
    assert "Traceback" not in error.message and TOKEN not in error.message
    assert error.message.endswith("."), "one sentence"
    # The daemon keeps serving after any failure.
    assert (await request(client, "ardaemon/listModels", {}))["models"] or True
    return error


def kind(error: JsonRpcException) -> str:
    assert error.code == -32803
    data: dict[str, Any] = error.data
    return str(data["kind"])


async def test_bad_token_is_auth(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("bad_token", times=1)
    error = await failing(daemon)
    assert kind(error) == "auth" and error.data["status"] == 401
    assert "AGENTROUTER_API_KEY" in error.message, "names the provider's token variable"


@pytest.mark.parametrize("html", [False, True])
async def test_client_refusal_is_unauthorized_client(
    daemon: Client, gateway: Any, html: bool
) -> None:
    gateway.set_fault("unauthorized_client", html=html, times=1)
    error = await failing(daemon, CLAUDE_CHAT)
    assert kind(error) == "unauthorized_client"
    assert "unauthorized client detected" in error.message
    assert "headers" in error.message and "provider" in error.message


async def test_missing_token_is_auth_without_network(home: Path, gateway: Any) -> None:
    client = await start_daemon(isolated_env(home, AGENTROUTER_BASE_URL=gateway.base_url))
    try:
        with pytest.raises(JsonRpcException) as err:
            await request(client, "ardaemon/chat", CHAT)
        assert kind(err.value) == "auth"
        assert "AGENTROUTER_API_KEY" in err.value.message
        assert gateway.count() == 0
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize("status", [404, 400, 200])
async def test_unknown_model_is_model_not_found(daemon: Client, gateway: Any, status: int) -> None:
    gateway.set_fault("model_not_found", status=status, times=1)
    error = await failing(daemon, {**CHAT, "model": "nope-1"})
    assert kind(error) == "model_not_found" and error.data["model"] == "nope-1"


async def test_long_retry_after_is_reported_not_waited(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("rate_limit", retry_after=120, times=1)
    error = await failing(daemon)
    assert kind(error) == "rate_limited" and error.data["retryAfter"] == 120
    assert gateway.count("/v1/chat/completions") == 1


async def test_short_retry_after_is_honoured_and_retried(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("rate_limit", retry_after=0, times=1)
    result = await request(daemon, "ardaemon/chat", CHAT)
    assert result["content"].startswith("Hello from glm-4.6")
    assert gateway.count("/v1/chat/completions") == 2


async def test_overloaded_after_retries(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("overloaded", paths=["/v1/messages"])
    error = await failing(daemon, CLAUDE_CHAT)
    assert kind(error) == "overloaded" and error.data["status"] == 529
    assert gateway.count("/v1/messages") == 3, "two retries, then the error"


async def test_openai_style_overload_is_overloaded(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("overloaded", paths=["/v1/chat"])
    error = await failing(daemon)
    assert kind(error) == "overloaded" and error.data["status"] == 503


async def test_server_error_is_upstream(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("server_error", status=500, paths=["/v1/chat"])
    error = await failing(daemon)
    assert kind(error) == "upstream" and error.data["status"] == 500


async def test_dropped_connection_is_network(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("drop", paths=["/v1/chat"])
    error = await failing(daemon)
    assert kind(error) == "network"


async def test_midstream_error_is_reported(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("midstream_error", times=1)
    with pytest.raises(JsonRpcException) as err:
        await request(daemon, "ardaemon/chat", {**CLAUDE_CHAT, "partialResultToken": "m"})
    assert kind(err.value) == "overloaded"
    assert daemon.progress.get("m"), "the part before the error was streamed"


async def test_hang_is_timeout(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"requestTimeout": 1})
    try:
        gateway.set_fault("hang", times=1)
        error = await failing(client)
        assert kind(error) == "timeout" and "requestTimeout" in error.message
    finally:
        await stop_daemon(client)


async def test_unreadable_answer_is_bad_response(home: Path, not_a_gateway: str) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=not_a_gateway)
    client = await start_daemon(env)
    try:
        for stream in (False, True):
            params = {**CHAT, **({"partialResultToken": "x"} if stream else {})}
            with pytest.raises(JsonRpcException) as err:
                await request(client, "ardaemon/chat", params)
            assert kind(err.value) == "bad_response"
            assert "base URL" in err.value.message
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("ardaemon/chat", {"messages": "hi"}, "messages"),
        ("ardaemon/chat", {"messages": []}, "messages"),
        ("ardaemon/chat", {"messages": [{"role": "user"}]}, "content"),
        (
            "ardaemon/chat",
            {"messages": [{"role": "user", "content": "x"}], "maxTokens": 0},
            "maxTokens",
        ),
        ("ardaemon/complete", {}, "prefix"),
        ("ardaemon/complete", {"prefix": 3}, "prefix"),
        (
            "ardaemon/complete",
            {"textDocument": {"uri": "file:///nope.py"}, "position": {"line": 0, "character": 0}},
            "textDocument",
        ),
        ("ardaemon/selectModel", {}, "model"),
        ("ardaemon/listModels", {"refresh": "yes"}, "refresh"),
    ],
)
async def test_bad_params_name_the_field_and_daemon_keeps_serving(
    daemon: Client, method: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(JsonRpcException) as err:
        await request(daemon, method, params)
    assert err.value.code == -32602
    assert field in err.value.message
    assert (await request(daemon, "ardaemon/chat", CHAT))["content"]


async def test_long_retry_after_never_stalls_a_completion(daemon: Client, gateway: Any) -> None:
    # An hour's Retry-After: had the daemon waited it, wait_for would fail the test.
    gateway.set_fault("rate_limit", retry_after=3600, paths=["/v1/chat"])
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(
            request(daemon, "ardaemon/complete", {"prefix": "x = ", "model": "glm-4.6"}), 60
        )
    assert kind(err.value) == "rate_limited" and err.value.data["retryAfter"] == 3600
    assert gateway.count("/v1/chat/completions") == 1, "reported, not retried"


async def test_retry_after_is_honoured_on_overload(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("overloaded", times=1, retry_after=0, headers={"retry-after": "1"})
    import time

    started = time.monotonic()
    result = await request(daemon, "ardaemon/chat", CLAUDE_CHAT)
    assert result["content"]
    assert time.monotonic() - started >= 0.9, "waited what the server asked"
