"""From a chat model's raw answer to exactly the text to insert at the cursor.

`postprocess` runs small pure steps, each `(text, ctx) -> text`, in this order:

1. `normalize_newlines`  CRLF/CR → LF, so every later step sees one kind of line end.
2. `strip_think`         reasoning (`<think>…</think>`) is never code; a reasoning block that
                         never ended means the answer never started → "".
3. `extract_tagged`      the answer asked for is inside `<completion>…</completion>`: when the
                         tag is there it delimits the answer exactly, so it goes before any guess.
4. `strip_fences`        the first fenced block, without its language tag (prose around it goes);
                         code then a bare closing fence: the code.
5. `strip_preamble`      unfenced "Sure! Here is the code:" lines before, explanations after;
                         an answer that is only a refusal or "nothing to add" → "". Where the
                         cursor is in prose (Markdown, comments, strings) sentences are content.
6. `strip_markers`       a cursor marker echoed back; text before an echoed marker is an echo of
                         the prefix, so only what follows it is kept.
7. `remove_prefix_echo`  the current line or the last lines before the cursor written again.
8. `fix_line_start`      a leading line break on a blank cursor line goes; a block body written
                         without its leading line break after `def f():|` gets one.
9. `drop_double_space`   a leading space after a prefix that ends with one.
10. `limit_lines`        the multi-line policy (see the function).
11. `match_indentation`  tabs vs spaces as in the document, the block normalised relative to its
                         first line and placed at the cursor's indentation.
12. `brake_repetition`   degenerate loops cut where they start.
13. `stop_at_scope_end`  the end of the cursor's block (or of the block the answer opens): by
                         indentation for Python/YAML-like languages, by brackets elsewhere.
14. `remove_suffix_duplicates` lines that the file already has below the cursor, compared loosely.
15. `remove_suffix_overlap` the answer's tail that repeats what follows the cursor: the rest of
                         the line (also written a little differently), or whole lines that come
                         next (compared with indentation, so a nested `}` is not the enclosing one).
16. `balance_brackets`   closing brackets the suffix already provides, or that close nothing.
17. `trim_trailing_whitespace` and empty answers → "".
18. `keep_closer_on_its_line` `{|}` answered with a block: the `}` keeps a line of its own.

Finally the answer gets the document's line ends back.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from .context import (
    MARKUP_LANGUAGES,
    CompletionContext,
    is_block_opener,
    scope_by_indentation,
)
from .prompt import CLOSE_TAG, MARKERS, OPEN_TAG

__all__ = [
    "PIPELINE",
    "balance_brackets",
    "brake_repetition",
    "drop_double_space",
    "extract_tagged",
    "fix_line_start",
    "keep_closer_on_its_line",
    "limit_lines",
    "match_indentation",
    "normalize_newlines",
    "postprocess",
    "remove_prefix_echo",
    "remove_suffix_duplicates",
    "remove_suffix_overlap",
    "run_steps",
    "stop_at_scope_end",
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

#: A reasoning block and the blank lines that separated it from the answer.
_THINK_BLOCK = re.compile(
    r"<(think|thinking|reasoning)>.*?</\1>[ \t]*\n*", re.DOTALL | re.IGNORECASE
)
#: Reasoning that opens the answer, possibly right after the `<completion>` tag.
_THINK_OPEN = re.compile(rf"^\s*({OPEN_TAG}\s*)?<(think|thinking|reasoning)>", re.IGNORECASE)
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
    folded = text.lower()  # `<COMPLETION>` too: models echo tags in the case they like
    start = folded.find(OPEN_TAG)
    end = folded.find(CLOSE_TAG, start + len(OPEN_TAG) if start >= 0 else 0)
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
    if opening is not None and not opening.group(2):
        before = text[: opening.start()]
        code = [ln for ln in before.split("\n") if ln.strip() and not _is_prose(ln)]
        if any(not ln.rstrip().endswith(":") for ln in code):  # not just a `Here:` label
            # Code, then a bare fence: the model's fence was opened before the answer started
            # (a prefill, an earlier turn); the code is the answer, what follows is commentary.
            return before.rstrip("\n")
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


#: Languages whose text is prose: a sentence there is content, never chat.
_PROSE_LANGUAGES = frozenset(
    {"markdown", "mdx", "plaintext", "text", "latex", "tex", "restructuredtext", "asciidoc", "org"}
)


def _cursor_in_prose(ctx: CompletionContext) -> bool:
    """In a prose document, a comment, a string or the text of a markup element."""
    if ctx.language_id in _PROSE_LANGUAGES:
        return True
    prefix = _lf(ctx.prefix)
    if ctx.language_id in MARKUP_LANGUAGES:
        return prefix.rfind(">") > prefix.rfind("<")
    scanner = _Scanner(ctx.language_id)
    scanner.feed(prefix)
    return scanner.string is not None or scanner.line_comment or scanner.block_comment


def strip_preamble(text: str, ctx: CompletionContext) -> str:
    """Chat around the code: a preamble line, a refusal, an explanation after a blank line.

    Where the cursor is in prose (Markdown, a comment, a string, an element's text) a sentence
    is the content asked for: only unmistakable chatter goes (`Sure!`, a `Completion:` label,
    a preamble line ending with a colon).
    """
    if _cursor_in_prose(ctx):
        lines = text.split("\n")
        dropped = 0
        while dropped < min(3, len(lines) - 1):
            line = lines[dropped].strip()
            chatter = bool(_PREAMBLE.match(line)) and line.endswith(":") and _is_prose(line)
            if line and not (chatter or _INTERJECTION.match(line) or _LABEL.match(line)):
                break
            dropped += 1
        return "\n".join(lines[dropped:]).lstrip("\n") if dropped else text
    if _REFUSAL.match(text) and all(_is_prose(ln) or not ln.strip() for ln in text.split("\n")):
        return ""
    lines = text.split("\n")
    dropped = 0
    while dropped < min(3, len(lines)):
        line = lines[dropped]
        chatter = bool(_PREAMBLE.match(line)) and bool(_is_prose(line) or _LABEL.match(line))
        if line.strip() and not (chatter or _INTERJECTION.match(line)):
            break
        dropped += 1
    if dropped and any(ln.strip() for ln in lines[:dropped]):
        lines = lines[dropped:]
        while lines and not lines[0].strip():
            lines.pop(0)
    # An explanation after the code: sentences to the end, the first one opening like one
    # ("This …", "Note: …"), after a blank line or right after a line of code.
    for i in range(1, len(lines)):
        starts = lines[i].strip() and _EXPLANATION.match(lines[i].strip())
        after_code = lines[i - 1].strip() and not _is_prose(lines[i - 1])
        if starts and (not lines[i - 1].strip() or after_code):
            rest = [ln for ln in lines[i:] if ln.strip()]
            if all(_is_prose(ln) for ln in rest):
                lines = lines[:i]
                break
    return "\n".join(lines).rstrip("\n") if len(lines) > 1 else "\n".join(lines)


# --- 6. markers -------------------------------------------------------------------------------


#: End-of-text tokens some models spell out (`<|im_end|>`, `<|endoftext|>`, `</s>`, `<EOT>`):
#: the answer ends there.
_END_TOKEN = re.compile(r"<\|[A-Za-z_]+\|>|</s>|<EOT>|\[/CODE\]")
#: The prompt's own scaffolding written back around the answer.
_WRAPPER_OPEN = re.compile(r"^[ \t]*<(code|file|snippet)\b[^>\n]*>[ \t]*\n?")
#: A first line naming the file (`// Path: src/a.ts`, `File: a.py`, `--- a.py ---`), as the
#: prompts label files: never the code itself.
_PATH_LINE = re.compile(
    r"^[ \t]*(?:(?://|#|--|/\*)[ \t]*)?(?:(?:path|file|filename):[ \t]*[\w./\\-]+|-{3}[ \t]+[\w./\\-]+[ \t]+-{3})"
    r"[ \t]*(?:\*/)?[ \t]*\n",
    re.IGNORECASE,
)
_WRAPPER_CLOSE = re.compile(r"\n?[ \t]*</(code|file|snippet)>\s*$")


def strip_markers(text: str, ctx: CompletionContext) -> str:
    """Echoes of the prompt: the cursor marker, `<code>`/`<file>` wrappers, end tokens."""
    code = ctx.prefix + ctx.suffix
    end = next((m for m in _END_TOKEN.finditer(text) if m.group(0) not in code), None)
    if end is not None and end.group(0) != "<|fim_middle|>":
        text = text[: end.start()]
    if "<code" not in code and "<file" not in code and "<snippet" not in code:
        text = _WRAPPER_CLOSE.sub("", _WRAPPER_OPEN.sub("", text, count=1))
    text = _PATH_LINE.sub("", text, count=1)
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
        and is_block_opener(current, ctx.language_id)
        and not text.startswith("\n")
        and _looks_indented(_leading_ws(text), _leading_ws(current))
    ):
        return "\n" + text
    return text


def _looks_indented(ws: str, than: str) -> bool:
    """Indentation deeper than `than`, not just the space that separates tokens."""
    return len(ws) > len(than) and ("\t" in ws or len(ws) >= 2)


# --- 9. how many lines -----------------------------------------------------------------------


def _first_content(lines: list[str], start: int = 0) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


def _opens_block(header: str, rest: list[str], language_id: str) -> bool:
    """`header` ends a block header, or the next line is the block's brace (Allman style)."""
    if is_block_opener(header, language_id):
        return True
    nxt = _first_content(rest)
    return nxt is not None and rest[nxt].strip() == "{"


def _own_block_header(text: str, ctx: CompletionContext) -> int | None:
    """After code on the cursor's line that opens nothing: the line of the answer that heads
    the block the answer may fill (0: the cursor's line itself, completed), else None."""
    current = _current_line(ctx)
    if not current.strip() or is_block_opener(current, ctx.language_id):
        return None
    lines = text.split("\n")
    header = 0 if lines[0].strip() else _first_content(lines, 1)
    if header is None:
        return None
    line = current + lines[0] if header == 0 else lines[header]
    return header if _opens_block(line, lines[header + 1 :], ctx.language_id) else None


def limit_lines(text: str, ctx: CompletionContext) -> str:
    """The multi-line policy: how much of a multi-line answer is offered.

    Single-line mode (a setting, or code after the cursor) keeps the first line. On an empty
    line or after a block header, the whole answer (cut at the end of the cursor's block by
    `stop_at_scope_end`). After any other code: that line's completion, plus the block it opens
    (`func area|` → `() {…}`); an answer that starts with a line break says the line was
    finished, and gets the next line (plus the block that one opens).
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    if not ctx.multiline:
        return lines[0]
    current = _current_line(ctx)
    if not current.strip() or is_block_opener(current, ctx.language_id):
        return text
    if _own_block_header(text, ctx) is not None:
        return text
    if lines[0].strip():
        return lines[0]
    nxt = _first_content(lines)
    return "\n".join(lines[: nxt + 1]) if nxt is not None else ""


# --- 10. indentation --------------------------------------------------------------------------


def _doc_indent_unit(ctx: CompletionContext) -> str | None:
    """The document's indentation step: a tab, or the smallest run of leading spaces (the
    cursor's own indentation counts); None when nothing in the document is indented."""
    lines = [ln for ln in _lf(ctx.prefix + ctx.suffix).split("\n") if ln.strip()]
    if ctx.indent.startswith("\t") or any(ln.startswith("\t") for ln in lines):
        return "\t"
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in [*lines, ctx.indent + "x"]]
    positive = [w for w in widths if w > 0]
    if positive:
        return " " * min(positive)
    return "\t" if ctx.language_id in ("go", "makefile") else None


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
    if unit is None:
        # Nothing to go by: the model's own indentation stands.
        unit = next((ws for ln in lines if (ws := _leading_ws(ln))), "    ")
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
        return "\n".join(_rescale_steps(_indent_at_line_start(lines, ctx), ctx))
    body = _first_body_line(lines, 0)
    if body is None:
        return "\n".join(lines)
    line_indent = _leading_ws(current)
    body_ws = _leading_ws(lines[body])
    shift = ""
    if is_block_opener(current, ctx.language_id):
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
    return "\n".join(_rescale_steps(lines, ctx))


