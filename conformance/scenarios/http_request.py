"""Request bodies as the application receives them (ASGI HTTP spec, "Request" and "Disconnect").

What the spec fixes: the body arrives in ``http.request`` messages whose ``body`` values
concatenate to the request body (de-chunked by the server), every message but the last has
``more_body`` True, and ``http.disconnect`` is what ``receive()`` returns once the response has
been sent or the client has gone away. What it leaves to servers, and so is never asserted: how
the body is split into messages.

Observations the app cannot put in its response (the client has gone away, or the response was
already sent) are posted to a per-scenario-run key in module memory; the check reads them with a
follow-up request to ``/_report?key=...``, which waits (bounded) until the value is there. The
apps run in the server's process, so this works for every target with one server process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio

from conformance import Session, expect, expect_equal, scenario
from conformance._session import SCENARIO_HEADER, TIMEOUT, read_until_closed
from conformance.scenarios._helpers import post, read_body, send_json, send_response, take, take_if_posted
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: How long an app waits for an event that should come (a disconnect, a posted value).
_WAIT = 5.0
_LARGE = 8 * 1024 * 1024
_PIECE = 64 * 1024


# --- Posting observations from the server process ---------------------------------------------


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope["query_string"].decode("latin-1")))


def _reporting(app: ASGIApp) -> ASGIApp:
    """``app``, plus ``/_report?key=K&wait=S`` (waits up to S seconds for the value posted under K,
    returns it as ``{"value": ...}``, null after the wait) and ``/_post?key=K`` (posts True under K)."""

    async def reporting_app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path == "/_report":
            query = _query(scope)
            await send_json(send, {"value": await take(query["key"], float(query.get("wait", _WAIT)))})
        elif path == "/_post":
            post(_query(scope)["key"], True)
            await send_json(send, {"posted": True})
        else:
            await app(scope, receive, send)

    return reporting_app


def _report(s: Session, key: str, wait: float = _WAIT + 1.0) -> Any:
    """The value the app posted under ``key`` (None if nothing came within ``wait`` seconds)."""
    response = s.http.get("/_report", params={"key": key, "wait": str(wait)})
    expect_equal("status of /_report", response.status_code, 200)
    return response.json()["value"]


# --- Apps -------------------------------------------------------------------------------------


def _describe(message: Message) -> list[Any]:
    body = message.get("body", b"")
    more = message.get("more_body", False)
    return [message["type"], len(body), more, type(body).__name__, type(more).__name__]


async def _summary_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body message by message (hashing as it goes) and answer with a JSON summary:
    {"length", "sha256", "messages": [[type, body length, more_body, body type, more_body type]]}."""
    digest = hashlib.sha256()
    length = 0
    messages: list[list[Any]] = []
    with anyio.fail_after(_WAIT):
        while True:
            message = await receive()
            messages.append(_describe(message))
            body = message.get("body", b"")
            digest.update(body)
            length += len(body)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
    await send_json(send, {"length": length, "sha256": digest.hexdigest(), "messages": messages})


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the request body (Content-Length set)."""
    with anyio.fail_after(_WAIT):
        body, _ = await read_body(receive)
    await send_response(send, body=body, content_type=b"application/octet-stream")


async def _unread_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer "unread" plus the query string, without reading the request body."""
    await send_response(send, body=b"unread " + scope["query_string"])


async def _abort_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read until the body completes or something else arrives; post the messages under "key"."""
    messages: list[list[Any]] = []
    with anyio.move_on_after(_WAIT):
        while True:
            message = await receive()
            messages.append(_describe(message))
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
    post(_query(scope)["key"], messages)


async def _long_poll_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, post "K.waiting", wait in receive(); post what came and whether the client
    had announced it was closing (by a request to /_post?key=K.closing) under K."""
    key = _query(scope)["key"]
    await read_body(receive)
    post(f"{key}.waiting", True)
    message: Message = {"type": "nothing within the wait"}
    with anyio.move_on_after(_WAIT):
        message = await receive()
    announced = take_if_posted(f"{key}.closing")
    post(key, {"type": message["type"], "client_announced_closing": announced})


