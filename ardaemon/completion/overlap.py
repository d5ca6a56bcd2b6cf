"""Clean-up steps that drop what the file already has after the cursor: following lines written
again, the rest of the cursor's line, closers the suffix provides; and the final trim.
"""

from __future__ import annotations

import difflib
import re

from .context import CompletionContext
from .text import CLOSES, CONTINUES, PAIRS, after_prefix, current_line, leading_ws, lf, rest_of_line

_CLOSERS_ONLY = re.compile(r"^[\s)\]}]*$")


def remove_suffix_overlap(text: str, ctx: CompletionContext) -> str:
    """Drop the answer's tail where it repeats the text after the cursor.

    Two forms: the last line ends with the rest of the cursor's line (`foo(|"x")` answered with
    `1, "x")`), or the answer's last lines are the lines that follow (compared with their
    indentation). A rest of the line made only of closing brackets is left to
    `balance_brackets`, which can tell `x[0]` from a duplicated `]`.
    """
    rest = rest_of_line(ctx).strip()
    if rest and not _CLOSERS_ONLY.match(rest):
        body = text.rstrip()
        if body.endswith(rest):
            return body[: len(body) - len(rest)]
        # The same rest written a little differently (spacing, quotes, an extra `;`).
        last = body.rsplit("\n", 1)[-1]
        offset = len(body) - len(last)
        want = _norm(rest)
        # Written a little differently, the rest is still about as long as it is.
        for p in range(max(1, len(last) - 2 * len(rest) - 16), len(last)):
            if want and _norm(last[p:]) == want:
                return body[: offset + p].rstrip()
    if rest:
        return text
    following = [ln.rstrip() for ln in lf(ctx.suffix).split("\n")[1:] if ln.strip()]
    # Whole lines as they will stand in the file: the first one continues the cursor's line.
    lines = text.split("\n")
    full = [current_line(ctx) + lines[0], *lines[1:]]
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
    if rest_of_line(ctx).strip():
        return text
    following = [ln for ln in lf(ctx.suffix).split("\n")[1:] if ln.strip()][:3]
    following = [
        ln
        for ln in following
        if re.search(r"\w", ln) and not (CLOSES.match(ln) or CONTINUES.match(ln))
    ]
    lines = text.split("\n")
    start = 0 if not current_line(ctx).strip() else 1
    for i in range(start, len(lines)):
        if lines[i].strip() and any(_same_line(lines[i], f) for f in following):
            return "\n".join(lines[:i]).rstrip()
    return text


_TRAILING_CLOSERS = re.compile(r"([)\]}\s]*[)\]}])([;,]?)(\s*)$")


def balance_brackets(text: str, ctx: CompletionContext) -> str:
    """Drop trailing closers that close brackets the suffix already closes, or nothing at all.

    The prefix's open brackets are counted, then those the suffix closes: only the rest may be
    closed by the answer. `print(foo(|)` answered `x))` becomes `x)`; `foo(|)` answered
    `a, b);` becomes `a, b`. Only closers at the very end are dropped (with a `;`/`,` after them).
    """
    if not text.strip():
        return text
    scanner = after_prefix(ctx)
    open_before = len(scanner.stack)

    after_suffix = scanner.copy()
    closed_by_suffix = 0

    def count_suffix(_i: int, opened_here: bool) -> None:
        nonlocal closed_by_suffix
        if not opened_here and closed_by_suffix < open_before:
            closed_by_suffix += 1

    after_suffix.feed(lf(ctx.suffix), count_suffix)
    allowed = open_before - closed_by_suffix

    outer_closes: list[int] = []
    scanner.copy().feed(text, lambda i, here: None if here else outer_closes.append(i))
    closer_next = rest_of_line(ctx).lstrip()[:1]
    if len(outer_closes) > max(allowed, 0) and "\n" not in text and closer_next in PAIRS:
        first = outer_closes[max(allowed, 0)]
        if text[first] == closer_next and text[first:].strip(" )]};,"):
            # `foo(|)` answered `a, b) + 1`: the `)` is the suffix's; what the model wrote
            # after it is its guess at what follows the call, which the file already has.
            return text[:first].rstrip()
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
    closes_next = rest_of_line(ctx).lstrip()[:1] in PAIRS
    own_line = not kept_tail.strip() and "\n" in text[start : tail.end(1)]
    return text[:start] + kept_tail.rstrip() + ("" if closes_next or own_line else tail.group(2))


def trim_trailing_whitespace(text: str, ctx: CompletionContext) -> str:
    """No trailing spaces on any line, no trailing line breaks; "" when nothing is left.

    A trailing space on the last line stays when the cursor's line continues with code right
    after it (`return a + |x` answered `b + `).
    """
    trimmed = "\n".join(ln.rstrip() for ln in text.split("\n")).rstrip("\n")
    if not trimmed.strip():
        return ""
    rest = rest_of_line(ctx)
    joins_code = bool(rest) and (rest[0].isalnum() or rest[0] in "\"'`_$@")
    if joins_code and not text.endswith("\n") and text != text.rstrip(" \t"):
        trimmed += " "
    return trimmed


def keep_closer_on_its_line(text: str, ctx: CompletionContext) -> str:
    """`{|}` answered with a block: the `}` after the cursor goes back to a line of its own,
    at the cursor line's indentation (not `return x;}`)."""
    if "\n" not in text or rest_of_line(ctx).lstrip()[:1] not in PAIRS:
        return text
    if not text.rsplit("\n", 1)[-1].strip():
        return text
    return text + "\n" + leading_ws(current_line(ctx))
