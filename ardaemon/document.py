"""Open documents kept as a list of lines that incremental edits update in place.

pygls's `TextDocument` keeps one string and splits all of it into lines on every
`lines`, `offset_at_position` and incremental change: O(document) per keystroke and about
three times per completion (660 ms for a 10 MB file). Here the lines are the truth: an
edit inside one line that adds no line end is spliced into that line alone (a minified
file is one huge line: no re-split of it per keystroke); any other edit re-splits only
the lines it touches (plus one on each side, so a `\\r` + `\\n` pair that an edit brings
together becomes one line end, exactly as a fresh split would), and the whole text is
joined only when someone asks for `source`. Completion reads a window
of whole lines around the cursor (`window`), never the whole text.
"""

from __future__ import annotations

from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace
from pygls.workspace.position_codec import PositionCodec, UnitCounter, Utf8, Utf16, Utf32

#: The start of a window snaps down to a multiple of this many lines, so typing (even a
#: new line) keeps the window's start, and typing-through can match what was shown.
SNAP_LINES = 64


#: What `str.splitlines` ends a line at (the same split as pygls's document).
LINE_ENDS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _ending(line: str) -> int:
    """The length of a line's end (0 on a last line without one)."""
    if line.endswith("\r\n"):
        return 2
    return 1 if line and line[-1] in LINE_ENDS else 0


def _has_line_end(text: str) -> bool:
    return bool(text) and text.splitlines() != [text]


#: Bytes that continue a UTF-8 character, and the high bytes of UTF-16-LE low surrogates:
#: a character's first code unit is neither, so counting the others counts characters.
_UTF8_MORE = bytes(range(0x80, 0xC0))
_UTF16_LOW = bytes(range(0xDC, 0xE0))
#: pygls's unit counters, by the codec that counts the same units ("" for UTF-32).
_CODECS: dict[type[UnitCounter], str] = {Utf8: "utf-8", Utf16: "utf-16-le", Utf32: ""}
_UNIT_BYTES = {"utf-8": 1, "utf-16-le": 2}


def _column(line: str, character: int, unit: UnitCounter) -> int | None:
    """What pygls's codec makes of a column on a non-ASCII line, with C-speed encodes in
    place of its loop in Python over each character (217 ms an edit mid-way along a 1 MB
    line of "aé" pairs, 0.9 ms with this).

    The codec's answer: the first index whose prefix has at least `character` units, in
    the line with "\\r\\n" as "\\n", after a `character` past the end becomes the last unit.
    A prefix of i characters has at least i units, so the answer is at most `character`
    and only `line[:character]` is encoded. None for a counter of another kind."""
    codec = _CODECS.get(type(unit))
    if codec is None:
        return None
    if character <= 0:
        return 0
    body = line[:-2] + "\n" if line.endswith("\r\n") else line
    if character > len(body):  # maybe past the end
        size = len(body.encode(codec)) // _UNIT_BYTES[codec] if codec else len(body)
        if character > size:
            character = size - 1
    if not codec:  # UTF-32: a unit is a character
        return character
    units = body[:character].encode(codec)[: character * _UNIT_BYTES[codec]]
    if codec == "utf-8":
        return len(units.translate(None, _UTF8_MORE))
    return len(units[1::2].translate(None, _UTF16_LOW))


