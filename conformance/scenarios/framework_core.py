"""The framework end to end on real servers (first half): routing, url_for, redirects, exception
handlers, background tasks, WebSockets, lifespan and requests through our ``starlette``.

Most scenarios live in ``framework_core_http`` (routing, url_for, redirects, requests) and
``framework_core_errors`` (exception handlers, the debug page, background tasks, WebSockets),
imported here. This module holds the dedicated ones: a Starlette app with a lifespan (the shared
dispatcher runs its own lifespan, not the scenario apps'), served with the root_path "/api".

Theory of operation (root_path). A server given ``--root-path /api`` is mounted at /api: the
ASGI scope's ``path`` is the full path, root_path included, and Starlette routes on what follows
the root_path. Servers differ in what they expect the client (a proxy) to send:
- uvicorn expects the proxy to strip the prefix and prepends root_path to every request target
  (GET /items/5 -> path "/api/items/5"; GET /api/items/5 -> path "/api/api/items/5");
- hypercorn and daphne expect the full path and pass the request target unchanged
  (GET /api/items/5 -> path "/api/items/5"; GET /items/5 -> path "/items/5", not under root_path);
- our TestClient(root_path=...) prepends root_path unless the path is already under it.
Starlette routes both (a path not under root_path is routed as is), and url_for always builds on
root_path; request.url is scope["path"], so it carries the prefix only where the server put it
there. One scenario per convention, each waived on the servers following the other one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from conformance import Session, expect, expect_equal, scenario
from conformance._targets import Target
from conformance.scenarios import framework_core_errors, framework_core_http
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

__all__ = ["framework_core_errors", "framework_core_http", "rooted_app"]

ROOT_PATH = "/api"
DIRECTORY = "CONFORMANCE_FRAMEWORK_DIR"
RESOURCE = "opened by the lifespan"

_NO_LIFESPAN = "daphne does not implement the lifespan protocol: it never calls the app with a lifespan scope"
_PREFIXES = "uvicorn prepends --root-path to every request target (GET /api/items/5 -> path '/api/api/items/5')"
_NO_PREFIX = "{} passes the request target as path without root_path (GET /items/5 -> path '/items/5')"


def _event(name: str) -> None:
    with (Path(os.environ[DIRECTORY]) / "events").open("a", encoding="utf-8") as events:
        events.write(name + "\n")


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    _event("startup")
    yield {"resource": RESOURCE, "shared": []}
    _event("shutdown")


def _state_of(request: Request | WebSocket) -> dict[str, Any]:
    """What the lifespan put in the state (None where the server has no lifespan)."""
    shared = getattr(request.state, "shared", None)
    seen = None if shared is None else list(shared)
    if shared is not None:
        shared.append(len(shared))
    return {"resource": getattr(request.state, "resource", None), "shared": seen}


async def _item(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "id": request.path_params["id"],
            "url": str(request.url),
            "base_url": str(request.base_url),
            "url_for": str(request.url_for("item", id=6)),
            "mounted_url_for": str(request.url_for("v1:thing", name="x")),
        }
    )


async def _state(request: Request) -> JSONResponse:
    return JSONResponse(_state_of(request))


async def _websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({**_state_of(websocket), "url_for": str(websocket.url_for("ws"))})
    await websocket.close()


# The mounted app has the same lifespan: Starlette does not run it (the events show one startup).
_inner = Starlette(routes=[Route("/state", _state)], lifespan=_lifespan)

rooted_app = Starlette(
    routes=[
        Route("/items/{id:int}", _item, name="item"),
        Route("/state", _state),
        WebSocketRoute("/ws", _websocket, name="ws"),
        Mount("/v1", name="v1", routes=[Route("/things/{name}", _state, name="thing")]),
        Mount("/inner", app=_inner),
    ],
    lifespan=_lifespan,
)


# --- One dedicated server per target, shared by the scenarios below ----------------------------

_RUNS: weakref.WeakKeyDictionary[Target, dict[str, Any]] = weakref.WeakKeyDictionary()


def _answer(response: httpx.Response) -> list[Any]:
    return [response.status_code, response.json() if response.status_code == 200 else response.text]


def _run(s: Session) -> dict[str, Any]:
    """Serve rooted_app with root_path /api once per target; what every request got, and the events."""
    if s.target not in _RUNS:
        with tempfile.TemporaryDirectory(prefix="conformance-framework-") as directory:
            with s.serve(f"{__name__}:rooted_app", env={DIRECTORY: directory}, root_path=ROOT_PATH) as endpoint:
                with endpoint.http_client({}) as client:
                    run: dict[str, Any] = {"base": str(client.base_url).rstrip("/")}
                    for name, path in (
                        ("stripped", "/items/5?x=1"),
                        ("full", "/api/items/5?x=1"),
                        ("state1", "/state"),
                        ("state2", "/state"),
                        ("inner", "/inner/state"),
                        ("inner_full", "/api/inner/state"),
                    ):
                        run[name] = _answer(client.get(path))
                with endpoint.websocket("/ws", subprotocols=(), headers={}) as ws:
                    run["websocket"] = ws.receive()
            events = Path(directory) / "events"
            run["events"] = events.read_text("utf-8").splitlines() if events.exists() else []
        _RUNS[s.target] = run
    return _RUNS[s.target]


def _expected_item(base: str) -> list[Any]:
    return [
        200,
        {
            "path": "/api/items/5",
            "root_path": ROOT_PATH,
            "id": 5,
            "url": f"{base}/api/items/5?x=1",
            "base_url": f"{base}/api/",
            "url_for": f"{base}/api/items/6",
            "mounted_url_for": f"{base}/api/v1/things/x",
        },
    ]


@scenario("framework.url_for.root_path", app=None)
def _url_for_root_path(s: Session) -> None:
    """Behind a root_path, url_for includes it (also for routes inside a Mount)."""
    run = _run(s)
    status, data = run["stripped"]
    expected = _expected_item(run["base"])[1]
    expect_equal("status", status, 200)
    expect_equal(
        "url_for", [data["url_for"], data["mounted_url_for"]], [expected["url_for"], expected["mounted_url_for"]]
    )


@scenario(
    "framework.request.url_root_path",
    app=None,
    waivers={"hypercorn": _NO_PREFIX.format("hypercorn"), "daphne": _NO_PREFIX.format("daphne")},
)
def _request_url_root_path(s: Session) -> None:
    """The proxy strips the prefix (GET /items/5): path includes root_path, request.url and base_url too."""
    run = _run(s)
    expect_equal("what the endpoint saw", run["stripped"], _expected_item(run["base"]))


@scenario("framework.url_for.root_path_full_path", app=None, waivers={"uvicorn": _PREFIXES})
def _url_for_full_path(s: Session) -> None:
    """The client sends the full path (GET /api/items/5): routed below root_path, the same URLs."""
    run = _run(s)
    expect_equal("what the endpoint saw", run["full"], _expected_item(run["base"]))


@scenario("framework.url_for.websocket_root_path", app=None)
def _url_for_websocket(s: Session) -> None:
    """A WebSocket's url_for behind a root_path: a ws:// URL including it."""
    run = _run(s)
    ws_base = "ws" + run["base"].removeprefix("http")
    expect_equal("url_for('ws')", json.loads(run["websocket"])["url_for"], f"{ws_base}/api/ws")


