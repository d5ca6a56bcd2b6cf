"""From a chat model's raw answer to exactly the text to insert at the cursor.

`postprocess` runs small pure steps, each `(text, ctx) -> text`, in this order:

1. `normalize_newlines`  CRLF/CR → LF, so every later step sees one kind of line end.
2. `strip_think`         reasoning (`<think>…</think>`) is never code; a reasoning block that
                         never ended means the answer never started → "".
3. `extract_tagged`      the answer asked for is inside `<completion>…</completion>`: when the
                         tag is there it delimits the answer exactly, so it goes before any guess.
4. `strip_fences`        the first fenced block, without its language tag (prose around it goes).
5. `strip_preamble`      unfenced "Sure! Here is the code:" lines before, explanations after;
                         an answer that is only a refusal or "nothing to add" → "".
6. `strip_markers`       a cursor marker echoed back; text before an echoed marker is an echo of
                         the prefix, so only what follows it is kept.
7. `remove_prefix_echo`  the current line or the last lines before the cursor written again.
8. `fix_line_start`      a leading line break on a blank cursor line goes; a block body written
                         without its leading line break after `def f():|` gets one.
9. `single_line`         single-line mode keeps only the first line (before the suffix steps, so
                         they look at what will really be inserted).
10. `match_indentation`  tabs vs spaces as in the document, the block shifted to the cursor's
                         indentation, the first line without the indentation already typed.
11. `remove_suffix_overlap` the answer's tail that repeats what follows the cursor: the rest of
                         the line, or whole lines that come next (compared with indentation, so a
                         nested block's `}` is not taken for the enclosing one).
12. `balance_brackets`   closing brackets the suffix already provides, or that close nothing.
13. `trim_trailing_whitespace` and empty answers → "".

Finally the answer gets the document's line ends back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .context import CompletionContext, is_block_opener
from .prompt import CLOSE_TAG, MARKERS, OPEN_TAG

__all__ = [
    "PIPELINE",
    "balance_brackets",
    "extract_tagged",
    "fix_line_start",
    "match_indentation",
    "normalize_newlines",
    "postprocess",
    "remove_prefix_echo",
    "remove_suffix_overlap",
    "run_steps",
    "single_line",
    "strip_fences",
    "strip_markers",
    "strip_preamble",
    "strip_think",
    "trim_trailing_whitespace",
]

Step = Callable[[str, CompletionContext], str]


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _current_line(ctx: CompletionContext) -> str:
    """The cursor's line up to the cursor."""
    return _lf(ctx.prefix).rsplit("\n", 1)[-1]


def _rest_of_line(ctx: CompletionContext) -> str:
    """The cursor's line after the cursor."""
    return _lf(ctx.suffix).split("\n", 1)[0]


def _leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


# --- 1. line ends -----------------------------------------------------------------------------


def normalize_newlines(text: str, ctx: CompletionContext) -> str:
    return _lf(text)


# --- 2. reasoning -----------------------------------------------------------------------------

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)


def strip_think(text: str, ctx: CompletionContext) -> str:
    cleaned = _THINK_BLOCK.sub("", text)
    if _THINK_OPEN.match(cleaned):
        return ""  # cut off while still reasoning
    # Templates that open the reasoning themselves (DeepSeek-R1 style) leave only the closing tag.
    closes = list(_THINK_CLOSE.finditer(cleaned))
    if closes:
        cleaned = cleaned[closes[-1].end() :]
    # The blank lines that separated reasoning from the answer are not part of it.
    return cleaned.lstrip("\n") if cleaned != text else text


# --- 3. <completion> tags ---------------------------------------------------------------------


def extract_tagged(text: str, ctx: CompletionContext) -> str:
    """The text inside `<completion>…</completion>`; either tag may be missing.

    The opening tag is missing when the assistant turn was prefilled with it, the closing one
    when it was the stop sequence. A line break right after the opening tag and one right before
    the end are pretty-printing when both are there (`<completion>\\n…\\n</completion>`).
    """
    start = text.find(OPEN_TAG)
    end = text.find(CLOSE_TAG, start + len(OPEN_TAG) if start >= 0 else 0)
    if start < 0 and end < 0:
        return text
    inner = text[start + len(OPEN_TAG) if start >= 0 else 0 : end if end >= 0 else len(text)]
    if start < 0 and not inner.strip():
        return ""
    body = inner.rstrip(" \t")
    if body.startswith("\n") and body.endswith("\n") and body.strip():
        body = body[1:-1]
    return body


