"""Response classes: ASGI applications that send one HTTP response."""

from __future__ import annotations

import hashlib
import http.cookies
import json
import os
import re
import stat
import sys
import warnings
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime, formatdate
from functools import lru_cache, partial
from mimetypes import guess_type
from secrets import token_hex
from typing import Any, Literal
from urllib.parse import quote

import anyio
import anyio.to_thread

from starlette import _ranges
from starlette._first_to_return import run_until_first_returns as _run_until_first_returns
from starlette._utils import collapse_excgroups as collapse_excgroups
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "MalformedRangeHeader",
    "PlainTextResponse",
    "RangeNotSatisfiable",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

_SAMESITE_VALUES = ("strict", "lax", "none")
# What a cookie attribute value must not hold (RFC 6265 section 4.1.1): ";" would start another
# attribute, and control characters (CR/LF above all) would end the header.
_COOKIE_ATTRIBUTE_BREAKERS = re.compile(r"[\x00-\x1f\x7f;]")


def _check_cookie_attribute(name: str, value: str) -> None:
    if _COOKIE_ATTRIBUTE_BREAKERS.search(value):
        raise ValueError(f"The cookie {name} must not contain ';' or control characters: {value!r}")


@lru_cache(maxsize=256)
def _content_type_header(media_type: str, charset: str) -> bytes:
    """The encoded Content-Type value for a media type: text types get the charset unless they
    name one. Computed once per (media type, charset), not per response."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=" + charset
    return media_type.encode("latin-1")


class Response:
    """An HTTP response with a body known up front; calling it sends it over ASGI."""

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body: bytes | memoryview = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        """Turn `content` into the body: `None` is empty, bytes pass through, text is encoded."""
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return content
        encoded: bytes = content.encode(self.charset)
        return encoded

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Build `raw_headers` from `headers`, adding Content-Length and Content-Type when absent."""
        if headers is None:
            raw_headers: list[tuple[bytes, bytes]] = []
            populate_content_length = populate_content_type = True
        else:
            raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            keys = [name for name, _ in raw_headers]
            populate_content_length = b"content-length" not in keys
            populate_content_type = b"content-type" not in keys

        body = getattr(self, "body", None)
        status_code = self.status_code
        if (
            body is not None
            and populate_content_length
            and not (status_code < 200 or status_code == 204 or status_code == 304)
        ):
            raw_headers.append((b"content-length", str(len(body)).encode("latin-1")))

        media_type = self.media_type
        if media_type is not None and populate_content_type:
            raw_headers.append((b"content-type", _content_type_header(media_type, self.charset)))

        self.raw_headers = raw_headers

    @property
    def headers(self) -> MutableHeaders:
        """A mutable view of `raw_headers` (changes to it change the headers sent)."""
        cached: tuple[list[tuple[bytes, bytes]], MutableHeaders] | None = self.__dict__.get("_headers_view")
        if cached is None or cached[0] is not self.raw_headers:
            cached = (self.raw_headers, MutableHeaders(raw=self.raw_headers))
            self.__dict__["_headers_view"] = cached
        return cached[1]

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a `Set-Cookie` header (built with `http.cookies` quoting and attribute rules).

        The value is quoted as needed, so it cannot break the header; an invalid `key` raises
        `http.cookies.CookieError`, and a `path`, `domain` or `expires` text holding `;` or a
        control character raises ValueError (either would inject attributes or headers).
        """
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires, usegmt=True)
            else:
                if isinstance(expires, str):
                    _check_cookie_attribute("expires", expires)
                morsel["expires"] = expires
        if path is not None:
            _check_cookie_attribute("path", path)
            morsel["path"] = path
        if domain is not None:
            _check_cookie_attribute("domain", domain)
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            assert samesite.lower() in _SAMESITE_VALUES, "samesite must be either 'strict', 'lax' or 'none'"
            morsel["samesite"] = samesite
        cookie_val = morsel.OutputString()
        if partitioned:
            if sys.version_info >= (3, 14):  # pragma: no cover - the gate runs on Python 3.11
                cookie_val += "; Partitioned"
            else:
                raise ValueError("Partitioned cookies are only supported in Python 3.14 and above.")
        self.raw_headers.append((b"set-cookie", cookie_val.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Expire the cookie `key` (a `Set-Cookie` with `Max-Age=0` and an `expires` of now)."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = "websocket." if scope["type"] == "websocket" else ""
        await send({"type": prefix + "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": prefix + "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    """A `text/html` response."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """A `text/plain` response."""

    media_type = "text/plain"


class JSONResponse(Response):
    """An `application/json` response: `content` is serialised compactly as UTF-8 JSON."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        """Serialise `content` (non-ASCII kept as is, NaN and infinities rejected)."""
        return _json_encode(content).encode("utf-8")


def _make_json_encode() -> Callable[[Any], str]:
    """`json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))`
    without its per-call cost: json.dumps builds a `JSONEncoder` for every call with options, and
    `JSONEncoder.encode` sets up closures before running the C encoder. On CPython this calls
    the C encoder exactly as `JSONEncoder.encode` does (same arguments, a fresh circular-reference
    `markers` dict each time), so output and errors are the same."""
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # pragma: no cover - CPython always has the C accelerator
        return encoder.encode
    default = encoder.default
    encode_string = json.encoder.encode_basestring

    def encode(content: Any) -> str:
        return "".join(make_encoder({}, default, encode_string, None, ":", ",", False, False, False)(content, 0))

    return encode


_json_encode = _make_json_encode()


class RedirectResponse(Response):
    """An empty response with a `Location` header (307 Temporary Redirect by default)."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


