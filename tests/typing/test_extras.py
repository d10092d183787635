"""Typing of the batteries: authentication, templates, static files, schemas, HTTP endpoints,
the bundled middleware and the test client's HTTP side."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest
from typing_extensions import assert_type

from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    requires,
)
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.middleware.wsgi import WSGIMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.schemas import EndpointInfo, SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.testclient import TestClient, WebSocketDenialResponse
from tests.types import TestClientFactory


class TokenBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme != "Basic":
            raise AuthenticationError("bad scheme")
        username = base64.b64decode(token).decode().partition(":")[0]
        return AuthCredentials(["authenticated"]), SimpleUser(username)


def on_auth_error(conn: HTTPConnection, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=401)


@requires("authenticated")
async def private(request: Request) -> PlainTextResponse:
    user = request.user
    assert_type(user, Any)
    assert_type(request.auth, Any)
    return PlainTextResponse(f"hello {user.display_name}")


@requires(["authenticated"], redirect="home")
def private_sync(request: Request) -> PlainTextResponse:
    return PlainTextResponse("sync private")


class Users(HTTPEndpoint):
    """
    responses:
      200:
        description: A list of users.
    """

    @requires("authenticated")
    async def get(self, request: Request) -> JSONResponse:
        return JSONResponse([request.user.display_name])


def simple_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"from wsgi"]


def home(request: Request) -> HTMLResponse:
    return HTMLResponse("<p>home</p>")


async def numbers(request: Request) -> StreamingResponse:
    async def generate() -> AsyncGenerator[str, None]:
        for number in range(3):
            yield f"{number}\n"

    return StreamingResponse(generate(), media_type="text/plain")


def sync_numbers(request: Request) -> StreamingResponse:
    return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")


def redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url_for("home"), status_code=303)


schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "Typed", "version": "1.0"}})


def openapi_schema(request: Request) -> Response:
    return schemas.OpenAPIResponse(request=request)


def build_app(tmp_path: Path) -> Starlette:
    (tmp_path / "page.html").write_text("<h1>{{ title }} {{ extra }} {{ url_for('home') }}</h1>")
    (tmp_path / "static.txt").write_text("static")

    def extra_context(request: Request) -> dict[str, Any]:
        return {"extra": request.method}

    templates = Jinja2Templates(directory=tmp_path, context_processors=[extra_context])
    env_templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(tmp_path)))
    assert_type(templates.env, jinja2.Environment)
    assert_type(env_templates.get_template("page.html"), jinja2.Template)

    async def page(request: Request) -> HTMLResponse:
        response = templates.TemplateResponse(request, "page.html", {"title": "Typed"}, status_code=200)
        assert_type(response.template, jinja2.Template)
        assert_type(response.context, dict[str, Any])
        by_keyword = templates.TemplateResponse(request=request, name="page.html", context={"title": "Typed"})
        name_first = templates.TemplateResponse("page.html", {"title": "Typed"}, request=request)
        assert by_keyword.body == name_first.body == response.body
        return response

    def file(request: Request) -> FileResponse:
        return FileResponse(tmp_path / "static.txt", filename="static.txt")

    return Starlette(
        routes=[
            Route("/", home, name="home"),
            Route("/private", private),
            Route("/private-sync", private_sync),
            Route("/users", Users),
            Route("/numbers", numbers),
            Route("/sync-numbers", sync_numbers),
            Route("/redirect", redirect),
            Route("/page", page),
            Route("/file", file),
            Route("/schema", openapi_schema, include_in_schema=False),
            Mount("/static", app=StaticFiles(directory=tmp_path), name="static"),
            Mount("/wsgi", app=WSGIMiddleware(simple_wsgi_app)),
        ],
        middleware=[Middleware(AuthenticationMiddleware, backend=TokenBackend(), on_error=on_auth_error)],
    )


def test_batteries(tmp_path: Path, test_client_factory: TestClientFactory) -> None:
    app = build_app(tmp_path)
    client = test_client_factory(app)
    auth = httpx.BasicAuth("ada", "secret")

    assert client.get("/private").status_code == 403
    assert client.get("/private", auth=auth).text == "hello ada"
    assert client.get("/private", headers={"authorization": "Token x"}).json() == {"error": "bad scheme"}
    assert client.get("/private-sync", follow_redirects=False).status_code == 303
    assert client.get("/users", auth=auth).json() == ["ada"]
    assert client.get("/numbers").text == "0\n1\n2\n"
    assert client.get("/sync-numbers").text == "ab"
    assert client.get("/redirect").text == "<p>home</p>"
    assert client.get("/page").text == "<h1>Typed GET http://testserver/</h1>"
    assert client.get("/file").text == "static"
    assert client.get("/static/static.txt").text == "static"
    assert client.get("/wsgi/").text == "from wsgi"
    schema_response = client.get("/schema")
    assert "title: Typed" in schema_response.text

    routes = app.routes
    endpoints = schemas.get_endpoints(routes)
    assert_type(endpoints, list[EndpointInfo])
    assert_type(endpoints[0].path, str)
    assert_type(endpoints[0].http_method, str)
    assert_type(schemas.get_schema(routes), dict[str, Any])
    assert [(endpoint.path, endpoint.http_method) for endpoint in endpoints] == [
        ("/", "get"),
        ("/private", "get"),
        ("/private-sync", "get"),
        ("/users", "get"),
        ("/numbers", "get"),
        ("/sync-numbers", "get"),
        ("/redirect", "get"),
        ("/page", "get"),
        ("/file", "get"),
    ]


def test_responses_and_client_methods() -> None:
    response = JSONResponse({"a": 1}, status_code=201, headers={"x-a": "1"})
    assert_type(response.status_code, int)
    assert_type(response.body, bytes | memoryview)
    plain: Response = PlainTextResponse("text")
    assert_type(plain.media_type, str | None)
    assert_type(response.charset, str)
    assert_type(response.raw_headers, list[tuple[bytes, bytes]])
    assert_type(response.render({"b": 2}), bytes)
    response.set_cookie("session", "value", max_age=60, samesite="strict", httponly=True)
    response.delete_cookie("old")
    assert response.headers.getlist("set-cookie")[0].startswith("session=value")

    client = TestClient(HTTPSRedirectMiddleware(PlainTextResponse("secure")), base_url="https://testserver")
    assert_type(client.get("/"), httpx.Response)
    assert_type(client.options("/"), httpx.Response)
    assert_type(client.head("/"), httpx.Response)
    assert_type(client.post("/", json={"a": 1}), httpx.Response)
    assert_type(client.put("/", content=b"x"), httpx.Response)
    assert_type(client.patch("/", data={"a": "1"}), httpx.Response)
    assert_type(client.delete("/", params={"a": "1"}), httpx.Response)
    assert_type(client.request("GET", "/", headers={"x": "y"}), httpx.Response)
    assert client.get("/").text == "secure"
    with pytest.raises(WebSocketDenialResponse):
        with client.websocket_connect("/"):
            pass  # never reached: the app answers the handshake with an HTTP response
