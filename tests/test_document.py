"""Open documents as lines updated by incremental edits: after any sequence of edits the
lines equal a fresh split of the text, and the text equals what pygls's own document
makes of the same edits; the window around the cursor gives the same completion context
as the whole text."""

from __future__ import annotations

import random

from lsprotocol import types
from pygls.workspace import TextDocument

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
    from pygls.workspace.position_codec import PositionCodec

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
