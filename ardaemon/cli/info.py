"""`status`, `models`, `use`, `providers`: the daemon's state, made visible."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .. import __version__, catalog
from ..protocol import Role, encode
from ..providers import ProviderSpec, providers_table, shipped_providers
from ..service import Service
from . import ui
from .common import base_url_source, make_service, run


def token_info(service: Service) -> dict[str, Any]:
    """Where the token comes from; never the token itself."""
    found = service.tokens.source()
    return {
        "source": found.source,
        "detail": found.detail,
        "required": service.provider.token_required,
    }


def acceptance_info(service: Service) -> list[dict[str, Any]]:
    """Per model: suggestions shown, accepted, and the rate (counted locally only)."""
    return [
        {"model": model, "shown": c.shown, "accepted": c.accepted, "rate": c.rate}
        for model, c in sorted(service.feedback.counts().items())
    ]


def describe_token(info: dict[str, Any], style: ui.Style) -> str:
    source = info["source"]
    if source == "env":
        return f"from the environment ({info['detail']})"
    if source == "keyring":
        return f"from the system keyring ({info['detail']})"
    if source == "file":
        return f"from {info['detail']}"
    if not info["required"]:
        return "none (this provider does not need one)"
    return style.red("none") + " — run `ardaemon login`"


def selection_info(service: Service) -> dict[str, Any]:
    settings = service.settings
    out: dict[str, Any] = {}
    configured = {
        "completion": settings.completion.model or settings.models.completion,
        "chat": settings.models.chat,
    }
    for role in ("completion", "chat"):
        model = service.models.model(role)
        if getattr(service.models.stored(), role):
            origin = "selected"
        elif configured[role]:
            origin = "config.toml"
        else:
            origin = "provider default"
        api = service.router.route(model).api if model else None
        out[role] = {"model": model, "api": api, "origin": origin}
    return out


def catalog_info(service: Service) -> dict[str, Any] | None:
    found = service.catalog.cached()
    if found is None:
        return None
    max_age = service.settings.catalog.max_age_hours
    return {
        "models": len(found.models),
        "fetchedAt": found.fetched_at_rfc3339,
        "ageSeconds": round(max(0.0, time.time() - found.fetched_at)),
        "fresh": catalog.is_fresh(found, max_age),
        "file": str(catalog.cache_path(service.paths.cache_dir, found.provider, found.base_url)),
    }


def status(args: argparse.Namespace) -> int:
    service, warnings = make_service(args, quiet=True)
    paths = service.paths
    spec = service.provider
    data: dict[str, Any] = {
        "version": __version__,
        "provider": {"name": spec.name, "label": service.label},
        "baseUrl": service.base_url,
        "baseUrlSource": base_url_source(service),
        "token": token_info(service),
        "selected": selection_info(service),
        "catalog": catalog_info(service),
        "acceptance": acceptance_info(service),
        "configFile": str(paths.config_file),
        "configFileExists": paths.config_file.exists(),
        "logFile": str(paths.log_file),
        "warnings": warnings,
    }
    if args.json:
        ui.print_json(data)
        return 0

    style = ui.Style(sys.stdout)
    rows: list[tuple[str, str]] = [
        ("version", f"ardaemon {__version__}"),
        ("provider", f"{service.label} ({spec.name})"),
        ("base URL", f"{service.base_url} {style.dim('(' + data['baseUrlSource'] + ')')}"),
        ("token", describe_token(data["token"], style)),
    ]
    for role in ("completion", "chat"):
        sel = data["selected"][role]
        if sel["model"]:
            note = style.dim(f"({sel['api']}, {sel['origin']})")
            rows.append((role, f"{sel['model']} {note}"))
        else:
            rows.append((role, "none — run `ardaemon use MODEL`"))
    cat = data["catalog"]
    if cat is None:
        rows.append(("catalog", "not fetched yet — run `ardaemon models`"))
    else:
        freshness = "fresh" if cat["fresh"] else "stale; refreshed on next use"
        rows.append(
            (
                "catalog",
                f"{cat['models']} models, fetched {ui.ago(cat['ageSeconds'])} ({freshness})",
            )
        )
    for entry in data["acceptance"]:
        rate = f"{entry['rate']:.0%}" if entry["rate"] is not None else "n/a"
        rows.append(
            (
                "accepted",
                f"{entry['model']}: {rate} ({entry['accepted']} of {entry['shown']} shown)",
            )
        )
    config_note = "" if data["configFileExists"] else " " + style.dim("(not present: defaults)")
    rows.append(("config", f"{paths.config_file}{config_note}"))
    rows.append(("log file", str(paths.log_file)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        ui.out(f"{style.bold(key.ljust(width))}  {value}")
    for warning in warnings:
        ui.warn(warning)
    # A report is a success even when it says "no token" (the next step is in the report).
    return 0


def models(args: argparse.Namespace) -> int:
    service, _ = make_service(args)
    result = run(service, lambda s: s.list_models(args.refresh), listing=True)
    if args.json:
        ui.print_json(encode(result))
        return 0
    style = ui.Style(sys.stdout)
    by_model: dict[str, list[str]] = {}
    for role in ("completion", "chat"):
        chosen = getattr(result.selected, role)
        if chosen:
            by_model.setdefault(chosen, []).append(role)
    rows = []
    for m in result.models:
        roles = by_model.get(m.id, [])
        rows.append(["*" if roles else "", m.id, m.api, m.owned_by or "", ", ".join(roles)])
    ui.out(ui.table(["", "ID", "API", "OWNER", "SELECTED"], rows, style))
    if result.stale:
        token, _ = service.tokens.lookup()
        why = (
            "there is no token: run `ardaemon login`"
            if token is None and service.provider.token_required
            else "`ardaemon doctor` tells why"
        )
        ui.warn(
            f"could not refresh the catalog from {service.base_url}; this is the cached list "
            f"from {result.fetched_at} ({why})."
        )
    elif ui.is_tty(sys.stdout):
        found = service.catalog.cached()
        when = ui.age_of(found.fetched_at) if found else result.fetched_at
        origin = "fetched" if result.source == "network" else "cached, fetched"
        ui.err(style_dim(f"{len(result.models)} models from {service.base_url} ({origin} {when})"))
    missing = [m for m in by_model if all(x.id != m for x in result.models)]
    for model in missing:
        ui.warn(
            f"the selected model {model} is not in this catalog; pick another with `ardaemon use`."
        )
    return 0


def style_dim(text: str) -> str:
    return ui.Style(sys.stderr).dim(text)


def use(args: argparse.Namespace) -> int:
    service, _ = make_service(args)
    role: Role | None = args.role
    selected = run(service, lambda s: s.select_model(args.model, role))
    model = args.model.strip()
    api = service.router.route(model).api
    roles = [role] if role else ["completion", "chat"]
    style = ui.Style(sys.stderr)
    ui.err(style.good(f"{model} is now the {' and '.join(roles)} model ({api} wire format)"))
    others = {r: getattr(selected, r) for r in ("completion", "chat") if r not in roles}
    for other, name in others.items():
        if name:
            ui.err(f"  {other}: {name}")
    return 0


def wire_rule(spec: ProviderSpec) -> str:
    rule: str
    if spec.api != "auto" or spec.claude_api == "openai":
        rule = spec.api if spec.api != "auto" else "openai"
    else:
        rule = "claude*: anthropic, others: openai"
    # Completions of the models that have one go to a native fill-in-the-middle endpoint.
    return f"{rule}; completions: {spec.fim} FIM" if spec.fim else rule


def providers(args: argparse.Namespace) -> int:
    service, _ = make_service(args)
    user = service.settings.providers
    shipped = shipped_providers()
    table_ = providers_table(user)
    active = service.provider.name
    items: list[dict[str, Any]] = []
    for name, spec in table_.items():
        # The base URL each provider would use now: the active one's as `status` shows it,
        # the others' with their base-URL variable (AGENTROUTER_BASE_URL) when it is set.
        if name == active:
            base_url, base_from = service.base_url, base_url_source(service)
        elif spec.base_url_env and service.environ.get(spec.base_url_env):
            base_url, base_from = service.environ[spec.base_url_env], spec.base_url_env
        else:
            base_url, base_from = spec.base_url, "default"
        origin = (
            "config.toml (overrides built-in)"
            if name in user and name in shipped
            else "config.toml"
            if name in user
            else "built-in"
        )
        items.append(
            {
                "name": name,
                "label": spec.label or name,
                "baseUrl": base_url,
                "baseUrlSource": base_from,
                "baseUrlEnv": spec.base_url_env,
                "tokenEnv": spec.token_env,
                "tokenRequired": spec.token_required,
                "api": spec.api,
                "claudeApi": spec.claude_api,
                "wireFormat": wire_rule(spec),
                "auth": spec.auth,
                "source": origin,
                "active": name == active,
            }
        )
    if args.json:
        ui.print_json(items)
        return 0
    style = ui.Style(sys.stdout)
    rows = [
        [
            "*" if p["active"] else "",
            str(p["name"]),
            str(p["baseUrl"])
            + ("" if p["baseUrlSource"] == "default" else f" ({p['baseUrlSource']})"),
            str(p["tokenEnv"] or "-"),
            str(p["wireFormat"]),
            str(p["source"]),
        ]
        for p in items
    ]
    ui.out(
        ui.table(["", "NAME", "BASE URL", "TOKEN VARIABLE", "WIRE FORMAT", "SOURCE"], rows, style)
    )
    if ui.is_tty(sys.stdout):
        ui.err(
            style_dim(
                f"Add your own under [providers.NAME] in {service.paths.config_file}; "
                'select one with `provider = "NAME"`.'
            )
        )
    return 0
