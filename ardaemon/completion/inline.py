"""The policy of `textDocument/inlineCompletion`, free of pygls.

1. Off when `completion.enabled` is false, or `manual` and the editor asked on its own.
2. Off for a refused document (secret file, over `maxDocumentSize`); said once per file.
3. Off for a language outside `languages.allow` or inside `languages.deny`.
4. With the suggest widget open, complete as if its item were accepted: the prefix ends
   with the item's text and the answer replaces the item's range, starting with it.
5. Other open documents of the same language go along as snippets (never refused ones).
6. Invoked requests ask for `completion.candidates` suggestions, automatic ones for
   `completion.automaticCandidates` (both 1 by default).
7. Upstream errors give an empty list: they already went to the status line, and an error
   response per keystroke would only fill the editor's log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .. import errors
from ..protocol import CompleteResult
from ..settings import CompletionSettings
from .context import Snippet

if TYPE_CHECKING:  # the engine is the request path, loaded after `initialize` is answered
    from .engine import Trigger

#: How many other open documents go along as context.
MAX_SNIPPETS = 8


class Position(NamedTuple):
    line: int
    character: int


class Around(NamedTuple):
    """An open document cut at a position."""

    prefix: str
    suffix: str
    language_id: str
    path: str | None


class WidgetItem(NamedTuple):
    """The suggest widget's selected item: the text it would insert over a range."""

    start: Position
    end: Position
    text: str


class InlineItem(NamedTuple):
    text: str
    start: Position
    end: Position
    #: The model that answered (the item's accept command names it).
    model: str = ""


class Documents(Protocol):
    """The open documents as the editor session keeps them (`workspace.OpenDocuments`)."""

    def refusal(self, uri: str) -> str | None: ...

    def around(self, uri: str, at: Position) -> Around: ...

    def before(self, uri: str, at: Position) -> str: ...

    def same_language(self, uri: str, language_id: str) -> Iterable[tuple[str, str]]:
        """(path, text) of the other open documents of this language."""
        ...


class Complete(Protocol):
    def __call__(
        self,
        prefix: str,
        suffix: str,
        *,
        language_id: str,
        path: str | None,
        document: str,
        trigger: Trigger,
        snippets: Sequence[Snippet],
        candidates: int,
    ) -> Awaitable[CompleteResult | None]: ...


def wanted(settings: CompletionSettings, automatic: bool) -> bool:
    return settings.enabled and not (settings.manual and automatic)


def language_allowed(settings: CompletionSettings, language_id: str) -> bool:
    allow, deny = settings.language_list("allow"), settings.language_list("deny")
    return not (allow and language_id not in allow) and language_id not in deny


def snippets(docs: Documents, uri: str, language_id: str) -> list[Snippet]:
    if not language_id:
        return []
    out = [Snippet(path=path, text=text) for path, text in docs.same_language(uri, language_id)]
    return out[:MAX_SNIPPETS]


async def suggest(
    docs: Documents,
    settings: CompletionSettings,
    complete: Complete,
    *,
    uri: str,
    at: Position,
    automatic: bool,
    widget: WidgetItem | None,
    on_refusal: Callable[[str, str], None],
) -> list[InlineItem] | None:
    """The items to show, or None when completion is off here (steps in the docstring)."""
    if not wanted(settings, automatic):
        return None
    if (reason := docs.refusal(uri)) is not None:
        on_refusal(uri, reason)
        return None
    prefix, suffix, language_id, path = docs.around(uri, at)
    if not language_allowed(settings, language_id):
        return None
    start, end, lead = at, at, ""
    if widget is not None:
        prefix = docs.before(uri, widget.start) + widget.text
        start, end, lead = widget.start, widget.end, widget.text
    try:
        result = await complete(
            prefix,
            suffix,
            language_id=language_id,
            path=path,
            document=uri,
            trigger="automatic" if automatic else "invoked",
            snippets=snippets(docs, uri, language_id),
            candidates=settings.automatic_candidates if automatic else settings.candidates,
        )
    except errors.UpstreamError:
        return []
    if result is None:
        return []
    return [InlineItem(lead + item.insert_text, start, end, result.model) for item in result.items]
