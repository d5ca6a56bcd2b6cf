"""A local stand-in for the AgentRouter gateway, for tests, benchmarks and `ardaemon demo`.

It speaks the real wire formats (OpenAI Chat Completions and Anthropic Messages, SSE included),
replies deterministically, and can misbehave on request. Faults (`Gateway.set_fault(name, ...)`):

- `unauthorized_client` (opts `html`, `status`): the gateway's client allow-list refusal
- `bad_token`: 401 as for a wrong token
- `rate_limit` (`retry_after` seconds, default 1; `retry_after_ms`): 429 with retry headers
- `server_error` (`status` 500/502/503, `html`): 5xx with the path's error body
- `overloaded` (`status`): 529 `overloaded_error` on /v1/messages, 503 on the OpenAI paths
- `model_not_found` (`status` 404/400/200, `model`): including the HTTP 200 error-body quirk
- `midstream_error` (`after` frames, default 2; `type`): a stream that breaks with an error event
- `slow` (`delay` before headers, `chunk_delay` between frames, `drip` seconds per body
  byte): combines with the others
- `hang`: never answers (the client leaving is still recorded)
- `drop` (`after` frames, for streams): closes the connection without (finishing) a response

`Gateway.set_prices({model: (input, output)})` (US dollars per million tokens) adds
OpenRouter-style `pricing` to catalog entries: per-token prices as decimal strings.

Every fault takes `times=N` (then it clears itself), `paths=[...]` (path prefixes),
`message` (replaces the error message) and `headers` (extra response headers).

Other processes control it over HTTP, without auth and without being recorded:
`POST /_gateway/fault {"name", "times", "paths", ...opts}`, `POST /_gateway/clear`,
`POST /_gateway/reset`, `POST /_gateway/replies {"rules": [[substring, reply], ...], "prepend"}`,
`POST /_gateway/config {"latency", "chunkDelay", "models"}`, `GET /_gateway/requests`,
`POST /_gateway/wait_disconnect {"timeout"}` (the request, or null).

Run it alone with `python -m ardaemon.gateway [--port 0] [--token T | --any-token]`: it prints
`ardaemon-gateway listening on http://127.0.0.1:PORT` and serves until SIGTERM/SIGINT.
"""

from .api import DEFAULT_TOKEN, Gateway, isolated_env
from .state import RecordedRequest

__all__ = ["DEFAULT_TOKEN", "Gateway", "RecordedRequest", "isolated_env"]
