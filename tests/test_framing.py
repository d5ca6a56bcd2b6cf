"""Malformed frames and the JSON-RPC lifecycle over real stdio: never alive but deaf."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from stdio import answer, frame, framed, initialize, read_frame, replies, send, spawned

from ardaemon.transport import MAX_FRAME

pytestmark = pytest.mark.subprocess

BODY = b'{"jsonrpc":"2.0","id":99,"method":"x"}'
MALFORMED = {
    "non-numeric length": b"Content-Length: abc\r\n\r\n" + BODY,
    "negative length": b"Content-Length: -5\r\n\r\n" + BODY,
    "headers without CRLF CRLF": b"Content-Length: %d\r\n" % len(BODY) + BODY,
    "LF-only junk line": b"hello\n",
    "length 10^11": b"Content-Length: 100000000000\r\n\r\n" + BODY,
    "length 10^20": b"Content-Length: 100000000000000000000\r\n\r\n" + BODY,
    "one byte over the cap": b"Content-Length: %d\r\n\r\n" % (MAX_FRAME + 1) + BODY,
    "header line over 8 KiB": b"X-Junk: " + b"a" * 20000 + b"\r\n\r\n",
    "binary junk": bytes(range(256)) * 4,
}


def ask(proc: subprocess.Popen[bytes], msg_id: int, before: bytes = b"") -> dict[str, Any]:
    assert proc.stdin and proc.stdout
    request = {"jsonrpc": "2.0", "id": msg_id, "method": "ardaemon/nope", "params": {}}
    proc.stdin.write(before + frame(request))
    proc.stdin.flush()
    while "id" not in (msg := read_frame(proc.stdout)) or msg["id"] == 99:
        pass
    return msg


def test_daemon_resynchronises_after_each_malformed_frame(home: Path) -> None:
    with spawned(home) as proc:
        initialize(proc)
        for n, (case, junk) in enumerate(MALFORMED.items(), start=2):
            answer = ask(proc, n, junk)
            assert answer["id"] == n, f"{case}: answer went to {answer['id']}"
            assert answer["error"]["code"] == -32601, case
        # Header names are case-insensitive, as in HTTP.
        body = json.dumps({"jsonrpc": "2.0", "id": 50, "method": "ardaemon/nope"}).encode()
        answer = ask(proc, 51, b"content-LENGTH: %d\r\n\r\n%s" % (len(body), body))
        assert proc.stdout
        assert answer["id"] == 50
        assert read_frame(proc.stdout)["id"] == 51
        assert proc.stdin
        proc.stdin.close()
        assert proc.wait(10) == 0
        log = (home / "state" / "ardaemon.log").read_text()
        assert f"over the {MAX_FRAME}-byte cap" in log
        assert "resynchronising on the next header" in log
        assert proc.stderr and b"Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("shutdown, code", [(True, 0), (False, 1)])
def test_exit_code_follows_shutdown(home: Path, shutdown: bool, code: int) -> None:
    with spawned(home) as proc:
        initialize(proc)
        if shutdown:
            send(proc, {"id": 2, "method": "shutdown"})
            assert answer(proc, 2)["result"] is None
            send(proc, {"id": 3, "method": "ardaemon/listModels"})
            late = answer(proc, 3)["error"]
            assert late["code"] == -32600 and "shut down" in late["message"]
        send(proc, {"method": "exit"})
        assert proc.wait(10) == code


def test_envelope_errors_and_a_second_initialize(home: Path) -> None:
    with spawned(home) as proc:
        initialize(proc)
        assert proc.stdin
        for body in (b"{not json", b"[1]", b'{"jsonrpc":"2.0","id":[1],"method":"shutdown"}'):
            proc.stdin.write(framed(body))
        send(proc, {"id": 7, "method": "initialize", "params": {"capabilities": {}}})
        codes = [answer(proc, None)["error"]["code"] for _ in range(3)]
        assert codes == [-32700, -32600, -32600]
        assert answer(proc, 7)["error"]["code"] == -32600
        send(
            proc,
            {"id": 8, "method": "ardaemon/selectModel", "params": {"model": "\ud800"}},
            {"id": 9, "method": "ardaemon/selectModel", "params": {"model": "m" * 10**6}},
            {
                "id": 10,
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": "file:///a"},
                    "position": {"line": 0, "character": 0},
                    "context": {"triggerKind": 3},
                },
            },
        )
        # Answers need not come in request order (10 is refused on arrival, 9 runs first).
        got = replies(proc, 8, 9, 10)
        surrogate = got[8]["error"]
        assert surrogate["code"] == -32602 and "`params.model`" in surrogate["message"]
        long_id = got[9]["error"]
        assert len(json.dumps(long_id)) < 1000, "a 1 MB model id is not echoed back"
        trigger = got[10]["error"]
        assert trigger["code"] == -32602 and "`params.context.triggerKind`" in trigger["message"]
        send(
            proc,
            {
                "id": 11,
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": "file:///a"},
                    "position": {"line": -1, "character": 0},
                    "context": {"triggerKind": 1},
                },
            },
        )
        negative = answer(proc, 11)["error"]
        assert negative["code"] == -32602 and "line" in negative["message"], negative
        for err in (surrogate, long_id, trigger, negative):
            assert "traceback" not in json.dumps(err) and ".py" not in err["message"]


def test_requests_before_initialize_are_refused(home: Path) -> None:
    with spawned(home) as proc:
        send(proc, {"id": 1, "method": "ardaemon/listModels"})
        assert answer(proc, 1)["error"]["code"] == -32002


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_on_a_signal(home: Path, sig: signal.Signals) -> None:
    with spawned(home) as proc:
        initialize(proc)
        proc.send_signal(sig)  # the first Ctrl-C in a terminal, or the editor's stop
        assert proc.wait(10) == 0
        assert proc.stderr and proc.stderr.read() == b"", "no traceback, no abort message"
