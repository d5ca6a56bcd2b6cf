"""The JSON-RPC face of the daemon: pygls registration, lifecycle, settings → `Service`.

Handlers are thin: decode params with the contract's Structs, call one `Service` method,
encode the result. Every failure leaves as `{code, message, data.kind}` from `errors.py`;
nothing but protocol bytes reaches stdout. The open documents completion reads are
`workspace.py`'s; the process around the server (parent watch, GC) is `process.py`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import lsp_method

from . import __version__, credentials, errors, feedback, process, protocol, transport
from .coalesce import DeltaCoalescer, Pace
from .completion import inline
from .completion.guard import DocumentGuard, release_memory
from .completion.inline import Around, Position
from .config import SettingsStore
from .document import line_document, open_document
from .jsonrpc import REQUEST, StrictProtocol
from .messages import frontend_of, render
from .paths import Paths
from .protocol import (
    AcceptedParams,
    ChatDelta,
    ChatParams,
    CompleteParams,
    ListModelsParams,
    SelectModelParams,
    SelectModelResult,
    Status,
    UsageParams,
    decode_params,
    encode,
)
from .service import Service
from .workspace import OpenDocuments, lsp_position, position
from .writer import open_writer

log = logging.getLogger(__name__)

#: Longest wait for the editor's `workspace/configuration` answer.
PULL_SECONDS = 5.0

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])


class ArdaemonProtocol(StrictProtocol):
    """pygls' protocol plus the contract's version in `capabilities.experimental.ardaemon`
    (pygls builds the capabilities after the user's initialize handler, so it goes here)."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "ardaemon": {"protocolVersion": protocol.PROTOCOL_VERSION}
        }
        return result

    # Documents over `completion.maxDocumentSize` are kept as empty placeholders (so
    # didChange/didClose stay valid) and never completed: see completion/guard.py.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        doc = params.text_document
        if self._too_large(doc.uri, len(doc.text)):
            doc.text = ""
        # pygls's didOpen, with a document that edits and completion requests cost little.
        open_document(self.workspace, doc)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        uri = params.text_document.uri
        if uri in self._ardaemon.guard.too_large:
            return  # stays refused until reopened
        yield from super().lsp_text_document__did_change(params)
        doc = self.workspace.get_text_document(uri)
        if self._too_large(uri, line_document(doc).size):
            self.workspace.put_text_document(
                types.TextDocumentItem(uri, doc.language_id or "", doc.version or 0, "")
            )

    @property
    def _ardaemon(self) -> ArdaemonServer:
        return self._server  # type: ignore[return-value]

    def _too_large(self, uri: str, size: int) -> bool:
        limit = self._ardaemon.service.settings.completion.max_document_size
        if size <= limit:
            return False
        log.warning("%s: %d characters, over completion.maxDocumentSize; not kept", uri, size)
        server = self._ardaemon
        server.guard.too_large[uri] = size
        asyncio.get_running_loop().call_soon(release_memory)
        # Said at once, not only at the first completion request.
        reason = server.guard.refusal(uri, [], limit)
        if reason is not None:
            server.report_refusal(uri, reason)
        return True


