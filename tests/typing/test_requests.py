"""Typing of what an endpoint reads from its `Request` (and the data structures it gets)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, BinaryIO
from urllib.parse import SplitResult

from typing_extensions import assert_type

from starlette._utils import AwaitableOrContextManager
from starlette.applications import Starlette
from starlette.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
)
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope
from tests.types import TestClientFactory


def connection_views(conn: HTTPConnection) -> dict[str, Any]:
    """What `Request` and `WebSocket` share, typed as users see it."""
    assert_type(conn.scope, Scope)
    assert_type(conn["type"], Any)
    assert_type(conn.app, Any)
    assert_type(conn.url, URL)
    assert_type(conn.base_url, URL)
    assert_type(conn.headers, Headers)
    assert_type(conn.query_params, QueryParams)
    assert_type(conn.path_params, dict[str, Any])
    assert_type(conn.cookies, dict[str, str])
    assert_type(conn.client, Address | None)
    assert_type(conn.session, dict[str, Any])
    assert_type(conn.state, State)
    state = conn.state
    state.anything = [1]
    assert_type(conn.state.anything, Any)
    assert_type(conn.url_for("form"), URL)

    url = conn.url
    assert_type(url.scheme, str)
    assert_type(url.netloc, str)
    assert_type(url.path, str)
    assert_type(url.query, str)
    assert_type(url.fragment, str)
    assert_type(url.username, str | None)
    assert_type(url.password, str | None)
    assert_type(url.hostname, str | None)
    assert_type(url.port, int | None)
    assert_type(url.is_secure, bool)
    assert_type(url.components, SplitResult)
    assert_type(url.replace(scheme="https", port=8443), URL)
    assert_type(url.include_query_params(page=2), URL)
    assert_type(url.replace_query_params(page=2), URL)
    assert_type(url.remove_query_params(["page"]), URL)

    headers = conn.headers
    assert_type(headers["host"], str)
    assert_type(headers.get("x-missing"), str | None)
    assert_type(headers.get("x-missing", "default"), str)
    assert_type(headers.getlist("accept"), list[str])
    assert_type(headers.keys(), list[str])
    assert_type(headers.values(), list[str])
    assert_type(headers.items(), list[tuple[str, str]])
    assert_type(headers.raw, list[tuple[bytes, bytes]])
    assert_type(headers.mutablecopy(), MutableHeaders)
    for header_name in headers:
        assert_type(header_name, str)

    params = conn.query_params
    assert_type(params["tag"], str)
    assert_type(params.get("tag"), str | None)
    assert_type(params.get("page", "1"), str)
    assert_type(params.getlist("tag"), list[str])
    assert_type(params.multi_items(), list[tuple[str, str]])
    assert_type(list(params.items()), list[tuple[str, str]])
    assert_type(str(params), str)
    for param_name in params:
        assert_type(param_name, str)

    client = conn.client
    if client is not None:
        assert_type(client.host, str)
        assert_type(client.port, int)

    conn.session["visits"] = conn.session.get("visits", 0) + 1
    return {
        "path": url.path,
        "tags": params.getlist("tag"),
        "host": headers.get("host"),
        "client": client.host if client else None,
    }


async def inspect_request(request: Request) -> JSONResponse:
    views = connection_views(request)
    assert_type(request.method, str)
    assert_type(request.receive, Receive)
    assert_type(await request.body(), bytes)
    assert_type(await request.json(), Any)
    assert_type(await request.is_disconnected(), bool)
    return JSONResponse({**views, "method": request.method, "json": await request.json()})


async def read_form(request: Request) -> JSONResponse:
    form_call = request.form(max_files=2, max_fields=10, max_part_size=1024)
    assert_type(form_call, AwaitableOrContextManager[FormData])
    async with form_call as form:
        assert_type(form, FormData)
        field = form["field"]
        assert_type(field, str | UploadFile)
        assert_type(form.get("missing"), str | UploadFile | None)
        assert_type(form.getlist("upload"), list[str | UploadFile])
        upload = form["upload"]
        assert isinstance(upload, UploadFile)
        assert_type(upload.filename, str | None)
        assert_type(upload.content_type, str | None)
        assert_type(upload.size, int | None)
        assert_type(upload.headers, Headers)
        assert_type(upload.file, BinaryIO)
        content = await upload.read()
        assert_type(content, bytes)
        return JSONResponse({"field": field, "upload": content.decode(), "name": upload.filename})


async def stream_body(request: Request) -> JSONResponse:
    stream = request.stream()
    assert_type(stream, AsyncGenerator[bytes, None])
    chunks = [chunk async for chunk in stream]
    form = await request.form()
    assert_type(form, FormData)
    return JSONResponse({"size": sum(len(chunk) for chunk in chunks)})


app = Starlette(
    routes=[
        Route("/inspect", inspect_request, methods=["POST"]),
        Route("/form", read_form, methods=["POST"], name="form"),
        Route("/stream", stream_body, methods=["POST"]),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key="secret")],
)


def test_request_views(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    response = client.post("/inspect?tag=a&tag=b", json={"x": 1})
    assert response.json() == {
        "path": "/inspect",
        "tags": ["a", "b"],
        "host": "testserver",
        "client": "testclient",
        "method": "POST",
        "json": {"x": 1},
    }


def test_request_form(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    response = client.post("/form", data={"field": "value"}, files={"upload": ("a.txt", b"content")})
    assert response.json() == {"field": "value", "upload": "content", "name": "a.txt"}
    assert client.post("/stream", content=b"12345").json() == {"size": 5}
