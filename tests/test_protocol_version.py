"""The contract's version at `initialize`: the daemon announces it and names the side to update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stdio import initialize, shut_down, spawned

from ardaemon import __version__
from ardaemon.protocol import PROTOCOL_VERSION, peer_protocol_version, protocol_mismatch

pytestmark = pytest.mark.subprocess


def initialize_with(home: Path, experimental: Any) -> tuple[dict[str, Any], str]:
    """The initialize result, and the daemon's window/logMessage lines up to `shutdown`."""
    with spawned(home) as proc:
        caps = {} if experimental is None else {"experimental": experimental}
        result = initialize(proc, capabilities=caps)["result"]
        before: list[dict[str, Any]] = []
        shut_down(proc, skipped=before)
        logged = [m["params"]["message"] for m in before if m.get("method") == "window/logMessage"]
        assert proc.stdin
        proc.stdin.close()
        assert proc.wait(10) == 0
        return result, "\n".join(logged)


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
