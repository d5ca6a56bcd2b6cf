"""What every command shares: one `Service` built like the daemon's, an event loop, usage errors."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .. import credentials
from ..config import Paths, SettingsStore, providers_table
from ..service import Service
from . import ui

T = TypeVar("T")


class UsageError(Exception):
    """A command line that cannot work as given: exit code 2."""


def make_service(args: argparse.Namespace, *, quiet: bool = False) -> tuple[Service, list[str]]:
    """The daemon's `Service` over the user's config, with `--provider` as the top layer.

    Returns the config warnings too; unless `quiet`, they are printed to stderr.
    """
    paths = Paths.default()
    store = SettingsStore(paths)
    warnings = store.load_file()
    provider = getattr(args, "provider", None)
    if provider:
        table = providers_table(store.settings.providers)
        if provider not in table:
            import difflib

            near = difflib.get_close_matches(provider, list(table), n=3, cutoff=0.4)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise UsageError(
                f"unknown provider '{provider}'.{hint} See `ardaemon providers` for the list."
            )
        layer: dict[str, object] = {"provider": provider}
        if provider != store.settings.provider:
            # A base URL in config.toml belongs to the configured provider, not this one.
            layer["baseUrl"] = None
        store.set_init(layer)
    warnings += store.problems()
    if mode := credentials.file_mode_problem(paths):
        warnings.append(mode)
    if not quiet:
        for warning in warnings:
            ui.warn(warning)
    return Service(paths, store), warnings


def run(service: Service, work: Callable[[Service], Awaitable[T]]) -> T:
    """Run one command's async work, closing upstream connections however it ends.

    Ctrl-C cancels the task (asyncio.run does that since 3.11), so open HTTP streams are
    closed before `KeyboardInterrupt` reaches `main`.
    """

    async def go() -> T:
        try:
            return await work(service)
        finally:
            await service.aclose()

    return asyncio.run(go())


def for_terminal(message: str) -> str:
    """Library messages name JSON-RPC methods; on the command line, name the commands."""
    return (
        message.replace("(ardaemon/listModels, `ardaemon models`)", "(`ardaemon models`)")
        .replace("ardaemon/listModels", "`ardaemon models`")
        .replace("ardaemon/selectModel", "`ardaemon use`")
        .replace("`ardaemon.models.", "`models.")
    )