def _rescale_steps(lines: list[str], ctx: CompletionContext) -> list[str]:
    """A block indented in steps of 4 spaces in a file indented by 2 (or the reverse) takes the
    file's step, relative to the block's first line. Only 2 and 4: 8 is often a hanging indent."""
    unit = _doc_indent_unit(ctx)
    if unit not in ("  ", "    ") or len(lines) < 2:
        return lines
    widths = _full_widths(lines, ctx)
    offsets = [widths[i] - widths[0] for i in range(1, len(lines)) if lines[i].strip()]
    steps = {abs(d) for d in offsets if d}
    if not steps:
        return lines
    step = min(steps)
    if step == len(unit) or step not in (2, 4) or any(d % step for d in offsets):
        return lines
    out = [lines[0]]
    for i in range(1, len(lines)):
        if not lines[i].strip() or "\t" in _leading_ws(lines[i]):
            out.append(lines[i])
            continue
        width = widths[0] + (widths[i] - widths[0]) * len(unit) // step
        # Line 0 sits at the cursor: the others carry their absolute indentation.
        out.append(" " * width + lines[i].lstrip(" "))
    return out


_DEDENTED = re.compile(r"^\s*([)\]}]|(end|else|elif|elseif|elsif|except|finally|until)\b)")


def _first_body_line(lines: list[str], after: int) -> int | None:
    """The first line after `after` with content that is not a closer (`}`, `end`, `else`…).

    Closers sit left of the code they close, so only body lines tell how a block was indented.
    """
    for i in range(after + 1, len(lines)):
        if lines[i].strip() and not _DEDENTED.match(lines[i]):
            return i
    return None


