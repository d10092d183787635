"""`GZipMiddleware`: gzip-compress responses for clients that accept it.

Theory of operation: each HTTP request gets a fresh responder (all per-response state lives on
it, never on the middleware). `GZipResponder` is used when the request's `Accept-Encoding`
mentions gzip, `IdentityResponder` otherwise; both hold back `http.response.start` until the
first body message, because only then is it known whether the response will be compressed:

- the response already has a `Content-Encoding`, or is `text/event-stream`: sent untouched;
- a single body message smaller than `minimum_size`, or empty: sent untouched;
- a single larger body: compressed whole, `Content-Length` corrected;
- a streamed body (`more_body`): compressed chunk by chunk through one `GzipFile`, which
  buffers internally (as documented, a small chunk may come out empty: output flows once
  enough input has accumulated, not only at the end); `Content-Length` is dropped.

In the last two cases `Vary: Accept-Encoding` is added (merged into an existing `Vary`) by both
responders, since the response could have been compressed for another client. The `GzipFile`
(a zlib compressor, costly to set up at level 9) is only created for a response that gets
compressed. A subclass can support another encoding by overriding `content_encoding` and
`apply_compression`: a body that `apply_compression` leaves unchanged means "not encoded".
"""

from __future__ import annotations

import gzip
import io
from typing import NoReturn

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import _add_vary, _set_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXCLUDED_CONTENT_TYPES", "GZipMiddleware", "GZipResponder", "IdentityResponder", "unattached_send"]

DEFAULT_EXCLUDED_CONTENT_TYPES = ("text/event-stream",)


class GZipMiddleware:
    """Compress response bodies of at least `minimum_size` bytes with gzip at `compresslevel`
    (1-9) when the request's `Accept-Encoding` includes `gzip`."""

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        accept_encoding = b""
        for name, value in Headers(scope=scope).raw:
            if name == b"accept-encoding":
                accept_encoding = value
                break
        # As documented, any mention of "gzip" counts (no q-value parsing, as in Starlette).
        responder: IdentityResponder
        if b"gzip" in accept_encoding:
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=self.compresslevel)
        else:
            responder = IdentityResponder(self.app, self.minimum_size)
        await responder(scope, receive, send)


class IdentityResponder:
    """Sends one response without encoding it, but with `Vary: Accept-Encoding` when it is large
    enough to have been compressed. The base of the encoding responders."""

    content_encoding: str

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.send: Send = unattached_send
        self.initial_message: Message = {}
        self.started: bool = False
        self.content_encoding_set: bool = False
        self.content_type_is_excluded: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.send = send
        await self.app(scope, receive, self.send_with_compression)

    async def send_with_compression(self, message: Message) -> None:
        """The `send` handed to the app: encodes the body and fixes the headers on the way."""
        message_type = message["type"]
        if message_type == "http.response.start":
            # Held back until the first body message decides on the encoding.
            self.initial_message = message
            headers = Headers(raw=message.get("headers") or [])
            self.content_encoding_set = "content-encoding" in headers
            self.content_type_is_excluded = headers.get("content-type", "").startswith(DEFAULT_EXCLUDED_CONTENT_TYPES)
        elif message_type == "http.response.body":
            if self.content_encoding_set or self.content_type_is_excluded:
                if not self.started:
                    self.started = True
                    await self.send(self.initial_message)
                await self.send(message)
            elif not self.started:
                self.started = True
                await self._send_first_body(message)
            else:
                # A later chunk of a streamed (and thus encoded) body.
                body = message.get("body", b"")
                message["body"] = self.apply_compression(body, more_body=message.get("more_body", False))
                await self.send(message)
        elif message_type == "http.response.pathsend":
            # The server sends the file itself: nothing to encode.
            self.started = True
            await self.send(self.initial_message)
            await self.send(message)
        else:
            await self.send(message)

    async def _send_first_body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if not more_body and (len(body) < self.minimum_size or not body):
            # Not worth compressing. An empty body never is (whatever `minimum_size`): a 204, a
            # 304 or a HEAD answer must stay empty, with its Content-Length.
            await self.send(self.initial_message)
            await self.send(message)
            return

        encoded = self.apply_compression(body, more_body=more_body)
        raw = MutableHeaders(scope=self.initial_message).raw
        _add_vary(raw, "Accept-Encoding")
        if encoded is not body and encoded != body:
            _set_header(raw, b"content-encoding", self.content_encoding.encode("latin-1"))
            if more_body:
                # The length is unknown until the last chunk, and that is too late.
                raw[:] = [item for item in raw if item[0] != b"content-length"]
            else:
                _set_header(raw, b"content-length", str(len(encoded)).encode("latin-1"))
            message["body"] = encoded
        await self.send(self.initial_message)
        await self.send(message)

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Encode one chunk of the body; `more_body=False` marks the last one, after which the
        encoder is finished. The identity encoding returns `body` itself."""
        return body


class GZipResponder(IdentityResponder):
    """Sends one response gzip-compressed (when it is large enough or streamed)."""

    content_encoding = "gzip"

    gzip_file: gzip.GzipFile
    """The compressor writing into `gzip_buffer`; created by the first `apply_compression`, so
    that responses too small to compress do not pay for it."""

    def __init__(self, app: ASGIApp, minimum_size: int, compresslevel: int = 9) -> None:
        super().__init__(app, minimum_size)
        self.gzip_buffer: io.BytesIO = io.BytesIO()
        self._compresslevel = compresslevel
        self._compressing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._compressing:
                self.gzip_file.close()
            self.gzip_buffer.close()

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Feed `body` to the compressor and return whatever compressed output is ready (all of
        it, trailer included, when `more_body` is False)."""
        if not self._compressing:
            self._compressing = True
            self.gzip_file = gzip.GzipFile(mode="wb", fileobj=self.gzip_buffer, compresslevel=self._compresslevel)
        self.gzip_file.write(body)
        if not more_body:
            self.gzip_file.close()
        output = self.gzip_buffer.getvalue()
        self.gzip_buffer.seek(0)
        self.gzip_buffer.truncate()
        return output


async def unattached_send(message: Message) -> NoReturn:
    """The `send` of a responder that has not been called yet: using it is a bug."""
    raise RuntimeError("send awaitable not set")
