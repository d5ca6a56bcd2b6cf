"""Open documents as lines updated by incremental edits: after any sequence of edits the
lines equal a fresh split of the text, and the text equals what pygls's own document
makes of the same edits; the window around the cursor gives the same completion context
as the whole text."""

from __future__ import annotations

import itertools
import random

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec

from ardaemon.completion import build_context
from ardaemon.document import LineDocument

ALPHABET = ["a", "b", " ", "\n", "\r\n", "\r", "é", "😀", "\t", "x = 1\n"]


def random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def random_position(rng: random.Random, lines: list[str]) -> types.Position:
    """A valid position (pygls garbles ranges past a line's end), in UTF-16 units."""
    line = rng.randrange(0, len(lines) + 1)
    text = lines[line].rstrip("\r\n") if line < len(lines) else ""
    chars = rng.randrange(0, len(text) + 1)
    return types.Position(line, len(text[:chars].encode("utf-16-le")) // 2)


def random_change(rng: random.Random, lines: list[str]) -> types.TextDocumentContentChangeEvent:
    if rng.random() < 0.03:
        return types.TextDocumentContentChangeWholeDocument(random_text(rng, rng.randrange(0, 30)))
    a, b = random_position(rng, lines), random_position(rng, lines)
    if (b.line, b.character) < (a.line, a.character):
        a, b = b, a
    return types.TextDocumentContentChangePartial(
        range=types.Range(a, b), text=random_text(rng, rng.choice([0, 1, 1, 2, 5, 20]))
    )


def test_random_incremental_edits_match_pygls_and_a_fresh_split() -> None:
    rng = random.Random(2026)
    for _ in range(150):
        start = random_text(rng, rng.randrange(0, 80))
        ours = LineDocument("file:///a.py", start, 1, "python")
        theirs = TextDocument("file:///a.py", start, 1, "python")
        for _ in range(40):
            change = random_change(rng, list(theirs.lines))
            theirs.apply_change(change)
            ours.apply_change(change)
            assert ours.source == theirs.source
            assert ours.lines == ours.source.splitlines(True) == list(theirs.lines)
            assert ours.size == len(theirs.source)


def test_the_window_gives_the_context_of_the_whole_text() -> None:
    rng = random.Random(7)
    line = "    value = compute(x, y)  # about forty characters\n"
    for _ in range(40):
        lines = [
            rng.choice([line, "\n", "def f():\r\n", line * 3]) for _ in range(rng.randrange(1, 900))
        ]
        text = "".join(lines)
        doc = LineDocument("file:///b.py", text, 1, "python")
        at = random_position(rng, doc.lines)
        offset = doc.offset_at_position(types.Position(at.line, at.character))
        prefix, suffix = doc.window(at, 12000, 4000)
        assert text[:offset].endswith(prefix) and text[offset:].startswith(suffix)
        assert build_context(prefix, suffix, language_id="python") == build_context(
            text[:offset], text[offset:], language_id="python"
        ), "cut first: the same context as from the whole document"


def test_typing_on_a_line_keeps_the_window_start() -> None:
    text = "".join(f"line {i} = {i * 7}\n" for i in range(5000))
    doc = LineDocument("file:///c.py", text, 1, "python")
    before, _ = doc.window(types.Position(3000, 0), 12000, 4000)
    doc.apply_change(
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(3000, 0), types.Position(3000, 0)), text="abc"
        )
    )
    after, _ = doc.window(types.Position(3000, 3), 12000, 4000)
    assert after == before + "abc"
    assert len(before) < 20000, "only lines near the cursor are read"


def test_positions_convert_as_pygls_converts_them_in_every_encoding() -> None:
    """The shortcut for ASCII lines gives what the codec gives, past line ends too."""
    rng = random.Random(11)
    for encoding in types.PositionEncodingKind:
        codec = PositionCodec(encoding)
        for _ in range(300):
            text = random_text(rng, rng.randrange(0, 40))
            doc = LineDocument("file:///a.py", text, 1, "python", position_codec=codec)
            for _ in range(10):
                at = types.Position(rng.randrange(0, len(doc.lines) + 2), rng.randrange(0, 12))
                expected = codec.position_from_client_units(
                    doc.lines, types.Position(at.line, at.character)
                )
                assert doc._from_client(at) == (expected.line, expected.character), (text, at)


#: Text without line ends, for long lines: ASCII, 2-byte, 3-byte and astral characters.
WORDS = ["abc", " ", "é", "€", "😀", "\t", "x=1;"]
#: Every line end `str.splitlines` (and so pygls) knows, CRLF and its halves first.
ENDS = ["\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"]


def random_document(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(0, 8)):
        words = rng.choice([1, 3, 10, 400, 2000])  # a minified file: one line of thousands
        parts.append("".join(rng.choice(WORDS) for _ in range(rng.randrange(0, words))))
        parts.append(rng.choice(ENDS))
    return "".join(parts[: rng.randrange(0, len(parts) + 1)])


