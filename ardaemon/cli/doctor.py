"""`ardaemon doctor`: every link between the editor and the gateway, one line each.

The network checks walk the same path the daemon's HTTP client takes: the proxy from
`HTTPS_PROXY`/`ALL_PROXY` (minus `NO_PROXY`), the CA bundle httpx uses (certifi, or
`SSL_CERT_FILE`/`SSL_CERT_DIR`). When that bundle rejects a certificate the system store
(through `truststore` when installed) accepts, the fix is named: a corporate CA.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import credentials, errors
from ..service import Service
from . import ui
from .common import for_terminal, make_service, run

TIMEOUT = 5.0
PACKAGES = ("pygls", "lsprotocol", "httpx", "msgspec", "platformdirs", "keyring")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Target:
    """Where the first TCP hop goes: the gateway itself or the proxy in front of it."""

    host: str
    port: int
    tls: bool
    proxy: str | None = None
    proxy_host: str | None = None
    proxy_port: int | None = None
    proxy_auth: str | None = None

    @property
    def hop(self) -> tuple[str, int]:
        if self.proxy_host is not None and self.proxy_port is not None:
            return self.proxy_host, self.proxy_port
        return self.host, self.port


def target_for(base_url: str, environ: dict[str, str] | os._Environ[str]) -> Target:
    import urllib.request

    url = urlsplit(base_url)
    tls = url.scheme == "https"
    host = url.hostname or ""
    port = url.port or (443 if tls else 80)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    # Public but missing from typeshed; the same NO_PROXY rules httpx applies.
    bypass = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    if not proxy or bypass:
        return Target(host, port, tls)
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    auth = None
    if p.username:
        pair = f"{unquote(p.username)}:{unquote(p.password or '')}"
        auth = base64.b64encode(pair.encode()).decode()
    shown = f"{p.scheme}://{p.hostname}:{p.port or 80}"
    return Target(host, port, tls, shown, p.hostname or "", p.port or 80, auth)


def _python() -> Check:
    return Check("python", True, f"{platform.python_version()} at {sys.executable}")


def _packages() -> Check:
    found = []
    missing = []
    for name in ("ardaemon", *PACKAGES):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    try:
        found.append(f"truststore {metadata.version('truststore')}")
    except metadata.PackageNotFoundError:
        found.append("truststore not installed")
    if missing:
        return Check(
            "packages",
            False,
            f"missing {', '.join(missing)}",
            "reinstall ardaemon from your checkout (`pipx install --force /path/to/ardaemon`, or "
            "`pip install .` in it)",
        )
    return Check("packages", True, ", ".join(found))


def _config(service: Service, warnings: list[str]) -> Check:
    path = service.paths.config_file
    if warnings:
        return Check("config", False, "; ".join(warnings), f"edit {path}")
    if not path.exists():
        return Check("config", True, f"{path} not present; using defaults")
    return Check("config", True, f"{path} read without problems")


def _provider(service: Service) -> Check:
    spec = service.provider
    return Check("provider", True, f"{service.label} ({spec.name}) at {service.base_url}")


def _token(service: Service) -> Check:
    token, source = service.tokens.lookup()
    spec = service.provider
    if token is None:
        if not spec.token_required:
            return Check("token", True, "none (this provider does not need one)")
        env = f", or set {spec.token_env}" if spec.token_env else ""
        return Check("token", False, "no token found", f"run `ardaemon login`{env}")
    where = {
        "env": f"from the environment ({spec.token_env})",
        "keyring": "from the system keyring",
        "file": f"from {service.paths.credentials_file}",
    }.get(source, source)
    return Check("token", True, where)


def _keyring(service: Service) -> Check:
    file = service.paths.credentials_file
    if os.environ.get("ARDAEMON_NO_KEYRING"):
        detail = f"disabled by ARDAEMON_NO_KEYRING; tokens go to {file}"
    else:
        backend = credentials.keyring_backend()
        detail = backend or f"no backend available; tokens go to {file} (mode 0600)"
    if problem := credentials.file_mode_problem(service.paths):
        return Check(
            "keyring",
            False,
            f"{detail}; but {problem.split(':')[0]}, readable by others",
            f"chmod 600 {file}",
        )
    return Check("keyring", True, detail)


def _writable(name: str, directory: Path, env: str) -> Check:
    probe = directory / f".doctor-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check(
            name,
            False,
            f"{directory} is not writable ({exc.strerror})",
            f"fix the permissions of {directory}, or point {env} elsewhere",
        )
    return Check(name, True, f"{directory} writable")


def _timed(fn: Callable[[], Any]) -> Any:
    """Run a blocking network step with a hard deadline (getaddrinfo has none of its own)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fn).result(timeout=TIMEOUT)
    finally:
        pool.shutdown(wait=False)


