"""Responses as the client receives them (ASGI HTTP spec, "Response Start" and "Response Body").

What the spec fixes: the status and headers of ``http.response.start`` reach the client (header
order kept, names lowercased by the app, values as bytes), the ``body`` values concatenate to
the response body, ``more_body`` False completes the response, and the server handles transfer
framing itself (chunked or not, whatever ``Transfer-Encoding`` the app sent). What HTTP fixes on
top: no body for HEAD, 204 and 304 (and no chunked framing for them), no chunked framing for an
HTTP/1.0 client. Header name case on the wire is the server's business (names are compared
case-insensitively); the reason phrase is optional and never asserted.

The ``*_raw`` scenarios read the wire themselves on a kept-alive connection: a second request
sent after the first response must get a clean second response, which catches a stray body or
chunk terminator the first response should not have had.
"""

from __future__ import annotations

import re

from conformance import Session, expect, expect_equal, scenario
from conformance._model import Check
from conformance.scenarios._helpers import query_param as query, read_body, send_response
from conformance.scenarios._http_response import Reader, body, length, replay, start
from starlette.types import Receive, Scope, Send

_HELLO = b"hello world"
_PIECES = [b"first piece|", b"second piece|", b"third piece"]
_WHOLE = b"".join(_PIECES)


# --- Status codes ------------------------------------------------------------------------------


async def _status_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the status given by ``?status=``, and "status N" as the body."""
    await read_body(receive)
    status = int(query(scope, "status", "200"))
    await send_response(send, status, f"status {status}".encode())


def _status_check(code: int) -> Check:
    def check(s: Session) -> None:
        response = s.http.get("/", params={"status": str(code)})
        expect_equal("status", response.status_code, code)
        expect_equal("body", response.content, f"status {code}".encode())

    check.__doc__ = f"An app answering {code}: the client gets status {code} and the body."
    return check


for _code in (200, 201, 404, 418, 500, 599):
    scenario(f"http.response.status.code_{_code}", app=_status_app)(_status_check(_code))


@scenario("http.response.status.line_raw", app=_status_app)
def _status_line(s: Session) -> None:
    """The status line is "HTTP/1.1 <code> <reason>" (RFC 9112: the SP after the code is required),
    for well-known and unknown codes; whatever the reason phrase (optional), it holds no CR/LF."""
    for code in (200, 418, 599):
        sock = s.connect()
        sock.sendall(s.request_head("GET", f"/?status={code}", [("connection", "close")]))
        reader = Reader(sock)
        data = reader.rest()
        line = data.partition(b"\r\n")[0]
        expect(re.fullmatch(rb"HTTP/1\.1 %d [\t -~\x80-\xff]*" % code, line) is not None, f"status line {line!r}")


# --- Bodiless responses ------------------------------------------------------------------------


_NO_CONTENT = replay(start(204, [(b"x-marker", b"no content")]), body())
_NOT_MODIFIED = replay(start(304, [(b"etag", b'"v1"'), (b"x-marker", b"not modified")]), body())


@scenario("http.response.no_body.status_204", app=_NO_CONTENT)
def _status_204(s: Session) -> None:
    """204 without a body: no body, no Transfer-Encoding and no Content-Length (RFC 9110 8.6)."""
    response = s.http.delete("/")
    expect_equal("status", response.status_code, 204)
    expect_equal("body", response.content, b"")
    expect_equal("x-marker", response.headers.get("x-marker"), "no content")
    expect_equal("transfer-encoding", response.headers.get("transfer-encoding"), None)
    expect_equal("content-length", response.headers.get("content-length"), None)


@scenario("http.response.no_body.status_304", app=_NOT_MODIFIED)
def _status_304(s: Session) -> None:
    """304 without a body: no body, no Transfer-Encoding, the app's ETag kept."""
    response = s.http.get("/", headers={"if-none-match": '"v1"'})
    expect_equal("status", response.status_code, 304)
    expect_equal("body", response.content, b"")
    expect_equal("etag", response.headers.get("etag"), '"v1"')
    expect_equal("transfer-encoding", response.headers.get("transfer-encoding"), None)


def _twice(s: Session, method: str, path: str = "/") -> list[int]:
    """Two ``method`` requests on one connection, the second one last; their statuses, in order."""
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head(method, path))
    first = reader.read(method)
    expect_equal("first body", (first.body, first.framing), (b"", "none"))
    sock.sendall(s.request_head(method, path, [("connection", "close")]))
    second = reader.read(method)
    expect_equal("second body", (second.body, second.framing), (b"", "none"))
    expect_equal("bytes after the second response", reader.rest(), b"")
    return [first.status, second.status]


@scenario("http.response.no_body.status_204_raw", app=_NO_CONTENT)
def _status_204_raw(s: Session) -> None:
    """After a 204 on a kept-alive connection the next response follows at once (no stray bytes)."""
    expect_equal("statuses", _twice(s, "DELETE"), [204, 204])


