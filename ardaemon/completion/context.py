"""What a completion request knows about the cursor: text around it, cut to budget, and its shape.

Pure functions over strings: no I/O, no editor types. Text is kept with `\\n` line ends; a
document written with `\\r\\n` is remembered in `CompletionContext.newline` so the answer can be
given back in the document's own line ends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

__all__ = [
    "CompletionContext",
    "Snippet",
    "build_context",
    "decide_multiline",
    "is_block_opener",
    "scope_by_indentation",
    "with_stop_reason",
]


class Snippet(msgspec.Struct, frozen=True):
    """A piece of another open document, shown to the model as reference only."""

    path: str
    text: str


class CompletionContext(msgspec.Struct, frozen=True):
    #: Text before the cursor, cut to budget at a line boundary (the end is kept).
    prefix: str
    #: Text after the cursor, cut to budget at a line boundary (the start is kept).
    suffix: str
    #: Editor language id ("python", "typescript", ...), "" when unknown.
    language_id: str
    #: File path as the user knows it (relative when possible), None when unknown.
    path: str | None
    #: True: a block may be inserted; False: only the rest of the cursor's line.
    multiline: bool
    #: Leading whitespace of the cursor's line as far as it lies before the cursor. When the
    #: cursor sits in the indentation (a whitespace-only line), this is everything before it.
    indent: str
    #: Excerpts of other open documents of the same language, already cut to budget.
    snippets: tuple[Snippet, ...] = ()
    #: Line end of the document: "\n", or "\r\n" when the editor sent CRLF text.
    newline: str = "\n"
    #: The answer was cut off by the token limit (`stop_reason` "max_tokens"): its last line
    #: may be unfinished. Known only once the answer is in; the prompt never depends on it.
    truncated: bool = False


#: Stop reasons (normalised by `wire`, raw as some gateways send them) of an answer cut off
#: by the token limit.
TRUNCATED = frozenset({"max_tokens", "length"})


def with_stop_reason(ctx: CompletionContext, stop_reason: str) -> CompletionContext:
    """`ctx` told whether the answer it will clean was cut off by the token limit."""
    truncated = stop_reason in TRUNCATED
    return ctx if truncated == ctx.truncated else msgspec.structs.replace(ctx, truncated=truncated)


#: Characters of the document the prompt shows before and after the cursor, and of other
#: open documents.
PREFIX_CHARS = 6000
SUFFIX_CHARS = 2000
SNIPPET_CHARS = 1500


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _keep_tail(text: str, budget: int) -> str:
    """The last `budget` characters, starting at a line start when that is possible."""
    if len(text) <= budget:
        return text
    if budget <= 0:
        return ""
    window = text[-budget:]
    cut = window.find("\n")
    # The cursor's own line longer than the budget: a cut mid-line beats losing it all.
    return window if cut < 0 else window[cut + 1 :]


def _keep_head(text: str, budget: int) -> str:
    """The first `budget` characters, ending at a line end when that is possible."""
    if len(text) <= budget:
        return text
    if budget <= 0:
        return ""
    window = text[:budget]
    cut = window.rfind("\n")
    return window if cut < 0 else window[:cut]


#: Languages whose blocks are delimited by indentation (and where `key:` opens a block).
INDENT_LANGUAGES = frozenset(
    {"python", "yaml", "coffeescript", "nim", "gdscript", "haskell", "fsharp", "elm", "sass", "pug"}
)
#: Languages whose blocks end with a keyword (`end`, `fi`…) and are laid out by indentation.
KEYWORD_BLOCK_LANGUAGES = frozenset(
    {"ruby", "lua", "elixir", "julia", "shellscript", "sh", "bash", "zsh", "crystal", "vb"}
)
#: Markup: elements nest by tags, laid out by indentation.
MARKUP_LANGUAGES = frozenset({"html", "xml", "vue", "svelte", "astro", "handlebars", "xsl"})


def scope_by_indentation(language_id: str) -> bool:
    """Whether the end of a block is told by indentation (else by brackets)."""
    return language_id in INDENT_LANGUAGES | KEYWORD_BLOCK_LANGUAGES | MARKUP_LANGUAGES


# A line that opens a block whose body comes on the following lines. Checked on the line with
# trailing whitespace and a trailing line comment removed.
_OPENER = re.compile(
    r"""(
        [{(\[]                          # braces, an open call or literal
      | =>                              # arrow functions
      | (?<![\w.])(do|then|else|repeat|begin)   # Lua, Ruby, shell, Pascal
      | (?<![\w.])do\s*\|[^|]*\|         # Ruby block with parameters
      | ^\s*(local\s+)?function\b.*\)   # a Lua function header
      | ^\s*(async\s+)?(def|class|fn|func|function)\b.*\)   # a header whose ':'/'{' comes later
      | ^\s*(case\b.*|default\s*):     # a `case` label opens its statements in every language
    )$""",
    re.VERBOSE,
)
#: Ruby/Elixir headers that need no punctuation (`def name`, `class Foo`, `if x`).
_KEYWORD_HEADER = re.compile(
    r"^\s*(def|defp|class|module|if|unless|while|until|for|case|begin|fn)\b(?!.*\bend\s*$)"
)
#: An element opened and not closed on the line: `<ul>`, `<div class="x">`.
_OPEN_TAG = re.compile(r"(^|>)\s*<([A-Za-z][\w.:-]*)\b[^<>]*(?<!/)>$")
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_TRAILING_COMMENT = re.compile(r"\s+(#|//|--)\s.*$")


def is_block_opener(line: str, language_id: str = "") -> bool:
    """Whether `line` ends the header of a block whose body goes on the next lines.

    A trailing `:` opens a block only where indentation delimits blocks (Python, YAML…) or the
    language is unknown: elsewhere `name:` is a field, a key or a type annotation.
    """
    stripped = _TRAILING_COMMENT.sub("", line).rstrip()
    if not stripped.strip():
        return False
    if language_id in MARKUP_LANGUAGES or language_id in ("javascriptreact", "typescriptreact"):
        tag = _OPEN_TAG.search(stripped)
        if tag is not None and tag.group(2).lower() not in _VOID_TAGS:
            return True
    if language_id in KEYWORD_BLOCK_LANGUAGES and _KEYWORD_HEADER.match(stripped):
        return True
    if stripped.endswith(":") and not re.match(r"^\s*(case\b.*|default\s*):$", stripped):
        if language_id and language_id not in INDENT_LANGUAGES:
            return False
        # `def f(x:` is an annotation being typed, not a block header: a ':' counts only when
        # the line's brackets are closed.
        depth = sum(stripped.count(c) for c in "([{") - sum(stripped.count(c) for c in ")]}")
        return depth <= 0
    return _OPENER.search(stripped) is not None


_CLOSERS_ONLY = re.compile(r"""^[\s)\]};,'"`>]*$""")