def _dns(target: Target) -> Check:
    host, port = target.hop
    via = f" (proxy {target.proxy})" if target.proxy else ""
    started = time.perf_counter()
    try:
        infos = _timed(lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except (OSError, TimeoutError) as exc:
        return Check(
            "dns",
            False,
            f"cannot resolve {host}{via}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__}",
            "check the host name in the base URL and your DNS / VPN"
            + (", and the proxy address in HTTPS_PROXY" if target.proxy else ""),
        )
    addresses = sorted({str(i[4][0]) for i in infos})
    ms = (time.perf_counter() - started) * 1000
    return Check("dns", True, f"{host}{via} → {', '.join(addresses[:3])} ({ms:.0f} ms)")


def _connect(target: Target) -> socket.socket:
    sock = socket.create_connection(target.hop, timeout=TIMEOUT)
    if target.proxy and target.tls:
        lines = [
            f"CONNECT {target.host}:{target.port} HTTP/1.1",
            f"Host: {target.host}:{target.port}",
        ]
        if target.proxy_auth:
            lines.append(f"Proxy-Authorization: Basic {target.proxy_auth}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        while b"\r\n\r\n" not in reply and len(reply) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        status = reply.split(b"\r\n", 1)[0].decode("latin-1")
        if " 200" not in status:
            sock.close()
            raise ConnectionError(f"the proxy refused CONNECT: {status or 'no answer'}")
    return sock


def _tcp(target: Target) -> tuple[Check, socket.socket | None]:
    host, port = target.hop
    via = f"proxy {target.proxy}" if target.proxy else f"{host}:{port}"
    started = time.perf_counter()
    try:
        sock = _connect(target)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        fix = "check your network, firewall or VPN"
        if target.proxy:
            fix = "check the proxy in HTTPS_PROXY (address, credentials) or set NO_PROXY"
        elif os.environ.get("HTTPS_PROXY") is None and os.environ.get("https_proxy") is None:
            fix += "; behind a corporate proxy, set HTTPS_PROXY"
        return Check("tcp", False, f"cannot connect to {via}: {reason}", fix), None
    ms = (time.perf_counter() - started) * 1000
    tunnel = f" → tunnel to {target.host}:{target.port}" if target.proxy and target.tls else ""
    return Check("tcp", True, f"connected to {via}{tunnel} ({ms:.0f} ms)"), sock


def _daemon_context() -> tuple[ssl.SSLContext, str]:
    """The CA bundle the daemon's httpx client uses: httpx's own choice, and its source."""
    import httpx

    source = next((v for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(v)), "certifi")
    return httpx.create_ssl_context(), source


def _system_context() -> tuple[ssl.SSLContext, str]:
    try:
        import truststore

        ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return ctx, "system store (truststore)"
    except ImportError:
        return ssl.create_default_context(), "system store (OpenSSL default paths)"


def _handshake(target: Target, ctx: ssl.SSLContext, sock: socket.socket | None) -> str:
    raw = sock or _connect(target)
    with ctx.wrap_socket(raw, server_hostname=target.host) as tls:
        cert: dict[str, Any] = dict(tls.getpeercert() or {})
        issuer: dict[str, str] = {}
        for rdn in cert.get("issuer", ()):
            for key, value in rdn:
                issuer[key] = value
        who = issuer.get("organizationName") or issuer.get("commonName") or "unknown issuer"
        return f"{tls.version()}, issued by {who}"


def _tls(target: Target, sock: socket.socket | None) -> Check:
    if not target.tls:
        if sock is not None:
            sock.close()
        local = target.host in ("localhost", "127.0.0.1", "::1")
        if local:
            return Check("tls", True, "not used (plain http to this machine)")
        return Check(
            "tls",
            False,
            f"plain http to {target.host}: the token would travel unencrypted",
            "use an https:// base URL",
        )
    ctx, bundle = _daemon_context()
    try:
        detail = _handshake(target, ctx, sock)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
        system, name = _system_context()
        try:
            detail = _handshake(target, system, None)
        except (OSError, ssl.SSLError):
            return Check(
                "tls",
                False,
                f"certificate of {target.host} not trusted ({reason})",
                "check the base URL; behind a TLS-inspecting proxy, export SSL_CERT_FILE="
                "<your CA bundle>",
            )
        return Check(
            "tls",
            False,
            f"the {name} trusts {target.host} ({detail}) but ardaemon's {bundle} bundle does "
            f"not ({reason}): a corporate CA?",
            "export SSL_CERT_FILE=<PEM bundle with your organisation's CA> for the daemon "
            "(and your editor)",
        )
    except (OSError, ssl.SSLError) as exc:
        return Check(
            "tls",
            False,
            f"TLS handshake with {target.host} failed: {exc}",
            "check the base URL (https to an http port?) and your proxy",
        )
    return Check("tls", True, f"{detail} (CA bundle: {bundle})")


def _models(service: Service) -> Check:
    from .auth import verify

    token, source = service.tokens.lookup()
    if token is None and service.provider.token_required:
        return Check("models", False, "skipped: no token", "run `ardaemon login`")
    started = time.perf_counter()
    try:
        found = run(service, lambda s: verify(s, token))
    except errors.AuthError as exc:
        env = service.provider.token_env
        fix = "run `ardaemon login` with a valid token"
        if source == "env" and env:
            fix = f"{env} holds a rejected token: fix or unset it"
        return Check("models", False, f"GET /v1/models: auth (HTTP {exc.status})", fix)
    except errors.ArdaemonError as exc:
        status = f", HTTP {exc.status}" if exc.status else ""
        return Check("models", False, f"GET /v1/models: {exc.kind}{status}", for_terminal(exc))
    ms = (time.perf_counter() - started) * 1000
    return Check("models", True, f"GET /v1/models: {len(found.models)} models ({ms:.0f} ms)")


def checks(service: Service, warnings: list[str]) -> list[Check]:
    out = [_python(), _packages(), _config(service, warnings), _provider(service)]
    out += [_token(service), _keyring(service)]
    paths = service.paths
    out.append(_writable("config dir", paths.config_dir, "XDG_CONFIG_HOME"))
    out.append(_writable("cache dir", paths.cache_dir, "XDG_CACHE_HOME"))
    out.append(_writable("state dir", paths.state_dir, "XDG_STATE_HOME"))
    target = target_for(service.base_url, os.environ)
    dns = _dns(target)
    out.append(dns)
    if dns.ok:
        tcp, sock = _tcp(target)
        out.append(tcp)
        if tcp.ok:
            out.append(_tls(target, sock))
    out.append(_models(service))
    return out


def doctor(args: argparse.Namespace) -> int:
    service, warnings = make_service(args, quiet=True)
    results = checks(service, warnings)
    ok = all(c.ok for c in results)
    if args.json:
        ui.print_json({"ok": ok, "checks": [asdict(c) for c in results]})
        return 0 if ok else 1
    style = ui.Style(sys.stdout)
    width = max(len(c.name) for c in results)
    for c in results:
        mark = style.green(style.ok) if c.ok else style.red(style.fail)
        ui.out(f"{mark} {c.name.ljust(width)}  {c.detail}")
        if c.fix:
            ui.out(f"  {' ' * width}  {style.yellow(style.arrow)} {c.fix}")
    failed = sum(not c.ok for c in results)
    if failed:
        ui.out(f"\n{failed} problem{'s' if failed != 1 else ''} found.")
    else:
        ui.out("\nEverything looks fine. Logs: " + str(service.paths.log_file))
    return 0 if ok else 1
