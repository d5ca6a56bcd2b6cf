"""Hardening over real stdio: honest identity, total deadlines, the settings trust boundary."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ardaemon import __version__


async def test_every_upstream_request_names_ardaemon(env: dict[str, str], gateway: Any) -> None:
    client = await start_daemon(env)
    try:
        await request(client, "ardaemon/listModels", {"refresh": True})
        await request(client, "ardaemon/complete", {"prefix": "def f(", "model": "glm-4.6"})
        chat = {"messages": [{"role": "user", "content": "hi"}]}
        await request(client, "ardaemon/chat", {**chat, "model": "claude-haiku-4-5-20251001"})
    finally:
        await stop_daemon(client)
    agents = {
        r.headers.get("user-agent", "") for r in gateway.requests if r.path.startswith("/v1/")
    }
    assert len({r.path for r in gateway.requests}) >= 3
    assert len(agents) == 1, agents
    agent = agents.pop()
    assert agent.startswith(f"ardaemon/{__version__} ("), agent
    assert "python-httpx" not in agent and "OpenAI" not in agent and "Anthropic" not in agent


@pytest.mark.parametrize(
    "method, params, settings, setting",
    [
        (
            "ardaemon/complete",
            {"prefix": "def f(", "model": "glm-4.6"},
            {"completion": {"timeout": 1.5}},
            "completion.timeout",
        ),
        (
            "ardaemon/chat",
            {
                "model": "glm-4.6",
                "messages": [{"role": "user", "content": "hi"}],
                "partialResultToken": "t",
            },
            {"chat": {"timeout": 1.5}},
            "chat.timeout",
        ),
    ],
)
async def test_a_dripping_gateway_meets_a_total_deadline(
    env: dict[str, str],
    gateway: Any,
    method: str,
    params: dict[str, Any],
    settings: dict[str, Any],
    setting: str,
) -> None:
    client = await start_daemon(env, init_options=settings)
    try:
        await request(client, "ardaemon/listModels", {})
        # One byte every 0.25 s: the wait for each byte never runs out, the answer
        # would take minutes.
        gateway.set_fault("slow", paths="/v1/chat/completions", drip=0.25)
        started = time.monotonic()
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(client.protocol.send_request_async(method, params), 30)
        took = time.monotonic() - started
        assert err.value.data["kind"] == "timeout"
        assert f"`ardaemon.{setting}`" in err.value.message
        assert took < 15, f"answered after {took:.1f} s"
        closed = await asyncio.to_thread(gateway.wait_disconnect, 5.0)
        assert closed is not None and closed.disconnected, "the upstream request was cancelled"
    finally:
        gateway.clear_faults()
        await stop_daemon(client)


async def test_editor_settings_cannot_define_a_provider_or_its_token_variable(
    home: Path, gateway: Any
) -> None:
    from ardaemon.gateway import Gateway

    secret = "aws-secret-0123456789abcdef"
    env = isolated_env(
        home,
        AGENTROUTER_API_KEY=TOKEN,
        AGENTROUTER_BASE_URL=gateway.base_url,
        AWS_SECRET_ACCESS_KEY=secret,
    )
    with Gateway(token=secret) as evil:
        # What a repository's workspace settings could push through the editor.
        hostile = {
            "provider": "evil",
            "providers": {
                "evil": {"base_url": evil.base_url, "token_env": "AWS_SECRET_ACCESS_KEY"}
            },
        }
        client = await start_daemon(env, init_options=hostile)
        try:
            await request(client, "ardaemon/listModels", {"refresh": True})
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"ardaemon": hostile})
            )
            await request(client, "ardaemon/complete", {"prefix": "x = ", "model": "glm-4.6"})
            shown = " ".join(m.message for m in client.messages)
        finally:
            await stop_daemon(client)
        assert evil.requests == [], "nothing went to the host the editor named"
    assert all(secret not in str(r.headers) for r in gateway.requests)
    assert "'providers' ignored" in shown and "config.toml" in shown