# --- 4. markdown fences -----------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.MULTILINE)


def strip_fences(text: str, ctx: CompletionContext) -> str:
    """The content of the first fenced block; an unterminated fence runs to the end."""
    if ctx.language_id in ("markdown", "mdx") and not text.lstrip().startswith(("```", "~~~")):
        return text  # fences are content in markdown unless the whole answer is one block
    opening = _FENCE_OPEN.search(text)
    if opening is None:
        # A lone closing fence (the model opened it in an earlier turn or the prefill).
        return re.sub(r"\n?[ \t]*(`{3,}|~{3,})[ \t]*$", "", text)
    fence = opening.group(1)
    body = text[opening.end() :]
    closing = re.search(rf"^[ \t]*{re.escape(fence)}[ \t]*$", body, re.MULTILINE)
    if closing is not None:
        body = body[: closing.start()]
    return body[:-1] if body.endswith("\n") else body


# --- 5. prose ---------------------------------------------------------------------------------

_PREAMBLE = re.compile(
    r"""^\s*(
        (sure|certainly|of\ course|okay|ok|alright|absolutely|got\ it)\b[^\n]*
      | (here('s|\ is|\ are)|below\ is|this\ is|the\ (completed?|missing|inserted|full)?\s*
            (completion|code|line|answer|text|snippet)s?|completion|answer|output|result
            |i('ll|\ will|'ve|\ have)|let\ me|to\ (complete|fill|finish))\b[^\n]*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_REFUSAL = re.compile(
    r"""^\s*(i('m|\ am)\ (sorry|unable|not\ able)|sorry\b|i\ can(not|'t|\ not)\b|as\ an\ ai\b
      |unable\ to\b|there\ is\ nothing|nothing\ (to|should\ be)\ (complete|add|insert)
      |no\ (completion|code)\ (is\ )?(needed|necessary|required)|the\ code\ (is|looks|seems)
        \ (already\ )?complete)""",
    re.IGNORECASE | re.VERBOSE,
)
_EXPLANATION = re.compile(
    r"^(this|these|the\ above|it|that|note|explanation|i|in\ this|here)\b[^\n]*[.:!]$",
    re.IGNORECASE | re.VERBOSE,
)
_INTERJECTION = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|alright|absolutely|got it)\s*[.!:]\s*$", re.IGNORECASE
)
#: A bare label line; capitalised, since `result:` in lower case is a YAML key.
_LABEL = re.compile(r"^\s*(Completion|Answer|Output|Result|Code|Insert(ed)?( text| code)?):\s*$")
_CODE_CHARS = re.compile(r"[=;{}()\[\]<>]")


def _is_prose(line: str) -> bool:
    """A sentence, not code: words and spaces, ending like a sentence; `code` spans allowed."""
    plain = re.sub(r"`[^`]*`", "x", line.strip())
    return " " in plain and plain[-1:] in ".:!" and not _CODE_CHARS.search(plain)


def strip_preamble(text: str, ctx: CompletionContext) -> str:
    if _REFUSAL.match(text) and all(_is_prose(ln) or not ln.strip() for ln in text.split("\n")):
        return ""
    lines = text.split("\n")
    dropped = 0
    while dropped < min(3, len(lines)):
        line = lines[dropped]
        chatter = _PREAMBLE.match(line) and (_is_prose(line) or _LABEL.match(line))
        if line.strip() and not (chatter or _INTERJECTION.match(line)):
            break
        dropped += 1
    if dropped and any(ln.strip() for ln in lines[:dropped]):
        lines = lines[dropped:]
        while lines and not lines[0].strip():
            lines.pop(0)
    # An explanation after the code, separated by a blank line.
    for i in range(1, len(lines)):
        if not lines[i - 1].strip() and lines[i].strip() and _EXPLANATION.match(lines[i].strip()):
            rest = [ln for ln in lines[i:] if ln.strip()]
            if all(_is_prose(ln) for ln in rest):
                lines = lines[: i - 1]
                break
    return "\n".join(lines)


# --- 6. markers -------------------------------------------------------------------------------


def strip_markers(text: str, ctx: CompletionContext) -> str:
    code = ctx.prefix + ctx.suffix
    for marker in (m for m in (*MARKERS, "{{FILL_HERE}}", "<|fim_middle|>") if m not in code):
        if marker not in text:
            continue
        before, _, after = text.partition(marker)
        prefix_tail = ctx.prefix.rstrip()
        echoed = not before.strip() or prefix_tail.endswith(before.strip())
        text = after if echoed else before + after
        text = text.replace(marker, "")
    return text


# --- 7. echo of the prefix --------------------------------------------------------------------


def _meaningful(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) >= 3 or any(c.isalnum() for c in stripped)


def remove_prefix_echo(text: str, ctx: CompletionContext) -> str:
    """Drop a repeat of the cursor's line (up to the cursor) and of the lines above it.

    Compared line by line ignoring indentation, since models re-indent what they echo. The
    longest echo wins; the lines echoed must say something (not just `}` or blank lines).
    """
    prefix_lines = _lf(ctx.prefix).split("\n")
    current = prefix_lines[-1]
    above = prefix_lines[:-1]
    out = text.split("\n")
    for n in range(min(len(above), len(out) - 1, 40), -1, -1):
        echoed = above[len(above) - n :] if n else []
        if n and not any(_meaningful(ln) for ln in echoed):
            continue
        if n == 0 and not current.strip():
            break
        if any(o.strip() != p.strip() for o, p in zip(out[:n], echoed, strict=True)):
            continue
        line = out[n]
        # The typed text, with its trailing space when the model kept it, else without.
        body = line.lstrip()
        head = next((h for h in (current.lstrip(), current.strip()) if body.startswith(h)), None)
        if head is None:
            continue
        if head:
            line = body[len(head) :]
        # With nothing typed on the cursor's line, the answer is the next line as written; its
        # indentation is dealt with by match_indentation.
        return "\n".join([line, *out[n + 1 :]])
    return text


# --- 8. where the answer starts ---------------------------------------------------------------


def fix_line_start(text: str, ctx: CompletionContext) -> str:
    current = _current_line(ctx)
    if not current.strip():
        # Already on a fresh line: leading line breaks would push the code further down.
        return re.sub(r"^(?:[ \t]*\n)+", "", text)
    if (
        ctx.multiline
        and is_block_opener(current)
        and not text.startswith("\n")
        and _looks_indented(_leading_ws(text), _leading_ws(current))
    ):
        return "\n" + text
    return text


def _looks_indented(ws: str, than: str) -> bool:
    """Indentation deeper than `than`, not just the space that separates tokens."""
    return len(ws) > len(than) and ("\t" in ws or len(ws) >= 2)


# --- 9. single-line mode ----------------------------------------------------------------------


def single_line(text: str, ctx: CompletionContext) -> str:
    if ctx.multiline:
        return text
    return text.split("\n", 1)[0]


# --- 10. indentation --------------------------------------------------------------------------


def _doc_indent_unit(ctx: CompletionContext) -> str:
    """The document's indentation step: a tab, or the smallest run of leading spaces."""
    lines = [ln for ln in _lf(ctx.prefix + ctx.suffix).split("\n") if ln.strip()]
    if ctx.indent.startswith("\t") or any(ln.startswith("\t") for ln in lines):
        return "\t"
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in lines]
    positive = [w for w in widths if w > 0]
    return " " * (min(positive) if positive else 4)


