"""The sentences a person reads for each error, written in the words of each front end.

One place for the advice per kind: `FACTS` says what failed, `ADVICE` what to do; a
setting or command is named the way the reader's front end spells it (VS Code
`ardaemon.headers`, Neovim `settings.headers` in setup(), the CLI's `[headers]` in
config.toml). A gateway's own message is quoted as a quote, then one sentence of ours;
without one, the advice follows the fact after a colon. Advice of several remedies (`Steps`)
is one sentence there; `explain` hands the fact and the steps apart to a front end that
lists them (the CLI's `login`).
The daemon learns its front end from `clientInfo.name` at initialize (`frontend_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .errors import KINDS, ArdaemonError, quote

Frontend = Literal["vscode", "neovim", "cli", "lsp"]

COMMANDS: dict[str, dict[Frontend, str]] = {
    "pick_model": {
        "vscode": '"ardaemon: Select Model"',
        "neovim": "`:Ardaemon models`",
        "cli": "`ardaemon models`",
        "lsp": "ardaemon/listModels",
    },
    "select_model": {
        "vscode": '"ardaemon: Select Model"',
        "neovim": "`:Ardaemon models`",
        "cli": "`ardaemon use`",
        "lsp": "ardaemon/selectModel",
    },
    "login": {
        "vscode": '"ardaemon: Sign In"',
        "neovim": "`ardaemon login`",
        "cli": "`ardaemon login`",
        "lsp": "`ardaemon login`",
    },
}


def frontend_of(client_name: str | None) -> Frontend:
    """`clientInfo.name` → the front end whose words the messages use."""
    name = (client_name or "").lower()
    if "vim" in name:
        return "neovim"
    if "code" in name or "cursor" in name or "windsurf" in name:
        return "vscode"
    return "lsp"


def setting(key: str, frontend: Frontend) -> str:
    """A settings key (`headers`, `completion.timeout`) as the front end's user writes it."""
    if frontend == "neovim":
        return f"`settings.{key}` in setup()"
    if frontend == "cli":
        *table, name = [re.sub(r"(?<!^)([A-Z])", r"_\1", part).lower() for part in key.split(".")]
        if name == "headers":
            return "[headers] in config.toml"
        return (
            f"`{name}` under [{table[0]}] in config.toml" if table else f"`{name}` in config.toml"
        )
    # VS Code, and any LSP client: the `ardaemon` section of workspace/configuration.
    return f"`ardaemon.{key}`"


def _retry(e: ArdaemonError, fe: Frontend) -> str:
    when = f"Retry in {e.retry_after:g} s" if e.retry_after is not None else "Retry shortly"
    return f"{when}, or pick another model."


def _http(e: ArdaemonError, fe: Frontend) -> str:
    if (e.status or 0) >= 500:
        return "Try again later."
    return "Check the request settings or pick another model."


def did_you_mean(near: Sequence[str]) -> str:
    """`Did you mean a, b? ` to put before the next sentence; empty when nothing is near."""
    return f"Did you mean {', '.join(near)}? " if near else ""


def _unknown(e: ArdaemonError, fe: Frontend) -> str:
    near = e.facts.get("near") or []
    return f"{did_you_mean(near)}List the models with {COMMANDS['pick_model'][fe]}."


CHECK_NETWORK = "Check your network, proxy (HTTPS_PROXY) or the base URL."

#: What failed, by `kind` or `kind/reason`; fields come from the error's facts and context.
FACTS: dict[str, str] = {
    "internal": "ardaemon hit an internal error",
    "invalid_params/no_model": "No {role} model selected",
    "invalid_params/unknown_model": "Unknown model '{model}' at {who}",
    "invalid_params/refused": "Completions are off for this file: {why}",
    "auth": "{who} rejected the token (HTTP {status})",
    "auth/no_token": "No token for {who}",
    "unauthorized_client": '{who} refused this client ("unauthorized client detected"): the '
    "token may be fine, but the gateway has not allowed ardaemon",
    "model_not_found": "{model_named} is not available at {who}",
    "rate_limited": "{who} is rate limiting requests",
    "overloaded": "{who} is overloaded (HTTP {status})",
    "upstream": "{who} answered HTTP {status}",
    "upstream/redirect": "{who} redirected the request (HTTP {status}); ardaemon does not "
    "follow redirects with your token",
    "network": "The connection to {host} broke ({cause})",
    "network/connect": "Could not reach {host} ({cause})",
    "network/connect_timeout": "Could not connect to {host} within {seconds:g} s",
    "network/stream_cut": "{who} closed the stream before the reply was complete",
    "timeout": "{who} did not answer within {seconds:g} s",
    "timeout/total": "{who} did not finish within {seconds:g} s",
    "bad_response": "{who} answered with an error",
    "bad_response/not_json": "{who} sent a reply that is not JSON",
    "bad_response/unreadable": "{who} sent a{n} {format} answer ardaemon could not read",
    "bad_response/models_not_json": "{who} sent a model list that is not JSON",
    "bad_response/models_unreadable": "{who} sent a model list ardaemon could not read",
    "bad_response/not_event_stream": "{who} answered a streaming request with "
    "'{content_type}' instead of an event stream",
}


class Steps(tuple[str, ...]):
    """Advice of several remedies: one sentence ("a, b, or c") where a front end shows one
    line, a list where it has room (the CLI's `login`)."""


