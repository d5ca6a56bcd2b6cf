"""Service, the catalog store, the model choice, routing, config and credentials, in
process: an httpx.MockTransport stands in for the gateway (no sockets, no subprocess)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from ardaemon import credentials, errors, http
from ardaemon.config import SettingsStore
from ardaemon.gateway import wire as gw
from ardaemon.gateway.replies import Generation
from ardaemon.paths import Paths
from ardaemon.protocol import ChatParams, Selected
from ardaemon.providers import ProviderSpec
from ardaemon.router import bare_id, is_claude, wire_format
from ardaemon.service import Service

TOKEN = "sk-unit-0123456789"
MODELS = ["glm-4.6", "claude-sonnet-4-5", "deepseek-v3"]


class Gateway:
    """Answers /v1/models and /v1/chat/completions; counts what it was asked."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            return httpx.Response(503, json={"error": {"message": "maintenance"}})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": {"message": "invalid token"}})
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": m} for m in MODELS]})
        gen = Generation("", "Hi!", "stop", None, 3, 1, 0)
        return httpx.Response(200, json=gw.openai_completion(gen, "glm-4.6", "c1"))

    def count(self, path: str) -> int:
        return sum(r.url.path == path for r in self.requests)


def make(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[Service, Gateway]:
    paths = Paths(tmp_path / "config", tmp_path / "cache", tmp_path / "state")
    environ = {"ARDAEMON_NO_KEYRING": "1", "AGENTROUTER_BASE_URL": "https://gw.example"}
    environ.update(env if env is not None else {"AGENTROUTER_API_KEY": TOKEN})
    fake = Gateway()
    store = SettingsStore(paths, environ=environ)
    return Service(paths, store, transport=httpx.MockTransport(fake), environ=environ), fake


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_catalog_is_fetched_once_then_served_from_cache_and_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the retries' back-off, without the wait
        waits.append(seconds)

    monkeypatch.setattr(http.asyncio, "sleep", sleep)
    service, fake = make(tmp_path)
    first = run(service.list_models())
    assert [m.id for m in first.models] == MODELS and first.source == "network"
    assert [m.api for m in first.models] == ["openai", "anthropic", "openai"]
    again, _ = make(tmp_path)  # a new daemon reads the disk cache
    second = run(again.list_models())
    assert second.source == "cache" and not second.stale
    fake.down = True
    stale = run(service.list_models(refresh=True))
    assert stale.source == "cache" and stale.stale is True
    assert len(waits) == 2, "the refresh retried the 503 before it served the cache"


def test_selection_order_and_persistence(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    assert service.models.model("chat") == "claude-sonnet-4-5-20250929", "provider default"
    run(service.list_models())
    selected = run(service.select_model("deepseek-v3", "chat"))
    assert selected.chat == "deepseek-v3"
    restarted, _ = make(tmp_path)
    assert restarted.models.current().chat == "deepseek-v3", "kept across a restart"
    assert restarted.models.model("chat", "glm-4.6") == "glm-4.6", "the request's own wins"
    restarted.store.set_client({"models": {"chat": "glm-4.6"}})
    restarted.models.apply_settings()
    assert restarted.models.current() == Selected(completion="glm-4.6", chat="glm-4.6")


def test_an_unknown_model_is_refused_with_close_matches(tmp_path: Path) -> None:
    service, _ = make(tmp_path)
    with pytest.raises(errors.UnknownModel) as caught:
        run(service.select_model("glm-4.7", None))
    assert "Did you mean glm-4.6?" in caught.value.message
    with pytest.raises(errors.InvalidParams):
        run(service.select_model("  ", None))


def test_chat_goes_out_once_with_the_token(tmp_path: Path) -> None:
    service, fake = make(tmp_path)
    params = msgspec.convert(
        {"messages": [{"role": "user", "content": "hi"}], "model": "glm-4.6"}, ChatParams
    )
    result = run(service.chats.chat(params))
    assert result.content == "Hi!" and result.api == "openai"
    assert fake.count("/v1/chat/completions") == 1
    body = json.loads(fake.requests[-1].content)
    assert body["model"] == "glm-4.6" and body["messages"] == [{"role": "user", "content": "hi"}]


def test_several_candidates_build_the_context_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sampled candidates start alongside the engine's greedy request and share the
    context it would build: one `build_context` per completion request, not one each."""
    from ardaemon.completion import context, engine, requests

    built: list[str] = []

    def counting(prefix: str, suffix: str, **how: Any) -> context.CompletionContext:
        built.append(prefix)
        return context.build_context(prefix, suffix, **how)

    monkeypatch.setattr(engine, "build_context", counting)
    monkeypatch.setattr(requests, "build_context", counting)
    service, fake = make(tmp_path)
    prefix = "def add(a, b):\n    return "
    run(
        service.completions.complete(
            prefix, "\n", language_id="python", model="glm-4.6", candidates=3
        )
    )
    assert fake.count("/v1/chat/completions") == 3, "the greedy answer and two sampled"
    assert built == [prefix]
    built.clear()
    run(service.completions.complete("x = ", "", language_id="python", model="glm-4.6"))
    assert built == ["x = "], "one candidate: the engine builds it"


def test_no_token_is_an_auth_error_before_any_request(tmp_path: Path) -> None:
    service, fake = make(tmp_path, env={})
    with pytest.raises(errors.AuthError) as caught:
        run(service.list_models())
    assert not fake.requests
    assert caught.value.message == (
        "No token for AgentRouter: set AGENTROUTER_API_KEY or run `ardaemon login`."
    )


def test_a_rejected_token_says_who_rejected_it(tmp_path: Path) -> None:
    service, _ = make(tmp_path, env={"AGENTROUTER_API_KEY": "sk-wrong-000000000"})
    with pytest.raises(errors.AuthError) as caught:
        run(service.list_models())
    assert caught.value.context["provider"] == "AgentRouter" and caught.value.status == 401
    assert "sk-wrong" not in caught.value.message


def test_credentials_come_from_env_then_the_0600_file(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "c", tmp_path / "k", tmp_path / "s")
    spec = ProviderSpec(name="p", base_url="https://p", token_env="P_KEY")
    env = {"ARDAEMON_NO_KEYRING": "1"}
    assert credentials.lookup(spec, paths, env) == (None, "none")
    credentials.store(spec, paths, "sk-file-123456789")
    assert credentials.lookup(spec, paths, env) == ("sk-file-123456789", "file")
    assert paths.credentials_file.stat().st_mode & 0o777 == 0o600
    assert credentials.lookup(spec, paths, {**env, "P_KEY": "sk-env-123456789"})[1] == "env"


def test_ardaemon_home_holds_every_dir(tmp_path: Path) -> None:
    paths = Paths.default({"ARDAEMON_HOME": str(tmp_path), "XDG_CONFIG_HOME": "/elsewhere"})
    assert paths.config_file == tmp_path / "config" / "config.toml"
    assert paths.cache_dir == tmp_path / "cache" and paths.log_file.parent == tmp_path / "state"
    assert Paths.default({}).config_dir != paths.config_dir


def test_config_layers_and_bad_settings_are_reported_not_fatal(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "c", tmp_path / "k", tmp_path / "s")
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('request_timeout = 90\n[completion]\nmax_tokens = "many"\n')
    store = SettingsStore(paths, environ={})
    warnings = store.load_file()
    assert store.settings.request_timeout == 90
    assert any("max_tokens" in w or "maxTokens" in w for w in warnings)
    store.set_client({"requestTimeout": 30})
    assert store.settings.request_timeout == 30, "the editor's layer wins over the file"


@pytest.mark.parametrize(
    ("model", "endpoints", "api"),
    [
        ("claude-sonnet-4-5", None, "anthropic"),
        ("anthropic/Claude-3-haiku", None, "anthropic"),
        ("glm-4.6", None, "openai"),
        ("claude-x", ["openai"], "openai"),
        ("glm-4.6", ["anthropic"], "anthropic"),
    ],
)
def test_routing_by_name_and_by_the_catalogs_endpoints(
    model: str, endpoints: list[str] | None, api: str
) -> None:
    spec = ProviderSpec(name="p", base_url="https://p", api="auto")
    assert wire_format(spec, model, endpoints) == api
    assert wire_format(spec, model, endpoints, {model: "openai"}) == "openai", "override"


def test_the_bare_model_id_rule() -> None:
    assert bare_id("anthropic/Claude-3-Haiku") == "claude-3-haiku"
    assert is_claude("anthropic/Claude-3-Haiku") and not is_claude("glm-claude")


#: The request path: imported by `Service.warm_up` right after `initialized` (so the first
#: request finds it loaded), or on first use; never to answer `initialize`.
REQUEST_PATH = (
    "ardaemon.catalog",
    "ardaemon.selection",
    "ardaemon.router",
    "ardaemon.dispatch",
    "ardaemon.fallback",
    "ardaemon.usage",
    "ardaemon.chat",
    "ardaemon.wire",
    "ardaemon.completion.engine",
    "ardaemon.completion.requests",
    "ardaemon.completion.postprocess",
    "ardaemon.completion.prompt",
    "ardaemon.upstream",
    "ardaemon.http",
    "ardaemon.sse",
    "ardaemon.streamloop",
)
#: Never loaded before the `initialize` answer: the request path, what it alone uses, and
#: stdlib modules an empty pygls server does not load either (tomllib: the providers table
#: is read when settings are first derived, at `initialized`).
NOT_AT_START_UP = (
    *REQUEST_PATH,
    "ardaemon.completion.wrapping",
    "ardaemon.completion.placement",
    "ardaemon.completion.extent",
    "ardaemon.completion.overlap",
    "ardaemon.cli",
    "httpx",
    "difflib",
    "hashlib",
    "ctypes",
    "email",
    "random",
    "tomllib",
    "platformdirs",
    "logging.handlers",
    "pickle",
)


@pytest.mark.subprocess
def test_start_up_imports_only_what_initialize_needs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ardaemon.server\n"
        f"print(sorted(m for m in {NOT_AT_START_UP!r} if m in sys.modules))\n"
        "ardaemon.server.Service.warm_up()\n"
        f"print(sorted(m for m in {REQUEST_PATH!r} if m not in sys.modules))\n"
        "print(sys.modules['ardaemon.http']._tls is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "[]", "True"], "warm-up loads it all"


def initialize_alone(home: Path, report: str, linger: float = 0.0) -> tuple[str, str]:
    """The real daemon (`ardaemon serve`'s path: `__main__.main`) gets `initialize` with
    models in its options, and no `initialized` (so no warm-up); its input ends `linger`
    seconds after the answer, and `report` (an expression) is printed to stderr on its way
    out. Returns the answer and that line."""
    import subprocess
    import sys

    from ardaemon.gateway import isolated_env

    params = {"capabilities": {}, "initializationOptions": {"models": {"chat": "glm-4.6"}}}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    code = (
        "import gc, sys\nfrom ardaemon.__main__ import main\nmain(['serve'])\n"
        f"print({report}, file=sys.stderr)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=isolated_env(home),
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        proc.stdin.flush()
        length = int(proc.stdout.readline().split(b":")[1])
        proc.stdout.readline()
        answer = proc.stdout.read(length).decode()
        time.sleep(linger)
        _, err = proc.communicate(timeout=60)  # end of input: the daemon exits
    finally:
        proc.kill()
    return answer, err.decode().splitlines()[-1]


@pytest.mark.subprocess
def test_answering_initialize_over_stdio_loads_none_of_the_request_path(tmp_path: Path) -> None:
    answer, loaded = initialize_alone(
        tmp_path / "home", f"sorted(m for m in {NOT_AT_START_UP!r} if m in sys.modules)"
    )
    assert '"serverInfo"' in answer, answer
    assert loaded == "[]"


@pytest.mark.subprocess
def test_garbage_collection_is_back_on_once_initialize_is_answered(tmp_path: Path) -> None:
    """Start-up runs with collections off (`__main__`); `process.settle_gc`, right after the
    answer, turns them back on, or cyclic garbage would pile up for the daemon's life."""
    answer, enabled = initialize_alone(tmp_path / "home", "gc.isenabled()", linger=0.5)
    assert '"serverInfo"' in answer, answer
    assert enabled == "True"


def test_the_lazy_package_names_are_the_functions() -> None:
    """`ardaemon.completion` loads its names on first use; importing a submodule first must
    not replace the package's `postprocess` function by the module of the same name."""
    import importlib
    import sys

    from ardaemon import completion

    module = importlib.import_module("ardaemon.completion.postprocess")
    assert completion.postprocess is module.postprocess
    assert sys.modules["ardaemon.completion.postprocess"] is module
    assert completion.build_prompt.__module__ == "ardaemon.completion.prompt"
    with pytest.raises(AttributeError):
        _ = completion.no_such_name


def test_catalog_prices_are_the_configured_providers_only(tmp_path: Path) -> None:
    """The usage ledger prices a request from the cached catalog when settings give none."""
    import time

    from ardaemon.catalog import CachedCatalog, CatalogModel

    service, _ = make(tmp_path)
    priced = CatalogModel(id="glm-4.6", price_in=1e-6, price_out=2e-6)
    free = CatalogModel(id="deepseek-v3", price_in=1e-6)  # half a price is no price
    found = CachedCatalog(
        provider="agent_router",
        base_url=service.base_url,
        fetched_at=time.time(),
        models=[priced, free],
    )
    service.catalog.put(found)
    assert service.catalog.price("agent_router", "glm-4.6") == (1e-6, 2e-6)
    assert service.catalog.price("agent_router", "deepseek-v3") is None
    assert service.catalog.price("agent_router", "claude-x") is None
    assert service.catalog.price("openrouter", "glm-4.6") is None, "another provider's catalog"


def test_the_status_line_hears_of_a_fallback_and_of_the_budget() -> None:
    from ardaemon.dispatch import Answer
    from ardaemon.protocol import Status
    from ardaemon.providers import providers_table
    from ardaemon.router import route
    from ardaemon.status import Activity
    from ardaemon.wire import LlmResult

    activity = Activity()
    statuses: list[Status] = []
    warned: list[list[str]] = []
    activity.sink, activity.on_warning = statuses.append, warned.append
    backup = route(providers_table()["openrouter"], "https://or.example", "glm-4.6", None, {})
    result = LlmResult(text="hi", stop_reason="end_turn")
    answer = Answer(result, backup, fallback_from="gpt-4o", reason="network")
    activity.fell_back(answer)
    assert statuses[-1] == Status(
        state="idle",
        kind="fallback",
        model="glm-4.6",
        message="gpt-4o failed (network); answered by the fallback openrouter:glm-4.6.",
    )
    activity.budget_warning("past 1,000 tokens")
    assert statuses[-1] == Status(state="idle", kind="budget", message="past 1,000 tokens")
    assert warned == [["past 1,000 tokens"]], "also a pop-up (server.warn), not only the status"


def test_a_projects_model_gives_way_to_presets_and_its_presets_to_the_editors(
    tmp_path: Path,
) -> None:
    """Layers merge key by key (built-in < config.toml < project < editor); then the most
    specific key set wins: a project's `models.completion` does not beat a preset from
    config.toml, its own preset does (docs/protocol.md, "Model resolution")."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        '[models]\ncompletion = "user-model"\n[completion.models]\nautomatic = "user-auto"\n'
    )
    plain, preset = tmp_path / "plain", tmp_path / "preset"
    for repo, extra in ((plain, ""), (preset, '[completion.models]\nautomatic = "repo-auto"\n')):
        repo.mkdir()
        (repo / ".ardaemon.toml").write_text(f'[models]\ncompletion = "repo-model"\n{extra}')
    service, _ = make(tmp_path)
    assert not service.store.load_file()

    def pick(repo: Path, trigger: str) -> str | None:
        return service.models.model(
            "completion",
            settings=service.store.settings_for(repo),
            trigger=trigger,
            project=service.store.project_model(repo),
        )

    assert pick(plain, "automatic") == "user-auto", "config.toml's preset is more specific"
    assert pick(plain, "invoked") == "repo-model", "the project beats config.toml's model"
    assert pick(preset, "automatic") == "repo-auto", "same key: the project's layer wins"
    service.store.set_client({"completion": {"models": {"automatic": "editor-auto"}}})
    assert pick(preset, "automatic") == "editor-auto", "the editor's layer wins over both"
