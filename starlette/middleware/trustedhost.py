"""`TrustedHostMiddleware`: reject requests whose `Host` header is not an allowed host name,
guarding against HTTP Host header attacks."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import URL, Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ENFORCE_DOMAIN_WILDCARD", "TrustedHostMiddleware"]

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."


def _host_name(host_header: str) -> str:
    """The host part of a `Host` header value: the port is dropped, IPv6 brackets kept."""
    if host_header.startswith("["):
        end = host_header.find("]")
        return host_header if end == -1 else host_header[: end + 1]
    return host_header.split(":", 1)[0]


class TrustedHostMiddleware:
    """Only let through requests for one of `allowed_hosts` (exact names, or `*.example.com`
    for any subdomain; `["*"]`, the default, allows anything). Other hosts get a 400 "Invalid
    host header", except that with `www_redirect` a request for `example.com` is redirected to
    `www.example.com` when only the latter is allowed. Host names compare case-insensitively."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]

        exact: set[str] = set()
        suffixes: list[str] = []
        for pattern in allowed_hosts:
            assert "*" not in pattern[1:], ENFORCE_DOMAIN_WILDCARD
            if pattern.startswith("*") and pattern != "*":
                assert pattern.startswith("*."), ENFORCE_DOMAIN_WILDCARD
                suffixes.append(pattern[1:].lower())
            else:
                exact.add(pattern.lower())

        self.app = app
        self.allowed_hosts: list[str] = list(allowed_hosts)
        self.allow_any: bool = "*" in allowed_hosts
        self.www_redirect = www_redirect
        self._exact_hosts = frozenset(exact)
        self._wildcard_suffixes = tuple(suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        host = _host_name(Headers(scope=scope).get("host", "")).lower()
        if host in self._exact_hosts or host.endswith(self._wildcard_suffixes):
            await self.app(scope, receive, send)
            return

        response: Response = PlainTextResponse("Invalid host header", status_code=400)
        if self.www_redirect and "www." + host in self._exact_hosts:
            url = URL(scope=scope)
            # The URL ignores a Host header it cannot parse (a port that is no number): no redirect then.
            if url.hostname == host:
                response = RedirectResponse(url=str(url.replace(netloc="www." + url.netloc)))
        await response(scope, receive, send)
