"""WebSocket connections (ASGI HTTP & WebSocket spec, "WebSocket"; extensions.rst, "Websocket Denial Response").

Most apps here are raw ASGI callables, since the scenarios are about what the server delivers and
what it does with the app's messages; the ``websocket.starlette.*`` ones go through our
``starlette`` WebSocket and routing.

What happens inside the app after the client has gone (the disconnect it received, whether a late
``send()`` raised) is recorded under a token from the query string and fetched with a follow-up
HTTP request to the same scenario: the app runs in the server's process, the check in ours.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import socket
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import anyio

from conformance import Session, WebSocketClient, WebSocketClosed, WebSocketRejected, expect, expect_equal, scenario
from conformance._session import STATE_KEY, STATE_VALUE, TIMEOUT, read_until_closed
from conformance.scenarios._helpers import jsonable_scope, post, query_param, send_json, take
from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import WebSocketException
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

DENIAL = "websocket.http.response"
#: How long an app waits for the client (and the report request for the app's observation).
WAIT = 5.0
MIB = 1024 * 1024

# --- Observations reported back by the apps --------------------------------------------------


def _token_of(scope: Scope) -> str:
    return query_param(scope, "token")


def _record(scope: Scope, observation: Any) -> None:
    post(_token_of(scope), observation)


async def _report(scope: Scope, receive: Receive, send: Send) -> None:
    # The observation may still be on its way (the app records after the client left): wait for it.
    await send_json(send, await take(_token_of(scope), WAIT))


def _reporting(app: ASGIApp) -> ASGIApp:
    """``app`` for WebSockets; HTTP requests to the same scenario get the app's observation."""

    async def reporting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await _report(scope, receive, send)
        else:
            await app(scope, receive, send)

    return reporting


def _new_token() -> str:
    return secrets.token_hex(8)


def _observation(s: Session, token: str) -> Any:
    response = s.http.get("/", params={"token": token})
    expect_equal("status of the report request", response.status_code, 200)
    observed = response.json()
    expect(observed is not None, f"the app recorded no observation within {WAIT:.0f} s")
    return observed


async def _attempt(action: Awaitable[object]) -> str | None:
    """Await ``action``: None if it worked, else the name of the exception it raised (and whether an OSError)."""
    try:
        await action
    except Exception as exc:
        return f"{type(exc).__module__}.{type(exc).__qualname__} (OSError: {isinstance(exc, OSError)})"
    return None


async def _wait_disconnect(receive: Receive) -> Message:
    """Receive until ``websocket.disconnect`` (data messages skipped), within WAIT seconds."""
    with anyio.fail_after(WAIT):
        message = await receive()
        while message["type"] != "websocket.disconnect":
            message = await receive()
    return message


# --- Client-side helpers ---------------------------------------------------------------------


@dataclasses.dataclass
class _Handshake:
    """How a handshake ended: 101 and the accepted connection's details, or the HTTP rejection."""

    status: int
    headers: list[tuple[str, str]]
    subprotocol: str | None = None
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


def _handshake(s: Session, path: str, subprotocols: Sequence[str] = ()) -> _Handshake:
    """Open a WebSocket to ``path`` and close it at once (or collect the rejection)."""
    try:
        with s.websocket(path, subprotocols=subprotocols) as ws:
            return _Handshake(101, ws.headers, ws.subprotocol)
    except WebSocketRejected as rejected:
        return _Handshake(rejected.status_code, rejected.headers, body=rejected.body)


def _closed(ws: WebSocketClient) -> WebSocketClosed | str | bytes:
    """The next thing the server sends: a message, or how it closed the connection."""
    try:
        return ws.receive()
    except WebSocketClosed as closed:
        return closed


def _close_of(ws: WebSocketClient) -> tuple[int, str] | str | bytes:
    received = _closed(ws)
    return (received.code, received.reason) if isinstance(received, WebSocketClosed) else received


def _close_code(ws: WebSocketClient) -> int | str | bytes:
    received = _closed(ws)
    return received.code if isinstance(received, WebSocketClosed) else received


