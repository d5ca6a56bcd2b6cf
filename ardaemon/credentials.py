"""The token: environment variable, then the OS keyring, then a 0600 file. Nowhere else.

Lookups happen per request (cheap: env and a small file; keyring only when the env has
nothing), so a token stored by `ardaemon login` reaches a running daemon without restart.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from . import errors
from .files import atomic_write
from .paths import Paths
from .protocol import TokenSource
from .providers import ProviderSpec

log = logging.getLogger(__name__)

Source = Literal["env", "keyring", "file", "none"]
KEYRING_SERVICE = "ardaemon"

_known: set[str] = set()


#: Shorter strings are not real tokens, and masking them would garble ordinary words.
MIN_REDACT = 8


def remember(token: str) -> str:
    if len(token) >= MIN_REDACT:
        _known.add(token)
    return token


def lookup(
    provider: ProviderSpec, paths: Paths, environ: Mapping[str, str] | None = None
) -> tuple[str | None, Source]:
    environ = os.environ if environ is None else environ
    if provider.token_env and environ.get(provider.token_env, "").strip():
        return remember(environ[provider.token_env].strip()), "env"
    token = _keyring_get(provider.name)
    if token:
        return remember(token), "keyring"
    token = _file_get(paths, provider.name)
    if token:
        return remember(token), "file"
    return None, "none"


class Stored(NamedTuple):
    where: Literal["keyring", "file"]
    #: The keyring backend that accepted the token but did not keep it (read back empty
    #: or different): the token went to the file instead, and the user is told.
    keyring_dropped: str | None = None


def store(provider: ProviderSpec, paths: Paths, token: str) -> Stored:
    """Keep the token in the keyring when one works, else in the 0600 file. A keyring
    write is read back: some backends (keyring's null backend, a locked or broken
    Secret Service) accept a write and drop it."""
    remember(token)
    dropped = None
    if _keyring_set(provider.name, token):
        if _keyring_get(provider.name) == token:
            _file_delete(paths, provider.name)
            return Stored("keyring")
        dropped = keyring_backend() or "the keyring"
        log.warning("%s accepted the token but did not keep it; using the file", dropped)
    _file_set(paths, provider.name, token)
    return Stored("file", dropped)


class Deleted(NamedTuple):
    removed: list[Source]
    #: Places that still hold the token after the deletion (read back).
    left: list[Source]


def delete(provider: ProviderSpec, paths: Paths) -> Deleted:
    removed: list[Source] = []
    if _keyring_delete(provider.name):
        removed.append("keyring")
    if _file_delete(paths, provider.name):
        removed.append("file")
    left: list[Source] = []
    if _keyring_get(provider.name):
        left.append("keyring")
    if _file_get(paths, provider.name):
        left.append("file")
    return Deleted([r for r in removed if r not in left], left)


def file_mode_problem(paths: Paths) -> str | None:
    """A warning when the credentials file can be read by others than its owner."""
    if os.name != "posix":
        return None
    try:
        mode = paths.credentials_file.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return (
            f"{paths.credentials_file} has mode {mode:04o}: other users may read your token; "
            f"run `chmod 600 {paths.credentials_file}`"
        )
    return None


_backend: list[str | None] = []  # discovered once per process: it costs about 0.4 s


def keyring_backend() -> str | None:
    """Name of a usable keyring backend, or None (fail backends and missing module).

    Only called when the keyring is the source asked (no token in the environment), and
    discovered once; `--debug` shows that one discovery and what it cost.
    """
    if not _backend:
        import time

        started = time.perf_counter()
        name = _discover_backend()
        log.debug(
            "keyring: %s (discovered in %.0f ms)",
            name or "no usable backend",
            (time.perf_counter() - started) * 1000,
        )
        _backend.append(name)
    return _backend[0]


def _discover_backend() -> str | None:
    try:
        import keyring
        from keyring.backends import fail
    except Exception:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or "fail" in type(backend).__module__:
        return None
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _keyring_get(name: str) -> str | None:
    if os.environ.get("ARDAEMON_NO_KEYRING") or keyring_backend() is None:
        return None
    import keyring

    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except Exception as exc:
        log.debug("keyring lookup failed: %s", type(exc).__name__)
        return None


def _keyring_set(name: str, token: str) -> bool:
    if os.environ.get("ARDAEMON_NO_KEYRING") or keyring_backend() is None:
        return False
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, name, token)
        return True
    except Exception as exc:
        log.debug("keyring store failed: %s", type(exc).__name__)
        return False


def _keyring_delete(name: str) -> bool:
    if os.environ.get("ARDAEMON_NO_KEYRING") or keyring_backend() is None:
        return False
    import keyring

    try:
        if keyring.get_password(KEYRING_SERVICE, name) is None:
            return False
        keyring.delete_password(KEYRING_SERVICE, name)
        return True
    except Exception:
        return False


def _file_read(paths: Paths) -> dict[str, str]:
    try:
        data = json.loads(paths.credentials_file.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


_mode_warned: set[str] = set()


def _file_get(paths: Paths, name: str) -> str | None:
    token = _file_read(paths).get(name) or None
    if token and str(paths.credentials_file) not in _mode_warned:
        problem = file_mode_problem(paths)
        if problem:
            _mode_warned.add(str(paths.credentials_file))
            log.warning("%s", problem)
    return token


def _file_write(paths: Paths, data: dict[str, str]) -> None:
    atomic_write(paths.credentials_file, json.dumps(data).encode(), mode=0o600)


def _file_set(paths: Paths, name: str, token: str) -> None:
    data = _file_read(paths)
    data[name] = token
    _file_write(paths, data)


def _file_delete(paths: Paths, name: str) -> bool:
    data = _file_read(paths)
    if name not in data:
        return False
    del data[name]
    if data:
        _file_write(paths, data)
    else:
        paths.credentials_file.unlink(missing_ok=True)
    return True


def redact(text: str) -> str:
    """Replace every known token in `text`; used on log records and error messages."""
    for token in _known:
        if token and token in text:
            text = text.replace(token, "***")
    return text


def require(provider: ProviderSpec, paths: Paths, environ: Mapping[str, str]) -> str | None:
    """The token for a request; a provider that needs one and has none is an AuthError."""
    token, _ = lookup(provider, paths, environ)
    if token is None and provider.token_required:
        raise errors.AuthError(reason="no_token").add_context(
            provider=provider.label or provider.name,
            token_env=provider.token_env or "the provider's token variable",
        )
    return token


@dataclass(frozen=True)
class Tokens:
    """The tokens of the daemon's providers: by default the configured one (which changes
    with the settings), or another that the fallback chain names."""

    current: Callable[[], ProviderSpec]
    paths: Paths
    environ: Mapping[str, str]

    def lookup(self, provider: ProviderSpec | None = None) -> tuple[str | None, Source]:
        chosen = self.current() if provider is None else provider
        return lookup(chosen, self.paths, self.environ)

    def require(self) -> str | None:
        return require(self.current(), self.paths, self.environ)

    def source(self) -> TokenSource:
        return source_of(self.current(), self.paths, self.environ)


def source_of(provider: ProviderSpec, paths: Paths, environ: Mapping[str, str]) -> TokenSource:
    """Where the token comes from (never the token itself)."""
    _, source = lookup(provider, paths, environ)
    detail: str | None = None
    if source == "env":
        detail = provider.token_env
    elif source == "keyring":
        detail = keyring_backend()
    elif source == "file":
        detail = str(paths.credentials_file)
    return TokenSource(source=source, detail=detail)
