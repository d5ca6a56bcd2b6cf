"""A file-backed keyring backend for tests, chosen the way users choose one.

Selected with `PYTHON_KEYRING_BACKEND=fake_keyring.FileKeyring` (and `tests/` on PYTHONPATH),
so keyring's own configuration picks it and no real keychain is ever touched. The file is
`$TEST_KEYRING_FILE`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text("utf-8"))
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data), "utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)


class StickyKeyring(FileKeyring):
    """A keyring whose deletions report success and keep the password (a broken backend)."""

    def delete_password(self, service: str, username: str) -> None:
        pass
