"""The lifespan protocol (ASGI lifespan.rst): startup and shutdown, failures, state, unsupporting apps.

Most scenarios here are about the server's own life, so they are *dedicated*: the check starts a
server for one of this module's apps (``conformance.scenarios.lifespan:<name>``) with
``session.serve()``. Those apps write what happened to them (one event per line) in the directory
named by the ``CONFORMANCE_LIFESPAN_DIR`` environment variable, which the check reads after the
server stopped; HTTP requests to them answer with the events so far and what the request saw.

The ``lifespan.state.*`` scenarios with an app run on the shared dispatcher, whose lifespan stores
``STATE_VALUE`` under ``STATE_KEY`` in the state.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from conformance import ServerStartFailed, Session, expect, expect_equal, scenario
from conformance._session import STATE_KEY, STATE_VALUE
from conformance._targets import Endpoint, Target
from conformance.scenarios._helpers import jsonable_scope, read_body, send_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

DIRECTORY = "CONFORMANCE_LIFESPAN_DIR"
FAILURE_MESSAGE = "conformance: startup refused, as the scenario asks"
STARLETTE_FAILURE = "conformance: the Starlette lifespan raised"
#: A short pause in startup and shutdown, so a server that does not wait for the app would be caught.
PAUSE = 0.05

_NO_LIFESPAN = "daphne does not implement the lifespan protocol: it never calls the app with a lifespan scope"


def _events_file() -> Path:
    return Path(os.environ[DIRECTORY]) / "events"


def _event(name: str) -> None:
    with _events_file().open("a", encoding="utf-8") as events:
        events.write(name + "\n")


def _events(directory: str | Path) -> list[str]:
    path = Path(directory) / "events"
    return path.read_text("utf-8").splitlines() if path.exists() else []


def _get(endpoint: Endpoint, path: str) -> Any:
    with endpoint.http_client({}) as client:
        response = client.get(path)
    expect_equal(f"status of GET {path}", response.status_code, 200)
    return response.json()


# --- The apps of the dedicated servers ---------------------------------------------------------

_LIFESPAN_SCOPE: dict[str, Any] = {}


async def _lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    _LIFESPAN_SCOPE.update(jsonable_scope(scope))
    _event((await receive())["type"])
    scope.get("state", {}).update(items=[], value="set at startup")  # state is optional
    await anyio.sleep(PAUSE)
    _event("startup done")
    await send({"type": "lifespan.startup.complete"})
    _event((await receive())["type"])
    await anyio.sleep(PAUSE)
    _event("shutdown done")
    await send({"type": "lifespan.shutdown.complete"})


async def _mutate_state(scope: Scope) -> dict[str, Any] | None:
    """What this request's state looks like, before changing it in place (shallow) and at the top level."""
    state = scope.get("state")
    if state is None:
        return None
    seen = {"items": list(state["items"]), "value": state["value"], "added": "added" in state}
    state["items"].append(len(seen["items"]))
    state["value"] = "rebound by a request"
    state["added"] = True
    return seen


async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Completes startup and shutdown (recording both), keeps state; requests report what they see."""
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
        return
    await read_body(receive)
    _event("request")
    if scope["path"] == "/state":
        await send_json(send, {"lifespan_state": "state" in _LIFESPAN_SCOPE, "seen": await _mutate_state(scope)})
    else:
        await send_json(send, {"events": _events(_events_file().parent), "lifespan_scope": _LIFESPAN_SCOPE})


async def _http_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    _event("request")
    await send_json(send, {"type": scope["type"]})


async def startup_failed_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuses to start: answers lifespan.startup with lifespan.startup.failed and a message."""
    await receive()
    await send({"type": "lifespan.startup.failed", "message": FAILURE_MESSAGE})


async def startup_raises_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Raises after receiving lifespan.startup (ASGI: the server continues, without lifespan events)."""
    if scope["type"] == "lifespan":
        _event((await receive())["type"])
        raise RuntimeError("conformance: an exception in lifespan startup")
    await _http_ok(scope, receive, send)


async def unsupported_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that does not support lifespan: it raises as soon as it is called with that scope."""
    if scope["type"] == "lifespan":
        _event("lifespan called")
        raise ValueError(f"conformance: unsupported scope type {scope['type']!r}")
    await _http_ok(scope, receive, send)