@scenario("http.response.no_body.status_304_raw", app=_NOT_MODIFIED)
def _status_304_raw(s: Session) -> None:
    """After a 304 on a kept-alive connection the next response follows at once (no stray bytes)."""
    expect_equal("statuses", _twice(s, "GET"), [304, 304])


_HEAD_APP = replay(start(200, [(b"content-type", b"text/plain"), length(_HELLO)]), body(_HELLO))
_HEAD_STREAMED = replay(start(200, [(b"content-type", b"text/plain")]), *[body(p, True) for p in _PIECES], body())


@scenario("http.response.head.no_body", app=_HEAD_APP)
def _head(s: Session) -> None:
    """HEAD: the app sends a body with its Content-Length; the client gets the headers, no body."""
    response = s.http.head("/")
    expect_equal("status", response.status_code, 200)
    expect_equal("content-length (kept as the app sent it)", response.headers.get("content-length"), "11")
    expect_equal("content-type", response.headers.get("content-type"), "text/plain")
    expect_equal("body", response.content, b"")


@scenario("http.response.head.no_body_raw", app=_HEAD_APP)
def _head_raw(s: Session) -> None:
    """HEAD on a kept-alive connection: no body bytes on the wire (the next response follows at once)."""
    expect_equal("statuses", _twice(s, "HEAD"), [200, 200])


@scenario(
    "http.response.head.streamed_raw",
    app=_HEAD_STREAMED,
    waivers={
        "daphne": "daphne writes body messages with http.Request.write(self, ...) (http_protocol.py), bypassing"
        " the no-op write twisted installs for HEAD: every body message after the first goes on the wire",
    },
)
def _head_streamed(s: Session) -> None:
    """HEAD answered by a streamed body without a length: nothing of it (nor a chunk) on the wire."""
    expect_equal("statuses", _twice(s, "HEAD"), [200, 200])


# --- Headers -----------------------------------------------------------------------------------


_LATIN1 = replay(start(200, [(b"x-latin", b"caf\xe9"), (b"x-ascii", b"plain"), length(b"")]), body())


@scenario("http.response.headers.latin1", app=_LATIN1)
def _headers_latin1(s: Session) -> None:
    """Header values are bytes: b"caf\\xe9" arrives as exactly those bytes."""
    raw = s.http.get("/").headers.raw
    expect_equal("x-latin", [v for k, v in raw if k.lower() == b"x-latin"], [b"caf\xe9"])
    expect_equal("x-ascii", [v for k, v in raw if k.lower() == b"x-ascii"], [b"plain"])


_DUPLICATES = [(b"x-dup", b"one"), (b"x-other", b"1"), (b"x-dup", b"two"), (b"x-other", b"2"), (b"x-dup", b"three")]


@scenario("http.response.headers.duplicates", app=replay(start(200, [*_DUPLICATES, length(b"")]), body()))
def _headers_duplicates(s: Session) -> None:
    """Several headers with one name keep their order (names compared case-insensitively)."""
    response = s.http.get("/")
    values = [v.strip() for value in response.headers.get_list("x-dup") for v in value.split(",")]
    expect_equal("x-dup values", values, ["one", "two", "three"])
    others = [v.strip() for value in response.headers.get_list("x-other") for v in value.split(",")]
    expect_equal("x-other values", others, ["1", "2"])


_COOKIES = [b"a=1; Path=/", b"b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/", b"c=3; HttpOnly; SameSite=lax"]


@scenario(
    "http.response.headers.set_cookie", app=replay(start(200, [(b"set-cookie", c) for c in _COOKIES]), body(b"ok"))
)
def _headers_set_cookie(s: Session) -> None:
    """Several Set-Cookie headers each arrive as a header of their own, never folded into one."""
    response = s.http.get("/")
    expect_equal("set-cookie headers", response.headers.get_list("set-cookie"), [c.decode() for c in _COOKIES])
    expect_equal("cookies", dict(response.cookies), {"a": "1", "b": "2", "c": "3"})


@scenario("http.response.headers.empty_value", app=replay(start(200, [(b"x-empty", b""), length(b"")]), body()))
def _headers_empty_value(s: Session) -> None:
    """A header with an empty value arrives, empty."""
    expect_equal("x-empty", s.http.get("/").headers.get_list("x-empty"), [""])


_MANY = [(b"x-header-%03d" % i, b"value %d" % i) for i in range(100)]


@scenario("http.response.headers.many", app=replay(start(200, [*_MANY, length(b"")]), body()))
def _headers_many(s: Session) -> None:
    """A hundred headers all arrive, in order."""
    raw = [(k.lower(), v) for k, v in s.http.get("/").headers.raw if k.lower().startswith(b"x-header-")]
    expect_equal("headers", raw, _MANY)


@scenario(
    "http.response.headers.transfer_encoding_ignored",
    app=replay(start(200, [(b"transfer-encoding", b"chunked")]), *[body(p, True) for p in _PIECES], body()),
)
def _headers_transfer_encoding(s: Session) -> None:
    """A Transfer-Encoding header from the app does not garble the body (the server frames it)."""
    response = s.http.get("/")
    expect_equal("body", response.content, _WHOLE)


