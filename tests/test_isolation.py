"""The tests' own isolation: a daemon started with `isolated_env` reads no provider
variable of the developer's and writes only under the test's home, on every platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from ardaemon.gateway import isolated_env
from ardaemon.paths import Paths
from ardaemon.providers import shipped_providers


def test_isolated_env_drops_every_provider_variable_and_sets_the_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = {
        name
        for spec in shipped_providers().values()
        for name in (spec.get("token_env"), spec.get("base_url_env"))
        if name
    }
    assert {"DEEPSEEK_API_KEY", "LITELLM_BASE_URL", "LITELLM_API_KEY"} <= names
    for name in names:
        monkeypatch.setenv(name, "the developer's own")
    monkeypatch.setenv("ARDAEMON_HOME", str(tmp_path / "developer"))
    env = isolated_env(tmp_path / "test", AGENTROUTER_API_KEY="given")
    assert sorted(names & env.keys()) == ["AGENTROUTER_API_KEY"]
    assert env["AGENTROUTER_API_KEY"] == "given"
    # ARDAEMON_HOME, not XDG_*: platformdirs ignores XDG on macOS and Windows.
    paths = Paths.default(env)
    for d in (paths.config_dir, paths.cache_dir, paths.state_dir):
        assert d.is_relative_to(tmp_path / "test"), d
