"""What every command shares: one `Service` built like the daemon's, an event loop, usage errors."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .. import credentials
from ..config import SettingsStore
from ..errors import ArdaemonError
from ..messages import did_you_mean, render
from ..paths import Paths
from ..providers import providers_table
from ..service import Service
from . import ui

T = TypeVar("T")


class UsageError(Exception):
    """A command line that cannot work as given: exit code 2."""


class Failure(Exception):
    """A well-formed command that cannot be done (a missing file, empty input): exit code 1."""


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
            raise UsageError(
                f"unknown provider '{provider}'. {did_you_mean(near)}"
                "See `ardaemon providers` for the list."
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


def base_url_source(service: Service) -> str:
    """Where the base URL comes from: its environment variable, config.toml or the default."""
    spec = service.provider
    if spec.base_url_env and service.environ.get(spec.base_url_env):
        return spec.base_url_env
    if service.store.init_layer and "baseUrl" in service.store.init_layer:
        return "default"
    if service.store.file_layer and service.store.file_layer.get("baseUrl"):
        return f"baseUrl in {service.paths.config_file}"
    return "default"


def check_base_url(service: Service) -> None:
    """A base URL that is not a URL is named as such, with where it came from, before any
    request turns it into a network error."""
    from urllib.parse import urlsplit

    url = service.base_url
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise Failure(
            f"the base URL '{url}' (from {base_url_source(service)}) is not a URL: write it as "
            f"http(s)://host[:port][/path], e.g. {service.provider.base_url}."
        )


def run(service: Service, work: Callable[[Service], Awaitable[T]], *, listing: bool = False) -> T:
    """Run one command's async work, closing upstream connections however it ends.

    Ctrl-C (SIGINT) cancels the work, so open HTTP streams are closed, then
    `KeyboardInterrupt` reaches `main`. The handler is our own: asyncio.run's is not
    installed when SIGINT was ignored at start (any command started in the background
    by a non-interactive shell, as test runners and CI do), so the interrupt was lost;
    and it turned the cancel into KeyboardInterrupt only when the task ended cancelled
    with no other uncancel() in between. Here an interrupt is never lost: the work is
    cancelled (again every half second, should a library swallow one) and the command
    ends with KeyboardInterrupt however the work ended.

    `listing`: the work fetches the catalog, so an HTTP 404 means the base URL's path does
    not serve the API (not a missing model).
    """
    from .. import errors

    check_base_url(service)

    async def go() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(work(service))
        interrupted = False

        def interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            if not task.done():
                task.cancel()
                loop.call_later(0.5, interrupt)

        handled = False
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, threads
            loop.add_signal_handler(signal.SIGINT, interrupt)
            handled = True
        try:
            result = await task
        except errors.UpstreamError as exc:
            if interrupted:
                pass  # the interrupt wins, below
            elif not listing and exc.status == 404 and await serves_no_api(service):
                raise path_not_api(service) from None
            else:
                raise
        except BaseException:
            if not interrupted:
                raise
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGINT)
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            await service.aclose()
        if interrupted:
            raise KeyboardInterrupt
        return result

    try:
        return asyncio.run(go())
    except errors.UpstreamError as exc:
        if not listing or exc.status != 404:
            raise
        raise path_not_api(service) from None


async def serves_no_api(service: Service) -> bool:
    """A 404 from a model endpoint reads as "no such model"; when `/v1/models` answers
    404 as well, the base URL is what is wrong, and saying "pick another model" misleads."""
    from .. import errors

    try:
        await service.catalog.get(refresh=True)
    except errors.UpstreamError as exc:
        return exc.status == 404
    except errors.ArdaemonError:
        return False
    return False


def path_not_api(service: Service) -> Failure:
    """`/v1/models` answered 404: the base URL is wrong, whatever a model-shaped error says."""
    return Failure(
        f"{service.base_url}/v1/models answered HTTP 404: the base URL's path does not serve "
        f"the API. Check the base URL (from {base_url_source(service)}); for "
        f"{service.label} it is usually {service.provider.base_url}."
    )


async def check_model(service: Service, model: str | None) -> None:
    """`-m MODEL` is held to the catalog as `ardaemon use` holds it: an unknown id fails with
    close matches. A stale or unreachable catalog only warns; the request then goes out."""
    from .. import catalog, errors

    if not model:
        return
    try:
        found, _, stale = await service.catalog.get()
    except errors.UpstreamError as exc:
        if exc.status == 404:
            raise path_not_api(service) from None
        ui.warn(f"could not check {model} against the catalog ({for_terminal(exc)})")
        return
    except errors.ArdaemonError as exc:
        ui.warn(f"could not check {model} against the catalog ({for_terminal(exc)})")
        return
    if found.get(model) is not None:
        return
    near = catalog.close_matches(model, found.ids)
    if stale:
        ui.warn(
            f"{model} is not in the cached (stale) catalog; {did_you_mean(near)}trying it anyway."
        )
        return
    raise errors.UnknownModel(model, near).add_context(provider=service.label)


def for_terminal(error: ArdaemonError) -> str:
    """An error in the command line's words (commands, config.toml keys)."""
    return render(error, "cli")
