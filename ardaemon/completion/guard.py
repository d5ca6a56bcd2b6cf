"""Which open documents completion may read: never secret files, never huge ones.

Secret files (`.env`, keys, credential stores) are matched on the document's path by
default-deny globs plus the user's `completion.exclude`; neither their text nor snippets
of them ever go upstream. Documents over `completion.maxDocumentSize` characters are not
kept in memory at all (a 10 MB file cost ~170 MB of RSS that never came back).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

#: Matched against the file name, and against the whole path for patterns with a `/`.
DEFAULT_EXCLUDE = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "credentials*.json",
    "*/.aws/credentials",
    "*/.ssh/*",
    "*/.gnupg/*",
)


def excluded_by(uri: str, extra: list[str]) -> str | None:
    """The glob that keeps this document from completion, if any."""
    return _excluded_by(uri, tuple(extra))


#: Asked twice per completion request, with the same answer until the settings change;
#: matching ~25 globs costs more than the rest of a cache hit on the request's path.
@functools.lru_cache(maxsize=1024)
def _excluded_by(uri: str, extra: tuple[str, ...]) -> str | None:
    parsed = urlparse(uri)
    path = PurePosixPath(unquote(parsed.path) if parsed.scheme else uri)
    name, full = path.name.lower(), str(path).lower()
    for pattern in (*DEFAULT_EXCLUDE, *extra):
        glob = pattern.lower()
        if fnmatchcase(full if "/" in glob else name, glob):
            return pattern
    return None


class DocumentGuard:
    """Per-session bookkeeping: documents refused for size, refusals already reported."""

    def __init__(self) -> None:
        self.too_large: dict[str, int] = {}
        self._reported: set[str] = set()

    def refusal(self, uri: str, extra_exclude: list[str], max_size: int) -> str | None:
        """Why completion is off for this document, or None."""
        pattern = excluded_by(uri, extra_exclude)
        if pattern is not None:
            return f"it matches `{pattern}` (completion.exclude); secret files are never sent"
        size = self.too_large.get(uri)
        if size is not None:
            return f"it has {size:,} characters, over completion.maxDocumentSize ({max_size:,})"
        return None

    def first_report(self, uri: str) -> bool:
        """True once per document: the editor is told once, not per keystroke."""
        if uri in self._reported:
            return False
        self._reported.add(uri)
        return True

    def forget(self, uri: str) -> None:
        self._reported.discard(uri)
        if self.too_large.pop(uri, None) is not None:
            release_memory()


def release_memory() -> None:
    """Give freed memory back to the OS: glibc keeps it in the heap otherwise."""
    gc.collect()
    if sys.platform.startswith("linux"):
        import ctypes  # not at start-up: needed only after a large document is closed

        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to do
            ctypes.CDLL("libc.so.6").malloc_trim(0)
