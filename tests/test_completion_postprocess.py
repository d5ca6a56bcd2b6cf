"""Each step of the post-processing pipeline on its own, then the pipeline's order and ends."""

from __future__ import annotations

import pytest

from ardaemon.completion import CompletionContext, build_context, postprocess
from ardaemon.completion.context import with_stop_reason
from ardaemon.completion.postprocess import (
    balance_brackets,
    brake_repetition,
    drop_double_space,
    drop_unfinished_line,
    extract_tagged,
    fix_line_start,
    keep_closer_on_its_line,
    limit_lines,
    match_indentation,
    normalize_newlines,
    remove_prefix_echo,
    remove_suffix_duplicates,
    remove_suffix_overlap,
    stop_at_scope_end,
    strip_fences,
    strip_markers,
    strip_preamble,
    strip_think,
    trim_trailing_whitespace,
)
from ardaemon.wire.base import THINK_TAGS, ThinkFilter


def ctx(
    prefix: str = "x = ",
    suffix: str = "\n",
    language_id: str = "python",
    multiline: bool | None = None,
) -> CompletionContext:
    return build_context(prefix, suffix, language_id=language_id, multiline=multiline)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a = 1\nb = 2\nreturn a +", "a = 1\nb = 2"),  # the cut line goes
        ("a = 1\nb = 2\n", "a = 1\nb = 2\n"),  # cut on a line end: all lines complete
        ("a = 1\n    ", "a = 1"),  # only whitespace after the last line end
        ("return sorted(items, key=", "return sorted(items, key="),  # one line: kept
        ("<completion>\nreturn sorted(items, key=", "<completion>\nreturn sorted(items, key="),
        ("```python\nreturn sorted(", "```python\nreturn sorted("),  # only a wrapper before
        ("```python\na = 1\nreturn sor", "```python\na = 1"),
    ],
)
def test_drop_unfinished_line(raw: str, expected: str) -> None:
    assert drop_unfinished_line(raw, with_stop_reason(ctx(), "max_tokens")) == expected
    assert drop_unfinished_line(raw, with_stop_reason(ctx(), "length")) == expected
    # A finished answer (or one stopped by a stop sequence) is never cut here.
    for reason in ("end_turn", "stop_sequence"):
        assert drop_unfinished_line(raw, with_stop_reason(ctx(), reason)) == raw


def test_normalize_newlines() -> None:
    assert normalize_newlines("a\r\nb\rc\n", ctx()) == "a\nb\nc\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<think>\nplan\n</think>\n\nfoo()", "foo()"),
        ("<thinking>x</thinking>foo()", "foo()"),
        ("<think>\nnever finished", ""),
        ("reasoning without an opening tag\n</think>\nfoo()", "foo()"),
        ("foo()  # no <think> here", "foo()  # no <think> here"),
        ("\n    return 1", "\n    return 1"),  # a leading newline of a real answer stays
    ],
)
def test_strip_think(raw: str, expected: str) -> None:
    assert strip_think(raw, ctx()) == expected


