"""`SessionMiddleware`: the signed session cookie, its attributes, expiry and tampering."""

from __future__ import annotations

import json
import re
import string
import time
from base64 import b64decode, b64encode
from typing import Any

import anyio
import itsdangerous
import pytest
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


KEEP = object()  # `new_session` for run_asgi: leave the session the app got alone
CLEARED = b"session=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax"


def run_asgi(
    middleware: SessionMiddleware,
    cookie: str | None,
    new_session: Any,
    *,
    cookie_header: bytes | None = None,
    scope_type: str = "http",
) -> tuple[Any, list[Message]]:
    """Run one request; the app records the session it saw and replaces it with `new_session`.

    `cookie` is the session cookie's value; `cookie_header` (if given) is the raw Cookie header.
    """
    seen: list[Any] = []
    prefix = "websocket." if scope_type == "websocket" else ""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["session"])
        if new_session is not KEEP:
            scope["session"] = new_session
        await send({"type": prefix + "http.response.start", "status": 200, "headers": []})
        await send({"type": prefix + "http.response.body", "body": b""})

    if cookie_header is None and cookie is not None:
        cookie_header = f"session={cookie}".encode()
    headers = [] if cookie_header is None else [(b"cookie", cookie_header)]
    scope: Scope = {"type": scope_type, "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        sent.append(message)

    middleware.app = app
    anyio.run(middleware, scope, receive, send)
    return seen[0], sent


def set_cookies(message: Message) -> list[bytes]:
    return [value for name, value in message["headers"] if name == b"set-cookie"]


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
    assert set_cookies(sent[0]) == [CLEARED]


# Characters a browser may send in a cookie value (no separators, quotes or whitespace).
_cookie_octets = string.ascii_letters + string.digits + "!#$%&'()*+-./:<=>?@[]^_`{|}~"
_unsigned_garbage = st.text(alphabet=_cookie_octets, max_size=80)
# Correctly signed with the middleware's key, but not base64 JSON of a dict: only a bug (or a
# leaked key) could produce these, and they must still not break the request.
_signed_garbage = st.one_of(
    st.text(alphabet=_cookie_octets, max_size=60).map(str.encode),  # arbitrary text, often bad base64
    st.binary(max_size=60).map(b64encode),  # valid base64 of arbitrary bytes: bad UTF-8 or bad JSON
    _json.map(lambda value: b64encode(json.dumps(value).encode())),  # valid JSON, any shape
).map(lambda payload: itsdangerous.TimestampSigner("secret").sign(payload).decode())


@settings(max_examples=200, deadline=None)
@given(value=_unsigned_garbage | _signed_garbage)
def test_garbage_cookie_never_errors(value: str) -> None:
    middleware = SessionMiddleware(placeholder_app, "secret")
    seen, sent = run_asgi(middleware, value, KEEP)
    # The oracle: only a correctly signed base64 JSON object is a session.
    try:
        decoded = json.loads(b64decode(itsdangerous.TimestampSigner("secret").unsign(value)))
    except (itsdangerous.BadSignature, ValueError, RecursionError):
        decoded = None
    valid = isinstance(decoded, dict)
    assert seen == (decoded if valid else {})
    assert sent[0]["status"] == 200
    cookies = set_cookies(sent[0])
    if not valid:
        assert cookies == []
    elif decoded:
        assert len(cookies) == 1 and cookies[0].startswith(b"session=") and not cookies[0].startswith(b"session=null")
    else:
        assert cookies == [CLEARED]


@settings(max_examples=200, deadline=None)
@given(header=st.binary(max_size=120))
def test_garbage_cookie_header_never_errors(header: bytes) -> None:
    middleware = SessionMiddleware(placeholder_app, "secret")
    seen, sent = run_asgi(middleware, None, {"kept": 1}, cookie_header=header)
    assert seen == {}
    # The new session is written out as usual.
    (set_cookie,) = set_cookies(sent[0])
    value = set_cookie.split(b";", 1)[0].removeprefix(b"session=")
    assert json.loads(b64decode(itsdangerous.TimestampSigner("secret").unsign(value))) == {"kept": 1}


def test_signed_but_too_deeply_nested_json_gives_an_empty_session() -> None:
    middleware = SessionMiddleware(placeholder_app, "secret")
    payload = b64encode(b"[" * 100_000 + b"]" * 100_000)
    seen, sent = run_asgi(middleware, itsdangerous.TimestampSigner("secret").sign(payload).decode(), KEEP)
    assert seen == {}
    assert sent[0]["status"] == 200
    assert set_cookies(sent[0]) == []


def test_session_cookie_among_other_cookies() -> None:
    middleware = SessionMiddleware(placeholder_app, "secret", session_cookie="sid")
    header = f"theme=dark; sid={signed_cookie({'user': 'bob'}, secret='secret')}; other=1".encode()
    seen, sent = run_asgi(middleware, None, {"user": "bob"}, cookie_header=header)
    assert seen == {"user": "bob"}
    assert set_cookies(sent[0])[0].startswith(b"sid=")


def test_valid_but_empty_session_cookie_is_cleared() -> None:
    # The cookie was ours and valid: leaving the session empty clears it in the browser.
    middleware = SessionMiddleware(placeholder_app, "secret")
    seen, sent = run_asgi(middleware, signed_cookie({}, secret="secret"), {})
    assert seen == {}
    assert set_cookies(sent[0]) == [CLEARED]


def test_max_age_value_is_the_cookie_max_age(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(max_age=60))
    response = client.post("/update_session", json={"some": "data"})
    assert re.fullmatch(r"session=[^;]+; path=/; Max-Age=60; httponly; samesite=lax", response.headers["set-cookie"])
    # The client keeps it, and the next response refreshes it.
    response = client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}
    assert "; Max-Age=60; " in response.headers["set-cookie"]


