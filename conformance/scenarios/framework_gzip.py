"""GZipMiddleware behind each server (the "GZipMiddleware" section of docs/middleware.md).

httpx decompresses bodies it is given, so these checks read the raw bytes with the streaming
API (``iter_raw``) and decompress them themselves: that is what proves the bytes on the wire
are gzip, and that Content-Length (when there is one) counts the compressed bytes.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Mapping

import httpx

from conformance import Session, expect, expect_equal, scenario
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

_BIG = b"".join(b"line %05d of a compressible conformance body\n" % i for i in range(400))
_CHUNKS = [b"streamed chunk %03d " % i + b"z" * 400 + b"\n" for i in range(40)]
_EVENTS = b"".join(b"data: event %03d\n\n" % i for i in range(200))
_SMALL = b"too small to compress"
_GZIP = {"accept-encoding": "gzip"}


async def _big(request: Request) -> Response:
    return PlainTextResponse(_BIG)


async def _small(request: Request) -> Response:
    return PlainTextResponse(_SMALL)


async def _chunks() -> AsyncIterator[bytes]:
    for chunk in _CHUNKS:
        yield chunk


async def _stream(request: Request) -> Response:
    return StreamingResponse(_chunks(), media_type="text/plain")


async def _events() -> AsyncIterator[bytes]:
    yield _EVENTS


async def _event_stream(request: Request) -> Response:
    return StreamingResponse(_events(), media_type="text/event-stream")


async def _encoded(request: Request) -> Response:
    return Response(_BIG, media_type="text/plain", headers={"content-encoding": "x-conformance"})


_APP = Starlette(
    routes=[
        Route("/big", _big),
        Route("/small", _small),
        Route("/stream", _stream),
        Route("/events", _event_stream),
        Route("/encoded", _encoded),
    ],
    middleware=[Middleware(GZipMiddleware, minimum_size=500)],
)


def _raw(s: Session, path: str, headers: Mapping[str, str], method: str = "GET") -> tuple[httpx.Response, bytes]:
    """The response to ``method`` ``path`` and its body exactly as it came over the wire."""
    with s.http.stream(method, path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def _vary(response: httpx.Response) -> set[str]:
    return {token.strip().lower() for value in response.headers.get_list("vary") for token in value.split(",")}


@scenario("framework.gzip.compressed", app=_APP)
def _compressed(s: Session) -> None:
    """A big response to a client accepting gzip is compressed: Content-Encoding: gzip, Vary:
    Accept-Encoding, a Content-Length counting the compressed bytes, which decompress to the body."""
    response, raw = _raw(s, "/big", _GZIP)
    expect_equal("status", response.status_code, 200)
    expect_equal("content-encoding", response.headers.get("content-encoding"), "gzip")
    expect("accept-encoding" in _vary(response), f"Vary should list Accept-Encoding: {response.headers.get('vary')}")
    expect_equal("content-length", response.headers.get("content-length"), str(len(raw)))
    expect(len(raw) < len(_BIG), f"compressed body ({len(raw)} bytes) is not smaller than the body ({len(_BIG)})")
    expect_equal("decompressed body", gzip.decompress(raw), _BIG)


@scenario("framework.gzip.streaming", app=_APP)
def _streaming(s: Session) -> None:
    """A streaming response is compressed as a stream: gzip bytes decompressing to every chunk,
    in order, with no Content-Length of the uncompressed size."""
    response, raw = _raw(s, "/stream", _GZIP)
    expect_equal("status", response.status_code, 200)
    expect_equal("content-encoding", response.headers.get("content-encoding"), "gzip")
    expect("accept-encoding" in _vary(response), f"Vary should list Accept-Encoding: {response.headers.get('vary')}")
    length = response.headers.get("content-length")
    expect(length in (None, str(len(raw))), f"content-length {length} for {len(raw)} bytes on the wire")
    expect_equal("decompressed body", gzip.decompress(raw), b"".join(_CHUNKS))


@scenario("framework.gzip.small_untouched", app=_APP)
def _small_untouched(s: Session) -> None:
    """A response below minimum_size is sent as is, with its own Content-Length."""
    response, raw = _raw(s, "/small", _GZIP)
    expect_equal("content-encoding", response.headers.get("content-encoding"), None)
    expect_equal("body", raw, _SMALL)
    expect_equal("content-length", response.headers.get("content-length"), str(len(_SMALL)))


@scenario("framework.gzip.not_accepted", app=_APP)
def _not_accepted(s: Session) -> None:
    """A client not accepting gzip gets the body uncompressed, plain or streamed."""
    response, raw = _raw(s, "/big", {"accept-encoding": "identity"})
    expect_equal("content-encoding", response.headers.get("content-encoding"), None)
    expect_equal("body", raw, _BIG)
    expect_equal("content-length", response.headers.get("content-length"), str(len(_BIG)))
    streamed, raw = _raw(s, "/stream", {"accept-encoding": "identity"})
    expect_equal("streamed content-encoding", streamed.headers.get("content-encoding"), None)
    expect_equal("streamed body", raw, b"".join(_CHUNKS))


@scenario("framework.gzip.event_stream_untouched", app=_APP)
def _event_stream_untouched(s: Session) -> None:
    """text/event-stream is never compressed (events must reach the browser one by one)."""
    response, raw = _raw(s, "/events", _GZIP)
    expect_equal("content-encoding", response.headers.get("content-encoding"), None)
    expect(response.headers.get("content-type", "").startswith("text/event-stream"), "content-type changed")
    expect_equal("body", raw, _EVENTS)


@scenario("framework.gzip.already_encoded", app=_APP)
def _already_encoded(s: Session) -> None:
    """A response that already has a Content-Encoding is not encoded a second time."""
    response, raw = _raw(s, "/encoded", _GZIP)
    expect_equal("content-encoding", response.headers.get("content-encoding"), "x-conformance")
    expect_equal("body", raw, _BIG)
    expect_equal("content-length", response.headers.get("content-length"), str(len(_BIG)))


@scenario("framework.gzip.head", app=_APP)
def _head(s: Session) -> None:
    """HEAD gets the headers of the compressed GET (Content-Encoding, Vary, the compressed
    Content-Length) and no body."""
    _, raw = _raw(s, "/big", _GZIP)
    head, body = _raw(s, "/big", _GZIP, method="HEAD")
    expect_equal("status", head.status_code, 200)
    expect_equal("content-encoding", head.headers.get("content-encoding"), "gzip")
    expect("accept-encoding" in _vary(head), f"Vary should list Accept-Encoding: {head.headers.get('vary')}")
    expect_equal("content-length", head.headers.get("content-length"), str(len(raw)))
    expect_equal("body", body, b"")
