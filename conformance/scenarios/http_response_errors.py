"""Responses that go wrong: apps raising, Content-Length that lies, messages out of order.

What the spec and HTTP fix here is mostly negative: a client must never take a broken response
for a complete one (an app raising mid-body, a body shorter than its Content-Length: the
connection is closed, so the client sees an error or a short body), bytes beyond the declared
Content-Length must never reach the client as part of the response (nor as the start of the
next one), and an app that fails before ``http.response.start`` gets a 500. How a server fails
(which exception the app sees, whether the second ``http.response.start`` kills the response) is
its own business; the checks are lenient on that and strict on what reaches the client.

Messages after the final body: www.rst says they "will be ignored", and that ``send()`` on a
closed connection should raise an ``OSError`` subclass (from spec 2.4 on), so an app may see
either; the scenarios assert only that nothing of them reaches the client, and report what the
app observed through ``/_report``.
"""

from __future__ import annotations

import contextlib
import re
import secrets

import anyio
import httpx

from conformance import Session, expect, expect_equal, scenario
from conformance.scenarios._helpers import read_body, send_response
from conformance.scenarios._http_response import (
    WAIT,
    Reader,
    attempt,
    body,
    length,
    patience,
    post,
    replay,
    report,
    reporting,
    start,
)
from starlette.types import Receive, Scope, Send

_ATTEMPT = r"ok|raised \w+"
#: How long a server may stay silent before a check decides it will send nothing more.
_QUIET = 1.0
_DAPHNE_OPEN = (
    "daphne (twisted Request.finish) neither checks the body against Content-Length nor closes the"
    " connection, so the client waits for bytes that never come"
)
_DAPHNE_RAISED = (
    "daphne's handle_exception answers with basic_error(500), whose http.response.start fails once the"
    " response has started (ValueError): the connection is left open mid-response"
)


def _fetch(s: Session, **params: str) -> tuple[httpx.Response | None, str]:
    """GET on a connection of its own: the response, or None and the name of the error raised.

    (A connection a broken response was on is not reused for the next request, the report; a
    server that goes quiet mid-response times the request out quickly.)
    """
    try:
        with patience(s, _QUIET / 2) as client:
            return client.get("/", params=params, headers={"connection": "close"}), ""
    except httpx.HTTPError as exc:
        return None, type(exc).__name__


def _broken(s: Session, declared: int) -> None:
    """The client saw an error, or a body shorter than the ``declared`` Content-Length."""
    response, error = _fetch(s)
    short = response is not None and len(response.content) < declared
    expect(error != "" or short, f"a complete-looking response: {response and response.content!r}")


def _cut_off(s: Session) -> None:
    """On the wire: the response is incomplete by its framing and the server closed the connection."""
    sock = s.connect()
    reader = Reader(sock, timeout=_QUIET)
    sock.sendall(s.request_head("GET", "/"))
    response = reader.read()
    expect_equal("status", response.status, 200)
    expect(not response.complete, f"the response looks complete ({response.framing}): {response.body!r}")
    expect(reader.closed, "the server left the connection open after an incomplete response")


class _Boom(Exception):
    """What the apps here raise."""


# --- Apps raising ------------------------------------------------------------------------------


async def _raise_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    raise _Boom("raised before http.response.start")


async def _raise_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send(start(200, [(b"content-length", b"10")]))
    await send(body(b"hello", more=True))
    raise _Boom("raised mid-body")