def test_clearing_cookie_carries_the_cookie_options(test_client_factory: TestClientFactory) -> None:
    # The browser only drops the cookie if path and domain match the ones it was set with.
    app = make_app(session_cookie="sid", path="/", same_site="strict", domain="testserver.local", max_age=None)
    client = test_client_factory(app, base_url="http://testserver.local")
    response = client.post("/update_session", json={"some": "data"})
    assert re.fullmatch(
        r"sid=[^;]+; path=/; httponly; samesite=strict; domain=testserver.local", response.headers["set-cookie"]
    )
    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    response = client.post("/clear_session")
    assert response.headers["set-cookie"] == (
        "sid=null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=strict; domain=testserver.local"
    )
    assert "sid" not in client.cookies
    assert client.get("/view_session").json() == {"session": {}}


def test_session_across_requests(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    for n in range(1, 4):
        response = client.post("/update_session", json={f"k{n}": n})
        assert response.json() == {"session": {f"k{i}": i for i in range(1, n + 1)}}
    # Another client (another browser) has its own session.
    assert test_client_factory(make_app()).get("/view_session").json() == {"session": {}}


def test_websocket_session_is_not_written_back() -> None:
    # A websocket denial response is not an HTTP response the middleware sets cookies on.
    middleware = SessionMiddleware(placeholder_app, "secret")
    seen, sent = run_asgi(middleware, signed_cookie({"a": 1}, secret="secret"), {}, scope_type="websocket")
    assert seen == {"a": 1}
    assert sent[0] == {"type": "websocket.http.response.start", "status": 200, "headers": []}


@pytest.mark.anyio
async def test_lifespan_passes_through_untouched() -> None:
    calls: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append((scope, receive, send))

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await SessionMiddleware(app, "secret")(scope, receive, send)
    assert calls == [(scope, receive, send)]
    assert calls[0][1] is receive and calls[0][2] is send
    assert scope == {"type": "lifespan", "asgi": {"version": "3.0"}}
