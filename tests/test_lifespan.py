"""The lifespan protocol of `Router` / `Starlette` (`starlette._lifespan`): lifespan contexts,
lifespan state, failures, and the deprecated startup/shutdown handler styles."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

import pytest

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Message, Scope
from tests.types import TestClientFactory


async def drive(app: ASGIApp, scope: Scope | None = None) -> tuple[list[Message], Exception | None]:
    """Run a lifespan connection (startup, then shutdown); return what the app sent and what it raised."""
    if scope is None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


def fail(exc: Exception) -> None:
    raise exc


def types_of(sent: list[Message]) -> list[str]:
    return [message["type"] for message in sent]


# ---------------------------------------------------------------------------------------------------------------
# Lifespan contexts
# ---------------------------------------------------------------------------------------------------------------


def test_lifespan_context_runs_around_the_client(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []
    seen_apps: list[Any] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        seen_apps.append(app)
        events.append("startup")
        yield
        events.append("shutdown")

    async def homepage(request: Request) -> Response:
        events.append("request")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", homepage)], lifespan=lifespan)
    assert events == []
    with test_client_factory(app) as client:
        assert events == ["startup"]
        client.get("/")
    assert events == ["startup", "request", "shutdown"]
    assert seen_apps == [app]


@pytest.mark.anyio
async def test_router_lifespan_gets_the_app_from_the_scope() -> None:
    seen: list[Any] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        seen.append(app)
        yield

    router = Router(lifespan=lifespan)
    sent, error = await drive(router)
    assert error is None
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent, error = await drive(router, {"type": "lifespan", "app": "the app", "state": {}})
    assert error is None
    assert seen == [None, "the app"]


@pytest.mark.anyio
async def test_default_lifespan_without_handlers_completes() -> None:
    sent, error = await drive(Router())
    assert error is None
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


@pytest.mark.anyio
async def test_lifespan_sets_the_router_scope_key() -> None:
    router = Router()
    scope: Scope = {"type": "lifespan", "state": {}}
    await drive(router, scope)
    assert scope["router"] is router


def test_mounted_applications_do_not_get_lifespan_events(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def inner_lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("inner")  # pragma: no cover - must not run
        yield  # pragma: no cover - must not run

    inner = Starlette(lifespan=inner_lifespan)
    with test_client_factory(Starlette(routes=[Mount("/inner", app=inner)])):
        pass
    assert events == []


# ---------------------------------------------------------------------------------------------------------------
# Lifespan state
# ---------------------------------------------------------------------------------------------------------------


def test_lifespan_state_is_shallow_copied_into_each_request(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"items": [], "name": "state"}

    async def first(request: Request) -> Response:
        request.state.items.append("first")
        request.state.added = "only here"
        request.state.name = "changed"
        return PlainTextResponse("ok")

    async def second(request: Request) -> Response:
        return JSONResponse(
            {"items": request.state.items, "name": request.state.name, "added": hasattr(request.state, "added")}
        )

    app = Starlette(routes=[Route("/first", first), Route("/second", second)], lifespan=lifespan)
    with test_client_factory(app) as client:
        client.get("/first")
        assert client.get("/second").json() == {"items": ["first"], "name": "state", "added": False}


@pytest.mark.anyio
async def test_lifespan_state_is_merged_into_the_scope_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, int]]:
        yield {"answer": 42}

    scope: Scope = {"type": "lifespan", "state": {"server": True}}
    sent, error = await drive(Router(lifespan=lifespan), scope)
    assert error is None
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert scope["state"] == {"server": True, "answer": 42}


@pytest.mark.anyio
async def test_lifespan_state_needs_server_support() -> None:
    teardown: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, int]]:
        try:
            yield {"answer": 42}
        finally:
            teardown.append("closed")

    sent, error = await drive(Router(lifespan=lifespan), {"type": "lifespan"})
    assert isinstance(error, RuntimeError)
    assert str(error) == 'The server does not support "state" in the lifespan scope.'
    assert types_of(sent) == ["lifespan.startup.failed"]
    assert 'The server does not support "state" in the lifespan scope.' in sent[0]["message"]
    assert teardown == ["closed"]


@pytest.mark.anyio
async def test_stateless_lifespan_works_without_server_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield

    sent, error = await drive(Router(lifespan=lifespan), {"type": "lifespan"})
    assert error is None
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# ---------------------------------------------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_startup_failure_is_reported_with_the_traceback() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        fail(ValueError("cannot start"))
        yield  # pragma: no cover - fail() raises

    sent, error = await drive(Router(lifespan=lifespan))
    assert isinstance(error, ValueError)
    assert types_of(sent) == ["lifespan.startup.failed"]
    assert sent[0]["message"].startswith("Traceback (most recent call last):")
    assert "ValueError: cannot start" in sent[0]["message"]


@pytest.mark.anyio
async def test_shutdown_failure_is_reported_with_the_traceback() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        raise ValueError("cannot stop")

    sent, error = await drive(Router(lifespan=lifespan))
    assert isinstance(error, ValueError)
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "ValueError: cannot stop" in sent[1]["message"]


def test_startup_failure_through_the_test_client(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        fail(RuntimeError("boom at startup"))
        yield  # pragma: no cover - fail() raises

    client = test_client_factory(Starlette(lifespan=lifespan))
    with pytest.raises(RuntimeError, match="boom at startup"):
        with client:
            pass  # pragma: no cover - startup fails


def test_shutdown_failure_through_the_test_client(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        raise RuntimeError("boom at shutdown")

    client = test_client_factory(Starlette(lifespan=lifespan))
    with pytest.raises(RuntimeError, match="boom at shutdown"):
        with client:
            pass


# ---------------------------------------------------------------------------------------------------------------
# Deprecated: on_startup / on_shutdown, on_event, add_event_handler
# ---------------------------------------------------------------------------------------------------------------


def test_on_startup_and_on_shutdown_parameters(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    def sync_startup() -> None:
        events.append("sync startup")

    async def async_startup() -> None:
        events.append("async startup")

    async def async_shutdown() -> None:
        events.append("async shutdown")

    with pytest.deprecated_call(match="The on_startup and on_shutdown parameters are deprecated"):
        app = Starlette(on_startup=[sync_startup, async_startup], on_shutdown=[async_shutdown])
    with test_client_factory(app):
        assert events == ["sync startup", "async startup"]
    assert events == ["sync startup", "async startup", "async shutdown"]


@pytest.mark.anyio
async def test_router_on_startup_and_handler_failures() -> None:
    def failing() -> None:
        raise ValueError("handler failed")

    with pytest.deprecated_call():
        router = Router(on_startup=[failing])
    assert router.on_startup == [failing] and router.on_shutdown == []
    sent, error = await drive(router)
    assert isinstance(error, ValueError)
    assert types_of(sent) == ["lifespan.startup.failed"]
    with pytest.deprecated_call():
        router = Router(on_shutdown=[failing])
    sent, error = await drive(router)
    assert isinstance(error, ValueError)
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.failed"]


@pytest.mark.anyio
async def test_router_lifespan_with_handlers_ignores_the_handlers() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("lifespan")
        yield

    def startup() -> None:
        events.append("startup")  # pragma: no cover - ignored

    with pytest.warns(UserWarning, match="The `lifespan` parameter cannot be used with `on_startup` or `on_shutdown`"):
        with pytest.deprecated_call():
            router = Router(on_startup=[startup], lifespan=lifespan)
    await drive(router)
    assert events == ["lifespan"]


def test_starlette_rejects_lifespan_with_handlers() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield  # pragma: no cover - never started

    with pytest.raises(AssertionError, match="Use either 'lifespan' or 'on_startup'/'on_shutdown', not both."):
        Starlette(lifespan=lifespan, on_startup=[])
    with pytest.raises(AssertionError):
        Starlette(lifespan=lifespan, on_shutdown=[])


def test_on_event_is_deprecated_and_add_event_handler_is_not(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []
    app = Starlette()

    with pytest.deprecated_call(match="The `on_event` decorator is deprecated"):

        @app.on_event("startup")
        async def startup() -> None:
            events.append("startup")

    router = Router()
    with pytest.deprecated_call(match="The `on_event` decorator is deprecated"):

        @router.on_event("shutdown")
        def router_shutdown() -> None:
            events.append("router shutdown")  # pragma: no cover - router not run

    assert router.on_shutdown == [router_shutdown]

    def shutdown() -> None:
        events.append("shutdown")

    app.add_event_handler("shutdown", shutdown)
    with test_client_factory(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]
    with pytest.raises(AssertionError):
        app.add_event_handler("other", shutdown)


# ---------------------------------------------------------------------------------------------------------------
# Deprecated: generator lifespans
# ---------------------------------------------------------------------------------------------------------------


def test_async_generator_lifespan_is_deprecated_but_works(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def lifespan(app: Starlette) -> AsyncGenerator[None, None]:
        events.append("startup")
        yield
        events.append("shutdown")

    with pytest.deprecated_call(match="async generator function lifespans are deprecated"):
        app = Starlette(lifespan=lifespan)  # type: ignore[arg-type]  # the deprecated form is not in the types
    with test_client_factory(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_generator_lifespan_is_deprecated_but_works(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    def lifespan(app: Starlette) -> Generator[None, None, None]:
        events.append("startup")
        yield
        events.append("shutdown")

    with pytest.deprecated_call(match="generator function lifespans are deprecated"):
        app = Starlette(lifespan=lifespan)  # type: ignore[arg-type]  # the deprecated form is not in the types
    with test_client_factory(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_generator_lifespan_sees_failures_and_yields_state() -> None:
    seen: list[str] = []

    def lifespan(app: Any) -> Iterator[dict[str, str]]:
        try:
            yield {"from": "generator"}
        except RuntimeError as exc:
            seen.append(str(exc))
            raise

    with pytest.deprecated_call():
        router = Router(lifespan=lifespan)  # type: ignore[arg-type]  # the deprecated form is not in the types
    scope: Scope = {"type": "lifespan", "state": {}}
    sent, error = await drive(router, scope)
    assert error is None
    assert scope["state"] == {"from": "generator"}

    incoming: list[Message] = [{"type": "lifespan.startup"}]
    sent = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        raise RuntimeError("server gone")

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="server gone"):
        await router({"type": "lifespan", "state": {}}, receive, send)
    assert seen == ["server gone"]
    assert types_of(sent) == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
