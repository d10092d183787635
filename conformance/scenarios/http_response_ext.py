"""Response extensions (extensions.rst) and server-sent events arriving one by one.

An extension is used only when the server offers it in ``scope["extensions"]``; otherwise the
app sends the same content with plain ``http.response.body`` messages. Either way it says which
path it took in an ``x-extension`` header ("offered" / "not offered"), and the check asserts the
outcome of that path exactly: the same body both ways, plus, when offered, what the extension
adds on the wire (trailers, 103 Early Hints), and, when not offered, that nothing of it appears.

None of the four built-in targets offers any of these over HTTP/1.1 (uvicorn and daphne send no
``extensions`` key, hypercorn an empty dict, the TestClient only ``http.response.debug``), so in
the suite the apps take their fallback path. The offered paths are plain functions (the app's
message sequence, the check's wire assertions) chosen through a table rather than an ``if``, and
are exercised by tests/conformance/test_http_response_helpers.py; a server that offers an
extension runs them for real.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx

from conformance import Session, expect, expect_equal, scenario
from conformance.scenarios._helpers import read_body
from conformance.scenarios._http_response import (
    Reader,
    acknowledged,
    body,
    length,
    reporting,
    start,
    waiter,
)
from starlette.types import ASGIApp, Receive, Scope, Send

TRAILERS = "http.response.trailers"
PATHSEND = "http.response.pathsend"
ZEROCOPYSEND = "http.response.zerocopysend"
EARLY_HINT = "http.response.early_hint"
PUSH = "http.response.push"

#: The file the pathsend and zerocopysend scenarios send (this module: it exists wherever we run).
FILE = Path(__file__).resolve()
#: The slice of it the zerocopysend scenario sends (offset, count), then a plain body.
SLICE = (10, 100)
TAIL = b"|end"
TRAILED = b"a body with trailers"
CHECKSUM = (b"x-checksum", b"c0ffee")
LINKS = [b"</style.css>; rel=preload; as=style", b"</app.js>; rel=preload; as=script"]
HINTED = b"a body after early hints"
PUSHED = b"a body with a push promise"

Sender = Callable[[Send], Awaitable[None]]
OfferedCheck = Callable[[Session, httpx.Response], None]

_OFFERED = [(b"x-extension", b"offered")]
_NOT_OFFERED = [(b"x-extension", b"not offered")]


def _branching(extension: str, offered: Sender, fallback: Sender) -> ASGIApp:
    """An app sending with ``offered`` when the server offers ``extension``, else ``fallback``."""
    senders = {True: offered, False: fallback}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        await senders[extension in (scope.get("extensions") or {})](send)

    return app


def _path(response: httpx.Response) -> str:
    """Which path the app took, from its x-extension header (fails on anything else)."""
    taken: str = response.headers.get("x-extension", "")
    expect(taken in ("offered", "not offered"), f"x-extension header: {taken!r}")
    return taken


# --- http.response.trailers --------------------------------------------------------------------


async def send_trailers(send: Send) -> None:
    """Offered: announce a trailer, send the body, then the trailer."""
    await send(start(200, [*_OFFERED, (b"trailer", CHECKSUM[0])], trailers=True))
    await send(body(TRAILED, more=True))
    await send(body())
    await send({"type": "http.response.trailers", "headers": [CHECKSUM], "more_trailers": False})


async def send_trailers_fallback(send: Send) -> None:
    """Not offered: the body alone, no Trailer header."""
    await send(start(200, [*_NOT_OFFERED, length(TRAILED)]))
    await send(body(TRAILED))


def check_trailers_offered(s: Session, response: httpx.Response) -> None:
    """On the wire (the client having sent "TE: trailers"): a chunked body ending with the trailer."""
    sock = s.connect()
    sock.sendall(s.request_head("GET", "/", [("te", "trailers"), ("connection", "close")]))
    raw = Reader(sock).read()
    expect_equal("framing", (raw.framing, raw.complete, raw.body), ("chunked", True, TRAILED))
    expect_equal("trailers", raw.trailers, [(CHECKSUM[0].decode(), CHECKSUM[1].decode())])


def check_trailers_fallback(s: Session, response: httpx.Response) -> None:
    """Not offered: no Trailer header, the Content-Length the app sent."""
    expect_equal("trailer header", response.headers.get("trailer"), None)
    expect_equal("content-length", response.headers.get("content-length"), str(len(TRAILED)))


_TRAILER_CHECKS: dict[str, OfferedCheck] = {"offered": check_trailers_offered, "not offered": check_trailers_fallback}


@scenario("http.response.trailers.sent", app=_branching(TRAILERS, send_trailers, send_trailers_fallback))
def _trailers(s: Session) -> None:
    """http.response.trailers when offered: the body, then the trailer on the wire; else a plain body."""
    response = s.http.get("/", headers={"te": "trailers"})
    expect_equal("response", (response.status_code, response.content), (200, TRAILED))
    _TRAILER_CHECKS[_path(response)](s, response)


# --- http.response.pathsend --------------------------------------------------------------------


async def send_path(send: Send) -> None:
    """Offered: headers with the file's length, then the file by path."""
    await send(start(200, [*_OFFERED, (b"content-length", str(FILE.stat().st_size).encode())]))
    await send({"type": "http.response.pathsend", "path": str(FILE)})