def decide_multiline(prefix: str, suffix: str, language_id: str = "") -> bool:
    """Whether more than the rest of the cursor's line may be offered.

    - Code after the cursor on its line (anything beyond closing brackets, quotes and `;`/`,`):
      the user is mid-line, so only the rest of the line → False.
    - Only closers after the cursor: True after a block header (`{|}`), else False (`foo(|)`,
      `"text|"`: arguments, a string).
    - Nothing after the cursor → True, and `postprocess` (`limit_lines`) decides how much: a block after a
      block header or on an empty line; after any other line, that line, plus the block its
      end opens (`func area|` → `() {…}`) or the next line when the answer starts with a line
      break (the line was finished).
    """
    prefix = _normalize(prefix)
    suffix = _normalize(suffix)
    before = prefix.rsplit("\n", 1)[-1]
    after = suffix.split("\n", 1)[0]
    if not _CLOSERS_ONLY.match(after):
        return False
    if after.strip() and before.strip():
        # `foo(|)`: arguments, not a block; `{|}` may be one.
        return not before.rstrip().endswith(("(", "[")) and is_block_opener(before, language_id)
    return True


def _indent_at_cursor(prefix: str) -> str:
    line = prefix.rsplit("\n", 1)[-1]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _cut_snippets(
    snippets: Sequence[Snippet], budget: int, own_path: str | None
) -> tuple[Snippet, ...]:
    """Snippets in the order given, each cut at a line end, all together within `budget`."""
    kept: list[Snippet] = []
    left = budget
    for snippet in snippets:
        if own_path is not None and snippet.path == own_path:
            continue
        text = _normalize(snippet.text).strip("\n")
        if not text.strip() or left <= 0:
            continue
        text = _keep_head(text, left).rstrip()
        if not text:
            continue
        kept.append(Snippet(path=snippet.path, text=text))
        left -= len(text)
    return tuple(kept)


def build_context(
    prefix: str,
    suffix: str,
    *,
    language_id: str = "",
    path: str | None = None,
    snippets: Sequence[Snippet] = (),
    prefix_chars: int = PREFIX_CHARS,
    suffix_chars: int = SUFFIX_CHARS,
    snippet_chars: int = SNIPPET_CHARS,
    multiline: bool | None = None,
) -> CompletionContext:
    """The context of one completion: text nearest the cursor within budget, and its shape.

    The prefix keeps its end and the suffix its start, each cut at a line boundary unless the
    cursor's own line alone exceeds the budget. `multiline=None` lets `decide_multiline` choose
    (on the full text, before cutting).
    """
    # Cut first, normalise after: twice the budget still holds the budget after CRLF → LF,
    # and the cut below comes out as if made on the whole text.
    prefix = prefix[-2 * prefix_chars :]
    suffix = suffix[: 2 * suffix_chars]
    newline = "\r\n" if "\r\n" in prefix or "\r\n" in suffix else "\n"
    prefix = _normalize(prefix)
    suffix = _normalize(suffix)
    if multiline is None:
        multiline = decide_multiline(prefix, suffix, language_id.strip().lower())
    cut_prefix = _keep_tail(prefix, prefix_chars)
    return CompletionContext(
        prefix=cut_prefix,
        suffix=_keep_head(suffix, suffix_chars),
        language_id=language_id.strip().lower(),
        path=path or None,
        multiline=multiline,
        indent=_indent_at_cursor(cut_prefix),
        snippets=_cut_snippets(snippets, snippet_chars, path),
        newline=newline,
    )