class LineDocument(TextDocument):
    def __init__(
        self,
        uri: str,
        source: str,
        version: int | None = None,
        language_id: str | None = None,
        position_codec: PositionCodec | None = None,
    ) -> None:
        super().__init__(uri, None, version, language_id, position_codec=position_codec)
        self._lines: list[str] = source.splitlines(True)
        self._joined: str | None = None  # joined on demand: the lines are the one copy kept
        self.size = len(source)

    @property
    def lines(self) -> list[str]:
        """The lines with their ends (the same split as pygls); do not modify."""
        return self._lines

    @property
    def source(self) -> str:
        if self._joined is None:
            self._joined = "".join(self._lines)
        return self._joined

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._lines = change.text.splitlines(True)
        self._joined = change.text
        self.size = len(change.text)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self._lines
        if not lines:
            self._apply_full_change(types.TextDocumentContentChangeWholeDocument(change.text))
            return
        # A reversed range is taken as the range it spans.
        (first, first_col), (last, last_col) = sorted(
            [self._from_client(change.range.start), self._from_client(change.range.end)]
        )
        if first == last and self._splice(first, first_col, last_col, change.text):
            return
        lo, hi = max(first - 1, 0), min(last + 2, len(lines))
        old = "".join(lines[lo:hi])
        text = (
            "".join(lines[lo:first])
            + lines[first][:first_col]
            + change.text
            + lines[last][last_col:]
            + "".join(lines[last + 1 : hi])
        )
        lines[lo:hi] = text.splitlines(True)
        self.size += len(text) - len(old)
        self._joined = None

    def _splice(self, row: int, start: int, end: int, text: str) -> bool:
        """Replace [start, end) of one line by `text` if the lines stay a fresh split: the
        range ends before the line's end and `text` has none. Costs a copy of the line,
        not a re-split of it. False (nothing done) otherwise."""
        lines = self._lines
        if row >= len(lines) or _has_line_end(text):
            return False
        line = lines[row]
        if end > len(line) - _ending(line):
            return False
        edited = "".join((line[:start], text, line[end:]))
        # A line emptied to "" or to a "\n" that pairs with a "\r" ending the line before.
        if not edited or (edited[0] == "\n" and row and lines[row - 1][-1] == "\r"):
            return False
        lines[row] = edited
        self.size += len(text) - (end - start)
        self._joined = None
        return True

    def _from_client(self, position: types.Position) -> tuple[int, int]:
        """(line, index in the line) of an editor's position, as pygls's codec gives it.

        The codec walks the line a character at a time in Python (most of an edit's cost);
        on an ASCII line every encoding counts one unit a character, so the column is the
        index, clamped as the codec clamps it."""
        lines = self._lines
        if lines and position.line < len(lines) and (line := lines[position.line]).isascii():
            size = len(line) - line.endswith("\r\n")  # the codec counts "\r\n" as one
            if size == 0:
                return position.line, 0
            return position.line, position.character if position.character <= size else size - 1
        if position.line < len(lines):
            column = _column(lines[position.line], position.character, self._position_codec.impl)
            if column is not None:
                return position.line, column
        # The codec may change the position it is given.
        at = self._position_codec.position_from_client_units(
            lines, types.Position(position.line, position.character)
        )
        return at.line, at.character

    def window(self, position: types.Position, before: int, after: int) -> tuple[str, str]:
        """(text before, text after) a position: whole lines back to at least `before`
        characters before the cursor's line, and forward to at least `after` characters.

        The start depends on the cursor's line only (not its column), snapped to
        SNAP_LINES, so the same typing gives prefixes that extend one another."""
        lines = self._lines
        if not lines:
            return "", ""
        row, col = self._from_client(position)
        start, size = row, 0
        while start > 0 and size < before:
            start -= 1
            size += len(lines[start])
        snapped = start - start % SNAP_LINES
        if sum(len(line) for line in lines[snapped:start]) <= before:
            start = snapped
        end, size = row + 1, len(lines[row]) - col
        while end < len(lines) and size < after:
            size += len(lines[end])
            end += 1
        current = lines[row]
        prefix = "".join(lines[start:row]) + current[:col]
        return prefix, current[col:] + "".join(lines[row + 1 : end])

    def head(self, chars: int) -> str:
        """Whole lines from the start, at least `chars` characters of them."""
        out: list[str] = []
        size = 0
        for line in self._lines:
            if size >= chars:
                break
            out.append(line)
            size += len(line)
        return "".join(out)


def line_document(doc: TextDocument) -> LineDocument:
    """`doc` as a LineDocument (documents not opened through `open_document` are copied)."""
    if isinstance(doc, LineDocument):
        return doc
    return LineDocument(doc.uri, doc.source, doc.version, doc.language_id, doc.position_codec)


def open_document(workspace: Workspace, item: types.TextDocumentItem) -> LineDocument:
    """Put a `LineDocument` where pygls's didOpen would put its `TextDocument`."""
    doc = LineDocument(
        item.uri, item.text, item.version, item.language_id, workspace.position_codec
    )
    workspace.text_documents[unquote(item.uri)] = doc
    return doc
