"""`ardaemon/listModels` and `ardaemon/selectModel`: disk cache, staleness, persistence."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, request, start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException


def cache_files(home: Path) -> list[Path]:
    return sorted((home / "cache").glob("catalog-*.json"))


async def test_catalog_from_network_then_cache(daemon: Client, gateway: Any, home: Path) -> None:
    first = await request(daemon, "ardaemon/listModels", {})
    assert first["source"] == "network" and first["stale"] is False
    assert datetime.fromisoformat(first["fetchedAt"].replace("Z", "+00:00"))
    ids = [m["id"] for m in first["models"]]
    assert "glm-4.6" in ids and "claude-sonnet-4-5-20250929" in ids
    apis = {m["id"]: m["api"] for m in first["models"]}
    assert apis["claude-sonnet-4-5-20250929"] == "anthropic" and apis["glm-4.6"] == "openai"
    assert all(m["provider"] == "agent_router" for m in first["models"])
    assert len(cache_files(home)) == 1

    second = await request(daemon, "ardaemon/listModels", {})
    assert second["source"] == "cache" and second["models"] == first["models"]
    assert gateway.count("/v1/models") == 1, "a fresh cache makes no network call"

    forced = await request(daemon, "ardaemon/listModels", {"refresh": True})
    assert forced["source"] == "network"
    assert gateway.count("/v1/models") == 2


async def test_cache_survives_restart_without_network(env: dict[str, str], gateway: Any) -> None:
    client = await start_daemon(env)
    await request(client, "ardaemon/listModels", {})
    await stop_daemon(client)
    gateway.set_fault("drop")  # the network is gone now
    client = await start_daemon(env)
    try:
        again = await request(client, "ardaemon/listModels", {})
        assert again["source"] == "cache" and again["stale"] is False
        assert gateway.count("/v1/models") == 1
    finally:
        await stop_daemon(client)


async def test_stale_cache_served_when_upstream_fails(
    daemon: Client, gateway: Any, home: Path
) -> None:
    await request(daemon, "ardaemon/listModels", {})
    before = cache_files(home)[0].read_bytes()
    gateway.set_fault("server_error", status=503)
    stale = await request(daemon, "ardaemon/listModels", {"refresh": True})
    assert stale["stale"] is True and stale["source"] == "cache"
    assert "glm-4.6" in [m["id"] for m in stale["models"]]
    assert cache_files(home)[0].read_bytes() == before, "a failed refresh never touches the cache"


async def test_corrupt_cache_is_ignored_and_replaced(
    env: dict[str, str], gateway: Any, home: Path
) -> None:
    client = await start_daemon(env)
    await request(client, "ardaemon/listModels", {})
    await stop_daemon(client)
    (path,) = cache_files(home)
    path.write_text('{"provider": "agent_router", "models": [tru')
    client = await start_daemon(env)
    try:
        result = await request(client, "ardaemon/listModels", {})
        assert result["source"] == "network"
        assert json.loads(path.read_text())["models"], "replaced with a whole catalog"
    finally:
        await stop_daemon(client)


async def test_no_cache_and_no_upstream_is_a_clear_error(daemon: Client, gateway: Any) -> None:
    gateway.set_fault("server_error", status=500)
    with pytest.raises(JsonRpcException) as err:
        await request(daemon, "ardaemon/listModels", {})
    assert err.value.code == -32803
    assert err.value.data["kind"] == "upstream"


async def test_selection_persists_across_restart(env: dict[str, str], gateway: Any) -> None:
    client = await start_daemon(env)
    try:
        result = await request(
            client, "ardaemon/selectModel", {"model": "glm-4.6", "role": "completion"}
        )
        assert result["selected"]["completion"] == "glm-4.6"
        both = await request(client, "ardaemon/selectModel", {"model": "kimi-k2"})
        assert both["selected"] == {"completion": "kimi-k2", "chat": "kimi-k2"}
        chat = await request(
            client, "ardaemon/selectModel", {"model": "claude-opus-4-1-20250805", "role": "chat"}
        )
        assert chat["selected"] == {"completion": "kimi-k2", "chat": "claude-opus-4-1-20250805"}
    finally:
        await stop_daemon(client)
    client = await start_daemon(env)
    try:
        listed = await request(client, "ardaemon/listModels", {})
        assert listed["selected"] == {"completion": "kimi-k2", "chat": "claude-opus-4-1-20250805"}
        # The selection is what requests use when they name no model.
        reply = await request(
            client, "ardaemon/chat", {"messages": [{"role": "user", "content": "hi"}]}
        )
        assert reply["model"] == "claude-opus-4-1-20250805" and reply["api"] == "anthropic"
    finally:
        await stop_daemon(client)


async def test_unknown_model_names_close_matches(daemon: Client, gateway: Any) -> None:
    with pytest.raises(JsonRpcException) as err:
        await request(daemon, "ardaemon/selectModel", {"model": "claude-sonet-4-5-20250929"})
    assert err.value.code == -32602
    assert "claude-sonnet-4-5-20250929" in err.value.message
    # Still serving, selection untouched.
    listed = await request(daemon, "ardaemon/listModels", {})
    assert listed["selected"]["chat"] == "claude-sonnet-4-5-20250929"


async def test_bad_role_is_invalid_params(daemon: Client) -> None:
    with pytest.raises(JsonRpcException) as err:
        await request(daemon, "ardaemon/selectModel", {"model": "glm-4.6", "role": "both"})
    assert err.value.code == -32602 and "role" in err.value.message


async def test_selection_from_another_process_reaches_a_running_daemon(
    daemon: Client, env: dict[str, str]
) -> None:
    import subprocess
    import sys

    await request(daemon, "ardaemon/listModels", {})
    done = subprocess.run(
        [sys.executable, "-m", "ardaemon", "use", "kimi-k2", "--role", "chat"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = await request(daemon, "ardaemon/listModels", {})
    assert listed["selected"]["chat"] == "kimi-k2"


async def test_broken_catalog_body_still_serves_the_stale_cache(
    daemon: Client, gateway: Any
) -> None:
    await request(daemon, "ardaemon/listModels", {})
    gateway.set_fault("drop", after=0, paths=["/v1/models"])
    stale = await request(daemon, "ardaemon/listModels", {"refresh": True})
    assert stale["stale"] is True and stale["models"]


async def test_anthropic_provider_catalog_sends_its_version_header() -> None:
    import httpx

    from ardaemon import upstream
    from ardaemon.http import Http
    from ardaemon.providers import ProviderSpec

    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"data": [{"id": "claude-x", "type": "model"}]})

    http = Http(transport=httpx.MockTransport(handler))
    provider = ProviderSpec(
        name="anthropic",
        label="Anthropic",
        base_url="https://api.anthropic.example",
        api="anthropic",
        auth="x-api-key",
    )
    found = await upstream.list_models(
        http, provider, provider.base_url, "sk-ant-test", extra_headers={}, timeout=5
    )
    await http.aclose()
    assert found.ids == ["claude-x"]
    (sent,) = seen
    assert sent.url == "https://api.anthropic.example/v1/models"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"] == "sk-ant-test" and "authorization" not in sent.headers


@pytest.mark.parametrize("fetched_at", ["1e300", "-1e300", "1e20"])
async def test_an_impossible_fetched_at_is_never_fatal(
    env: dict[str, str], gateway: Any, home: Path, fetched_at: str
) -> None:
    client = await start_daemon(env)
    await request(client, "ardaemon/listModels", {})
    await stop_daemon(client)
    (path,) = cache_files(home)
    data = json.loads(path.read_text())
    text = json.dumps({**data, "fetched_at": 0}).replace(
        '"fetched_at": 0', f'"fetched_at": {fetched_at}'
    )
    path.write_text(text)
    gateway.set_fault("drop")  # the gateway is down: only the cache can answer
    client = await start_daemon(env)
    try:
        result = await request(client, "ardaemon/listModels", {})
        assert result["source"] == "cache" and result["stale"] is True
        assert "glm-4.6" in [m["id"] for m in result["models"]]
        assert datetime.fromisoformat(result["fetchedAt"].replace("Z", "+00:00"))
    finally:
        await stop_daemon(client)