async def send_path_fallback(send: Send) -> None:
    """Not offered: the file's bytes in a body message."""
    data = FILE.read_bytes()
    await send(start(200, [*_NOT_OFFERED, length(data)]))
    await send(body(data))


@scenario("http.response.pathsend.sent", app=_branching(PATHSEND, send_path, send_path_fallback))
def _pathsend(s: Session) -> None:
    """http.response.pathsend when offered, a body when not: the client gets the file, whole."""
    response = s.http.get("/")
    _path(response)
    data = FILE.read_bytes()
    expect_equal("status and content-length", response.status_code, 200)
    expect_equal("content-length", response.headers.get("content-length"), str(len(data)))
    expect(response.content == data, f"the body differs from {FILE.name} ({len(response.content)} bytes)")


# --- http.response.zerocopysend ----------------------------------------------------------------


def _slice() -> bytes:
    offset, count = SLICE
    return FILE.read_bytes()[offset : offset + count] + TAIL


async def send_zerocopy(send: Send) -> None:
    """Offered: a slice of the file by descriptor (more_body), then a plain body; the app closes it."""
    offset, count = SLICE
    with FILE.open("rb") as file:
        await send(start(200, [*_OFFERED, (b"content-length", str(count + len(TAIL)).encode())]))
        await send(
            {"type": "http.response.zerocopysend", "file": file, "offset": offset, "count": count, "more_body": True}
        )
        await send(body(TAIL))


async def send_zerocopy_fallback(send: Send) -> None:
    """Not offered: the same bytes in body messages."""
    data = _slice()
    await send(start(200, [*_NOT_OFFERED, length(data)]))
    await send(body(data[: -len(TAIL)], more=True))
    await send(body(TAIL))


@scenario("http.response.zerocopysend.sent", app=_branching(ZEROCOPYSEND, send_zerocopy, send_zerocopy_fallback))
def _zerocopysend(s: Session) -> None:
    """http.response.zerocopysend (offset, count, mixed with a body) when offered: the exact slice."""
    response = s.http.get("/")
    _path(response)
    expect_equal("response", (response.status_code, response.content), (200, _slice()))


# --- http.response.early_hint ------------------------------------------------------------------


async def send_early_hints(send: Send) -> None:
    """Offered: start, an early hint with two links, the body."""
    await send(start(200, [*_OFFERED, length(HINTED)]))
    await send({"type": "http.response.early_hint", "links": LINKS})
    await send(body(HINTED))


async def send_early_hints_fallback(send: Send) -> None:
    """Not offered: the response alone."""
    await send(start(200, [*_NOT_OFFERED, length(HINTED)]))
    await send(body(HINTED))


