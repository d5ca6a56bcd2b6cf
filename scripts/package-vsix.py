"""Build the VS Code extension with the daemon inside, one VSIX per platform.

Run by `scripts/package-vsix`. For each target: the project's wheel, plus a wheelhouse of its
dependencies resolved for that platform and each supported CPython (compiled ones such as
msgspec as binary wheels), staged in editors/vscode/server/ with a manifest, then
`vsce package --target`. The extension installs from that wheelhouse offline on first start
(src/serverInstall.ts). Only the package registries are used, and only here at build time.

pip download evaluates environment markers (sys_platform, python_version) against the build
machine, not the target, so uv resolves each (platform, Python) pair first and pip downloads
exactly those pins.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXT = ROOT / "editors" / "vscode"
STAGE = EXT / "server"
BUILD = ROOT / "build"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def manylinux(arch: str) -> list[str]:
    """glibc 2.28 and older (Debian 10, Ubuntu 20.04, RHEL 8 and newer run them)."""
    return [f"manylinux_2_{minor}_{arch}" for minor in range(28, 16, -1)] + [
        f"manylinux2014_{arch}"
    ]


def macos(arch: str) -> list[str]:
    """macOS 11 and older; universal2 wheels serve both architectures."""
    versions = ["11_0", *(f"10_{minor}" for minor in range(15, 8, -1))]
    return [f"macosx_{v}_{a}" for v in versions for a in (arch, "universal2")]


#: vsce target -> (uv's --python-platform, pip's --platform tags; pip does not widen them)
TARGETS: dict[str, tuple[str, list[str]]] = {
    "linux-x64": ("x86_64-manylinux_2_28", manylinux("x86_64")),
    "linux-arm64": ("aarch64-manylinux_2_28", manylinux("aarch64")),
    "darwin-x64": ("x86_64-apple-darwin", macos("x86_64")),
    "darwin-arm64": ("aarch64-apple-darwin", macos("arm64")),
    "win32-x64": ("x86_64-pc-windows-msvc", ["win_amd64"]),
}


def host_target() -> str:
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "")
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), ""
    )
    return f"{system}-{machine}"


def run(cmd: list[str], **kw: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return str(proc.stdout)


def tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or sys.exit(f"{name} not found"))


def build_wheel() -> Path:
    out = BUILD / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    run([tool("uv"), "build", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)])
    (wheel,) = out.glob("ardaemon-*.whl")
    return wheel


def wheelhouse(target: str, wheel: Path, pythons: list[str]) -> Path:
    """The daemon's wheel and its dependencies for `target`, each Python in `pythons`."""
    uv_platform, tags = TARGETS[target]
    dest = BUILD / "wheelhouse" / target
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(wheel, dest)
    with tempfile.TemporaryDirectory() as tmp:
        for py in pythons:
            pins = Path(tmp) / f"pins-{py}.txt"
            run(
                [
                    tool("uv"),
                    "pip",
                    "compile",
                    str(ROOT / "pyproject.toml"),
                    "--python-platform",
                    uv_platform,
                    "--python-version",
                    py,
                    "--only-binary",
                    ":all:",
                    "--no-header",
                    "--no-annotate",
                    "--quiet",
                    "--output-file",
                    str(pins),
                ]
            )
            platforms = [arg for tag in tags for arg in ("--platform", tag)]
            run(
                [
                    *(sys.executable, "-m", "pip", "download", "--quiet"),
                    "--disable-pip-version-check",
                    *("--no-deps", "--only-binary=:all:", "--implementation", "cp"),
                    *platforms,
                    *("--python-version", py, "--dest", str(dest), "-r", str(pins)),
                ]
            )
    drop_redundant_abi3(dest)
    return dest


def drop_redundant_abi3(dest: Path) -> None:
    """One abi3 wheel per project, version and platform serves every Python from its tag
    on (cryptography: ~4.7 MB each): keep the one with the lowest CPython tag."""
    kept: dict[tuple[str, str, str], Path] = {}
    for whl in sorted(dest.glob("*-abi3-*.whl")):
        name, version, _, _, plat = whl.name[: -len(".whl")].split("-")
        key = (name, version, plat)
        other = kept.get(key)
        if other is None:
            kept[key] = whl
            continue
        lower, higher = sorted((other, whl), key=lambda w: int(w.name.split("-")[2][2:]))
        kept[key] = lower
        higher.unlink()


def stage(target: str, house: Path, wheel: Path, pythons: list[str]) -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    (STAGE / "wheels").mkdir(parents=True)
    digest = hashlib.sha256()
    for whl in sorted(house.glob("*.whl")):
        shutil.copy2(whl, STAGE / "wheels")
        digest.update(whl.name.encode() + whl.read_bytes())
    version = wheel.name.split("-")[1]
    manifest = {
        "version": version,
        "target": target,
        "pythons": pythons,
        "requirement": f"ardaemon=={version}",
        # Changes with any wheel: a rebuilt VSIX of the same version still rebuilds the venv.
        "build": digest.hexdigest()[:16],
    }
    (STAGE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def package(target: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            *("npx", "--no-install", "vsce", "package", "--target", target),
            *("--no-dependencies", "--allow-missing-repository", "--out", str(out)),
        ],
        cwd=EXT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="repeatable")
    parser.add_argument("--all", action="store_true", help="every target in TARGETS")
    parser.add_argument("--out-dir", type=Path, default=BUILD / "vsix")
    parser.add_argument(
        "--wheelhouse-only", action="store_true", help="stop after build/wheelhouse/<target>"
    )
    parser.add_argument("--python", action="append", choices=PYTHONS, help="default: all")
    args = parser.parse_args()
    targets = sorted(TARGETS) if args.all else (args.target or [host_target()])
    if not set(targets) <= set(TARGETS):
        sys.exit(f"no VSIX target for this machine ({host_target()}); pass --target")
    pythons = args.python or PYTHONS

    t0 = time.monotonic()
    wheel = build_wheel()
    rows = []
    try:
        for target in targets:
            house = wheelhouse(target, wheel, pythons)
            if args.wheelhouse_only:
                print(house)
                continue
            stage(target, house, wheel, pythons)
            vsix = args.out_dir / f"ardaemon-{target}.vsix"
            package(target, vsix)
            wheels = len(list(house.glob("*.whl")))
            rows.append((target, vsix.stat().st_size / 1e6, wheels, vsix))
    finally:
        shutil.rmtree(STAGE, ignore_errors=True)
    if rows:
        print(f"{'target':<14} {'VSIX MB':>8} {'wheels':>7}  file")
        for target, size, wheels, vsix in rows:
            print(f"{target:<14} {size:8.2f} {wheels:7d}  {vsix.relative_to(ROOT)}")
        print(f"built in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
