"""build_prompt: one marker at the cursor, valid roles, few stops, budgets, per-format tuning."""

from __future__ import annotations

import itertools
import re

import pytest

from ardaemon.completion import CompletionContext, Snippet, build_context, build_prompt
from ardaemon.completion.prompt import CLOSE_TAG, MARKERS, OPEN_TAG, Api, Prompt, choose_marker

APIS: tuple[Api, ...] = ("openai", "anthropic")


def _ctx(multiline: bool | None = None, snippets: tuple[Snippet, ...] = ()) -> CompletionContext:
    return build_context(
        "def add(a, b):\n    ",
        "\n\nprint(add(1, 2))\n",
        language_id="python",
        path="src/app.py",
        multiline=multiline,
        snippets=snippets,
    )


def _code_block(prompt: Prompt) -> str:
    """The code shown for the real request: the last user message, between its code tags."""
    last = prompt.messages[-1][1]
    found = re.search(r"<(file|code)\b[^>]*>\n(.*)\n</\1>", last, re.DOTALL)
    assert found is not None, last
    return found.group(2)


@pytest.mark.parametrize("api", APIS)
def test_the_code_carries_the_marker_exactly_once_at_the_cursor(api: Api) -> None:
    ctx = _ctx()
    prompt = build_prompt(ctx, api)
    code = _code_block(prompt)
    marker = choose_marker(ctx)
    assert code.count(marker) == 1
    assert code == ctx.prefix + marker + ctx.suffix


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("multiline", [True, False])
def test_roles_alternate_starting_and_ending_with_user(api: Api, multiline: bool) -> None:
    prompt = build_prompt(_ctx(multiline=multiline), api)
    roles = [role for role, _ in prompt.messages]
    assert roles[0] == "user" and roles[-1] == "user"
    assert all(r in ("user", "assistant") for r in roles)
    assert all(a != b for a, b in itertools.pairwise(roles))
    assert prompt.system and all(content for _, content in prompt.messages)


@pytest.mark.parametrize("api", APIS)
def test_stops_are_few_and_end_the_answer_tag(api: Api) -> None:
    for multiline in (True, False):
        prompt = build_prompt(_ctx(multiline=multiline), api)
        assert 1 <= len(prompt.stop) <= 4
        assert CLOSE_TAG in prompt.stop
        # No stop that a valid multi-line answer could contain.
        assert not any(s.strip() == "" for s in prompt.stop)


@pytest.mark.parametrize("api", APIS)
def test_language_and_path_are_named(api: Api) -> None:
    prompt = build_prompt(_ctx(), api)
    last = prompt.messages[-1][1]
    assert "src/app.py" in last and "python" in last


@pytest.mark.parametrize("api", APIS)
def test_single_and_multi_line_instructions_differ(api: Api) -> None:
    single = build_prompt(_ctx(multiline=False), api)
    multi = build_prompt(_ctx(multiline=True), api)
    assert "current line" in (single.system + single.messages[-1][1])
    assert "several lines" in multi.system or "one or more lines" in multi.messages[-1][1]
    assert single != multi


def test_anthropic_and_openai_are_tuned_differently() -> None:
    ctx = _ctx(snippets=(Snippet("src/util.py", "def helper():\n    return 1"),))
    claude = build_prompt(ctx, "anthropic")
    other = build_prompt(ctx, "openai")
    # Claude: all rules in the system prompt, one user turn, XML-ish tags.
    assert len(claude.messages) == 1
    assert '<file path="src/app.py" language="python">' in claude.messages[0][1]
    assert '<snippet path="src/util.py">' in claude.messages[0][1]
    assert "Rules:" in claude.system
    # OpenAI format: a short system prompt and one worked example in the same answer shape.
    assert len(other.messages) == 3
    assert len(other.system) < len(claude.system)
    example = other.messages[1][1]
    assert example.startswith(OPEN_TAG) and example.endswith(CLOSE_TAG)
    assert "--- src/util.py ---" in other.messages[-1][1]


def test_the_example_follows_the_mode() -> None:
    single = build_prompt(_ctx(multiline=False), "openai").messages[1][1]
    multi = build_prompt(_ctx(multiline=True), "openai").messages[1][1]
    assert "\n" not in single
    assert "\n" in multi
    # The example teaches: the first line at the cursor, the next lines indented as in the file.
    assert multi.startswith(f"{OPEN_TAG}let total")


@pytest.mark.parametrize("api", APIS)
def test_budget_is_respected(api: Api) -> None:
    big = "\n".join(f"value_{i} = {i}" for i in range(5000))
    ctx = build_context(
        big + "\nx = ",
        "\n" + big,
        language_id="python",
        snippets=[Snippet(f"m{i}.py", big) for i in range(5)],
        prefix_chars=3000,
        suffix_chars=1000,
        snippet_chars=800,
    )
    prompt = build_prompt(ctx, api)
    total = len(prompt.system) + sum(len(c) for _, c in prompt.messages)
    overhead = 2500  # instructions, the example and tags
    assert total <= 3000 + 1000 + 800 + overhead
    last = prompt.messages[-1][1]
    assert "m0.py" in last
    assert "m4.py" not in last  # did not fit


@pytest.mark.parametrize("api", APIS)
def test_snippets_are_omitted_when_there_are_none(api: Api) -> None:
    last = build_prompt(_ctx(), api).messages[-1][1]
    assert "snippet" not in last and "Other open files" not in last


def test_marker_avoids_text_already_in_the_code() -> None:
    ctx = build_context('s = "<CURSOR>"\nt = ', "\n")
    marker = choose_marker(ctx)
    assert marker != "<CURSOR>" and marker in MARKERS
    prompt = build_prompt(ctx, "anthropic")
    assert _code_block(prompt).count(marker) == 1
    assert marker in prompt.system


def test_unknown_language_and_path() -> None:
    ctx = build_context("x = ", "")
    assert "unknown language" in build_prompt(ctx, "openai").messages[-1][1]
    assert ' path="' not in build_prompt(ctx, "anthropic").messages[0][1]
