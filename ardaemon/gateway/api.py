"""`Gateway`: the stand-in server on a background thread, controlled from the test thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from ..paths import HOME_ENV
from ..providers import shipped_providers
from .server import GatewayServer
from .state import RecordedRequest, State, make_fault

DEFAULT_TOKEN = "sk-test-token"


def isolated_env(home: str | os.PathLike[str], **extra: str) -> dict[str, str]:
    """This process's environment minus every variable a provider reads (each token and
    base URL variable of the shipped table), plus `ARDAEMON_HOME=home` (the daemon's
    config/, cache/ and state/ under `home` on every platform: platformdirs ignores XDG_*
    on macOS and Windows) and no keyring: a daemon started with it touches nothing of the
    user's. XDG_* point under `home` too, for whatever else reads them."""
    provider_vars = {
        name
        for spec in shipped_providers().values()
        for name in (spec.get("token_env"), spec.get("base_url_env"))
        if name
    }
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTROUTER_", "XDG_", "OPENAI_", "ANTHROPIC_"))
        and k not in provider_vars
        and k != HOME_ENV
    }
    env.update(
        {HOME_ENV: os.fspath(home)},
        XDG_CACHE_HOME=os.path.join(home, "xdg", "cache"),
        XDG_CONFIG_HOME=os.path.join(home, "xdg", "config"),
        XDG_STATE_HOME=os.path.join(home, "xdg", "state"),
        ARDAEMON_NO_KEYRING="1",
    )
    env.update(extra)
    return env


class Gateway:
    """A local AgentRouter: `/v1/models`, `/v1/chat/completions`, `/v1/messages`, plus faults.

    `token` is the accepted token (or a list of them); `None` accepts any non-empty token.
    """

    def __init__(
        self,
        token: str | Sequence[str] | None = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Iterable[str | Mapping[str, Any]] | None = None,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        tokens = [token] if isinstance(token, str) else token
        self.token = tokens[0] if tokens else None
        self.host = host
        self.port = port
        self._state = State(tokens, models, latency, chunk_delay)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> Gateway:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._main(ready, failure)),
            name="ardaemon-gateway",
            daemon=True,
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = GatewayServer(self._state, self.host, self.port)
        try:
            self.port = await server.start()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            await server.close()

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without `/v1` (the Anthropic-style base)."""
        return f"http://{self.host}:{self.port}"

    def daemon_env(self, home: str | os.PathLike[str], **extra: str) -> dict[str, str]:
        """The environment for an `ardaemon serve` that talks to this stand-in, with its own
        dirs under `home` (never the user's real cache, selection or token)."""
        return isolated_env(
            home,
            AGENTROUTER_API_KEY=self.token or DEFAULT_TOKEN,
            AGENTROUTER_BASE_URL=self.base_url,
            **extra,
        )

    # Behaviour --------------------------------------------------------------------------------

    def set_fault(
        self,
        name: str,
        *,
        times: int | None = None,
        paths: Iterable[str] | str | None = None,
        **opts: Any,
    ) -> None:
        """Make matching requests fail like the real service; see the package docs for names."""
        self._state.set_fault(make_fault(name, times, paths, opts))

    def clear_faults(self) -> None:
        self._state.clear_faults()

    def set_replies(self, rules: Iterable[Sequence[str]]) -> None:
        """Replace the reply rules: the first (substring, reply) whose substring occurs wins."""
        self._state.set_rules(rules)

    def add_reply(self, substring: str, reply_text: str) -> None:
        self._state.set_rules([(substring, reply_text)], prepend=True)

    def set_models(self, models: Iterable[str | Mapping[str, Any]] | None) -> None:
        """Replace the catalog (`None`: the default one)."""
        self._state.set_models(models)

    def set_prices(self, prices: Mapping[str, tuple[float, float]]) -> None:
        """Give catalog models OpenRouter-style `pricing` (US dollars per token, as strings),
        from (input, output) US dollars per million tokens as config.toml's `prices` has them:
        `{"gpt-4o": (2.5, 10.0)}`. A model not in the catalog is added."""
        self._state.set_prices(prices)

    def set_reply_headers(self, headers: Mapping[str, str]) -> None:
        """Headers added to every successful model reply, e.g. LiteLLM's
        `{"x-litellm-response-cost": "0.00042"}`."""
        with self._state.cond:
            self._state.reply_headers = [(k.lower(), str(v)) for k, v in headers.items()]

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._state.cond:
            self._state.latency = float(seconds)

    @property
    def chunk_delay(self) -> float:
        return self._state.chunk_delay

    @chunk_delay.setter
    def chunk_delay(self, seconds: float) -> None:
        with self._state.cond:
            self._state.chunk_delay = float(seconds)

    def reset(self) -> None:
        """Forget requests, faults, connections; restore replies, catalog and timings."""
        self._state.reset()

    # Observation ------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._state.list_requests()

    def count(self, path: str | None = None) -> int:
        return sum(1 for r in self._state.list_requests() if path is None or r.path == path)

    @property
    def connections(self) -> int:
        return self._state.connections

    def wait_disconnect(self, timeout: float = 5.0) -> RecordedRequest | None:
        """The next request whose client went away before its response was complete."""
        return self._state.wait_disconnect(timeout)
