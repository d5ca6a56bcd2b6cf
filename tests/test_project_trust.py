"""The trust boundary of a project's `.ardaemon.toml`, over real stdio: a cloned repository
may choose among the providers the user configured, and only narrow the user's choices."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, isolated_env, stop_daemon
from editor import INVOKED, inline, open_doc, start_in
from lsprotocol import types
from test_presets_project import write

from ardaemon.gateway import Gateway

BACKUP_TOKEN = "sk-backup-0123456789"
#: The user's OpenAI key, set in their shell for other tools: never configured for ardaemon.
OPENAI_KEY = "sk-openai-users-own-key-for-other-tools"


@pytest.fixture
def backup() -> Iterator[Gateway]:
    """A provider the user configured in config.toml (`[providers.backup]`)."""
    with Gateway(token=BACKUP_TOKEN) as gw:
        yield gw


@pytest.fixture
def catcher() -> Iterator[Gateway]:
    """Stands in for api.openai.com: the daemon's HTTPS proxy, so a request meant for the
    real host arrives here (as a CONNECT) instead of the internet."""
    with Gateway(token=None) as gw:
        yield gw


def proxied_env(home: Path, gateway: Gateway, catcher: Gateway) -> dict[str, str]:
    env = isolated_env(
        home,
        AGENTROUTER_API_KEY=TOKEN,
        AGENTROUTER_BASE_URL=gateway.base_url,
        BACKUP_KEY=BACKUP_TOKEN,
        OPENAI_API_KEY=OPENAI_KEY,
        HTTPS_PROXY=catcher.base_url,
    )
    for name in ("HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "all_proxy", "no_proxy"):
        env.pop(name, None)
    env["https_proxy"] = catcher.base_url
    return env


async def test_a_project_fallback_reaches_only_a_configured_provider(
    home: Path, gateway: Gateway, backup: Gateway, catcher: Gateway, tmp_path: Path
) -> None:
    write(
        home / "config" / "config.toml",
        f"""
        [completion]
        debounce_ms = 0
        [providers.backup]
        base_url = "{backup.base_url}"
        token_env = "BACKUP_KEY"
        api = "auto"
        """,
    )
    root = tmp_path / "cloned-repo"
    write(
        root / ".ardaemon.toml",
        """
        [models]
        completion = "gpt-4o-mini"
        [models.fallback]
        completion = ["openai:gpt-4o", "backup:glm-4.6"]
        [completion.languages.go]
        model = "openai:gpt-4o"  # a preset is a model id of the active provider
        """,
    )
    gateway.set_fault("overloaded", paths=["/v1/chat/completions"])  # 503
    client = await start_in(proxied_env(home, gateway, catcher), root)
    try:
        uri = open_doc(client, "def add(a, b):\n    ", (root / "m.py").as_uri(), "python")
        other = open_doc(client, "def sub(a, b):\n    ", (root / "n.py").as_uri(), "python")
        first = await inline(client, 1, 4, INVOKED, uri=uri)
        second = await inline(client, 1, 4, INVOKED, uri=other)
        go = open_doc(client, "func f() {\n\t", (root / "m.go").as_uri(), "go")
        await inline(client, 1, 1, INVOKED, uri=go)
    finally:
        await stop_daemon(client)
    assert catcher.requests == [], "nothing went towards api.openai.com with the user's key"
    assert [r.json["model"] for r in backup.requests if r.json] == ["glm-4.6"] * 3
    # The preset went to the active provider, as a model id (which it may refuse).
    asked = [r.json["model"] for r in gateway.requests if r.json]
    assert list(dict.fromkeys(asked)) == ["gpt-4o-mini", "openai:gpt-4o"]  # 503s are retried
    assert first is not None and first.items and second is not None
    shown = [m.message for m in client.messages if "openai:gpt-4o" in m.message]
    assert len(shown) == 1, "said once, not per completion"
    assert str(root / ".ardaemon.toml") in shown[0]
    assert "models.fallback.completion" in shown[0] and "not configured" in shown[0]
    assert OPENAI_KEY not in " ".join(m.message for m in client.messages)


# The layering, in process ------------------------------------------------------------------


def store_with(tmp_path: Path, config: str, project: str | None = None) -> Any:
    from ardaemon.config import SettingsStore
    from ardaemon.paths import Paths

    paths = Paths(tmp_path / "c", tmp_path / "k", tmp_path / "s")
    write(paths.config_file, config)
    if project is not None:
        write(tmp_path / "repo" / ".ardaemon.toml", project)
    store = SettingsStore(paths, environ={})
    shown: list[str] = []
    store.on_project_warnings = shown.extend
    assert store.load_file() == []
    return store, shown


def test_project_fallbacks_keep_only_configured_providers(tmp_path: Path) -> None:
    store, shown = store_with(
        tmp_path,
        """
        provider = "deepseek"
        [models.fallback]
        chat = ["openai:gpt-5"]
        [providers.backup]
        base_url = "http://127.0.0.1:9"
        """,
        """
        [models.fallback]
        completion = ["openai:gpt-4o", "deepseek:deepseek-coder", "backup:m", "codellama:code"]
        chat = ["anthropic:claude-x"]
        """,
    )
    here = store.settings_for(tmp_path / "repo")
    # The active provider, a [providers.*] table, and a model id with a colon stay.
    assert here.models.fallback.completion == [
        "deepseek:deepseek-coder",
        "backup:m",
        "codellama:code",
    ]
    # Every entry refused: the user's own chain applies, as if the project said nothing.
    assert here.models.fallback.chat == ["openai:gpt-5"]
    assert len(shown) == 2 and all(".ardaemon.toml: models.fallback." in w for w in shown)
    assert "'openai:gpt-4o'" in shown[0] and "'anthropic:claude-x'" in shown[1]
    store._changed()  # a new editor push: the view is rebuilt, the warnings not repeated
    assert store.settings_for(tmp_path / "repo").models.fallback.chat == ["openai:gpt-5"]
    assert len(shown) == 2


def test_editor_fallbacks_keep_only_configured_providers(tmp_path: Path) -> None:
    store, _ = store_with(tmp_path, "[models.fallback]\nchat = ['openai:gpt-5']\n")
    fallback = {"models": {"fallback": {"completion": ["openai:gpt-4o", "agent_router:glm-4.6"]}}}
    warnings = store.set_client({"ardaemon": fallback}) + store.problems()
    assert store.settings.models.fallback.completion == ["agent_router:glm-4.6"]
    assert store.settings.models.fallback.chat == ["openai:gpt-5"], "config.toml is the user's"
    assert len(warnings) == 1 and warnings[0].startswith("settings: models.fallback.completion")
    assert store.set_client({"ardaemon": fallback}) + store.problems() == [], "said once"
    # The editor chose openai as the active provider: a fallback may now name it, and no
    # longer agent_router (neither active nor in config.toml).
    warnings = store.set_init({"provider": "openai"}) + store.problems()
    assert store.settings.models.fallback.completion == ["openai:gpt-4o"]
    assert len(warnings) == 1 and "'agent_router:glm-4.6'" in warnings[0]


def test_a_project_only_narrows_the_users_completion_choices(tmp_path: Path) -> None:
    store, shown = store_with(
        tmp_path,
        """
        [completion]
        enabled = false
        manual = true
        [completion.languages]
        deny = ["dotenv", "plaintext"]
        allow = ["python", "rust", "dotenv"]
        """,
        """
        [completion]
        enabled = true
        manual = false
        [completion.languages]
        deny = []
        allow = ["python", "go"]
        """,
    )
    c = store.settings_for(tmp_path / "repo").completion
    assert (c.enabled, c.manual) == (False, True)
    assert c.language_list("deny") == ["dotenv", "plaintext"]
    assert c.language_list("allow") == ["python"]
    text = "\n".join(shown)
    for key in ("completion.enabled", "completion.manual", "completion.languages.allow ['go']"):
        assert f"{key} ignored" in text, key
    # The editor (the user's own choice, the top layer) may still turn completions on.
    store.set_client({"completion": {"enabled": True}})
    assert store.settings_for(tmp_path / "repo").completion.enabled


def test_a_project_adds_to_the_deny_list_and_may_turn_completions_off(tmp_path: Path) -> None:
    store, shown = store_with(
        tmp_path,
        "[completion.languages]\ndeny = ['dotenv']\nallow = ['python']\n",
        "[completion]\nenabled = false\n[completion.languages]\ndeny = ['markdown']\n",
    )
    c = store.settings_for(tmp_path / "repo").completion
    assert not c.enabled and c.language_list("deny") == ["dotenv", "markdown"]
    assert shown == []
    write(tmp_path / "repo" / ".ardaemon.toml", "[completion.languages]\nallow = ['go']\n")
    os.utime(tmp_path / "repo" / ".ardaemon.toml", ns=(1, 1))  # a new mtime: re-read
    c = store.settings_for(tmp_path / "repo").completion
    # Only languages the user does not allow: none is left, not every one.
    assert not c.enabled and c.language_list("allow") == ["python"]


async def test_a_project_cannot_undo_the_users_off_choices(
    home: Path, gateway: Gateway, tmp_path: Path
) -> None:
    write(
        home / "config" / "config.toml",
        """
        [completion]
        debounce_ms = 0
        enabled = false
        [completion.languages]
        deny = ["markdown"]
        """,
    )
    root = tmp_path / "cloned-repo"
    write(
        root / ".ardaemon.toml",
        "[completion]\nenabled = true\n[completion.languages]\ndeny = []\n",
    )
    env = isolated_env(home, AGENTROUTER_API_KEY=TOKEN, AGENTROUTER_BASE_URL=gateway.base_url)
    client = await start_in(env, root)
    try:
        py = open_doc(client, "def add(a, b):\n    ", (root / "m.py").as_uri(), "python")
        md = open_doc(client, "# Notes\n\n", (root / "README.md").as_uri(), "markdown")
        off = await inline(client, 1, 4, INVOKED, uri=py)
        asked_while_off = len(gateway.requests)
        # The editor's settings are the user's own choice: they may turn completions on.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"ardaemon": {"completion": {"enabled": True}}}
            )
        )
        on = await inline(client, 1, 4, INVOKED, uri=py)
        denied = await inline(client, 2, 0, INVOKED, uri=md)
    finally:
        await stop_daemon(client)
    assert off is None and asked_while_off == 0, "the project did not turn completions on"
    assert on is not None and on.items
    assert denied is None, "the user's deny list still holds inside the project"
    assert gateway.count("/v1/chat/completions") + gateway.count("/v1/messages") == 1
    shown = [m.message for m in client.messages if "completion.enabled ignored" in m.message]
    assert len(shown) == 1 and str(root / ".ardaemon.toml") in shown[0]