async def _after_response_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Read the body, answer, then call receive() again; post what it returned under "key"."""
    await read_body(receive)
    await send_response(send, body=b"done")
    message: Message = {"type": "nothing within the wait"}
    with anyio.move_on_after(_WAIT):
        message = await receive()
    post(_query(scope)["key"], _describe(message))


# --- Raw HTTP on the client side --------------------------------------------------------------


class _Reader:
    """Reads HTTP/1.1 responses (Content-Length framed, as every app here answers) off a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill_until(self, ready: Callable[[bytes], bool]) -> None:
        while not ready(self.buffer):
            chunk = self.sock.recv(65536)
            expect(chunk != b"", f"the server closed the connection; received so far: {self.buffer[:300]!r}")
            self.buffer += chunk

    def read_head(self) -> tuple[int, dict[str, str]]:
        """The next response head: its status and headers (names lowercased)."""
        self._fill_until(lambda buffer: b"\r\n\r\n" in buffer)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        return _parse_head(head)

    def read_response(self) -> tuple[int, bytes]:
        """The next response: its status and body."""
        status, headers = self.read_head()
        length = int(headers.get("content-length", "0"))
        self._fill_until(lambda buffer: len(buffer) >= length)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines)
    return int(status_line.split(" ")[1]), {name.strip().lower(): value.strip() for name, _, value in fields}


def _responses(data: bytes) -> list[tuple[int, bytes]]:
    """Every response in ``data`` (all a connection sent until it closed), as (status, body)."""
    responses = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status, headers = _parse_head(head)
        length = int(headers.get("content-length", "0"))
        responses.append((status, data[:length]))
        data = data[length:]
    return responses


def _post_head(s: Session, path: str, length: int, *headers: tuple[str, str]) -> bytes:
    return s.request_head("POST", path, [("Content-Length", str(length)), *headers])


def _expect_summary(response_json: dict[str, Any], body: bytes) -> None:
    """The summary app received exactly ``body`` in well-formed http.request messages."""
    messages = response_json["messages"]
    expect_equal("received length", response_json["length"], len(body))
    expect_equal("received sha256", response_json["sha256"], hashlib.sha256(body).hexdigest())
    expect_equal("message types", {m[0] for m in messages}, {"http.request"})
    expect_equal("more_body of the messages but the last", {m[2] for m in messages[:-1]} - {True}, set())
    expect_equal("more_body of the last message", messages[-1][2], False)
    expect_equal("body and more_body types", {(m[3], m[4]) for m in messages}, {("bytes", "bool")})


# --- Empty bodies -----------------------------------------------------------------------------


@scenario("http.request.empty.get", app=_summary_app)
def _empty_get(s: Session) -> None:
    """A GET delivers an http.request (the trigger) with an empty body and more_body False."""
    _expect_summary(s.http.get("/").json(), b"")


@scenario("http.request.empty.post_content_length_zero", app=_summary_app)
def _empty_post(s: Session) -> None:
    """A POST with Content-Length: 0 delivers an empty body, complete."""
    response = s.http.post("/", content=b"", headers={"Content-Length": "0"})
    _expect_summary(response.json(), b"")


@scenario("http.request.empty.chunked", app=_summary_app)
def _empty_chunked(s: Session) -> None:
    """A chunked request made of the last chunk only ("0") delivers an empty body, complete."""
    head = s.request_head("POST", "/", [("Transfer-Encoding", "chunked"), ("Connection", "close")])
    (response,) = _responses(s.raw(head + b"0\r\n\r\n", shutdown=False))
    expect_equal("status", response[0], 200)
    _expect_summary(json.loads(response[1]), b"")


# --- Bodies with a length ---------------------------------------------------------------------


@scenario("http.request.body.content_length", app=_summary_app)
def _body_content_length(s: Session) -> None:
    """A Content-Length body arrives whole: the messages' bodies concatenate to what was sent."""
    body = b"Hello, ASGI conformance!\n" * 40
    _expect_summary(s.http.post("/", content=body).json(), body)


@scenario("http.request.body.binary", app=_echo_app)
def _body_binary(s: Session) -> None:
    """Every byte value, NUL and CR LF included, arrives unchanged."""
    body = bytes(range(256)) * 4 + b"\r\n\r\n0\r\n\r\n"
    response = s.http.post("/", content=body)
    expect_equal("echoed body", response.content, body)


@scenario("http.request.body.types", app=_summary_app)
def _body_types(s: Session) -> None:
    """body is a byte string and more_body a bool in every http.request message."""
    messages = s.http.post("/", content=b"typed").json()["messages"]
    expect_equal("(body type, more_body type) of the messages", {(m[3], m[4]) for m in messages}, {("bytes", "bool")})


