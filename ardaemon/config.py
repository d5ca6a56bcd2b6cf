"""Where settings come from, merged into one typed, fully defaulted view (what they are is
`settings.py`, the providers table `providers.py`, file locations `paths.py`).

Settings come in layers, later ones winning: built-in defaults, the user's `config.toml`,
`initializationOptions`, `workspace/didChangeConfiguration`, then the environment; a
document's project file (`.ardaemon.toml`) sits between config.toml and the editor's, and
what it and the editor may choose is bounded by `trust.py`. Each
layer is checked on its own; an unknown or ill-typed key is reported and skipped, never
fatal, so one typo in an editor setting cannot take the daemon down.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from . import files, trust
from .paths import APP, Paths
from .providers import ProviderSpec, normalize_base_url, provider_problems, providers_table
from .settings import Settings

#: A settings path (`completion.maxTokens`) → where and how the user wrote it, for messages:
#: ("~/.config/ardaemon/config.toml:3", "completion.max_tokens").
Locate = Callable[[str], tuple[str, str]]


def validate(
    layer: Any, source: str, locate: Locate | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Keep the valid part of one settings layer; describe what was dropped."""
    warnings: list[str] = []
    if layer is None:
        return {}, warnings
    if not isinstance(layer, Mapping):
        return {}, [f"{source}: settings must be an object, got {type(layer).__name__}"]
    return _validate(
        Settings, layer, "", locate or (lambda where: (source, where)), warnings
    ), warnings


def _validate(
    cls: type[msgspec.Struct], data: Mapping[str, Any], path: str, locate: Locate, out: list[str]
) -> dict[str, Any]:
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    kept: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}{key}"
        at, name = locate(where)
        field = fields.get(key)
        if field is None:
            out.append(f"{at}: unknown setting '{name}' ignored")
            continue
        sub = field.type
        if isinstance(sub, type) and issubclass(sub, msgspec.Struct):
            if isinstance(value, Mapping):
                kept[key] = _validate(sub, value, where + ".", locate, out)
            else:
                out.append(f"{at}: setting '{name}' must be an object; ignored")
            continue
        if value is None and field.required is False and field.default is None:
            kept[key] = None
            continue
        try:
            msgspec.convert(value, sub)
        except msgspec.ValidationError as exc:
            out.append(f"{at}: setting '{name}' ignored ({exc})")
            continue
        kept[key] = value
    return kept


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge validated layers; later layers win key by key."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
    return out


def build_settings(layers: list[dict[str, Any]]) -> Settings:
    return msgspec.convert(merge(*layers), Settings)


def editor_layer(options: Any) -> Any:
    """`initializationOptions` / pushed settings: `{"ardaemon": {...}}` or the bare object."""
    if isinstance(options, Mapping) and isinstance(options.get(APP), Mapping):
        return options[APP]
    return options


#: Settings an editor (and so a repository's workspace settings) may not send: a provider
#: table names the environment variable its token comes from, so an editor defining one
#: could send any secret of the user's environment to any host.
CONFIG_FILE_ONLY = ("providers",)

#: Headers that decide whose account a request is billed to, or that carry a secret: an
#: editor setting one could send the user's code to someone else's account (and its logs).
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "host"}
)

_LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def is_loopback_url(url: str) -> bool:
    """True when `url` names this machine (localhost, 127.0.0.0/8, ::1)."""
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return host in _LOOPBACK_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def editor_validate(options: Any, source: str) -> tuple[dict[str, Any], list[str]]:
    """An editor's layer: validated, minus what only the user's config file may set.

    The token travels to the base URL with the headers: so an editor may point the daemon at
    this machine (a local server, the stand-in) but a remote base URL comes only from
    config.toml or the environment, and an editor's headers never carry credentials.
    """
    layer, warnings = validate(editor_layer(options), source)
    for key in CONFIG_FILE_ONLY:
        if layer.pop(key, None) is not None:
            warnings.append(
                f"{source}: '{key}' ignored: providers (and the token variables they name) "
                "are defined only in config.toml; editor settings choose among them"
            )
    url = layer.get("baseUrl")
    if isinstance(url, str) and url.strip() and not is_loopback_url(url):
        del layer["baseUrl"]
        warnings.append(
            f"{source}: 'baseUrl' {url[:80]!r} ignored: a remote base URL receives your token, "
            "so only config.toml (base_url) or AGENTROUTER_BASE_URL may set one; "
            "editor settings may point at this machine (localhost)"
        )
    headers = layer.get("headers")
    if isinstance(headers, dict):
        refused = sorted(name for name in headers if name.strip().lower() in CREDENTIAL_HEADERS)
        for name in refused:
            del headers[name]
        if refused:
            warnings.append(
                f"{source}: header(s) {', '.join(refused)} ignored: credentials are set only "
                "in config.toml ([headers]) or by the token store"
            )
    return layer, warnings


def env_layer(environ: Mapping[str, str], provider: ProviderSpec) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    if provider.base_url_env and environ.get(provider.base_url_env):
        layer["baseUrl"] = environ[provider.base_url_env]
    return layer