class ArdaemonServer(LanguageServer):
    def __init__(self, service: Service) -> None:
        super().__init__(
            "ardaemon",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=ArdaemonProtocol,
        )
        self.service = service
        self.guard = DocumentGuard()
        self.documents = OpenDocuments(self)
        self.pending_warnings: list[str] = []
        self.protocol_mismatch: str | None = None
        self.parent_watch: asyncio.Task[None] | None = None
        #: The editor's answer to a `workspace/configuration` pull, while one is awaited.
        self.pull: asyncio.Future[Any] | None = None
        #: The frame of chats streaming `$/progress`: longer while many stream at once.
        self.pace = Pace()

    async def settled(self) -> None:
        """Wait for a settings pull in flight: a request sent after
        `didChangeConfiguration` is served with the settings it changed to."""
        if self.pull is not None:
            await asyncio.wait({self.pull}, timeout=PULL_SECONDS)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would pop a dialog per error; the editor gets errors in responses and
        # status notifications instead. Request errors are logged where they happen.
        if not isinstance(error, JsonRpcException):
            log.warning("error in %s: %s", getattr(source, "__name__", source), error)
            log.debug("traceback", exc_info=error)

    def notify_status(self, status: Status) -> None:
        self.protocol.notify(protocol.DID_CHANGE_STATUS, encode(status))

    def report_refusal(self, uri: str, reason: str) -> None:
        if self.guard.first_report(uri):
            message = f"Completions off for this file: {reason}."
            self.notify_status(Status(state="idle", message=message))

    def chat_progress(self, token: int | str) -> DeltaCoalescer:
        """Chat deltas as `$/progress` for this partial-result token, at most one per frame
        (`close` it at the end of the stream)."""

        owner = REQUEST.get()  # sends come from timers and hand-overs, outside the request
        notify = cast(StrictProtocol, self.protocol).notify

        def send(text: str) -> None:
            # Plain JSON params take the protocol's fast path (no attrs object, no cattrs).
            notify(types.PROGRESS, {"token": token, "value": encode(ChatDelta(text))}, owner)

        return DeltaCoalescer(send, self.pace)

    def warn(self, messages: list[str]) -> None:
        for message in messages:
            log.warning("%s", message)
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"ardaemon: {message}"
                )
            )


Handler = Callable[[ArdaemonServer, Any], Any]
#: (method, options, handler): every feature, registered on each server by `create_server`.
FEATURES: list[tuple[str, Any, Handler]] = []


def feature(method: str, options: Any = None) -> Callable[[H], H]:
    """pygls' `@server.feature` for module-level handlers (the server is built later)."""

    def register(handler: H) -> H:
        FEATURES.append((method, options, handler))
        return handler

    return register


def jsonrpc_errors(
    handler: Callable[[ArdaemonServer, Any], Awaitable[T]],
) -> Callable[..., Awaitable[T]]:
    """Map the error tree to JSON-RPC errors once; never leak a traceback to the editor."""

    @functools.wraps(handler)
    async def wrapper(ls: ArdaemonServer, params: Any) -> T:
        try:
            await ls.settled()
            return await handler(ls, params)
        except JsonRpcException:
            raise
        except Exception as exc:
            error = exc if isinstance(exc, errors.ArdaemonError) else errors.Internal()
            if error is exc:
                log.info("%s failed: %s (%s)", handler.__name__, error.kind, error.message)
            else:
                log.exception("internal error in %s", handler.__name__)
            message = render(error, ls.service.activity.frontend)
            raise JsonRpcException(message, code=error.rpc_code, data=error.to_data()) from None

    return wrapper


def create_server(service: Service) -> ArdaemonServer:
    server = ArdaemonServer(service)
    service.activity.sink = server.notify_status
    service.activity.on_warning = server.warn
    service.store.on_project_warnings = server.warn
    for method, options, handler in FEATURES:
        server.feature(method, options)(handler)

    # A command, so `executeCommandProvider` advertises it and clients that run an item's
    # command on the server (Neovim 0.12, vscode-languageclient) send it here.
    @server.command(feedback.ACCEPT_COMMAND)
    async def accepted_command(ls: ArdaemonServer, *args: Any) -> None:
        await accepted(ls, args[0] if args else None)

    return server


# --- lifecycle and settings -------------------------------------------------------------


@feature(types.INITIALIZE)
def initialize(ls: ArdaemonServer, params: types.InitializeParams) -> None:
    # Only what the answer needs: the settings view is derived at `initialized`.
    ls.pending_warnings += ls.service.store.set_init(params.initialization_options)
    client = params.client_info.name if params.client_info else None
    ls.service.activity.frontend = frontend_of(client)
    client_version = protocol.peer_protocol_version(
        protocol.to_builtins(params.capabilities.experimental)
    )
    ls.protocol_mismatch = protocol.protocol_mismatch(client_version, __version__)
    # Right after the answer, off the editor's critical path.
    asyncio.get_running_loop().call_later(0.01, process.settle_gc)
    if params.process_id:
        ls.parent_watch = asyncio.ensure_future(process.watch_parent(params.process_id))


