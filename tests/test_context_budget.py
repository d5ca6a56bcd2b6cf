"""The context budget (`completion.prefixChars` / `completion.suffixChars`): its layers, its
checks, the cache, and what a project file's budget does to the request sent upstream."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, request, stop_daemon
from editor import INVOKED, inline, open_doc, start_in

from ardaemon.completion.context import CompletionContext
from ardaemon.completion.engine import Engine
from ardaemon.config import PROJECT_FILE, SettingsStore
from ardaemon.paths import Paths


def store_with(tmp_path: Path, config_toml: str = "") -> SettingsStore:
    paths = Paths(tmp_path / "c", tmp_path / "k", tmp_path / "s")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(textwrap.dedent(config_toml))
    store = SettingsStore(paths, environ={})
    assert store.load_file() == []
    return store


def test_built_in_budget() -> None:
    from ardaemon.settings import CompletionSettings

    assert (CompletionSettings().prefix_chars, CompletionSettings().suffix_chars) == (6000, 2000)


def test_budget_layers_user_config_then_project_then_editor(tmp_path: Path) -> None:
    store = store_with(tmp_path, "[completion]\nprefix_chars = 5000\n")
    project = tmp_path / "repo"
    project.mkdir()
    (project / PROJECT_FILE).write_text("[completion]\nprefix_chars = 1000\nsuffix_chars = 300\n")
    outside = store.settings_for(None).completion
    assert (outside.prefix_chars, outside.suffix_chars) == (5000, 2000)
    inside = store.settings_for(project).completion
    assert (inside.prefix_chars, inside.suffix_chars) == (1000, 300), "project over config.toml"
    store.set_client({"completion": {"suffixChars": 500}})
    inside = store.settings_for(project).completion
    assert (inside.prefix_chars, inside.suffix_chars) == (1000, 500), "editor over project"
    store.set_client({})
    assert store.settings_for(project).completion.suffix_chars == 300


@pytest.mark.parametrize("bad", [0, -5, 100_001, 10**9, "4000", True, 1500.5, None])
def test_a_bad_budget_is_reported_and_the_default_kept(tmp_path: Path, bad: Any) -> None:
    store = store_with(tmp_path)
    warnings = store.set_client({"completion": {"prefixChars": bad, "suffixChars": 700}})
    assert len(warnings) == 1 and "'completion.prefixChars' ignored" in warnings[0], warnings
    completion = store.settings.completion
    assert (completion.prefix_chars, completion.suffix_chars) == (6000, 700)


def test_a_bad_budget_in_config_toml_names_the_line_and_keeps_the_default(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "c", tmp_path / "k", tmp_path / "s")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("[completion]\nsuffix_chars = 0\nprefix_chars = 100000\n")
    store = SettingsStore(paths, environ={})
    warnings = store.load_file()
    assert warnings == [
        f"{paths.config_file}:2: setting 'completion.suffix_chars' ignored (Expected `int` >= 1)"
    ]
    completion = store.settings.completion
    assert (completion.prefix_chars, completion.suffix_chars) == (100_000, 2000)


def test_a_bad_budget_in_a_project_file_is_reported(tmp_path: Path) -> None:
    store = store_with(tmp_path)
    heard: list[str] = []
    store.on_project_warnings = heard.extend
    project = tmp_path / "repo"
    project.mkdir()
    (project / PROJECT_FILE).write_text("[completion]\nprefix_chars = -1\nsuffix_chars = 10\n")
    completion = store.settings_for(project).completion
    assert (completion.prefix_chars, completion.suffix_chars) == (6000, 10)
    assert len(heard) == 1 and "'completion.prefixChars' ignored" in heard[0], heard


class Upstream:
    def __init__(self) -> None:
        self.prefixes: list[str] = []

    async def __call__(self, ctx: CompletionContext, model: str, max_tokens: int) -> str:
        self.prefixes.append(ctx.prefix)
        return f"answer {len(self.prefixes)}"


async def test_the_cache_never_serves_an_answer_made_with_another_budget() -> None:
    up = Upstream()
    engine = Engine(fetch=up)
    short = "x = 1\n"  # within every budget: the context alone would not tell them apart
    kw: dict[str, Any] = {"model": "m", "api": "openai", "max_tokens": 64}
    first = await engine.complete(short, "", prefix_chars=6000, **kw)
    again = await engine.complete(short, "", prefix_chars=6000, **kw)
    other = await engine.complete(short, "", prefix_chars=100, **kw)
    other_suffix = await engine.complete(short, "", prefix_chars=100, suffix_chars=10, **kw)
    assert first is not None and again is not None and again.cached
    assert other is not None and not other.cached and other.text == "answer 2"
    assert other_suffix is not None and other_suffix.text == "answer 3"
    assert len(up.prefixes) == 3


def sent_text(gateway: Any) -> list[str]:
    """Each completion request's body as sent upstream (prompt and all)."""
    return [
        json.dumps(r.json)
        for r in gateway.requests
        if r.path in ("/v1/chat/completions", "/v1/messages")
    ]


async def test_a_project_files_smaller_budget_changes_what_is_sent(
    home: Path, gateway: Any, tmp_path: Path
) -> None:
    """Over real stdio: the same document sends its whole prefix from a plain folder, only
    its last ~300 characters from a project whose `.ardaemon.toml` says so; a bad value in
    another project's file is reported and the default kept."""
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[models]\ncompletion = 'gpt-4o'\n[completion]\ndebounce_ms = 0\n")
    small, plain, broken = tmp_path / "small", tmp_path / "plain", tmp_path / "broken"
    for folder in (small, plain, broken):
        folder.mkdir()
    (small / PROJECT_FILE).write_text("[completion]\nprefix_chars = 300\nsuffix_chars = 50\n")
    (broken / PROJECT_FILE).write_text("[completion]\nprefix_chars = 0\n")
    # 60 numbered lines (~1,300 characters) before the cursor, 10 after.
    before = "".join(f"value_{n:03d} = {n}\n" for n in range(60))
    after = "".join(f"after_{n:03d} = {n}\n" for n in range(10))
    text = before + "total = " + "\n" + after
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_in(env, small, plain, broken)
    try:
        for folder in (small, plain, broken):
            # A first line of its own: no cache hit across the folders.
            own = f"# {folder.name}\n" + text
            uri = open_doc(client, own, (folder / "values.py").as_uri())
            await inline(client, 61, len("total = "), INVOKED, uri=uri)
        # Not a project document: `ardaemon/complete` with its own text keeps the default.
        await request(client, "ardaemon/complete", {"prefix": before, "suffix": after})
    finally:
        await stop_daemon(client)
    in_small, in_plain, in_broken, raw = sent_text(gateway)
    assert "value_059 = 59" in in_small and "value_000 = 0" not in in_small
    assert "value_030" not in in_small, "about 300 characters: the last ~20 lines only"
    assert "after_000" in in_small and "after_009" not in in_small, "the suffix budget too"
    for full in (in_plain, in_broken, raw):
        assert "value_000 = 0" in full and "after_009 = 9" in full
    warned = "\n".join(m.message for m in client.messages)
    assert f"{broken / PROJECT_FILE}: setting 'completion.prefixChars' ignored" in warned