Content = str | bytes | memoryview
SyncContentStream = Iterable[Content]
AsyncContentStream = AsyncIterable[Content]
ContentStream = AsyncIterable[Content] | Iterable[Content]


class StreamingResponse(Response):
    """A response whose body is produced chunk by chunk by a (sync or async) iterable."""

    body_iterator: AsyncContentStream

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        self.media_type = self.media_type if media_type is None else media_type
        self.background = background
        self.init_headers(headers)

    async def listen_for_disconnect(self, receive: Receive) -> None:
        """Return once the client has disconnected (an `http.disconnect` message)."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break

    async def stream_response(self, send: Send) -> None:
        """Send the start message, each chunk of the body iterator, then the final empty body."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        charset = self.charset
        iterator = self.body_iterator.__aiter__()
        try:
            async for chunk in iterator:
                if not isinstance(chunk, (bytes, memoryview)):
                    chunk = chunk.encode(charset)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            # When streaming stops early (disconnect, cancellation, send error) the iterator is
            # closed at once, so its cleanup runs now rather than whenever it is collected.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # Theory of operation: a client can go away mid-stream, and the body iterator must then
    # stop instead of producing data nobody reads. From ASGI 2.4 on, servers make `send()` on a
    # closed connection raise (an OSError), so streaming alone notices the disconnect; it is
    # reported as `ClientDisconnect`. Older servers may silently drop the messages, so the
    # stream runs alongside a task waiting for `http.disconnect` on `receive`: whichever
    # finishes first cancels the other (see `_first_to_return`). The background task runs
    # after a complete stream or an `http.disconnect`, not when `ClientDisconnect` propagates.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec_version = _version_tuple(scope.get("asgi", {}).get("spec_version", "2.0"))
        if spec_version >= (2, 4):
            try:
                await self.stream_response(send)
            except OSError:
                raise ClientDisconnect()
        else:
            await _run_until_first_returns(
                partial(self.stream_response, send), partial(self.listen_for_disconnect, receive)
            )

        if self.background is not None:
            await self.background()


@lru_cache(maxsize=32)  # a server sends the same few versions in every scope
def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class MalformedRangeHeader(Exception):
    """The request's `Range` header is not valid `bytes=<range-set>` syntax (a 400 response)."""

    def __init__(self, content: str = "Malformed range header.") -> None:
        self.content = content