@feature(types.INITIALIZED)
def initialized(ls: ArdaemonServer, params: types.InitializedParams) -> None:
    ls.service.models.apply_settings()
    mode = credentials.file_mode_problem(ls.service.paths)
    ls.warn(ls.pending_warnings + ls.service.store.problems() + ([mode] if mode else []))
    ls.pending_warnings = []
    if ls.protocol_mismatch:
        # The client shows the user what to update (it knows its editor); the daemon
        # says it in the editor's log and its own, not in a second pop-up.
        log.warning("%s", ls.protocol_mismatch)
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Warning, message=f"ardaemon: {ls.protocol_mismatch}"
            )
        )
    asyncio.get_running_loop().run_in_executor(None, ls.service.warm_up)


@feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: ArdaemonServer, params: types.DidChangeConfigurationParams
) -> None:
    settings = protocol.to_builtins(params.settings)
    if not settings and _can_pull_configuration(ls):
        # Set before the first await: pygls starts handlers as tasks in message order, so
        # every request after this notification finds the pull and waits (`settled`).
        pull = ls.pull = asyncio.ensure_future(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="ardaemon")])
            )
        )
        try:
            await asyncio.wait({pull}, timeout=PULL_SECONDS)
        finally:
            if ls.pull is pull:
                ls.pull = None
        if not pull.done():
            pull.cancel()
            log.warning("no answer to workspace/configuration within %g s", PULL_SECONDS)
            return
        pulled = pull.result()
        settings = protocol.to_builtins(pulled[0]) if pulled else None
    if settings is None:
        return
    before = ls.service.settings
    ls.warn(ls.service.store.set_client(settings) + ls.service.store.problems())
    ls.service.settings_changed(before)


def _can_pull_configuration(ls: ArdaemonServer) -> bool:
    return bool(get_capability(ls.client_capabilities, "workspace.configuration", False))


# --- the contract's methods: decode → one call → encode ---------------------------------


@feature(protocol.LIST_MODELS)
@jsonrpc_errors
async def list_models(ls: ArdaemonServer, params: Any) -> Any:
    p = decode_params(params, ListModelsParams)
    return encode(await ls.service.list_models(p.refresh))


@feature(protocol.SELECT_MODEL)
@jsonrpc_errors
async def select_model(ls: ArdaemonServer, params: Any) -> Any:
    p = decode_params(params, SelectModelParams)
    return encode(SelectModelResult(await ls.service.select_model(p.model, p.role)))


@feature(protocol.CHAT)
@jsonrpc_errors
async def chat(ls: ArdaemonServer, params: Any) -> Any:
    p = decode_params(params, ChatParams)
    if p.partial_result_token is None:
        return encode(await ls.service.chats.chat(p))
    deltas = ls.chat_progress(p.partial_result_token)
    try:
        result = await ls.service.chats.chat(p, deltas.push)
    finally:
        deltas.close()  # every delta leaves before the result (or the error)
    return encode(result)


@feature(protocol.COMPLETE)
@jsonrpc_errors
async def complete(ls: ArdaemonServer, params: Any) -> Any:
    p = decode_params(params, CompleteParams)
    document = None
    if p.text_document is not None:
        if p.position is None:
            raise errors.InvalidParams("`position` is required with `textDocument`.")
        document = p.text_document.uri
        around = ls.documents.around(document, Position(p.position.line, p.position.character))
    elif p.prefix is not None:
        around = Around(p.prefix, p.suffix or "", "", None)
    else:
        raise errors.InvalidParams(
            "give `textDocument` and `position`, or `prefix` (and `suffix`)."
        )
    result = await ls.service.completions.complete(
        around.prefix,
        around.suffix,
        language_id=p.language_id or around.language_id,
        path=around.path,
        model=p.model,
        max_tokens=p.max_tokens,
        document=document,
        folder=ls.documents.folder(document) if document else None,
    )
    if result is None:  # superseded by a newer request for the same document
        raise errors.Cancelled("Superseded by a newer completion request for this document.")
    return encode(result)


