"""The app every shared server runs: ``conformance.app:app``.

It hands each HTTP request and WebSocket connection to the app of the scenario named by the
``x-conformance-scenario`` header, with that one header taken out of the scope, so the scenario's
app sees exactly what the server sent otherwise. It completes lifespan startup with a marker in
the lifespan state, which scenarios check arrives in request scopes.
"""

from __future__ import annotations

import conformance.scenarios  # noqa: F401  (registers every scenario)
from conformance._model import registry
from conformance._session import SCENARIO_HEADER, STATE_KEY, STATE_VALUE
from starlette.types import ASGIApp, Receive, Scope, Send

_HEADER = SCENARIO_HEADER.encode("latin-1")
_APPS: dict[bytes, ASGIApp] = {s.id.encode("latin-1"): s.app for s in registry if s.app is not None}


async def _lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if "state" in scope:
                scope["state"][STATE_KEY] = STATE_VALUE
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "no such scenario"})
        return
    body = b"No scenario: send an x-conformance-scenario header naming one."
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch to the scenario's app named by the request's x-conformance-scenario header."""
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
        return
    target: ASGIApp = _not_found
    headers = []
    for name, value in scope["headers"]:
        if name.lower() == _HEADER:
            target = _APPS.get(value, _not_found)
        else:
            headers.append((name, value))
    await target({**scope, "headers": headers}, receive, send)
