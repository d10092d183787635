"""`CORSMiddleware`: Cross-Origin Resource Sharing headers and preflight answers.

Theory of operation: everything that does not depend on the request is computed once, in
`__init__`: the headers every simple (non-preflight) response gets (`simple_headers`, also kept
encoded), the headers every preflight response starts from (`preflight_headers`), and the
lower-cased set of allowed request headers. Per request the middleware only looks at `Origin`:

- no `Origin`: not a CORS request, the app is called untouched;
- `OPTIONS` with `Access-Control-Request-Method`: a preflight, answered here (200 "OK" when
  origin, method and requested headers are all allowed, else 400 listing what was not);
- anything else: a simple request, passed to the app; its `http.response.start` gets the
  simple headers, and the explicit origin (plus `Vary: Origin`) when the origin is allowed
  and `*` cannot be used (specific origins configured, or a cookie sent with `allow_origins=["*"]`).

`*` is never sent with credentials on a preflight: with `allow_credentials=True` the origin is
echoed (with `Vary: Origin`), and with `allow_headers=["*"]` the requested headers are echoed.
Header edits work on the raw `(name, value)` byte pairs of the message, with the semantics of
`MutableHeaders.__setitem__` (first occurrence replaced, duplicates dropped), except that `Vary`
tokens are merged without duplicates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ALL_METHODS", "SAFELISTED_HEADERS", "CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
SAFELISTED_HEADERS = {"Accept", "Accept-Language", "Content-Language", "Content-Type"}

_RawHeaders = list[tuple[bytes, bytes]]


class CORSMiddleware:
    """Add CORS headers to responses and answer CORS preflight requests.

    `allow_origins`, `allow_methods` and `allow_headers` accept `"*"` to allow anything;
    `allow_origin_regex` is matched against the whole origin. The safelisted request headers
    (`Accept`, `Accept-Language`, `Content-Language`, `Content-Type`) are always allowed.
    `allow_private_network` answers Private Network Access preflights
    (`Access-Control-Request-Private-Network: true`) with `Access-Control-Allow-Private-Network: true`.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
        allow_private_network: bool = False,
    ) -> None:
        if "*" in allow_methods:
            allow_methods = ALL_METHODS

        compiled_allow_origin_regex = None
        if allow_origin_regex is not None:
            compiled_allow_origin_regex = re.compile(allow_origin_regex)

        allow_all_origins = "*" in allow_origins
        allow_all_headers = "*" in allow_headers
        preflight_explicit_allow_origin = not allow_all_origins or allow_credentials

        simple_headers: dict[str, str] = {}
        if allow_all_origins:
            simple_headers["Access-Control-Allow-Origin"] = "*"
        if allow_credentials:
            simple_headers["Access-Control-Allow-Credentials"] = "true"
        if expose_headers:
            simple_headers["Access-Control-Expose-Headers"] = ", ".join(expose_headers)

        allow_headers = sorted(SAFELISTED_HEADERS | set(allow_headers))
        preflight_headers: dict[str, str] = {}
        if preflight_explicit_allow_origin:
            # The origin echoed back depends on the request: caches must key on it.
            preflight_headers["Vary"] = "Origin"
        else:
            preflight_headers["Access-Control-Allow-Origin"] = "*"
        preflight_headers["Access-Control-Allow-Methods"] = ", ".join(allow_methods)
        preflight_headers["Access-Control-Max-Age"] = str(max_age)
        if allow_headers and not allow_all_headers:
            preflight_headers["Access-Control-Allow-Headers"] = ", ".join(allow_headers)
        if allow_credentials:
            preflight_headers["Access-Control-Allow-Credentials"] = "true"

        self.app = app
        self.allow_private_network = allow_private_network
        self.allow_origins = allow_origins
        self.allow_methods = allow_methods
        self.allow_headers: list[str] = [h.lower() for h in allow_headers]
        self.allow_all_origins = allow_all_origins
        self.allow_all_headers = allow_all_headers
        self.preflight_explicit_allow_origin = preflight_explicit_allow_origin
        self.allow_origin_regex = compiled_allow_origin_regex
        self.simple_headers = simple_headers
        self.preflight_headers = preflight_headers
        self._allowed_header_set = frozenset(self.allow_headers)
        self._allowed_origin_set = frozenset(allow_origins)
        self._simple_raw_headers: _RawHeaders = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in simple_headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        for name, _ in headers.raw:
            if name == b"origin":
                break
        else:
            # Not a CORS request.
            await self.app(scope, receive, send)
            return

        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            response = self.preflight_response(request_headers=headers)
            await response(scope, receive, send)
            return

        await self.simple_response(scope, receive, send, request_headers=headers)

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether `origin` may make cross-origin requests (`*`, the regex, or the list)."""
        if self.allow_all_origins:
            return True
        if self.allow_origin_regex is not None and self.allow_origin_regex.fullmatch(origin):
            return True
        return origin in self._allowed_origin_set

    def preflight_response(self, request_headers: Headers) -> Response:
        """The answer to a preflight request: 200 "OK", or 400 naming what is disallowed."""
        requested_origin = request_headers["origin"]
        requested_method = request_headers["access-control-request-method"]
        requested_headers = request_headers.get("access-control-request-headers")

        headers = dict(self.preflight_headers)
        failures: list[str] = []

        if self.is_allowed_origin(origin=requested_origin):
            if self.preflight_explicit_allow_origin:
                headers["Access-Control-Allow-Origin"] = requested_origin
        else:
            failures.append("origin")

        if requested_method not in self.allow_methods:
            failures.append("method")

        if requested_headers is not None:
            if self.allow_all_headers:
                # Any header is fine: echo the request's list back (`*` means nothing with credentials).
                headers["Access-Control-Allow-Headers"] = requested_headers
            else:
                allowed = self._allowed_header_set
                for header in requested_headers.split(","):
                    header = header.strip().lower()
                    # Empty list elements ("a, , b", a trailing comma) are ignored, as RFC 9110 says.
                    if header and header not in allowed:
                        failures.append("headers")
                        break

        if failures:
            return PlainTextResponse("Disallowed CORS " + ", ".join(failures), status_code=400, headers=headers)
        if (
            self.allow_private_network
            and request_headers.get("access-control-request-private-network", "").lower() == "true"
        ):
            # Private Network Access: a public page may reach this (private) server.
            headers["Access-Control-Allow-Private-Network"] = "true"
        return PlainTextResponse("OK", status_code=200, headers=headers)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        """Call the app, adding the CORS headers to its response."""
        send = functools.partial(self.send, send=send, request_headers=request_headers)
        await self.app(scope, receive, send)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        """Forward `message`, adding the CORS headers when it starts the response."""
        if message["type"] != "http.response.start":
            await send(message)
            return

        headers = MutableHeaders(scope=message)
        raw = headers.raw
        for name, value in self._simple_raw_headers:
            _set_header(raw, name, value)
        origin = request_headers["origin"]

        if self.allow_all_origins:
            # `*` is not allowed with credentials: a request carrying cookies gets its origin.
            if "cookie" in request_headers:
                self.allow_explicit_origin(headers, origin)
        elif self.is_allowed_origin(origin=origin):
            self.allow_explicit_origin(headers, origin)

        await send(message)

    @staticmethod
    def allow_explicit_origin(headers: MutableHeaders, origin: str) -> None:
        """Allow exactly `origin` (instead of `*`), and mark the response as varying with it."""
        raw = headers.raw
        _set_header(raw, b"access-control-allow-origin", origin.encode("latin-1"))
        _add_vary(raw, "Origin")


def _set_header(raw: _RawHeaders, name: bytes, value: bytes) -> None:
    """`raw[name] = value` as `MutableHeaders.__setitem__` does it, for a lower-case `name`."""
    for key, _ in raw:
        if key == name:
            break
    else:
        raw.append((name, value))
        return
    indexes = [index for index, (key, _) in enumerate(raw) if key == name]
    raw[indexes[0]] = (name, value)
    for index in reversed(indexes[1:]):
        del raw[index]


def _add_vary(raw: _RawHeaders, token: str) -> None:
    """Add `token` to the `Vary` header, after the tokens already listed (several `Vary` lines are
    merged into one); nothing is added when it is listed already (case-insensitively) or is `*`."""
    existing = [value for key, value in raw if key == b"vary"]
    if not existing:
        raw.append((b"vary", token.encode("latin-1")))
        return
    values = [stripped for value in existing if (stripped := value.decode("latin-1").strip())]
    listed = {item.strip().lower() for value in values for item in value.split(",")}
    if token.lower() not in listed and "*" not in listed:
        values.append(token)
    _set_header(raw, b"vary", ", ".join(values).encode("latin-1"))