@contextlib.asynccontextmanager
async def _starlette_lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    _event("starlette startup")
    yield {"greeting": "from the Starlette lifespan", "calls": []}
    _event("starlette shutdown")


async def _starlette_state(request: Request) -> JSONResponse:
    request.state.calls.append(len(request.state.calls))
    return JSONResponse({"greeting": request.state.greeting, "calls": request.state.calls})


starlette_app = Starlette(routes=[Route("/", _starlette_state)], lifespan=_starlette_lifespan)


def _starlette_failing_lifespan(app: Starlette) -> contextlib.AbstractAsyncContextManager[None]:
    # Starlette enters the lifespan context inside its startup error handling: failing to make
    # the context fails startup just like raising in it.
    raise RuntimeError(STARLETTE_FAILURE)


starlette_failing_app = Starlette(lifespan=_starlette_failing_lifespan)


def _run(s: Session, app: str, paths: list[str]) -> tuple[list[Any], list[str]]:
    """Serve ``app`` on a dedicated server, GET ``paths``, stop: the JSON answers and the events recorded."""
    with tempfile.TemporaryDirectory(prefix="conformance-lifespan-") as directory:
        with s.serve(f"{__name__}:{app}", env={DIRECTORY: directory}) as endpoint:
            answers = [_get(endpoint, path) for path in paths]
        return answers, _events(directory)


# lifespan_app's run is shared by the scenarios that only differ in what they check (one server
# start per target instead of three): requests "/", "/state", "/state".
_LIFESPAN_APP_RUNS: weakref.WeakKeyDictionary[Target, tuple[list[Any], list[str]]] = weakref.WeakKeyDictionary()


def _lifespan_app_run(s: Session) -> tuple[list[Any], list[str]]:
    if s.target not in _LIFESPAN_APP_RUNS:
        _LIFESPAN_APP_RUNS[s.target] = _run(s, "lifespan_app", ["/", "/state", "/state"])
    return _LIFESPAN_APP_RUNS[s.target]


def _start_failure(s: Session, app: str) -> str | None:
    """Try to serve ``app``: None if the server started, else what it printed."""
    try:
        with s.serve(f"{__name__}:{app}"):
            return None
    except ServerStartFailed as failed:
        return failed.log


# --- Dedicated scenarios -----------------------------------------------------------------------


@scenario("lifespan.cycle.startup_shutdown", app=None, waivers={"daphne": _NO_LIFESPAN})
def _cycle(s: Session) -> None:
    """Startup completes before the first request is served; at exit the server sends shutdown and waits for it."""
    answers, events = _lifespan_app_run(s)
    seen = answers[0]["events"]
    expect_equal("events seen by the first request", seen, ["lifespan.startup", "startup done", "request"])
    expect_equal(
        "events once the server stopped",
        events,
        ["lifespan.startup", "startup done", *["request"] * len(answers), "lifespan.shutdown", "shutdown done"],
    )


@scenario("lifespan.scope.keys", app=None, waivers={"daphne": _NO_LIFESPAN})
def _scope_keys(s: Session) -> None:
    """The lifespan scope: type "lifespan", asgi version "3.0", spec_version 1.0/2.0 and a dict state when present."""
    scope = _lifespan_app_run(s)[0][0]["lifespan_scope"]
    expect_equal('scope["type"]', scope.get("type"), "lifespan")
    asgi = scope.get("asgi", {})
    expect_equal('scope["asgi"]["version"]', asgi.get("version"), "3.0")
    spec = asgi.get("spec_version", "1.0")
    expect(spec in ("1.0", "2.0"), f'scope["asgi"]["spec_version"] should be "1.0" or "2.0", got {spec!r}')
    state_type = scope.get("_types", {}).get("state", "dict")
    expect_equal('type of scope["state"] (when present)', state_type, "dict")


@scenario("lifespan.state.shallow_copy", app=None)
def _state_shallow_copy(s: Session) -> None:
    """Each request gets a shallow copy of the state set at startup: rebinding is private, objects are shared."""
    first, second = _lifespan_app_run(s)[0][1:]
    offered = first["lifespan_state"]
    start = {"items": [], "value": "set at startup", "added": False}
    expected = [start, {**start, "items": [0]}] if offered else [None, None]
    expect_equal(f"state seen by two requests (state offered: {offered})", [first["seen"], second["seen"]], expected)


