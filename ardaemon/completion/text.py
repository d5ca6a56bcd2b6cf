"""What the clean-up steps share: the cursor's line, indentation widths, a bracket scanner.

No step lives here: the steps are in `wrapping`, `placement`, `extent` and `overlap`, and
`postprocess` puts them in order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ClassVar

from .context import CompletionContext


def lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def current_line(ctx: CompletionContext) -> str:
    """The cursor's line up to the cursor."""
    return lf(ctx.prefix).rsplit("\n", 1)[-1]


def rest_of_line(ctx: CompletionContext) -> str:
    """The cursor's line after the cursor."""
    return lf(ctx.suffix).split("\n", 1)[0]


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def first_content(lines: list[str], start: int = 0) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


DEDENTED = re.compile(r"^\s*([)\]}]|(end|else|elif|elseif|elsif|except|finally|until)\b)")


def indent_width(ws: str) -> int:
    return len(ws.expandtabs(4))


def full_widths(lines: list[str], ctx: CompletionContext) -> list[int]:
    """The indentation width of each answer line as it will stand in the file."""
    current = current_line(ctx)
    first = current if current.strip() else ctx.indent + lines[0]
    return [indent_width(leading_ws(ln)) for ln in [first, *lines[1:]]]


#: A line that continues the block above it at the header's level (`else:`, `} catch {`).
CONTINUES = re.compile(
    r"^\s*(\}\s*)?(elif|else|elsif|elseif|except|finally|rescue|ensure|catch|when|case)\b"
)


#: A line that closes a block at the header's level.
CLOSES = re.compile(r"^\s*([)\]}]|</[\w.:-]+>|(end|fi|done|esac|until|endif|endfor)\b)")


PAIRS = {")": "(", "]": "[", "}": "{"}


HASH_COMMENT = {"python", "ruby", "shellscript", "sh", "bash", "yaml", "toml", "perl", "r", "make"}


DASH_COMMENT = {"lua", "sql", "haskell"}


#: Runs of characters that change nothing for the scanner outside strings and comments.
_PLAIN = re.compile(r"[^\n\"'`/#(){}\[\]\-]+")


@functools.cache
def _string_inert(quote: str) -> re.Pattern[str]:
    """Characters inside a string closed by `quote` that neither end nor escape it."""
    return re.compile(f"[^\\\\\n{re.escape(quote[0])}]+")


class Scanner:
    """Tracks open brackets outside strings and comments, well enough for one file's tail."""

    def __init__(self, language_id: str) -> None:
        self.language = language_id
        self.stack: list[str] = []
        self.string: str | None = None  # the quote that closes the current string
        self.block_comment = False
        self.line_comment = False
        #: Closers that closed a bracket opened before the scan started (stack underflow) or
        #: whose opener was of another kind.
        self.bad = 0

    def copy(self) -> Scanner:
        other = Scanner(self.language)
        other.stack = list(self.stack)
        other.string = self.string
        other.block_comment = self.block_comment
        other.line_comment = self.line_comment
        return other

    def _line_comment_at(self, text: str, i: int) -> bool:
        if self.language in HASH_COMMENT:
            return text[i] == "#"
        if self.language in DASH_COMMENT:
            return text.startswith("--", i)
        return text.startswith("//", i) or (not self.language and text[i] == "#")

    def feed(self, text: str, on_close: Callable[[int, bool], None] | None = None) -> None:
        """Scan `text`; `on_close(index, opened_here)` for each closer outside strings."""
        depth_here = 0
        i = 0
        while i < len(text):
            # Skip what cannot matter in one step: plain code, a line comment's rest, a
            # string's ordinary characters.
            if self.string is not None:
                if inert := _string_inert(self.string).match(text, i):
                    i = inert.end()
            elif self.line_comment:
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
            elif not self.block_comment and (plain := _PLAIN.match(text, i)):
                i = plain.end()
            if i >= len(text):
                break
            c = text[i]
            if c == "\n":
                self.line_comment = False
                if self.string in ('"', "'"):
                    self.string = None
                i += 1
                continue
            if self.line_comment:
                i += 1
                continue
            if self.block_comment:
                if text.startswith("*/", i):
                    self.block_comment = False
                    i += 1
                i += 1
                continue
            if self.string is not None:
                if c == "\\":
                    i += 2
                    continue
                if text.startswith(self.string, i):
                    i += len(self.string)
                    self.string = None
                    continue
                i += 1
                continue
            if self._line_comment_at(text, i):
                self.line_comment = True
            elif text.startswith("/*", i) and self.language not in HASH_COMMENT:
                self.block_comment = True
                i += 1
            elif text.startswith(('"""', "'''"), i) and self.language == "python":
                self.string = text[i : i + 3]
                i += 3
                continue
            elif c == "'" and self.language == "rust":
                literal = re.match(r"'(\\.|[^\\'])'", text[i:])
                i += len(literal.group(0)) if literal else 1
                continue
            elif c in "\"'`":
                self.string = c
            elif c in "([{":
                self.stack.append(c)
                depth_here += 1
            elif c in PAIRS:
                opened_here = depth_here > 0
                if self.stack and self.stack[-1] == PAIRS[c]:
                    self.stack.pop()
                else:
                    self.bad += 1
                if opened_here:
                    depth_here -= 1
                if on_close is not None:
                    on_close(i, opened_here)
            i += 1


