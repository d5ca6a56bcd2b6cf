"""Hardening over real stdio: honest identity, total deadlines, the settings trust boundary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from editor import inline, open_doc
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ardaemon import __version__

pytestmark = pytest.mark.subprocess


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
        # A per-byte deadline would keep it pending for minutes: wait_for fails the test
        # then. No tighter wall-clock bound: the machine running the suite is shared.
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(client.protocol.send_request_async(method, params), 30)
        assert err.value.data["kind"] == "timeout"
        assert f"`ardaemon.{setting}`" in err.value.message
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


async def test_editor_settings_cannot_send_the_token_to_a_remote_base_url(
    home: Path, gateway: Any
) -> None:
    # The user's own config.toml names the gateway; the editor (a project's .nvim.lua, a
    # workspace) names a remote host and a credential header. `.invalid` never resolves, so
    # even a regression reaches no host.
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'base_url = "{gateway.base_url}"\n')
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN)
    hostile = {
        "baseUrl": "https://collector.invalid/v1",
        "headers": {"Authorization": "Bearer attacker", "X-Team": "blue"},
    }
    client = await start_daemon(env, init_options=hostile)
    try:
        models = await request(client, "ardaemon/listModels", {"refresh": True})
        shown = " ".join(m.message for m in client.messages)
    finally:
        await stop_daemon(client)
    assert models["models"], "the catalog came from the gateway config.toml names"
    seen = gateway.requests[-1].headers
    assert seen.get("authorization") == f"Bearer {TOKEN}", "the user's own token, not the editor's"
    assert seen.get("x-team") == "blue", "ordinary headers from the editor still go"
    assert "'baseUrl'" in shown and "config.toml" in shown
    assert "Authorization" in shown and "ignored" in shown


async def test_editor_settings_may_point_at_this_machine(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN)
    client = await start_daemon(env, init_options={"baseUrl": gateway.base_url})
    try:
        models = await request(client, "ardaemon/listModels", {"refresh": True})
    finally:
        await stop_daemon(client)
    assert models["models"] and gateway.requests


SECRET = "AKIA-very-secret-value-42"


async def test_secret_files_are_never_sent_for_completion(
    env: dict[str, str], gateway: Any
) -> None:
    client = await start_daemon(env, init_options={"completion": {"exclude": ["*.secret.py"]}})
    try:
        await request(client, "ardaemon/selectModel", {"model": "glm-4.6"})
        for name in (".env", "deploy.pem", "conf.secret.py"):
            open_doc(client, f"TOKEN = '{SECRET}'\n", f"file:///w/{name}")
        open_doc(client, "import os\n\n", "file:///w/app.py")
        for _ in range(2):
            for name in (".env", "deploy.pem", "conf.secret.py"):
                answer = await inline(client, 0, 0, uri=f"file:///w/{name}")
                assert answer is None, name
        with pytest.raises(JsonRpcException) as err:
            await request(
                client,
                "ardaemon/complete",
                {
                    "textDocument": {"uri": "file:///w/.env"},
                    "position": {"line": 0, "character": 0},
                },
            )
        assert "off for this file" in err.value.message and "`.env`" in err.value.message
        # Another file of the same language is completed, without the secret files as context.
        answer = await inline(client, 1, 0, uri="file:///w/app.py")
        assert answer is not None
        offs = [s for s in client.statuses if "off for this file" in (s.get("message") or "")]
    finally:
        await stop_daemon(client)
    completions = [r for r in gateway.requests if r.path == "/v1/chat/completions"]
    assert completions, "the ordinary file was completed"
    assert all(SECRET not in json.dumps(r.json) for r in gateway.requests)
    assert len(offs) == 3, "said once per file, not per keystroke"


async def test_oversized_documents_are_refused_and_memory_comes_back(
    env: dict[str, str], gateway: Any
) -> None:
    client = await start_daemon(env)
    pid = client._server.pid  # type: ignore[attr-defined]
    try:
        await request(client, "ardaemon/listModels", {})
        before = _rss_mb(pid)
        big = ("x = 1  # " + "y" * 90 + "\n") * 100_000  # 10 MB
        open_doc(client, big, "file:///w/big.py")
        await request(client, "ardaemon/listModels", {})  # the open has been handled
        said_at_open = [s for s in client.statuses if "off for this file" in str(s)]
        assert said_at_open, "the status says so when the document is opened"
        assert await inline(client, 0, 0, uri="file:///w/big.py") is None
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier("file:///w/big.py"))
        )
        await request(client, "ardaemon/listModels", {})  # the close has been handled
        await asyncio.sleep(0.2)
        after = _rss_mb(pid)
        offs = [s["message"] for s in client.statuses if "off for this file" in str(s)]
    finally:
        await stop_daemon(client)
    print(f"\nRSS: {before:.0f} MB before, {after:.0f} MB after a 10 MB document was closed")
    assert offs and "completion.maxDocumentSize" in offs[0]
    assert after - before < 40, f"RSS grew from {before:.0f} to {after:.0f} MB"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_the_daemon_warns_about_a_credentials_file_readable_by_others(
    home: Path, gateway: Any
) -> None:
    from ardaemon.credentials import _file_set
    from ardaemon.paths import Paths

    env = isolated_env(home, AGENTROUTER_BASE_URL=gateway.base_url)
    paths = Paths(home / "config", home / "cache", home / "state")
    _file_set(paths, "agent_router", TOKEN)
    paths.credentials_file.chmod(0o640)
    client = await start_daemon(env)
    try:
        await request(client, "ardaemon/listModels", {})
        shown = " ".join(m.message for m in client.messages)
    finally:
        await stop_daemon(client)
    assert "mode 0640" in shown and "chmod 600" in shown