def _json(ws: WebSocketClient) -> Any:
    received = ws.receive()
    expect(isinstance(received, str), f"expected a text message, got {received!r}")
    return json.loads(received)


_UPGRADE = (
    ("upgrade", "websocket"),
    ("connection", "Upgrade"),
    ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("sec-websocket-version", "13"),
)


def _raw_websocket(s: Session, path: str) -> socket.socket:
    """A raw TCP connection on which a WebSocket handshake to ``path`` succeeded."""
    sock = s.connect()
    sock.sendall(s.request_head("GET", path, _UPGRADE))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        expect(chunk != b"", f"the server closed the connection during the handshake: {head!r}")
        head += chunk
    expect(head.startswith(b"HTTP/1.1 101 "), f"expected a 101 handshake response, got {head!r}")
    return sock


# --- The connection scope --------------------------------------------------------------------


async def _scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    first = await receive()
    await send({"type": "websocket.accept"})
    observed = {"scope": jsonable_scope(scope), "first": first["type"]}
    await send({"type": "websocket.send", "text": json.dumps(observed)})
    await send({"type": "websocket.close", "code": 1000})


def _scope(
    s: Session, path: str = "/", subprotocols: Sequence[str] = (), headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    with s.websocket(path, subprotocols=subprotocols, headers=headers) as ws:
        observed: dict[str, Any] = _json(ws)
    return observed


@scenario("websocket.scope.type", app=_scope_app)
def _scope_type(s: Session) -> None:
    """scope["type"] is "websocket"."""
    expect_equal('scope["type"]', _scope(s)["scope"]["type"], "websocket")


@scenario("websocket.scope.asgi_version", app=_scope_app)
def _scope_asgi(s: Session) -> None:
    """scope["asgi"]["version"] is "3.0"; spec_version, when present, is one of 2.x."""
    asgi = _scope(s)["scope"]["asgi"]
    expect_equal('scope["asgi"]["version"]', asgi.get("version"), "3.0")
    spec = asgi.get("spec_version", "2.0")
    expect(isinstance(spec, str) and spec.startswith("2."), f"spec_version should be 2.x, got {spec!r}")


@scenario("websocket.scope.scheme", app=_scope_app)
def _scope_scheme(s: Session) -> None:
    """scope["scheme"] (optional, default "ws") is "ws" on a plain connection."""
    expect_equal('scope["scheme"]', _scope(s)["scope"].get("scheme", "ws"), "ws")


@scenario("websocket.scope.http_version", app=_scope_app)
def _scope_http_version(s: Session) -> None:
    """scope["http_version"] (optional, default "1.1") is "1.1" for an HTTP/1.1 handshake."""
    expect_equal('scope["http_version"]', _scope(s)["scope"].get("http_version", "1.1"), "1.1")


@scenario("websocket.scope.path", app=_scope_app)
def _scope_path(s: Session) -> None:
    """scope["path"] is the request path with percent-encoding and UTF-8 decoded."""
    observed = _scope(s, "/ws/caf%C3%A9/a%20b?x=1")["scope"]
    expect_equal('scope["path"]', observed["path"], "/ws/café/a b")
    expect_equal('type of scope["path"]', observed["_types"]["path"], "str")


@scenario("websocket.scope.raw_path", app=_scope_app)
def _scope_raw_path(s: Session) -> None:
    """scope["raw_path"], when present, is the path as received: bytes, still percent-encoded, no query."""
    observed = _scope(s, "/ws/caf%C3%A9/a%20b?x=1")["scope"]
    raw_path = observed.get("raw_path")
    expect(raw_path in (None, "/ws/caf%C3%A9/a%20b"), f'scope["raw_path"] should be the raw path, got {raw_path!r}')
    expect(
        observed["_types"]["raw_path"] in ("bytes", "NoneType"),
        f'scope["raw_path"] should be bytes, got {observed["_types"]["raw_path"]}',
    )


@scenario("websocket.scope.query_string", app=_scope_app)
def _scope_query_string(s: Session) -> None:
    """scope["query_string"] is the raw, percent-encoded bytes after "?"."""
    observed = _scope(s, "/ws?a=1&b=%20x&c=%E2%82%AC")["scope"]
    expect_equal('scope["query_string"]', observed["query_string"], "a=1&b=%20x&c=%E2%82%AC")
    expect_equal('type of scope["query_string"]', observed["_types"]["query_string"], "bytes")


@scenario("websocket.scope.root_path", app=_scope_app)
def _scope_root_path(s: Session) -> None:
    """scope["root_path"] (optional, default "") is empty when the server has no root path configured."""
    expect_equal('scope["root_path"]', _scope(s)["scope"].get("root_path", ""), "")


@scenario("websocket.scope.headers", app=_scope_app)
def _scope_headers(s: Session) -> None:
    """The handshake request's headers arrive as [name, value] byte pairs, the client's own included."""
    headers = _scope(s, headers={"X-Conformance-Probe": "Value, with comma"})["scope"]["headers"]
    by_name = {name.lower(): value for name, value in headers}
    expect_equal("x-conformance-probe header", by_name.get("x-conformance-probe"), "Value, with comma")
    expect_equal("sec-websocket-version header", by_name.get("sec-websocket-version"), "13")
    expect(all(len(pair) == 2 for pair in headers), f"headers should be [name, value] pairs: {headers!r}")


@scenario("websocket.scope.subprotocols", app=_scope_app)
def _scope_subprotocols(s: Session) -> None:
    """scope["subprotocols"] lists the subprotocols the client offered, in order."""
    observed = _scope(s, subprotocols=["chat.v2", "chat.v1"])["scope"]
    expect_equal('scope["subprotocols"]', observed.get("subprotocols"), ["chat.v2", "chat.v1"])


@scenario("websocket.scope.subprotocols_none", app=_scope_app)
def _scope_no_subprotocols(s: Session) -> None:
    """Without a Sec-WebSocket-Protocol header, scope["subprotocols"] (optional) is empty."""
    expect_equal('scope["subprotocols"]', list(_scope(s)["scope"].get("subprotocols", [])), [])


@scenario("websocket.scope.client", app=_scope_app)
def _scope_client(s: Session) -> None:
    """scope["client"], when present, is [host, port] with a string host and an integer port."""
    client = _scope(s)["scope"].get("client")
    expect(
        client is None or (len(client) == 2 and isinstance(client[0], str) and isinstance(client[1], int)),
        f'scope["client"] should be [host, port], got {client!r}',
    )


@scenario("websocket.connect.first_message", app=_scope_app)
def _connect_first(s: Session) -> None:
    """The first message the app receives is websocket.connect."""
    expect_equal("first message", _scope(s)["first"], "websocket.connect")


# --- Accepting ---------------------------------------------------------------------------------


def _accepting(accept: Message) -> ASGIApp:
    """An app that accepts with ``accept`` and waits for the client to leave."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send(accept)
        await _wait_disconnect(receive)

    return app


async def _choose_last_subprotocol(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][-1]})
    await _wait_disconnect(receive)


@scenario("websocket.accept.plain", app=_accepting({"type": "websocket.accept"}))
def _accept_plain(s: Session) -> None:
    """A bare websocket.accept completes the handshake with no subprotocol."""
    handshake = _handshake(s, "/")
    expect_equal("handshake status", handshake.status, 101)
    expect_equal("accepted subprotocol", handshake.subprotocol, None)


@scenario("websocket.accept.no_subprotocol_chosen", app=_accepting({"type": "websocket.accept"}))
def _accept_none_of_offered(s: Session) -> None:
    """The app may accept without choosing any of the offered subprotocols: the client sees none."""
    handshake = _handshake(s, "/", subprotocols=["one", "two"])
    expect_equal("handshake status", handshake.status, 101)
    expect_equal("accepted subprotocol", handshake.subprotocol, None)


@scenario("websocket.accept.subprotocol", app=_choose_last_subprotocol)
def _accept_subprotocol(s: Session) -> None:
    """The subprotocol in websocket.accept is the one the client is told (Sec-WebSocket-Protocol)."""
    handshake = _handshake(s, "/", subprotocols=["one", "two", "three"])
    expect_equal("handshake status", handshake.status, 101)
    expect_equal("accepted subprotocol", handshake.subprotocol, "three")


@scenario(
    "websocket.accept.headers",
    app=_accepting(
        {"type": "websocket.accept", "headers": [(b"x-accept-first", b"one"), (b"x-accept-second", b"two")]}
    ),
    waivers={"daphne": "daphne ignores the headers of websocket.accept (its handle_reply only reads subprotocol)"},
)
def _accept_headers(s: Session) -> None:
    """Headers in websocket.accept (spec 2.1) are in the handshake response, in order."""
    handshake = _handshake(s, "/")
    expect_equal("handshake status", handshake.status, 101)
    names = [name.lower() for name, _ in handshake.headers]
    expect_equal("x-accept-first header", handshake.header("x-accept-first"), "one")
    expect_equal("x-accept-second header", handshake.header("x-accept-second"), "two")
    expect(names.index("x-accept-first") < names.index("x-accept-second"), f"header order not kept: {names}")


# --- Messages --------------------------------------------------------------------------------


END = "<end>"


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Send every message back as it came (text as text, bytes as bytes); close on the text END."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        text = message.get("text")
        if text == END:
            await send({"type": "websocket.close", "code": 1000})
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def _expect_echo(s: Session, *messages: str | bytes) -> None:
    """Send ``messages`` then END; everything received until the app's close must be ``messages``."""
    with s.websocket("/") as ws:
        for message in messages:
            if isinstance(message, str):
                ws.send_text(message)
            else:
                ws.send_bytes(message)
        ws.send_text(END)
        echoed: list[str | bytes] = []
        while not isinstance(received := _closed(ws), WebSocketClosed):
            echoed.append(received)
    expect_equal("close after the echo", (received.code, received.reason), (1000, ""))
    expect_equal("number of echoed messages", len(echoed), len(messages))
    for index, (sent, got) in enumerate(zip(messages, echoed, strict=True)):
        expect(
            type(got) is type(sent) and got == sent,
            f"message {index}: sent {type(sent).__name__} of length {len(sent)}, "
            f"got {type(got).__name__} of length {len(got)}: {got[:80]!r}",
        )


@scenario("websocket.message.text", app=_echo)
def _message_text(s: Session) -> None:
    """A text message reaches the app as "text", and a "text" send reaches the client as text."""
    _expect_echo(s, "hello, websocket")


@scenario("websocket.message.bytes", app=_echo)
def _message_bytes(s: Session) -> None:
    """A binary message reaches the app as "bytes" (any byte value), and comes back binary."""
    _expect_echo(s, bytes(range(256)))


@scenario("websocket.message.unicode", app=_echo)
def _message_unicode(s: Session) -> None:
    """Non-ASCII text (accents, CJK, astral emoji, NUL) survives both ways."""
    _expect_echo(s, "héllo wörld — 你好 — 🎉🚀 — \x00 end")


_EMPTY_WAIVER = "daphne drops empty messages: its handle_reply sends only when message.get(...) is truthy"


@scenario("websocket.message.text_empty", app=_echo, waivers={"daphne": _EMPTY_WAIVER})
def _message_text_empty(s: Session) -> None:
    """An empty text message is delivered both ways (as "", not dropped)."""
    _expect_echo(s, "", "after")


@scenario("websocket.message.bytes_empty", app=_echo, waivers={"daphne": _EMPTY_WAIVER})
def _message_bytes_empty(s: Session) -> None:
    """An empty binary message is delivered both ways (as b"", not dropped)."""
    _expect_echo(s, b"", b"after")


@scenario("websocket.message.mixed_types", app=_echo)
def _message_mixed(s: Session) -> None:
    """Text and binary messages keep their type when interleaved ("1" is not b"1")."""
    _expect_echo(s, "1", b"1", "two", b"two", "3", b"3")


@scenario("websocket.message.large_text", app=_echo)
def _message_large_text(s: Session) -> None:
    """A 1 MiB (UTF-8 encoded) text message arrives whole, both ways (the server reassembles fragments)."""
    _expect_echo(s, "0123456789abcdé" * (MIB // 16))  # 16 bytes of UTF-8 each: 1 MiB


@scenario("websocket.message.large_bytes", app=_echo)
def _message_large_bytes(s: Session) -> None:
    """A 1 MiB binary message arrives whole, both ways."""
    _expect_echo(s, secrets.token_bytes(MIB))


@scenario(
    "websocket.message.huge_bytes",
    app=_echo,
    waivers={"daphne": "daphne's default --websocket-max-message-size is 1 MiB: it drops the connection"},
)
def _message_huge_bytes(s: Session) -> None:
    """A 16 MiB binary message (the common default size limit) arrives whole, both ways."""
    _expect_echo(s, bytes(range(256)) * (16 * MIB // 256))


@scenario("websocket.message.many_in_order", app=_echo)
def _message_many(s: Session) -> None:
    """500 messages sent back to back arrive in order, both ways."""
    messages = [f"message {i}" for i in range(500)]
    _expect_echo(s, *messages)


async def _burst(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    count = int((await receive())["text"])
    for i in range(count):
        await send({"type": "websocket.send", "text": str(i)})
    await send({"type": "websocket.close", "code": 1000})


@scenario("websocket.message.server_burst", app=_burst)
def _message_burst(s: Session) -> None:
    """1000 messages the app sends without waiting all arrive, in order, before the close."""
    with s.websocket("/") as ws:
        ws.send_text("1000")
        received = [ws.receive() for _ in range(1000)]
        end = _close_of(ws)
    expect_equal("messages received", received, [str(i) for i in range(1000)])
    expect_equal("close after the burst", end, (1000, ""))


async def _receive_shape(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        shape = {key: type(message.get(key)).__name__ for key in ("text", "bytes")}
        await send({"type": "websocket.send", "text": json.dumps(shape)})


@scenario("websocket.message.receive_keys", app=_receive_shape)
def _message_receive_keys(s: Session) -> None:
    """In websocket.receive exactly one of "text" and "bytes" is not None, matching the frame type."""
    with s.websocket("/") as ws:
        ws.send_text("text frame")
        text_shape = _json(ws)
        ws.send_bytes(b"binary frame")
        bytes_shape = _json(ws)
    expect_equal("websocket.receive of a text frame", text_shape, {"text": "str", "bytes": "NoneType"})
    expect_equal("websocket.receive of a binary frame", bytes_shape, {"text": "NoneType", "bytes": "bytes"})


async def _send_both_keys(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "text with bytes None", "bytes": None})
    await send({"type": "websocket.send", "bytes": b"bytes with text None", "text": None})
    await send({"type": "websocket.close", "code": 1000})


@scenario("websocket.message.send_none_key", app=_send_both_keys)
def _message_send_none_key(s: Session) -> None:
    """websocket.send may carry both keys, one of them None: the other one is sent."""
    with s.websocket("/") as ws:
        received = [ws.receive(), ws.receive()]
    expect_equal("messages received", received, ["text with bytes None", b"bytes with text None"])


# --- Closing -----------------------------------------------------------------------------------


_HYPERCORN_CODE = (
    "hypercorn 0.18 gives the app code 1006 for every client close (ws_stream.py: StreamClosed while "
    "CONNECTED -> ABNORMAL_CLOSURE), not the client's code"
)


def _closing(close: Message) -> ASGIApp:
    """An app that accepts, then sends ``close``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send(close)

    return app


@scenario(
    "websocket.close.app_code_reason",
    app=_closing({"type": "websocket.close", "code": 4000, "reason": "app closing: ünïcode"}),
    waivers={"daphne": "daphne drops the reason of websocket.close (serverClose passes only the code)"},
)
def _close_app_reason(s: Session) -> None:
    """The code and reason of the app's websocket.close (spec 2.3) are in the client's close frame."""
    with s.websocket("/") as ws:
        expect_equal("close seen by the client", _close_of(ws), (4000, "app closing: ünïcode"))


@scenario("websocket.close.app_code", app=_closing({"type": "websocket.close", "code": 4999}))
def _close_app_code(s: Session) -> None:
    """The code of the app's websocket.close reaches the client."""
    with s.websocket("/") as ws:
        expect_equal("close seen by the client", _close_of(ws), (4999, ""))


@scenario("websocket.close.app_default_code", app=_closing({"type": "websocket.close"}))
def _close_app_default(s: Session) -> None:
    """A websocket.close without a code closes with 1000."""
    with s.websocket("/") as ws:
        expect_equal("close seen by the client", _close_of(ws), (1000, ""))


async def _observe_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    message = await _wait_disconnect(receive)
    _record(scope, {"type": message["type"], "code": message.get("code"), "reason": message.get("reason")})


def _expect_disconnect(observed: Any, codes: Sequence[int], reason: str) -> None:
    expect_equal("message received", observed["type"], "websocket.disconnect")
    expect(observed["code"] in codes, f"disconnect code: expected one of {list(codes)}, got {observed['code']!r}")
    # "reason" is optional (missing or None means ""); when given it is the peer's.
    expect(observed["reason"] in (None, reason), f"disconnect reason: expected {reason!r}, got {observed['reason']!r}")


@scenario(
    "websocket.close.client_code_reason", app=_reporting(_observe_disconnect), waivers={"hypercorn": _HYPERCORN_CODE}
)
def _close_client_reason(s: Session) -> None:
    """A client close with code 4001 and a reason gives the app websocket.disconnect with them."""
    token = _new_token()
    with s.websocket(f"/?token={token}") as ws:
        ws.close(4001, "client leaving: ünïcode")
    _expect_disconnect(_observation(s, token), [4001], "client leaving: ünïcode")


@scenario("websocket.close.client_normal", app=_reporting(_observe_disconnect), waivers={"hypercorn": _HYPERCORN_CODE})
def _close_client_normal(s: Session) -> None:
    """A normal client close (1000) gives the app websocket.disconnect with code 1000."""
    token = _new_token()
    with s.websocket(f"/?token={token}") as ws:
        ws.close()
    _expect_disconnect(_observation(s, token), [1000], "")


@scenario(
    "websocket.close.client_no_code",
    app=_reporting(_observe_disconnect),
    waivers={
        "hypercorn": _HYPERCORN_CODE,
        "daphne": "daphne passes autobahn's code None on when the close frame has no code, instead of 1005",
    },
)
def _close_client_no_code(s: Session) -> None:
    """A client close frame without a status code gives the app websocket.disconnect with code 1005."""
    token = _new_token()
    sock = _raw_websocket(s, f"/?token={token}")
    sock.sendall(b"\x88\x80\x00\x00\x00\x00")  # FIN + close, masked, empty payload (mask 0)
    read_until_closed(sock, TIMEOUT)
    _expect_disconnect(_observation(s, token), [1005], "")


@scenario("websocket.close.client_abrupt", app=_reporting(_observe_disconnect))
def _close_client_abrupt(s: Session) -> None:
    """A TCP close without a close frame gives the app websocket.disconnect (1005 or 1006: no code received)."""
    token = _new_token()
    _raw_websocket(s, f"/?token={token}").close()
    _expect_disconnect(_observation(s, token), [1005, 1006], "")


async def _close_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.close", "code": 1000})


@scenario("websocket.close.before_accept", app=_close_before_accept)
def _close_before(s: Session) -> None:
    """websocket.close before websocket.accept denies the handshake with HTTP 403."""
    expect_equal("handshake status", _handshake(s, "/").status, 403)


# --- Denial response (extension) or its fallback -------------------------------------------------


async def _deny(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    offered = DENIAL in (scope.get("extensions") or {})
    _record(scope, {"offered": offered})
    if offered:
        headers = [(b"content-type", b"text/plain"), (b"x-denial", b"conformance"), (b"content-length", b"19")]
        await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b"denied: ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"not allowed"})
    else:
        await send({"type": "websocket.close"})


@scenario("websocket.denial.response", app=_reporting(_deny))
def _denial_response(s: Session) -> None:
    """With "websocket.http.response" offered, the app's HTTP response is what the client gets; else 403."""
    token = _new_token()
    handshake = _handshake(s, f"/?token={token}")
    offered = _observation(s, token)["offered"]
    expected = (401, "conformance", b"denied: not allowed") if offered else (403, None, None)
    body = handshake.body if offered else None
    expect_equal(
        f"denial (extension offered: {offered}): status, x-denial header, body",
        (handshake.status, handshake.header("x-denial"), body),
        expected,
    )


# --- After the connection ended -----------------------------------------------------------------


async def _send_after_close(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    before = await _attempt(send({"type": "websocket.send", "text": "before close"}))
    await send({"type": "websocket.close", "code": 1000})
    after = await _attempt(send({"type": "websocket.send", "text": "after close"}))
    _record(scope, {"before": before, "after": after})


_TESTCLIENT_SENDS = (
    "the in-process TestClient, like Starlette's, does not model the transport: it accepts (and drops) "
    "sends after the close (ASGI 2.4: raising is not guaranteed)"
)
_GONE_SENDS = "{} silently ignores sends once the client has gone ({} returns early)"


@scenario(
    "websocket.lifecycle.send_after_close",
    app=_reporting(_send_after_close),
    waivers={"testclient": _TESTCLIENT_SENDS},
)
def _send_after_close_check(s: Session) -> None:
    """A websocket.send after the app's websocket.close raises in the app, and never reaches the client."""
    token = _new_token()
    with s.websocket(f"/?token={token}") as ws:
        received = [ws.receive(), _close_of(ws)]
    expect_equal("what the client received", received, ["before close", (1000, "")])
    observed = _observation(s, token)
    expect_equal("send before the close", observed["before"], None)
    expect(observed["after"] is not None, "a send after the close did not raise")


async def _send_after_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await _wait_disconnect(receive)
    _record(scope, {"after": await _attempt(send({"type": "websocket.send", "text": "after disconnect"}))})


@scenario(
    "websocket.lifecycle.send_after_disconnect",
    app=_reporting(_send_after_disconnect),
    waivers={
        "testclient": _TESTCLIENT_SENDS,
        "hypercorn": _GONE_SENDS.format("hypercorn 0.18", "WSStream.app_send"),
        "daphne": _GONE_SENDS.format("daphne", "Server.handle_reply"),
    },
)
def _send_after_disconnect_check(s: Session) -> None:
    """A websocket.send after the app received websocket.disconnect raises (ASGI 2.4: an OSError subclass)."""
    token = _new_token()
    with s.websocket(f"/?token={token}") as ws:
        ws.close()
    after = _observation(s, token)["after"]
    expect(after is not None, "a send after the disconnect did not raise")


async def _receive_after_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await _wait_disconnect(receive)
    observed: dict[str, str | None] = {"next": "nothing within 0.2 s"}

    async def again() -> None:
        observed["next"] = (await receive())["type"]

    # Shielded: the TestClient cancels an app blocked after the client left; this one must still report.
    with anyio.CancelScope(shield=True), anyio.move_on_after(0.2):
        observed["error"] = await _attempt(again())
    _record(scope, observed)


@scenario("websocket.lifecycle.receive_after_disconnect", app=_reporting(_receive_after_disconnect))
def _receive_after_disconnect_check(s: Session) -> None:
    """After websocket.disconnect, receive() gives no more data (another disconnect, an error, or nothing)."""
    token = _new_token()
    with s.websocket(f"/?token={token}") as ws:
        ws.send_text("before")
        ws.close()
    observed = _observation(s, token)
    expect(observed["next"] != "websocket.receive", f"receive() after the disconnect: {observed}")


# --- Through our starlette -------------------------------------------------------------------


async def _starlette_echo(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="conformance", headers=[(b"x-starlette", b"yes")])
    data = await websocket.receive_json()
    await websocket.send_json(
        {"name": websocket.path_params["name"], "got": data, "query": websocket.query_params["q"]}
    )
    await websocket.close(4003, "starlette done")


async def _starlette_deny(websocket: WebSocket) -> None:
    offered = DENIAL in websocket.scope.get("extensions", {})
    _record(websocket.scope, {"offered": offered})
    if offered:
        await websocket.send_denial_response(PlainTextResponse("nope", status_code=418, headers={"x-denial": "yes"}))
    else:
        await websocket.close()


async def _starlette_exception(websocket: WebSocket) -> None:
    await websocket.accept()
    raise WebSocketException(code=4004, reason="starlette exception")


async def _starlette_state(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"state": websocket.scope.get("state") is not None and websocket.state.conformance})
    await websocket.close()


class _Counter(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: str) -> None:
        self.received = [*getattr(self, "received", []), data]
        await websocket.send_text(f"{len(self.received)}: {data}")

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        _record(websocket.scope, {"received": getattr(self, "received", []), "close_code": close_code})


_framework = _reporting(
    Starlette(
        routes=[
            WebSocketRoute("/echo/{name}", _starlette_echo),
            WebSocketRoute("/deny", _starlette_deny),
            WebSocketRoute("/exception", _starlette_exception),
            WebSocketRoute("/state", _starlette_state),
            WebSocketRoute("/counter", _Counter),
        ]
    )
)


@scenario("websocket.starlette.echo", app=_framework)
def _starlette_echo_check(s: Session) -> None:
    """Through WebSocketRoute: path params, query, subprotocol and headers at accept, JSON, close code."""
    with s.websocket("/echo/caf%C3%A9?q=42", subprotocols=["other", "conformance"]) as ws:
        subprotocol = ws.subprotocol
        ws.send_text(json.dumps({"hello": ["wörld", 1]}))
        echoed = _json(ws)
        code = _close_code(ws)
    expect_equal("subprotocol", subprotocol, "conformance")
    expect_equal("JSON echoed", echoed, {"name": "café", "got": {"hello": ["wörld", 1]}, "query": "42"})
    expect_equal("close code", code, 4003)


@scenario(
    "websocket.starlette.accept_headers",
    app=_framework,
    waivers={"daphne": "daphne ignores the headers of websocket.accept (its handle_reply only reads subprotocol)"},
)
def _starlette_accept_headers_check(s: Session) -> None:
    """WebSocket.accept(headers=...) puts the headers in the handshake response."""
    with s.websocket("/echo/x?q=1", subprotocols=["conformance"]) as ws:
        header = ws.header("x-starlette")
        ws.send_text("null")
    expect_equal("x-starlette header", header, "yes")


@scenario("websocket.starlette.denial", app=_framework)
def _starlette_denial_check(s: Session) -> None:
    """WebSocket.send_denial_response() where the extension is offered (the client sees it), else close -> 403."""
    token = _new_token()
    handshake = _handshake(s, f"/deny?token={token}")
    offered = _observation(s, token)["offered"]
    expected = (418, "yes", b"nope") if offered else (403, None, None)
    body = handshake.body if offered else None
    expect_equal(
        f"denial (extension offered: {offered}): status, x-denial header, body",
        (handshake.status, handshake.header("x-denial"), body),
        expected,
    )


@scenario("websocket.starlette.exception", app=_framework)
def _starlette_exception_check(s: Session) -> None:
    """A WebSocketException raised after accept closes the connection with its code."""
    with s.websocket("/exception") as ws:
        code = _close_code(ws)
    expect_equal("close code", code, 4004)


@scenario("websocket.starlette.endpoint", app=_framework, waivers={"hypercorn": _HYPERCORN_CODE})
def _starlette_endpoint_check(s: Session) -> None:
    """A WebSocketEndpoint gets each text message in on_receive and the client's code in on_disconnect."""
    token = _new_token()
    with s.websocket(f"/counter?token={token}") as ws:
        replies = []
        for text in ("a", "b", "c"):
            ws.send_text(text)
            replies.append(ws.receive())
        ws.close(4002)
    expect_equal("replies", replies, ["1: a", "2: b", "3: c"])
    expect_equal("on_disconnect", _observation(s, token), {"received": ["a", "b", "c"], "close_code": 4002})


@scenario("websocket.starlette.lifespan_state", app=_framework)
def _starlette_state_check(s: Session) -> None:
    """websocket.state carries the lifespan state, when the server provides one."""

    with s.websocket("/state") as ws:
        state = _json(ws)["state"]
    expect(state in (False, STATE_VALUE), f"websocket.state.{STATE_KEY}: expected {STATE_VALUE!r}, got {state!r}")