Advice = str | Steps | Callable[[ArdaemonError, Frontend], str]

#: What to do next, by `kind` or `kind/reason`.
ADVICE: dict[str, Advice] = {
    "internal": "The details are in its log file ({cmd_status} shows where).",
    "invalid_params/no_model": "Pick one with {cmd_select_model} or set {setting_role}.",
    "invalid_params/unknown_model": _unknown,
    "auth": "Check {token_env} or run {cmd_login}.",
    "auth/no_token": "Set {token_env} or run {cmd_login}.",
    "unauthorized_client": Steps(
        (
            "use another provider or base URL{how_to_switch}",
            "set the extra headers your gateway documents in {setting_headers}",
            "ask the gateway's support to allow it",
        )
    ),
    "model_not_found": "Pick another model ({cmd_pick_model}).",
    "rate_limited": _retry,
    "overloaded": "Try again in a moment or pick another model.",
    "upstream": _http,
    "upstream/redirect": "Set the base URL to the final address (`base_url` in config.toml, "
    "or AGENTROUTER_BASE_URL: a remote base URL is never taken from editor settings).",
    "network": "Try again; if it keeps happening, check your network or proxy.",
    "network/connect": CHECK_NETWORK,
    "network/connect_timeout": CHECK_NETWORK,
    "network/stream_cut": "Try again.",
    "timeout": "Try again, or raise {setting}.",
    "bad_response": "Try again or pick another model.",
    "bad_response/unreadable": "Check the base URL and provider, or try another model.",
    "bad_response/not_json": "Check the base URL.",
    "bad_response/models_not_json": "Check the base URL.",
    "bad_response/models_unreadable": "Check the base URL.",
    "bad_response/not_event_stream": "Check the base URL.",
}


def render(error: ArdaemonError, frontend: Frontend = "lsp") -> str:
    """The sentence for this error: what failed (the gateway's words quoted), what to do."""
    fact, steps = explain(error, frontend)
    if not steps:
        return fact
    advice = _sentence(steps)
    unknown_model = error.kind == "invalid_params" and error.reason == "unknown_model"
    if (error.detail and error.kind in KINDS) or unknown_model:
        return f"{fact}. {advice}"
    return f"{fact}: {advice[0].lower()}{advice[1:]}"


def explain(error: ArdaemonError, frontend: Frontend = "lsp") -> tuple[str, list[str]]:
    """What failed (a sentence of its own when there is no advice) and the steps of what
    to do, for a front end that lists them; `render` joins the two."""
    upstream = error.kind in KINDS
    key = f"{error.kind}/{error.reason}" if error.reason else error.kind
    fact = FACTS.get(key)
    if fact is None:
        if error.kind == "invalid_params" and error.detail:
            # JSON-RPC's name for it; a terminal reads the detail alone.
            return error.detail if frontend == "cli" else f"Invalid params: {error.detail}", []
        if error.detail and not upstream and error.kind != "internal":
            return error.detail, []  # our own sentence (cancelled, a refused document)
        fact = FACTS.get(error.kind, FACTS["internal"])
        key = error.kind
    fields = _fields(error, frontend)
    text = fact.format(**fields)
    if text.startswith("the "):
        text = "T" + text[1:]
    advice = ADVICE.get(key, ADVICE.get(error.kind, ""))
    if callable(advice):
        steps = [advice(error, frontend)]
    elif isinstance(advice, Steps):
        steps = [step.format(**fields) for step in advice]
    else:
        steps = [advice.format(**fields)] if advice else []
    if not steps:
        return f"{text}.", []
    if error.detail and upstream:
        text = f'{text}: "{error.detail}"'
    return text, steps


def _sentence(steps: list[str]) -> str:
    """Remedies as one sentence: "A, b, or c." (a single one is already a sentence)."""
    if len(steps) == 1:
        return steps[0]
    joined = f"{', '.join(steps[:-1])}, or {steps[-1]}."
    return joined[0].upper() + joined[1:]


def _fields(error: ArdaemonError, fe: Frontend) -> dict[str, Any]:
    context = error.context
    model = error.model
    role = error.facts.get("role", "")
    fmt = str(error.facts.get("format", ""))
    return {
        **error.facts,
        "who": context.get("provider") or "the gateway",
        "model": quote(model) if model else "",
        "model_named": f"Model '{quote(model)}'" if model else "The model",
        "status": error.status,
        "token_env": context.get("token_env") or "the token",
        "setting": setting(error.facts.get("setting_key") or "requestTimeout", fe),
        "setting_headers": setting("headers", fe),
        "how_to_switch": _how_to_switch(error, fe),
        "setting_role": setting(f"models.{role}", fe),
        "cmd_login": COMMANDS["login"][fe],
        "cmd_pick_model": COMMANDS["pick_model"][fe],
        "cmd_select_model": COMMANDS["select_model"][fe],
        "cmd_status": "`ardaemon status`",
        "n": "n" if fmt[:1].lower() in "aeiou" and fmt else "",
    }


def _how_to_switch(error: ArdaemonError, fe: Frontend) -> str:
    """The CLI can say how: `--provider`, or the provider's base URL variable."""
    if fe != "cli":
        return ""
    variable = error.context.get("base_url_env")
    return f" (`--provider NAME`{f', or {variable}=URL' if variable else ''})"
