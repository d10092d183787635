"""The Starlette 0.50 documentation, executed: every example and behavioural statement of the docs
(index, applications, requests, responses, routing, endpoints, exceptions, lifespan, background,
config, threadpool, testclient, websockets, server-push, middleware) run through our implementation,
plus typical FastAPI-style uses of the Starlette layer.

Each test names the doc section it comes from. Behaviour changes listed in the release notes live in
tests/test_release_notes.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import functools
import json
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypedDict

import anyio
import anyio.to_thread
import httpx
import pytest

from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.config import Config, Environ, EnvironError
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import URL, CommaSeparatedStrings, Headers, MutableHeaders, Secret, UploadFile
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.exceptions import HTTPException, WebSocketException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Host, Mount, NoMatchFound, Route, Router, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory

# ---------------------------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------------------------


async def echo_path(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.url.path)


async def mounted_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands in for `StaticFiles` in the doc examples: answers with the scope's path and root_path."""
    response = PlainTextResponse(f"{scope['path']}|{scope['root_path']}")
    await response(scope, receive, send)


def make_scope(path: str = "/", **extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    scope.update(extra)
    return scope


# ---------------------------------------------------------------------------------------------------------------
# index.md
# ---------------------------------------------------------------------------------------------------------------


def test_index_example_json_hello_world(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    app = Starlette(debug=True, routes=[Route("/", homepage)])
    response = test_client_factory(app).get("/")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"


def test_index_toolkit_example_plain_asgi_app(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = PlainTextResponse("Hello, world!")
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.text == "Hello, world!"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "13"


# ---------------------------------------------------------------------------------------------------------------
# applications.md
# ---------------------------------------------------------------------------------------------------------------


def build_applications_example(events: list[str]) -> Starlette:
    def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello, world!")

    def user_me(request: Request) -> PlainTextResponse:
        username = "John Doe"
        return PlainTextResponse(f"Hello, {username}!")

    def user(request: Request) -> PlainTextResponse:
        username = request.path_params["username"]
        return PlainTextResponse(f"Hello, {username}!")

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("Hello, websocket!")
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("Startup")
        yield
        events.append("Shutdown")

    routes = [
        Route("/", homepage),
        Route("/user/me", user_me),
        Route("/user/{username}", user),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", mounted_asgi_app),
    ]
    return Starlette(debug=True, routes=routes, lifespan=lifespan)


def test_applications_example_routes(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []
    app = build_applications_example(events)
    with test_client_factory(app) as client:
        assert events == ["Startup"]
        assert client.get("/").text == "Hello, world!"
        assert client.get("/user/me").text == "Hello, John Doe!"
        assert client.get("/user/tom").text == "Hello, tom!"
        assert client.get("/static/css/base.css").text == "/static/css/base.css|/static"
        with client.websocket_connect("/ws") as session:
            assert session.receive_text() == "Hello, websocket!"
    assert events == ["Startup", "Shutdown"]


def test_applications_state_on_app_instance(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.app.state.ADMIN_EMAIL)

    app = Starlette(routes=[Route("/", homepage)])
    app.state.ADMIN_EMAIL = "admin@example.org"
    assert test_client_factory(app).get("/").text == "admin@example.org"


def test_applications_state_missing_attribute_raises_attribute_error() -> None:
    app = Starlette()
    with pytest.raises(AttributeError, match="'State' object has no attribute 'missing'"):
        app.state.missing  # noqa: B018


def test_applications_request_app_is_the_app(test_client_factory: TestClientFactory) -> None:
    seen: list[Any] = []

    async def homepage(request: Request) -> PlainTextResponse:
        seen.append(request.app)
        return PlainTextResponse("ok")

    class RecordApp(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            seen.append(request.app)
            return await call_next(request)

    app = Starlette(routes=[Route("/", homepage)], middleware=[Middleware(RecordApp)])
    test_client_factory(app).get("/")
    assert seen == [app, app]


def test_applications_routes_property_and_url_path_for() -> None:
    route = Route("/users/{username}", echo_path, name="user_detail")
    app = Starlette(routes=[route])
    assert app.routes == [route]
    assert app.url_path_for("user_detail", username="tom") == "/users/tom"


def test_applications_mount_and_host_methods(test_client_factory: TestClientFactory) -> None:
    app = Starlette()
    app.mount("/static", mounted_asgi_app, name="static")
    app.host("api.example.org", Router(routes=[Route("/", echo_path, name="api_home")]), name="api")
    client = test_client_factory(app)
    assert client.get("/static/x.css").text == "/static/x.css|/static"
    assert client.get("/", headers={"host": "api.example.org"}).text == "/"
    assert app.url_path_for("static", path="/x.css") == "/static/x.css"


def test_applications_add_route_and_add_websocket_route(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app = Starlette()
    app.add_route("/page", echo_path, methods=["GET", "POST"], name="page")
    app.add_websocket_route("/ws", ws, name="ws")
    client = test_client_factory(app)
    assert client.post("/page").text == "/page"
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hi"
    assert app.url_path_for("ws") == "/ws"


def test_applications_add_middleware_after_startup_raises(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/", echo_path)])
    test_client_factory(app).get("/")
    with pytest.raises(RuntimeError, match="Cannot add middleware after an application has started"):
        app.add_middleware(BaseHTTPMiddleware)


def test_applications_add_exception_handler(test_client_factory: TestClientFactory) -> None:
    async def boom(request: Request) -> Response:
        raise KeyError("x")

    def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"handled {type(exc).__name__}", status_code=409)

    app = Starlette(routes=[Route("/", boom)])
    app.add_exception_handler(KeyError, handler)
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (409, "handled KeyError")


def test_applications_deprecated_decorators_warn_and_work(test_client_factory: TestClientFactory) -> None:
    app = Starlette()
    with pytest.warns(DeprecationWarning):

        @app.route("/decorated")
        async def decorated(request: Request) -> Response:
            return PlainTextResponse("decorated")

    with pytest.warns(DeprecationWarning):

        @app.websocket_route("/ws")
        async def ws(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.close()

    @app.exception_handler(418)
    async def teapot(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("teapot handler", status_code=418)

    with pytest.warns(DeprecationWarning):

        @app.middleware("http")
        async def add_header(request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.headers["x-decorated"] = "1"
            return response

    async def raise_teapot(request: Request) -> Response:
        raise HTTPException(418)

    app.add_route("/teapot", raise_teapot)
    client = test_client_factory(app)
    response = client.get("/decorated")
    assert response.text == "decorated"
    assert response.headers["x-decorated"] == "1"
    assert client.get("/teapot").text == "teapot handler"


# ---------------------------------------------------------------------------------------------------------------
# requests.md
# ---------------------------------------------------------------------------------------------------------------


def test_requests_example_method_and_path(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        content = f"{request.method} {request.url.path}"
        response = Response(content, media_type="text/plain")
        await response(scope, receive, send)

    client = test_client_factory(app)
    assert client.get("/123?a=abc").text == "GET /123"
    assert client.post("/abc").text == "POST /abc"


def test_requests_mapping_interface() -> None:
    scope = make_scope("/some/path")
    request = Request(scope)
    assert request["path"] == "/some/path"
    assert request["type"] == "http"
    assert len(request) == len(scope)
    assert set(request) == set(scope)
    assert dict(request) == dict(scope)


def test_requests_url_components(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        url = request.url
        data = {
            "url": str(url),
            "path": url.path,
            "port": url.port,
            "scheme": url.scheme,
            "query": url.query,
            "hostname": url.hostname,
            "is_secure": url.is_secure,
            "is_str": isinstance(url, URL),
        }
        await JSONResponse(data)(scope, receive, send)

    client = test_client_factory(app, base_url="https://example.org:8443")
    assert client.get("/a/b?x=1").json() == {
        "url": "https://example.org:8443/a/b?x=1",
        "path": "/a/b",
        "port": 8443,
        "scheme": "https",
        "query": "x=1",
        "hostname": "example.org",
        "is_secure": True,
        "is_str": True,
    }


def test_requests_headers_are_case_insensitive_multidict(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        data = {
            "content-type": request.headers["content-type"],
            "Content-Type": request.headers["Content-Type"],
            "x-multi": request.headers.getlist("x-multi"),
        }
        await JSONResponse(data)(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/", headers=[("content-type", "text/csv"), ("x-multi", "1"), ("x-multi", "2")])
    assert response.json() == {"content-type": "text/csv", "Content-Type": "text/csv", "x-multi": ["1", "2"]}


def test_requests_headers_are_immutable() -> None:
    request = Request(make_scope())
    with pytest.raises(TypeError):
        request.headers["x"] = "y"  # type: ignore[index]  # the point: Headers has no __setitem__


def test_requests_query_params(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        params = request.query_params
        data = {"search": params["search"], "all": params.getlist("tag"), "missing": params.get("nope")}
        await JSONResponse(data)(scope, receive, send)

    response = test_client_factory(app).get("/?search=starlette&tag=a&tag=b")
    assert response.json() == {"search": "starlette", "all": ["a", "b"], "missing": None}


def test_requests_client_address(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        assert request.client is not None
        data = {"host": request.client.host, "port": request.client.port, "tuple": list(request.client)}
        await JSONResponse(data)(scope, receive, send)

    assert test_client_factory(app).get("/").json() == {
        "host": "testclient",
        "port": 50000,
        "tuple": ["testclient", 50000],
    }


def test_requests_client_is_none_without_client_in_scope() -> None:
    scope = make_scope()
    del scope["client"]
    assert Request(scope).client is None


def test_requests_cookies(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        data = {"mycookie": request.cookies.get("mycookie"), "other": request.cookies.get("other")}
        await JSONResponse(data)(scope, receive, send)

    response = test_client_factory(app).get("/", headers={"cookie": "mycookie=hello; other=world"})
    assert response.json() == {"mycookie": "hello", "other": "world"}


def test_requests_invalid_cookies_are_ignored_not_fatal(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await JSONResponse(request.cookies)(scope, receive, send)

    response = test_client_factory(app).get("/", headers={"cookie": 'good=1; bad"=]; also=2'})
    assert response.status_code == 200
    cookies = response.json()
    assert cookies["good"] == "1"
    assert cookies["also"] == "2"


def test_requests_body_json_and_stream(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        data = await request.json()
        chunks = [chunk async for chunk in request.stream()]
        await JSONResponse({"body": body.decode(), "json": data, "stream": b"".join(chunks).decode()})(
            scope, receive, send
        )

    response = test_client_factory(app).post("/", content=b'{"a":1}')
    assert response.json() == {"body": '{"a":1}', "json": {"a": 1}, "stream": '{"a":1}'}


def test_requests_stream_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        body = b""
        async for chunk in request.stream():
            body += chunk
        response = Response(body, media_type="text/plain")
        await response(scope, receive, send)

    def chunks() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    response = test_client_factory(app).post("/", content=chunks())
    assert response.text == "abcdef"


def test_requests_body_after_stream_raises(test_client_factory: TestClientFactory) -> None:
    errors: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        async for _ in request.stream():
            pass
        for reader in (request.body, request.json):
            try:
                await reader()
            except RuntimeError as exc:
                errors.append(str(exc))
        await Response(b"")(scope, receive, send)

    test_client_factory(app).post("/", content=b"data")
    assert errors == ["Stream consumed", "Stream consumed"]


@pytest.mark.anyio
async def test_requests_body_without_receive_channel_raises() -> None:
    request = Request(make_scope())
    with pytest.raises(RuntimeError, match="Receive channel has not been made available"):
        await request.body()


def test_requests_is_disconnected_false_during_request(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await request.body()
        disconnected = await request.is_disconnected()
        await JSONResponse({"disconnected": disconnected})(scope, receive, send)

    assert test_client_factory(app).post("/", content=b"x").json() == {"disconnected": False}


@pytest.mark.anyio
async def test_requests_is_disconnected_true_after_disconnect_message() -> None:
    messages: list[Message] = [{"type": "http.disconnect"}]

    async def receive() -> Message:
        return messages.pop(0)

    request = Request(make_scope(), receive)
    assert await request.is_disconnected() is True


def test_requests_form_urlencoded(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        async with request.form() as form:
            data = {"a": form.getlist("a"), "b": form["b"]}
        await JSONResponse(data)(scope, receive, send)

    response = test_client_factory(app).post(
        "/", content=b"a=1&b=2&a=3", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.json() == {"a": ["1", "3"], "b": "2"}


def test_requests_form_upload_file_attributes(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        async with request.form() as form:
            upload = form["upload_file"]
            assert isinstance(upload, UploadFile)
            filename = upload.filename
            contents = await upload.read()
            data = {
                "filename": filename,
                "content_type": upload.content_type,
                "size": upload.size,
                "header": upload.headers["content-type"],
                "contents": contents.decode(),
                "text": form["text"],
            }
        assert upload.file.closed
        await JSONResponse(data)(scope, receive, send)

    path = tmp_path / "example.txt"
    path.write_bytes(b"<file content>")
    client = test_client_factory(app)
    with path.open("rb") as f:
        response = client.post("/", files={"upload_file": ("example.txt", f, "text/plain")}, data={"text": "value"})
    assert response.json() == {
        "filename": "example.txt",
        "content_type": "text/plain",
        "size": 14,
        "header": "text/plain",
        "contents": "<file content>",
        "text": "value",
    }


@pytest.mark.anyio
async def test_requests_upload_file_async_methods() -> None:
    import io

    with io.BytesIO() as spooled:
        headers = Headers({"content-type": "application/octet-stream"})
        upload = UploadFile(spooled, size=0, filename="a.bin", headers=headers)
        await upload.write(b"hello world")
        await upload.seek(0)
        assert await upload.read(5) == b"hello"
        assert await upload.read() == b" world"
        assert upload.size == 11
        assert upload.content_type == "application/octet-stream"
        await upload.close()
        assert spooled.closed


def test_requests_form_max_files_limit(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        async with request.form(max_files=1) as form:
            return PlainTextResponse(str(len(form)))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    client = test_client_factory(app)
    files = {"a": ("a.txt", b"a"), "b": ("b.txt", b"b")}
    response = client.post("/", files=files)
    assert response.status_code == 400
    assert response.text == "Too many files. Maximum number of files is 1."
    assert client.post("/", files={"a": ("a.txt", b"a")}).text == "1"


def test_requests_form_max_fields_limit(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        async with request.form(max_fields=1) as form:
            return PlainTextResponse(str(len(form)))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    response = test_client_factory(app).post("/", data={"a": "1", "b": "2"}, files={"f": ("f.txt", b"f")})
    assert response.status_code == 400
    assert response.text == "Too many fields. Maximum number of fields is 1."


def test_requests_form_max_part_size_limit(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        async with request.form(max_part_size=1024) as form:
            return PlainTextResponse(str(len(form)))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    client = test_client_factory(app)
    response = client.post("/", data={"a": "x" * 2048}, files={"f": ("f.txt", b"f")})
    assert response.status_code == 400
    assert "Part exceeded maximum size" in response.text
    assert client.post("/", data={"a": "x" * 10}, files={"f": ("f.txt", b"f")}).text == "2"


def test_requests_form_part_without_filename_is_a_string(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        async with request.form() as form:
            data = {key: type(value).__name__ for key, value in form.multi_items()}
        await JSONResponse(data)(scope, receive, send)

    body = (
        b"--B\r\n"
        b'Content-Disposition: form-data; name="user"\r\n\r\n'
        b"tom\r\n"
        b"--B\r\n"
        b'Content-Disposition: form-data; name="avatar"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
        b"\x89PNG\r\n"
        b"--B--\r\n"
    )
    response = test_client_factory(app).post(
        "/", content=body, headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert response.json() == {"user": "str", "avatar": "UploadFile"}


def test_requests_form_is_also_awaitable(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        return PlainTextResponse(str(form["a"]))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    assert test_client_factory(app).post("/", data={"a": "b"}).text == "b"


def test_requests_state_and_app(test_client_factory: TestClientFactory) -> None:
    class TimingMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            request.state.time_started = 123.0
            return await call_next(request)

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"started": request.state.time_started, "is_app": request.app is app})

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(TimingMiddleware)])
    assert test_client_factory(app).get("/").json() == {"started": 123.0, "is_app": True}


def test_requests_state_is_per_request(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        had = hasattr(request.state, "seen")
        request.state.seen = True
        return JSONResponse({"had": had})

    client = test_client_factory(Starlette(routes=[Route("/", endpoint)]))
    assert client.get("/").json() == {"had": False}
    assert client.get("/").json() == {"had": False}


# ---------------------------------------------------------------------------------------------------------------
# responses.md
# ---------------------------------------------------------------------------------------------------------------


def test_responses_response_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = Response("Hello, world!", media_type="text/plain")
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.text == "Hello, world!"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "13"


def test_responses_existing_charset_is_kept() -> None:
    response = Response("x", media_type="text/plain; charset=latin-1")
    assert response.headers["content-type"] == "text/plain; charset=latin-1"


def test_responses_non_text_media_type_gets_no_charset() -> None:
    response = Response(b"x", media_type="application/octet-stream")
    assert response.headers["content-type"] == "application/octet-stream"


def test_responses_custom_headers_and_status() -> None:
    response = Response(b"abc", status_code=201, headers={"x-custom": "1"})
    assert response.status_code == 201
    assert response.headers["x-custom"] == "1"
    assert response.headers["content-length"] == "3"
    assert response.body == b"abc"


def test_responses_empty_content() -> None:
    response = Response()
    assert response.body == b""
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers


@pytest.mark.parametrize("status_code", [204, 304, 101, 199])
def test_responses_no_content_length_for_bodiless_statuses(status_code: int) -> None:
    response = Response(status_code=status_code)
    assert "content-length" not in response.headers


def test_responses_html_and_plaintext_examples(test_client_factory: TestClientFactory) -> None:
    async def html_app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = HTMLResponse("<html><body><h1>Hello, world!</h1></body></html>")
        await response(scope, receive, send)

    async def text_app(scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(b"Hello, world!")
        await response(scope, receive, send)

    html = test_client_factory(html_app).get("/")
    assert html.text == "<html><body><h1>Hello, world!</h1></body></html>"
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    text = test_client_factory(text_app).get("/")
    assert text.text == "Hello, world!"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"


def test_responses_json_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = JSONResponse({"hello": "world"})
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.content == b'{"hello":"world"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == "17"


def test_responses_json_rendering_rules() -> None:
    assert JSONResponse({"name": "café", "n": [1, 2]}).body == '{"name":"café","n":[1,2]}'.encode()
    assert JSONResponse(None).body == b"null"
    with pytest.raises(ValueError):
        JSONResponse({"x": float("nan")})


def test_responses_json_custom_render_subclass(test_client_factory: TestClientFactory) -> None:
    class SortedJSONResponse(JSONResponse):
        def render(self, content: Any) -> bytes:
            return json.dumps(content, sort_keys=True, indent=1).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await SortedJSONResponse({"b": 1, "a": 2})(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.text == '{\n "a": 2,\n "b": 1\n}'
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["content-type"] == "application/json"


def test_responses_redirect_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        if scope["path"] != "/":
            response: Response = RedirectResponse(url="/")
        else:
            response = PlainTextResponse("Hello, world!")
        await response(scope, receive, send)

    client = test_client_factory(app)
    assert client.get("/redirect").text == "Hello, world!"
    response = client.get("/redirect", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/"
    assert response.content == b""


def test_responses_redirect_status_and_quoting() -> None:
    response = RedirectResponse("/a b/ü?x=1#frag", status_code=301)
    assert response.status_code == 301
    assert response.headers["location"] == "/a%20b/%C3%BC?x=1#frag"
    assert RedirectResponse(URL("https://example.org/x")).headers["location"] == "https://example.org/x"


def test_responses_streaming_example(test_client_factory: TestClientFactory) -> None:
    async def slow_numbers(minimum: int, maximum: int) -> AsyncIterator[str]:
        yield "<html><body><ul>"
        for number in range(minimum, maximum + 1):
            yield f"<li>{number}</li>"
            await anyio.sleep(0)
        yield "</ul></body></html>"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        generator = slow_numbers(1, 10)
        response = StreamingResponse(generator, media_type="text/html")
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    items = "".join(f"<li>{n}</li>" for n in range(1, 11))
    assert response.text == f"<html><body><ul>{items}</ul></body></html>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "content-length" not in response.headers


def test_responses_streaming_sync_iterator_runs_in_thread(test_client_factory: TestClientFactory) -> None:
    threads: list[int] = []

    def numbers() -> Iterator[bytes]:
        for n in range(3):
            threads.append(threading.get_ident())
            yield str(n).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        threads.append(threading.get_ident())
        await StreamingResponse(numbers(), media_type="text/plain")(scope, receive, send)

    assert test_client_factory(app).get("/").text == "012"
    loop_thread, *worker_threads = threads
    assert all(ident != loop_thread for ident in worker_threads)


def test_responses_streaming_a_file_object(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"line 1\nline 2\n")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with path.open("rb") as f:
            await StreamingResponse(f, media_type="text/plain")(scope, receive, send)

    assert test_client_factory(app).get("/").content == b"line 1\nline 2\n"


def test_responses_streaming_custom_status_headers_and_background(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    async def gen() -> AsyncIterator[bytes]:
        yield b"a"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = StreamingResponse(
            gen(), status_code=202, headers={"x-stream": "yes"}, background=BackgroundTask(ran.append, "done")
        )
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert (response.status_code, response.headers["x-stream"], response.content) == (202, "yes", b"a")
    assert ran == ["done"]


@pytest.fixture
def hundred_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "example.txt"
    path.write_bytes(b"0123456789" * 10)
    return path


def file_app(path: Path, **kwargs: Any) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await FileResponse(path, **kwargs)(scope, receive, send)

    return app


def test_responses_file_response_headers(test_client_factory: TestClientFactory, hundred_bytes: Path) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/")
    assert response.status_code == 200
    assert response.content == b"0123456789" * 10
    assert response.headers["content-length"] == "100"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["accept-ranges"] == "bytes"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    modified = email.utils.parsedate_to_datetime(response.headers["last-modified"])
    assert int(modified.timestamp()) == int(hundred_bytes.stat().st_mtime)
    assert "content-disposition" not in response.headers


def test_responses_file_response_filename_and_disposition(
    test_client_factory: TestClientFactory, hundred_bytes: Path
) -> None:
    attachment = test_client_factory(file_app(hundred_bytes, filename="report.txt")).get("/")
    assert attachment.headers["content-disposition"] == 'attachment; filename="report.txt"'
    inline = test_client_factory(file_app(hundred_bytes, filename="r.txt", content_disposition_type="inline")).get("/")
    assert inline.headers["content-disposition"] == 'inline; filename="r.txt"'
    unicode = test_client_factory(file_app(hundred_bytes, filename="résumé.txt")).get("/")
    assert unicode.headers["content-disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("x.json", "application/json"),
        ("x.html", "text/html; charset=utf-8"),
        ("x.png", "image/png"),
        ("x.unknownext", "text/plain; charset=utf-8"),
    ],
)
def test_responses_file_response_media_type_guessed(
    test_client_factory: TestClientFactory, tmp_path: Path, name: str, media_type: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"{}")
    assert test_client_factory(file_app(path)).get("/").headers["content-type"] == media_type


def test_responses_file_response_explicit_media_type_and_custom_headers(
    test_client_factory: TestClientFactory, hundred_bytes: Path
) -> None:
    app = file_app(hundred_bytes, media_type="application/x-custom", headers={"x-file": "1"})
    response = test_client_factory(app).get("/")
    assert response.headers["content-type"] == "application/x-custom"
    assert response.headers["x-file"] == "1"


def test_responses_file_response_head(test_client_factory: TestClientFactory, hundred_bytes: Path) -> None:
    response = test_client_factory(file_app(hundred_bytes)).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "100"


def test_responses_file_response_missing_file(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    client = test_client_factory(file_app(tmp_path / "missing.txt"))
    with pytest.raises(RuntimeError, match="does not exist"):
        client.get("/")


def test_responses_file_response_directory_is_not_a_file(
    test_client_factory: TestClientFactory, tmp_path: Path
) -> None:
    client = test_client_factory(file_app(tmp_path))
    with pytest.raises(RuntimeError, match="is not a file"):
        client.get("/")


@pytest.mark.parametrize(
    ("range_header", "content_range", "body"),
    [
        ("bytes=0-4", "bytes 0-4/100", b"01234"),
        ("bytes=10-19", "bytes 10-19/100", b"0123456789"),
        ("bytes=95-", "bytes 95-99/100", b"56789"),
        ("bytes=-3", "bytes 97-99/100", b"789"),
        ("bytes=98-500", "bytes 98-99/100", b"89"),
    ],
)
def test_responses_file_response_single_range(
    test_client_factory: TestClientFactory, hundred_bytes: Path, range_header: str, content_range: str, body: bytes
) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": range_header})
    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))
    assert response.content == body


def test_responses_file_response_unsatisfiable_range(
    test_client_factory: TestClientFactory, hundred_bytes: Path
) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": "bytes=200-300"})
    assert response.status_code == 416
    assert response.headers["content-range"].endswith("*/100")


@pytest.mark.parametrize("range_header", ["bytes=abc", "items=0-5", "bytes=", "bytes=5-2"])
def test_responses_file_response_malformed_range(
    test_client_factory: TestClientFactory, hundred_bytes: Path, range_header: str
) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": range_header})
    assert response.status_code in (400, 416)
    assert response.content != b"0123456789" * 10


def test_responses_file_response_multiple_ranges(test_client_factory: TestClientFactory, hundred_bytes: Path) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": "bytes=0-4, 20-24"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    match = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]+)", content_type)
    assert match is not None
    boundary = match.group(1)
    assert response.headers["content-length"] == str(len(response.content))
    text = response.content.decode()
    assert text.count(f"--{boundary}") == 3
    assert text.rstrip().endswith(f"--{boundary}--")
    parts = re.findall(
        rf"--{boundary}\r?\nContent-Type: text/plain; charset=utf-8\r?\n"
        rf"Content-Range: bytes (\d+-\d+)/100\r?\n\r?\n(.*?)\r?\n",
        text,
    )
    assert parts == [("0-4", "01234"), ("20-24", "01234")]


def test_responses_file_response_overlapping_ranges_are_merged(
    test_client_factory: TestClientFactory, hundred_bytes: Path
) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": "bytes=0-4, 3-9"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-9/100"
    assert response.content == b"0123456789"


def test_responses_file_response_if_range(test_client_factory: TestClientFactory, hundred_bytes: Path) -> None:
    client = test_client_factory(file_app(hundred_bytes))
    etag = client.get("/").headers["etag"]
    last_modified = client.get("/").headers["last-modified"]
    matching = client.get("/", headers={"range": "bytes=0-1", "if-range": etag})
    assert (matching.status_code, matching.content) == (206, b"01")
    by_date = client.get("/", headers={"range": "bytes=0-1", "if-range": last_modified})
    assert (by_date.status_code, by_date.content) == (206, b"01")
    stale = client.get("/", headers={"range": "bytes=0-1", "if-range": '"other"'})
    assert stale.status_code == 200
    assert stale.content == b"0123456789" * 10


def test_responses_set_cookie_defaults(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = Response("Hello, world!", media_type="text/plain")
        response.set_cookie("mycookie", "myvalue")
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.headers["set-cookie"] == "mycookie=myvalue; Path=/; SameSite=lax"
    assert response.cookies["mycookie"] == "myvalue"


def test_responses_set_cookie_all_attributes() -> None:
    response = Response()
    expires = dt.datetime(2037, 1, 22, 12, 0, 10, tzinfo=dt.timezone.utc)
    response.set_cookie(
        "mycookie",
        "myvalue",
        max_age=10,
        expires=expires,
        path="/",
        domain="localhost",
        secure=True,
        httponly=True,
        samesite="none",
    )
    assert response.headers["set-cookie"] == (
        "mycookie=myvalue; Domain=localhost; expires=Thu, 22 Jan 2037 12:00:10 GMT; HttpOnly; Max-Age=10; "
        "Path=/; SameSite=none; Secure"
    )


def test_responses_set_cookie_expires_in_seconds() -> None:
    response = Response()
    response.set_cookie("c", "v", expires=10)
    header = response.headers["set-cookie"]
    match = re.search(r"expires=([^;]+)", header)
    assert match is not None
    expires = email.utils.parsedate_to_datetime(match.group(1))
    delta = expires.timestamp() - time.time()
    assert 5 < delta <= 11


def test_responses_set_cookie_multiple_cookies_give_multiple_headers() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", samesite=None, path=None)
    assert response.headers.getlist("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2"]


def test_responses_set_cookie_invalid_samesite() -> None:
    with pytest.raises(AssertionError, match="samesite must be either"):
        Response().set_cookie("a", "1", samesite="invalid")  # type: ignore[arg-type]  # the point: a bad value


def test_responses_delete_cookie(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = Response("Hello, world!", media_type="text/plain")
        if request.cookies.get("mycookie"):
            response.delete_cookie("mycookie")
        else:
            response.set_cookie("mycookie", "myvalue")
        await response(scope, receive, send)

    client = test_client_factory(app)
    first = client.get("/")
    assert first.cookies["mycookie"] == "myvalue"
    second = client.get("/")
    header = second.headers["set-cookie"]
    assert header.startswith('mycookie=""; expires=')
    assert "Max-Age=0" in header
    assert "Path=/" in header
    assert not second.cookies.get("mycookie")
    assert "mycookie" not in client.cookies


# ---------------------------------------------------------------------------------------------------------------
# routing.md
# ---------------------------------------------------------------------------------------------------------------


def test_routing_basic_table(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Homepage")

    async def about(request: Request) -> PlainTextResponse:
        return PlainTextResponse("About")

    routes = [Route("/", endpoint=homepage), Route("/about", endpoint=about)]
    client = test_client_factory(Starlette(routes=routes))
    assert client.get("/").text == "Homepage"
    assert client.get("/about").text == "About"
    response = client.get("/missing")
    assert (response.status_code, response.text) == (404, "Not Found")


def test_routing_sync_function_endpoint(test_client_factory: TestClientFactory) -> None:
    def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"sync {request.method}")

    assert test_client_factory(Starlette(routes=[Route("/", homepage)])).get("/").text == "sync GET"


def test_routing_asgi_class_endpoint(test_client_factory: TestClientFactory) -> None:
    class Homepage(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse("endpoint")

    class RawApp:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await PlainTextResponse("raw asgi instance")(scope, receive, send)

    app = Starlette(routes=[Route("/", Homepage), Route("/raw", RawApp())])
    client = test_client_factory(app)
    assert client.get("/").text == "endpoint"
    assert client.get("/raw").text == "raw asgi instance"


def test_routing_partial_endpoint(test_client_factory: TestClientFactory) -> None:
    async def greet(request: Request, greeting: str) -> PlainTextResponse:
        return PlainTextResponse(greeting)

    app = Starlette(routes=[Route("/", functools.partial(greet, greeting="hi"))])
    assert test_client_factory(app).get("/").text == "hi"


def test_routing_path_parameter_default_str(test_client_factory: TestClientFactory) -> None:
    async def user(request: Request) -> JSONResponse:
        return JSONResponse(request.path_params)

    client = test_client_factory(Starlette(routes=[Route("/users/{username}", user)]))
    assert client.get("/users/tom").json() == {"username": "tom"}
    assert client.get("/users/tom/extra").status_code == 404


def convertor_app() -> Starlette:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse({key: [type(value).__name__, str(value)] for key, value in request.path_params.items()})

    return Starlette(
        routes=[
            Route("/users/{user_id:int}", show),
            Route("/floating-point/{number:float}", show),
            Route("/uploaded/{rest_of_path:path}", show),
            Route("/uuid/{ident:uuid}", show),
            Route("/str/{value:str}", show),
        ]
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/42", {"user_id": ["int", "42"]}),
        ("/floating-point/3.25", {"number": ["float", "3.25"]}),
        ("/floating-point/3", {"number": ["float", "3.0"]}),
        ("/uploaded/a/b/c.txt", {"rest_of_path": ["str", "a/b/c.txt"]}),
        ("/uploaded/", {"rest_of_path": ["str", ""]}),
        (
            "/uuid/ec38df32-ceda-4cfa-9b4a-1aeb94ad551a",
            {"ident": ["UUID", "ec38df32-ceda-4cfa-9b4a-1aeb94ad551a"]},
        ),
        ("/str/x", {"value": ["str", "x"]}),
    ],
)
def test_routing_convertors(test_client_factory: TestClientFactory, path: str, expected: dict[str, Any]) -> None:
    response = test_client_factory(convertor_app()).get(path)
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize("path", ["/users/abc", "/users/-1", "/floating-point/x", "/uuid/not-a-uuid", "/users/"])
def test_routing_convertor_mismatch_is_404(test_client_factory: TestClientFactory, path: str) -> None:
    assert test_client_factory(convertor_app()).get(path).status_code == 404


def test_routing_convertors_in_reverse_lookup() -> None:
    app = convertor_app()
    app.router.routes.append(Route("/u/{user_id:int}/{number:float}/{ident:uuid}", echo_path, name="typed"))
    ident = uuid.UUID("ec38df32-ceda-4cfa-9b4a-1aeb94ad551a")
    path = app.url_path_for("typed", user_id=7, number=2.5, ident=ident)
    assert path == "/u/7/2.5/ec38df32-ceda-4cfa-9b4a-1aeb94ad551a"
    assert app.url_path_for("typed", user_id=7, number=2.0, ident=ident) == (
        "/u/7/2/ec38df32-ceda-4cfa-9b4a-1aeb94ad551a"
    )
    with pytest.raises(AssertionError, match="Negative integers are not supported"):
        app.url_path_for("typed", user_id=-1, number=2.0, ident=ident)


class DateTimeConvertor(Convertor[dt.datetime]):
    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(.[0-9]+)?"

    def convert(self, value: str) -> dt.datetime:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")

    def to_string(self, value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def restore_convertors() -> Iterator[None]:
    """`register_url_convertor` changes a process-wide table: put it back after the test."""
    from starlette.convertors import CONVERTOR_TYPES

    saved = dict(CONVERTOR_TYPES)
    yield
    CONVERTOR_TYPES.clear()
    CONVERTOR_TYPES.update(saved)


@pytest.mark.usefixtures("restore_convertors")
def test_routing_custom_datetime_convertor(test_client_factory: TestClientFactory) -> None:
    register_url_convertor("datetime", DateTimeConvertor())

    async def history(request: Request) -> JSONResponse:
        date = request.path_params["date"]
        assert isinstance(date, dt.datetime)
        return JSONResponse({"year": date.year, "minute": date.minute})

    app = Starlette(routes=[Route("/history/{date:datetime}", history, name="history")])
    client = test_client_factory(app)
    assert client.get("/history/2024-05-17T10:30:00").json() == {"year": 2024, "minute": 30}
    assert client.get("/history/yesterday").status_code == 404
    assert app.url_path_for("history", date=dt.datetime(2020, 1, 2, 3, 4, 5)) == "/history/2020-01-02T03:04:05"


def test_routing_unknown_convertor_is_an_error() -> None:
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        Route("/x/{value:nope}", echo_path)


def test_routing_methods(test_client_factory: TestClientFactory) -> None:
    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.method)

    app = Starlette(routes=[Route("/users/{user_id:int}", user, methods=["GET", "POST"]), Route("/get", user)])
    client = test_client_factory(app)
    assert client.get("/users/1").text == "GET"
    assert client.post("/users/1").text == "POST"
    response = client.put("/users/1")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    not_allowed = client.post("/get")
    assert not_allowed.status_code == 405
    assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_routing_methods_are_normalised_to_upper_case(test_client_factory: TestClientFactory) -> None:
    route = Route("/", echo_path, methods=["get", "post"])
    assert route.methods == {"GET", "HEAD", "POST"}
    assert test_client_factory(Starlette(routes=[route])).post("/").status_code == 200


def test_routing_head_on_get_route(test_client_factory: TestClientFactory) -> None:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"method={request.method}")

    client = test_client_factory(Starlette(routes=[Route("/", page)]))
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len("method=HEAD"))


def test_routing_submount(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    async def users(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"users {request.method}")

    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"user {request.path_params['username']} at {request.url.path}")

    routes = [
        Route("/", homepage),
        Mount("/users", routes=[Route("/", users, methods=["GET", "POST"]), Route("/{username}", user)]),
    ]
    client = test_client_factory(Starlette(routes=routes))
    assert client.get("/").text == "home"
    assert client.get("/users/").text == "users GET"
    assert client.post("/users/").text == "users POST"
    assert client.get("/users/tom").text == "user tom at /users/tom"
    redirect = client.get("/users", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/users/"
    assert client.get("/users").text == "users GET"


def test_routing_mount_scope_keeps_full_path_and_sets_root_path(test_client_factory: TestClientFactory) -> None:
    async def inspect(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.scope["path"], "root_path": request.scope["root_path"]})

    app = Starlette(routes=[Mount("/api", routes=[Mount("/v1", routes=[Route("/items", inspect)])])])
    assert test_client_factory(app).get("/api/v1/items").json() == {"path": "/api/v1/items", "root_path": "/api/v1"}


def test_routing_mount_with_path_parameter(test_client_factory: TestClientFactory) -> None:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse(request.path_params)

    app = Starlette(routes=[Mount("/orgs/{org}", routes=[Route("/repos/{repo}", show, name="repo")], name="orgs")])
    assert test_client_factory(app).get("/orgs/acme/repos/web").json() == {"org": "acme", "repo": "web"}
    assert app.url_path_for("orgs:repo", org="acme", repo="web") == "/orgs/acme/repos/web"


def test_routing_mount_sub_application(test_client_factory: TestClientFactory) -> None:
    async def api_home(request: Request) -> JSONResponse:
        # scope["router"] is the outermost router: names are looked up from the top, prefixes included.
        return JSONResponse({"url": str(request.url), "home": str(request.url_for("api:api_home"))})

    api = Starlette(routes=[Route("/home", api_home, name="api_home")])
    app = Starlette(routes=[Mount("/api", app=api, name="api"), Mount("/static", app=mounted_asgi_app, name="static")])
    client = test_client_factory(app)
    assert client.get("/api/home").json() == {
        "url": "http://testserver/api/home",
        "home": "http://testserver/api/home",
    }
    assert client.get("/static/css/base.css").text == "/static/css/base.css|/static"
    assert client.get("/api/nowhere").status_code == 404


def test_routing_mount_requires_app_or_routes() -> None:
    with pytest.raises(AssertionError):
        Mount("/x")
    with pytest.raises(AssertionError, match="must start with '/'"):
        Mount("x", routes=[])
    with pytest.raises(AssertionError, match="must start with '/'"):
        Route("x", echo_path)


def test_routing_reverse_lookups(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "home": str(request.url_for("homepage")),
                "user": str(request.url_for("user_detail", username="tom")),
                "list": str(request.url_for("users:user_list")),
                "detail": str(request.url_for("users:user_detail", username="ann")),
                "static": str(request.url_for("static", path="/css/base.css")),
                "type": type(request.url_for("homepage")).__name__,
            }
        )

    routes = [
        Route("/", homepage, name="homepage"),
        Route("/users/{username}", echo_path, name="user_detail"),
        Mount(
            "/users",
            name="users",
            routes=[Route("/", echo_path, name="user_list"), Route("/{username}", echo_path, name="user_detail")],
        ),
        Mount("/static", app=mounted_asgi_app, name="static"),
    ]
    assert test_client_factory(Starlette(routes=routes)).get("/").json() == {
        "home": "http://testserver/",
        "user": "http://testserver/users/tom",
        "list": "http://testserver/users/",
        "detail": "http://testserver/users/ann",
        "static": "http://testserver/static/css/base.css",
        "type": "URL",
    }


def test_routing_url_path_for_on_app() -> None:
    app = Starlette(
        routes=[Mount("/users", name="users", routes=[Route("/{username}", echo_path, name="user_detail")])]
    )
    url = app.url_path_for("users:user_detail", username="tom")
    assert url == "/users/tom"
    assert isinstance(url, str)


def test_routing_no_match_found() -> None:
    app = Starlette(routes=[Route("/users/{username}", echo_path, name="user_detail")])
    with pytest.raises(NoMatchFound, match='No route exists for name "user_detail" and params "".'):
        app.url_path_for("user_detail")
    with pytest.raises(NoMatchFound, match='No route exists for name "nope" and params "a, b".'):
        app.url_path_for("nope", a=1, b=2)
    with pytest.raises(NoMatchFound):
        app.url_path_for("user_detail", username="tom", extra="x")


def test_routing_url_for_respects_root_path(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("other", name="x")))

    app = Starlette(routes=[Route("/", homepage), Route("/other/{name}", echo_path, name="other")])
    client = test_client_factory(app, root_path="/prefix")
    assert client.get("/").text == "http://testserver/prefix/other/x"


def test_routing_url_for_in_mounted_sub_app_includes_mount_prefix(test_client_factory: TestClientFactory) -> None:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("page")))

    inner = Starlette(routes=[Route("/page", page, name="page")])
    app = Starlette(routes=[Mount("/outer", app=inner)])
    assert test_client_factory(app).get("/outer/page").text == "http://testserver/outer/page"


def test_routing_host_based(test_client_factory: TestClientFactory) -> None:
    async def where(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.url.hostname or "")

    site = Router(routes=[Route("/", where)])
    api = Router(routes=[Route("/", where)])
    news = Router(routes=[Route("/", where)])

    app = Starlette(routes=[Host("api.example.org", api, name="site_api")])
    app.host("www.example.org", site, name="main_site")
    news_host = Host("news.example.org", news)
    app.router.routes.append(news_host)

    client = test_client_factory(app)
    assert client.get("/", headers={"host": "api.example.org"}).text == "api.example.org"
    assert client.get("/", headers={"host": "www.example.org"}).text == "www.example.org"
    assert client.get("/", headers={"host": "news.example.org"}).text == "news.example.org"
    assert client.get("/", headers={"host": "other.example.org"}).status_code == 404


def test_routing_host_port_is_ignored_when_matching(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("h:home")))

    app = Starlette(routes=[Host("example.org:3600", Router(routes=[Route("/", homepage, name="home")]), name="h")])
    client = test_client_factory(app)
    assert client.get("/", headers={"host": "example.org:5600"}).text == "http://example.org:3600/"
    assert client.get("/", headers={"host": "example.org"}).text == "http://example.org:3600/"


def test_routing_host_parameters_in_url_for(test_client_factory: TestClientFactory) -> None:
    async def user(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "params": request.path_params,
                "detail": str(request.url_for("sub:users:user_detail", username="tom", subdomain="foo")),
                "list": str(request.url_for("sub:users:user_list", subdomain="bar")),
            }
        )

    routes = [
        Host(
            "{subdomain}.example.org",
            name="sub",
            app=Router(
                routes=[
                    Mount(
                        "/users",
                        name="users",
                        routes=[Route("/", user, name="user_list"), Route("/{username}", user, name="user_detail")],
                    )
                ]
            ),
        )
    ]
    app = Starlette(routes=routes)
    response = test_client_factory(app).get("/users/ann", headers={"host": "acme.example.org"})
    assert response.json() == {
        "params": {"subdomain": "acme", "username": "ann"},
        "detail": "http://foo.example.org/users/tom",
        "list": "http://bar.example.org/users/",
    }
    assert app.url_path_for("sub:users:user_list", subdomain="x") == "/users/"


def test_routing_priority(test_client_factory: TestClientFactory) -> None:
    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"user {request.path_params['username']}")

    async def current_user(request: Request) -> PlainTextResponse:
        return PlainTextResponse("current user")

    wrong = Starlette(routes=[Route("/users/{username}", user), Route("/users/me", current_user)])
    right = Starlette(routes=[Route("/users/me", current_user), Route("/users/{username}", user)])
    assert test_client_factory(wrong).get("/users/me").text == "user me"
    assert test_client_factory(right).get("/users/me").text == "current user"
    assert test_client_factory(right).get("/users/ann").text == "user ann"


def test_routing_plain_router(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    async def users(request: Request) -> PlainTextResponse:
        return PlainTextResponse("users")

    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["username"])

    app = Router(
        routes=[
            Route("/", homepage),
            Mount("/users", routes=[Route("/", users, methods=["GET", "POST"]), Route("/{username}", user)]),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/").text == "home"
    assert client.post("/users/").text == "users"
    assert client.get("/users/tom").text == "tom"
    not_found = client.get("/nope")
    assert (not_found.status_code, not_found.text) == (404, "Not Found")
    not_allowed = client.delete("/")
    assert (not_allowed.status_code, not_allowed.text) == (405, "Method Not Allowed")


def test_routing_router_default_app(test_client_factory: TestClientFactory) -> None:
    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("fallback", status_code=404)(scope, receive, send)

    client = test_client_factory(Router(routes=[], default=fallback))
    assert client.get("/anything").text == "fallback"


def test_routing_redirect_slashes(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/about", echo_path), Route("/dir/", echo_path)])
    client = test_client_factory(app)
    removed = client.get("/about/?a=1", follow_redirects=False)
    assert removed.status_code == 307
    assert removed.headers["location"] == "http://testserver/about?a=1"
    added = client.get("/dir", follow_redirects=False)
    assert added.status_code == 307
    assert added.headers["location"] == "http://testserver/dir/"
    assert client.get("/about/").text == "/about"


def test_routing_redirect_slashes_disabled(test_client_factory: TestClientFactory) -> None:
    router = Router(routes=[Route("/about", echo_path)], redirect_slashes=False)
    assert test_client_factory(router).get("/about/", follow_redirects=False).status_code == 404


def test_routing_websocket_routes(test_client_factory: TestClientFactory) -> None:
    async def websocket_index(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("Hello, websocket!")
        await websocket.close()

    async def websocket_user(websocket: WebSocket) -> None:
        name = websocket.path_params["name"]
        await websocket.accept()
        await websocket.send_text(f"Hello, {name}")
        await websocket.close()

    routes = [
        WebSocketRoute("/", endpoint=websocket_index),
        WebSocketRoute("/{name}", endpoint=websocket_user, name="u"),
    ]
    app = Starlette(routes=routes)
    client = test_client_factory(app)
    with client.websocket_connect("/") as session:
        assert session.receive_text() == "Hello, websocket!"
    with client.websocket_connect("/tom") as session:
        assert session.receive_text() == "Hello, tom"
    assert app.url_path_for("u", name="x") == "/x"


def test_routing_websocket_not_found_closes(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[]))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/missing"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.code == 1000


def test_routing_http_request_to_websocket_route_is_404(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - never reached over HTTP
        await websocket.accept()

    assert test_client_factory(Starlette(routes=[WebSocketRoute("/ws", ws)])).get("/ws").status_code == 404


def test_routing_route_name_defaults_to_endpoint_name() -> None:
    class Page(HTTPEndpoint):
        pass

    assert Route("/", echo_path).name == "echo_path"
    assert Route("/", Page).name == "Page"
    assert Route("/", echo_path, name="custom").name == "custom"


def test_routing_route_middleware(test_client_factory: TestClientFactory) -> None:
    class AddHeader:
        def __init__(self, app: ASGIApp, value: str = "route") -> None:
            self.app = app
            self.value = value

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    MutableHeaders(scope=message).append("x-mw", self.value)
                await send(message)

            await self.app(scope, receive, send_wrapper)

    app = Starlette(
        routes=[
            Route("/with", echo_path, middleware=[Middleware(AddHeader)]),
            Route("/without", echo_path),
            Mount("/mount", routes=[Route("/x", echo_path)], middleware=[Middleware(AddHeader, value="mount")]),
        ]
    )
    router = Router(routes=[Route("/r", echo_path)], middleware=[Middleware(AddHeader, value="router")])
    client = test_client_factory(app)
    assert client.get("/with").headers["x-mw"] == "route"
    assert "x-mw" not in client.get("/without").headers
    assert client.get("/mount/x").headers["x-mw"] == "mount"
    assert test_client_factory(router).get("/r").headers["x-mw"] == "router"


# ---------------------------------------------------------------------------------------------------------------
# endpoints.md
# ---------------------------------------------------------------------------------------------------------------


def test_endpoints_http_endpoint_as_asgi_app(test_client_factory: TestClientFactory) -> None:
    class App(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse("Hello, world!")

    client = test_client_factory(App)
    assert client.get("/").text == "Hello, world!"
    response = client.post("/")
    assert (response.status_code, response.text) == (405, "Method Not Allowed")
    assert "GET" in response.headers["allow"].split(", ")
    assert "POST" not in response.headers["allow"]


def test_endpoints_http_endpoint_in_routes(test_client_factory: TestClientFactory) -> None:
    class Homepage(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse("Hello, world!")

    class User(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            username = request.path_params["username"]
            return PlainTextResponse(f"Hello, {username}")

        def put(self, request: Request) -> Response:
            return PlainTextResponse(f"sync put {request.path_params['username']}")

    client = test_client_factory(Starlette(routes=[Route("/", Homepage), Route("/{username}", User)]))
    assert client.get("/").text == "Hello, world!"
    assert client.get("/tom").text == "Hello, tom"
    assert client.put("/tom").text == "sync put tom"
    response = client.delete("/tom")
    assert (response.status_code, response.text) == (405, "Method Not Allowed")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "PUT"}


def test_endpoints_http_endpoint_head_falls_back_to_get(test_client_factory: TestClientFactory) -> None:
    class Page(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse(f"{request.method} body")

    response = test_client_factory(Starlette(routes=[Route("/", Page)])).head("/")
    assert response.status_code == 200
    assert response.content == b""


def test_endpoints_websocket_endpoint_bytes(test_client_factory: TestClientFactory) -> None:
    closes: list[int] = []

    class App(WebSocketEndpoint):
        encoding = "bytes"

        async def on_connect(self, websocket: WebSocket) -> None:
            await websocket.accept()

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_bytes(b"Message: " + data)

        async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
            closes.append(close_code)

    with test_client_factory(App).websocket_connect("/") as session:
        session.send_bytes(b"Hello, world!")
        assert session.receive_bytes() == b"Message: Hello, world!"
        session.close(code=1001)
    assert closes == [1001]


def test_endpoints_websocket_endpoint_chat_example(test_client_factory: TestClientFactory) -> None:
    class Homepage(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return HTMLResponse("<h1>WebSocket Chat</h1>")

    class Echo(WebSocketEndpoint):
        encoding = "text"

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_text(f"Message text was: {data}")

    app = Starlette(routes=[Route("/", Homepage), WebSocketRoute("/ws", Echo)])
    client = test_client_factory(app)
    assert "WebSocket Chat" in client.get("/").text
    with client.websocket_connect("/ws") as session:
        session.send_text("hello")
        assert session.receive_text() == "Message text was: hello"
        session.send_text("again")
        assert session.receive_text() == "Message text was: again"


def test_endpoints_websocket_endpoint_json(test_client_factory: TestClientFactory) -> None:
    class App(WebSocketEndpoint):
        encoding = "json"

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_json({"echo": data})

    with test_client_factory(App).websocket_connect("/") as session:
        session.send_json({"hello": "world"})
        assert session.receive_json() == {"echo": {"hello": "world"}}
        session.send_json([1, 2], mode="binary")
        assert session.receive_json() == {"echo": [1, 2]}


def test_endpoints_websocket_endpoint_wrong_encoding_closes_1003(test_client_factory: TestClientFactory) -> None:
    class App(WebSocketEndpoint):
        encoding = "text"

    with pytest.raises(RuntimeError, match="Expected text websocket messages, but got bytes"):
        with test_client_factory(App).websocket_connect("/") as session:
            session.send_bytes(b"x")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_text()
            assert info.value.code == 1003


def test_endpoints_websocket_endpoint_scope_and_kwargs(test_client_factory: TestClientFactory) -> None:
    class App(WebSocketEndpoint):
        async def on_connect(self, websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text(f"{self.scope['path']} {websocket.path_params['room']}")

    app = Starlette(routes=[WebSocketRoute("/rooms/{room}", App)])
    with test_client_factory(app).websocket_connect("/rooms/lobby") as session:
        assert session.receive_text() == "/rooms/lobby lobby"


# ---------------------------------------------------------------------------------------------------------------
# exceptions.md
# ---------------------------------------------------------------------------------------------------------------

HTML_404_PAGE = "<h1>custom not found</h1>"
HTML_500_PAGE = "<h1>custom server error</h1>"


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return HTMLResponse(content=HTML_404_PAGE, status_code=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    return HTMLResponse(content=HTML_500_PAGE, status_code=500)


async def crash(request: Request) -> Response:
    raise RuntimeError("boom")


def test_exceptions_custom_404_and_500_handlers(test_client_factory: TestClientFactory) -> None:
    async def missing(request: Request) -> Response:
        raise HTTPException(status_code=404)

    exception_handlers = {404: not_found, 500: server_error}
    app = Starlette(routes=[Route("/crash", crash), Route("/missing", missing)], exception_handlers=exception_handlers)
    client = test_client_factory(app, raise_server_exceptions=False)
    for path in ("/nowhere", "/missing"):
        response = client.get(path)
        assert (response.status_code, response.text) == (404, HTML_404_PAGE)
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    response = client.get("/crash")
    assert (response.status_code, response.text) == (500, HTML_500_PAGE)


def test_exceptions_500_handler_response_sent_and_exception_reraised(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/crash", crash)], exception_handlers={500: server_error})
    with pytest.raises(RuntimeError, match="boom"):
        test_client_factory(app).get("/crash")


def test_exceptions_default_500_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/crash", crash)]), raise_server_exceptions=False)
    response = client.get("/crash")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_exceptions_debug_traceback_instead_of_500_handler(test_client_factory: TestClientFactory) -> None:
    app = Starlette(debug=True, routes=[Route("/crash", crash)], exception_handlers={500: server_error})
    client = test_client_factory(app, raise_server_exceptions=False)
    plain = client.get("/crash")
    assert plain.status_code == 500
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert "RuntimeError" in plain.text
    assert "boom" in plain.text
    assert HTML_500_PAGE not in plain.text
    html = client.get("/crash", headers={"accept": "text/html"})
    assert html.status_code == 500
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "RuntimeError" in html.text
    assert "boom" in html.text


def test_exceptions_http_exception_json_handler_with_headers(test_client_factory: TestClientFactory) -> None:
    async def http_exception(
        request: Request, exc: Exception
    ) -> JSONResponse:  # 0.47.1: precise return types type-check
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def protected(request: Request) -> Response:
        raise HTTPException(401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    app = Starlette(routes=[Route("/", protected)], exception_handlers={HTTPException: http_exception})
    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"
    missing = client.get("/missing")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    not_allowed = client.post("/")
    assert (not_allowed.status_code, not_allowed.json()) == (405, {"detail": "Method Not Allowed"})


def test_exceptions_default_http_exception_response(test_client_factory: TestClientFactory) -> None:
    async def teapot(request: Request) -> Response:
        raise HTTPException(418, headers={"x-tea": "earl grey"})

    async def custom(request: Request) -> Response:
        raise HTTPException(400, detail="Bad things")

    app = Starlette(routes=[Route("/teapot", teapot), Route("/custom", custom)])
    client = test_client_factory(app)
    response = client.get("/teapot")
    assert (response.status_code, response.text) == (418, "I'm a Teapot")
    assert response.headers["x-tea"] == "earl grey"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/custom").text == "Bad things"


@pytest.mark.parametrize("status_code", [204, 304])
def test_exceptions_http_exception_without_body(test_client_factory: TestClientFactory, status_code: int) -> None:
    async def endpoint(request: Request) -> Response:
        raise HTTPException(status_code)

    response = test_client_factory(Starlette(routes=[Route("/", endpoint)])).get("/")
    assert response.status_code == status_code
    assert response.content == b""


def test_exceptions_handler_for_custom_exception_class_and_subclasses(test_client_factory: TestClientFactory) -> None:
    class AppError(Exception):
        pass

    class NotEnoughCoffee(AppError):
        pass

    def app_error(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse(f"app error: {type(exc).__name__}", status_code=503)

    async def endpoint(request: Request) -> Response:
        raise NotEnoughCoffee()

    app = Starlette(routes=[Route("/", endpoint)], exception_handlers={AppError: app_error})
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (503, "app error: NotEnoughCoffee")


def test_exceptions_most_specific_handler_wins(test_client_factory: TestClientFactory) -> None:
    def generic(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("generic", status_code=500)

    def specific(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("specific", status_code=400)

    async def endpoint(request: Request) -> Response:
        raise ValueError("x")

    app = Starlette(routes=[Route("/", endpoint)], exception_handlers={Exception: generic, ValueError: specific})
    assert test_client_factory(app).get("/").text == "specific"


@pytest.mark.parametrize("key", [Exception, 500])
def test_exceptions_500_and_exception_keys_are_equivalent(test_client_factory: TestClientFactory, key: Any) -> None:
    async def handle_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=500)

    app = Starlette(routes=[Route("/crash", crash)], exception_handlers={key: handle_error})
    response = test_client_factory(app, raise_server_exceptions=False).get("/crash")
    assert (response.status_code, response.json()) == (500, {"detail": "boom"})


def test_exceptions_background_task_error_after_response_sent(test_client_factory: TestClientFactory) -> None:
    handled: list[str] = []

    async def handle_error(request: Request, exc: Exception) -> Response:
        handled.append(str(exc))
        return JSONResponse({"detail": "handled"}, status_code=500)

    def failing_task() -> None:
        raise ValueError("task failed")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("sent", background=BackgroundTask(failing_task))

    app = Starlette(routes=[Route("/", endpoint)], exception_handlers={Exception: handle_error})
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (200, "sent")
    assert handled == ["task failed"]


def test_exceptions_middleware_stack_order(test_client_factory: TestClientFactory) -> None:
    seen: list[str] = []

    class Record(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            try:
                response = await call_next(request)
            except Exception as exc:
                seen.append(f"error {type(exc).__name__}")
                raise
            seen.append(f"response {response.status_code}")
            return response

    async def missing(request: Request) -> Response:
        raise HTTPException(404)

    app = Starlette(routes=[Route("/missing", missing), Route("/crash", crash)], middleware=[Middleware(Record)])
    client = test_client_factory(app, raise_server_exceptions=False)
    # ExceptionMiddleware sits inside user middleware: handled exceptions reach it as responses.
    assert client.get("/missing").status_code == 404
    # ServerErrorMiddleware sits outside: errors bubble through user middleware as exceptions.
    assert client.get("/crash").status_code == 500
    assert seen == ["response 404", "error RuntimeError"]


def test_exceptions_http_exception_on_websocket_before_accept(test_client_factory: TestClientFactory) -> None:
    async def websocket_endpoint(websocket: WebSocket) -> None:
        raise HTTPException(status_code=400, detail="Bad request")

    app = Starlette(routes=[WebSocketRoute("/ws", websocket_endpoint)])
    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover - the handshake is denied
    assert info.value.status_code == 400
    assert info.value.text == "Bad request"


def test_exceptions_websocket_exception_default_handling(test_client_factory: TestClientFactory) -> None:
    async def before_accept(websocket: WebSocket) -> None:
        raise WebSocketException(code=1008, reason="policy")

    async def after_accept(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(code=4000, reason="custom")

    app = Starlette(routes=[WebSocketRoute("/before", before_accept), WebSocketRoute("/after", after_accept)])
    client = test_client_factory(app)
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/before"):
            pass  # pragma: no cover - the handshake is refused
    assert (info.value.code, info.value.reason) == (1008, "policy")
    with client.websocket_connect("/after") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "custom")


def test_exceptions_custom_websocket_exception_handler(test_client_factory: TestClientFactory) -> None:
    async def websocket_exception(websocket: WebSocket, exc: Exception) -> None:
        await websocket.close(code=1008)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(code=4001)

    app = Starlette(
        routes=[WebSocketRoute("/", endpoint)], exception_handlers={WebSocketException: websocket_exception}
    )
    with test_client_factory(app).websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1008


def test_exceptions_http_exception_attributes() -> None:
    exc = HTTPException(status_code=404)
    assert (exc.status_code, exc.detail, exc.headers) == (404, "Not Found", None)
    assert str(exc) == "404: Not Found"
    assert repr(exc) == "HTTPException(status_code=404, detail='Not Found')"
    custom = HTTPException(400, detail="Nope", headers={"x": "y"})
    assert str(custom) == "400: Nope"
    assert custom.headers == {"x": "y"}


def test_exceptions_websocket_exception_attributes() -> None:
    exc = WebSocketException(code=1008, reason="Policy violated")
    assert (exc.code, exc.reason) == (1008, "Policy violated")
    assert str(exc) == "1008: Policy violated"
    assert repr(exc) == "WebSocketException(code=1008, reason='Policy violated')"
    assert WebSocketException(1011).reason == ""


def test_exceptions_exception_handler_not_used_for_middleware_errors_in_debug_false(
    test_client_factory: TestClientFactory,
) -> None:
    class Broken(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            raise HTTPException(status_code=403)

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(Broken)])
    # HTTPException raised in middleware is outside ExceptionMiddleware: only ServerErrorMiddleware sees it.
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


# ---------------------------------------------------------------------------------------------------------------
# lifespan.md
# ---------------------------------------------------------------------------------------------------------------


def test_lifespan_runs_around_client_context(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def homepage(request: Request) -> Response:
        events.append("request")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", homepage)], lifespan=lifespan)
    client = test_client_factory(app)
    client.get("/")
    assert events == ["request"]
    with client:
        assert events == ["request", "startup"]
        assert client.get("/").status_code == 200
    assert events == ["request", "startup", "request", "shutdown"]


class LifespanState(TypedDict):
    http_client: httpx.AsyncClient
    counter: list[int]


def test_lifespan_state(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[LifespanState]:
        async with httpx.AsyncClient() as client:
            yield {"http_client": client, "counter": []}

    async def homepage(request: Request) -> PlainTextResponse:
        client = request.state.http_client
        assert isinstance(client, httpx.AsyncClient)
        request.state.counter.append(1)
        request.state.overwritten = "only for this request"
        return PlainTextResponse(f"{len(request.state.counter)} {request.state.overwritten}")

    async def second(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(hasattr(request.state, "overwritten")))

    app = Starlette(lifespan=lifespan, routes=[Route("/", homepage), Route("/second", second)])
    with test_client_factory(app) as client:
        assert client.get("/").text == "1 only for this request"
        # Shallow copy: the list is shared, but new attributes on request.state are not.
        assert client.get("/").text == "2 only for this request"
        assert client.get("/second").text == "False"


def test_lifespan_state_on_websocket(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "hello from lifespan"}

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.state.greeting)
        await websocket.close()

    app = Starlette(lifespan=lifespan, routes=[WebSocketRoute("/", ws)])
    with test_client_factory(app) as client:
        with client.websocket_connect("/") as session:
            assert session.receive_text() == "hello from lifespan"


def test_lifespan_startup_failure_raises_in_test_client(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        available = False
        if not available:
            raise RuntimeError("database unavailable")
        yield  # pragma: no cover - never reached

    app = Starlette(lifespan=lifespan)
    with pytest.raises(RuntimeError, match="database unavailable"):
        with test_client_factory(app):
            pass  # pragma: no cover - startup fails


def test_lifespan_shutdown_failure_raises_in_test_client(test_client_factory: TestClientFactory) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        raise RuntimeError("shutdown failed")

    app = Starlette(lifespan=lifespan)
    with pytest.raises(RuntimeError, match="shutdown failed"):
        with test_client_factory(app):
            pass


def test_lifespan_receives_the_app(test_client_factory: TestClientFactory) -> None:
    received: list[Any] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        received.append(app)
        yield

    app = Starlette(lifespan=lifespan)
    with test_client_factory(app):
        pass
    assert received == [app]


def test_lifespan_on_router(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("up")
        yield
        events.append("down")

    with test_client_factory(Router(routes=[], lifespan=lifespan)):
        assert events == ["up"]
    assert events == ["up", "down"]


def test_lifespan_deprecated_on_startup_on_shutdown(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []
    with pytest.warns(DeprecationWarning):
        app = Starlette(on_startup=[lambda: events.append("startup")], on_shutdown=[lambda: events.append("shutdown")])
    with test_client_factory(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_lifespan_deprecated_on_event_decorator(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []
    app = Starlette()
    with pytest.warns(DeprecationWarning):

        @app.on_event("startup")
        async def startup() -> None:
            events.append("startup")

    with test_client_factory(app):
        assert events == ["startup"]


# ---------------------------------------------------------------------------------------------------------------
# background.md
# ---------------------------------------------------------------------------------------------------------------


def test_background_single_task_signup(test_client_factory: TestClientFactory) -> None:
    sent: list[str] = []

    async def send_welcome_email(to_address: str) -> None:
        sent.append(to_address)

    async def signup(request: Request) -> JSONResponse:
        data = await request.json()
        task = BackgroundTask(send_welcome_email, to_address=data["email"])
        message = {"status": "Signup successful"}
        return JSONResponse(message, background=task)

    app = Starlette(routes=[Route("/user/signup", endpoint=signup, methods=["POST"])])
    response = test_client_factory(app).post("/user/signup", json={"username": "tom", "email": "tom@example.org"})
    assert response.json() == {"status": "Signup successful"}
    assert sent == ["tom@example.org"]


def test_background_multiple_tasks_in_order(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    async def send_welcome_email(to_address: str) -> None:
        calls.append(f"email {to_address}")

    def send_admin_notification(username: str) -> None:
        calls.append(f"admin {username}")

    async def signup(request: Request) -> JSONResponse:
        data = await request.json()
        tasks = BackgroundTasks()
        tasks.add_task(send_welcome_email, to_address=data["email"])
        tasks.add_task(send_admin_notification, username=data["username"])
        return JSONResponse({"status": "Signup successful"}, background=tasks)

    app = Starlette(routes=[Route("/user/signup", endpoint=signup, methods=["POST"])])
    test_client_factory(app).post("/user/signup", json={"username": "tom", "email": "t@x"})
    assert calls == ["email t@x", "admin tom"]


def test_background_tasks_run_after_response_is_sent(test_client_factory: TestClientFactory) -> None:
    sent_messages: list[str] = []

    async def task() -> None:
        sent_messages.append("task")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_send(message: Message) -> None:
            sent_messages.append(message["type"])
            await send(message)

        await PlainTextResponse("x", background=BackgroundTask(task))(scope, receive, recording_send)

    test_client_factory(app).get("/")
    assert sent_messages == ["http.response.start", "http.response.body", "task"]


def test_background_failing_task_stops_the_following(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    def first() -> None:
        calls.append("first")
        raise ValueError("task error")

    def second() -> None:  # pragma: no cover - must not run
        calls.append("second")

    async def endpoint(request: Request) -> Response:
        tasks = BackgroundTasks([BackgroundTask(first), BackgroundTask(second)])
        return PlainTextResponse("ok", background=tasks)

    client = test_client_factory(Starlette(routes=[Route("/", endpoint)]))
    with pytest.raises(ValueError, match="task error"):
        client.get("/")
    assert calls == ["first"]


@pytest.mark.anyio
async def test_background_task_positional_and_keyword_args() -> None:
    received: list[Any] = []

    def record(*args: Any, **kwargs: Any) -> None:
        received.append((args, kwargs))

    task = BackgroundTask(record, 1, 2, key="value")
    await task()
    assert received == [((1, 2), {"key": "value"})]


# ---------------------------------------------------------------------------------------------------------------
# config.md
# ---------------------------------------------------------------------------------------------------------------


def write_env(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding=encoding)
    return path


def test_config_example(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        "# Don't commit this to source control.\n"
        "DEBUG=True\n"
        "DATABASE_URL=postgresql://user:password@localhost:5432/database\n"
        "SECRET_KEY=43n080musdfjt54t-09sdgr\n"
        "ALLOWED_HOSTS=127.0.0.1, localhost\n",
    )
    config = Config(env_file, environ={})
    assert config("DEBUG", cast=bool, default=False) is True
    assert config("DATABASE_URL") == "postgresql://user:password@localhost:5432/database"
    secret = config("SECRET_KEY", cast=Secret)
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == "43n080musdfjt54t-09sdgr"
    hosts = config("ALLOWED_HOSTS", cast=CommaSeparatedStrings)
    assert repr(hosts) == "CommaSeparatedStrings(['127.0.0.1', 'localhost'])"
    assert list(hosts) == ["127.0.0.1", "localhost"]
    assert len(hosts) == 2
    assert hosts[0] == "127.0.0.1"


def test_config_precedence(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "A=from-file\nB=from-file\n")
    config = Config(env_file, environ={"A": "from-environ"})
    assert config("A") == "from-environ"
    assert config("B") == "from-file"
    assert config("C", default="default") == "default"
    assert config("D", default=None) is None
    with pytest.raises(KeyError, match="Config 'E' is missing, and has no default."):
        config("E")


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("True", True), ("1", True), ("false", False), ("FALSE", False), ("0", False)]
)
def test_config_bool_cast(raw: str, expected: bool) -> None:
    assert Config(environ={"DEBUG": raw})("DEBUG", cast=bool) is expected


def test_config_invalid_casts() -> None:
    config = Config(environ={"DEBUG": "maybe", "PORT": "eighty"})
    with pytest.raises(ValueError, match="Config 'DEBUG' has value 'maybe'. Not a valid bool."):
        config("DEBUG", cast=bool)
    with pytest.raises(ValueError, match="Config 'PORT' has value 'eighty'. Not a valid int."):
        config("PORT", cast=int)


def test_config_default_is_cast() -> None:
    config = Config(environ={})
    assert config("PORT", cast=int, default="8000") == 8000
    assert config.get("PORT", cast=int, default="8000") == 8000


def test_config_environ_protects_against_late_changes() -> None:
    environ = Environ({})
    environ["DEBUG"] = "TRUE"
    environ["DEBUG"] = "FALSE"
    del environ["DEBUG"]
    assert "DEBUG" not in list(environ)
    environ["OTHER"] = "1"
    assert environ["OTHER"] == "1"
    with pytest.raises(
        EnvironError, match=re.escape("Attempting to set environ['OTHER'], but the value has already been read.")
    ):
        environ["OTHER"] = "2"
    with pytest.raises(
        EnvironError, match=re.escape("Attempting to delete environ['OTHER'], but the value has already been read.")
    ):
        del environ["OTHER"]
    assert list(environ) == ["OTHER"]
    assert len(environ) == 1


def test_config_env_prefix() -> None:
    config = Config(environ={"APP_DEBUG": "yes", "ENVIRONMENT": "dev"}, env_prefix="APP_")
    assert config("DEBUG") == "yes"
    with pytest.raises(KeyError):
        config("ENVIRONMENT")


def test_config_custom_encoding(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "NAME=Björk\n", encoding="latin-1")
    assert Config(env_file, environ={}, encoding="latin-1")("NAME") == "Björk"


def test_config_env_file_parsing(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path, "# comment\n\nQUOTED=\"quoted value\"\nSINGLE='single'\nSPACES = padded \nNOEQUALS\n"
    )
    config = Config(env_file, environ={})
    assert config("QUOTED") == "quoted value"
    assert config("SINGLE") == "single"
    assert config("SPACES") == "padded"
    with pytest.raises(KeyError):
        config("NOEQUALS")


def test_config_missing_env_file_warns(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="not found"):
        config = Config(tmp_path / "missing.env", environ={"A": "1"})
    assert config("A") == "1"


def test_config_secret_is_falsy_when_empty() -> None:
    assert not Secret("")
    assert Secret("x")


# ---------------------------------------------------------------------------------------------------------------
# threadpool.md
# ---------------------------------------------------------------------------------------------------------------


def test_threadpool_sync_endpoint_and_background_task_run_in_worker_threads(
    test_client_factory: TestClientFactory,
) -> None:
    idents: dict[str, int] = {}

    def sync_endpoint(request: Request) -> Response:
        idents["endpoint"] = threading.get_ident()
        return PlainTextResponse("ok", background=BackgroundTask(sync_task))

    def sync_task() -> None:
        idents["task"] = threading.get_ident()

    async def async_endpoint(request: Request) -> Response:
        idents["loop"] = threading.get_ident()
        return PlainTextResponse("ok")

    client = test_client_factory(Starlette(routes=[Route("/sync", sync_endpoint), Route("/async", async_endpoint)]))
    with client:
        client.get("/async")
        client.get("/sync")
    assert idents["endpoint"] != idents["loop"]
    assert idents["task"] != idents["loop"]
    assert idents["loop"] != threading.get_ident()


@pytest.mark.anyio
async def test_threadpool_limiter_tokens_can_be_increased() -> None:
    limiter = anyio.to_thread.current_default_thread_limiter()
    assert limiter.total_tokens == 40
    limiter.total_tokens = 100
    try:
        assert anyio.to_thread.current_default_thread_limiter().total_tokens == 100
    finally:
        limiter.total_tokens = 40


# ---------------------------------------------------------------------------------------------------------------
# testclient.md
# ---------------------------------------------------------------------------------------------------------------


def test_testclient_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = HTMLResponse("<html><body>Hello, world!</body></html>")
        await response(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "<html><body>Hello, world!</body></html>"


def headers_app() -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await JSONResponse({"authorization": request.headers.get("authorization")})(scope, receive, send)

    return app


def test_testclient_headers_on_client_and_per_request(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(headers_app())
    client.headers = httpx.Headers({"Authorization": "client-level"})  # the doc assigns a plain dict
    assert client.get("/").json() == {"authorization": "client-level"}
    assert client.get("/", headers={"Authorization": "request-level"}).json() == {"authorization": "request-level"}
    constructed = test_client_factory(headers_app(), headers={"Authorization": "ctor"})
    assert constructed.get("/").json() == {"authorization": "ctor"}


def test_testclient_default_headers(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await JSONResponse(dict(request.headers))(scope, receive, send)

    headers = test_client_factory(app).get("/").json()
    assert headers["host"] == "testserver"
    assert headers["user-agent"] == "testclient"


def test_testclient_file_uploads(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    async def form(request: Request) -> JSONResponse:
        async with request.form() as data:
            result = {}
            for key, value in data.multi_items():
                assert isinstance(value, UploadFile)
                result[key] = [value.filename, value.content_type, (await value.read()).decode()]
        return JSONResponse(result)

    txt = tmp_path / "example.txt"
    txt.write_text("text file")
    png = tmp_path / "example.png"
    png.write_bytes(b"png bytes")
    client = test_client_factory(Starlette(routes=[Route("/form", form, methods=["POST"])]))
    with txt.open("rb") as f:
        single = client.post("/form", files={"file": f})
    assert single.json() == {"file": ["example.txt", "text/plain", "text file"]}
    with txt.open("rb") as f1, png.open("rb") as f2:
        files: dict[str, Any] = {"file1": f1, "file2": ("filename", f2, "image/png")}
        multiple = client.post("/form", files=files)
    assert multiple.json() == {
        "file1": ["example.txt", "text/plain", "text file"],
        "file2": ["filename", "image/png", "png bytes"],
    }


def test_testclient_raise_server_exceptions_false(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("app error")

    with pytest.raises(ValueError, match="app error"):
        test_client_factory(app).get("/")
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.text == ""


def test_testclient_lifespan_only_in_context_manager(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    client = test_client_factory(Starlette(lifespan=lifespan))
    assert events == []
    with client as entered:
        assert entered is client
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_testclient_change_client_address(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse(list(scope["client"]))(scope, receive, send)

    assert test_client_factory(app, client=("localhost", 8000)).get("/").json() == ["localhost", 8000]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_testclient_backend_selection(backend: str) -> None:
    detected: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        import sniffio

        if scope["type"] == "http":
            detected.append(sniffio.current_async_library())
            await PlainTextResponse("ok")(scope, receive, send)

    with TestClient(app, backend=backend) as client:  # type: ignore[arg-type]  # parametrised literal
        client.get("/")
    assert detected == [backend]


def test_testclient_websocket_session_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_text("Hello, world!")
        await websocket.close()

    client = test_client_factory(app)
    with client.websocket_connect("/") as websocket:
        data = websocket.receive_text()
        assert data == "Hello, world!"


def test_testclient_websocket_query_string_in_url(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_json(dict(websocket.query_params))
        await websocket.close()

    with test_client_factory(app).websocket_connect("/path?foo=bar") as session:
        assert session.receive_json() == {"foo": "bar"}


def test_testclient_websocket_not_accepted_raises_disconnect(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.close(code=1001)

    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake is refused
    assert info.value.code == 1001


def test_testclient_websocket_send_and_receive_modes(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(text.upper())
        data = await websocket.receive_bytes()
        await websocket.send_bytes(data[::-1])
        as_text = await websocket.receive_json()
        await websocket.send_json(as_text, mode="binary")
        as_binary = await websocket.receive_json(mode="binary")
        await websocket.send_json(as_binary)
        await websocket.close()

    with test_client_factory(app).websocket_connect("/") as session:
        session.send_text("abc")
        assert session.receive_text() == "ABC"
        session.send_bytes(b"\x01\x02")
        assert session.receive_bytes() == b"\x02\x01"
        session.send_json({"a": 1})
        assert session.receive_json(mode="binary") == {"a": 1}
        session.send_json({"b": 2}, mode="binary")
        assert session.receive_json() == {"b": 2}
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert info.value.code == 1000


def test_testclient_websocket_client_close(test_client_factory: TestClientFactory) -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        received.append(await websocket.receive())

    with test_client_factory(app).websocket_connect("/") as session:
        session.close(code=1001, reason="going away")
    assert received == [{"type": "websocket.disconnect", "code": 1001, "reason": "going away"}]


def test_testclient_app_exception_in_websocket_is_raised(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        raise ValueError("ws boom")

    with pytest.raises(ValueError, match="ws boom"):
        with test_client_factory(app).websocket_connect("/") as session:
            session.receive_text()


@pytest.mark.anyio
async def test_testclient_async_tests_with_httpx_asgi_transport() -> None:
    def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello World!")

    app = Starlette(routes=[Route("/", hello)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.get("/")
        assert r.status_code == 200
        assert r.text == "Hello World!"


def test_testclient_follow_redirects_false(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = RedirectResponse("/target") if scope["path"] == "/" else PlainTextResponse("target")
        await response(scope, receive, send)

    assert test_client_factory(app).get("/").text == "target"
    assert test_client_factory(app, follow_redirects=False).get("/").status_code == 307


def test_testclient_cookies_persist(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = JSONResponse({"cookie": request.cookies.get("session")})
        if scope["path"] == "/login":
            response.set_cookie("session", "abc")
        await response(scope, receive, send)

    client = test_client_factory(app)
    client.get("/login")
    assert client.get("/").json() == {"cookie": "abc"}
    assert test_client_factory(app, cookies={"session": "ctor"}).get("/").json() == {"cookie": "ctor"}


def test_testclient_http_scope_contents(test_client_factory: TestClientFactory) -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await Response()(scope, receive, send)

    test_client_factory(app).get("/a%20b?x=1")
    (scope,) = seen
    assert scope["type"] == "http"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a b"
    assert scope["raw_path"] == b"/a%20b"
    assert scope["query_string"] == b"x=1"
    assert tuple(scope["server"]) == ("testserver", 80)
    assert scope["http_version"] == "1.1"
    assert scope["asgi"]["version"] == "3.0"


# ---------------------------------------------------------------------------------------------------------------
# websockets.md
# ---------------------------------------------------------------------------------------------------------------


def test_websockets_basic_example(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_text("Hello, world!")
        await websocket.close()

    with test_client_factory(app).websocket_connect("/") as session:
        assert session.receive_text() == "Hello, world!"


def test_websockets_connection_info(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_json(
            {
                "path": websocket["path"],
                "url": str(websocket.url),
                "url_path": websocket.url.path,
                "scheme": websocket.url.scheme,
                "port": websocket.url.port,
                "version": websocket.headers["sec-websocket-version"],
                "search": websocket.query_params["search"],
                "is_url": isinstance(websocket.url, URL),
            }
        )
        await websocket.close()

    with test_client_factory(app).websocket_connect("/chat?search=term") as session:
        assert session.receive_json() == {
            "path": "/chat",
            "url": "ws://testserver/chat?search=term",
            "url_path": "/chat",
            "scheme": "ws",
            "port": None,
            "version": "13",
            "search": "term",
            "is_url": True,
        }


def test_websockets_path_params(test_client_factory: TestClientFactory) -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.path_params["username"])
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/users/{username}", endpoint)])
    with test_client_factory(app).websocket_connect("/users/tom") as session:
        assert session.receive_text() == "tom"


def test_websockets_accept_with_subprotocol_and_headers(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        assert scope["subprotocols"] == ["wamp", "graphql-ws"]
        await websocket.accept(subprotocol="graphql-ws", headers=[(b"x-custom", b"value")])
        await websocket.close()

    with test_client_factory(app).websocket_connect("/", subprotocols=["wamp", "graphql-ws"]) as session:
        assert session.accepted_subprotocol == "graphql-ws"
        assert session.extra_headers is not None
        assert (b"x-custom", b"value") in session.extra_headers


def test_websockets_send_json_text_frames_by_default(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_json({"a": 1, "name": "café"})
        await websocket.send_json({"b": 2}, mode="binary")
        await websocket.close()

    with test_client_factory(app).websocket_connect("/") as session:
        text = session.receive()
        assert text == {"type": "websocket.send", "text": '{"a":1,"name":"café"}'}
        binary = session.receive()
        assert binary == {"type": "websocket.send", "bytes": b'{"b":2}'}


def test_websockets_receive_json_binary_mode(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        data = await websocket.receive_json(mode="binary")
        await websocket.send_text(repr(data))
        await websocket.close()

    with test_client_factory(app).websocket_connect("/") as session:
        session.send_bytes(b'{"x": [1]}')
        assert session.receive_text() == "{'x': [1]}"


@pytest.mark.anyio
async def test_websockets_invalid_json_mode() -> None:
    async def receive() -> Message:  # pragma: no cover - not reached
        raise AssertionError

    async def send(message: Message) -> None:  # pragma: no cover - not reached
        raise AssertionError

    websocket = WebSocket(make_scope(type="websocket"), receive, send)
    with pytest.raises(RuntimeError, match='The "mode" argument should be "text" or "binary".'):
        await websocket.send_json({}, mode="other")
    with pytest.raises(RuntimeError, match='The "mode" argument should be "text" or "binary".'):
        await websocket.receive_json(mode="other")


def test_websockets_iter_text_exits_on_disconnect(test_client_factory: TestClientFactory) -> None:
    done: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        async for message in websocket.iter_text():
            await websocket.send_text(f"Message text was: {message}")
        done.append("iterator exited")

    with test_client_factory(app).websocket_connect("/") as session:
        session.send_text("one")
        assert session.receive_text() == "Message text was: one"
        session.send_text("two")
        assert session.receive_text() == "Message text was: two"
    assert done == ["iterator exited"]


def test_websockets_iter_bytes_and_json(test_client_factory: TestClientFactory) -> None:
    collected: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        if scope["path"] == "/bytes":
            async for data in websocket.iter_bytes():
                collected.append(data)
        else:
            async for obj in websocket.iter_json():
                collected.append(obj)

    client = test_client_factory(app)
    with client.websocket_connect("/bytes") as session:
        session.send_bytes(b"a")
        session.send_bytes(b"b")
    with client.websocket_connect("/json") as session:
        session.send_json({"k": "v"})
        session.send_json([1])
    assert collected == [b"a", b"b", {"k": "v"}, [1]]


def test_websockets_close_with_reason(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.close(code=4001, reason="custom reason")

    with test_client_factory(app).websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4001, "custom reason")


def test_websockets_raw_send_and_receive(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        assert await websocket.receive() == {"type": "websocket.connect"}
        await websocket.send({"type": "websocket.accept"})
        message = await websocket.receive()
        await websocket.send({"type": "websocket.send", "text": message["text"] * 2})
        await websocket.send({"type": "websocket.close", "code": 1000})

    with test_client_factory(app).websocket_connect("/") as session:
        session.send_text("ab")
        assert session.receive_text() == "abab"


def test_websockets_close_before_accept_denies_connection(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        await websocket.close()

    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake is refused
    assert info.value.code == 1000


def test_websockets_send_denial_response(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        response = PlainTextResponse("go away", status_code=403, headers={"x-reason": "banned"})
        await websocket.send_denial_response(response)

    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake is denied
    denial = info.value
    assert isinstance(denial, WebSocketDisconnect)
    assert isinstance(denial, httpx.Response)
    assert denial.status_code == 403
    assert denial.text == "go away"
    assert denial.headers["x-reason"] == "banned"


@pytest.mark.anyio
async def test_websockets_send_denial_response_without_extension_raises() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)  # pragma: no cover - nothing must be sent

    websocket = WebSocket(make_scope(type="websocket"), receive, send)
    with pytest.raises(RuntimeError, match="Denial Response"):
        await websocket.send_denial_response(PlainTextResponse("no", status_code=403))
    assert sent == []


def test_websockets_subprotocol_authorization_example(test_client_factory: TestClientFactory) -> None:
    def is_authorized(subprotocols: list[str]) -> bool:
        if len(subprotocols) != 2:
            return False
        if subprotocols[0] != "Authorization":
            return False
        return subprotocols[1] == "token"

    async def websocket_endpoint(websocket: WebSocket) -> None:
        subprotocols = websocket.scope["subprotocols"]
        if not is_authorized(subprotocols):
            raise HTTPException(status_code=401, detail="Unauthorized")
        await websocket.accept("Authorization")
        await websocket.send_text("Hello, world!")
        await websocket.close()

    app = Starlette(debug=True, routes=[WebSocketRoute("/ws", websocket_endpoint)])
    client = test_client_factory(app)
    with client.websocket_connect("/ws", subprotocols=["Authorization", "token"]) as session:
        assert session.accepted_subprotocol == "Authorization"
        assert session.receive_text() == "Hello, world!"
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/ws", subprotocols=["Authorization", "wrong"]):
            pass  # pragma: no cover - the handshake is denied
    assert (info.value.status_code, info.value.text) == (401, "Unauthorized")


def test_websockets_state_errors(test_client_factory: TestClientFactory) -> None:
    errors: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope=scope, receive=receive, send=send)
        try:
            await websocket.receive_text()
        except RuntimeError as exc:
            errors.append(str(exc))
        await websocket.accept()
        await websocket.close()
        try:
            await websocket.send_text("late")
        except RuntimeError as exc:
            errors.append(str(exc))

    with test_client_factory(app).websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect):
            session.receive_text()
    assert errors == [
        'WebSocket is not connected. Need to call "accept" first.',
        'Cannot call "send" once a close message has been sent.',
    ]


# ---------------------------------------------------------------------------------------------------------------
# server-push.md
# ---------------------------------------------------------------------------------------------------------------


def test_server_push_is_a_no_op_without_the_extension(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> Response:
        await request.send_push_promise("/static/style.css")
        return HTMLResponse('<html><head><link rel="stylesheet" href="/static/style.css"/></head></html>')

    app = Starlette(routes=[Route("/", endpoint=homepage), Mount("/static", mounted_asgi_app, name="static")])
    response = test_client_factory(app).get("/")
    assert response.status_code == 200
    assert "style.css" in response.text


@pytest.mark.anyio
async def test_server_push_sends_push_message_with_extension() -> None:
    sent: list[Message] = []

    async def receive() -> Message:  # pragma: no cover - not reached
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = make_scope(
        extensions={"http.response.push": {}},
        headers=[(b"host", b"testserver"), (b"accept", b"text/css"), (b"x-private", b"secret"), (b"user-agent", b"ua")],
    )
    request = Request(scope, receive, send)
    await request.send_push_promise("/static/style.css")
    assert len(sent) == 1
    message = sent[0]
    assert message["type"] == "http.response.push"
    assert message["path"] == "/static/style.css"
    headers = dict(message["headers"])
    assert headers[b"accept"] == b"text/css"
    assert headers[b"user-agent"] == b"ua"
    assert b"x-private" not in headers


# ---------------------------------------------------------------------------------------------------------------
# middleware.md (Middleware, BaseHTTPMiddleware, pure ASGI middleware, ServerError/Exception middleware)
# ---------------------------------------------------------------------------------------------------------------


class CustomHeaderMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, header_value: str = "Example") -> None:
        super().__init__(app)
        self.header_value = header_value

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Custom"] = self.header_value
        return response


def test_middleware_base_http_middleware_example(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(CustomHeaderMiddleware)])
    response = test_client_factory(app).get("/")
    assert response.headers["custom"] == "Example"
    assert response.text == "/"


def test_middleware_base_http_middleware_with_options(test_client_factory: TestClientFactory) -> None:
    middleware = [Middleware(CustomHeaderMiddleware, header_value="Customized")]
    app = Starlette(routes=[Route("/", echo_path)], middleware=middleware)
    assert test_client_factory(app).get("/").headers["custom"] == "Customized"


def test_middleware_base_http_middleware_dispatch_function(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path == "/blocked":
            return PlainTextResponse("blocked", status_code=403)
        response = await call_next(request)
        response.headers["x-dispatch"] = "function"
        return response

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    client = test_client_factory(app)
    assert client.get("/").headers["x-dispatch"] == "function"
    blocked = client.get("/blocked")
    assert (blocked.status_code, blocked.text) == (403, "blocked")


def test_middleware_base_http_middleware_streaming_and_request_body(test_client_factory: TestClientFactory) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"chunk1-"
        yield b"chunk2"

    async def stream(request: Request) -> Response:
        body = await request.body()
        return StreamingResponse(gen(), headers={"x-body": body.decode()})

    class ReadBody(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            body = await request.body()
            response = await call_next(request)
            response.headers["x-mw-body"] = body.decode()
            return response

    app = Starlette(routes=[Route("/", stream, methods=["POST"])], middleware=[Middleware(ReadBody)])
    response = test_client_factory(app).post("/", content=b"payload")
    assert response.content == b"chunk1-chunk2"
    assert response.headers["x-body"] == "payload"
    assert response.headers["x-mw-body"] == "payload"


def test_middleware_base_http_middleware_endpoint_exception_propagates(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/crash", crash)], middleware=[Middleware(CustomHeaderMiddleware)])
    with pytest.raises(RuntimeError, match="boom"):
        test_client_factory(app).get("/crash")
    response = test_client_factory(app, raise_server_exceptions=False).get("/crash")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_middleware_base_http_middleware_passes_websockets_through(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws ok")
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", ws)], middleware=[Middleware(CustomHeaderMiddleware)])
    with test_client_factory(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "ws ok"


def test_middleware_order_top_to_bottom(test_client_factory: TestClientFactory) -> None:
    order: list[str] = []

    class Tag:
        def __init__(self, app: ASGIApp, name: str) -> None:
            self.app = app
            self.name = name

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                order.append(f"enter {self.name}")
            await self.app(scope, receive, send)
            if scope["type"] == "http":
                order.append(f"exit {self.name}")

    async def endpoint(request: Request) -> Response:
        order.append("endpoint")
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route("/", endpoint)],
        middleware=[Middleware(Tag, name="first"), Middleware(Tag, name="second")],
    )
    app.add_middleware(Tag, name="added")
    test_client_factory(app).get("/")
    assert order == [
        "enter added",
        "enter first",
        "enter second",
        "endpoint",
        "exit second",
        "exit first",
        "exit added",
    ]


def test_middleware_built_once_and_lazily(test_client_factory: TestClientFactory) -> None:
    built: list[ASGIApp] = []

    class Counting:
        def __init__(self, app: ASGIApp) -> None:
            built.append(app)
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(Counting)])
    assert built == []
    client = test_client_factory(app)
    client.get("/")
    client.get("/")
    assert len(built) == 1


def test_middleware_repr_and_iter() -> None:
    middleware = Middleware(CustomHeaderMiddleware, header_value="Customized")
    assert repr(middleware) == "Middleware(CustomHeaderMiddleware, header_value='Customized')"
    cls, args, kwargs = middleware
    assert cls is CustomHeaderMiddleware
    assert args == ()
    assert kwargs == {"header_value": "Customized"}


class ASGIMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-pure"] = "asgi"
            await send(message)

        await self.app(scope, receive, send_wrapper)


def test_middleware_pure_asgi_class(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(ASGIMiddleware)])
    assert test_client_factory(app).get("/").headers["x-pure"] == "asgi"


def test_middleware_pure_asgi_function_style(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    def asgi_middleware() -> Any:
        def asgi_decorator(app: ASGIApp) -> ASGIApp:
            @functools.wraps(app)
            async def wrapped_app(scope: Scope, receive: Receive, send: Send) -> None:
                calls.append(scope["type"])
                await app(scope, receive, send)

            return wrapped_app

        return asgi_decorator

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(asgi_middleware())])
    assert test_client_factory(app).get("/").text == "/"
    assert calls == ["http"]
    wrapped = asgi_middleware()(echo_asgi)
    assert test_client_factory(wrapped).get("/p").text == "/p"


async def echo_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(scope["path"])(scope, receive, send)


class RedirectsMiddleware:
    def __init__(self, app: ASGIApp, path_mapping: dict[str, str]) -> None:
        self.app = app
        self.path_mapping = path_mapping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        url = URL(scope=scope)

        if url.path in self.path_mapping:
            url = url.replace(path=self.path_mapping[url.path])
            response = RedirectResponse(url, status_code=301)
            await response(scope, receive, send)
            return

        await self.app(scope, receive, send)


def test_middleware_sending_eager_responses(test_client_factory: TestClientFactory) -> None:
    redirections = {"/v1/resource/": "/v2/resource/"}
    app = Starlette(
        routes=[Route("/v2/resource/", echo_path)],
        middleware=[Middleware(RedirectsMiddleware, path_mapping=redirections)],
    )
    client = test_client_factory(app)
    response = client.get("/v1/resource/?q=1", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "http://testserver/v2/resource/?q=1"
    assert client.get("/v1/resource/").text == "/v2/resource/"


def test_middleware_inspecting_the_request_body(test_client_factory: TestClientFactory) -> None:
    sizes: list[int] = []

    class LoggedRequestBodySizeMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return

            body_size = 0

            async def receive_logging_request_body_size() -> Message:
                nonlocal body_size

                message = await receive()
                assert message["type"] == "http.request"

                body_size += len(message.get("body", b""))

                if not message.get("more_body", False):
                    sizes.append(body_size)

                return message

            await self.app(scope, receive_logging_request_body_size, send)

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(
        routes=[Route("/", endpoint, methods=["POST"])], middleware=[Middleware(LoggedRequestBodySizeMiddleware)]
    )
    assert test_client_factory(app).post("/", content=b"x" * 1234).text == "1234"
    assert sizes == [1234]


def test_middleware_modifying_the_response_headers(test_client_factory: TestClientFactory) -> None:
    class ExtraResponseHeadersMiddleware:
        def __init__(self, app: ASGIApp, headers: list[tuple[str, str]]) -> None:
            self.app = app
            self.headers = headers

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return await self.app(scope, receive, send)

            async def send_with_extra_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    for key, value in self.headers:
                        headers.append(key, value)

                await send(message)

            await self.app(scope, receive, send_with_extra_headers)

    middleware = [Middleware(ExtraResponseHeadersMiddleware, headers=[("x-a", "1"), ("x-a", "2"), ("x-b", "3")])]
    app = Starlette(routes=[Route("/", echo_path)], middleware=middleware)
    response = test_client_factory(app).get("/")
    assert response.headers.get_list("x-a") == ["1", "2"]
    assert response.headers["x-b"] == "3"


def test_middleware_passing_information_to_endpoints(test_client_factory: TestClientFactory) -> None:
    class TransactionIDMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            scope["asgi_transaction_id"] = uuid.UUID(int=42)
            await self.app(scope, receive, send)

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(str(request.scope["asgi_transaction_id"]))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(TransactionIDMiddleware)])
    assert test_client_factory(app).get("/").text == str(uuid.UUID(int=42))


def test_middleware_cleanup_and_error_handling(test_client_factory: TestClientFactory) -> None:
    records: list[str] = []

    class MonitoringMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            start = time.time()
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                records.append(f"exception {exc}")
                raise
            finally:
                records.append(f"elapsed {time.time() - start >= 0}")

    app = Starlette(
        routes=[Route("/", echo_path), Route("/crash", crash)], middleware=[Middleware(MonitoringMiddleware)]
    )
    client = test_client_factory(app, raise_server_exceptions=False)
    assert client.get("/").status_code == 200
    assert client.get("/crash").status_code == 500
    assert records == ["elapsed True", "exception boom", "elapsed True"]


def test_middleware_stateless_mock_body_example(test_client_factory: TestClientFactory) -> None:
    class MockResponseBodyMiddleware:
        def __init__(self, app: ASGIApp, content: bytes) -> None:
            self.app = app
            self.content = content

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return

            should_mock = False

            async def maybe_send_with_mock_content(message: Message) -> None:
                nonlocal should_mock

                if message["type"] == "http.response.start":
                    headers = Headers(raw=message["headers"])
                    should_mock = headers.get("X-Mock") == "1"
                    if should_mock:
                        MutableHeaders(scope=message)["content-length"] = str(len(self.content))
                    await send(message)

                elif message["type"] == "http.response.body":
                    if should_mock:
                        message = {"type": "http.response.body", "body": self.content}
                    await send(message)

            await self.app(scope, receive, maybe_send_with_mock_content)

    async def mocked(request: Request) -> Response:
        return PlainTextResponse("real", headers={"X-Mock": "1"})

    app = Starlette(
        routes=[Route("/mocked", mocked), Route("/", echo_path)],
        middleware=[Middleware(MockResponseBodyMiddleware, content=b"mocked!")],
    )
    client = test_client_factory(app)
    assert client.get("/mocked").text == "mocked!"
    assert client.get("/").text == "/"


def test_middleware_wrapping_app_instance_directly(test_client_factory: TestClientFactory) -> None:
    inner = Starlette(routes=[Route("/", echo_path)])
    app = ASGIMiddleware(inner)
    assert test_client_factory(app).get("/").headers["x-pure"] == "asgi"


def test_middleware_on_mount_not_wrapped_in_exception_handling(test_client_factory: TestClientFactory) -> None:
    async def teapot(request: Request) -> Response:
        raise HTTPException(418)

    app = Starlette(
        routes=[
            Mount(
                "/m",
                routes=[Route("/ok", echo_path), Route("/teapot", teapot)],
                middleware=[Middleware(ASGIMiddleware)],
            )
        ]
    )
    client = test_client_factory(app)
    assert client.get("/m/ok").headers["x-pure"] == "asgi"
    # Errors raised by routes are turned into responses inside the route, so mount middleware sees them...
    teapot_response = client.get("/m/teapot")
    assert teapot_response.status_code == 418
    assert teapot_response.headers["x-pure"] == "asgi"
    # ...but the router's own "not found" is handled by the app-level ExceptionMiddleware, outside the mount.
    missing = client.get("/m/missing")
    assert missing.status_code == 404
    assert "x-pure" not in missing.headers


def test_middleware_exception_middleware_on_a_mount(test_client_factory: TestClientFactory) -> None:
    from starlette.middleware.exceptions import ExceptionMiddleware

    def not_found_handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("mount not found", status_code=404)

    app = Starlette(
        routes=[
            Mount(
                "/m",
                routes=[Route("/ok", echo_path)],
                middleware=[
                    Middleware(ASGIMiddleware),
                    Middleware(ExceptionMiddleware, handlers={404: not_found_handler}),
                ],
            )
        ]
    )
    missing = test_client_factory(app).get("/m/missing")
    assert (missing.status_code, missing.text) == (404, "mount not found")
    assert missing.headers["x-pure"] == "asgi"


def test_middleware_server_error_middleware_standalone(test_client_factory: TestClientFactory) -> None:
    from starlette.middleware.errors import ServerErrorMiddleware

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("standalone failure")

    def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"handled: {exc}", status_code=500)

    client = test_client_factory(ServerErrorMiddleware(failing, handler=handler), raise_server_exceptions=False)
    response = client.get("/")
    assert (response.status_code, response.text) == (500, "handled: standalone failure")
    debug_client = test_client_factory(ServerErrorMiddleware(failing, debug=True), raise_server_exceptions=False)
    debug = debug_client.get("/", headers={"accept": "text/html"})
    assert debug.status_code == 500
    assert "standalone failure" in debug.text
    assert debug.headers["content-type"] == "text/html; charset=utf-8"


def test_middleware_server_error_middleware_after_response_started(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("too late")

    from starlette.middleware.errors import ServerErrorMiddleware

    with pytest.raises(ValueError, match="too late"):
        test_client_factory(ServerErrorMiddleware(app)).get("/")


def test_middleware_exception_middleware_standalone(test_client_factory: TestClientFactory) -> None:
    from starlette.middleware.exceptions import ExceptionMiddleware

    async def raises(scope: Scope, receive: Receive, send: Send) -> None:
        raise HTTPException(status_code=409, detail="Conflict!")

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    assert test_client_factory(ExceptionMiddleware(raises)).get("/").text == "Conflict!"
    middleware = ExceptionMiddleware(raises)
    middleware.add_exception_handler(409, handler)
    assert test_client_factory(middleware).get("/").json() == {"error": "Conflict!"}


# ---------------------------------------------------------------------------------------------------------------
# FastAPI-style usage of the Starlette layer
# ---------------------------------------------------------------------------------------------------------------


def test_usage_api_router_style_nested_apps(test_client_factory: TestClientFactory) -> None:
    async def list_items(request: Request) -> JSONResponse:
        return JSONResponse({"items": [1, 2], "self": str(request.url_for("v1:items:list"))})

    async def get_item(request: Request) -> JSONResponse:
        item_id = request.path_params["item_id"]
        if item_id > 10:
            raise HTTPException(status_code=404, detail="Item not found")
        return JSONResponse({"id": item_id, "link": str(request.url_for("v1:items:get", item_id=item_id))})

    items = Router(routes=[Route("/", list_items, name="list"), Route("/{item_id:int}", get_item, name="get")])
    v1 = Starlette(routes=[Mount("/items", app=items, name="items")])
    app = Starlette(routes=[Mount("/api/v1", app=v1, name="v1")])
    client = test_client_factory(app)
    assert client.get("/api/v1/items/").json() == {"items": [1, 2], "self": "http://testserver/api/v1/items/"}
    assert client.get("/api/v1/items/3").json() == {"id": 3, "link": "http://testserver/api/v1/items/3"}
    missing = client.get("/api/v1/items/11")
    assert (missing.status_code, missing.text) == (404, "Item not found")
    assert app.url_path_for("v1:items:get", item_id=5) == "/api/v1/items/5"


def test_usage_validation_error_style_handler(test_client_factory: TestClientFactory) -> None:
    class RequestValidationError(Exception):
        def __init__(self, errors: list[dict[str, str]]) -> None:
            super().__init__("validation failed")
            self.errors = errors

    async def validation_handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": exc.errors}, status_code=422)

    async def create(request: Request) -> Response:
        data = await request.json()
        if "name" not in data:
            raise RequestValidationError([{"loc": "body.name", "msg": "field required"}])
        return JSONResponse(data, status_code=201)

    app = Starlette(
        routes=[Route("/items", create, methods=["POST"])],
        exception_handlers={RequestValidationError: validation_handler},
    )
    client = test_client_factory(app)
    created = client.post("/items", json={"name": "x"})
    assert (created.status_code, created.json()) == (201, {"name": "x"})
    invalid = client.post("/items", json={})
    assert (invalid.status_code, invalid.json()) == (422, {"detail": [{"loc": "body.name", "msg": "field required"}]})


def test_usage_sync_exception_handler_runs_in_threadpool(test_client_factory: TestClientFactory) -> None:
    idents: list[int] = []

    def handler(request: Request, exc: Exception) -> Response:
        idents.append(threading.get_ident())
        return PlainTextResponse("sync handled", status_code=400)

    async def endpoint(request: Request) -> Response:
        idents.append(threading.get_ident())
        raise ValueError()

    app = Starlette(routes=[Route("/", endpoint)], exception_handlers={ValueError: handler})
    assert test_client_factory(app).get("/").text == "sync handled"
    assert idents[0] != idents[1]


def test_usage_exception_handler_applies_to_sub_app_errors(test_client_factory: TestClientFactory) -> None:
    class Forbidden(Exception):
        pass

    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("outer handled", status_code=403)

    async def endpoint(request: Request) -> Response:
        raise Forbidden()

    app = Starlette(routes=[Mount("/sub", routes=[Route("/x", endpoint)])], exception_handlers={Forbidden: handler})
    response = test_client_factory(app).get("/sub/x")
    assert (response.status_code, response.text) == (403, "outer handled")


def test_usage_json_api_with_cookies_and_redirect_after_post(test_client_factory: TestClientFactory) -> None:
    async def login(request: Request) -> Response:
        form = await request.form()
        response = RedirectResponse(request.url_for("profile"), status_code=303)
        response.set_cookie("user", str(form["username"]), httponly=True)
        return response

    async def profile(request: Request) -> Response:
        return JSONResponse({"user": request.cookies.get("user"), "method": request.method})

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/profile", profile, name="profile")])
    client = test_client_factory(app)
    response = client.post("/login", data={"username": "tom"})
    assert response.json() == {"user": "tom", "method": "GET"}
    assert [r.status_code for r in response.history] == [303]


def test_usage_environment_variable_file_path(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "PATH_SETTING=value\n")
    config = Config(str(env_file), environ=os.environ.copy())
    assert config("PATH_SETTING") == "value"


# ---------------------------------------------------------------------------------------------------------------
# More routing / request / response details that FastAPI-style applications rely on
# ---------------------------------------------------------------------------------------------------------------


def test_routing_full_match_wins_over_earlier_method_mismatch(test_client_factory: TestClientFactory) -> None:
    async def post(request: Request) -> PlainTextResponse:
        return PlainTextResponse("post")

    async def get(request: Request) -> PlainTextResponse:
        return PlainTextResponse("get")

    app = Starlette(routes=[Route("/x", post, methods=["POST"]), Route("/x", get, methods=["GET"])])
    client = test_client_factory(app)
    assert client.get("/x").text == "get"
    assert client.post("/x").text == "post"
    response = client.put("/x")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"POST"}


def test_routing_options_is_not_implicit(test_client_factory: TestClientFactory) -> None:
    response = test_client_factory(Starlette(routes=[Route("/", echo_path)])).options("/")
    assert response.status_code == 405


def test_routing_mount_at_root(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Mount("/", routes=[Route("/example", echo_path)], middleware=[Middleware(ASGIMiddleware)])])
    response = test_client_factory(app).get("/example")
    assert (response.status_code, response.text) == (200, "/example")
    assert response.headers["x-pure"] == "asgi"


def test_routing_path_params_are_url_decoded(test_client_factory: TestClientFactory) -> None:
    async def user(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["username"])

    assert test_client_factory(Starlette(routes=[Route("/users/{username}", user)])).get("/users/a%20b").text == "a b"


def test_routing_url_for_from_websocket(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(str(websocket.url_for("ws", room="lobby")))
        await websocket.send_text(str(websocket.url_for("page")))
        await websocket.close()

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("ws", room="a")))

    app = Starlette(routes=[WebSocketRoute("/ws/{room}", ws, name="ws"), Route("/page", page, name="page")])
    client = test_client_factory(app)
    assert client.get("/page").text == "ws://testserver/ws/a"
    assert test_client_factory(app, base_url="https://testserver").get("/page").text == "wss://testserver/ws/a"
    with client.websocket_connect("/ws/x") as session:
        assert session.receive_text() == "ws://testserver/ws/lobby"
        # URLs keep the protocol of the route they name: an HTTP route gets an http:// URL.
        assert session.receive_text() == "http://testserver/page"


def test_routing_sub_app_exception_handlers_are_its_own(test_client_factory: TestClientFactory) -> None:
    async def json_not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"outer": True}, status_code=404)

    async def inner_raises(request: Request) -> Response:
        raise HTTPException(404)

    inner = Starlette(routes=[Route("/raises", inner_raises)])
    app = Starlette(routes=[Mount("/inner", app=inner)], exception_handlers={404: json_not_found})
    client = test_client_factory(app)
    assert client.get("/nowhere").json() == {"outer": True}
    # Inside the mounted Starlette app its own (default) ExceptionMiddleware answers.
    assert client.get("/inner/raises").text == "Not Found"
    assert client.get("/inner/nowhere").text == "Not Found"


def test_routing_mounted_app_lifespan_is_not_run(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def inner_lifespan(app: Starlette) -> AsyncIterator[None]:  # pragma: no cover - must not run
        events.append("inner")
        yield

    @contextlib.asynccontextmanager
    async def outer_lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("outer")
        yield

    inner = Starlette(lifespan=inner_lifespan, routes=[Route("/", echo_path)])
    app = Starlette(lifespan=outer_lifespan, routes=[Mount("/inner", app=inner)])
    with test_client_factory(app) as client:
        assert client.get("/inner/").text == "/inner/"
    assert events == ["outer"]


def test_routing_sub_app_middleware_runs_for_mounted_paths(test_client_factory: TestClientFactory) -> None:
    inner = Starlette(
        routes=[Route("/", echo_path)], middleware=[Middleware(CustomHeaderMiddleware, header_value="inner")]
    )
    app = Starlette(routes=[Mount("/inner", app=inner), Route("/", echo_path)])
    client = test_client_factory(app)
    assert client.get("/inner/").headers["custom"] == "inner"
    assert "custom" not in client.get("/").headers


def test_routing_request_url_for_base_url_with_root_path(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"base_url": str(request.base_url)})

    client = test_client_factory(Starlette(routes=[Route("/", endpoint)]), root_path="/prefix")
    assert client.get("/").json() == {"base_url": "http://testserver/prefix/"}
    plain = test_client_factory(Starlette(routes=[Route("/", endpoint)]))
    assert plain.get("/").json() == {"base_url": "http://testserver/"}


def test_requests_query_params_keep_blank_values(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await JSONResponse(request.query_params.multi_items())(scope, receive, send)

    assert test_client_factory(app).get("/?a=&b&c=1").json() == [["a", ""], ["b", ""], ["c", "1"]]


def test_requests_path_params_default_empty() -> None:
    assert Request(make_scope()).path_params == {}


def test_requests_wrong_scope_type_is_rejected() -> None:
    with pytest.raises(AssertionError):
        Request(make_scope(type="websocket"))

    async def receive() -> Message:  # pragma: no cover - not reached
        raise AssertionError

    async def send(message: Message) -> None:  # pragma: no cover - not reached
        raise AssertionError

    with pytest.raises(AssertionError):
        WebSocket(make_scope(), receive, send)


def test_requests_session_auth_user_require_middleware() -> None:
    request = Request(make_scope())
    with pytest.raises(AssertionError, match="SessionMiddleware must be installed to access request.session"):
        request.session  # noqa: B018
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed to access request.auth"):
        request.auth  # noqa: B018
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed to access request.user"):
        request.user  # noqa: B018


def test_requests_body_and_form_are_cached(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        first = await request.body()
        second = await request.body()
        form_a = await request.form()
        form_b = await request.form()
        return JSONResponse({"same_body": first == second == b"a=1", "same_form": form_a is form_b})

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    response = test_client_factory(app).post(
        "/", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.json() == {"same_body": True, "same_form": True}


def test_requests_form_without_content_type_is_empty(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        form = await request.form()
        return PlainTextResponse(str(len(form)))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    assert test_client_factory(app).post("/", content=b"raw").text == "0"


def test_requests_state_shared_between_middleware_and_endpoint(test_client_factory: TestClientFactory) -> None:
    class ReadState(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            request.state.from_middleware = "mw"
            response = await call_next(request)
            response.headers["x-user"] = request.state.user
            return response

    async def endpoint(request: Request) -> PlainTextResponse:
        request.state.user = "tom"
        return PlainTextResponse(request.state.from_middleware)

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(ReadState)])
    response = test_client_factory(app).get("/")
    assert response.text == "mw"
    assert response.headers["x-user"] == "tom"


def test_responses_user_headers_win_over_defaults() -> None:
    response = Response("x", media_type="text/plain", headers={"content-type": "text/csv", "content-length": "1"})
    assert response.headers.getlist("content-type") == ["text/csv"]
    assert response.headers.getlist("content-length") == ["1"]


def test_responses_headers_view_updates_raw_headers() -> None:
    response = Response(b"x")
    response.headers["x-new"] = "1"
    response.headers.append("x-new", "2")
    assert (b"x-new", b"1") in response.raw_headers
    assert (b"x-new", b"2") in response.raw_headers
    del response.headers["x-new"]
    assert all(key != b"x-new" for key, _ in response.raw_headers)


def test_responses_streaming_without_media_type_has_no_content_type(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(iter([b"a", b"b"]))(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.content == b"ab"
    assert "content-type" not in response.headers


def test_responses_media_type_class_attribute_subclass() -> None:
    class CSVResponse(Response):
        media_type = "text/csv"

    assert CSVResponse("a,b").headers["content-type"] == "text/csv; charset=utf-8"


def test_responses_redirect_has_empty_body() -> None:
    response = RedirectResponse("/x")
    assert response.body == b""
    assert response.headers["content-length"] == "0"


def test_responses_file_response_with_stat_result_and_background(
    test_client_factory: TestClientFactory, hundred_bytes: Path
) -> None:
    ran: list[str] = []

    async def endpoint(request: Request) -> FileResponse:
        return FileResponse(
            hundred_bytes, stat_result=os.stat(hundred_bytes), background=BackgroundTask(ran.append, "x")
        )

    response = test_client_factory(Starlette(routes=[Route("/", endpoint)])).get("/")
    assert response.headers["content-length"] == "100"
    assert response.content == b"0123456789" * 10
    assert ran == ["x"]


def test_exceptions_status_handler_takes_precedence_over_class_handler(test_client_factory: TestClientFactory) -> None:
    def by_status(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("by status", status_code=404)

    def by_class(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse("by class", status_code=exc.status_code)

    class Teapot(HTTPException):
        def __init__(self) -> None:
            super().__init__(418, "short and stout")

    async def missing(request: Request) -> Response:
        raise HTTPException(404)

    async def teapot(request: Request) -> Response:
        raise Teapot()

    app = Starlette(
        routes=[Route("/missing", missing), Route("/teapot", teapot)],
        exception_handlers={404: by_status, HTTPException: by_class},
    )
    client = test_client_factory(app)
    assert client.get("/missing").text == "by status"
    teapot_response = client.get("/teapot")
    assert (teapot_response.status_code, teapot_response.text) == (418, "by class")


def test_exceptions_http_exception_in_sync_endpoint(test_client_factory: TestClientFactory) -> None:
    def endpoint(request: Request) -> Response:
        raise HTTPException(403, detail="sync forbidden")

    response = test_client_factory(Starlette(routes=[Route("/", endpoint)])).get("/")
    assert (response.status_code, response.text) == (403, "sync forbidden")


def test_middleware_contextvars_flow(test_client_factory: TestClientFactory) -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: dict[str, str] = {}

    class PureReader:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            var.set("from pure middleware")
            await self.app(scope, receive, send)
            seen["pure after"] = var.get()

    class BaseReader(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            seen["base before"] = var.get()
            response = await call_next(request)
            seen["base after"] = var.get()
            return response

    async def endpoint(request: Request) -> PlainTextResponse:
        seen["endpoint"] = var.get()
        var.set("from endpoint")
        return PlainTextResponse("ok")

    pure_only = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(PureReader)])
    test_client_factory(pure_only).get("/")
    assert seen == {"endpoint": "from pure middleware", "pure after": "from endpoint"}
    seen.clear()
    with_base = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(PureReader), Middleware(BaseReader)])
    test_client_factory(with_base).get("/")
    # The documented BaseHTTPMiddleware limitation: endpoint changes do not propagate upwards.
    assert seen == {
        "base before": "from pure middleware",
        "endpoint": "from pure middleware",
        "base after": "from pure middleware",
        "pure after": "from pure middleware",
    }


def test_middleware_base_http_no_response_returned(test_client_factory: TestClientFactory) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    app = CustomHeaderMiddleware(silent)
    with pytest.raises(RuntimeError, match="No response returned."):
        test_client_factory(app).get("/")


def test_middleware_positional_args_and_factories(test_client_factory: TestClientFactory) -> None:
    class Positional:
        def __init__(self, app: ASGIApp, name: str, value: str) -> None:
            self.app = app
            self.name = name
            self.value = value

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def send_wrapper(message: Message) -> None:
                if message["type"] == "http.response.start":
                    MutableHeaders(scope=message)[self.name] = self.value
                await send(message)

            await self.app(scope, receive, send_wrapper)

    def factory(app: ASGIApp, *, value: str) -> ASGIApp:
        return Positional(app, "x-factory", value)

    app = Starlette(
        routes=[Route("/", echo_path)],
        middleware=[Middleware(Positional, "x-positional", "1"), Middleware(factory, value="2")],
    )
    app.add_middleware(Positional, "x-added", value="3")
    response = test_client_factory(app).get("/")
    assert response.headers["x-positional"] == "1"
    assert response.headers["x-factory"] == "2"
    assert response.headers["x-added"] == "3"
    assert repr(Middleware(Positional, "x", value="y")) == "Middleware(Positional, 'x', value='y')"


def test_testclient_asgi2_application(test_client_factory: TestClientFactory) -> None:
    class ASGI2App:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await PlainTextResponse(f"asgi2 {self.scope['path']}")(self.scope, receive, send)

    assert test_client_factory(ASGI2App).get("/x").text == "asgi2 /x"  # type: ignore[arg-type]  # ASGI2 on purpose


def test_testclient_params_and_json(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"q": request.query_params.get("q"), "json": await request.json()})

    client = test_client_factory(Starlette(routes=[Route("/", endpoint, methods=["PUT"])]))
    assert client.put("/", params={"q": "x y"}, json={"a": [1]}).json() == {"q": "x y", "json": {"a": [1]}}


def test_testclient_websocket_headers_and_cookies(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {"auth": websocket.headers.get("authorization"), "cookie": websocket.cookies.get("c")}
        )
        await websocket.close()

    client = test_client_factory(Starlette(routes=[WebSocketRoute("/", ws)]), cookies={"c": "v"})
    with client.websocket_connect("/", headers={"Authorization": "Bearer t"}) as session:
        assert session.receive_json() == {"auth": "Bearer t", "cookie": "v"}


def test_testclient_websocket_exception_before_accept_raised_on_connect(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("before accept")

    with pytest.raises(ValueError, match="before accept"):
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - connect fails


def test_testclient_websocket_app_error_raised_on_exit(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_text("one")
        raise ValueError("after send")

    with pytest.raises(ValueError, match="after send"):
        with test_client_factory(app).websocket_connect("/") as session:
            assert session.receive_text() == "one"


def test_websockets_receive_after_disconnect_raises(test_client_factory: TestClientFactory) -> None:
    errors: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"
        try:
            await websocket.receive()
        except RuntimeError as exc:
            errors.append(str(exc))

    with test_client_factory(app).websocket_connect("/"):
        pass
    assert errors == ['Cannot call "receive" once a disconnect message has been received.']


def test_websockets_receive_text_raises_disconnect(test_client_factory: TestClientFactory) -> None:
    codes: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)

    with test_client_factory(app).websocket_connect("/") as session:
        session.close(code=1001)
    assert codes == [1001]


def test_endpoints_websocket_endpoint_without_encoding_gets_raw_data(test_client_factory: TestClientFactory) -> None:
    class App(WebSocketEndpoint):
        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_text(f"{type(data).__name__}:{data!r}")

    with test_client_factory(App).websocket_connect("/") as session:
        session.send_text("t")
        assert session.receive_text() == "str:'t'"
        session.send_bytes(b"b")
        assert session.receive_text() == "bytes:b'b'"


def test_exceptions_debug_page_content(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(debug=True, routes=[Route("/crash", crash)]), raise_server_exceptions=False)
    plain = client.get("/crash")
    assert plain.text.startswith("Traceback (most recent call last):")
    assert plain.text.rstrip("\n").endswith("RuntimeError: boom")
    html = client.get("/crash", headers={"accept": "text/html,application/xhtml+xml"}).text
    assert "<title>Starlette Debugger</title>" in html
    assert "<h1>500 Server Error</h1>" in html
    assert "<h2>RuntimeError: boom</h2>" in html
    assert "crash" in html


def test_exceptions_debug_page_escapes_html(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        raise ValueError("<script>alert(1)</script>")

    client = test_client_factory(Starlette(debug=True, routes=[Route("/", endpoint)]), raise_server_exceptions=False)
    html = client.get("/", headers={"accept": "text/html"}).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_applications_debug_attribute_can_be_set_before_first_request(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/crash", crash)])
    assert app.debug is False
    app.debug = True
    response = test_client_factory(app, raise_server_exceptions=False).get("/crash")
    assert "RuntimeError: boom" in response.text


def test_requests_cookie_parser_rules() -> None:
    from starlette.requests import cookie_parser

    assert cookie_parser("a=1; b=2") == {"a": "1", "b": "2"}
    assert cookie_parser('a="quoted value"') == {"a": "quoted value"}
    assert cookie_parser("a=1; a=2") == {"a": "2"}
    assert cookie_parser("a=x=y") == {"a": "x=y"}
    assert cookie_parser("  spaced  =  value  ") == {"spaced": "value"}
    assert cookie_parser("novalue") == {"": "novalue"}
    assert cookie_parser("") == {}
    assert cookie_parser("a=1;;b=2;") == {"a": "1", "b": "2"}


def test_responses_set_cookie_quotes_special_values() -> None:
    response = Response()
    response.set_cookie("a", "b c")
    assert response.headers["set-cookie"] == 'a="b c"; Path=/; SameSite=lax'


def test_responses_delete_cookie_keeps_attributes() -> None:
    response = Response()
    response.delete_cookie("a", path="/sub", domain="example.org", secure=True, httponly=True, samesite="strict")
    header = response.headers["set-cookie"]
    for part in ("Domain=example.org", "HttpOnly", "Max-Age=0", "Path=/sub", "SameSite=strict", "Secure"):
        assert part in header


def test_routing_literal_path_characters_are_not_regex(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/file.txt", echo_path), Route("/a+b", echo_path), Route("/(x)", echo_path)])
    client = test_client_factory(app)
    assert client.get("/file.txt").status_code == 200
    assert client.get("/fileXtxt").status_code == 404
    assert client.get("/a+b").status_code == 200
    assert client.get("/aab").status_code == 404
    assert client.get("/(x)").status_code == 200


def test_routing_parameter_with_suffix(test_client_factory: TestClientFactory) -> None:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse(request.path_params)

    app = Starlette(routes=[Route("/files/{name}.json", show, name="file"), Route("/v{version:int}/x", show)])
    client = test_client_factory(app)
    assert client.get("/files/report.json").json() == {"name": "report"}
    assert client.get("/v2/x").json() == {"version": 2}
    assert app.url_path_for("file", name="a") == "/files/a.json"


def test_routing_duplicated_param_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="Duplicated param name id at path /{id}/{id}"):
        Route("/{id}/{id}", echo_path)


def test_routing_host_parameter_with_dots(test_client_factory: TestClientFactory) -> None:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse(request.path_params)

    app = Starlette(routes=[Host("{tenant}.example.org", Router(routes=[Route("/", show)]))])
    response = test_client_factory(app).get("/", headers={"host": "acme.example.org:8080"})
    assert response.json() == {"tenant": "acme"}


@pytest.mark.anyio
async def test_requests_stream_chunks_and_disconnect() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"def"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    request = Request(make_scope(method="POST"), receive)
    assert [chunk async for chunk in request.stream()] == [b"abc", b"def", b""]
    with pytest.raises(RuntimeError, match="Stream consumed"):
        async for _ in request.stream():
            pass  # pragma: no cover - raises first

    disconnecting: list[Message] = [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive_disconnect() -> Message:
        return disconnecting.pop(0)

    from starlette.requests import ClientDisconnect

    with pytest.raises(ClientDisconnect):
        await Request(make_scope(method="POST"), receive_disconnect).body()


@pytest.mark.anyio
async def test_requests_stream_after_body_replays_it() -> None:
    messages: list[Message] = [{"type": "http.request", "body": b"data"}]

    async def receive() -> Message:
        return messages.pop(0)

    request = Request(make_scope(method="POST"), receive)
    assert await request.body() == b"data"
    assert [chunk async for chunk in request.stream()] == [b"data", b""]
    assert await request.body() == b"data"


def test_requests_form_urlencoded_decoding(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> JSONResponse:
        form = await request.form()
        return JSONResponse(form.multi_items())

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    response = test_client_factory(app).post(
        "/", content=b"a=b+c%20d&e=%C3%A9&empty=", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.json() == [["a", "b c d"], ["e", "é"], ["empty", ""]]


def test_testclient_https_and_absolute_urls(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        data = {"scheme": scope["scheme"], "server": list(scope["server"]), "url": str(request.url)}
        await JSONResponse(data)(scope, receive, send)

    client = test_client_factory(app, base_url="https://testserver")
    assert client.get("/x").json() == {"scheme": "https", "server": ["testserver", 443], "url": "https://testserver/x"}
    other = client.get("http://other.example:8000/y").json()
    assert other == {"scheme": "http", "server": ["other.example", 8000], "url": "http://other.example:8000/y"}


def test_responses_raw_header_order_and_lowercasing() -> None:
    response = HTMLResponse("hi", headers={"X-A": "1"})
    assert response.raw_headers == [
        (b"x-a", b"1"),
        (b"content-length", b"2"),
        (b"content-type", b"text/html; charset=utf-8"),
    ]
    assert Response("x", media_type="text/plain; CHARSET=latin-1").headers["content-type"] == (
        "text/plain; CHARSET=latin-1"
    )


def test_responses_streaming_known_size_and_async_iterable(test_client_factory: TestClientFactory) -> None:
    class Numbers:
        def __aiter__(self) -> AsyncIterator[str]:
            return self.gen()

        async def gen(self) -> AsyncIterator[str]:
            for n in range(5):
                yield str(n)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(Numbers(), headers={"content-length": "5"}, media_type="text/plain")(
            scope, receive, send
        )

    response = test_client_factory(app).get("/")
    assert response.text == "01234"
    assert response.headers["content-length"] == "5"


def test_exceptions_handled_exception_after_response_started(test_client_factory: TestClientFactory) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"partial"
        raise HTTPException(409)

    async def endpoint(request: Request) -> Response:
        return StreamingResponse(gen())

    client = test_client_factory(Starlette(routes=[Route("/", endpoint)]))
    with pytest.raises(RuntimeError, match="Caught handled exception, but response already started."):
        client.get("/")


def test_exceptions_subclass_repr_uses_class_name() -> None:
    class CustomHTTPException(HTTPException):
        pass

    class CustomWebSocketException(WebSocketException):
        pass

    assert repr(CustomHTTPException(500, detail="x")) == "CustomHTTPException(status_code=500, detail='x')"
    assert repr(CustomWebSocketException(1013, reason="r")) == "CustomWebSocketException(code=1013, reason='r')"


def test_applications_add_event_handler(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def async_startup() -> None:
        events.append("async startup")

    def sync_shutdown() -> None:
        events.append("sync shutdown")

    app = Starlette()
    app.add_event_handler("startup", async_startup)
    app.add_event_handler("shutdown", sync_shutdown)
    with test_client_factory(app):
        assert events == ["async startup"]
    assert events == ["async startup", "sync shutdown"]


def test_applications_middleware_returning_a_new_response(test_client_factory: TestClientFactory) -> None:
    class Replace(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            return JSONResponse({"wrapped": body.decode(), "status": response.status_code}, status_code=201)

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(Replace)])
    response = test_client_factory(app).get("/")
    assert response.status_code == 201
    assert response.json() == {"wrapped": "/", "status": 200}


def test_routing_standalone_route_objects_are_asgi_apps(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("standalone ws")
        await websocket.close()

    route_client = test_client_factory(Route("/", echo_path))
    assert route_client.get("/").text == "/"
    missing = route_client.get("/other")
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert route_client.post("/").status_code == 405
    ws_client = test_client_factory(WebSocketRoute("/ws", ws))
    with ws_client.websocket_connect("/ws") as session:
        assert session.receive_text() == "standalone ws"
    with pytest.raises(WebSocketDisconnect):
        with ws_client.websocket_connect("/other"):
            pass  # pragma: no cover - refused
    mount_client = test_client_factory(Mount("/m", routes=[Route("/x", echo_path)]))
    assert mount_client.get("/m/x").text == "/m/x"
    assert mount_client.get("/n/x").status_code == 404


def test_routing_http_and_websocket_on_the_same_path(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws side")
        await websocket.close()

    app = Starlette(routes=[Route("/", echo_path), WebSocketRoute("/", ws)])
    client = test_client_factory(app)
    assert client.get("/").text == "/"
    with client.websocket_connect("/") as session:
        assert session.receive_text() == "ws side"


def test_routing_reprs() -> None:
    assert repr(Route("/", echo_path)) == "Route(path='/', name='echo_path', methods=['GET', 'HEAD'])"
    assert repr(Route("/p", echo_path, methods=["POST"], name="p")) == "Route(path='/p', name='p', methods=['POST'])"

    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - never called
        pass

    assert repr(WebSocketRoute("/ws", ws)) == "WebSocketRoute(path='/ws', name='ws')"


def test_routing_root_path_scope_and_url(test_client_factory: TestClientFactory) -> None:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse(
            {"path": request.scope["path"], "root_path": request.scope["root_path"], "url": str(request.url)}
        )

    app = Starlette(routes=[Route("/path", show)])
    client = test_client_factory(app, root_path="/root")
    assert client.get("/root/path").json() == {
        "path": "/root/path",
        "root_path": "/root",
        "url": "http://testserver/root/path",
    }


def test_routing_url_for_with_root_path_and_mounts(test_client_factory: TestClientFactory) -> None:
    async def links(request: Request) -> JSONResponse:
        return JSONResponse(
            {"index": str(request.url_for("homepage")), "submount": str(request.url_for("submount:submount_homepage"))}
        )

    app = Starlette(
        routes=[
            Route("/", links, name="homepage"),
            Mount("/submount", name="submount", routes=[Route("/", links, name="submount_homepage")]),
        ]
    )
    client = test_client_factory(app, base_url="https://www.example.org/", root_path="/sub_path")
    expected = {"index": "https://www.example.org/sub_path/", "submount": "https://www.example.org/sub_path/submount/"}
    assert client.get("/sub_path/").json() == expected
    assert client.get("/sub_path/submount/").json() == expected


def test_routing_exception_in_mounted_app_propagates(test_client_factory: TestClientFactory) -> None:
    inner = Starlette(routes=[Route("/crash", crash)])
    app = Starlette(routes=[Mount("/inner", app=inner)])
    with pytest.raises(RuntimeError, match="boom"):
        test_client_factory(app).get("/inner/crash")


def test_testclient_user_agent_override(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(Request(scope).headers["user-agent"])(scope, receive, send)

    assert test_client_factory(app).get("/").text == "testclient"
    assert test_client_factory(app, headers={"user-agent": "custom"}).get("/").text == "custom"


def test_testclient_used_inside_an_endpoint(test_client_factory: TestClientFactory) -> None:
    def mock_service_endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"mock": "example"})

    mock_service = Starlette(routes=[Route("/", endpoint=mock_service_endpoint)])

    def homepage(request: Request) -> JSONResponse:
        client = test_client_factory(mock_service)
        response = client.get("/")
        return JSONResponse(response.json())

    app = Starlette(routes=[Route("/", endpoint=homepage)])
    assert test_client_factory(app).get("/").json() == {"mock": "example"}


def test_testclient_websocket_scope(test_client_factory: TestClientFactory) -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))
        await WebSocket(scope, receive, send).accept()

    with test_client_factory(app).websocket_connect("/hello%20world?foo=bar"):
        pass
    (scope,) = seen
    assert scope["type"] == "websocket"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/hello world"
    assert scope["raw_path"] == b"/hello%20world"
    assert scope["query_string"] == b"foo=bar"
    assert scope["subprotocols"] == []
    assert "websocket.http.response" in scope["extensions"]


@pytest.mark.anyio
async def test_websockets_message_order_errors() -> None:
    incoming: list[Message] = [{"type": "websocket.receive", "text": "x"}, {"type": "websocket.connect"}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        pass

    websocket = WebSocket(make_scope(type="websocket"), receive, send)
    with pytest.raises(RuntimeError, match="Expected ASGI message \"websocket.connect\", but got 'websocket.receive'"):
        await websocket.receive()
    fresh = WebSocket(make_scope(type="websocket"), receive, send)
    with pytest.raises(RuntimeError, match="but got 'websocket.send'"):
        await fresh.send({"type": "websocket.send", "text": "too early"})
    await fresh.accept()
    with pytest.raises(RuntimeError, match='Expected ASGI message "websocket.send" or "websocket.close"'):
        await fresh.send({"type": "websocket.accept"})
    await fresh.close()
    with pytest.raises(RuntimeError, match='Cannot call "send" once a close message has been sent.'):
        await fresh.close()


def test_websockets_denial_response_in_parts(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.send({"type": "websocket.http.response.start", "status": 404, "headers": [(b"x-a", b"1")]})
        await websocket.send({"type": "websocket.http.response.body", "body": b"not ", "more_body": True})
        await websocket.send({"type": "websocket.http.response.body", "body": b"here"})

    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - denied
    assert (info.value.status_code, info.value.content, info.value.headers["x-a"]) == (404, b"not here", "1")


def test_middleware_base_http_request_body_flows_to_endpoint(test_client_factory: TestClientFactory) -> None:
    class ConsumeStream(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if request.url.path == "/after-stream":
                async for _ in request.stream():
                    pass
            elif request.url.path == "/after-body":
                await request.body()
            return await call_next(request)

    async def endpoint(request: Request) -> PlainTextResponse:
        chunks = [chunk async for chunk in request.stream()]
        return PlainTextResponse(repr(b"".join(chunks)))

    app = Starlette(
        routes=[Route("/after-stream", endpoint, methods=["POST"]), Route("/after-body", endpoint, methods=["POST"])],
        middleware=[Middleware(ConsumeStream)],
    )
    client = test_client_factory(app)
    assert client.post("/after-body", content=b"payload").text == "b'payload'"
    # The middleware drained the stream: the endpoint gets an empty body instead of hanging.
    assert client.post("/after-stream", content=b"payload").text == "b''"


def test_applications_scope_app_is_the_innermost_starlette(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.app.state.name)

    inner = Starlette(routes=[Route("/", endpoint)])
    inner.state.name = "inner"
    outer = Starlette(routes=[Mount("/inner", app=inner), Route("/", endpoint)])
    outer.state.name = "outer"
    client = test_client_factory(outer)
    assert client.get("/").text == "outer"
    assert client.get("/inner/").text == "inner"


def test_routing_routes_property_of_mount_and_host() -> None:
    inner_routes = [Route("/a", echo_path)]
    inner = Starlette(routes=inner_routes)
    assert Mount("/x", app=inner).routes == inner_routes
    assert Mount("/y", routes=inner_routes).routes == inner_routes
    assert Host("example.org", app=inner).routes == inner_routes
    assert Mount("/z", app=mounted_asgi_app).routes == []


@pytest.mark.parametrize(
    ("scope_update", "expected"),
    [
        ({"headers": [], "server": ("example.org", 8080)}, "http://example.org:8080/p?q=1"),
        ({"headers": [], "server": ("example.org", 80)}, "http://example.org/p?q=1"),
        ({"headers": [], "server": ("example.org", 443), "scheme": "https"}, "https://example.org/p?q=1"),
        ({"headers": [(b"host", b"front.example:81")]}, "http://front.example:81/p?q=1"),
        ({"headers": [], "server": None}, "/p?q=1"),
    ],
)
def test_requests_url_from_scope(scope_update: dict[str, Any], expected: str) -> None:
    scope = make_scope("/p", query_string=b"q=1")
    scope.update(scope_update)
    assert str(Request(scope).url) == expected


def test_requests_header_and_query_decoding() -> None:
    scope = make_scope(headers=[(b"x-name", b"caf\xe9")], query_string=b"q=a+b%2Bc&e=%C3%A9")
    request = Request(scope)
    assert request.headers["x-name"] == "café"
    assert request.query_params["q"] == "a b+c"
    assert request.query_params["e"] == "é"
    assert request.cookies == {}


def test_requests_json_is_cached(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        first = await request.json()
        second = await request.json()
        return PlainTextResponse(str(first is second))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    assert test_client_factory(app).post("/", content=b'{"a": [1]}').text == "True"


def test_requests_close_closes_uploaded_files(test_client_factory: TestClientFactory) -> None:
    closed: list[bool] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        form = await request.form()
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        await request.close()
        closed.append(upload.file.closed)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    test_client_factory(app).post("/", files={"f": ("f.txt", b"data")})
    assert closed == [True]


def test_requests_multipart_without_boundary_is_400(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        form = await request.form()
        return PlainTextResponse(str(len(form)))  # pragma: no cover - the form is rejected

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    response = test_client_factory(app).post("/", content=b"x", headers={"content-type": "multipart/form-data"})
    assert (response.status_code, response.text) == (400, "Missing boundary in multipart.")


def test_routing_redirect_slashes_details(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:  # pragma: no cover - the websocket never matches
        await websocket.accept()

    app = Starlette(
        routes=[Route("/about", echo_path), Mount("/users", routes=[Route("/", echo_path)]), WebSocketRoute("/ws", ws)]
    )
    client = test_client_factory(app, follow_redirects=False)
    # A method mismatch on the other spelling still redirects: the redirected request gets the 405.
    post = client.post("/about/")
    assert (post.status_code, post.headers["location"]) == (307, "http://testserver/about")
    mount = client.get("/users?page=2")
    assert (mount.status_code, mount.headers["location"]) == (307, "http://testserver/users/?page=2")
    assert client.get("/nothing/").status_code == 404
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws/"):
            pass  # pragma: no cover - websockets are never redirected


def test_routing_redirect_slashes_keeps_root_path(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/about", echo_path)])
    client = test_client_factory(app, root_path="/root", follow_redirects=False)
    response = client.get("/root/about/")
    assert (response.status_code, response.headers["location"]) == (307, "http://testserver/root/about")


def test_routing_405_inside_a_mount(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Mount("/api", routes=[Route("/items", echo_path, methods=["POST"])])])
    client = test_client_factory(app)
    response = client.get("/api/items")
    assert (response.status_code, response.text) == (405, "Method Not Allowed")
    assert response.headers["allow"] == "POST"
    assert client.head("/api/items").status_code == 405


@pytest.mark.parametrize(
    ("range_header", "status_code", "body"),
    [("bytes=0-0", 206, b"0"), ("bytes=99-", 206, b"9"), ("bytes=100-", 416, b""), ("bytes=-100", 206, None)],
)
def test_responses_file_response_range_edges(
    test_client_factory: TestClientFactory, hundred_bytes: Path, range_header: str, status_code: int, body: bytes | None
) -> None:
    response = test_client_factory(file_app(hundred_bytes)).get("/", headers={"range": range_header})
    assert response.status_code == status_code
    if body is None:
        assert response.content == b"0123456789" * 10
        assert response.headers["content-range"] == "bytes 0-99/100"
    elif status_code == 206:
        assert response.content == body


def test_responses_file_response_head_with_range(test_client_factory: TestClientFactory, hundred_bytes: Path) -> None:
    response = test_client_factory(file_app(hundred_bytes)).head("/", headers={"range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["content-length"] == "10"
    assert response.headers["content-range"] == "bytes 10-19/100"


def test_middleware_errors_raised_in_middleware_skip_exception_middleware(
    test_client_factory: TestClientFactory,
) -> None:
    class Failing(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            raise ValueError("middleware failure")

    def value_error(request: Request, exc: Exception) -> Response:  # pragma: no cover - not reachable from middleware
        return PlainTextResponse("value error handler", status_code=400)

    def catch_all(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"catch all: {exc}", status_code=500)

    by_class = Starlette(
        routes=[Route("/", echo_path)], middleware=[Middleware(Failing)], exception_handlers={ValueError: value_error}
    )
    response = test_client_factory(by_class, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    server_level = Starlette(
        routes=[Route("/", echo_path)], middleware=[Middleware(Failing)], exception_handlers={Exception: catch_all}
    )
    response = test_client_factory(server_level, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "catch all: middleware failure")


def test_middleware_base_http_can_recover_from_endpoint_errors(test_client_factory: TestClientFactory) -> None:
    class Recover(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            try:
                return await call_next(request)
            except RuntimeError as exc:
                return PlainTextResponse(f"recovered from {exc}", status_code=503)

    app = Starlette(routes=[Route("/crash", crash)], middleware=[Middleware(Recover)])
    response = test_client_factory(app).get("/crash")
    assert (response.status_code, response.text) == (503, "recovered from boom")


def test_testclient_per_request_timeout_is_deprecated(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", echo_path)]))
    with pytest.warns(DeprecationWarning):
        response = client.get("/", timeout=5)
    assert response.text == "/"


def test_responses_charset_class_attribute() -> None:
    class Latin1Response(PlainTextResponse):
        charset = "latin-1"

    response = Latin1Response("café")
    assert response.body == "café".encode("latin-1")
    assert response.headers["content-type"] == "text/plain; charset=latin-1"
    assert PlainTextResponse(None).body == b""
    custom = JSONResponse({"a": 1}, media_type="application/vnd.api+json", status_code=202)
    assert custom.headers["content-type"] == "application/vnd.api+json"
    assert custom.status_code == 202


def test_config_none_default_is_not_cast() -> None:
    config = Config(environ={})
    assert config("PORT", cast=int, default=None) is None


def test_testclient_partial_response_when_app_fails_after_start(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-started", b"1")]})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("failed mid-response")

    with pytest.raises(ValueError, match="failed mid-response"):
        test_client_factory(app).get("/")
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.headers["x-started"], response.content) == (200, "1", b"partial")


def test_testclient_stream_api(test_client_factory: TestClientFactory) -> None:
    async def gen() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"chunk{n};".encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(gen(), media_type="text/plain")(scope, receive, send)

    with test_client_factory(app).stream("GET", "/") as response:
        assert response.status_code == 200
        assert b"".join(response.iter_bytes()) == b"chunk0;chunk1;chunk2;"


def test_routing_mounted_router_not_found_uses_app_handlers(test_client_factory: TestClientFactory) -> None:
    async def not_found_json(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "custom not found"}, status_code=404)

    app = Starlette(
        routes=[
            Mount("/r", app=Router(routes=[Route("/x", echo_path)])),
            Host("api.example.org", app=Router(routes=[Route("/", echo_path)])),
        ],
        exception_handlers={404: not_found_json},
    )
    client = test_client_factory(app)
    assert client.get("/r/x").text == "/r/x"
    assert client.get("/r/missing").json() == {"detail": "custom not found"}
    assert client.get("/missing", headers={"host": "api.example.org"}).json() == {"detail": "custom not found"}


def test_exceptions_sync_500_handler(test_client_factory: TestClientFactory) -> None:
    def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"sync 500 handler: {exc}", status_code=500)

    app = Starlette(routes=[Route("/crash", crash)], exception_handlers={500: handler})
    response = test_client_factory(app, raise_server_exceptions=False).get("/crash")
    assert (response.status_code, response.text) == (500, "sync 500 handler: boom")


def test_requests_large_upload_is_spooled_and_complete(test_client_factory: TestClientFactory) -> None:
    import hashlib

    payload = bytes(range(256)) * 8192  # 2 MiB: larger than the in-memory spool and the part limit

    async def endpoint(request: Request) -> JSONResponse:
        async with request.form() as form:
            upload = form["f"]
            assert isinstance(upload, UploadFile)
            data = await upload.read()
            return JSONResponse({"size": upload.size, "sha": hashlib.sha256(data).hexdigest()})

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    response = test_client_factory(app).post("/", files={"f": ("big.bin", payload, "application/octet-stream")})
    assert response.json() == {"size": len(payload), "sha": hashlib.sha256(payload).hexdigest()}


def test_requests_default_field_limit_is_1000(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        async with request.form() as form:
            return PlainTextResponse(str(len(form.multi_items())))

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    client = test_client_factory(app)
    ok = client.post("/", data={f"k{i}": "v" for i in range(1000)}, files={"f": ("f.txt", b"x")})
    assert ok.text == "1001"
    too_many = client.post("/", data={f"k{i}": "v" for i in range(1001)}, files={"f": ("f.txt", b"x")})
    assert (too_many.status_code, too_many.text) == (400, "Too many fields. Maximum number of fields is 1000.")


def test_testclient_websocket_handshake_headers(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        headers = websocket.headers
        await websocket.send_json(
            {
                "protocol": headers.get("sec-websocket-protocol"),
                "connection": headers.get("connection", "").lower(),
                "has_key": "sec-websocket-key" in headers,
                "version": headers.get("sec-websocket-version"),
            }
        )
        await websocket.close()

    with test_client_factory(app).websocket_connect("/", subprotocols=["a", "b"]) as session:
        assert session.receive_json() == {"protocol": "a, b", "connection": "upgrade", "has_key": True, "version": "13"}
