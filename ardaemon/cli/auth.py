"""`ardaemon login` and `logout`: one token per provider, checked before it is stored."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .. import credentials, errors
from ..messages import explain
from ..service import Service
from . import ui
from .common import Failure, UsageError, for_terminal, make_service, run

if TYPE_CHECKING:
    from ..catalog import CachedCatalog


async def verify(service: Service, token: str | None) -> CachedCatalog:
    """`GET /v1/models` with this token, the way the daemon would send it."""
    return await service.download_catalog(token)


def save_catalog(service: Service, found: CachedCatalog) -> None:
    """The check already fetched the catalog: keep it, so `ardaemon models` is instant."""
    service.catalog.put(found)


def _read_token(args: argparse.Namespace, service: Service) -> str:
    piped = args.token_stdin or not ui.is_tty(sys.stdin)
    if piped:
        token = sys.stdin.read()
    else:
        import getpass

        try:
            token = getpass.getpass(f"Paste your {service.label} token (input is hidden): ")
        except EOFError:
            token = ""
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[len("bearer ") :].strip()
    if not token and piped:
        raise Failure(
            "stdin held no token (it was empty): check the command that pipes it in, "
            "or run `ardaemon login` in a terminal and paste it."
        )
    if not token:
        raise UsageError("no token given: paste it at the prompt (input is hidden).")
    if any(c.isspace() for c in token):
        raise UsageError("that does not look like a token (it contains spaces or line breaks).")
    return credentials.remember(token)


def login(args: argparse.Namespace) -> int:
    service, _ = make_service(args)
    style = ui.Style(sys.stderr)
    spec = service.provider
    if not args.token_stdin and ui.is_tty(sys.stdin):
        ui.err(f"Logging in to {service.label} at {service.base_url}")
    token = _read_token(args, service)

    found: CachedCatalog | None = None
    if not args.no_verify:
        try:
            found = run(service, lambda s: verify(s, token), listing=True)
        except errors.UnauthorizedClient as exc:
            # The same fact and remedies as every front end's (messages.py), as a list.
            fact, steps = explain(exc, "cli")
            ui.err(style.bad(f"{fact}; the token was not stored. What you can do:"))
            for step in steps:
                ui.err(f"    {style.bullet} {step}")
            ui.err(f"  (config.toml: {service.paths.config_file})")
            ui.err("  To store the token anyway: `ardaemon login --no-verify`.")
            return 1
        except errors.AuthError as exc:
            status = f" (HTTP {exc.status})" if exc.status else ""
            ui.err(style.bad(f"{service.label} rejected this token{status}; it was not stored."))
            ui.err(
                "  Check that you copied all of it, that it has not expired or been deleted, "
                f"and that it belongs to {service.base_url}."
            )
            return 1
        except errors.ArdaemonError as exc:
            ui.err(style.bad(f"Could not check the token: {for_terminal(exc)}"))
            ui.err(
                "  Nothing was stored. To store it without checking: `ardaemon login --no-verify`."
            )
            return 1

    where, dropped = credentials.store(spec, service.paths, token)
    if found is not None:
        save_catalog(service, found)
        count = len(found.models)
        ui.err(
            style.good(
                f"Logged in to {service.label} at {service.base_url} "
                f"({count} model{'s' if count != 1 else ''} available)"
            )
        )
    if where == "keyring":
        ui.err(style.good(f"Token stored in the system keyring ({credentials.keyring_backend()})"))
    else:
        if dropped:
            ui.warn(
                f"the system keyring ({dropped}) accepted the token but did not keep it "
                "(read back empty)."
            )
        ui.err(style.good(f"Token stored in {service.paths.credentials_file} (mode 0600)"))
    if spec.token_env and credentials.lookup(spec, service.paths)[1] == "env":
        ui.warn(
            f"{spec.token_env} is set in this environment and wins over the stored token; "
            f"unset it to use the one you just stored."
        )
    ui.err("Running daemons use it from their next request. Next: `ardaemon models`.")
    return 0


def logout(args: argparse.Namespace) -> int:
    service, _ = make_service(args)
    style = ui.Style(sys.stderr)
    removed, left = credentials.delete(service.provider, service.paths)
    places = {"keyring": "the system keyring", "file": str(service.paths.credentials_file)}
    if removed:
        names = " and ".join(places[r] for r in removed if r in places)
        ui.err(style.good(f"Removed the {service.label} token from {names}"))
    elif not left:
        ui.err(f"No stored token for {service.label}; nothing to remove.")
    if left:
        names = " and ".join(places[r] for r in left if r in places)
        ui.err(
            style.bad(f"The {service.label} token is still in {names}: the deletion did not hold.")
        )
        ui.err("  Remove it with your keyring's own tool (e.g. `keyring del ardaemon NAME`).")
        return 1
    env = service.provider.token_env
    if env and service.environ.get(env, "").strip():
        ui.warn(f"{env} is still set in this environment; unset it to log out completely.")
    return 0