class RangeNotSatisfiable(Exception):
    """No range of the request's `Range` header overlaps the file (a 416 response)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size


class FileResponse(Response):
    """Streams a file, with Content-Length/Last-Modified/ETag headers and Range support."""

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        if method is not None:
            warnings.warn(
                "The 'method' parameter of FileResponse is deprecated: the request method is read from the scope.",
                DeprecationWarning,
                stacklevel=2,
            )
        self._method = method
        if media_type is None:
            media_type = guess_type(filename or path)[0] or "text/plain"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        self.headers.setdefault("accept-ranges", "bytes")
        if filename is not None:
            quoted_filename = quote(filename)
            if quoted_filename != filename:
                content_disposition = f"{content_disposition_type}; filename*=utf-8''{quoted_filename}"
            else:
                content_disposition = f'{content_disposition_type}; filename="{filename}"'
            self.headers.setdefault("content-disposition", content_disposition)
        self.stat_result = stat_result
        if stat_result is not None:
            self.set_stat_headers(stat_result)

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        """Set Content-Length, Last-Modified and ETag from `stat_result` unless already set."""
        size = stat_result.st_size
        mtime = stat_result.st_mtime
        etag_base = f"{mtime}-{size}".encode()
        etag = f'"{hashlib.md5(etag_base, usedforsecurity=False).hexdigest()}"'
        headers = self.headers
        headers.setdefault("content-length", str(size))
        headers.setdefault("last-modified", formatdate(mtime, usegmt=True))
        headers.setdefault("etag", etag)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = (self._method or scope.get("method") or "GET").upper()
        send_header_only = method == "HEAD"
        if self.stat_result is None:
            try:
                stat_result = await anyio.to_thread.run_sync(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.")
            if not stat.S_ISREG(stat_result.st_mode):
                raise RuntimeError(f"File at path {self.path} is not a file.")
            self.set_stat_headers(stat_result)
        else:
            stat_result = self.stat_result

        http_range = None
        if self.status_code == 200 and (method == "GET" or method == "HEAD"):
            request_headers = Headers(scope=scope)
            http_range = request_headers.get("range")
            if http_range is not None:
                http_if_range = request_headers.get("if-range")
                if http_if_range is not None and not self._if_range_matches(http_if_range):
                    http_range = None

        if http_range is None:
            await self._send_whole_file(scope, send, send_header_only)
        else:
            try:
                ranges = self._parse_range_header(http_range, stat_result.st_size)
            except MalformedRangeHeader as exc:
                await PlainTextResponse(exc.content, status_code=400)(scope, receive, send)
            except RangeNotSatisfiable as exc:
                response = PlainTextResponse(status_code=416, headers={"content-range": f"bytes */{exc.max_size}"})
                await response(scope, receive, send)
            else:
                if len(ranges) == 1:
                    await self._send_single_range(send, ranges[0], stat_result.st_size, send_header_only)
                else:
                    await self._send_multiple_ranges(send, ranges, stat_result.st_size, send_header_only)

        if self.background is not None:
            await self.background()

    @staticmethod
    def _parse_range_header(http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return _ranges.parse_range_header(http_range, file_size)
        except _ranges.MalformedRange:
            raise MalformedRangeHeader() from None
        except _ranges.UnsatisfiableRange:
            raise RangeNotSatisfiable(file_size) from None

    def _if_range_matches(self, http_if_range: str) -> bool:
        # RFC 9110 section 13.1.5: the validator must match exactly (a weak or stale one
        # never does), and then the range applies; otherwise the whole file is sent.
        headers = self.headers
        return http_if_range == headers.get("etag") or http_if_range == headers.get("last-modified")

    async def _send_whole_file(self, scope: Scope, send: Send, send_header_only: bool) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if send_header_only:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif "http.response.pathsend" in (scope.get("extensions") or {}):
            await send({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        else:
            chunk_size = self.chunk_size
            async with await anyio.open_file(self.path, mode="rb") as file:
                more_body = True
                while more_body:
                    chunk = await file.read(chunk_size)
                    more_body = len(chunk) == chunk_size
                    await send({"type": "http.response.body", "body": chunk, "more_body": more_body})

    async def _send_single_range(
        self, send: Send, byte_range: tuple[int, int], file_size: int, send_header_only: bool
    ) -> None:
        start, end = byte_range
        headers = MutableHeaders(raw=self.raw_headers[:])  # the response stays reusable
        headers["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        if not send_header_only:
            async with await anyio.open_file(self.path, mode="rb") as file:
                await self._send_file_range(send, file, start, end)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_multiple_ranges(
        self, send: Send, ranges: list[tuple[int, int]], file_size: int, send_header_only: bool
    ) -> None:
        boundary = token_hex(13)
        content_length, part_header = self.generate_multipart(
            ranges, boundary, file_size, self.headers.get("content-type", "text/plain")
        )
        headers = MutableHeaders(raw=self.raw_headers[:])  # the response stays reusable
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(content_length)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        if not send_header_only:
            async with await anyio.open_file(self.path, mode="rb") as file:
                for start, end in ranges:
                    await send({"type": "http.response.body", "body": part_header(start, end), "more_body": True})
                    await self._send_file_range(send, file, start, end)
                    await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
            await send({"type": "http.response.body", "body": _ranges.multipart_closing(boundary), "more_body": False})
        else:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_file_range(self, send: Send, file: anyio.AsyncFile[bytes], start: int, end: int) -> None:
        await file.seek(start)
        remaining = end - start
        chunk_size = self.chunk_size
        while remaining > 0:
            chunk = await file.read(min(chunk_size, remaining))
            if not chunk:
                break  # the file shrank since it was stat()ed: stop rather than loop forever
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    def generate_multipart(
        self,
        ranges: Sequence[tuple[int, int]],
        boundary: str,
        max_size: int,
        content_type: str,
    ) -> tuple[int, Callable[[int, int], bytes]]:
        """The `multipart/byteranges` body length for the half-open `ranges` and a function
        giving the header of the part for `(start, end)`."""
        return _ranges.multipart_byteranges(ranges, boundary, max_size, content_type)