@pytest.mark.parametrize("tag", [*THINK_TAGS, "THINK", "Thinking"])
@pytest.mark.parametrize(
    "raw",
    [
        "<{t}>\nplan\n</{t}>\n\nfoo()",
        "<{t}>x</{t}>foo()\nbar()",
        "<{t}>\nnever finished",
        "<{t}>",
        "foo()  # no <{t}> here",
        "\n    return 1",
    ],
)
def test_the_two_think_strippers_agree_where_both_apply(tag: str, raw: str) -> None:
    """Chat's streaming ThinkFilter (wire/base) and the completion clean-up's `strip_think`
    stay two: only the whole text can say that a lone `</think>` closed reasoning the template
    opened, and a stream cannot take back what it sent (completions pass both: upstream's
    filter, then the clean-up). On a leading block, an unfinished one and text without one
    they must agree, whatever the chunking, for every tag in THINK_TAGS."""
    text = raw.format(t=tag)
    expected = strip_think(text, ctx())
    for size in (len(text) or 1, 1, 3):
        think = ThinkFilter()
        out = "".join(think.feed(text[i : i + size]) for i in range(0, len(text), size))
        assert out + think.flush() == expected, (size, text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<completion>foo()</completion>", "foo()"),
        ("Sure.\n<completion>foo()</completion>\nDone.", "foo()"),
        ("<completion>foo()", "foo()"),  # closing tag was the stop sequence
        ("foo()</completion>", "foo()"),  # opening tag was prefilled
        ("<completion>\nfoo()\n</completion>", "foo()"),  # pretty-printed
        ("<completion>\n    return 1", "\n    return 1"),  # a real leading newline
        ("<completion></completion>", ""),
        ("no tags at all", "no tags at all"),
    ],
)
def test_extract_tagged(raw: str, expected: str) -> None:
    assert extract_tagged(raw, ctx()) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("```python\nfoo()\n```", "foo()"),
        ("```\nfoo()\n```", "foo()"),
        ("Here:\n```js\na();\nb();\n```\nThat's it.", "a();\nb();"),
        ("```go\nreturn nil", "return nil"),  # never closed
        ("```py\none()\n```\n\n```py\ntwo()\n```", "one()"),
        ("~~~\nfoo()\n~~~", "foo()"),
        ("    ```python\n    foo()\n    ```", "    foo()"),
        ("foo()\n```", "foo()"),  # a stray closing fence
        ("`inline`", "`inline`"),
    ],
)
def test_strip_fences(raw: str, expected: str) -> None:
    assert strip_fences(raw, ctx()) == expected


def test_fences_are_content_in_markdown() -> None:
    md = ctx("# Usage\n\n", "\n", language_id="markdown")
    assert strip_fences("Run:\n```sh\nmake\n```", md) == "Run:\n```sh\nmake\n```"
    assert strip_fences("```markdown\nText\n```", md) == "Text"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Here is the completion:\nfoo()", "foo()"),
        ("Sure! Here's the code:\n\nfoo()", "foo()"),
        ("Completion:\nfoo()", "foo()"),
        ("Certainly.\nfoo()", "foo()"),
        ("foo()\n\nThis calls foo.", "foo()"),
        ("foo()\n\nNote: `foo` may raise.", "foo()"),
        ("I'm sorry, I can't help with that.", ""),
        ("I cannot complete this without more context.", ""),
        ("The code is already complete.", ""),
        # Code that merely starts with such words stays.
        ("result = compute()", "result = compute()"),
        ("output:\n  path: build", "output:\n  path: build"),
        ("ok := check()", "ok := check()"),
        ("sure(x)", "sure(x)"),
    ],
)
def test_strip_preamble(raw: str, expected: str) -> None:
    assert strip_preamble(raw, ctx()) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<CURSOR>", ""),
        ("<CURSOR>foo()", "foo()"),
        ("x = <CURSOR>foo()", "foo()"),  # echo of the prefix before the marker
        ("foo(<CURSOR>)", "foo()"),  # not an echo: the marker just goes
        ("{{FILL_HERE}}bar", "bar"),
    ],
)
def test_strip_markers(raw: str, expected: str) -> None:
    assert strip_markers(raw, ctx()) == expected


def test_markers_that_are_in_the_code_are_kept() -> None:
    c = ctx('tag = "<CURSOR>"\nx = ', "\n")
    assert strip_markers("<CURSOR>", c) == "<CURSOR>"


@pytest.mark.parametrize(
    ("prefix", "raw", "expected"),
    [
        ("    total = add(", "    total = add(a, b)", "a, b)"),
        ("    total = add(", "total = add(a, b)", "a, b)"),
        ("    return ", "return x", "x"),  # the typed space is not doubled
        ("def f(a):\n    ", "def f(a):\n    return a", "    return a"),
        ("import os\ndef f(a):\n    x = ", "def f(a):\n    x = 1", "1"),
        ("      - ", '- "80:80"', '"80:80"'),
        ("x = ", "y + 1", "y + 1"),
        ("}\n", "}\nfoo()", "}\nfoo()"),  # a lone brace is no evidence of an echo
    ],
)
def test_remove_prefix_echo(prefix: str, raw: str, expected: str) -> None:
    assert remove_prefix_echo(raw, ctx(prefix, "\n")) == expected


