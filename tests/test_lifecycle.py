"""Start-up and exit: what an editor spawning `ardaemon serve` relies on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SERVER, Client, isolated_env, start_daemon, stop_daemon
from stdio import framed, initialize, replies, send, shut_down, spawned

pytestmark = pytest.mark.subprocess


async def test_initialize_advertises_contract(env: dict[str, str]) -> None:
    client = await start_daemon(env)
    try:
        assert client.init_result is not None
        assert client.init_result.capabilities.inline_completion_provider is not None
    finally:
        await stop_daemon(client)


def test_serve_stdio_answers_initialize_and_exits_on_shutdown(home: Path) -> None:
    # `--stdio` is what vscode-languageclient appends.
    with spawned(home, "--stdio") as proc:
        result = initialize(proc)["result"]
        assert result["serverInfo"]["name"] == "ardaemon" and result["serverInfo"]["version"]
        assert "inlineCompletionProvider" in result["capabilities"]
        shut_down(proc)
        send(proc, {"method": "exit"})
        assert proc.wait(10) == 0


def test_exits_when_stdin_closes(home: Path) -> None:
    with spawned(home) as proc:
        initialize(proc)
        assert proc.stdin
        proc.stdin.close()
        assert proc.wait(10) == 0
        assert proc.stdout and proc.stdout.read() == b"", "only protocol bytes on stdout"


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
    with spawned(home) as proc:
        initialize(proc)
        assert proc.stdin and proc.stdout
        body = b"{not json"
        proc.stdin.write(framed(body))
        send(
            proc,
            {"id": 2, "method": "ardaemon/nope", "params": {}},
            {"id": 3, "method": "ardaemon/chat", "params": {"messages": 1}},
        )
        answers = replies(proc, None, 2, 3)
        assert answers[None]["error"]["code"] == -32700  # JSON-RPC: parse error, id null
        assert answers[2]["error"]["code"] == -32601
        assert answers[3]["error"]["code"] == -32602
        proc.stdin.close()
        assert proc.wait(10) == 0
