"""Issue 16's CLI points, each over the real CLI (`python -m ardaemon`) against the stand-in.

The fixtures come from test_cli.py by import (pytest finds them by name).
"""
# ruff: noqa: F811

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN
from test_cli import (  # noqa: F401
    Runner,
    cli,
    credentials_file,
    keyring_env,
    plain_env,
    run_in_pty,
    with_token,
)

pytestmark = pytest.mark.subprocess


def test_status_exits_0_with_a_report_even_without_a_token(cli: Runner) -> None:
    done = cli("status")
    assert done.returncode == 0, done.stderr
    assert "none — run `ardaemon login`" in done.stdout


def test_complete_counts_lines_like_wc_and_a_missing_file_is_not_a_usage_error(
    cli: Runner, plain_env: dict[str, str], tmp_path: Path
) -> None:
    env = with_token(plain_env)
    fib = tmp_path / "fib.py"
    fib.write_text("def fibonacci(n):\n    pass\n")  # two lines, ending in a line break
    done = cli("complete", f"{fib}:4:1", env=env)
    assert done.returncode == 2 and f"{fib} has 2 lines; line 4 does not exist" in done.stderr
    assert cli("complete", f"{fib}:3:1", env=env).returncode == 0  # after the last line break
    missing = cli("complete", f"{tmp_path}/nope.py:1:1", env=env)
    assert missing.returncode == 1, missing.stderr
    assert "no such file" in missing.stderr and "--help" not in missing.stderr


def test_complete_ends_with_a_line_break_on_a_terminal_only(
    plain_env: dict[str, str], gateway: Any, tmp_path: Path, cli: Runner
) -> None:
    gateway.set_replies([["", "return 42"]])
    src = tmp_path / "answer.py"
    src.write_text("def answer():\n    \n")
    env = with_token(plain_env)
    piped = cli("complete", f"{src}:2:5", env=env)
    assert piped.returncode == 0 and piped.stdout and not piped.stdout.endswith("\n")
    code, shown = run_in_pty(["complete", f"{src}:2:5"], env)
    assert code == 0
    assert shown.endswith(piped.stdout.replace("\n", "\r\n") + "\r\n"), repr(shown)


def test_login_token_stdin_with_empty_input(cli: Runner, home: Path) -> None:
    done = cli("login", "--token-stdin", input="\n")
    assert done.returncode == 1, done.stderr
    assert "stdin held no token" in done.stderr
    assert "--token-stdin" not in done.stderr and "--help" not in done.stderr
    assert not credentials_file(home).exists()


def test_providers_honours_the_base_url_variable(cli: Runner, gateway: Any) -> None:
    rows = json.loads(cli("providers", "--json").stdout)
    mine = next(p for p in rows if p["name"] == "agent_router")
    assert mine["baseUrl"] == gateway.base_url
    assert mine["baseUrlSource"] == "AGENTROUTER_BASE_URL"
    assert f"{gateway.base_url} (AGENTROUTER_BASE_URL)" in cli("providers").stdout
    other = next(p for p in rows if p["name"] == "openai")
    assert (other["baseUrl"], other["baseUrlSource"]) == ("https://api.openai.com", "default")


def test_config_warnings_name_the_key_as_written_with_file_and_line(
    cli: Runner, home: Path
) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'provider = "agent_router"\nbogus_key = 1\n\n[completion]\nmax_tokens = "x"\n'
    )
    done = cli("providers")
    assert f"{config}:2: unknown setting 'bogus_key' ignored" in done.stderr
    assert f"{config}:5: setting 'completion.max_tokens' ignored" in done.stderr
    assert "bogusKey" not in done.stderr and "maxTokens" not in done.stderr