@feature(protocol.USAGE)
@jsonrpc_errors
async def usage(ls: ArdaemonServer, params: Any) -> Any:
    p = decode_params(params, UsageParams)
    return encode(ls.service.usage(p.since, p.by))


@feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
@jsonrpc_errors
async def inline_completion(
    ls: ArdaemonServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    selected = params.context.selected_completion_info
    uri = params.text_document.uri
    # The document's project file (`.ardaemon.toml`) has a say in its completions.
    folder = ls.documents.folder(uri)
    items = await inline.suggest(
        ls.documents,
        ls.service.store.settings_for(folder).completion,
        functools.partial(ls.service.completions.complete, folder=folder),
        uri=uri,
        at=position(params.position),
        automatic=params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic,
        widget=None
        if selected is None
        else inline.WidgetItem(
            position(selected.range.start), position(selected.range.end), selected.text
        ),
        on_refusal=ls.report_refusal,
    )
    if items is None:
        return None
    if items:
        ls.service.feedback.shown(items[0].model)
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=item.text,
                range=types.Range(lsp_position(item.start), lsp_position(item.end)),
                command=_accept_command(item.model),
            )
            for item in items
        ]
    )


def _accept_command(model: str) -> types.Command:
    """Run by the editor when the user accepts the item: acceptance feedback."""
    return types.Command(
        title="ardaemon: suggestion accepted",
        command=feedback.ACCEPT_COMMAND,
        arguments=[{"model": model}],
    )


@jsonrpc_errors
async def accepted(ls: ArdaemonServer, params: Any) -> None:
    p = decode_params(params, AcceptedParams)
    ls.service.feedback.accepted(p.model)


@feature(protocol.STATUS)
@jsonrpc_errors
async def status(ls: ArdaemonServer, params: Any) -> Any:
    return encode(ls.service.status())


@feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ArdaemonServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.service.forget_document(params.text_document.uri)
    ls.guard.forget(params.text_document.uri)


def serve(paths: Paths | None = None) -> int:
    from .logs import setup_logging

    paths = paths or Paths.default()
    setup_logging(paths)
    store = SettingsStore(paths)
    service = Service(paths, store)
    server = create_server(service)
    server.pending_warnings += store.load_file()
    log.info("ardaemon %s serving on stdio (pid %d)", __version__, os.getpid())
    code = asyncio.run(_serve_stdio(server))
    service.feedback.flush()
    log.info("exiting with code %d", code)
    return code


async def _serve_stdio(server: ArdaemonServer) -> int:
    """Read frames until `exit`, end of input or SIGINT/SIGTERM; the exit code."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    def stop(code: int, why: str) -> None:
        if not done.done():
            log.info("%s", why)
            done.set_result(code)

    assert isinstance(server.protocol, ArdaemonProtocol)
    protocol = server.protocol
    protocol.on_exit = lambda code: stop(code, "exit notification")
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop, 0, f"stopped by {sig.name}")

    def deliver(body: bytes | None) -> None:
        if body is None:
            if reader.failed:
                stop(1, "reading stdin failed")
            else:
                stop(0, "stdin closed")
            return
        try:
            protocol.receive(body)
        except Exception:  # one bad message must never stop the reading
            log.exception("a message could not be handled")

    async def pump(frames: asyncio.Queue[bytes | None]) -> None:
        while (body := await frames.get()) is not None:
            deliver(body)
        deliver(None)

    writer = await open_writer(sys.stdout.fileno())
    protocol.set_writer(writer)
    fd = sys.stdin.fileno()
    reader = transport.FrameReader(transport.read_fd(fd))
    reading: asyncio.ReadTransport | asyncio.Future[None] | None = None
    if transport.is_pipe(fd):
        try:
            reading = await transport.read_in_loop(fd, reader, deliver)
        except (OSError, ValueError) as exc:
            log.debug("stdin cannot be read on the loop (%s); using a reader thread", exc)
    if reading is None:
        reading = asyncio.ensure_future(pump(transport.start_reader(reader, loop)))
    try:
        return await done
    finally:
        if isinstance(reading, asyncio.ReadTransport):
            reading.close()
        else:
            reading.cancel()
        await writer.aclose()  # the shutdown answer and anything queued before it
