"""Clean-up steps that decide how much of the answer is offered: an answer cut off by the
token limit, the multi-line policy, the repetition brake, and the end of the block the cursor is in.
"""

from __future__ import annotations

import difflib
import re

from .context import CompletionContext, is_block_opener, scope_by_indentation
from .text import (
    CLOSES,
    CONTINUES,
    DEDENTED,
    after_prefix,
    current_line,
    first_content,
    full_widths,
    indent_width,
    leading_ws,
    lf,
)

#: Lines that only wrap the answer (a fence, a `<completion>`-like tag), not code.
_WRAPPER_LINE = re.compile(r"\s*(?:(?:```|~~~)[\w+#.-]*|</?[A-Za-z_][\w-]*>)?\s*")


def drop_unfinished_line(text: str, ctx: CompletionContext) -> str:
    """An answer cut off by the token limit ends mid-statement: offer it up to its last
    complete line. An answer that is one unfinished line is kept: a prefix of one line is
    still useful, and the later steps (scope, brackets) treat it like any other line.
    Runs on the raw answer, where the last line is the one the limit cut (after wrappers
    are stripped, a complete fenced block followed by a cut explanation would look cut).
    """
    if not ctx.truncated or text.endswith("\n"):
        return text
    head = text.rsplit("\n", 1)[0] if "\n" in text else ""
    if all(_WRAPPER_LINE.fullmatch(line) for line in head.split("\n")):
        return text
    return head


def _opens_block(header: str, rest: list[str], language_id: str) -> bool:
    """`header` ends a block header, or the next line is the block's brace (Allman style)."""
    if is_block_opener(header, language_id):
        return True
    nxt = first_content(rest)
    return nxt is not None and rest[nxt].strip() == "{"


def _own_block_header(text: str, ctx: CompletionContext) -> int | None:
    """After code on the cursor's line that opens nothing: the line of the answer that heads
    the block the answer may fill (0: the cursor's line itself, completed), else None."""
    current = current_line(ctx)
    lines = text.split("\n")
    if not current.strip():
        return None
    if is_block_opener(current, ctx.language_id):
        # `} else |` answered `{ …`: the brace on the cursor's line opens the block.
        return 0 if lines[0].strip().startswith("{") else None
    header = 0 if lines[0].strip() else first_content(lines, 1)
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
    current = current_line(ctx)
    if not current.strip() or is_block_opener(current, ctx.language_id):
        return text
    if _own_block_header(text, ctx) is not None:
        return text
    if lines[0].strip():
        return lines[0]
    nxt = first_content(lines)
    return "\n".join(lines[: nxt + 1]) if nxt is not None else ""


#: A piece of 3 to 80 characters written 4 times in a row (`x = x = x = x = …`); the bound
#: keeps the search fast on long lines.
_INLINE_REPEAT = re.compile(r"(.{3,80}?)\1{3,}")


#: Lines that belong to the statement after them: attributes, decorators, comments.
_ANNOTATION = re.compile(r"^\s*(#\[|@\w|//|#|/\*|\*|--)")


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
        and not (DEDENTED.match(lines[i]) or CONTINUES.match(lines[i]))
        and not (n and _ANNOTATION.match(lines[content[n - 1]]))
    ]
    if not starts or starts[0] != content[0]:
        starts.insert(0, content[0])
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


def _near_identical(a: str, b: str) -> bool:
    """Equal once numbers are ignored, or (10 characters or more) almost equal."""
    a, b = re.sub(r"\d+", "0", a), re.sub(r"\d+", "0", b)
    return a == b or (len(a) >= 10 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.9)


def _may_loop(line: str) -> bool:
    """False when `_INLINE_REPEAT` cannot find a unit with a letter in `line` (the regex
    costs about a microsecond per character): four copies of such a unit hold some
    three-character window with a letter four times."""
    if len(line) < 12:
        return False
    seen: dict[str, int] = {}
    for k in range(len(line) - 2):
        window = line[k : k + 3]
        count = seen.get(window, 0) + 1
        if count >= 4 and _LETTER.search(window):
            return True
        seen[window] = count
    return False


_LETTER = re.compile(r"[A-Za-z_]")


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
        if not _may_loop(line):
            continue
        for loop in _INLINE_REPEAT.finditer(line):
            unit = loop.group(1)
            if not re.search(r"[A-Za-z_]", unit):
                continue
            rest = line[loop.end() :]
            if unit.startswith(rest) or not re.search(r"\w", rest):
                return "\n".join(lines[:i]).rstrip()
            return "\n".join([*lines[:i], line[: loop.start()] + unit + rest])
    widths = full_widths(lines, ctx)
    placed = [f"{w} {ln.strip()}" for w, ln in zip(widths, lines, strict=True)]
    for i in range(len(lines)):
        if not re.search(r"\w", lines[i]):
            continue
        if placed[i + 1 : i + 4] == [placed[i]] * 3 or (
            len(placed) >= i + 6
            and all(_near_identical(placed[i], p) for p in placed[i + 1 : i + 6])
        ):
            return "\n".join(lines[: i + 1])
    chunks = _chunks(lines, widths)
    texts = ["\n".join(ln.strip() for ln in lines[a:b]).strip() for a, b in chunks]
    for k in range(len(chunks) - 2):
        if texts[k].count("\n") >= 1 and all(
            _near_identical(texts[k], texts[k + j]) for j in (1, 2)
        ):
            return "\n".join(lines[: chunks[k + 1][0]]).rstrip()
    return text


def _bracket_scope_end(lines: list[str], ctx: CompletionContext, own: int | None) -> int:
    """Lines kept: up to the line that closes the cursor's block (or, `own`, the block that
    line `own` opens), counted by brackets outside strings and comments."""
    scanner = after_prefix(ctx)
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
    for line in reversed(lf(ctx.prefix).split("\n")[:-1]):
        if line.strip() and indent_width(leading_ws(line)) < width:
            return indent_width(leading_ws(line))
    return -1


def _indent_scope_end(lines: list[str], ctx: CompletionContext, own: int | None) -> int:
    """Lines kept, by indentation: the block ends at the first line left of its body, except a
    closer at the header's level (kept, it ends the block) or a continuation (`elif`, `else`)."""
    widths = full_widths(lines, ctx)
    current = current_line(ctx)
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
        if widths[i] == header and CONTINUES.match(lines[i]):
            continue
        return i + 1 if widths[i] == header and CLOSES.match(lines[i]) else i
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
    current = current_line(ctx)
    if own is None and current.strip() and not is_block_opener(current, ctx.language_id):
        return text  # the line's completion and the next line (`limit_lines`): no block
    if scope_by_indentation(ctx.language_id):
        keep = _indent_scope_end(lines, ctx, own)
    else:
        keep = _bracket_scope_end(lines, ctx, own)
    return "\n".join(lines[:keep]).rstrip()