def test_keyring_is_discovered_only_when_asked_and_said_once(
    cli: Runner, keyring_env: dict[str, str]
) -> None:
    # A token in the environment: the keyring is not the source asked, so never discovered.
    with_env = cli("--debug", "status", env=with_token(keyring_env))
    assert with_env.returncode == 0
    assert "keyring" not in with_env.stderr.lower()
    # No token in the environment: discovered once, and --debug says so once.
    without = cli("--debug", "status", env=keyring_env)
    assert without.stderr.count("keyring:") == 1, without.stderr
    assert "FileKeyring (discovered in" in without.stderr


def test_chat_and_complete_check_the_model_against_the_catalog(
    cli: Runner, plain_env: dict[str, str], gateway: Any, tmp_path: Path
) -> None:
    env = with_token(plain_env)
    done = cli("chat", "-m", "claude-sonet-4-5", "hi", env=env)
    assert done.returncode == 1
    assert "unknown model 'claude-sonet-4-5'" in done.stderr.lower()
    assert "Did you mean claude-sonnet-4-5-20250929" in done.stderr
    src = tmp_path / "a.py"
    src.write_text("x = \n")
    done = cli("complete", "-m", "gpt-55", f"{src}:1:5", env=env)
    assert done.returncode == 1 and "Did you mean gpt-5" in done.stderr
    assert gateway.count("/v1/chat/completions") == gateway.count("/v1/messages") == 0
    # The catalog unreachable: warn, and ask anyway.
    gateway.set_fault("server_error", paths="/v1/models")
    (tmp_path / "gone").mkdir()
    fresh = {**env, "ARDAEMON_HOME": str(tmp_path / "gone")}
    done = cli("chat", "-m", "gpt-5", "hi", env=fresh)
    assert done.returncode == 0, done.stderr
    assert "could not check gpt-5 against the catalog" in done.stderr
    assert "Hello from gpt-5" in done.stdout


@pytest.mark.parametrize("command", [["models"], ["chat", "hi"]])
def test_a_base_url_that_is_not_a_url_is_named_with_its_source(
    cli: Runner, plain_env: dict[str, str], command: list[str]
) -> None:
    env = {**with_token(plain_env), "AGENTROUTER_BASE_URL": "notaurl"}
    done = cli(*command, env=env)
    assert done.returncode == 1
    assert "the base URL 'notaurl' (from AGENTROUTER_BASE_URL) is not a URL" in done.stderr
    assert "connection" not in done.stderr.lower()


def test_a_base_url_with_a_wrong_path_says_so_not_pick_another_model(
    cli: Runner, plain_env: dict[str, str], gateway: Any
) -> None:
    env = {**with_token(plain_env), "AGENTROUTER_BASE_URL": gateway.base_url + "/wrong/path"}
    for command in (
        ["models"],
        ["login", "--token-stdin"],
        ["chat", "-m", "gpt-5", "hi"],
        ["chat", "hi"],  # no -m: the 404 comes from the chat endpoint itself
    ):
        done = cli(*command, env=env, input=TOKEN)
        assert done.returncode == 1, done.stderr
        assert "the base URL's path does not serve the API" in done.stderr
        assert "(from AGENTROUTER_BASE_URL)" in done.stderr
        assert "pick another model" not in done.stderr


@pytest.mark.parametrize(
    ("fault", "opts", "ours"),
    [
        ("rate_limit", {"retry_after": 2}, "Retry in 2 s, or pick another model."),
        ("server_error", {}, "Try again later."),
    ],
)
def test_the_gateways_message_is_quoted_then_one_sentence_of_ours(
    cli: Runner, plain_env: dict[str, str], gateway: Any, fault: str, opts: Any, ours: str
) -> None:
    gateway.set_fault(fault, **opts)
    done = cli("chat", "-m", "gpt-5", "hi", env=with_token(plain_env))
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    # The gateway's sentence in quotes, ours after it: nothing glued into "!:" or "1s: retry".
    quoted = re.search(r'"([^"]+)"\. (.+)$', line)
    assert quoted, line
    assert quoted[2] == ours
    assert "!:" not in line and ": retry" not in line.lower()
