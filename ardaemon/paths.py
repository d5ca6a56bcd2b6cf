"""Where the daemon keeps its files: config, cache and state directories."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP = "ardaemon"
#: One directory for all of ardaemon's files (config/, cache/, state/), on any platform.
HOME_ENV = "ARDAEMON_HOME"


@dataclass(frozen=True)
class Paths:
    """Where the daemon keeps its files: under `ARDAEMON_HOME` when it is set (config/,
    cache/, state/; one override on every platform, like llm's LLM_USER_PATH), else the
    platform's dirs (platformdirs, which honours XDG_* variables)."""

    config_dir: Path
    cache_dir: Path
    state_dir: Path

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> Paths:
        home = (os.environ if environ is None else environ).get(HOME_ENV, "").strip()
        if home:
            root = Path(home).expanduser()
            return cls(
                config_dir=root / "config", cache_dir=root / "cache", state_dir=root / "state"
            )
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP, appauthor=False)),
            state_dir=Path(platformdirs.user_state_dir(APP, appauthor=False)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.json"

    @property
    def selection_file(self) -> Path:
        return self.state_dir / "selection.json"

    @property
    def feedback_file(self) -> Path:
        return self.state_dir / "feedback.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "ardaemon.log"
