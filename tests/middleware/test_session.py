"""`SessionMiddleware`: the signed session cookie, its attributes, expiry and tampering."""

from __future__ import annotations

import json
import re
import time
from base64 import b64decode, b64encode
from typing import Any

import anyio
import itsdangerous
from hypothesis import given, settings, strategies as st

from starlette.applications import Starlette
from starlette.datastructures import Secret
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory


def view_session(request: Request) -> Response:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> Response:
    data = await request.json()
    request.session.update(data)
    return JSONResponse({"session": request.session})


def clear_session(request: Request) -> Response:
    request.session.clear()
    return JSONResponse({"session": request.session})


async def websocket_session(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"session": websocket.session})
    websocket.session["from_websocket"] = True
    await websocket.close()


def make_app(**options: Any) -> Starlette:
    options.setdefault("secret_key", "example")
    return Starlette(
        routes=[
            Route("/view_session", view_session),
            Route("/update_session", update_session, methods=["POST"]),
            Route("/clear_session", clear_session, methods=["POST"]),
            WebSocketRoute("/ws", websocket_session),
        ],
        middleware=[Middleware(SessionMiddleware, **options)],
    )


def signed_cookie(data: Any, secret: str = "example", age: int = 0) -> str:
    """A session cookie value as the middleware would write it, `age` seconds ago."""

    class AgedSigner(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return AgedSigner(secret).sign(b64encode(json.dumps(data).encode())).decode()


def test_session_round_trip(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())

    response = client.get("/view_session")
    assert response.json() == {"session": {}}
    assert "set-cookie" not in response.headers

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    set_cookie = response.headers["set-cookie"]
    assert re.fullmatch(r"session=[^;]+; path=/; Max-Age=1209600; httponly; samesite=lax", set_cookie)

    response = client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}
    # A non-empty session is re-issued on every response, refreshing its expiry.
    assert response.headers["set-cookie"].startswith("session=")

    response = client.post("/clear_session")
    assert response.json() == {"session": {}}
    assert response.headers["set-cookie"] == (
        "session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax"
    )

    response = client.get("/view_session")
    assert response.json() == {"session": {}}
    assert "set-cookie" not in response.headers