@pytest.mark.parametrize(
    ("prefix", "raw", "multiline", "expected"),
    [
        ("def f():\n    ", "\n\n    return 1", True, "    return 1"),
        ("def f():", "    return 1", True, "\n    return 1"),
        ("def f():", "\n    return 1", True, "\n    return 1"),
        ("x = ", "1", False, "1"),
        ("def f():", " pass", True, " pass"),  # not deeper: stays on the line
    ],
)
def test_fix_line_start(prefix: str, raw: str, multiline: bool, expected: str) -> None:
    assert fix_line_start(raw, ctx(prefix, "\n", multiline=multiline)) == expected


@pytest.mark.parametrize(
    ("prefix", "raw", "multiline", "expected"),
    [
        # Single-line mode (a setting, or code after the cursor): the first line only.
        ("x = ", "a\nb", False, "a"),
        ("x = ", "\nb", False, ""),
        # An empty line or a block header: the whole answer.
        ("", "a\nb", True, "a\nb"),
        ("def f():", "\n    a\n    b", True, "\n    a\n    b"),
        # After other code: the line, plus the block its end opens.
        ("x = compute", "(1)\ny = 2", True, "(1)"),
        ("def area", "(r):\n    return r\nprint(1)", True, "(r):\n    return r\nprint(1)"),
        # Allman style: the brace on the next line still opens the block.
        ("void run", "()\n{\n    go();\n}", True, "()\n{\n    go();\n}"),
        # The answer starts with a line break: the line was finished, the next one follows.
        ("x = 1", "\ny = 2\nz = 3", True, "\ny = 2"),
        ("x = 1", "\n\n", True, ""),
    ],
)
def test_limit_lines(prefix: str, raw: str, multiline: bool, expected: str) -> None:
    assert limit_lines(raw, ctx(prefix, "\n", multiline=multiline)) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "expected"),
    [
        # Absolute first line: the typed indentation is not repeated.
        ("def f():\n    ", "\n", "    return 1", "return 1"),
        # From column 0: the block moves to the cursor.
        ("def f():\n    ", "\n", "if x:\n    y()\nz()", "if x:\n        y()\n    z()"),
        # First line at the cursor, the rest absolute: unchanged.
        ("def f():\n    ", "\n", "if x:\n        y()\n    z()", "if x:\n        y()\n    z()"),
        # Only closers after the first line: they tell nothing, nothing moves.
        ("fn f() {\n    ", "\n}\n", "g();\n}", "g();\n}"),
        # Tabs in the document, spaces from the model.
        ("func f() {\n\t", "\n}\n", "if x {\n    y()\n}", "if x {\n\t\ty()\n\t}"),
        # Spaces in the document, tabs from the model.
        ("def f():\n    ", "\n", "if x:\n\ty()", "if x:\n        y()"),
        # After a block header on the cursor's line, a body left of the header moves.
        ("    def f(self):", "\n", "\nreturn 1", "\n        return 1"),
        ("    def f(self):", "\n", "\n        return 1", "\n        return 1"),
        ("  if (x) {", "\n  }\n", "\n  y();", "\n    y();"),
    ],
)
def test_match_indentation(prefix: str, suffix: str, raw: str, expected: str) -> None:
    assert match_indentation(raw, ctx(prefix, suffix, multiline=True)) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "expected"),
    [
        ("print(", '"x")\n', '1, "x")', "1, "),
        ("for i in range(", "):\n", "n):", "n"),
        ("print(", '"x")\n', '"x")', ""),
        # Closers only: left to balance_brackets.
        ("xs = [", "]\n", "x[0]", "x[0]"),
        # Whole lines that follow.
        ("def f():\n    ", "\n    return x\n", "x = 1\n    return x", "x = 1"),
        ("int f() {\n    ", "\n}\n", "return 0;\n}", "return 0;"),
        # A nested block's brace at another indentation is not the suffix's.
        (
            "int f() {\n    ",
            "\n}\n",
            "if (x) {\n        y();\n    }",
            "if (x) {\n        y();\n    }",
        ),
        # The single line that follows, written again on a blank line.
        ("def f():\n    ", "\n    return x\n", "return x", ""),
    ],
)
def test_remove_suffix_overlap(prefix: str, suffix: str, raw: str, expected: str) -> None:
    c = ctx(prefix, suffix, language_id="c" if "{" in prefix else "python")
    assert remove_suffix_overlap(raw, c) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "expected"),
    [
        ("foo(", ")\n", "a, b)", "a, b"),
        ("foo(", ")\n", "a, b);", "a, b"),
        ("print(foo(", ")\n", "x))", "x)"),
        # The answer goes on after the closer the suffix has: cut at that closer.
        ("y = sum(", ")\n", "xs) * 2", "xs"),
        ("xs = [", "]\n", "x[0]", "x[0]"),
        ("y = ", "\n", "x)", "x"),
        ("y = ", "\n", "x);", "x;"),
        ("class A {\n  f() {", "}\n}\n", "\n    return 1;\n  }", "\n    return 1;"),
        ('s = "(', '"\n', "a)", "a)"),  # brackets inside a string do not count
        ("# (\nx = ", "\n", "1", "1"),
        ("f(", "\n", "a)", "a)"),  # nothing after the cursor closes it: keep
    ],
)
def test_balance_brackets(prefix: str, suffix: str, raw: str, expected: str) -> None:
    assert (
        balance_brackets(
            raw, ctx(prefix, suffix, language_id="typescript" if "{" in prefix else "python")
        )
        == expected
    )