@scenario("framework.lifespan.state_http", app=None, waivers={"daphne": _NO_LIFESPAN})
def _lifespan_state_http(s: Session) -> None:
    """The state the lifespan yields reaches request.state: a shallow copy per request (objects shared)."""
    run = _run(s)
    first, second = run["state1"], run["state2"]
    expect_equal("first request", first, [200, {"resource": RESOURCE, "shared": []}])
    expect_equal("second request", second, [200, {"resource": RESOURCE, "shared": [0]}])


@scenario("framework.lifespan.state_websocket", app=None, waivers={"daphne": _NO_LIFESPAN})
def _lifespan_state_websocket(s: Session) -> None:
    """The lifespan state reaches websocket.state."""
    data = json.loads(_run(s)["websocket"])
    expect_equal("websocket.state.resource", data["resource"], RESOURCE)


@scenario("framework.lifespan.mounted_app", app=None, waivers={"daphne": _NO_LIFESPAN})
def _lifespan_mounted(s: Session) -> None:
    """A mounted Starlette app sees the outer app's lifespan state; its own lifespan is not run.

    It is asked with both root_path conventions (see the module docstring): those routed must see it.
    """
    run = _run(s)
    resources = [answer[1]["resource"] for answer in (run["inner"], run["inner_full"]) if answer[0] == 200]
    expect(resources != [], f"the mounted app was not reached: {run['inner']}, {run['inner_full']}")
    expect_equal("state in the mounted app", set(resources), {RESOURCE})
    expect_equal("startups (the mounted app's lifespan is the same function)", run["events"].count("startup"), 1)


@scenario("framework.lifespan.cycle", app=None, waivers={"daphne": _NO_LIFESPAN})
def _lifespan_cycle(s: Session) -> None:
    """The lifespan context is entered before the first request and exited when the server stops."""
    expect_equal("lifespan events", _run(s)["events"], ["startup", "shutdown"])
