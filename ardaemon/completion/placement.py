"""Clean-up steps that put the answer where it goes: without the echo of the text before the
cursor, starting right on the cursor's line, indented as the file is.
"""

from __future__ import annotations

import functools
import re

from .context import CompletionContext, is_block_opener
from .text import DEDENTED, current_line, full_widths, indent_width, leading_ws, lf


def _meaningful(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) >= 3 or any(c.isalnum() for c in stripped)


def remove_prefix_echo(text: str, ctx: CompletionContext) -> str:
    """Drop a repeat of the cursor's line (up to the cursor) and of the lines above it.

    Compared line by line ignoring indentation, since models re-indent what they echo. The
    longest echo wins; the lines echoed must say something (not just `}` or blank lines).
    """
    prefix_lines = lf(ctx.prefix).split("\n")
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


def fix_line_start(text: str, ctx: CompletionContext) -> str:
    current = current_line(ctx)
    if not current.strip():
        # Already on a fresh line: leading line breaks would push the code further down.
        return re.sub(r"^(?:[ \t]*\n)+", "", text)
    if (
        ctx.multiline
        and is_block_opener(current, ctx.language_id)
        and not text.startswith("\n")
        and _looks_indented(leading_ws(text), leading_ws(current))
    ):
        return "\n" + text
    return text


def _looks_indented(ws: str, than: str) -> bool:
    """Indentation deeper than `than`, not just the space that separates tokens."""
    return len(ws) > len(than) and ("\t" in ws or len(ws) >= 2)


def _doc_indent_unit(ctx: CompletionContext) -> str | None:
    """The document's indentation step: a tab, or the smallest run of leading spaces (the
    cursor's own indentation counts); None when nothing in the document is indented."""
    return _indent_unit(ctx.prefix, ctx.suffix, ctx.indent, ctx.language_id)


@functools.lru_cache(maxsize=4)  # several steps ask, about the same context
def _indent_unit(prefix: str, suffix: str, indent: str, language_id: str) -> str | None:
    lines = [ln for ln in lf(prefix + suffix).split("\n") if ln.strip()]
    if indent.startswith("\t") or any(ln.startswith("\t") for ln in lines):
        return "\t"
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in [*lines, indent + "x"]]
    positive = [w for w in widths if w > 0]
    if positive:
        return " " * min(positive)
    return "\t" if language_id in ("go", "makefile") else None