def _width(ws: str) -> int:
    return len(ws.expandtabs(4))


def _expected_width(ctx: CompletionContext) -> int:
    """Where a statement on the cursor's empty line belongs, judged by the line above it."""
    above = [ln for ln in _lf(ctx.prefix).split("\n")[:-1] if ln.strip()]
    if not above:
        return 0
    width = _width(_leading_ws(above[-1]))
    if is_block_opener(above[-1], ctx.language_id):
        width += _width(_doc_indent_unit(ctx) or "    ")
    return width


def _dedent(lines: list[str], chars: int) -> list[str]:
    return [ln[min(chars, len(_leading_ws(ln))) :] for ln in lines]


#: A statement after which nothing more runs in its block.
_TERMINAL = re.compile(r"^\s*(return|raise|throw|break|continue|exit)\b")


def _indent_at_line_start(lines: list[str], ctx: CompletionContext) -> list[str]:
    """The cursor is in a line's indentation (`ctx.indent` already typed).

    The block is normalised relative to its first line, which sits at the cursor: a model that
    indents every line by the same extra amount, or writes the first line bare and the rest
    too deep, gets its block moved as a whole. Only when the cursor is left of where the code
    belongs (an editor that did not indent after a header) is the answer's own, deeper
    indentation trusted.
    """
    indent = ctx.indent
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return lines
    base = _leading_ws(lines[first])
    deep_enough = _width(indent) >= _expected_width(ctx)
    if base and base.startswith(indent):
        # Written with absolute indentation: what is already typed is not typed again; deeper
        # than the cursor where the cursor is already deep enough: over-indented as a whole.
        extra = len(base) - len(indent) if deep_enough else 0
        lines[first] = lines[first][len(base) if deep_enough else len(indent) :]
        lines[first + 1 :] = _dedent(lines[first + 1 :], extra)
        return lines
    if not indent.startswith(base):
        return lines
    lines[first] = lines[first][len(base) :]
    body = _first_body_line(lines, first)
    if body is None:
        return lines
    body_ws = _leading_ws(lines[body])
    opener = is_block_opener(lines[first], ctx.language_id)
    # The first line written bare and its siblings deeper than the cursor: the bare line was
    # really at their level.
    if not base and not opener and deep_enough and len(body_ws) > len(indent):
        lines[first + 1 :] = _dedent(lines[first + 1 :], len(body_ws) - len(indent))
        return lines
    # The lines after the first are either absolute (usual, and what the prompt asks for) or
    # written as if the cursor were at column `base`: a body line left of where it must be at
    # least (deeper than the cursor after a block header) tells, unless a blank line comes
    # first or it follows a `return` (then it is code after the cursor's block, which
    # `stop_at_scope_end` cuts).
    least = len(indent) + (1 if opener else 0)
    before_body = lines[body - 1]
    if (
        len(body_ws) < least
        and all(ln.strip() for ln in lines[first:body])
        and not _TERMINAL.match(before_body)
    ):
        shift = indent[len(base) :]
        lines[first + 1 :] = [shift + ln if ln.strip() else ln for ln in lines[first + 1 :]]
    return lines


