"""`SessionMiddleware`: a signed-cookie session, exposed as `request.session`.

Theory of operation: the session dict travels in one cookie as base64-encoded JSON, signed
with a timestamp by `itsdangerous.TimestampSigner`, so it is readable by the client but cannot
be altered, and a cookie older than `max_age` is rejected even if the browser kept it. On the
way in, a missing, tampered with or expired cookie gives an empty session. On the way out
(`http.response.start`), a non-empty session is re-signed and set again (refreshing its
expiry); a session that was loaded from a cookie and is now empty has its cookie cleared.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Literal

import itsdangerous
from itsdangerous.exc import BadSignature

from starlette.datastructures import MutableHeaders, Secret
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SessionMiddleware"]


class SessionMiddleware:
    """Keep `scope["session"]` (a JSON-serialisable dict) in a signed cookie.

    `max_age` (seconds, default two weeks) bounds both the signature and the cookie's
    `Max-Age`; `None` makes a browser-session cookie whose signature never expires.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,  # 14 days, in seconds
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
    ) -> None:
        self.app = app
        self.signer: itsdangerous.TimestampSigner = itsdangerous.TimestampSigner(str(secret_key))
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        self.security_flags = "httponly; samesite=" + same_site
        if https_only:  # Secure flag can be used with HTTPS only
            self.security_flags += "; secure"
        if domain is not None:
            self.security_flags += f"; domain={domain}"

        # The Set-Cookie text around the value, fixed for the middleware's lifetime.
        max_age_flag = f"Max-Age={max_age}; " if max_age else ""
        self._set_cookie_prefix = f"{session_cookie}="
        self._set_cookie_suffix = f"; path={path}; {max_age_flag}{self.security_flags}"
        self._clear_cookie = (
            f"{session_cookie}=null; path={path}; expires=Thu, 01 Jan 1970 00:00:00 GMT; {self.security_flags}"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        initial_session_was_empty = True
        session: dict[str, object] = {}
        cookie = HTTPConnection(scope).cookies.get(self.session_cookie)
        if cookie is not None:
            try:
                data = self.signer.unsign(cookie.encode("utf-8"), max_age=self.max_age)
                loaded = json.loads(b64decode(data))
            except (BadSignature, ValueError, RecursionError):
                # Tampered with, expired, or not ours: start afresh. (Once signed, only a bug or
                # a leaked key gives bad base64, UTF-8 or JSON, or JSON nested too deeply to load.)
                pass
            else:
                if isinstance(loaded, dict):
                    session = loaded
                    initial_session_was_empty = False
        scope["session"] = session

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                if current:
                    data = b64encode(json.dumps(current).encode("utf-8"))
                    value = self.signer.sign(data).decode("utf-8")
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._set_cookie_prefix + value + self._set_cookie_suffix)
                elif not initial_session_was_empty:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._clear_cookie)
            await send(message)

        await self.app(scope, receive, send_wrapper)
