"""Authentication: users, credentials, the backend interface `AuthenticationMiddleware` calls,
and the `requires` permission decorator for endpoints."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec
from urllib.parse import urlencode

from starlette._utils import is_async_callable
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse
from starlette.websockets import WebSocket

__all__ = [
    "AuthCredentials",
    "AuthenticationBackend",
    "AuthenticationError",
    "BaseUser",
    "SimpleUser",
    "UnauthenticatedUser",
    "has_required_scope",
    "requires",
]

_P = ParamSpec("_P")


def has_required_scope(conn: HTTPConnection, scopes: Sequence[str]) -> bool:
    """Whether the connection's credentials (`conn.auth.scopes`) include every one of `scopes`."""
    granted = conn.auth.scopes
    return all(scope in granted for scope in scopes)


def _connection_parameter(func: Callable[..., Any]) -> tuple[str, int]:
    """The name ("request" or "websocket") and position of the connection parameter of `func`."""
    for index, parameter in enumerate(inspect.signature(func).parameters.values()):
        if parameter.name in ("request", "websocket"):
            return parameter.name, index
    raise Exception(f'No "request" or "websocket" argument on function "{func}"')


def requires(
    scopes: str | Sequence[str],
    status_code: int = 403,
    redirect: str | None = None,
) -> Callable[[Callable[_P, Any]], Callable[_P, Any]]:
    """Decorate an endpoint so that it only runs for connections holding all of `scopes`.

    The endpoint (sync or async, function or method) must have a parameter named `request` or
    `websocket`. An HTTP request lacking a scope gets `HTTPException(status_code)`, or, with
    `redirect`, a 303 redirect to the route named `redirect` carrying the requested URL in the
    `next` query parameter. A WebSocket lacking a scope is closed (denied) instead.
    """
    scopes_list = [scopes] if isinstance(scopes, str) else list(scopes)

    def decorator(func: Callable[_P, Any]) -> Callable[_P, Any]:
        kind, index = _connection_parameter(func)

        def connection(args: Any, kwargs: Any) -> Any:
            # Passed by keyword, or by position (methods have `self` first).
            if kind in kwargs:
                return kwargs[kind]
            return args[index] if index < len(args) else None

        if kind == "websocket":

            @functools.wraps(func)
            async def websocket_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> None:
                websocket = connection(args, kwargs)
                assert isinstance(websocket, WebSocket)
                if not has_required_scope(websocket, scopes_list):
                    await websocket.close()
                else:
                    await func(*args, **kwargs)

            return websocket_wrapper

        def denial(request: Request) -> RedirectResponse:
            if redirect is None:
                raise HTTPException(status_code=status_code)
            next_param = urlencode({"next": str(request.url)})
            return RedirectResponse(url=f"{request.url_for(redirect)}?{next_param}", status_code=303)

        if is_async_callable(func):

            @functools.wraps(func)
            async def async_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                request = connection(args, kwargs)
                assert isinstance(request, Request)
                if not has_required_scope(request, scopes_list):
                    return denial(request)
                return await func(*args, **kwargs)

            return async_wrapper

        @functools.wraps(func)
        def sync_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Any:
            request = connection(args, kwargs)
            assert isinstance(request, Request)
            if not has_required_scope(request, scopes_list):
                return denial(request)
            return func(*args, **kwargs)

        return sync_wrapper

    return decorator


class AuthenticationError(Exception):
    """Raised by an authentication backend for credentials that are present but invalid."""


class AuthenticationBackend:
    """Authenticates connections: subclass it and implement `authenticate`."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        """Return the credentials and user of `conn`, None when it carries no credentials, or
        raise `AuthenticationError` when its credentials are invalid."""
        raise NotImplementedError()


class AuthCredentials:
    """What an authenticated connection may do: its list of granted `scopes`."""

    def __init__(self, scopes: Sequence[str] | None = None):
        self.scopes: list[str] = [] if scopes is None else list(scopes)


class BaseUser:
    """The interface of the user objects found in `request.user`."""

    @property
    def is_authenticated(self) -> bool:
        """Whether this is a real, authenticated user."""
        raise NotImplementedError()

    @property
    def display_name(self) -> str:
        """A name to show for the user."""
        raise NotImplementedError()

    @property
    def identity(self) -> str:
        """A unique identifier of the user."""
        raise NotImplementedError()


class SimpleUser(BaseUser):
    """An authenticated user known only by `username`."""

    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username


class UnauthenticatedUser(BaseUser):
    """The user of a connection without credentials."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""