def read_config_file(paths: Paths) -> tuple[Any, list[str], Locate | None]:
    """The user's TOML config, or nothing; a broken file is reported, not fatal. The
    `Locate` names settings as the file spells them, with their line."""
    try:
        text = paths.config_file.read_text("utf-8")
    except FileNotFoundError:
        return {}, [], None
    except OSError as exc:
        return {}, [f"{paths.config_file}: cannot read ({exc.strerror})"], None
    tomllib = files.tomllib()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{paths.config_file}: not valid TOML ({exc}); using defaults"], None
    spelled: dict[str, str] = {}
    data = _camel_keys(raw, spelled=spelled)
    lines = _toml_key_lines(text)

    def locate(where: str) -> tuple[str, str]:
        name = spelled.get(where, where)
        line = lines.get(name)
        return (f"{paths.config_file}:{line}" if line else str(paths.config_file)), name

    return data, [], locate


def _toml_key_lines(text: str) -> dict[str, int]:
    """Dotted key → the 1-based line that sets it (`[table]` headers and `a.b = 1` lines);
    good enough for messages, and nothing depends on it being complete."""
    import re

    found: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if header := re.fullmatch(r"\[\s*([^\[\]]+?)\s*\](\s*#.*)?", stripped):
            table = header[1].replace(" ", "").replace('"', "")
            found.setdefault(table, number)
        elif assign := re.match(r"([A-Za-z0-9_.\-\s\"]+?)\s*=", stripped):
            key = assign[1].replace(" ", "").replace('"', "")
            found.setdefault(f"{table}.{key}" if table else key, number)
    return found


PROJECT_FILE = ".ardaemon.toml"
#: What a project file (in a repository someone else may have written) may choose: models,
#: presets and completion behaviour among what the user configured. Never where traffic
#: goes, with which headers, or which token variable is read.
PROJECT_KEYS = frozenset({"models", "completion", "chat"})


