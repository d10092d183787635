"""Our ``starlette`` response classes, end to end through each target.

Each app builds one response per request and calls it as the ASGI app it is; the checks assert
what Starlette documents for that class (headers it adds, how it renders its content) as the
client receives it from a real server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import anyio

from conformance import Session, expect, expect_equal, scenario
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.types import ASGIApp, Receive, Scope, Send

#: The file FileResponse sends: this module (it exists wherever the scenarios run).
FILE = Path(__file__).resolve()
LINES = [f"line {i:03d}\n" for i in range(100)]
JSON_CONTENT = {"name": "café", "items": [1, 2.5, None, True], "nested": {"empty": []}}
JSON_BYTES = b'{"name":"caf\xc3\xa9","items":[1,2.5,null,true],"nested":{"empty":[]}}'
REDIRECT_TO = "/café/a b?q=ü&x=1"


def _serving(build: Callable[[], Response]) -> ASGIApp:
    """An app answering every request with a fresh ``build()`` response."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await build()(scope, receive, send)

    return app


async def _async_lines() -> AsyncIterator[str]:
    for line in LINES:
        yield line
        await anyio.sleep(0)


def _sync_lines() -> Iterator[bytes]:
    for line in LINES:
        yield line.encode()


@scenario(
    "http.response.starlette.streaming",
    app=_serving(lambda: StreamingResponse(_async_lines(), media_type="text/plain")),
)
def _streaming(s: Session) -> None:
    """StreamingResponse over an async generator: every chunk in order, no Content-Length."""
    response = s.http.get("/")
    expect_equal("status", response.status_code, 200)
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("content-length", response.headers.get("content-length"), None)
    expect_equal("body", response.text, "".join(LINES))


@scenario("http.response.starlette.streaming_sync", app=_serving(lambda: StreamingResponse(_sync_lines())))
def _streaming_sync(s: Session) -> None:
    """StreamingResponse over a sync generator (iterated in a thread): every chunk in order."""
    response = s.http.get("/")
    expect_equal("response", (response.status_code, response.text), (200, "".join(LINES)))


def _file() -> Response:
    return FileResponse(FILE, media_type="text/plain")


@scenario("http.response.starlette.file", app=_serving(_file))
def _file_response(s: Session) -> None:
    """FileResponse: the file whole, with its Content-Length, Last-Modified, ETag and Accept-Ranges."""
    response = s.http.get("/")
    data = FILE.read_bytes()
    expect_equal("status", response.status_code, 200)
    expect_equal("content-length", response.headers.get("content-length"), str(len(data)))
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("accept-ranges", response.headers.get("accept-ranges"), "bytes")
    expect("etag" in response.headers and "last-modified" in response.headers, f"headers {response.headers}")
    expect(response.content == data, f"the body differs from {FILE.name} ({len(response.content)} bytes)")


@scenario("http.response.starlette.file_head", app=_serving(_file))
def _file_head(s: Session) -> None:
    """FileResponse to HEAD: the headers (Content-Length of the file), no body."""
    response = s.http.head("/")
    expect_equal("status", response.status_code, 200)
    expect_equal("content-length", response.headers.get("content-length"), str(FILE.stat().st_size))
    expect_equal("body", response.content, b"")


@scenario("http.response.starlette.file_range", app=_serving(_file))
def _file_range(s: Session) -> None:
    """FileResponse with "Range: bytes=10-19": 206, that slice, its Content-Range and length."""
    response = s.http.get("/", headers={"range": "bytes=10-19"})
    size = FILE.stat().st_size
    expect_equal("status", response.status_code, 206)
    expect_equal("content-range", response.headers.get("content-range"), f"bytes 10-19/{size}")
    expect_equal("content-length", response.headers.get("content-length"), "10")
    expect_equal("body", response.content, FILE.read_bytes()[10:20])


@scenario("http.response.starlette.json", app=_serving(lambda: JSONResponse(JSON_CONTENT)))
def _json(s: Session) -> None:
    """JSONResponse: compact UTF-8 JSON (no spaces, non-ASCII kept), byte for byte."""
    response = s.http.get("/")
    expect_equal("content-type", response.headers.get("content-type"), "application/json")
    expect_equal("content-length", response.headers.get("content-length"), str(len(JSON_BYTES)))
    expect_equal("body", response.content, JSON_BYTES)


@scenario("http.response.starlette.redirect", app=_serving(lambda: RedirectResponse(REDIRECT_TO)))
def _redirect(s: Session) -> None:
    """RedirectResponse to a non-ASCII URL: 307, a percent-encoded ASCII Location that decodes back."""
    response = s.http.get("/")
    raw = [v for k, v in response.headers.raw if k.lower() == b"location"]
    expect_equal("status", response.status_code, 307)
    expect_equal("number of location headers", len(raw), 1)
    expect(raw[0].isascii() and b" " not in raw[0], f"location is not percent-encoded ASCII: {raw[0]!r}")
    expect_equal("location, decoded", unquote(raw[0].decode("ascii")), REDIRECT_TO)
    expect_equal("body", response.content, b"")


def _cookies() -> Response:
    response = PlainTextResponse("cookies")
    response.set_cookie("session", "abc", httponly=True)
    response.set_cookie("theme", "dark", max_age=60)
    response.delete_cookie("old")
    return response


@scenario("http.response.starlette.cookies", app=_serving(_cookies))
def _cookies_check(s: Session) -> None:
    """set_cookie twice and delete_cookie: three Set-Cookie headers, in order, none folded."""
    cookies = s.http.get("/").headers.get_list("set-cookie")
    expect_equal("set-cookie names", [c.partition("=")[0] for c in cookies], ["session", "theme", "old"])
    expect("HttpOnly" in cookies[0], f"session cookie {cookies[0]!r}")
    expect("Max-Age=60" in cookies[1], f"theme cookie {cookies[1]!r}")
    expect("Max-Age=0" in cookies[2], f"deleted cookie {cookies[2]!r}")


@scenario("http.response.starlette.plain_text", app=_serving(lambda: PlainTextResponse("héllo wörld")))
def _plain_text(s: Session) -> None:
    """PlainTextResponse: UTF-8, charset in the Content-Type, Content-Length in bytes."""
    response = s.http.get("/")
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("content-length", response.headers.get("content-length"), "13")
    expect_equal("body", response.content, "héllo wörld".encode())


@scenario("http.response.starlette.no_content", app=_serving(lambda: Response(status_code=204)))
def _no_content(s: Session) -> None:
    """Response(status_code=204): no body and no Content-Length on the wire."""
    response = s.http.get("/")
    expect_equal("status", response.status_code, 204)
    expect_equal("content-length", response.headers.get("content-length"), None)
    expect_equal("body", response.content, b"")
