"""Per-model routing and `ardaemon/chat`, observed at the gateway stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, Client, isolated_env, request, start_daemon, stop_daemon

pytestmark = pytest.mark.subprocess

CLAUDE = "claude-haiku-4-5-20251001"


def chat_params(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "user", "content": "second"},
        ],
        **extra,
    }


async def test_claude_model_uses_messages_api(daemon: Client, gateway: Any) -> None:
    result = await request(daemon, "ardaemon/chat", chat_params(CLAUDE, temperature=0.2))
    assert result["api"] == "anthropic" and result["model"] == CLAUDE
    assert result["content"].startswith(f"Hello from {CLAUDE} via /v1/messages")
    (sent,) = [r for r in gateway.requests if r.path == "/v1/messages"]
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"] == TOKEN
    body = sent.json
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.2
    # Consecutive user turns are merged: Messages demands alternation.
    assert body["messages"] == [{"role": "user", "content": "first\n\nsecond"}]
    assert result["usage"]["inputTokens"] > 0 and result["usage"]["outputTokens"] > 0


@pytest.mark.parametrize("model", ["glm-4.6", "anthropic/claude-3-5-haiku", "kimi-k2"])
async def test_other_models_use_chat_completions(daemon: Client, gateway: Any, model: str) -> None:
    gateway.set_models(["glm-4.6", "anthropic/claude-3-5-haiku", "kimi-k2"])
    result = await request(daemon, "ardaemon/chat", chat_params(model, temperature=0.5))
    expected = "anthropic" if "claude" in model else "openai"
    assert result["api"] == expected
    path = "/v1/messages" if expected == "anthropic" else "/v1/chat/completions"
    (sent,) = [r for r in gateway.requests if r.path == path]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    if expected == "openai":
        assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
        assert sent.json["max_tokens"] == 4096 and sent.json["temperature"] == 0.5


async def test_reasoning_model_gets_max_completion_tokens(daemon: Client, gateway: Any) -> None:
    result = await request(
        daemon, "ardaemon/chat", chat_params("gpt-5", maxTokens=77, temperature=1)
    )
    assert result["api"] == "openai"
    body = gateway.requests[-1].json
    assert body["max_completion_tokens"] == 77
    assert "max_tokens" not in body and "temperature" not in body


async def test_streaming_deltas_arrive_in_order_and_join_to_content(
    daemon: Client, gateway: Any
) -> None:
    # Chunks further apart than a display frame: each gets its own $/progress (closer
    # ones are joined, see test_coalesce.py).
    gateway.chunk_delay = 0.05
    for model in (CLAUDE, "glm-4.6"):
        token = f"tok-{model}"
        result = await request(
            daemon, "ardaemon/chat", chat_params(model, partialResultToken=token)
        )
        deltas = [v["delta"] for v in daemon.progress[token]]
        assert len(deltas) > 3, "a reply of many words arrives in several chunks"
        assert "".join(deltas) == result["content"]
        assert result["stopReason"] == "end_turn"
        assert result["usage"]["outputTokens"] > 0
        sent = gateway.requests[-1].json
        assert sent["stream"] is True
        if model == "glm-4.6":
            assert sent["stream_options"] == {"include_usage": True}


async def test_reasoning_is_never_returned_as_text(daemon: Client, gateway: Any) -> None:
    streamed = await request(
        daemon, "ardaemon/chat", chat_params("deepseek-r1", partialResultToken=1)
    )
    plain = await request(daemon, "ardaemon/chat", chat_params("deepseek-r1"))
    assert streamed["content"] == plain["content"]
    assert streamed["content"].startswith("Hello from deepseek-r1")
    assert "".join(v["delta"] for v in daemon.progress[1]) == streamed["content"]


async def test_gateway_catalog_endpoint_types_override_the_name_rule(
    daemon: Client, gateway: Any
) -> None:
    gateway.set_models(
        [
            {"id": "claude-via-openai", "supported_endpoint_types": ["openai"]},
            {"id": "glm-anthropic", "supported_endpoint_types": ["anthropic"]},
        ]
    )
    listed = await request(daemon, "ardaemon/listModels", {})
    assert {m["id"]: m["api"] for m in listed["models"]} == {
        "claude-via-openai": "openai",
        "glm-anthropic": "anthropic",
    }


async def test_base_url_with_v1_and_slash_is_normalised(home: Path, gateway: Any) -> None:
    env = isolated_env(
        home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url + "/v1/"
    )
    client = await start_daemon(env)
    try:
        await request(client, "ardaemon/chat", chat_params(CLAUDE))
        await request(client, "ardaemon/chat", chat_params("glm-4.6"))
        await request(client, "ardaemon/listModels", {})
        assert [r.path for r in gateway.requests] == [
            "/v1/messages",
            "/v1/chat/completions",
            "/v1/models",
        ]
    finally:
        await stop_daemon(client)


async def test_per_model_override_and_extra_headers(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    options = {
        "ardaemon": {"apiOverrides": {"glm-4.6": "anthropic"}, "headers": {"X-Team": "blue"}}
    }
    client = await start_daemon(env, init_options=options)
    try:
        result = await request(client, "ardaemon/chat", chat_params("glm-4.6"))
        assert result["api"] == "anthropic"
        assert gateway.requests[-1].path == "/v1/messages"
        assert gateway.requests[-1].headers["x-team"] == "blue"
    finally:
        await stop_daemon(client)


@pytest.mark.parametrize(
    ("provider", "env_var", "model", "path", "auth"),
    [
        ("openai", "OPENAI_API_KEY", "claude-x", "/v1/chat/completions", "authorization"),
        ("anthropic", "ANTHROPIC_API_KEY", "glm-4.6", "/v1/messages", "x-api-key"),
        (
            "openrouter",
            "OPENROUTER_API_KEY",
            "anthropic/claude-x",
            "/v1/chat/completions",
            "authorization",
        ),
    ],
)
async def test_other_providers_are_data(
    home: Path, gateway: Any, provider: str, env_var: str, model: str, path: str, auth: str
) -> None:
    env = isolated_env(home, **{env_var: TOKEN})
    options = {"provider": provider, "baseUrl": gateway.base_url}
    client = await start_daemon(env, init_options=options)
    try:
        await request(client, "ardaemon/chat", chat_params(model))
        sent = gateway.requests[-1]
        assert sent.path == path
        assert TOKEN in sent.headers[auth]
        if provider == "anthropic":
            assert "authorization" not in sent.headers
    finally:
        await stop_daemon(client)
