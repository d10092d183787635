"""SessionMiddleware behind each server: a signed cookie carrying the session across requests.

The checks handle the cookie themselves (read from Set-Cookie, sent back in a Cookie header)
rather than trusting a client cookie jar: what is under test is the exact cookie the server
delivered, its attributes, and what the next request makes of it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from conformance import Session, expect, expect_equal, scenario
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

_SECRET = "conformance session secret"
_TWO_WEEKS = 14 * 24 * 60 * 60


async def _update(request: Request) -> Response:
    """Store every query parameter in the session; count the calls under "count"."""
    request.session.update(request.query_params)
    request.session["count"] = request.session.get("count", 0) + 1
    return JSONResponse(request.session)


async def _show(request: Request) -> Response:
    return JSONResponse(request.session)


async def _clear(request: Request) -> Response:
    request.session.clear()
    return JSONResponse(request.session)


async def _with_cookies(request: Request) -> Response:
    """Set two cookies of the endpoint's own next to the session."""
    request.session["visited"] = True
    response = JSONResponse(request.session)
    response.set_cookie("theme", "dark")
    response.set_cookie("lang", "fr", max_age=60)
    return response


async def _ws_show(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(json.dumps(websocket.session))
    await websocket.close()


_ROUTES = [
    Route("/update", _update, methods=["POST"]),
    Route("/show", _show),
    Route("/clear", _clear, methods=["POST"]),
    Route("/with-cookies", _with_cookies),
    WebSocketRoute("/ws", _ws_show),
]
_DEFAULTS = Starlette(routes=_ROUTES, middleware=[Middleware(SessionMiddleware, secret_key=_SECRET)])
_OPTIONS = Starlette(
    routes=_ROUTES,
    middleware=[
        Middleware(
            SessionMiddleware,
            secret_key=_SECRET,
            session_cookie="conformance_session",
            max_age=60,
            same_site="strict",
            https_only=True,
            path="/",
        )
    ],
)


def _set_cookie(response: httpx.Response, name: str = "session") -> tuple[str, list[str]]:
    """The value and the lowercased attributes of the one Set-Cookie for ``name``."""
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    expect_equal(f"number of Set-Cookie headers for {name!r}", len(cookies), 1)
    pair, *attributes = (part.strip() for part in cookies[0].split(";"))
    return pair.partition("=")[2], [attribute.lower() for attribute in attributes]


def _session(response: httpx.Response) -> dict[str, Any]:
    expect_equal("status", response.status_code, 200)
    data: dict[str, Any] = response.json()
    return data


@scenario("framework.sessions.roundtrip", app=_DEFAULTS)
def _roundtrip(s: Session) -> None:
    """A session value set by one request is read back by the next one sending the cookie; the
    cookie is path=/, two weeks Max-Age, httponly, samesite=lax."""
    first = s.http.post("/update", params={"user": "alice"})
    expect_equal("session after setting", _session(first), {"user": "alice", "count": 1})
    value, attributes = _set_cookie(first)
    expect_equal("cookie attributes", attributes, ["path=/", f"max-age={_TWO_WEEKS}", "httponly", "samesite=lax"])
    again = s.http.get("/show", headers={"cookie": f"session={value}"})
    expect_equal("session read back", _session(again), {"user": "alice", "count": 1})


@scenario("framework.sessions.across_requests", app=_DEFAULTS)
def _across_requests(s: Session) -> None:
    """Each response re-signs the session; sending the latest cookie each time accumulates state."""
    cookie = ""
    counts = []
    for step in ("a", "b", "c"):
        response = s.http.post("/update", params={step: step}, headers={"cookie": f"session={cookie}"})
        counts.append(_session(response)["count"])
        cookie = _set_cookie(response)[0]
    expect_equal("counts", counts, [1, 2, 3])
    final = s.http.get("/show", headers={"cookie": f"session={cookie}"})
    expect_equal("final session", _session(final), {"a": "a", "b": "b", "c": "c", "count": 3})


@scenario("framework.sessions.untouched", app=_DEFAULTS)
def _untouched(s: Session) -> None:
    """A request without session cookie whose session stays empty sets no cookie."""
    response = s.http.get("/show")
    expect_equal("session", _session(response), {})
    expect_equal("set-cookie", response.headers.get_list("set-cookie"), [])


@scenario("framework.sessions.tampered", app=_DEFAULTS)
def _tampered(s: Session) -> None:
    """A cookie whose payload was altered (or that is no signed value at all) gives an empty
    session, not an error."""
    value, _ = _set_cookie(s.http.post("/update", params={"role": "user"}))
    _, dot, timestamp_and_signature = value.partition(".")
    forged = json.dumps({"role": "admin", "count": 1}).encode()
    tampered = base64.b64encode(forged).decode() + dot + timestamp_and_signature
    expect(tampered != value, "the tampered cookie should differ from the real one")
    response = s.http.get("/show", headers={"cookie": f"session={tampered}"})
    expect_equal("session from a tampered cookie", _session(response), {})
    garbage = s.http.get("/show", headers={"cookie": "session=not-a-signed-value"})
    expect_equal("session from a garbage cookie", _session(garbage), {})


@scenario("framework.sessions.cleared", app=_DEFAULTS)
def _cleared(s: Session) -> None:
    """Clearing the session expires the cookie (value "null", expires in 1970); the next request
    sending that cookie has an empty session."""
    value, _ = _set_cookie(s.http.post("/update", params={"user": "bob"}))
    response = s.http.post("/clear", headers={"cookie": f"session={value}"})
    expect_equal("session after clearing", _session(response), {})
    cleared, attributes = _set_cookie(response)
    expect_equal("cleared cookie value", cleared, "null")
    expect("expires=thu, 01 jan 1970 00:00:00 gmt" in attributes, f"cookie not expired: {attributes}")
    expect("path=/" in attributes, f"cleared cookie has another path: {attributes}")
    after = s.http.get("/show", headers={"cookie": f"session={cleared}"})
    expect_equal("session with the cleared cookie", _session(after), {})


@scenario("framework.sessions.options", app=_OPTIONS)
def _options(s: Session) -> None:
    """session_cookie, max_age, same_site and https_only shape the cookie (name, Max-Age,
    samesite=strict, secure), and the renamed cookie carries the session."""
    response = s.http.post("/update", params={"k": "v"})
    value, attributes = _set_cookie(response, "conformance_session")
    expect_equal("cookie attributes", attributes, ["path=/", "max-age=60", "httponly", "samesite=strict", "secure"])
    again = s.http.get("/show", headers={"cookie": f"conformance_session={value}"})
    expect_equal("session read back", _session(again), {"k": "v", "count": 1})
    wrong_name = s.http.get("/show", headers={"cookie": f"session={value}"})
    expect_equal("session under the default cookie name", _session(wrong_name), {})


@scenario("framework.sessions.websocket", app=_DEFAULTS)
def _websocket(s: Session) -> None:
    """A WebSocket handshake carrying the session cookie sees the session."""
    value, _ = _set_cookie(s.http.post("/update", params={"user": "carol"}))
    with s.websocket("/ws", headers={"cookie": f"session={value}"}) as ws:
        message = ws.receive()
    expect_equal("session seen by the WebSocket", json.loads(message), {"user": "carol", "count": 1})


@scenario("framework.sessions.with_other_cookies", app=_DEFAULTS)
def _with_other_cookies(s: Session) -> None:
    """The session cookie is one more Set-Cookie next to the endpoint's own: all three arrive."""
    response = s.http.get("/with-cookies")
    expect_equal("session", _session(response), {"visited": True})
    names = sorted(cookie.partition("=")[0] for cookie in response.headers.get_list("set-cookie"))
    expect_equal("cookie names", names, ["lang", "session", "theme"])
    value, _ = _set_cookie(response)
    again = s.http.get("/show", headers={"cookie": f"theme=dark; session={value}; lang=fr"})
    expect_equal("session read back among other cookies", _session(again), {"visited": True})