@scenario("lifespan.startup.failed", app=None, waivers={"daphne": _NO_LIFESPAN})
def _startup_failed(s: Session) -> None:
    """lifespan.startup.failed stops the server, which prints the message."""
    log = _start_failure(s, "startup_failed_app")
    expect(log is not None, "the server started although the app sent lifespan.startup.failed")
    expect(FAILURE_MESSAGE in (log or ""), f"the message is not in the server's output: {(log or '')[-800:]!r}")


@scenario("lifespan.startup.exception", app=None)
def _startup_exception(s: Session) -> None:
    """An exception raised in startup: the server continues without lifespan events, and serves requests."""
    answers, events = _run(s, "startup_raises_app", ["/"])
    expect_equal("answer", answers, [{"type": "http"}])
    expect(events in (["lifespan.startup", "request"], ["request"]), f"events: {events}")


@scenario("lifespan.unsupported.raises", app=None)
def _unsupported(s: Session) -> None:
    """An app raising on the lifespan scope (no lifespan support): the server continues and serves requests."""
    answers, events = _run(s, "unsupported_app", ["/"])
    expect_equal("answer", answers, [{"type": "http"}])
    expect(events in (["lifespan called", "request"], ["request"]), f"events: {events}")


@scenario("lifespan.starlette.state", app=None, waivers={"daphne": _NO_LIFESPAN})
def _starlette_state_check(s: Session) -> None:
    """Our Starlette: the state yielded by the lifespan reaches request.state (shallow copies), shutdown runs."""
    answers, events = _run(s, "starlette_app", ["/", "/"])
    greeting = "from the Starlette lifespan"
    expect_equal("answers", answers, [{"greeting": greeting, "calls": [0]}, {"greeting": greeting, "calls": [0, 1]}])
    expect_equal("events once the server stopped", events, ["starlette startup", "starlette shutdown"])


@scenario("lifespan.starlette.startup_failure", app=None, waivers={"daphne": _NO_LIFESPAN})
def _starlette_failure(s: Session) -> None:
    """Our Starlette: a lifespan that raises fails startup (lifespan.startup.failed), the server stops with it."""
    log = _start_failure(s, "starlette_failing_app")
    expect(log is not None, "the server started although the Starlette lifespan raised")
    expect(STARLETTE_FAILURE in (log or ""), f"the error is not in the server's output: {(log or '')[-800:]!r}")


# --- On the shared dispatcher ------------------------------------------------------------------


async def _state_echo(scope: Scope, receive: Receive, send: Send) -> None:
    state = jsonable_scope({"state": scope.get("state")})["state"]
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(state)})
        await send({"type": "websocket.close", "code": 1000})
        return
    await read_body(receive)
    await send_json(send, state)


def _expect_dispatcher_state(state: Any) -> None:

    value = state if state is None else state.get(STATE_KEY)
    expect(value in (None, STATE_VALUE), f'scope["state"] should hold what startup stored, got {state!r}')


@scenario("lifespan.state.http", app=_state_echo)
def _state_http(s: Session) -> None:
    """An HTTP request's scope["state"], when present, holds what the lifespan startup stored."""
    _expect_dispatcher_state(s.http.get("/").json())


@scenario("lifespan.state.websocket", app=_state_echo)
def _state_websocket(s: Session) -> None:
    """A WebSocket's scope["state"], when present, holds what the lifespan startup stored."""
    with s.websocket("/") as ws:
        received = ws.receive()
    _expect_dispatcher_state(json.loads(received))


async def _state_leak(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    key = "conformance-leak-" + scope["query_string"].decode("latin-1")
    seen = key in scope.get("state", {})
    scope.get("state", {})[key] = True
    await send_json(send, {"seen": seen})


@scenario("lifespan.state.request_copy", app=_state_leak)
def _state_request_copy(s: Session) -> None:
    """A key a request adds to its scope["state"] is not in the next request's (each gets its own copy)."""
    token = secrets.token_hex(8)
    seen = [s.http.get(f"/?{token}").json()["seen"] for _ in range(2)]
    expect_equal("key seen by the first and the second request", seen, [False, False])
