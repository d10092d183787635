"""The handled exceptions: raise them from endpoints and the exception middleware turns them
into an HTTP response (`HTTPException`) or a WebSocket close (`WebSocketException`)."""

from __future__ import annotations

import http
from collections.abc import Mapping

__all__ = ("HTTPException", "WebSocketException")

# `HTTPStatus(code).phrase` for every standard code, without an enum lookup per exception (a
# 404 from the router raises one per request). Other codes still go through `HTTPStatus`,
# which raises ValueError for codes it does not know.
_PHRASES = {status.value: status.phrase for status in http.HTTPStatus}


class HTTPException(Exception):
    """An error that should become an HTTP response with `status_code`, `detail` as the body
    (by default the standard reason phrase, e.g. "Not Found") and the given extra `headers`."""

    def __init__(self, status_code: int, detail: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        if detail is None:
            phrase = _PHRASES.get(status_code)
            detail = http.HTTPStatus(status_code).phrase if phrase is None else phrase
        # `args` lets pickle (and copy) rebuild the exception; headers travel in `__dict__`.
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(Exception):
    """An error that should close the WebSocket with close `code` and `reason` (default "")."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, reason={self.reason!r})"