@scenario("http.request.body.http10", app=_echo_app)
def _body_http10(s: Session) -> None:
    """An HTTP/1.0 request with a Content-Length body delivers that body."""
    body = b"a body sent over HTTP/1.0"
    head = f"POST / HTTP/1.0\r\nHost: 127.0.0.1\r\n{SCENARIO_HEADER}: {s.scenario_id}\r\nContent-Length: {len(body)}"
    responses = _responses(s.raw(head.encode() + b"\r\n\r\n" + body, shutdown=False))
    expect_equal("responses", responses, [(200, body)])


@scenario("http.request.body.slow_client", app=_summary_app)
def _body_slow_client(s: Session) -> None:
    """A body sent in pieces with pauses between them arrives whole, complete only at the end."""
    pieces = [b"first piece|", b"second piece|", b"third piece"]
    body = b"".join(pieces)
    sock = s.connect()
    sock.sendall(_post_head(s, "/", len(body), ("Connection", "close")))
    for piece in pieces:
        time.sleep(0.02)
        sock.sendall(piece)
    (response,) = _responses(read_until_closed(sock, TIMEOUT))
    expect_equal("status", response[0], 200)
    _expect_summary(json.loads(response[1]), body)


# --- Chunked transfer encoding ----------------------------------------------------------------


@scenario("http.request.body.chunked", app=_summary_app)
def _body_chunked(s: Session) -> None:
    """A body streamed by the client without a length (chunked) arrives de-chunked and whole."""
    pieces = [b"chunk %d;" % i for i in range(20)]
    response = s.http.post("/", content=iter(pieces))
    _expect_summary(response.json(), b"".join(pieces))


@scenario("http.request.body.chunked_raw", app=_summary_app)
def _body_chunked_raw(s: Session) -> None:
    """Raw chunked framing (extensions, hex sizes in both cases, trailers) yields just the data."""
    head = s.request_head("POST", "/", [("Transfer-Encoding", "chunked"), ("Connection", "close")])
    chunked = (
        b"5;name=value\r\nhello\r\n"
        b"A\r\n0123456789\r\n"
        b'1a;quoted="a;b"\r\nabcdefghijklmnopqrstuvwxyz\r\n'
        b"0\r\nX-Trailer: ignored\r\n\r\n"
    )
    (response,) = _responses(s.raw(head + chunked, shutdown=False))
    expect_equal("status", response[0], 200)
    _expect_summary(json.loads(response[1]), b"hello0123456789abcdefghijklmnopqrstuvwxyz")


@scenario("http.request.body.chunked_many", app=_summary_app)
def _body_chunked_many(s: Session) -> None:
    """Three hundred one-byte chunks, sent as one write, concatenate to the body."""
    body = bytes(i % 251 for i in range(300))
    head = s.request_head("POST", "/", [("Transfer-Encoding", "chunked"), ("Connection", "close")])
    chunked = b"".join(b"1\r\n" + bytes([byte]) + b"\r\n" for byte in body) + b"0\r\n\r\n"
    (response,) = _responses(s.raw(head + chunked, shutdown=False))
    _expect_summary(json.loads(response[1]), body)


# --- Large bodies -----------------------------------------------------------------------------


@scenario("http.request.body.large_content_length", app=_summary_app)
def _body_large_content_length(s: Session) -> None:
    """8 MiB with a Content-Length, written in 64 KiB pieces: length and SHA-256 match."""
    body = os.urandom(_LARGE)
    pieces = [body[i : i + _PIECE] for i in range(0, _LARGE, _PIECE)]
    response = s.http.post("/", content=iter(pieces), headers={"Content-Length": str(_LARGE)})
    _expect_summary(response.json(), body)


@scenario("http.request.body.large_chunked", app=_summary_app)
def _body_large_chunked(s: Session) -> None:
    """8 MiB streamed with chunked encoding in 64 KiB pieces: length and SHA-256 match."""
    body = os.urandom(_LARGE)
    response = s.http.post("/", content=iter([body[i : i + _PIECE] for i in range(0, _LARGE, _PIECE)]))
    _expect_summary(response.json(), body)


