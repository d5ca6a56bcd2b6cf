"""Incoming JSON-RPC messages: envelope and lifecycle checks before pygls sees them.

Every request with a valid id gets exactly one answer: -32700 for bytes that are not
JSON, -32600 for a bad envelope (or a request after `shutdown`, a second
`initialize`), -32002 before `initialize`, -32602 naming the ill-typed field. Error
answers never carry a traceback or a path; the log gets one WARNING line per bad
message, with the traceback only at DEBUG.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import cattrs
from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, MsgId

from .errors import quote

log = logging.getLogger(__name__)

#: The id of the request whose handler runs (None outside one): a chat's progress is
#: marked with it, so that the writer keeps it before that chat's answer.
REQUEST: contextvars.ContextVar[MsgId | None] = contextvars.ContextVar("request", default=None)
_FRAME = b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n%s"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002


class Rejected(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _valid_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return _lone_surrogate(value) is None
    return isinstance(value, int)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(text: str) -> str | None:
    match = _SURROGATE.search(text)
    return None if match is None else f"\\u{ord(match.group()):04x}"


def _find_surrogate(value: Any, path: str) -> tuple[str, str] | None:
    """(field path, escape) of the first string that holds a lone surrogate."""
    if isinstance(value, str):
        found = _lone_surrogate(value)
        return (path, found) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            hit = _find_surrogate(key, path) or _find_surrogate(item, f"{path}.{key}")
            if hit:
                return hit
    elif isinstance(value, list):
        for i, item in enumerate(value):
            hit = _find_surrogate(item, f"{path}[{i}]")
            if hit:
                return hit
    return None


def _camel(path: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)


def _field_problem(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        first = cattrs.transform_error(exc)[0]
        what, _, where = first.rpartition(" @ $.")
        if what == "invalid value":
            # An attrs validator (lsprotocol's uinteger) says which field and why.
            leaf = _first_leaf(exc)
            if isinstance(leaf, ValueError):
                what = quote(str(leaf), 120)
        return f"`{_camel(where)}`: {what}" if where else first
    return quote(str(exc))


def _first_leaf(exc: BaseException) -> BaseException:
    # Exception groups (the `exceptiongroup` backport on 3.10) nest the real cause.
    while inner := getattr(exc, "exceptions", None):
        exc = inner[0]
    return exc


class StrictProtocol(LanguageServerProtocol):
    """pygls's LSP protocol with strict intake; see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_code: int | None = None
        self.on_exit: Callable[[int], None] | None = None
        self._initialize_seen = False

    def receive(self, body: bytes) -> None:
        """Handle one frame body; never raises."""
        try:
            data = json.loads(body)
        except RecursionError:
            self._reject(None, PARSE_ERROR, "Parse error: the JSON nests too deeply.")
            return
        except ValueError as exc:
            self._reject(None, PARSE_ERROR, f"Parse error: {quote(str(exc))}.")
            return
        reply_id = data.get("id") if isinstance(data, dict) else None
        if not _valid_id(reply_id):
            reply_id = None
        try:
            message = self._admit(data)
        except Rejected as rejected:
            # A bad envelope is answered (id null when unknown); a notification's bad
            # params have nobody to answer.
            envelope = rejected.code in (PARSE_ERROR, INVALID_REQUEST)
            if envelope or (isinstance(data, dict) and "id" in data):
                self._reject(reply_id, rejected.code, rejected.message)
            else:
                log.warning("dropped a notification: %s", rejected.message)
            return
        if message is None:
            return
        try:
            self.handle_message(message)
        except Exception:
            log.warning("could not handle %s", quote(getattr(message, "method", "a response")))
            log.debug("traceback", exc_info=True)
            if getattr(message, "method", None) is not None and hasattr(message, "id"):
                self._reject(message.id, INTERNAL_ERROR, "Internal error; see the log.")

    def handle_message(self, message: Any) -> None:
        """pygls's dispatch, with the message kind told apart by attributes: pygls tests
        against runtime-checkable Protocols, 10–25 µs per message on the request path."""
        if self._shutdown and getattr(message, "method", "") != types.EXIT:
            log.warning("server shutting down; dropped %s", quote(getattr(message, "method", "")))
            return
        ctx = contextvars.copy_context()
        if hasattr(message, "method"):
            if hasattr(message, "id"):
                ctx.run(REQUEST.set, message.id)
                ctx.run(self._handle_request, message.id, message.method, message.params)
            else:
                ctx.run(self._handle_notification, message.method, message.params)
        elif hasattr(message, "result"):
            ctx.run(self._handle_response, message.id, message.result)
        else:
            ctx.run(self._handle_response, message.id, None, message.error)

    def notify(self, method: str, params: Any | None = None, owner: MsgId | None = None) -> None:
        """`owner`: the request whose progress this is (`writer.Outbox`)."""
        if _plain(params):  # already JSON: no attrs message, no cattrs pass
            self._send_data({"jsonrpc": "2.0", "method": method, "params": params}, owner)
        else:
            super().notify(method, params)

    def _send_data(self, data: Any, owner: MsgId | None = None) -> None:
        """pygls's `_send_data`, each frame marked for the writer (`writer.Outbox`): an
        answer to a request, or a request's progress (`owner`)."""
        if not data or self.writer is None:
            super()._send_data(data)
            return
        if isinstance(data, dict):
            answer = "method" not in data and "id" in data
        else:
            answer = getattr(data, "method", None) is None and hasattr(data, "id")
        if answer:
            owner = data["id"] if isinstance(data, dict) else data.id
        try:
            body = json.dumps(data, default=self._serialize_message).encode()
        except Exception as error:
            log.warning("could not encode an outgoing message: %s", error)
            log.debug("traceback", exc_info=True)
            return
        self.writer.write(_FRAME % (len(body), body), owner, answer)  # type: ignore[call-arg]

    def _admit(self, data: Any) -> Any:
        """The structured message, None when it was consumed here, or `Rejected`."""
        if not isinstance(data, dict):
            raise Rejected(INVALID_REQUEST, "Invalid request: a message must be a JSON object.")
        if data.get("jsonrpc") != "2.0":
            raise Rejected(INVALID_REQUEST, 'Invalid request: `jsonrpc` must be "2.0".')
        if "id" in data and not _valid_id(data["id"]):
            raise Rejected(
                INVALID_REQUEST,
                f"Invalid request: `id` must be an integer or a string, not {quote(data['id'])}.",
            )
        if "method" not in data:
            return self._admit_response(data)
        method = data["method"]
        if not isinstance(method, str) or _lone_surrogate(method):
            raise Rejected(INVALID_REQUEST, "Invalid request: `method` must be a string.")
        is_request = "id" in data
        if method == types.EXIT:
            self.exit_code = 0 if self._shutdown else 1
            if self.on_exit:
                self.on_exit(self.exit_code)
            return None
        if self._shutdown and is_request:
            raise Rejected(
                INVALID_REQUEST, "Invalid request: the server is shut down; only `exit` is left."
            )
        if method == types.INITIALIZE and is_request:
            if self._initialize_seen:
                raise Rejected(INVALID_REQUEST, "Invalid request: `initialize` was already sent.")
        elif not self._initialize_seen and is_request:
            raise Rejected(SERVER_NOT_INITIALIZED, "Server not initialized: send `initialize`.")
        if "params" in data and not isinstance(data["params"], (dict, list, type(None))):
            raise Rejected(INVALID_PARAMS, "Invalid params: `params` must be an object.")
        hit = _find_surrogate(data.get("params"), "params")
        if hit:
            raise Rejected(
                INVALID_PARAMS,
                f"Invalid params: `{hit[0]}` holds a lone surrogate ({hit[1]}); "
                "strings must be valid Unicode.",
            )
        default = JsonRPCRequestMessage if is_request else JsonRPCNotification
        kind = self.get_message_type(method) or default
        if kind is default:
            data = {"params": None, **data}  # custom methods may leave params out
        elif data.get("params", ...) is None:
            data = {k: v for k, v in data.items() if k != "params"}
        try:
            # Custom methods: pygls' hook would turn `params` into namedtuples (a JSON round
            # trip and a class made per object, on every request) that `decode_params` turns
            # back into dicts; their handlers get the plain JSON instead.
            message = kind(**data) if kind is default else self._converter.structure(data, kind)
        except Exception as exc:
            raise Rejected(
                INVALID_PARAMS,
                f"Invalid params for {quote(method)}: {_field_problem(exc).rstrip('.')}.",
            ) from None
        if method == types.INITIALIZE and is_request:
            self._initialize_seen = True
        return message

    def _admit_response(self, data: dict[str, Any]) -> Any:
        if "id" not in data or not ("result" in data or "error" in data):
            raise Rejected(
                INVALID_REQUEST, "Invalid request: a message needs `method`, `result` or `error`."
            )
        try:
            return self.structure_message(data)
        except Exception:
            log.warning("dropped a malformed response to request %s", quote(data["id"]))
            return None

    def _reject(self, msg_id: MsgId | None, code: int, message: str) -> None:
        log.warning(
            "answered %s with %d: %s", "null" if msg_id is None else quote(msg_id), code, message
        )
        if msg_id is None:
            # lsprotocol's converter would drop `"id": null`, which JSON-RPC requires.
            error = {"code": code, "message": message}
            self._send_data({"jsonrpc": "2.0", "id": None, "error": error})
        else:
            self._send_response(msg_id, error=ResponseError(code=code, message=message))

    def _send_response(
        self, msg_id: MsgId, result: Any | None = None, error: ResponseError | None = None
    ) -> None:
        # pygls puts `data.traceback` (file paths, source lines) into internal errors.
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            log.debug("internal error for %s: %s", quote(msg_id), error.message)
            error = ResponseError(
                code=INTERNAL_ERROR,
                message="Internal error; see the log.",
                data={"kind": "internal"},
            )
        if error is None and msg_id not in self._result_types and _plain(result):
            # The contract's methods answer with JSON already (`protocol.encode`).
            self._send_data({"id": msg_id, "jsonrpc": "2.0", "result": result})
            return
        super()._send_response(msg_id, result, error)


def _plain(value: Any) -> bool:
    """JSON as `json.dumps` takes it without help (containers are not looked into:
    `protocol.encode` makes whole trees of builtins, lsprotocol makes attrs objects)."""
    return value is None or type(value) in (dict, list, str, int, float, bool)