def test_balance_brackets_rust_lifetimes_are_not_strings() -> None:
    c = ctx("fn f<'a>(x: &'a str) -> Option<&'a str> {\n    Some(", ")\n}\n", language_id="rust")
    assert balance_brackets("x)", c) == "x"


@pytest.mark.parametrize(
    ("suffix", "raw", "expected"),
    [
        ("\n", "a + 1   \n\n", "a + 1"),
        ("\n", "a  \n  b\t\n", "a\n  b"),
        ("\n", "  \n", ""),
        ("x\n", "a + ", "a + "),  # joins the code after the cursor
        (")\n", "a, ", "a,"),
    ],
)
def test_trim_trailing_whitespace(suffix: str, raw: str, expected: str) -> None:
    assert trim_trailing_whitespace(raw, ctx("y = ", suffix)) == expected


def test_crlf_documents_get_crlf_answers() -> None:
    c = build_context("def f():\r\n    ", "\r\n", language_id="python", multiline=True)
    assert postprocess("if x:\n    y()", c) == "if x:\r\n        y()"


def test_order_fences_inside_tags_after_reasoning() -> None:
    raw = "<think>hm</think>\nSure:\n<completion>```python\nreturn a + b\n```</completion>"
    assert postprocess(raw, ctx("def f(a, b):\n    ", "\n")) == "return a + b"


def test_first_line_is_cut_before_the_suffix_is_compared() -> None:
    c = ctx("x = max(", ")\nprint(x)\n")
    assert postprocess("a, b)\nprint(x)", c) == "a, b"


@pytest.mark.parametrize(
    "raw", ["", " ", "\n\n", "```\n```", "<completion></completion>", "<think>"]
)
def test_nothing_to_show(raw: str) -> None:
    assert postprocess(raw, ctx()) == ""


