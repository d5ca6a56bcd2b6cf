"""What the request path remembers between requests (to cost less per request) follows
the changes that make it stale: workspace folders, settings, a removed state directory,
the exclusion globs. In process; each test fails if its cache ignores the change."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ardaemon import usage
from ardaemon.completion.guard import excluded_by
from ardaemon.config import build_settings
from ardaemon.dispatch import Dispatch
from ardaemon.jsonrpc import StrictProtocol
from ardaemon.workspace import OpenDocuments


def folder(uri: str) -> SimpleNamespace:
    return SimpleNamespace(uri=uri)


def test_a_documents_folder_follows_the_workspace_folders(tmp_path: Path) -> None:
    outer, inner = tmp_path / "repo", tmp_path / "repo" / "pkg"
    doc = (inner / "main.py").as_uri()
    workspace = SimpleNamespace(folders={outer.as_uri(): folder(outer.as_uri())}, root_path=None)
    docs = OpenDocuments(SimpleNamespace(workspace=workspace))  # type: ignore[arg-type]
    assert docs.folder(doc) == outer
    assert docs.folder(doc) == outer  # remembered
    workspace.folders[inner.as_uri()] = folder(inner.as_uri())  # didChangeWorkspaceFolders
    assert docs.folder(doc) == inner
    workspace.folders.clear()
    assert docs.folder(doc) is None
    workspace.root_path = str(outer)  # no folders: the root stands in
    assert docs.folder(doc) == outer


def test_the_providers_table_follows_a_settings_change() -> None:
    dispatch = Dispatch(None, None, None, None, None)  # type: ignore[arg-type]
    plain = build_settings([{}])
    assert "mine" not in dispatch._providers(plain)
    mine = {"providers": {"mine": {"base_url": "http://127.0.0.1:1", "api": "openai"}}}
    changed = build_settings([mine])
    assert dispatch._providers(changed)["mine"].base_url == "http://127.0.0.1:1"
    assert dispatch._providers(changed) is dispatch._providers(changed)  # made once
    assert "mine" not in dispatch._providers(plain)


def test_exclusion_answers_follow_the_globs() -> None:
    uri = "file:///w/notes/secret.txt"
    assert excluded_by(uri, []) is None
    assert excluded_by(uri, ["secret.*"]) == "secret.*"
    assert excluded_by(uri, ["*.md"]) is None
    assert excluded_by("file:///w/.env", []) == ".env"


def record(n: int) -> usage.Record:
    return usage.Record(
        ts=float(n),
        provider="p",
        model="m",
        api="openai",
        purpose="completion",
        outcome="ok",
        latency_ms=1,
    )


def test_the_ledger_comes_back_when_its_directory_is_removed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ledger = usage.Ledger(state)
    ledger.append(record(1))
    ledger.path.unlink()
    state.rmdir()  # removed while the daemon runs (a clean-up, a new state dir)
    ledger.append(record(2))
    assert [json.loads(line)["ts"] for line in ledger.path.read_text().splitlines()] == [2.0]


def frames(protocol: StrictProtocol) -> list[Any]:
    out: list[Any] = []
    protocol.set_writer(SimpleNamespace(write=lambda data, *_: out.append(data)))
    return out


def body(frame: bytes) -> Any:
    return json.loads(frame.split(b"\r\n\r\n", 1)[1])


def test_plain_json_goes_out_as_pygls_would_send_it() -> None:
    """The short way for results and params that are JSON already gives the same message
    as pygls's attrs + cattrs way (null kept, nested lsprotocol objects converted)."""
    ours = LanguageServer("a", "1", protocol_cls=StrictProtocol).protocol
    theirs = LanguageServer("b", "1").protocol
    assert isinstance(ours, StrictProtocol)
    out, ref = frames(ours), frames(theirs)  # type: ignore[arg-type]
    values: list[Any] = [
        None,
        {"state": "idle", "model": None, "items": [{"insertText": "x", "n": 1.5}]},
        [1, "two", True],
        "text",
        {"at": types.Position(line=1, character=2)},
    ]
    for value in values:
        ours._send_response(7, result=value)
        theirs._send_response(7, result=value)
        ours.notify("ardaemon/didChangeStatus", value)
        theirs.notify("ardaemon/didChangeStatus", value)
    assert [body(f) for f in out] == [body(f) for f in ref]
    assert body(out[0]) == {"id": 7, "jsonrpc": "2.0", "result": None}