@scenario("http.request.more_body.semantics", app=_summary_app)
def _more_body(s: Session) -> None:
    """Every http.request but the last has more_body True, the last False (over a 1 MiB body).

    The bodies concatenate to what was sent, however the server splits them.
    """
    body = os.urandom(1024 * 1024)
    messages = s.http.post("/", content=body).json()["messages"]
    expect_equal("types", {m[0] for m in messages}, {"http.request"})
    expect_equal("more_body flags", [m[2] for m in messages], [True] * (len(messages) - 1) + [False])
    expect_equal("sum of the body lengths", sum(m[1] for m in messages), len(body))


# --- Expect: 100-continue ---------------------------------------------------------------------


@scenario("http.request.expect_continue", app=_summary_app)
def _expect_continue(s: Session) -> None:
    """ "Expect: 100-continue": the server answers 100 Continue, then the 1 MiB body arrives whole.

    The client sends only the head and waits (RFC 9110: the server must not wait for the content
    before sending 100); the body follows once the interim response came.
    """
    body = os.urandom(1024 * 1024)
    sock = s.connect()
    sock.settimeout(2.0)
    reader = _Reader(sock)
    sock.sendall(_post_head(s, "/", len(body), ("Expect", "100-continue")))
    expect_equal("interim status", reader.read_head()[0], 100)
    sock.sendall(body)
    status, summary = reader.read_response()
    expect_equal("status", status, 200)
    _expect_summary(json.loads(summary), body)


@scenario("http.request.expect_continue_eager", app=_summary_app)
def _expect_continue_eager(s: Session) -> None:
    """A client that sends "Expect: 100-continue" and the body right away is served normally."""
    body = b"sent without waiting for 100 Continue" * 100
    response = s.http.post("/", content=body, headers={"Expect": "100-continue"})
    expect_equal("status", response.status_code, 200)
    _expect_summary(response.json(), body)


# --- Several requests on one connection -------------------------------------------------------


@scenario("http.request.keepalive.bodies", app=_echo_app)
def _keepalive_bodies(s: Session) -> None:
    """Two requests on one kept-alive connection each reach the app with their own body."""
    sock = s.connect()
    reader = _Reader(sock)
    first, second = b"first request body", b"second, longer request body: " + bytes(range(256)) * 256
    sock.sendall(_post_head(s, "/", len(first)) + first)
    expect_equal("first response", reader.read_response(), (200, first))
    sock.sendall(_post_head(s, "/", len(second)) + second)
    expect_equal("second response", reader.read_response(), (200, second))


@scenario("http.request.keepalive.chunked_then_length", app=_echo_app)
def _keepalive_chunked(s: Session) -> None:
    """A chunked request, then a Content-Length one on the same connection: both bodies intact.

    The chunked framing (with a trailer) must end exactly where it should.
    """
    sock = s.connect()
    reader = _Reader(sock)
    sock.sendall(s.request_head("POST", "/", [("Transfer-Encoding", "chunked")]) + b"3\r\nabc\r\n0\r\nT: 1\r\n\r\n")
    expect_equal("first response", reader.read_response(), (200, b"abc"))
    sock.sendall(_post_head(s, "/", 3) + b"xyz")
    expect_equal("second response", reader.read_response(), (200, b"xyz"))


@scenario("http.request.keepalive.unread_body", app=_unread_app)
def _keepalive_unread(s: Session) -> None:
    """A body the app did not read is never taken for the next request on the connection.

    The next request is answered normally, or the server closed the connection (both allowed).
    """
    sock = s.connect()
    reader = _Reader(sock)
    body = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    sock.sendall(_post_head(s, "/?n=1", len(body)) + body)
    expect_equal("first response", reader.read_response(), (200, b"unread n=1"))
    with contextlib.suppress(OSError):  # the server may have closed the connection: allowed
        sock.sendall(s.request_head("GET", "/?n=2", [("Connection", "close")]))
    rest = _responses(reader.buffer + read_until_closed(sock, TIMEOUT))
    expect(rest in ([], [(200, b"unread n=2")]), f"after an unread body, expected one 200 or none, got {rest}")


@scenario("http.request.keepalive.pipelined", app=_echo_app)
def _keepalive_pipelined(s: Session) -> None:
    """Two pipelined requests: answered in order with their own bodies (the second optionally).

    Pipelining support is optional for servers: answering the first and closing is allowed.
    """
    request = _post_head(s, "/", 5) + b"first" + _post_head(s, "/", 6, ("Connection", "close")) + b"second"
    responses = _responses(s.raw(request, shutdown=False))
    expect(
        responses in ([(200, b"first")], [(200, b"first"), (200, b"second")]),
        f"pipelined requests: expected the first answer, then the second or nothing; got {responses}",
    )


