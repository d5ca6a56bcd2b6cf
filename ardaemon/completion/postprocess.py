"""From a chat model's raw answer to exactly the text to insert at the cursor.

`postprocess` runs small pure steps, each `(text, ctx) -> text`, in this order:

1. `normalize_newlines`  CRLF/CR → LF, so every later step sees one kind of line end.
2. `strip_think`         reasoning (`<think>…</think>`) is never code; a reasoning block that
                         never ended means the answer never started → "".
3. `drop_unfinished_line` an answer cut off by the token limit ends at its last complete line
                         (one unfinished line alone is kept); on the raw text, whose end is
                         the one the limit cut.
4. `extract_tagged`      the answer asked for is inside `<completion>…</completion>`: when the
                         tag is there it delimits the answer exactly, so it goes before any guess.
5. `strip_fences`        the first fenced block, without its language tag (prose around it goes);
                         code then a bare closing fence: the code.
6. `strip_preamble`      unfenced "Sure! Here is the code:" lines before, explanations after;
                         an answer that is only a refusal or "nothing to add" → "". Where the
                         cursor is in prose (Markdown, comments, strings) sentences are content.
7. `strip_markers`       a cursor marker echoed back; text before an echoed marker is an echo of
                         the prefix, so only what follows it is kept.
8. `remove_prefix_echo`  the current line or the last lines before the cursor written again.
9. `fix_line_start`      a leading line break on a blank cursor line goes; a block body written
                         without its leading line break after `def f():|` gets one.
10. `drop_double_space`   a leading space after a prefix that ends with one.
11. `limit_lines`        the multi-line policy (see the function).
12. `match_indentation`  tabs vs spaces as in the document, the block normalised relative to its
                         first line and placed at the cursor's indentation.
13. `brake_repetition`   degenerate loops cut where they start.
14. `stop_at_scope_end`  the end of the cursor's block (or of the block the answer opens): by
                         indentation for Python/YAML-like languages, by brackets elsewhere.
15. `remove_suffix_duplicates` lines that the file already has below the cursor, compared loosely.
16. `remove_suffix_overlap` the answer's tail that repeats what follows the cursor: the rest of
                         the line (also written a little differently), or whole lines that come
                         next (compared with indentation, so a nested `}` is not the enclosing one).
17. `balance_brackets`   closing brackets the suffix already provides, or that close nothing.
18. `trim_trailing_whitespace` and empty answers → "".
19. `keep_closer_on_its_line` `{|}` answered with a block: the `}` keeps a line of its own.

Finally the answer gets the document's line ends back. The steps live by concern: `wrapping`
(1, 2, 4–7), `placement` (8–10, 12), `extent` (3, 11, 13, 14), `overlap` (15–19); `text` holds what
they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .context import CompletionContext
from .extent import (
    brake_repetition,
    drop_unfinished_line,
    limit_lines,
    stop_at_scope_end,
)
from .overlap import (
    balance_brackets,
    keep_closer_on_its_line,
    remove_suffix_duplicates,
    remove_suffix_overlap,
    trim_trailing_whitespace,
)
from .placement import (
    drop_double_space,
    fix_line_start,
    match_indentation,
    remove_prefix_echo,
)
from .wrapping import (
    extract_tagged,
    normalize_newlines,
    strip_fences,
    strip_markers,
    strip_preamble,
    strip_think,
)

__all__ = [
    "PIPELINE",
    "Step",
    "balance_brackets",
    "brake_repetition",
    "drop_double_space",
    "drop_unfinished_line",
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

PIPELINE: tuple[Step, ...] = (
    normalize_newlines,
    strip_think,
    drop_unfinished_line,
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
