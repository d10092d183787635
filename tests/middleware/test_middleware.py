"""`Middleware`: the deferred `cls(app, *args, **kwargs)` call that applications build their stack from."""

from __future__ import annotations

import functools

import pytest

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tests.types import TestClientFactory


class HeaderMiddleware:
    def __init__(self, app: ASGIApp, name: str, value: str = "yes", *, lower: bool = False) -> None:
        self.app = app
        self.name = name
        self.value = value.lower() if lower else value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (self.name.encode(), self.value.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


def header_middleware_factory(app: ASGIApp, name: str) -> ASGIApp:
    return HeaderMiddleware(app, name, "from-factory")


def test_repr_with_positional_and_keyword_arguments() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", value="B", lower=True)
    assert repr(middleware) == "Middleware(HeaderMiddleware, 'x-a', value='B', lower=True)"


def test_repr_with_keyword_arguments_only() -> None:
    assert repr(Middleware(ExceptionMiddleware, debug=True)) == "Middleware(ExceptionMiddleware, debug=True)"


def test_repr_without_arguments() -> None:
    assert repr(Middleware(ExceptionMiddleware)) == "Middleware(ExceptionMiddleware)"


def test_repr_of_a_function_factory() -> None:
    assert repr(Middleware(header_middleware_factory, "x-f")) == "Middleware(header_middleware_factory, 'x-f')"


def test_repr_of_a_factory_without_a_name() -> None:
    factory = functools.partial(HeaderMiddleware, lower=True)
    assert repr(Middleware(factory, "x-p")) == "Middleware(, 'x-p')"


def test_repr_of_a_subclass_uses_its_name() -> None:
    class Deferred(Middleware):
        pass

    assert repr(Deferred(ExceptionMiddleware)) == "Deferred(ExceptionMiddleware)"


def test_iter_unpacks_class_args_and_kwargs() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", value="b")
    cls, args, kwargs = middleware
    assert cls is HeaderMiddleware
    assert args == ("x-a",)
    assert kwargs == {"value": "b"}
    assert list(middleware) == [HeaderMiddleware, ("x-a",), {"value": "b"}]


def test_attributes() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", lower=True)
    factory: object = middleware.cls
    assert factory is HeaderMiddleware
    assert middleware.args == ("x-a",)
    assert middleware.kwargs == {"lower": True}


@pytest.mark.parametrize(
    ("middleware", "header"),
    [
        (Middleware(HeaderMiddleware, "x-custom", value="Hello", lower=True), "hello"),
        (Middleware(header_middleware_factory, "x-custom"), "from-factory"),
    ],
)
def test_building_the_middleware_wraps_the_app(
    test_client_factory: TestClientFactory, middleware: Middleware, header: str
) -> None:
    cls, args, kwargs = middleware
    app = cls(PlainTextResponse("hi"), *args, **kwargs)
    response = test_client_factory(app).get("/")
    assert response.text == "hi"
    assert response.headers["x-custom"] == header


def test_arguments_are_checked_against_the_factory_signature() -> None:
    # mypy (run with warn_unused_ignores) fails if these stop being type errors.
    wrong_type = Middleware(HeaderMiddleware, 1)  # type: ignore[arg-type]
    unknown = Middleware(HeaderMiddleware, "x-a", unknown=True)  # type: ignore[call-arg]
    missing = Middleware(header_middleware_factory)  # type: ignore[call-arg]
    # At runtime the arguments are only stored; the factory sees them when the stack is built.
    assert list(wrong_type) == [HeaderMiddleware, (1,), {}]
    assert list(unknown) == [HeaderMiddleware, ("x-a",), {"unknown": True}]
    assert list(missing) == [header_middleware_factory, (), {}]


def test_starlette_builds_user_middleware_between_the_error_layers(test_client_factory: TestClientFactory) -> None:
    async def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def handled(request: Request) -> Response:
        raise HTTPException(409)

    async def error(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(
        routes=[Route("/ok", ok), Route("/handled", handled), Route("/error", error)],
        middleware=[Middleware(HeaderMiddleware, "x-outer"), Middleware(HeaderMiddleware, "x-inner", value="2")],
    )
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/ok")
    assert response.text == "ok"
    # The first middleware listed is the outermost: it sees the inner one's header already set.
    assert list(response.headers)[-2:] == ["x-inner", "x-outer"]
    # Handled exceptions become responses inside the user middleware...
    handled_response = client.get("/handled")
    assert handled_response.status_code == 409
    assert (handled_response.headers["x-outer"], handled_response.headers["x-inner"]) == ("yes", "2")
    # ...errors become the 500 outside of it.
    error_response = client.get("/error")
    assert error_response.status_code == 500
    assert "x-outer" not in error_response.headers