# --- repetition -------------------------------------------------------------------------------

#: A piece of at least 3 characters written 4 times in a row (`x = x = x = x = …`).
_INLINE_REPEAT = re.compile(r"(.{3,}?)\1{3,}")


def _full_widths(lines: list[str], ctx: CompletionContext) -> list[int]:
    """The indentation width of each answer line as it will stand in the file."""
    current = _current_line(ctx)
    first = current if current.strip() else ctx.indent + lines[0]
    return [_width(_leading_ws(ln)) for ln in [first, *lines[1:]]]


def _chunks(lines: list[str], widths: list[int]) -> list[tuple[int, int]]:
    """(start, end) of each unit at the answer's outer level: a statement with its block."""
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    if not content:
        return []
    base = min(widths[i] for i in content)
    starts = [
        i
        for n, i in enumerate(content)
        if widths[i] == base
        and not (_DEDENTED.match(lines[i]) or _CONTINUES.match(lines[i]))
        and not (n and _ANNOTATION.match(lines[content[n - 1]]))
    ]
    if not starts or starts[0] != content[0]:
        starts.insert(0, content[0])
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


#: Lines that belong to the statement after them: attributes, decorators, comments.
_ANNOTATION = re.compile(r"^\s*(#\[|@\w|//|#|/\*|\*|--)")