def test_cookie_value_is_signed_base64_json(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.post("/update_session", json={"a": [1, 2]})
    value = response.cookies["session"]
    payload = itsdangerous.TimestampSigner("example").unsign(value, max_age=60)
    assert json.loads(b64decode(payload)) == {"a": [1, 2]}


def test_expired_session(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(max_age=60))
    client.cookies.set("session", signed_cookie({"some": "data"}, age=120))
    response = client.get("/view_session")
    assert response.json() == {"session": {}}
    # The invalid cookie did not count as a session: nothing to clear.
    assert "set-cookie" not in response.headers

    client.cookies.set("session", signed_cookie({"some": "data"}, age=30))
    assert client.get("/view_session").json() == {"session": {"some": "data"}}


def test_max_age_none_makes_a_browser_session_cookie(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(max_age=None))
    response = client.post("/update_session", json={"some": "data"})
    assert re.fullmatch(r"session=[^;]+; path=/; httponly; samesite=lax", response.headers["set-cookie"])

    # And the signature does not expire (replace the cookie the response set: same name, other domain).
    client.cookies.clear()
    client.cookies.set("session", signed_cookie({"old": "data"}, age=10 * 365 * 24 * 3600))
    assert client.get("/view_session").json() == {"session": {"old": "data"}}


def test_tampered_or_foreign_cookie_gives_an_empty_session(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    good = signed_cookie({"user": "alice"})
    for value in [
        good.rsplit(".", 1)[0] + "." + ("A" * 27),  # bad signature
        signed_cookie({"user": "alice"}, secret="other"),  # signed with another key
        "not-even-signed",
        itsdangerous.TimestampSigner("example").sign(b"%%%not base64").decode(),
        itsdangerous.TimestampSigner("example").sign(b64encode(b"{not json")).decode(),
        signed_cookie([1, 2, 3]),  # valid, but not a dict
    ]:
        client.cookies.set("session", value)
        response = client.get("/view_session")
        assert response.json() == {"session": {}}, value
        assert "set-cookie" not in response.headers


def test_secure_session(test_client_factory: TestClientFactory) -> None:
    app = make_app(https_only=True, same_site="strict")
    secure_client = test_client_factory(app, base_url="https://testserver")
    response = secure_client.post("/update_session", json={"some": "data"})
    assert response.headers["set-cookie"].endswith("; Max-Age=1209600; httponly; samesite=strict; secure")
    assert secure_client.get("/view_session").json() == {"session": {"some": "data"}}

    response = secure_client.post("/clear_session")
    assert response.headers["set-cookie"] == (
        "session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=strict; secure"
    )

    # Over plain http the client does not send the secure cookie back.
    client = test_client_factory(app)
    client.post("/update_session", json={"some": "data"})
    assert client.get("/view_session").json() == {"session": {}}


def test_cookie_options(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        secret_key=Secret("example"), session_cookie="sid", path="/app", same_site="none", domain="example.com"
    )
    client = test_client_factory(app)
    response = client.post("/update_session", json={"some": "data"})
    assert re.fullmatch(
        r"sid=[^;]+; path=/app; Max-Age=1209600; httponly; samesite=none; domain=example.com",
        response.headers["set-cookie"],
    )
    # Signed with the Secret's value.
    itsdangerous.TimestampSigner("example").unsign(response.headers["set-cookie"].split(";")[0][4:])


def test_session_cookie_on_a_mounted_app(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Mount("/second_app", app=make_app(path="/second_app"))])
    client = test_client_factory(app)
    response = client.post("/second_app/update_session", json={"some": "data"})
    assert response.status_code == 200
    assert "; path=/second_app; " in response.headers["set-cookie"]
    assert client.get("/second_app/view_session").json() == {"session": {"some": "data"}}


def test_websocket_session(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(make_app()) as client:  # the lifespan passes through
        client.post("/update_session", json={"some": "data"})
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_json() == {"session": {"some": "data"}}
        # Nothing is written back over a websocket.
        assert client.get("/view_session").json() == {"session": {"some": "data"}}


def test_middleware_attributes() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    middleware = SessionMiddleware(app, "secret", https_only=True, domain="example.com")
    assert middleware.app is app
    assert middleware.session_cookie == "session"
    assert middleware.max_age == 14 * 24 * 60 * 60
    assert middleware.path == "/"
    assert middleware.security_flags == "httponly; samesite=lax; secure; domain=example.com"
    assert isinstance(middleware.signer, itsdangerous.TimestampSigner)


async def placeholder_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("replaced by run_asgi")


def run_asgi(middleware: SessionMiddleware, cookie: str | None, new_session: Any) -> tuple[Any, list[Message]]:
    """Run one request; the app records the session it saw and replaces it with `new_session`."""
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope["session"]))
        scope["session"] = new_session
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    headers = [] if cookie is None else [(b"cookie", f"session={cookie}".encode())]
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        sent.append(message)

    middleware.app = app
    anyio.run(middleware, scope, receive, send)
    return seen[0], sent


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=50, deadline=None)
@given(data=st.dictionaries(st.text(), _json, min_size=1, max_size=5))
def test_round_trip_property(data: dict[str, Any]) -> None:
    middleware = SessionMiddleware(placeholder_app, "secret")
    seen, sent = run_asgi(middleware, None, data)
    assert seen == {}
    set_cookie = dict(sent[0]["headers"])[b"set-cookie"].decode()
    cookie = set_cookie.split(";", 1)[0].removeprefix("session=")

    seen, sent = run_asgi(middleware, cookie, {})
    assert seen == data
    assert dict(sent[0]["headers"])[b"set-cookie"].startswith(b"session=null;")