def _convert_indent(line: str, unit: str, model_unit: int) -> str:
    ws = leading_ws(line)
    body = line[len(ws) :]
    if unit == "\t":
        spaces = ws.expandtabs(model_unit)
        return "\t" * (len(spaces) // model_unit) + " " * (len(spaces) % model_unit) + body
    return ws.replace("\t", unit) + body


def match_indentation(text: str, ctx: CompletionContext) -> str:
    """Indent the answer for where it goes.

    Tabs or spaces follow the document. On a whitespace-only cursor line the answer's first line
    is written at the cursor, after the indentation already there, and the block keeps its shape
    relative to it: a block written from column 0, or every line indented too deep by the same
    amount, moves as a whole (`_indent_at_line_start`). After code on the cursor's line, lines
    that fall left of that line's indentation were written from column 0 and are shifted by it.
    Either way a block indented in steps of 4 in a 2-space file (or the reverse) takes the
    file's step (`_rescale_steps`).
    """
    lines = text.split("\n")
    unit = _doc_indent_unit(ctx)
    if unit is None:
        # Nothing to go by: the model's own indentation stands.
        unit = next((ws for ln in lines if (ws := leading_ws(ln))), "    ")
    indents = [leading_ws(ln) for ln in lines if ln.strip()]
    uses_tabs = any("\t" in ws for ws in indents)
    uses_spaces = any(" " in ws for ws in indents)
    if unit == "\t" and uses_spaces:
        space_widths = [len(ws) for ws in indents if ws and "\t" not in ws]
        model_unit = min(space_widths) if space_widths else 4
        model_unit = model_unit if model_unit in (2, 4, 8) else 4
        lines = [_convert_indent(ln, unit, model_unit) for ln in lines]
    elif unit != "\t" and uses_tabs:
        lines = [_convert_indent(ln, unit, len(unit)) for ln in lines]

    current = current_line(ctx)
    if not current.strip():
        return "\n".join(_rescale_steps(_indent_at_line_start(lines, ctx), ctx))
    body = _first_body_line(lines, 0)
    if body is None:
        return "\n".join(lines)
    line_indent = leading_ws(current)
    body_ws = leading_ws(lines[body])
    shift = ""
    if is_block_opener(current, ctx.language_id):
        # The body goes one step deeper than the header; a body left of that was written
        # relative to column 0 (or to the header) and moves as a whole.
        target = line_indent + unit
        # A body deeper than the header, by however much, is trusted: the file's indentation
        # step is a guess when few lines are indented.
        if len(body_ws) <= len(line_indent) and target.startswith(body_ws):
            shift = target[len(body_ws) :]
        elif unit != "\t" and 0 < len(body_ws) - len(target) < len(unit):
            # Off the file's grid by a space or two (`if x {` then 5 spaces in a 4-space
            # file): a stray space before the block, not a deeper level.
            lines = [lines[0], *_dedent(lines[1:], len(body_ws) - len(target))]
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
    if unit == "  ":
        # Two-space steps only when the file shows them more than once (an odd aligned line
        # in a 4-space file is no evidence).
        doc = [ln for ln in lf(ctx.prefix + ctx.suffix).split("\n") if ln.strip()]
        doc.append(ctx.indent + "x")  # where the editor put the cursor counts too
        if sum(1 for ln in doc if len(leading_ws(ln)) % 4 == 2) < 2:
            return lines
    widths = full_widths(lines, ctx)
    offsets = [widths[i] - widths[0] for i in range(1, len(lines)) if lines[i].strip()]
    steps = {abs(d) for d in offsets if d}
    if not steps:
        return lines
    step = min(steps)
    if step == len(unit) or step not in (2, 4) or any(d % step for d in offsets):
        return lines
    out = [lines[0]]
    for i in range(1, len(lines)):
        if not lines[i].strip() or "\t" in leading_ws(lines[i]):
            out.append(lines[i])
            continue
        width = widths[0] + (widths[i] - widths[0]) * len(unit) // step
        # Line 0 sits at the cursor: the others carry their absolute indentation.
        out.append(" " * width + lines[i].lstrip(" "))
    return out


def _first_body_line(lines: list[str], after: int) -> int | None:
    """The first line after `after` with content that is not a closer (`}`, `end`, `else`…).

    Closers sit left of the code they close, so only body lines tell how a block was indented.
    """
    for i in range(after + 1, len(lines)):
        if lines[i].strip() and not DEDENTED.match(lines[i]):
            return i
    return None


def _expected_width(ctx: CompletionContext) -> int:
    """Where a statement on the cursor's empty line belongs, judged by the line above it."""
    above = [ln for ln in lf(ctx.prefix).split("\n")[:-1] if ln.strip()]
    if not above:
        return 0
    width = indent_width(leading_ws(above[-1]))
    if is_block_opener(above[-1], ctx.language_id):
        width += indent_width(_doc_indent_unit(ctx) or "    ")
    return width


def _dedent(lines: list[str], chars: int) -> list[str]:
    return [ln[min(chars, len(leading_ws(ln))) :] for ln in lines]


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
    base = leading_ws(lines[first])
    deep_enough = indent_width(indent) >= _expected_width(ctx)
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
    body_ws = leading_ws(lines[body])
    opener = is_block_opener(lines[first], ctx.language_id)
    # The first line written bare and its siblings deeper than the cursor: the bare line was
    # really at their level.
    if not base and not opener and deep_enough and len(body_ws) > len(indent):
        lines[first + 1 :] = _dedent(lines[first + 1 :], len(body_ws) - len(indent))
        return lines
    # The lines after the first are either absolute (usual, and what the prompt asks for) or
    # written as if the cursor were at column `base`: a body line left of where it must be at
    # least (deeper than the cursor after a block header) tells, unless a blank line or a
    # closer (`}`, `end`, `else`) comes first or it follows a `return`: then it is code after
    # the cursor's block, which `stop_at_scope_end` cuts.
    least = len(indent) + (1 if opener else 0)
    before_body = lines[body - 1]
    if (
        len(body_ws) < least
        and all(ln.strip() and not DEDENTED.match(ln) for ln in lines[first + 1 : body])
        and not _TERMINAL.match(before_body)
    ):
        shift = indent[len(base) :]
        lines[first + 1 :] = [shift + ln if ln.strip() else ln for ln in lines[first + 1 :]]
    return lines


def drop_double_space(text: str, ctx: CompletionContext) -> str:
    """A space the model starts with, after a prefix that already ends with one."""
    current = current_line(ctx)
    if current.strip() and current[-1:] in " \t" and text[:1] in " \t":
        return text.lstrip(" \t")
    return text