def _same_shape(a: str, b: str) -> bool:
    """Near-identical code: equal once numbers are ignored, or almost equal."""
    a, b = re.sub(r"\d+", "0", a), re.sub(r"\d+", "0", b)
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.9


def _similar_lines(a: str, b: str) -> bool:
    a, b = re.sub(r"\d+", "0", a), re.sub(r"\d+", "0", b)
    return a == b or (len(a) >= 10 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.9)


def brake_repetition(text: str, ctx: CompletionContext) -> str:
    """Cut degenerate repetition where it starts.

    - A line that runs out in a loop (`x = foo = foo = foo = …`, to the token limit): the line
      is garbage and goes, with what follows. A loop inside a line that then goes on keeps
      its first copy (`.add(x).add(x).add(x).add(x).build()` → `.add(x).build()`).
    - The same line four times in a row, or six near-identical ones: the first is kept.
    - Three near-identical blocks in a row (numbers ignored): the first is kept.
    A first copy is often what was wanted; the loop after it never is.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for loop in _INLINE_REPEAT.finditer(line):
            unit = loop.group(1)
            if not re.search(r"[A-Za-z_]", unit):
                continue
            rest = line[loop.end() :]
            if unit.startswith(rest) or not re.search(r"\w", rest):
                return "\n".join(lines[:i]).rstrip()
            return "\n".join([*lines[:i], line[: loop.start()] + unit + rest])
    widths = _full_widths(lines, ctx)
    placed = [f"{w} {ln.strip()}" for w, ln in zip(widths, lines, strict=True)]
    for i in range(len(lines)):
        if not re.search(r"\w", lines[i]):
            continue
        if placed[i + 1 : i + 4] == [placed[i]] * 3 or (
            len(placed) >= i + 6
            and all(_similar_lines(placed[i], p) for p in placed[i + 1 : i + 6])
        ):
            return "\n".join(lines[: i + 1])
    chunks = _chunks(lines, widths)
    texts = ["\n".join(ln.strip() for ln in lines[a:b]).strip() for a, b in chunks]
    for k in range(len(chunks) - 2):
        if texts[k].count("\n") >= 1 and all(_same_shape(texts[k], texts[k + j]) for j in (1, 2)):
            return "\n".join(lines[: chunks[k + 1][0]]).rstrip()
    return text


# --- scope ------------------------------------------------------------------------------------

#: A line that continues the block above it at the header's level (`else:`, `} catch {`).
_CONTINUES = re.compile(
    r"^\s*(\}\s*)?(elif|else|elsif|elseif|except|finally|rescue|ensure|catch|when|case)\b"
)
#: A line that closes a block at the header's level.
_CLOSES = re.compile(r"^\s*([)\]}]|</[\w.:-]+>|(end|fi|done|esac|until|endif|endfor)\b)")


def _bracket_scope_end(lines: list[str], ctx: CompletionContext, own: int | None) -> int:
    """Lines kept: up to the line that closes the cursor's block (or, `own`, the block that
    line `own` opens), counted by brackets outside strings and comments."""
    scanner = _Scanner(ctx.language_id)
    scanner.feed(_lf(ctx.prefix))
    base = len(scanner.stack)
    opened = False
    for i, line in enumerate(lines):
        scanner.feed(line if i == 0 else "\n" + line)
        depth = len(scanner.stack) - base - scanner.bad
        if depth < 0:
            return i + 1
        if own is not None and i >= own:
            opened = opened or depth > 0
            if opened and depth == 0:
                return i + 1
    return len(lines)


def _enclosing_header_width(ctx: CompletionContext, width: int) -> int:
    """The indentation of the nearest line above the cursor that is left of `width`."""
    for line in reversed(_lf(ctx.prefix).split("\n")[:-1]):
        if line.strip() and _width(_leading_ws(line)) < width:
            return _width(_leading_ws(line))
    return -1


def _indent_scope_end(lines: list[str], ctx: CompletionContext, own: int | None) -> int:
    """Lines kept, by indentation: the block ends at the first line left of its body, except a
    closer at the header's level (kept, it ends the block) or a continuation (`elif`, `else`)."""
    widths = _full_widths(lines, ctx)
    current = _current_line(ctx)
    if own is not None:
        header, start = widths[own], own + 1
    elif current.strip():
        header, start = widths[0], 1  # after a block header on the cursor's line
    else:
        if not widths[0]:
            return len(lines)  # top level: nothing encloses the cursor
        header, start = _enclosing_header_width(ctx, widths[0]), 0
    for i in range(start, len(lines)):
        if not lines[i].strip() or widths[i] > header or (i == 0 and own is None):
            continue
        if widths[i] == header and _CONTINUES.match(lines[i]):
            continue
        return i + 1 if widths[i] == header and _CLOSES.match(lines[i]) else i
    return len(lines)