async def _raise_after_start_streaming(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send(start(200))
    await send(body(b"partial", more=True))
    raise _Boom("raised mid-body")


async def _raise_after_complete(scope: Scope, receive: Receive, send: Send) -> None:
    await send_response(send, 200, b"done")
    raise _Boom("raised after the response")


@scenario("http.response.error.before_start", app=_raise_before_start)
def _error_before_start(s: Session) -> None:
    """An app raising before http.response.start: the server answers 500."""
    expect_equal("status", s.http.get("/").status_code, 500)


@scenario("http.response.error.after_start", app=_raise_after_start)
def _error_after_start(s: Session) -> None:
    """An app raising mid-body (Content-Length 10, 5 bytes sent): an error or a short body."""
    _broken(s, 10)


@scenario(
    "http.response.error.after_start_raw",
    app=_raise_after_start,
    waivers={"daphne": _DAPHNE_RAISED},
)
def _error_after_start_raw(s: Session) -> None:
    """An app raising mid-body: the response is incomplete and the connection closed."""
    _cut_off(s)


@scenario(
    "http.response.error.streaming_raw",
    app=_raise_after_start_streaming,
    waivers={"daphne": _DAPHNE_RAISED},
)
def _error_streaming_raw(s: Session) -> None:
    """An app raising mid-body without a Content-Length: no last chunk, the connection closed."""
    _cut_off(s)


@scenario("http.response.error.after_complete", app=_raise_after_complete)
def _error_after_complete(s: Session) -> None:
    """An app raising after its response was complete: the client has that response, intact."""
    response = s.http.get("/")
    expect_equal("response", (response.status_code, response.content), (200, b"done"))


async def _no_response(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)


@scenario(
    "http.response.error.no_response",
    app=_no_response,
    waivers={
        "daphne": "daphne's application_checker answers 500 only for an app that raised: one returning"
        " without a response leaves the request unanswered (until --http-timeout, unset by default)"
    },
)
def _error_no_response(s: Session) -> None:
    """An app returning without sending anything: the server answers 500."""
    with patience(s, _QUIET) as client:
        expect_equal("status", client.get("/").status_code, 500)


# --- Content-Length mismatches -----------------------------------------------------------------


_DECLARES_MORE = replay(start(200, [(b"content-length", b"20")]), body(b"0123456789"))


async def _declares_less(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send(start(200, [(b"content-length", b"5")]))
    await send(body(b"hello", more=True))
    post(scope, await attempt(send(body(b" and the excess"))))


@scenario("http.response.length.declared_more", app=_DECLARES_MORE)
def _length_declared_more(s: Session) -> None:
    """Content-Length 20, 10 bytes sent, response complete: an error or a short body, never 20."""
    _broken(s, 20)


@scenario(
    "http.response.length.declared_more_raw",
    app=_DECLARES_MORE,
    waivers={"daphne": _DAPHNE_OPEN},
)
def _length_declared_more_raw(s: Session) -> None:
    """Content-Length 20, 10 bytes sent: the server closes the connection (or the client would
    wait forever for the rest)."""
    _cut_off(s)


@scenario(
    "http.response.length.declared_less",
    app=reporting(_declares_less),
    waivers={
        "testclient": "the TestClient hands over every byte the app sent, unframed: it does not cut the body"
        " at Content-Length (nor does Starlette's)"
    },
)
def _length_declared_less(s: Session) -> None:
    """Content-Length 5, then 5 + 15 bytes: the client gets "hello" (or an error), not the excess."""
    token = secrets.token_hex(8)
    response, error = _fetch(s, token=token)
    body = response.content if response is not None else b""
    expect(error != "" or body == b"hello", f"the body went beyond its Content-Length: {body!r}")
    _expect_attempt("sending the excess", report(s, token))


@scenario(
    "http.response.length.declared_less_raw",
    app=reporting(_declares_less),
    waivers={
        "daphne": "daphne writes every body message as it comes (twisted Request.write does not enforce"
        " Content-Length): the excess goes on the wire, ahead of the next response",
    },
)
def _length_declared_less_raw(s: Session) -> None:
    """Content-Length 5, then 5 + 15 bytes, on a kept-alive connection: the first response is
    "hello"; then the connection is closed or the next response follows, with no excess bytes."""
    token = secrets.token_hex(8)
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head("GET", f"/?token={token}"))
    first = reader.read()
    expect_equal("first response", (first.status, first.body, first.complete), (200, b"hello", True))
    _expect_attempt("sending the excess", report(s, token))
    _expect_clean_rest(s, reader)


def _expect_attempt(what: str, observed: str) -> None:
    expect(re.fullmatch(_ATTEMPT, observed) is not None, f"{what}: {observed!r}")


def _expect_clean_rest(s: Session, reader: Reader) -> None:
    """A second request on the connection gets a clean response, or the connection was closed."""
    with contextlib.suppress(OSError):  # the server may have closed the connection: allowed
        reader.sock.sendall(s.request_head("GET", "/", [("connection", "close")]))
    rest = reader.rest()
    expect(rest == b"" or rest.startswith(b"HTTP/1.1 200 "), f"after the first response: {rest[:200]!r}")


# --- Messages out of order ---------------------------------------------------------------------


async def _after_complete(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send(start(200, [length(b"done")]))
    await send(body(b"done"))
    with anyio.fail_after(WAIT):
        post(scope, await attempt(send(body(b"EXTRA BYTES"))))


async def _start_twice(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    await send(start(200, [length(b"ok")]))
    with anyio.fail_after(WAIT):
        second = await attempt(send(start(500, [length(b"ok")])))
        post(scope, [second, await attempt(send(body(b"ok")))])


async def _body_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    await read_body(receive)
    with anyio.fail_after(WAIT):
        early = await attempt(send(body(b"early")))
        post(scope, [early, await attempt(send_response(send, 200, b"late"))])


@scenario("http.response.order.after_complete", app=reporting(_after_complete))
def _order_after_complete(s: Session) -> None:
    """A body message after the final one: the response is intact; the app's send() returned or
    raised (spec: ignored; or an OSError on a closed connection)."""
    token = secrets.token_hex(8)
    response = s.http.get("/", params={"token": token})
    expect_equal("response", (response.status_code, response.content), (200, b"done"))
    _expect_attempt("sending after the final body", report(s, token))


@scenario("http.response.order.after_complete_raw", app=reporting(_after_complete))
def _order_after_complete_raw(s: Session) -> None:
    """A body message after the final one never reaches the wire (the next response is clean)."""
    token = secrets.token_hex(8)
    sock = s.connect()
    reader = Reader(sock)
    sock.sendall(s.request_head("GET", f"/?token={token}"))
    first = reader.read()
    expect_equal("first response", (first.status, first.body, first.complete), (200, b"done", True))
    _expect_attempt("sending after the final body", report(s, token))
    _expect_clean_rest(s, reader)


@scenario("http.response.order.start_twice", app=reporting(_start_twice))
def _order_start_twice(s: Session) -> None:
    """A second http.response.start raises in the app; the client never sees its status."""
    token = secrets.token_hex(8)
    response, error = _fetch(s, token=token)
    second, then = report(s, token)
    expect(second.startswith("raised "), f"the second http.response.start: {second}")
    _expect_attempt("the body after it", then)
    status = response.status_code if response is not None else None
    expect(error != "" or status == 200, f"client got status {status}")


@scenario("http.response.order.body_before_start", app=reporting(_body_before_start))
def _order_body_before_start(s: Session) -> None:
    """http.response.body before http.response.start raises in the app."""
    token = secrets.token_hex(8)
    response, error = _fetch(s, token=token)
    early, late = report(s, token)
    expect(early.startswith("raised "), f"the early http.response.body: {early}")
    _expect_attempt("the response after it", late)
    status = response.status_code if response is not None else None
    expect(error != "" or status in (200, 500), f"client got status {status}")