# --- http.disconnect --------------------------------------------------------------------------


@scenario(
    "http.request.disconnect.mid_body",
    app=_reporting(_abort_app),
    waivers={
        "daphne": "daphne starts the app only once twisted has received the whole body (WebRequest.process),"
        " so the app of an aborted upload is never called",
    },
)
def _disconnect_mid_body(s: Session) -> None:
    """A client closing mid-body: the app gets http.disconnect, never a "complete" truncated body.

    The client promises 1000 bytes, sends 10 and closes: no http.request may say more_body False.
    """
    key = uuid.uuid4().hex
    sock = s.connect()
    sock.sendall(_post_head(s, f"/?key={key}", 1000) + b"0123456789")
    time.sleep(0.05)
    sock.close()
    # The app is called when the head has arrived, so the messages are posted within
    # milliseconds of the close; the short wait only bounds the time spent on a server that
    # never calls the app for an incomplete request.
    messages = _report(s, key, wait=1.0)
    expect(messages is not None, "the app did not report what it received (was it called?)")
    expect_equal("type of the last message", messages[-1][0], "http.disconnect")
    requests = [m for m in messages if m[0] == "http.request"]
    expect_equal("more_body of the http.request messages", {m[2] for m in requests} - {True}, set())
    expect(sum(m[1] for m in requests) <= 10, f"more body than was sent: {messages}")


@scenario("http.request.disconnect.long_poll", app=_reporting(_long_poll_app))
def _disconnect_long_poll(s: Session) -> None:
    """An app waiting in receive() (body read, no response yet) gets http.disconnect on close.

    And not before: the client announces (by another request) that it is about to close.
    """
    key = uuid.uuid4().hex
    sock = s.connect()
    sock.sendall(s.request_head("GET", f"/?key={key}"))
    expect_equal("the app waits in receive()", _report(s, f"{key}.waiting"), True)
    s.http.get("/_post", params={"key": f"{key}.closing"})
    sock.close()
    expect_equal(
        "what receive() returned", _report(s, key), {"type": "http.disconnect", "client_announced_closing": True}
    )


@scenario("http.request.disconnect.after_response", app=_reporting(_after_response_app))
def _disconnect_after_response(s: Session) -> None:
    """receive() after the response (Connection: close) returns http.disconnect."""
    key = uuid.uuid4().hex
    response = s.http.get("/", params={"key": key}, headers={"Connection": "close"})
    expect_equal("response", (response.status_code, response.content), (200, b"done"))
    message = _report(s, key)
    expect(message is not None, "receive() after the response did not return within the app's wait")
    expect_equal("message type", message[0], "http.disconnect")


@scenario("http.request.disconnect.after_response_client_closed", app=_reporting(_after_response_app))
def _disconnect_after_response_client_closed(s: Session) -> None:
    """receive() after the response returns http.disconnect when the client closes the socket.

    The connection is kept alive until the client, having read the response, closes it; the
    message may come at once (the response was sent) or when the close is seen.
    """
    key = uuid.uuid4().hex
    sock = s.connect()
    sock.sendall(s.request_head("GET", f"/?key={key}"))
    expect_equal("response", _Reader(sock).read_response(), (200, b"done"))
    sock.close()
    message = _report(s, key)
    expect(message is not None, "receive() after the response did not return within the app's wait")
    expect_equal("message type", message[0], "http.disconnect")


@scenario("http.request.disconnect.after_response_keepalive", app=_reporting(_after_response_app))
def _disconnect_after_response_keepalive(s: Session) -> None:
    """receive() after the response returns http.disconnect, the connection still kept alive.

    The spec sends http.disconnect "if receive is called after a response has been sent": the
    client keeping the connection open for further requests does not delay it.
    """
    key = uuid.uuid4().hex
    response = s.http.get("/", params={"key": key})
    expect_equal("response", (response.status_code, response.content), (200, b"done"))
    message = _report(s, key)
    expect(message is not None, "receive() after the response did not return within the app's wait")
    expect_equal("message type", message[0], "http.disconnect")
