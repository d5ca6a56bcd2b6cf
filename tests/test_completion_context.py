"""build_context (budgets, indentation, line ends, snippets) and decide_multiline."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ardaemon.completion import Snippet, build_context, decide_multiline
from ardaemon.completion.context import is_block_opener


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        # Code after the cursor on its line: only the rest of the line.
        ("x = foo(", "a)\n", False),
        ("if (user && ", ") {\n", False),
        ("let s = read(", ")?;\n", False),
        # Only closers after the cursor, after an open paren: arguments, not a block.
        ("x = foo(", ")\n", False),
        ("xs = [", "]\n", False),
        # Only closers after the cursor, not an opener: finish the line.
        ('msg = "hello ', '"\n', False),
        # Block headers at the end of the cursor's line.
        ("def f(x):", "\n", True),
        ("function f() {", "}\n", True),
        ("if count > 10 then", "\nend\n", True),
        ("items.forEach((x) =>", "\n", True),
        ("for i = 1, 10 do", "\nend\n", True),
        ("call(", "", True),
        # An annotation being typed is not a header.
        ("def f(x:", ")\n", False),
        # Whitespace-only line: a new statement, possibly a block.
        ("def f(x):\n    ", "\n", True),
        ("a = 1\n", "\nb = 2\n", True),
        # At the start of a line that has code: that code follows the cursor.
        ("a = 1\n", "b = 2\n", False),
        ("\tdata, err := load()\n\t", "\n\treturn data\n", True),
        # End of an ordinary line: postprocess keeps that line, or the block it opens.
        ("x = compute", "\n", True),
        ("    return a +", "\nprint(1)\n", True),
    ],
)
def test_decide_multiline(prefix: str, suffix: str, expected: bool) -> None:
    assert decide_multiline(prefix, suffix) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    def f(self):", True),
        ("class A:  # the base", True),
        ("} else {", True),
        ("while true do", True),
        ("local function f(a, b)", True),
        ("def f(x:", False),
        ("x = {'a':", False),
        ("return x", False),
        ("", False),
        ("    ", False),
        ("x = done  // comment", False),
    ],
)
def test_is_block_opener(line: str, expected: bool) -> None:
    assert is_block_opener(line) is expected


@pytest.mark.parametrize(
    ("line", "language", "expected"),
    [
        ("    name:", "rust", False),  # a field, not a block
        ("  port:", "typescript", False),
        ("    case 1:", "c", True),  # a case label opens its statements everywhere
        ("for x in xs:", "python", True),
        ("  branches:", "yaml", True),
        ("  <ul>", "html", True),
        ("  <br>", "html", False),
        ("  <h4>Title</h4>", "html", False),
        ("  def full_name", "ruby", True),
        ("  items.each do |item|", "ruby", True),
    ],
)
def test_is_block_opener_by_language(line: str, language: str, expected: bool) -> None:
    assert is_block_opener(line, language) is expected


def test_prefix_cut_at_line_boundary_keeps_the_end() -> None:
    lines = [f"line_{i:03d} = {i}" for i in range(200)]
    prefix = "\n".join(lines) + "\nresult = "
    ctx = build_context(prefix, "", prefix_chars=100)
    assert len(ctx.prefix) <= 100
    assert ctx.prefix.endswith("\nresult = ")
    assert prefix.endswith(ctx.prefix)
    assert ctx.prefix.startswith("line_")  # a whole line, not a cut one


def test_suffix_cut_at_line_boundary_keeps_the_start() -> None:
    suffix = ")\n" + "\n".join(f"call_{i}()" for i in range(100))
    ctx = build_context("f(", suffix, suffix_chars=50)
    assert len(ctx.suffix) <= 50
    assert suffix.startswith(ctx.suffix)
    assert ctx.suffix.split("\n")[-1] in {f"call_{i}()" for i in range(100)}


def test_a_cursor_line_longer_than_the_budget_is_cut_mid_line() -> None:
    prefix = "x = " + "a" * 500
    ctx = build_context(prefix, "b" * 500, prefix_chars=100, suffix_chars=80)
    assert ctx.prefix == prefix[-100:]
    assert ctx.suffix == "b" * 80


def test_multiline_is_decided_on_the_uncut_text() -> None:
    ctx = build_context("def f():\n    ", "\n", prefix_chars=2)
    assert ctx.multiline is True
    assert build_context("def f():\n    ", "\n", multiline=False).multiline is False


@pytest.mark.parametrize(
    ("prefix", "indent"),
    [
        ("def f():\n    ", "    "),
        ("def f():\n    return ", "    "),
        ("\t\tx := ", "\t\t"),
        ("x = 1\n", ""),
        ("", ""),
    ],
)
def test_indent_is_the_leading_whitespace_before_the_cursor(prefix: str, indent: str) -> None:
    assert build_context(prefix, "").indent == indent


def test_crlf_is_normalised_and_remembered() -> None:
    ctx = build_context("a = 1\r\nb = ", "\r\nc = 3\r\n")
    assert "\r" not in ctx.prefix + ctx.suffix
    assert ctx.newline == "\r\n"
    assert build_context("a\nb", "").newline == "\n"


def test_language_and_path() -> None:
    ctx = build_context("x", "", language_id=" Python ", path="")
    assert ctx.language_id == "python"
    assert ctx.path is None


def test_snippets_within_budget() -> None:
    long_text = "\n".join(f"def helper_{i}(): pass" for i in range(100))
    snippets = [
        Snippet("a.py", long_text),
        Snippet("b.py", "def b(): pass"),
        Snippet("empty.py", "  \n\n"),
        Snippet("self.py", "def own(): pass"),
    ]
    ctx = build_context("x", "", path="self.py", snippets=snippets, snippet_chars=300)
    assert sum(len(s.text) for s in ctx.snippets) <= 300
    paths = [s.path for s in ctx.snippets]
    assert paths[0] == "a.py"
    assert "self.py" not in paths and "empty.py" not in paths
    assert ctx.snippets[0].text.split("\n")[-1].startswith("def helper_")


def test_snippets_fit_in_order() -> None:
    ctx = build_context(
        "x", "", snippets=[Snippet("a.py", "a" * 40), Snippet("b.py", "b" * 40)], snippet_chars=60
    )
    assert [s.path for s in ctx.snippets] == ["a.py", "b.py"]
    assert ctx.snippets[1].text == "b" * 20
    assert build_context("x", "", snippets=[Snippet("a.py", "a")], snippet_chars=0).snippets == ()


@pytest.mark.subprocess
def test_package_import_is_light() -> None:
    code = (
        "import sys, ardaemon.completion\n"
        "print(sorted(m for m in ('httpx', 'pygls', 'lsprotocol') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
