"""Settings from every layer reach requests; bad settings warn and never break the daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, Client, isolated_env, request, start_daemon, stop_daemon
from lsprotocol import types

pytestmark = pytest.mark.subprocess

HI = [{"role": "user", "content": "hi"}]


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_bad_settings_warn_and_are_ignored(env: dict[str, str], gateway: Any) -> None:
    options = {
        "ardaemon": {
            "models": {"chat": "kimi-k2", "colour": "red"},
            "requestTimeout": "soon",
            "completion": {"maxTokens": 64},
            "surprise": True,
        }
    }
    client = await start_daemon(env, init_options=options)
    try:
        await wait_for(lambda: len(client.messages) >= 3)
        text = "\n".join(m.message for m in client.messages)
        assert all(m.type == types.MessageType.Warning for m in client.messages)
        assert "models.colour" in text and "requestTimeout" in text and "surprise" in text
        # The good parts of the same object still apply.
        reply = await request(client, "ardaemon/chat", {"messages": HI})
        assert reply["model"] == "kimi-k2"
    finally:
        await stop_daemon(client)


async def test_user_config_file_then_editor_then_environment(home: Path, gateway: Any) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        'base_url = "http://127.0.0.1:9"\n'
        '[models]\nchat = "glm-4.6"\ncompletion = "kimi-k2"\n'
        '[headers]\nX-From-File = "yes"\n'
    )
    # The environment's base URL wins over the file's unreachable one.
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env, init_options={"models": {"chat": "claude-opus-4-1-20250805"}})
    try:
        reply = await request(client, "ardaemon/chat", {"messages": HI})
        assert reply["model"] == "claude-opus-4-1-20250805", "editor options beat the file"
        assert gateway.requests[-1].headers["x-from-file"] == "yes"
        listed = await request(client, "ardaemon/listModels", {})
        assert listed["selected"]["completion"] == "kimi-k2"
    finally:
        await stop_daemon(client)


async def test_broken_config_file_is_reported_not_fatal(home: Path, gateway: Any) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("models = [unclosed\n")
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env)
    try:
        await wait_for(lambda: client.messages)
        assert "not valid TOML" in client.messages[0].message
        assert (await request(client, "ardaemon/chat", {"messages": HI}))["content"]
    finally:
        await stop_daemon(client)


async def test_did_change_configuration_applies_without_restart(
    daemon: Client, gateway: Any
) -> None:
    daemon.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"ardaemon": {"models": {"chat": "glm-4.6"}, "headers": {"X-Later": "1"}}}
        )
    )
    await wait_for(lambda: True)
    reply = await request(daemon, "ardaemon/chat", {"messages": HI})
    assert reply["model"] == "glm-4.6"
    assert gateway.requests[-1].headers["x-later"] == "1"
    listed = await request(daemon, "ardaemon/listModels", {})
    assert listed["selected"]["chat"] == "glm-4.6"


async def test_empty_push_pulls_workspace_configuration(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    from conftest import SERVER, ClientServerConfig, make_client

    client = make_client()
    client.set_configuration({"models": {"chat": "kimi-k2"}}, section="ardaemon")
    config = ClientServerConfig(
        server_command=SERVER, server_env=env, client_factory=lambda: client
    )
    await config.start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(configuration=True)
            )
        )
    )
    try:
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        # No pause: a request sent after the change is served with the pulled settings.
        reply = await request(client, "ardaemon/chat", {"messages": HI})
        assert reply["model"] == "kimi-k2"
    finally:
        await stop_daemon(client)


async def test_settings_models_are_a_choice_only_when_they_change(
    env: dict[str, str], gateway: Any
) -> None:
    async def chat_model(options: dict[str, Any]) -> tuple[str, Client]:
        client = await start_daemon(env, init_options=options)
        reply = await request(client, "ardaemon/chat", {"messages": HI})
        return reply["model"], client

    model, client = await chat_model({"models": {"chat": "glm-4.6"}})
    assert model == "glm-4.6"
    await request(client, "ardaemon/selectModel", {"model": "kimi-k2", "role": "chat"})
    await stop_daemon(client)
    # Same settings on the next start: the later pick in the editor stands.
    model, client = await chat_model({"models": {"chat": "glm-4.6"}})
    assert model == "kimi-k2"
    await stop_daemon(client)
    # Settings changed while the editor was closed: that is the newer choice.
    model, client = await chat_model({"models": {"chat": "deepseek-v3.2"}})
    assert model == "deepseek-v3.2"
    await stop_daemon(client)