def stop_at_scope_end(text: str, ctx: CompletionContext) -> str:
    """Stop at the end of the block the cursor is in (or the block the answer opens after code
    on the cursor's line): by indentation for Python/YAML-like, keyword-block and markup
    languages, by brackets elsewhere. The line that closes the block is kept; a closer the
    file already has is dropped later (`remove_suffix_overlap`, `balance_brackets`)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    own = _own_block_header(text, ctx)
    current = _current_line(ctx)
    if own is None and current.strip() and not is_block_opener(current, ctx.language_id):
        return text  # the line's completion and the next line (`limit_lines`): no block
    if scope_by_indentation(ctx.language_id):
        keep = _indent_scope_end(lines, ctx, own)
    else:
        keep = _bracket_scope_end(lines, ctx, own)
    return "\n".join(lines[:keep]).rstrip()


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
        # The same rest written a little differently (spacing, quotes, an extra `;`).
        last = body.rsplit("\n", 1)[-1]
        offset = len(body) - len(last)
        want = _norm(rest)
        for p in range(1, len(last)):
            if want and _norm(last[p:]) == want:
                return body[: offset + p].rstrip()
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


def _norm(code: str) -> str:
    """Code compared loosely: no whitespace, one kind of quote, no trailing `;`/`,` or comment."""
    code = _TRAILING_LINE_COMMENT.sub("", code)
    return re.sub(r"\s+", "", code).replace("'", '"').rstrip(";,")


_TRAILING_LINE_COMMENT = re.compile(r"\s+(#|//|--)\s.*$")


def _same_line(a: str, b: str) -> bool:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    return na == nb or (
        min(len(na), len(nb)) >= 12 and difflib.SequenceMatcher(None, na, nb).ratio() >= 0.9
    )


def remove_suffix_duplicates(text: str, ctx: CompletionContext) -> str:
    """Stop where the answer writes again one of the next lines of the file.

    Compared trimmed and loosely (indentation, spacing, quotes, a trailing `;` or comment), so
    a re-indented copy, or a copy of the line two below the cursor, is caught however
    `match_indentation` moved it. Closers (`}`, `end`, `</div>`) and continuations (`else`)
    are left to the bracket and scope steps: the same text may close another block.
    """
    if _rest_of_line(ctx).strip():
        return text
    following = [ln for ln in _lf(ctx.suffix).split("\n")[1:] if ln.strip()][:3]
    following = [
        ln
        for ln in following
        if re.search(r"\w", ln) and not (_CLOSES.match(ln) or _CONTINUES.match(ln))
    ]
    lines = text.split("\n")
    start = 0 if not _current_line(ctx).strip() else 1
    for i in range(start, len(lines)):
        if lines[i].strip() and any(_same_line(lines[i], f) for f in following):
            return "\n".join(lines[:i]).rstrip()
    return text


def drop_double_space(text: str, ctx: CompletionContext) -> str:
    """A space the model starts with, after a prefix that already ends with one."""
    current = _current_line(ctx)
    if current.strip() and current[-1:] in " \t" and text[:1] in " \t":
        return text.lstrip(" \t")
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
    # A `;` after the closers belongs after the suffix's closers when there are any, and to
    # the dropped closers when they had a line of their own.
    closes_next = _rest_of_line(ctx).lstrip()[:1] in _PAIRS
    own_line = not kept_tail.strip() and "\n" in text[start : tail.end(1)]
    return text[:start] + kept_tail.rstrip() + ("" if closes_next or own_line else tail.group(2))


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


def keep_closer_on_its_line(text: str, ctx: CompletionContext) -> str:
    """`{|}` answered with a block: the `}` after the cursor goes back to a line of its own,
    at the cursor line's indentation (not `return x;}`)."""
    if "\n" not in text or _rest_of_line(ctx).lstrip()[:1] not in _PAIRS:
        return text
    if not text.rsplit("\n", 1)[-1].strip():
        return text
    return text + "\n" + _leading_ws(_current_line(ctx))


PIPELINE: tuple[Step, ...] = (
    normalize_newlines,
    strip_think,
    extract_tagged,
    strip_fences,
    strip_preamble,
    strip_markers,
    remove_prefix_echo,
    fix_line_start,
    drop_double_space,
    limit_lines,
    match_indentation,
    brake_repetition,
    stop_at_scope_end,
    remove_suffix_duplicates,
    remove_suffix_overlap,
    balance_brackets,
    trim_trailing_whitespace,
    keep_closer_on_its_line,
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
