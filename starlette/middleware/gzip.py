"""`GZipMiddleware`: gzip-compress responses for clients that accept it.

Theory of operation: each HTTP request gets a fresh responder (all per-response state lives on
it, never on the middleware). `GZipResponder` is used when the request's `Accept-Encoding`
mentions gzip, `IdentityResponder` otherwise; both hold back `http.response.start` until the
first body message, because only then is it known whether the response will be compressed:

- the response already has a `Content-Encoding`, or is `text/event-stream`: sent untouched;
- a single body message smaller than `minimum_size`: sent untouched;
- a single larger body: compressed whole, `Content-Length` corrected;
- a streamed body (`more_body`): compressed chunk by chunk through one `GzipFile`, which
  buffers internally (a small chunk may come out empty); `Content-Length` is dropped.

In the last two cases `Vary: Accept-Encoding` is added by both responders, since the response
could have been compressed for another client. A subclass can support another encoding by
overriding `content_encoding` and `apply_compression`: a body that `apply_compression` leaves
unchanged means "not encoded".
"""

from __future__ import annotations

import gzip
import io
from typing import NoReturn

from starlette.datastructures import Headers, MutableHeaders
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
        if len(body) < self.minimum_size and not more_body:
            # Not worth compressing.
            await self.send(self.initial_message)
            await self.send(message)
            return

        encoded = self.apply_compression(body, more_body=more_body)
        headers = MutableHeaders(scope=self.initial_message)
        headers.add_vary_header("Accept-Encoding")
        if encoded is not body and encoded != body:
            headers["Content-Encoding"] = self.content_encoding
            if more_body:
                del headers["Content-Length"]
            else:
                headers["Content-Length"] = str(len(encoded))
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

    def __init__(self, app: ASGIApp, minimum_size: int, compresslevel: int = 9) -> None:
        super().__init__(app, minimum_size)
        self.gzip_buffer: io.BytesIO = io.BytesIO()
        self.gzip_file: gzip.GzipFile = gzip.GzipFile(mode="wb", fileobj=self.gzip_buffer, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.gzip_buffer, self.gzip_file:
            await super().__call__(scope, receive, send)

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Feed `body` to the compressor and return whatever compressed output is ready (all of
        it, trailer included, when `more_body` is False)."""
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