# --- the steps of issue 10 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("y = y = y = y = y", ""),  # the line runs out in a loop: it goes
        ("ok()\ny = y = y = y = y", "ok()"),
        (".add(x).add(x).add(x).add(x).build()", ".add(x).build()"),  # the line goes on
        ("a()\na()\na()\na()", "a()"),
        ("f(1)\nf(2)\nf(3)", "f(1)\nf(2)\nf(3)"),  # different lines are no loop
        ("0, 0, 0, 0, 0", "0, 0, 0, 0, 0"),  # no letters: data, not a loop
        (
            "def t1():\n    run(1)\n\ndef t2():\n    run(2)\n\ndef t3():\n    run(3)",
            "def t1():\n    run(1)",
        ),
    ],
)
def test_brake_repetition(raw: str, expected: str) -> None:
    assert brake_repetition(raw, ctx("", "\n")) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "language", "raw", "expected"),
    [
        # Brackets: the line that closes the cursor's block is the last one.
        ("f() {\n  ", "\n}\n", "javascript", "a();\n}\n\nb();", "a();\n}"),
        (
            "f() {\n  ",
            "\n}\n",
            "javascript",
            "if (x) {\n    a();\n  } else {\n    b();\n  }",
            "if (x) {\n    a();\n  } else {\n    b();\n  }",
        ),
        # After code that opens nothing: the block the answer opens, then stop.
        (
            "  reset",
            "\n",
            "javascript",
            "() {\n    n = 0;\n  }\n  more() {}",
            "() {\n    n = 0;\n  }",
        ),
        # Indentation: the first line left of the body ends it; `else` continues it.
        ("def f(x):\n    ", "\n", "python", "a()\n\nb()", "a()"),
        ("if x:\n    ", "\n", "python", "a()\nelse:\n    b()\nc()", "a()\nelse:\n    b()"),
        # A closer at the header's level is kept (the file may not have it yet).
        ("def f\n  ", "\n", "ruby", "a\nend\n\ndef g", "a\nend"),
        # Top level: nothing encloses the cursor.
        ("", "\n", "python", "a()\nb()", "a()\nb()"),
    ],
)
def test_stop_at_scope_end(
    prefix: str, suffix: str, language: str, raw: str, expected: str
) -> None:
    assert stop_at_scope_end(raw, ctx(prefix, suffix, language, True)) == expected


@pytest.mark.parametrize(
    ("suffix", "raw", "expected"),
    [
        ("\n    run(args)\n", "x = 1\n        run(args)", "x = 1"),  # re-indented copy
        ("\n    a()\n    do_b()\n", "x = 1\n    do_b()", "x = 1"),  # the line two below
        ('\n    print("done")\n', "x = 1\n    print('done')", "x = 1"),  # other quotes
        ("\n    self.age = age\n", "self.email = email", "self.email = email"),
        ("\n    }\n", "x = 1\n    }", "x = 1\n    }"),  # closers: bracket steps
    ],
)
def test_remove_suffix_duplicates(suffix: str, raw: str, expected: str) -> None:
    assert remove_suffix_duplicates(raw, ctx("def f():\n    ", suffix)) == expected


def test_drop_double_space() -> None:
    assert drop_double_space(" 42", ctx("x = ")) == "42"
    assert drop_double_space(" 42", ctx("x =")) == " 42"
    assert drop_double_space("    42", ctx("    ")) == "    42"  # indentation, not a space


def test_keep_closer_on_its_line() -> None:
    c = ctx("    function f() {", "}\n", "javascript", True)
    assert keep_closer_on_its_line("\n      return 1;", c) == "\n      return 1;\n    "
    assert keep_closer_on_its_line("return 1;", c) == "return 1;"


def test_bracket_closer_on_its_own_line_takes_its_semicolon() -> None:
    c = ctx("f(() => {\n  g(() => {\n    ", "\n  });\n});\n", "javascript", True)
    assert balance_brackets("a();\n});", c) == "a();"


def test_closing_fence_after_code_ends_the_answer() -> None:
    assert strip_fences("return 1\n```\n\nThis returns one.", ctx()) == "return 1"
    assert strip_fences("Here:\n```\nreturn 1\n```", ctx()) == "return 1"


