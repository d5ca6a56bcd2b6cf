"""Shared fixtures: a gateway stand-in, an isolated daemon environment, a stdio client."""

from __future__ import annotations

import _posixsubprocess
import asyncio
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

TOKEN = "sk-test-0123456789abcdef"
SERVER = [sys.executable, "-m", "ardaemon", "serve"]
ROOT = Path(__file__).resolve().parent.parent


def documented_kinds() -> tuple[str, ...]:
    """`data.kind` of RequestFailed as docs/protocol.md lists them, in its order."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    start = text.index("with `data.kind` one of:")
    bullet = text[start : text.index("\n- ", start)]
    return tuple(re.findall(r"`([a-z_]+)`", bullet))


@pytest.fixture
def gateway() -> Iterator[Any]:
    from ardaemon.gateway import Gateway

    with Gateway(token=TOKEN) as gw:
        yield gw


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The daemon's environment: its own ARDAEMON_HOME, no keyring, no provider variables
    (tokens, base URLs) unless given."""
    from ardaemon.gateway import isolated_env as base

    return base(home, **{"ARDAEMON_LOG_LEVEL": "DEBUG", **extra})


def upstream(gateway: Any) -> int:
    """Requests the stand-in got on its model endpoints (the catalog not counted)."""
    return gateway.count("/v1/chat/completions") + gateway.count("/v1/messages")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """`ARDAEMON_HOME` of a daemon started with `isolated_env(home)`: its files are in
    `home/config`, `home/cache`, `home/state` (no `ardaemon/` below them, unlike XDG)."""
    home = tmp_path / "home"
    yield home
    xdg = [d for d in ("config", "cache", "state") if (home / d / "ardaemon").exists()]
    assert not xdg, (
        f"{home}/{xdg[0]}/ardaemon exists: the daemon's home is ARDAEMON_HOME={home}, so its "
        f"files are {home}/{xdg[0]}/… (config.toml, usage.jsonl), not under an ardaemon/ dir"
    )


@pytest.fixture
def env(home: Path, gateway: Any) -> dict[str, str]:
    return isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)


class Client(LanguageClient):
    """A test editor: records `$/progress` values and status notifications in order."""

    def __init__(self) -> None:
        super().__init__(converter_factory=default_converter)
        self.progress: dict[str | int, list[Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.init_result: types.InitializeResult | None = None


def make_client() -> Client:
    client = Client()
    # pytest-lsp's own $/progress handler only accepts work-done values.
    features = {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k != types.PROGRESS}
    register_lsp_features(client, features)

    @client.feature(types.PROGRESS)
    def on_progress(ls: Client, params: Any) -> None:
        ls.progress.setdefault(params.token, []).append(params.value)

    @client.feature("ardaemon/didChangeStatus")
    def on_status(ls: Client, params: Any) -> None:
        ls.statuses.append(as_dict(params))

    return client


def as_dict(obj: Any) -> Any:
    """pygls hands custom payloads over as namedtuple-like objects; tests want dicts."""
    from ardaemon.protocol import to_builtins

    return to_builtins(obj)


async def start_daemon(
    env: dict[str, str], init_options: Any = None, process_id: int | None = None
) -> Client:
    config = ClientServerConfig(server_command=SERVER, server_env=env, client_factory=make_client)
    client: Client = await config.start()  # type: ignore[assignment]
    client.init_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options=init_options,
            process_id=process_id,
        )
    )
    return client


async def request(client: Client, method: str, params: Any) -> Any:
    return as_dict(await client.protocol.send_request_async(method, params))


@pytest_asyncio.fixture
async def daemon(env: dict[str, str]) -> AsyncIterator[Client]:
    client = await start_daemon(env)
    yield client
    await stop_daemon(client)


async def stop_daemon(client: Client) -> None:
    try:
        await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        await client.stop()


#: Fixtures that start a real process or server: the daemon over stdio, the gateway
#: stand-in, the CLI, Neovim. Tests using them are marked `subprocess`; the rest is the
#: in-process unit layer that `scripts/check` runs in seconds.
PROCESS_FIXTURES = frozenset(
    {
        "gateway",
        "gw",
        "daemon",
        "env",
        "plain_env",
        "cli",
        "keyring_env",
        "nvim_gateway",
        "lua_protocol",
        "tls_server",
        "not_a_gateway",
    }
)


#: A module marked `subprocess` as a whole (`pytestmark = ...subprocess...`).
WHOLE_MODULE = re.compile(r"^pytestmark = .*\bpytest\.mark\.subprocess\b", re.M)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The unit layer (`-m "not subprocess"`) does not even import the modules marked
    `subprocess` as a whole: test_gateway_sdk alone imports openai and anthropic, seconds."""
    if (
        config.option.markexpr.strip() == "not subprocess"
        and collection_path.name.startswith("test_")
        and collection_path.suffix == ".py"
        and WHOLE_MODULE.search(collection_path.read_text(encoding="utf-8"))
    ):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.subprocess)


def _refuse(what: str) -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(
            f"{what} in a test not marked `subprocess`: mark it (pytestmark or a process"
            " fixture in conftest.PROCESS_FIXTURES), or keep the unit layer in process"
        )

    return refused


@pytest.fixture(autouse=True)
def _unit_layer_stays_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked `subprocess` may not start a process or touch the network: the
    marking is checked, not trusted, so `scripts/check` stays in-process and fast."""
    if request.node.get_closest_marker("subprocess"):
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess.Popen, "_execute_child", _refuse("starting a process"))
        mp.setattr(_posixsubprocess, "fork_exec", _refuse("starting a process"))
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
            if hasattr(os, name):
                mp.setattr(os, name, _refuse("starting a process"))
        for name in ("bind", "connect", "connect_ex"):
            mp.setattr(socket.socket, name, _inet_only(getattr(socket.socket, name), name))
        yield


def _inet_only(method: Any, name: str) -> Any:
    def guarded(sock: socket.socket, *args: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            _refuse(f"socket {name} (real network)")()
        return method(sock, *args)

    return guarded


@pytest.fixture
def not_a_gateway() -> Iterator[str]:
    """A server that answers every POST with an HTML page (a captive portal, a wrong URL)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>captive portal</html>")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
