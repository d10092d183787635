"""BaseHTTPMiddleware behind a real server (uvicorn on 127.0.0.1, asyncio), driven by httpx:
what a client sees of streaming, background tasks and disconnects."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import anyio.to_thread
import httpx

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from tests._server import run_uvicorn


class HeaderMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["X-Base"] = "1"
        return response


async def wait_in_thread(event: threading.Event) -> None:
    await anyio.to_thread.run_sync(event.wait, 10)


def test_first_chunk_reaches_the_client_before_the_endpoint_finishes() -> None:
    release = threading.Event()
    finished = threading.Event()

    async def endpoint(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            await wait_in_thread(release)  # set by the client once it has "first"
            yield b"second"
            finished.set()

        return StreamingResponse(chunks(), media_type="text/plain")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(HeaderMiddleware)])
    with run_uvicorn(app) as server, httpx.Client(timeout=20) as client:
        with client.stream("GET", server.http_url + "/") as response:
            assert response.headers["x-base"] == "1"
            chunks = response.iter_raw()
            # Were the body buffered, this would wait for the endpoint, which waits for us (10 s),
            # and the first read would hold both chunks.
            assert next(chunks) == b"first"
            assert not finished.is_set()
            release.set()
            assert b"".join(chunks) == b"second"
    assert finished.is_set()


def test_streaming_endpoint_stops_when_the_client_leaves() -> None:
    stopped = threading.Event()
    returned = threading.Event()

    async def endpoint(request: Request) -> Response:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick"
                    await anyio.sleep(0.01)
            finally:
                stopped.set()

        return StreamingResponse(ticks())

    class Returned:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)
            if scope["type"] == "http":
                returned.set()

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(Returned), Middleware(HeaderMiddleware)])
    with run_uvicorn(app) as server:
        with httpx.Client(timeout=20) as client, client.stream("GET", server.http_url + "/") as response:
            assert next(response.iter_raw()).startswith(b"tick")
            # Leaving the block closes the connection mid-stream.
        assert stopped.wait(10)
        assert returned.wait(10)


def test_response_reaches_the_client_before_the_background_task_ends() -> None:
    release = threading.Event()
    finished = threading.Event()

    async def task() -> None:
        await wait_in_thread(release)
        finished.set()

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("done", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(HeaderMiddleware)])
    with run_uvicorn(app) as server, httpx.Client(timeout=20) as client:
        response = client.get(server.http_url + "/")
        assert response.text == "done"
        assert response.headers["x-base"] == "1"
        assert not finished.is_set()
        release.set()
        assert finished.wait(10)


def test_head_request_behind_the_server() -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("hello, world")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(HeaderMiddleware)])
    with run_uvicorn(app) as server, httpx.Client(timeout=20) as client:
        response = client.head(server.http_url + "/")
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "12"
        assert response.headers["x-base"] == "1"
        # The connection is still usable: the HEAD response was framed correctly.
        assert client.get(server.http_url + "/").text == "hello, world"