def units(text: str, encoding: types.PositionEncodingKind) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def any_position(
    rng: random.Random,
    lines: list[str],
    encoding: types.PositionEncodingKind,
    line: int | None = None,
) -> types.Position:
    """Mostly inside one line's text, sometimes at or past its end or past the last line."""
    if line is None:
        line = rng.randrange(0, len(lines) + 2)
    text = lines[line] if line < len(lines) else ""
    body = text.rstrip("".join(ENDS)) if rng.random() < 0.8 else text
    chars = rng.choice([0, len(body), rng.randrange(0, len(body) + 1)])
    return types.Position(line, units(body[:chars], encoding) + (rng.random() < 0.05))


def from_scratch(
    text: str, change: types.TextDocumentContentChangePartial, codec: PositionCodec
) -> str:
    """The edit applied to the whole text: the codec's positions, taken as offsets."""
    lines = text.splitlines(True)
    if not lines:
        return change.text
    ends = []
    for at in (change.range.start, change.range.end):
        pos = codec.position_from_client_units(lines, types.Position(at.line, at.character))
        ends.append((pos.line, pos.character))
    (first, first_col), (last, last_col) = sorted(ends)
    start = len("".join(lines[:first])) + min(first_col, len(lines[first]))
    end = len("".join(lines[:last])) + min(last_col, len(lines[last]))
    return text[:start] + change.text + text[end:]


def test_edits_in_long_lines_match_a_from_scratch_edit_in_every_encoding() -> None:
    """Edits inside one line take a short cut (a splice, no re-split): the text and the
    lines stay what the edit applied to the whole text gives, in every position encoding,
    with CRLF (and lone CR / LF halves meeting), every line end and astral characters."""
    rng = random.Random(1212)
    inserts = WORDS + ENDS + ["", "", "ab", "é😀"]
    for encoding in types.PositionEncodingKind:
        codec = PositionCodec(encoding)
        for _ in range(60):
            text = random_document(rng)
            doc = LineDocument("file:///m.js", text, 1, "javascript", position_codec=codec)
            for _ in range(40):
                lines = text.splitlines(True)
                if rng.random() < 0.6 and lines:  # one line, the short cut's case
                    a = any_position(rng, lines, encoding)
                    b = any_position(rng, lines, encoding, a.line) if rng.random() < 0.6 else a
                else:
                    a, b = any_position(rng, lines, encoding), any_position(rng, lines, encoding)
                inserted = "".join(rng.choice(inserts) for _ in range(rng.choice([0, 1, 1, 3])))
                change = types.TextDocumentContentChangePartial(
                    range=types.Range(a, b), text=inserted
                )
                text = from_scratch(text, change, codec)
                doc.apply_change(change)
                assert doc.source == text, (encoding, change)
                assert doc.lines == text.splitlines(True)
                assert doc.size == len(text)


def test_every_edit_inside_one_line_of_small_documents_matches_a_from_scratch_edit() -> None:
    """Exhaustive on small documents: the cases where a splice could leave the lines
    unlike a fresh split (a "\\r" meeting a "\\n", a position inside "\\r\\n", a line
    emptied) are each a few characters long."""
    pieces = ["a", "é", "\r", "\n", "\r\n"]
    texts = {"".join(p) for n in range(4) for p in itertools.product(pieces, repeat=n)}
    for encoding in types.PositionEncodingKind:
        codec = PositionCodec(encoding)
        for text in sorted(texts):
            lines = text.splitlines(True)
            for row in range(len(lines) + 1):
                width = units(lines[row], encoding) if row < len(lines) else 0
                for start in range(width + 2):
                    for end in range(start, width + 2):
                        for inserted in ["", "x", "\r", "\n"]:
                            span = types.Range(types.Position(row, start), types.Position(row, end))
                            change = types.TextDocumentContentChangePartial(span, inserted)
                            doc = LineDocument("file:///s", text, 1, position_codec=codec)
                            doc.apply_change(change)
                            expected = from_scratch(text, change, codec)
                            assert doc.lines == expected.splitlines(True), (text, change)
                            assert doc.size == len(expected)


def test_every_column_of_non_ascii_lines_converts_as_pygls_converts_it() -> None:
    """Non-ASCII lines take a short cut (encodes, not pygls's loop over each character):
    every column, inside surrogate pairs and UTF-8 sequences and past the end, in every
    encoding, gives the codec's answer."""
    rng = random.Random(12)
    texts = [random_document(rng) for _ in range(20)] + [
        "é\r\n",
        "😀",
        "€\r",
        "a😀é\u2028",
        "ÿ\U0010ffff\r\n",
    ]
    for encoding in types.PositionEncodingKind:
        codec = PositionCodec(encoding)
        for text in texts:
            doc = LineDocument("file:///u", text, 1, position_codec=codec)
            for row, line in enumerate(doc.lines):
                step = max(1, units(line, encoding) // 300)  # long lines: a sample of columns
                for character in range(0, units(line, encoding) + 3, step):
                    at = types.Position(row, character)
                    expected = codec.position_from_client_units(doc.lines, at)
                    got = doc._from_client(types.Position(row, character))
                    assert got == (expected.line, expected.character), (line[:40], at)
