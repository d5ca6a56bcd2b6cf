"""The contract's version at `initialize`: the daemon announces it and names the side to update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_lifecycle import frame, read_frame, spawn

from ardaemon import __version__
from ardaemon.protocol import PROTOCOL_VERSION, peer_protocol_version, protocol_mismatch

pytestmark = pytest.mark.subprocess


def initialize_with(home: Path, experimental: Any) -> tuple[dict[str, Any], str]:
    """The initialize result, and the daemon's window/logMessage lines up to `shutdown`."""
    proc = spawn(home)
    try:
        assert proc.stdin and proc.stdout
        caps = {} if experimental is None else {"experimental": experimental}
        params = {"processId": None, "rootUri": None, "capabilities": caps}
        proc.stdin.write(
            frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        )
        proc.stdin.flush()
        answer = read_frame(proc.stdout)
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        proc.stdin.flush()
        logged = []
        while (msg := read_frame(proc.stdout)).get("id") != 2:
            if msg.get("method") == "window/logMessage":
                logged.append(msg["params"]["message"])
        proc.stdin.close()
        assert proc.wait(10) == 0
        return answer["result"], "\n".join(logged)
    finally:
        proc.kill()
        proc.wait()


def test_initialize_announces_the_protocol_version(home: Path) -> None:
    result, logged = initialize_with(home, {"ardaemon": {"protocolVersion": PROTOCOL_VERSION}})
    assert result["capabilities"]["experimental"] == {
        "ardaemon": {"protocolVersion": PROTOCOL_VERSION}
    }
    assert result["serverInfo"] == {"name": "ardaemon", "version": __version__}
    assert "protocol" not in logged


def test_a_newer_client_is_told_to_update_the_daemon(home: Path) -> None:
    _, logged = initialize_with(home, {"ardaemon": {"protocolVersion": PROTOCOL_VERSION + 1}})
    assert f"speaks ardaemon protocol {PROTOCOL_VERSION + 1}" in logged
    assert "update the daemon" in logged


def test_an_older_client_is_told_to_update_itself(home: Path) -> None:
    _, logged = initialize_with(home, {"ardaemon": {"protocolVersion": PROTOCOL_VERSION - 1}})
    assert "update the editor extension/plugin" in logged


@pytest.mark.parametrize(
    "experimental",
    [
        None,
        {},
        {"ardaemon": "x"},
        {"ardaemon": {"protocolVersion": "1"}},
        {"ardaemon": {"protocolVersion": True}},
    ],
)
def test_clients_without_a_version_are_not_judged(experimental: Any) -> None:
    assert peer_protocol_version(experimental) is None
    assert protocol_mismatch(peer_protocol_version(experimental), "0") is None
