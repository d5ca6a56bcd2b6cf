"""`ardaemon login` reaches a daemon that is already running: no restart needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, start_daemon, stop_daemon
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.subprocess


async def test_running_daemon_picks_up_a_login(home: Path, gateway: Any) -> None:
    env = isolated_env(home, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_daemon(env)
    try:
        with pytest.raises(JsonRpcException) as err:
            await request(client, "ardaemon/listModels", {})
        assert err.value.data["kind"] == "auth"
        assert "ardaemon login" in err.value.message

        login = subprocess.run(
            [sys.executable, "-m", "ardaemon", "login", "--token-stdin"],
            input=TOKEN,
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert login.returncode == 0, login.stderr

        result = await request(client, "ardaemon/listModels", {"refresh": True})
        assert result["source"] == "network" and result["models"]
        chat = await request(
            client, "ardaemon/chat", {"messages": [{"role": "user", "content": "hi"}]}
        )
        assert chat["content"].startswith("Hello from")
        assert gateway.requests[-1].headers.get("x-api-key") == TOKEN
    finally:
        await stop_daemon(client)
    for path in home.rglob("*"):
        if path.is_file() and path.name != "credentials.json":
            assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in login.stdout + login.stderr