def read_project_file(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """A workspace's `.ardaemon.toml`, reduced to what a project may set."""
    path = folder / PROJECT_FILE
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: cannot read ({exc}); ignored"]
    tomllib = files.tomllib()
    try:
        raw = _camel_keys(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{path}: not valid TOML ({exc}); ignored"]
    known = {f.encode_name for f in msgspec.structs.fields(Settings)}
    allowed = {k: v for k, v in raw.items() if k in PROJECT_KEYS}
    warnings = [
        f"{path}: '{key}' is not allowed in a project file (only your own config.toml may "
        "set it: a cloned repository must not redirect traffic or read secrets); ignored"
        for key in raw
        if key in known and key not in PROJECT_KEYS
    ]
    layer, problems = validate(
        {k: v for k, v in raw.items() if k in allowed or k not in known}, str(path)
    )
    return layer, warnings + problems


def _camel_keys(
    data: Any,
    spelled: dict[str, str] | None = None,
    path: tuple[str, str] = ("", ""),
) -> Any:
    # TOML users write snake_case (max_tokens); editors send camelCase. Accept both,
    # except inside free-form tables (headers, providers, overrides) whose keys are data.
    # `spelled` collects each camel path's spelling in the file, for messages.
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        camel = _to_camel(key)
        where = (path[0] + camel, path[1] + key)
        if spelled is not None:
            spelled[where[0]] = where[1]
        free_form = camel in ("headers", "providers", "apiOverrides", "prices")
        out[camel] = (
            value if free_form else _camel_keys(value, spelled, (where[0] + ".", where[1] + "."))
        )
    return out


def _to_camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class SettingsStore:
    """The layers and the merged result; `warnings` lists what was ignored and why."""

    paths: Paths
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    file_layer: dict[str, Any] | None = None
    init_layer: dict[str, Any] | None = None
    client_layer: dict[str, Any] | None = None
    #: (settings, provider, base URL), derived once per change of a layer: requests
    #: read them many times, and building the providers table is not free.
    _view: tuple[Settings, ProviderSpec, str] | None = None
    #: Per workspace folder: (file mtime, project layer, its settings view or None).
    _projects: dict[Path, tuple[int | None, dict[str, Any], Settings | None]] = field(
        default_factory=dict
    )
    #: Called with the warnings of a project file each time it is (re)read.
    on_project_warnings: Any = None
    #: The editor layers as the view uses them (fallbacks to unconfigured providers out).
    _editor_layers: list[dict[str, Any]] = field(default_factory=list)
    #: Trust warnings already shown (each once per daemon), and those not yet returned.
    _shown: set[str] = field(default_factory=set)
    _unshown: list[str] = field(default_factory=list)

    # Setting a layer checks that layer alone and returns what it dropped; what the merged
    # view refuses comes from `problems()`. The view is derived on first use, which reads
    # the providers table: `initialize` is answered without it.

    def load_file(self) -> list[str]:
        raw, problems, locate = read_config_file(self.paths)
        self.file_layer, warnings = validate(raw, str(self.paths.config_file), locate)
        self._changed()
        return problems + warnings

    def set_init(self, options: Any) -> list[str]:
        self.init_layer, warnings = editor_validate(options, "initializationOptions")
        self._changed()
        return warnings

    def set_client(self, settings: Any) -> list[str]:
        self.client_layer, warnings = editor_validate(settings, "settings")
        self._changed()
        return warnings

    def _once(self, warnings: list[str]) -> list[str]:
        fresh = [w for w in warnings if w not in self._shown]
        self._shown.update(fresh)
        return fresh

    def _changed(self) -> None:
        self._view = None
        self._projects = {k: (m, layer, None) for k, (m, layer, _) in self._projects.items()}

    def project_layer(self, folder: Path) -> dict[str, Any]:
        """The folder's `.ardaemon.toml` layer, re-read when the file changes."""
        mtime = _file_mtime(folder / PROJECT_FILE)
        cached = self._projects.get(folder)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        layer, warnings = read_project_file(folder) if mtime is not None else ({}, [])
        self._projects[folder] = (mtime, layer, None)
        self._project_warnings(warnings)
        return layer

    def _project_warnings(self, warnings: list[str]) -> None:
        if warnings and self.on_project_warnings is not None:
            self.on_project_warnings(warnings)

    def settings_for(self, folder: Path | None) -> Settings:
        """Settings as seen from a document in `folder`: the project file sits between
        the user's config.toml and the editor's settings."""
        if folder is None:
            return self.settings
        layer = self.project_layer(folder)
        if not layer:
            return self.settings
        mtime, _, view = self._projects[folder]
        if view is None:
            user, provider, _ = self._derive()
            source = str(folder / PROJECT_FILE)
            layer, refused = trust.confine_fallbacks(
                layer, self._configured(provider), providers_table(user.providers), source
            )
            layer, widening = trust.narrow_project(layer, user, source)
            self._project_warnings(self._once(refused + widening))
            view = build_settings([self.file_layer or {}, layer, *self._editor_layers])
            extra = layer.get("completion", {}).get("exclude")
            if extra:
                # A project's exclusion globs add to the user's, they never lift one; a
                # glob with a `/` is relative to the project's root.
                rooted = [
                    p if "/" not in p or p.startswith(("*", "/")) else f"{folder.as_posix()}/{p}"
                    for p in extra
                ]
                both = [*self.settings.completion.exclude, *rooted]
                view = msgspec.structs.replace(
                    view, completion=msgspec.structs.replace(view.completion, exclude=both)
                )
            self._projects[folder] = (mtime, layer, view)
        return view

    def project_model(self, folder: Path | None) -> str | None:
        """The completion model as seen from `folder` when its project file names one
        (editor settings still win over it, as in every layer)."""
        layer = self.project_layer(folder) if folder is not None else {}
        named = layer.get("models", {}).get("completion") or layer.get("completion", {}).get(
            "model"
        )
        if not named:
            return None
        here = self.settings_for(folder)
        return here.completion.model or here.models.completion

    def _configured(self, active: ProviderSpec) -> frozenset[str]:
        return trust.configured(active.name, self.file_layer)

    def _derive(self) -> tuple[Settings, ProviderSpec, str]:
        if self._view is None:
            editor = [self.init_layer or {}, self.client_layer or {}]
            settings = build_settings([self.file_layer or {}, *editor])
            provider = self.provider_for(settings)
            # An editor layer's fallbacks may name only a configured provider.
            allowed, known = self._configured(provider), providers_table(settings.providers)
            confined = [
                trust.confine_fallbacks(layer, allowed, known, source)
                for layer, source in zip(editor, ("initializationOptions", "settings"), strict=True)
            ]
            self._editor_layers = [layer for layer, _ in confined]
            refused = [w for _, warnings in confined for w in warnings]
            self._unshown += self._once(refused)
            layers = [self.file_layer or {}, *self._editor_layers]
            if refused:
                settings = build_settings(layers)
            env = env_layer(self.environ, provider)
            if env:
                settings = build_settings([*layers, env])
            base_url = normalize_base_url(settings.base_url or provider.base_url)
            self._view = (settings, provider, base_url)
        return self._view

    @property
    def settings(self) -> Settings:
        return self._derive()[0]

    def provider_for(self, settings: Settings) -> ProviderSpec:
        table = providers_table(settings.providers)
        return table.get(settings.provider) or table["agent_router"]

    @property
    def provider(self) -> ProviderSpec:
        return self._derive()[1]

    @property
    def base_url(self) -> str:
        return self._derive()[2]

    def problems(self) -> list[str]:
        """Warnings that depend on the merged view: what it refused from a layer the user did
        not write in config.toml (each once), an unknown provider, bad provider tables."""
        settings = self.settings
        out, self._unshown = self._unshown, []
        out += provider_problems(settings.providers)
        if settings.provider not in providers_table(settings.providers):
            out.append(f"unknown provider '{settings.provider}'; using agent_router")
        return out


def _file_mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
