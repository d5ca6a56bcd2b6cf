"""The editor's workspace as completion sees it (`completion.inline.Documents`): the open
documents, the folder each belongs to (where its `.ardaemon.toml` is), the text around the
cursor, and other open documents of the same language as context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lsprotocol import types

from . import errors
from .completion.context import SNIPPET_CHARS
from .completion.inline import Around, Position
from .document import line_document
from .settings import CompletionSettings

if TYPE_CHECKING:
    from .server import ArdaemonServer


def file_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def position(p: types.Position) -> Position:
    return Position(p.line, p.character)


def lsp_position(p: Position) -> types.Position:
    return types.Position(p.line, p.character)


class OpenDocuments:
    """The workspace's open documents as completion sees them (`inline.Documents`)."""

    def __init__(self, ls: ArdaemonServer) -> None:
        self._ls = ls
        #: uri → (the folders it was found among, its folder): asked 3–4 times a request.
        self._folders: dict[str, tuple[object, Path | None]] = {}

    def settings(self, uri: str) -> CompletionSettings:
        """The document's completion settings (its project file has a say)."""
        return self._ls.service.store.settings_for(self.folder(uri)).completion

    def refusal(self, uri: str) -> str | None:
        settings = self.settings(uri)
        return self._ls.guard.refusal(uri, settings.exclude, settings.max_document_size)

    def folder(self, uri: str) -> Path | None:
        """The workspace folder holding a document (the innermost one), where its
        `.ardaemon.toml` is looked for; None outside every folder."""
        ws = self._ls.workspace
        among = (tuple(f.uri for f in ws.folders.values()), ws.root_path)
        known = self._folders.get(uri)
        if known is not None and known[0] == among:
            return known[1]
        if len(self._folders) >= 1024:
            self._folders.clear()
        found = self._folder(uri)
        self._folders[uri] = (among, found)
        return found

    def _folder(self, uri: str) -> Path | None:
        path = file_path(uri)
        if path is None:
            return None
        ws = self._ls.workspace
        roots = [file_path(f.uri) for f in ws.folders.values()]
        if not roots and ws.root_path:
            roots = [Path(ws.root_path)]
        inside = [r for r in roots if r is not None and path.is_relative_to(r)]
        return max(inside, key=lambda r: len(r.parts)) if inside else None

    def around(self, uri: str, at: Position) -> Around:
        if uri not in self._ls.workspace.text_documents:
            raise errors.InvalidParams(
                "`textDocument.uri` is not open: send textDocument/didOpen "
                "first, or pass `prefix` and `suffix`."
            )
        if (reason := self.refusal(uri)) is not None:
            raise errors.InvalidParams(reason="refused", why=reason)
        doc = line_document(self._ls.workspace.get_text_document(uri))
        if at.line < 0 or at.character < 0 or at.line > len(doc.lines):
            raise errors.InvalidParams(
                f"`position` {at.line}:{at.character} is outside the document."
            )
        # Cut first: only lines near the cursor are read, whatever the document's size.
        # Twice the budget, so the cut to budget (at a line boundary, after CRLF → LF) comes
        # out as if made on the whole document.
        budget = self.settings(uri)
        prefix, suffix = doc.window(
            lsp_position(at), 2 * budget.prefix_chars, 2 * budget.suffix_chars
        )
        return Around(prefix, suffix, doc.language_id or "", self.path(uri))

    def before(self, uri: str, at: Position) -> str:
        doc = line_document(self._ls.workspace.get_text_document(uri))
        return doc.window(lsp_position(at), 2 * self.settings(uri).prefix_chars, 0)[0]

    def same_language(self, uri: str, language_id: str) -> Iterator[tuple[str, str]]:
        for other_uri, doc in list(self._ls.workspace.text_documents.items()):
            if other_uri == uri or self.refusal(other_uri) is not None:
                continue  # secret files never go upstream, not even as context
            if doc.language_id == language_id:
                yield self.path(other_uri) or other_uri, line_document(doc).head(2 * SNIPPET_CHARS)

    def path(self, uri: str) -> str | None:
        """The document's path relative to the workspace root (its name outside it)."""
        path = file_path(uri)
        if path is None:
            return None
        root = self._ls.workspace.root_path
        if root:
            try:
                return str(path.relative_to(root))
            except ValueError:
                pass
        return path.name
