"""`HTTPSRedirectMiddleware`: redirect `http` and `ws` requests to `https` and `wss`."""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_REDIRECT_SCHEMES = {"http": "https", "ws": "wss"}
_DEFAULT_SCHEMES = {"http": "http", "websocket": "ws"}


class HTTPSRedirectMiddleware:
    """Answer every insecure request (`http`, `ws`) with a 307 redirect to the same URL on the
    secure scheme; the default ports 80 and 443 are dropped, any other explicit port is kept.
    WebSocket connections get the redirect as a denial response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type not in _DEFAULT_SCHEMES:
            await self.app(scope, receive, send)
            return
        redirect_scheme = _REDIRECT_SCHEMES.get(scope.get("scheme", _DEFAULT_SCHEMES[scope_type]))
        if redirect_scheme is None:
            await self.app(scope, receive, send)
            return

        url = URL(scope=scope)
        netloc = url.netloc
        if url.port in (80, 443):  # (a URL built from a scope always has a valid port)
            hostname = url.hostname or ""
            netloc = f"[{hostname}]" if ":" in hostname else hostname
        response = RedirectResponse(url.replace(scheme=redirect_scheme, netloc=netloc), status_code=307)
        await response(scope, receive, send)
