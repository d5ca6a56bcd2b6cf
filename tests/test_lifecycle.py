"""Start-up and exit: what an editor spawning `ardaemon serve` relies on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SERVER, Client, isolated_env, start_daemon, stop_daemon

pytestmark = pytest.mark.subprocess


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
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


def spawn(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*SERVER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=isolated_env(home),
    )


def initialize(proc: subprocess.Popen[bytes], pid: int | None = None) -> dict[str, Any]:
    assert proc.stdin and proc.stdout
    params = {"processId": pid, "rootUri": None, "capabilities": {}}
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}))
    proc.stdin.flush()
    return read_frame(proc.stdout)


async def test_initialize_advertises_contract(env: dict[str, str]) -> None:
    client = await start_daemon(env)
    try:
        assert client.init_result is not None
        assert client.init_result.capabilities.inline_completion_provider is not None
    finally:
        await stop_daemon(client)


def test_serve_stdio_answers_initialize_and_exits_on_shutdown(home: Path) -> None:
    # `--stdio` is what vscode-languageclient appends.
    proc = spawn(home, "--stdio")
    try:
        answer = initialize(proc)
        info = answer["result"]["serverInfo"]
        assert info["name"] == "ardaemon" and info["version"]
        assert "inlineCompletionProvider" in answer["result"]["capabilities"]
        assert proc.stdin and proc.stdout
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        proc.stdin.flush()
        while (msg := read_frame(proc.stdout)).get("id") != 2:
            pass
        assert msg["result"] is None
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_exits_when_stdin_closes(home: Path) -> None:
    proc = spawn(home)
    try:
        initialize(proc)
        assert proc.stdin
        proc.stdin.close()
        assert proc.wait(10) == 0
        assert proc.stdout and proc.stdout.read() == b"", "only protocol bytes on stdout"
    finally:
        proc.kill()
        proc.wait()


def test_exits_when_editor_process_dies(home: Path, tmp_path: Path) -> None:
    # A stand-in editor: it spawns the daemon with its own pid, then dies without a word.
    pid_file = tmp_path / "daemon.pid"
    editor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time\n"
            f"p = subprocess.Popen({SERVER!r}, stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
            "import json\n"
            "body = json.dumps({'jsonrpc': '2.0', 'id': 1, 'method': 'initialize',"
            " 'params': {'processId': os.getpid(), 'capabilities': {}}}).encode()\n"
            "p.stdin.write(b'Content-Length: %d\\r\\n\\r\\n' % len(body) + body); p.stdin.flush()\n"
            "p.stdout.readline()\n"
            "time.sleep(60)\n",
        ],
        env=isolated_env(home),
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        daemon_pid = int(pid_file.read_text())
        time.sleep(0.5)  # let the daemon answer initialize and start watching
        editor.send_signal(signal.SIGKILL)
        editor.wait()
        # The editor's death closes the daemon's stdin and ends its pid: gone in seconds.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(daemon_pid):
            time.sleep(0.1)
        assert not _running(daemon_pid), "daemon outlived its editor"
    finally:
        editor.kill()
        editor.wait()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_exits_on_parent_death_even_with_stdin_open(home: Path) -> None:
    # Editors that crash can leave the pipe open (another child inherited it); the
    # processId watch is what ends the daemon then.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    client: Client = await start_daemon(isolated_env(home), process_id=sleeper.pid)
    try:
        server = client._server  # type: ignore[attr-defined]
        sleeper.kill()
        sleeper.wait()
        deadline = time.monotonic() + 10
        while server.returncode is None and time.monotonic() < deadline:
            await _sleep(0.1)
        assert server.returncode == 0
    finally:
        await client.stop()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def test_garbage_and_unknown_methods_do_not_stop_the_daemon(home: Path) -> None:
    proc = spawn(home)
    try:
        initialize(proc)
        assert proc.stdin and proc.stdout
        body = b"{not json"
        proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        proc.stdin.write(
            frame({"jsonrpc": "2.0", "id": 2, "method": "ardaemon/nope", "params": {}})
        )
        proc.stdin.write(
            frame({"jsonrpc": "2.0", "id": 3, "method": "ardaemon/chat", "params": {"messages": 1}})
        )
        proc.stdin.flush()
        answers = {}
        while len(answers) < 3:
            msg = read_frame(proc.stdout)
            if "id" in msg:
                answers[msg["id"]] = msg
        assert answers[None]["error"]["code"] == -32700  # JSON-RPC: parse error, id null
        assert answers[2]["error"]["code"] == -32601
        assert answers[3]["error"]["code"] == -32602
        proc.stdin.close()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
