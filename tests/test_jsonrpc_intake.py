"""In-process checks of `StrictProtocol`'s intake (the stdio tests cover the rest)."""

from __future__ import annotations

from pygls.lsp.server import LanguageServer

from ardaemon.jsonrpc import StrictProtocol
from ardaemon.protocol import CompleteParams, decode_params


def test_custom_method_params_arrive_as_the_json_sent() -> None:
    """pygls would hand custom methods namedtuples (made per request, keys such as `from`
    renamed); the handlers get the plain JSON, and `decode_params` reads it as before."""
    proto = LanguageServer("t", "0", protocol_cls=StrictProtocol).protocol
    assert isinstance(proto, StrictProtocol)
    proto._initialize_seen = True
    params = {"prefix": "def f(", "model": "m", "extra": {"from": [{"class": 1}]}}
    message = proto._admit(
        {"jsonrpc": "2.0", "id": 7, "method": "ardaemon/complete", "params": params}
    )
    assert (message.id, message.method, message.params) == (7, "ardaemon/complete", params)
    assert type(message.params) is dict
    note = proto._admit({"jsonrpc": "2.0", "method": "ardaemon/accepted"})
    assert note.params is None
    assert decode_params(message.params, CompleteParams).prefix == "def f("
