"""The daemon as an editor spawns it, over raw stdio: LSP base-protocol frames written and
read by hand, for what pytest-lsp's client never sends (malformed frames and envelopes,
exit codes, requests before `initialize`)."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import SERVER, isolated_env

Process = subprocess.Popen[bytes]


def frame(message: dict[str, Any]) -> bytes:
    return framed(json.dumps(message).encode())


def framed(body: bytes) -> bytes:
    """`body` as one frame, whatever it holds (junk too)."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_frame(stream: Any) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        assert line, "daemon closed stdout"
        if line == b"\r\n":
            break
        name, _, value = line.decode().partition(":")
        assert name.lower() in ("content-length", "content-type"), f"not a header: {line!r}"
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))  # type: ignore[no-any-return]


def spawn(home: Path, *args: str, **env: str) -> Process:
    """`ardaemon serve [args]` with its own XDG dirs under `home`, and `env` added."""
    return subprocess.Popen(
        [*SERVER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=isolated_env(home, **env),
    )


@contextlib.contextmanager
def spawned(home: Path, *args: str, **env: str) -> Iterator[Process]:
    """`spawn`, and the process gone however the test ends."""
    proc = spawn(home, *args, **env)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def send(proc: Process, *messages: dict[str, Any]) -> None:
    """Write each message as one frame (`"jsonrpc": "2.0"` unless it says otherwise)."""
    assert proc.stdin
    for message in messages:
        proc.stdin.write(frame({"jsonrpc": "2.0", **message}))
    proc.stdin.flush()


def answer(
    proc: Process, msg_id: Any, skipped: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The reply to `msg_id` (None: an error for an unreadable request); the messages read
    before it (notifications, other replies) go to `skipped`."""
    assert proc.stdout
    while (msg := read_frame(proc.stdout)).get("id", "-") != msg_id or "method" in msg:
        if skipped is not None:
            skipped.append(msg)
    return msg


def replies(proc: Process, *ids: Any) -> dict[Any, dict[str, Any]]:
    """The replies to `ids`, in whatever order the daemon sends them."""
    assert proc.stdout
    got: dict[Any, dict[str, Any]] = {}
    while not set(ids) <= got.keys():
        msg = read_frame(proc.stdout)
        if "id" in msg and "method" not in msg:
            got[msg["id"]] = msg
    return got


def initialize(
    proc: Process, pid: int | None = None, capabilities: dict[str, Any] | None = None
) -> dict[str, Any]:
    params = {"processId": pid, "rootUri": None, "capabilities": capabilities or {}}
    send(proc, {"id": 1, "method": "initialize", "params": params})
    return answer(proc, 1)


def shut_down(proc: Process, skipped: list[dict[str, Any]] | None = None) -> None:
    """`initialized`, then `shutdown` and its empty reply, as an editor closing down."""
    send(proc, {"method": "initialized", "params": {}}, {"id": 2, "method": "shutdown"})
    assert answer(proc, 2, skipped)["result"] is None
