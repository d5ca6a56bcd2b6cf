"""What an editor tells the daemon about its documents, through pytest-lsp's client:
workspace folders at start, didOpen, didChange, and `textDocument/inlineCompletion`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import SERVER, Client, make_client
from lsprotocol import types
from pytest_lsp import ClientServerConfig

URI = "file:///work/project/fib.py"
AUTOMATIC = types.InlineCompletionTriggerKind.Automatic
INVOKED = types.InlineCompletionTriggerKind.Invoked


async def start_in(env: dict[str, str], *roots: Path) -> Any:
    """A daemon whose editor opened `roots` as its workspace folders."""
    config = ClientServerConfig(server_command=SERVER, server_env=env, client_factory=make_client)
    client = await config.start()
    client.init_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=r.as_uri(), name=r.name) for r in roots],
            root_uri=roots[0].as_uri(),
        )
    )
    return client


def open_doc(client: Client, text: str, uri: str = URI, language: str = "python") -> str:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


def change(client: Client, version: int, line: int, char: int, text: str, uri: str = URI) -> None:
    here = types.Position(line, char)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(here, here), text=text)
            ],
        )
    )


async def inline(
    client: Client,
    line: int,
    char: int,
    trigger: types.InlineCompletionTriggerKind = INVOKED,
    uri: str = URI,
    selected: types.SelectedCompletionInfo | None = None,
) -> types.InlineCompletionList | None:
    result: types.InlineCompletionList | None = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, char),
            context=types.InlineCompletionContext(
                trigger_kind=trigger, selected_completion_info=selected
            ),
        )
    )
    return result
