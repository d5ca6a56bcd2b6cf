"""The exception tree and the sentences rendered from it, in process."""

from __future__ import annotations

import json

import advice
import pytest
from conftest import ROOT, documented_kinds

from ardaemon import errors, messages, protocol
from ardaemon.messages import did_you_mean, frontend_of, render, setting
from ardaemon.wire.faults import classify


def upstream(
    status: int, body: object, headers: dict[str, str] | None = None
) -> errors.UpstreamError:
    error = classify(status, headers or {}, json.dumps(body).encode())
    error.add_context(provider="AgentRouter", model="glm-4.6", token_env="AGENTROUTER_API_KEY")
    return error


def test_kinds_come_from_the_classes_in_the_contracts_order() -> None:
    assert documented_kinds() == errors.KINDS
    for kind in errors.KINDS:
        assert kind in messages.ADVICE or any(k.startswith(kind + "/") for k in messages.ADVICE)


def test_the_tree_in_the_docstring_names_every_class() -> None:
    doc = errors.__doc__ or ""
    classes = [errors.ArdaemonError]
    while classes:
        cls = classes.pop()
        assert cls.__name__ in doc and cls.kind in doc
        classes += cls.__subclasses__()


def test_codes_live_with_the_tree_and_the_contract_re_exports_them() -> None:
    assert protocol.INVALID_PARAMS == errors.InvalidParams.rpc_code == -32602
    assert protocol.REQUEST_FAILED == errors.UpstreamError.rpc_code == -32803
    assert protocol.REQUEST_CANCELLED == errors.Cancelled.rpc_code == -32800
    assert errors.Internal().rpc_code == errors.INTERNAL_ERROR == -32603
    assert errors.ArdaemonError().kind == errors.Internal().kind == "internal"


@pytest.mark.parametrize(
    ("client", "frontend"),
    [
        ("Visual Studio Code", "vscode"),
        ("code-server", "vscode"),
        ("Neovim", "neovim"),
        ("ardaemon.nvim checkhealth", "neovim"),
        ("pytest-lsp", "lsp"),
        (None, "lsp"),
    ],
)
def test_the_front_end_comes_from_client_info(client: str | None, frontend: str) -> None:
    assert frontend_of(client) == frontend


@pytest.mark.parametrize(
    ("frontend", "spelled"),
    [
        ("vscode", "`ardaemon.headers`"),
        ("lsp", "`ardaemon.headers`"),
        ("neovim", "`settings.headers` in setup()"),
        ("cli", "[headers] in config.toml"),
    ],
)
def test_advice_names_the_setting_as_each_front_end_spells_it(frontend: str, spelled: str) -> None:
    error = upstream(403, {"error": {"message": "unauthorized client detected"}})
    assert spelled in render(error, frontend)  # type: ignore[arg-type]


def test_nested_settings_in_config_toml() -> None:
    assert setting("completion.timeout", "cli") == "`timeout` under [completion] in config.toml"
    assert setting("requestTimeout", "cli") == "`request_timeout` in config.toml"
    assert setting("models.chat", "neovim") == "`settings.models.chat` in setup()"


def test_a_gateway_message_is_quoted_then_one_sentence_of_ours() -> None:
    error = upstream(429, {"error": {"message": "Please try again in 1s."}}, {"retry-after": "2"})
    assert render(error) == (
        'AgentRouter is rate limiting requests: "Please try again in 1s". '
        "Retry in 2 s, or pick another model."
    )


def test_without_a_gateway_message_the_advice_follows_a_colon() -> None:
    error = errors.AuthError(reason="no_token").add_context(provider="AgentRouter", token_env="K")
    assert render(error, "cli") == "No token for AgentRouter: set K or run `ardaemon login`."
    assert '"ardaemon: Sign In"' in render(error, "vscode")


def test_commands_in_each_front_ends_words() -> None:
    no_model = errors.NoModel("chat")
    assert render(no_model) == (
        "No chat model selected: pick one with ardaemon/selectModel or set `ardaemon.models.chat`."
    )
    assert render(no_model, "cli") == (
        "No chat model selected: pick one with `ardaemon use` or set `chat` under [models] in "
        "config.toml."
    )
    unknown = errors.UnknownModel("glm", ["glm-4.6"]).add_context(provider="AR")
    assert render(unknown, "neovim") == (
        "Unknown model 'glm' at AR. Did you mean glm-4.6? List the models with `:Ardaemon models`."
    )


def test_did_you_mean_leads_into_the_next_sentence_or_says_nothing() -> None:
    assert did_you_mean(["a", "b"]) + "See the list." == "Did you mean a, b? See the list."
    assert did_you_mean([]) == ""


def test_context_is_attached_once_and_the_lowest_layer_wins() -> None:
    error = errors.Timeout(seconds=3, setting_key="completion.timeout")
    error.add_context(provider="Inner", model="a").add_context(provider="Outer", model="b")
    assert error.context == {"provider": "Inner", "model": "a"}
    assert error.to_data() == {"kind": "timeout", "model": "a"}
    assert render(error, "neovim") == (
        "Inner did not answer within 3 s: try again, or raise `settings.completion.timeout` in "
        "setup()."
    )


def test_our_own_sentences_and_invalid_params() -> None:
    assert render(errors.InvalidParams("`model` must not be empty.")) == (
        "Invalid params: `model` must not be empty."
    )
    assert render(errors.InvalidParams("cannot read since 'x'."), "cli") == "cannot read since 'x'."
    assert render(errors.Cancelled("Superseded.")) == "Superseded."
    assert render(errors.Internal()).startswith("ardaemon hit an internal error: the details")
    assert render(errors.BadResponse(reason="not_json")).startswith("The gateway sent a reply")


def test_remedies_are_one_sentence_in_editors_and_a_list_in_the_cli() -> None:
    error = upstream(403, {"error": {"message": "unauthorized client detected"}})
    error.add_context(base_url_env="AGENTROUTER_BASE_URL")
    fact, steps = messages.explain(error, "vscode")
    assert render(error, "vscode") == f"{fact}: {steps[0]}, {steps[1]}, or {steps[2]}."
    fact, cli_steps = messages.explain(error, "cli")
    assert len(cli_steps) == len(steps)
    # Only the CLI can say how to switch: its flag, and the provider's base URL variable.
    assert cli_steps[0] == f"{steps[0]} (`--provider NAME`, or AGENTROUTER_BASE_URL=URL)"
    assert render(error, "cli") == f"{fact}: {', '.join(cli_steps[:2])}, or {cli_steps[2]}."


@pytest.mark.parametrize(
    ("frontend", "sources"),
    [("neovim", "editors/nvim/lua/**/*.lua"), ("vscode", "editors/vscode/src/*.ts")],
)
def test_no_editor_keeps_a_copy_of_the_advice(frontend: str, sources: str) -> None:
    """The editors show the daemon's sentence (rendered in their words from clientInfo);
    a clause of it in an editor's source is a second copy that will drift."""
    found = advice.clauses(frontend)  # type: ignore[arg-type]
    assert {"pick another model", "the token may be fine"} <= found
    files = sorted(ROOT.glob(sources))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8").lower()
        assert not [c for c in found if c in text], path