def _convert_indent(line: str, unit: str, model_unit: int) -> str:
    ws = _leading_ws(line)
    body = line[len(ws) :]
    if unit == "\t":
        spaces = ws.expandtabs(model_unit)
        return "\t" * (len(spaces) // model_unit) + " " * (len(spaces) % model_unit) + body
    return ws.replace("\t", unit) + body


def match_indentation(text: str, ctx: CompletionContext) -> str:
    """Indent the answer for where it goes.

    Tabs or spaces follow the document. On a whitespace-only cursor line the answer's first line
    is written at the cursor, after the indentation already there, and the block keeps its shape
    relative to it (a block written from column 0 is shifted to the cursor's indentation). After
    code on the cursor's line, lines that fall left of that line's indentation were written from
    column 0 and are shifted by it.
    """
    lines = text.split("\n")
    unit = _doc_indent_unit(ctx)
    indents = [_leading_ws(ln) for ln in lines if ln.strip()]
    uses_tabs = any("\t" in ws for ws in indents)
    uses_spaces = any(" " in ws for ws in indents)
    if unit == "\t" and uses_spaces:
        space_widths = [len(ws) for ws in indents if ws and "\t" not in ws]
        model_unit = min(space_widths) if space_widths else 4
        model_unit = model_unit if model_unit in (2, 4, 8) else 4
        lines = [_convert_indent(ln, unit, model_unit) for ln in lines]
    elif unit != "\t" and uses_tabs:
        lines = [_convert_indent(ln, unit, len(unit)) for ln in lines]

    current = _current_line(ctx)
    if not current.strip():
        return "\n".join(_indent_at_line_start(lines, ctx.indent))
    body = _first_body_line(lines, 0)
    if body is None:
        return "\n".join(lines)
    line_indent = _leading_ws(current)
    body_ws = _leading_ws(lines[body])
    shift = ""
    if is_block_opener(current):
        # The body goes one step deeper than the header; a body left of that was written
        # relative to column 0 (or to the header) and moves as a whole.
        target = line_indent + unit
        # A body deeper than the header, by however much, is trusted: the file's indentation
        # step is a guess when few lines are indented.
        if len(body_ws) <= len(line_indent) and target.startswith(body_ws):
            shift = target[len(body_ws) :]
    elif len(body_ws) < len(line_indent):
        shift = line_indent
    if shift:
        lines = [lines[0]] + [shift + ln if ln.strip() else ln for ln in lines[1:]]
    return "\n".join(lines)


_DEDENTED = re.compile(r"^\s*([)\]}]|(end|else|elif|elseif|elsif|except|finally|until)\b)")


def _first_body_line(lines: list[str], after: int) -> int | None:
    """The first line after `after` with content that is not a closer (`}`, `end`, `else`…).

    Closers sit left of the code they close, so only body lines tell how a block was indented.
    """
    for i in range(after + 1, len(lines)):
        if lines[i].strip() and not _DEDENTED.match(lines[i]):
            return i
    return None


def _indent_at_line_start(lines: list[str], indent: str) -> list[str]:
    """The cursor is in a line's indentation (`indent` already typed)."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return lines
    base = _leading_ws(lines[first])
    if base and base.startswith(indent):
        # Written with absolute indentation: what is already typed is not typed again.
        lines[first] = lines[first][len(indent) :]
        return lines
    if not indent.startswith(base):
        return lines
    lines[first] = lines[first][len(base) :]
    # The first line sits at the cursor. The lines after it are either absolute (usual, and
    # what the prompt asks for) or written as if the cursor were at column `base`: a body line
    # left of where it must be at least (deeper than the cursor after a block header) tells.
    body = _first_body_line(lines, first)
    if body is not None:
        least = len(indent) + (1 if is_block_opener(lines[first]) else 0)
        if len(_leading_ws(lines[body])) < least:
            extra = indent[len(base) :]
            lines[first + 1 :] = [extra + ln if ln.strip() else ln for ln in lines[first + 1 :]]
    return lines


# --- 11. overlap with the suffix --------------------------------------------------------------

_CLOSERS_ONLY = re.compile(r"^[\s)\]}]*$")


def remove_suffix_overlap(text: str, ctx: CompletionContext) -> str:
    """Drop the answer's tail where it repeats the text after the cursor.

    Two forms: the last line ends with the rest of the cursor's line (`foo(|"x")` answered with
    `1, "x")`), or the answer's last lines are the lines that follow (compared with their
    indentation). A rest of the line made only of closing brackets is left to
    `balance_brackets`, which can tell `x[0]` from a duplicated `]`.
    """
    rest = _rest_of_line(ctx).strip()
    if rest and not _CLOSERS_ONLY.match(rest):
        body = text.rstrip()
        if body.endswith(rest):
            return body[: len(body) - len(rest)]
    if rest:
        return text
    following = [ln.rstrip() for ln in _lf(ctx.suffix).split("\n")[1:] if ln.strip()]
    # Whole lines as they will stand in the file: the first one continues the cursor's line.
    lines = text.split("\n")
    full = [_current_line(ctx) + lines[0], *lines[1:]]
    content = [i for i, ln in enumerate(full) if ln.strip()]
    for m in range(min(len(content), len(following)), 0, -1):
        tail = [full[i].rstrip() for i in content[len(content) - m :]]
        if tail == following[:m]:
            return "\n".join(lines[: content[len(content) - m]]).rstrip()
    return text


# --- 12. brackets -----------------------------------------------------------------------------

_PAIRS = {")": "(", "]": "[", "}": "{"}
_HASH_COMMENT = {"python", "ruby", "shellscript", "sh", "bash", "yaml", "toml", "perl", "r", "make"}
_DASH_COMMENT = {"lua", "sql", "haskell"}


class _Scanner:
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

    def copy(self) -> _Scanner:
        other = _Scanner(self.language)
        other.stack = list(self.stack)
        other.string = self.string
        other.block_comment = self.block_comment
        other.line_comment = self.line_comment
        return other

    def _line_comment_at(self, text: str, i: int) -> bool:
        if self.language in _HASH_COMMENT:
            return text[i] == "#"
        if self.language in _DASH_COMMENT:
            return text.startswith("--", i)
        return text.startswith("//", i) or (not self.language and text[i] == "#")

    def feed(self, text: str, on_close: Callable[[int, bool], None] | None = None) -> None:
        """Scan `text`; `on_close(index, opened_here)` for each closer outside strings."""
        depth_here = 0
        i = 0
        while i < len(text):
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
            elif text.startswith("/*", i) and self.language not in _HASH_COMMENT:
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
            elif c in _PAIRS:
                opened_here = depth_here > 0
                if self.stack and self.stack[-1] == _PAIRS[c]:
                    self.stack.pop()
                else:
                    self.bad += 1
                if opened_here:
                    depth_here -= 1
                if on_close is not None:
                    on_close(i, opened_here)
            i += 1


_TRAILING_CLOSERS = re.compile(r"([)\]}\s]*[)\]}])([;,]?)(\s*)$")


def balance_brackets(text: str, ctx: CompletionContext) -> str:
    """Drop trailing closers that close brackets the suffix already closes, or nothing at all.

    The prefix's open brackets are counted, then those the suffix closes: only the rest may be
    closed by the answer. `print(foo(|)` answered `x))` becomes `x)`; `foo(|)` answered
    `a, b);` becomes `a, b`. Only closers at the very end are dropped (with a `;`/`,` after them).
    """
    if not text.strip():
        return text
    scanner = _Scanner(ctx.language_id)
    scanner.feed(_lf(ctx.prefix))
    open_before = len(scanner.stack)

    after_suffix = scanner.copy()
    closed_by_suffix = 0

    def count_suffix(_i: int, opened_here: bool) -> None:
        nonlocal closed_by_suffix
        if not opened_here and closed_by_suffix < open_before:
            closed_by_suffix += 1

    after_suffix.feed(_lf(ctx.suffix), count_suffix)
    allowed = open_before - closed_by_suffix

    outer_closes: list[int] = []
    scanner.copy().feed(text, lambda i, here: None if here else outer_closes.append(i))
    excess = len(outer_closes) - allowed
    if excess <= 0:
        return text
    tail = _TRAILING_CLOSERS.search(text)
    if tail is None:
        return text
    start = tail.start(1)
    droppable = [i for i in outer_closes if i >= start]
    drop = set(droppable[len(droppable) - min(excess, len(droppable)) :])
    if not drop:
        return text
    kept_tail = "".join(c for i, c in enumerate(text[start : tail.end(1)], start) if i not in drop)
    # A `;` after the closers belongs after the suffix's closers when there are any.
    closes_next = _rest_of_line(ctx).lstrip()[:1] in _PAIRS
    return text[:start] + kept_tail.rstrip() + ("" if closes_next else tail.group(2))


# --- 13. whitespace ---------------------------------------------------------------------------


def trim_trailing_whitespace(text: str, ctx: CompletionContext) -> str:
    """No trailing spaces on any line, no trailing line breaks; "" when nothing is left.

    A trailing space on the last line stays when the cursor's line continues with code right
    after it (`return a + |x` answered `b + `).
    """
    trimmed = "\n".join(ln.rstrip() for ln in text.split("\n")).rstrip("\n")
    if not trimmed.strip():
        return ""
    rest = _rest_of_line(ctx)
    joins_code = bool(rest) and (rest[0].isalnum() or rest[0] in "\"'`_$@")
    if joins_code and not text.endswith("\n") and text != text.rstrip(" \t"):
        trimmed += " "
    return trimmed


PIPELINE: tuple[Step, ...] = (
    normalize_newlines,
    strip_think,
    extract_tagged,
    strip_fences,
    strip_preamble,
    strip_markers,
    remove_prefix_echo,
    fix_line_start,
    single_line,
    match_indentation,
    remove_suffix_overlap,
    balance_brackets,
    trim_trailing_whitespace,
)


def postprocess(raw: str, ctx: CompletionContext) -> str:
    """The text to insert at the cursor; "" means show nothing."""
    return run_steps(raw, ctx, PIPELINE)


def run_steps(raw: str, ctx: CompletionContext, steps: Sequence[Step]) -> str:
    """`postprocess` with a chosen list of steps (tests check that each one is needed)."""
    text = raw
    for step in steps:
        text = step(text, ctx)
        if not text.strip():
            return ""
    return text.replace("\n", ctx.newline) if ctx.newline != "\n" else text