@pytest.mark.parametrize(
    ("prefix", "language", "raw", "expected"),
    [
        ("# Title\n\n", "markdown", "This is a library.", "This is a library."),
        ("x = 1  # ", "python", "This is a hack.", "This is a hack."),
        ('s = "', "python", "This is text.", "This is text."),
        ("<p>", "html", "This is the page.", "This is the page."),
        ("# Title\n\n", "markdown", "Sure!\nThis is a library.", "This is a library."),
        ("x = ", "python", "This is the answer:\n42", "42"),
    ],
)
def test_strip_preamble_only_where_prose_is_not_content(
    prefix: str, language: str, raw: str, expected: str
) -> None:
    assert strip_preamble(raw, ctx(prefix, "\n", language)) == expected


def test_over_indented_block_moves_as_a_whole() -> None:
    c = ctx("def f():\n    ", "\n")
    assert match_indentation("        a = 1\n        return a", c) == "a = 1\n    return a"
    assert match_indentation("a = 1\n        return a", c) == "a = 1\n    return a"
    # The cursor left of where the body belongs: the answer's depth is trusted.
    c = ctx("def f():\n    if x:\n    ", "\n")
    assert match_indentation("        return 1", c) == "    return 1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<code>\nfoo()\n</code>", "foo()"),  # the OpenAI prompt's wrapper written back
        ('<file path="a.py">\nfoo()\n</file>', "foo()"),  # the Anthropic prompt's
        ("foo()<|im_end|>\n<|im_start|>user", "foo()"),  # an end token spelled out
        ("foo()\n</s>", "foo()\n"),
    ],
)
def test_strip_markers_prompt_scaffolding(raw: str, expected: str) -> None:
    assert strip_markers(raw, ctx()) == expected


def test_indentation_steps_follow_the_file() -> None:
    c = ctx("function f(xs) {\n  let n = 0;\n  ", "\n}\n", "javascript")
    assert match_indentation("if (n) {\n      g();\n  }", c) == "if (n) {\n    g();\n  }"
    # Steps of 8 are kept: often a hanging indent, not a style.
    c = ctx("def f():\n    ", "\n")
    assert match_indentation("g(\n            a)", c) == "g(\n            a)"


@pytest.mark.parametrize("language", ["python", "javascript", "lua", "", "rust", "ruby"])
def test_the_prefix_scan_by_remembered_lines_equals_one_plain_scan(language: str) -> None:
    """`after_prefix` applies each clean line's remembered effect instead of rescanning it;
    the state it ends in must be the character-by-character scan's, whatever the text."""
    import random

    from ardaemon.completion.text import Scanner, _scan_prefix

    rng = random.Random(language)
    alphabet = [*"ab (){}[]\n\n\"'`#/-*\\", '"""', "'''", "//", "/*", "*/", "--"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        plain = Scanner(language)
        plain.feed(text)
        _scan_prefix.cache_clear()
        for _ in range(2):  # the second scan reads the remembered lines
            lines = _scan_prefix(language, text)
            _scan_prefix.cache_clear()
            assert (lines.stack, lines.string, lines.block_comment, lines.line_comment) == (
                plain.stack,
                plain.string,
                plain.block_comment,
                plain.line_comment,
            ), repr(text)
            assert lines.bad == plain.bad, repr(text)


def test_the_loop_prefilter_never_hides_a_loop_the_regex_finds() -> None:
    """`brake_repetition` skips the costly loop regex on lines `_may_loop` clears: every line
    where the regex finds a unit with a letter must pass the filter."""
    import random
    import re

    from ardaemon.completion.extent import _INLINE_REPEAT, _may_loop

    rng = random.Random(12)
    found = 0
    for _ in range(20000):
        alphabet = rng.choice(["ab_ ", "abc1 .()", "a b", "xy=.", "  a"])
        unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        line = "".join(
            [
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))),
                unit * rng.randint(0, 6),
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))),
            ]
        )
        loops = any(re.search(r"[A-Za-z_]", m.group(1)) for m in _INLINE_REPEAT.finditer(line))
        found += loops
        assert _may_loop(line) or not loops, repr(line)
    assert found > 1000, "the texts hold loops"
    assert not _may_loop("x = compute(alpha, beta) + gamma")