@scenario("http.response.headers.optional", app=replay({"type": "http.response.start", "status": 200}, body(b"bare")))
def _headers_optional(s: Session) -> None:
    """``headers`` is optional in http.response.start: the response goes out with the body."""
    response = s.http.get("/")
    expect_equal("response", (response.status_code, response.content), (200, b"bare"))


# --- Bodies ------------------------------------------------------------------------------------


_STREAMED = replay(start(200, [(b"content-type", b"text/plain")]), *[body(p, True) for p in _PIECES], body())


@scenario("http.response.body.no_length", app=_STREAMED)
def _body_no_length(s: Session) -> None:
    """A body in several messages without Content-Length arrives whole."""
    expect_equal("body", s.http.get("/").content, _WHOLE)


@scenario("http.response.body.no_length_raw", app=_STREAMED)
def _body_no_length_raw(s: Session) -> None:
    """Without Content-Length, an HTTP/1.1 response is chunked or ends with the connection, and
    the body is complete."""
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head("GET", "/"))
    first = reader.read()
    expect_equal("first response", (first.status, first.body, first.complete), (200, _WHOLE, True))
    expect(first.framing in ("chunked", "close"), f"framing {first.framing}")


@scenario("http.response.body.http10_raw", app=_STREAMED)
def _body_http10(s: Session) -> None:
    """To an HTTP/1.0 client a body without Content-Length is not chunked (RFC 9112 6.1): it ends
    with the connection; and it is complete."""
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head("GET", "/").replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1))
    response = reader.read()
    expect_equal("transfer-encoding", response.header("transfer-encoding"), None)
    expect_equal("response", (response.status, response.body, response.complete), (200, _WHOLE, True))


_THOUSAND = [b"chunk %04d\n" % i for i in range(1000)]


@scenario("http.response.body.many_chunks", app=replay(start(200), *[body(c, True) for c in _THOUSAND], body()))
def _body_many_chunks(s: Session) -> None:
    """A thousand body messages arrive complete and in order."""
    expect_equal("body", s.http.get("/").content, b"".join(_THOUSAND))


_EMPTY_FINAL = replay(start(200), body(b"one|", True), body(b"two", True), body(b"", False))


@scenario("http.response.body.empty_final", app=_EMPTY_FINAL)
def _body_empty_final(s: Session) -> None:
    """A final body message with an empty body completes the response."""
    expect_equal("body", s.http.get("/").content, b"one|two")


_EMPTY_MIDDLE = replay(start(200), body(b"one|", True), body(b"", True), body(b"", True), body(b"two", True), body())


@scenario("http.response.body.empty_middle", app=_EMPTY_MIDDLE)
def _body_empty_middle(s: Session) -> None:
    """Empty body messages with more_body True in the middle change nothing (they end nothing)."""
    expect_equal("body", s.http.get("/").content, b"one|two")


def _keep_alive_twice(s: Session) -> None:
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head("GET", "/"))
    first = reader.read()
    expect_equal("first response", (first.status, first.body, first.complete), (200, b"one|two", True))
    expect(first.framing != "close", "the first response was delimited by closing the connection")
    sock.sendall(s.request_head("GET", "/", [("connection", "close")]))
    second = reader.read()
    expect_equal("second response", (second.status, second.body, second.complete), (200, b"one|two", True))


@scenario("http.response.body.empty_final_raw", app=_EMPTY_FINAL)
def _body_empty_final_raw(s: Session) -> None:
    """An empty final message ends the framing properly: the connection serves a second request."""
    _keep_alive_twice(s)


@scenario("http.response.body.empty_middle_raw", app=_EMPTY_MIDDLE)
def _body_empty_middle_raw(s: Session) -> None:
    """Empty messages in the middle do not end a chunked body early (no zero-size chunk)."""
    _keep_alive_twice(s)


@scenario(
    "http.response.body.defaults",
    app=replay(
        start(200), {"type": "http.response.body", "body": b"x", "more_body": True}, {"type": "http.response.body"}
    ),
)
def _body_defaults(s: Session) -> None:
    """``body`` defaults to b"" and ``more_body`` to False: a bare body message ends the response."""
    expect_equal("body", s.http.get("/").content, b"x")


_BINARY = bytes(range(256)) * 64


@scenario("http.response.body.binary", app=replay(start(200, [length(_BINARY)]), body(_BINARY)))
def _body_binary(s: Session) -> None:
    """Every byte value (CR LF and NUL included) arrives unchanged."""
    expect_equal("body", s.http.get("/").content, _BINARY)


_LARGE = (bytes(range(251)) * 16712)[: 4 * 1024 * 1024]
_LARGE_APP = replay(start(200), *[body(_LARGE[i : i + 65536], True) for i in range(0, len(_LARGE), 65536)], body())


@scenario("http.response.body.large", app=_LARGE_APP)
def _body_large(s: Session) -> None:
    """4 MiB streamed in 64 KiB messages without a length arrive whole."""
    content = s.http.get("/").content
    expect_equal("length", len(content), len(_LARGE))
    expect(content == _LARGE, "the body differs from what the app sent")