def check_early_hints_offered(s: Session, response: httpx.Response) -> None:
    """On the wire: 103 responses (the server may send none) carry the links; then the 200."""
    sock = s.connect()
    sock.sendall(s.request_head("GET", "/", [("connection", "close")]))
    reader = Reader(sock)
    final = reader.read()
    hints: list[list[str]] = []
    while final.status == 103:
        hints.append(final.header_list("link"))
        final = reader.read()
    expect_equal("final response", (final.status, final.body), (200, HINTED))
    expect_equal("links of the 103 responses", hints, [[link.decode() for link in LINKS]] * len(hints))


def check_early_hints_fallback(s: Session, response: httpx.Response) -> None:
    """Not offered: no Link header on the response."""
    expect_equal("link header", response.headers.get("link"), None)


_HINT_CHECKS: dict[str, OfferedCheck] = {
    "offered": check_early_hints_offered,
    "not offered": check_early_hints_fallback,
}


@scenario("http.response.early_hint.sent", app=_branching(EARLY_HINT, send_early_hints, send_early_hints_fallback))
def _early_hint(s: Session) -> None:
    """http.response.early_hint when offered: 103 with Link headers (or nothing), then the response."""
    response = s.http.get("/")
    expect_equal("response", (response.status_code, response.content), (200, HINTED))
    _HINT_CHECKS[_path(response)](s, response)


# --- http.response.push ------------------------------------------------------------------------


async def send_push(send: Send) -> None:
    """Offered: start, a push promise for /pushed, the body (over HTTP/1.1 the push goes nowhere)."""
    await send(start(200, [*_OFFERED, length(PUSHED)]))
    await send({"type": "http.response.push", "path": "/pushed", "headers": [(b"accept", b"text/css")]})
    await send(body(PUSHED))


async def send_push_fallback(send: Send) -> None:
    """Not offered: the response alone."""
    await send(start(200, [*_NOT_OFFERED, length(PUSHED)]))
    await send(body(PUSHED))


@scenario("http.response.push.sent", app=_branching(PUSH, send_push, send_push_fallback))
def _push(s: Session) -> None:
    """http.response.push when offered leaves the response itself intact; else a plain response."""
    response = s.http.get("/")
    _path(response)
    expect_equal("response", (response.status_code, response.content), (200, PUSHED))


# --- Server-sent events ------------------------------------------------------------------------

#: How long the app waits for the client to acknowledge the first event (short: a client that
#: cannot read the first event before the response ends never acknowledges it).
ACK_WAIT = 2.0
_SECOND = {True: b"id: 2\ndata: second\n\n", False: b"id: 2\ndata: no acknowledgement came\n\n"}


async def _events(scope: Scope, receive: Receive, send: Send) -> None:
    """Event 1, then (once /_ack?token=T came, within ACK_WAIT seconds) event 2."""
    await read_body(receive)
    event = waiter(scope)
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send(start(200, headers))
    await send(body(b"id: 1\ndata: first\n\n", more=True))
    await send(body(_SECOND[await acknowledged(scope, event, ACK_WAIT)]))


def _event(lines: Iterator[str]) -> list[str]:
    """The lines of the next event (up to the blank line ending it)."""
    return list(itertools.takewhile(lambda line: line != "", lines))


@scenario(
    "http.response.sse.one_by_one",
    app=reporting(_events),
    waivers={
        "testclient": "the in-process TestClient runs the app to completion before returning the response"
        " (it buffers the whole body), so event 1 cannot be read before event 2 is sent"
    },
)
def _sse(s: Session) -> None:
    """Server-sent events arrive one by one: event 1 is readable before the app sends event 2
    (which it sends only once the client has acknowledged event 1 by another request)."""
    token = secrets.token_hex(8)
    with s.http.stream("GET", "/", params={"token": token}) as response:
        expect_equal("content-type", response.headers.get("content-type"), "text/event-stream")
        lines = response.iter_lines()
        expect_equal("event 1", _event(lines), ["id: 1", "data: first"])
        acknowledgement = s.http.get("/_ack", params={"token": token}).json()
        expect_equal("the app was still waiting for the acknowledgement", acknowledgement, {"waiting": True})
        expect_equal("event 2", _event(lines), ["id: 2", "data: second"])