def after_prefix(ctx: CompletionContext) -> Scanner:
    """A scanner that has read the prefix: the scan is done once per context, not once per
    clean-up step (each is O(prefix) in Python, milliseconds for a full budget)."""
    done = _scan_prefix(ctx.language_id, lf(ctx.prefix))
    scanner = done.copy()
    scanner.bad = done.bad
    return scanner


@functools.lru_cache(maxsize=4)
def _scan_prefix(language_id: str, prefix: str) -> Scanner:
    scanner = Scanner(language_id)
    if language_id == "rust":  # a char literal may hold a newline: scan in one piece
        scanner.feed(prefix)
        return scanner
    *lines, last = prefix.split("\n")
    for line in lines:
        if scanner.string is None and not scanner.block_comment and not scanner.line_comment:
            _LineEffect.of(language_id, line + "\n").apply(scanner)
        else:
            scanner.feed(line + "\n")
    scanner.feed(last)
    return scanner


class _LineEffect:
    """What scanning one whole line from a clean state (no open string or comment) does to
    a scanner, so that the prefix, which mostly repeats the last request's lines, is not
    rescanned character by character on every keystroke: the closers that reach brackets
    opened before the line, the line's own mismatches, the brackets it leaves open, and
    the string or comment it leaves open."""

    _memo: ClassVar[dict[tuple[str, str], _LineEffect]] = {}
    #: Lines remembered before the memo starts over (a few documents' worth).
    MEMO_LINES: ClassVar[int] = 8192

    def __init__(self, language_id: str, line: str) -> None:
        local = Scanner(language_id)
        self.outer: list[str] = []  # closers that met no bracket opened on this line
        self.mismatched = 0  # closers of this line's brackets of another kind

        def on_close(i: int, _opened_here: bool) -> None:
            if local.bad > len(self.outer) + self.mismatched and not local.stack:
                self.outer.append(line[i])
            self.mismatched = local.bad - len(self.outer)

        local.feed(line, on_close)
        self.mismatched = local.bad - len(self.outer)
        self.opened = local.stack
        self.string, self.block_comment = local.string, local.block_comment
        self.line_comment = local.line_comment

    @classmethod
    def of(cls, language_id: str, line: str) -> _LineEffect:
        key = (language_id, line)
        found = cls._memo.get(key)
        if found is None:
            if len(cls._memo) >= cls.MEMO_LINES:
                cls._memo.clear()
            found = cls._memo[key] = cls(language_id, line)
        return found

    def apply(self, scanner: Scanner) -> None:
        stack = scanner.stack
        for closer in self.outer:
            if stack and stack[-1] == PAIRS[closer]:
                stack.pop()
            else:
                scanner.bad += 1
        scanner.bad += self.mismatched
        stack.extend(self.opened)
        scanner.string, scanner.block_comment = self.string, self.block_comment
        scanner.line_comment = self.line_comment
