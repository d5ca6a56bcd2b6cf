"""What a layer the user did not write in config.toml may choose, checked per layer.

A project file (a cloned repository) and editor settings choose among what the user
configured; they never reach further. Two rules live here:

- a `provider:model` fallback entry names a provider, and so where the code goes and which
  token variable is read: from those layers it must name a *configured* provider, the
  active one or one with a `[providers.NAME]` table in config.toml (`configured`);
- a project file may only narrow the user's completion choices (`narrow_project`): turn
  completions off, never on; add to deny lists, never remove; shorten an allow list.

Both return a new layer (the cached ones stay as read) and say what was ignored.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .settings import LANGUAGE_LISTS, Settings


def configured(active: str, file_layer: Mapping[str, Any] | None) -> frozenset[str]:
    """Providers the user chose: the active one and each `[providers.NAME]` of config.toml."""
    declared = (file_layer or {}).get("providers")
    return frozenset({active, *(declared if isinstance(declared, Mapping) else ())})


def confine_fallbacks(
    layer: Mapping[str, Any], allowed: Collection[str], known: Collection[str], source: str
) -> tuple[dict[str, Any], list[str]]:
    """`layer` minus the `models.fallback` entries naming a provider outside `allowed`.

    `known` is the providers table's names: an entry whose part before the first colon is
    not one of them is a model id of the active provider (`codellama:code`), as
    `fallback.parse` reads it. A role whose entries were all dropped is left out, so the
    layers below (the user's own chain) apply as if the entry had not been written.
    """
    fallback = layer.get("models", {}).get("fallback")
    if not isinstance(fallback, Mapping):
        return dict(layer), []
    warnings: list[str] = []
    kept: dict[str, Any] = {}
    for role, entries in fallback.items():
        if not isinstance(entries, list):
            kept[role] = entries
            continue
        ours = []
        for entry in entries:
            head, sep, rest = str(entry).strip().partition(":")
            if sep and rest and head in known and head not in allowed:
                warnings.append(
                    f"{source}: models.fallback.{role} entry '{entry}' ignored: provider "
                    f"'{head}' is not configured (only the active provider "
                    f"({', '.join(sorted(allowed))}) or a [providers.{head}] table in your "
                    "config.toml may receive your code)"
                )
            else:
                ours.append(entry)
        if ours or not entries:
            kept[role] = ours
    models = {**layer["models"], "fallback": kept}
    return {**layer, "models": models}, warnings


def narrow_project(
    layer: Mapping[str, Any], user: Settings, source: str
) -> tuple[dict[str, Any], list[str]]:
    """A project layer that can only narrow `user`'s completion settings (config.toml and
    the editor's): off stays off, manual stays manual, deny lists add up, an allow list
    keeps only languages the user allows."""
    completion = layer.get("completion")
    if not isinstance(completion, Mapping):
        return dict(layer), []
    mine = user.completion
    out = dict(completion)
    warnings: list[str] = []

    def refuse(key: str, why: str) -> None:
        out.pop(key, None)
        warnings.append(f"{source}: completion.{key} ignored: {why}")

    if out.get("enabled") is True and not mine.enabled:
        refuse("enabled", "you turned completions off; a project file may only turn them off")
    if out.get("manual") is False and mine.manual:
        refuse("manual", "you chose manual completions; a project file may not make them automatic")
    languages = out.get("languages")
    if isinstance(languages, Mapping):
        langs = dict(languages)
        for key in LANGUAGE_LISTS:
            if key in langs and not isinstance(langs[key], list):
                del langs[key]
                warnings.append(f"{source}: completion.languages.{key} ignored: must be a list")
        if "deny" in langs:
            langs["deny"] = list(dict.fromkeys([*mine.language_list("deny"), *langs["deny"]]))
        theirs = langs.get("allow")
        allowed = mine.language_list("allow")
        if theirs is not None and allowed:
            narrowed = [lang for lang in theirs if lang in allowed]
            extra = [lang for lang in theirs if lang not in allowed]
            if extra or not theirs:
                warnings.append(
                    f"{source}: completion.languages.allow {extra or '[] (every language)'} "
                    "ignored: a project file may only narrow your allow list"
                )
            if narrowed:
                langs["allow"] = narrowed
            else:
                del langs["allow"]
                if theirs:  # only languages you do not allow: none is left
                    out["enabled"] = False
        out["languages"] = langs
    return {**layer, "completion": out}, warnings
