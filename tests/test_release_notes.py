"""Observable behaviour changes listed in the Starlette release notes, 0.26 to 0.50, pinned as tests.

Each test names the release (and the change) it checks. Doc examples live in tests/test_docs_examples.py.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import anyio
import pytest

from starlette import status
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.config import Config
from starlette.convertors import UUIDConvertor
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, Router, WebSocketRoute, get_name
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory


async def echo_path(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.url.path)


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


@pytest.fixture
def ten_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "file.txt"
    path.write_bytes(b"0123456789")
    return path


# ---------------------------------------------------------------------------------------------------------------
# 0.49
# ---------------------------------------------------------------------------------------------------------------


def test_0_49_request_cookies_merge_multiple_cookie_headers(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse(Request(scope, receive).cookies)(scope, receive, send)

    response = test_client_factory(app).get("/", headers=[("cookie", "a=1; b=2"), ("cookie", "c=3")])
    assert response.json() == {"a": "1", "b": "2", "c": "3"}


def test_0_49_config_encoding_parameter(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes("GREETING=¡hola!\n".encode("utf-16"))
    assert Config(env, environ={}, encoding="utf-16")("GREETING") == "¡hola!"


def test_0_49_base_http_middleware_does_not_pollute_exception_context(test_client_factory: TestClientFactory) -> None:
    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    async def endpoint(request: Request) -> Response:
        raise ValueError("original")

    async def chained(request: Request) -> Response:
        try:
            return Response(request.path_params["missing"])
        except KeyError:
            raise ValueError("while handling")

    app = Starlette(routes=[Route("/", endpoint), Route("/chained", chained)], middleware=[Middleware(Passthrough)])
    client = test_client_factory(app)
    # The traceback must not show the middleware's internals ("During handling of the above exception...").
    with pytest.raises(ValueError, match="original") as info:
        client.get("/")
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    # An exception's own context survives (as its cause), still without the internals.
    with pytest.raises(ValueError, match="while handling") as chained_info:
        client.get("/chained")
    shown = chained_info.value.__cause__ if chained_info.value.__suppress_context__ else chained_info.value.__context__
    assert isinstance(shown, KeyError)


# ---------------------------------------------------------------------------------------------------------------
# 0.48
# ---------------------------------------------------------------------------------------------------------------


def test_0_48_rfc9110_status_names() -> None:
    assert status.HTTP_413_CONTENT_TOO_LARGE == 413
    assert status.HTTP_414_URI_TOO_LONG == 414
    assert status.HTTP_416_RANGE_NOT_SATISFIABLE == 416
    assert status.HTTP_422_UNPROCESSABLE_CONTENT == 422


@pytest.mark.parametrize(
    ("old_name", "value"),
    [
        ("HTTP_413_REQUEST_ENTITY_TOO_LARGE", 413),
        ("HTTP_414_REQUEST_URI_TOO_LONG", 414),
        ("HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE", 416),
        ("HTTP_422_UNPROCESSABLE_ENTITY", 422),
    ],
)
def test_0_48_old_status_names_are_deprecated_aliases(old_name: str, value: int) -> None:
    with pytest.warns(DeprecationWarning):
        assert getattr(status, old_name) == value


# ---------------------------------------------------------------------------------------------------------------
# 0.47
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_0_47_file_response_pathsend_extension(ten_bytes: Path) -> None:
    sent: list[Message] = []

    async def receive() -> Message:  # pragma: no cover - not reached
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = make_scope(extensions={"http.response.pathsend": {}})
    await FileResponse(ten_bytes)(scope, receive, send)
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.pathsend"]
    assert sent[1]["path"] == str(ten_bytes)
    assert dict(sent[0]["headers"])[b"content-length"] == b"10"


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="partitioned cookies are supported from Python 3.14")
def test_0_47_partitioned_cookie_requires_python_3_14() -> None:
    with pytest.raises(ValueError, match="3.14"):
        Response().set_cookie("a", "b", partitioned=True)


@pytest.mark.skipif(sys.version_info < (3, 14), reason="partitioned cookies need Python 3.14")
def test_0_47_partitioned_cookie_attribute() -> None:  # pragma: no cover - Python 3.14+ only
    response = Response()
    response.set_cookie("a", "b", partitioned=True, secure=True, samesite="none")
    assert "Partitioned" in response.headers["set-cookie"]


def test_0_47_route_methods_accept_any_collection(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/tuple", echo_path, methods=("GET", "POST")),
            Route("/set", echo_path, methods=frozenset({"PUT"})),
        ]
    )
    client = test_client_factory(app)
    assert client.post("/tuple").text == "/tuple"
    assert client.put("/set").text == "/set"
    assert client.get("/set").status_code == 405


def test_0_47_exception_middleware_http_exception_is_async() -> None:
    assert inspect.iscoroutinefunction(ExceptionMiddleware.http_exception)


# ---------------------------------------------------------------------------------------------------------------
# 0.46
# ---------------------------------------------------------------------------------------------------------------


def test_0_46_2_handled_exception_not_reraised_through_base_http_middleware(
    test_client_factory: TestClientFactory,
) -> None:
    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("handled", status_code=422)

    async def endpoint(request: Request) -> Response:
        raise ValueError("handled by the app")

    app = Starlette(
        routes=[Route("/", endpoint)],
        middleware=[Middleware(Passthrough)],
        exception_handlers={ValueError: handler},
    )
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (422, "handled")


def test_0_46_background_task_error_raised_through_base_http_middleware(
    test_client_factory: TestClientFactory,
) -> None:
    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    def failing() -> None:
        raise ValueError("background failure")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(failing))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(Passthrough)])
    with pytest.raises(ValueError, match="background failure"):
        test_client_factory(app).get("/")


# ---------------------------------------------------------------------------------------------------------------
# 0.45 / 0.44 / 0.43
# ---------------------------------------------------------------------------------------------------------------


def test_0_45_removed_names() -> None:
    import starlette.exceptions

    assert not hasattr(starlette.exceptions, "ExceptionMiddleware")
    assert not hasattr(status, "WS_1004_NO_STATUS_RCVD")
    assert not hasattr(status, "WS_1005_ABNORMAL_CLOSURE")


def test_0_45_1_websocket_errors_collected_by_test_client(test_client_factory: TestClientFactory) -> None:
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("collected")

    app = Starlette(routes=[WebSocketRoute("/", ws)])
    with pytest.raises(RuntimeError, match="collected"):
        with test_client_factory(app).websocket_connect("/"):
            pass


def test_0_43_test_client_allow_redirects_removed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", echo_path)]))
    with pytest.raises(TypeError):
        client.get("/", allow_redirects=False)  # type: ignore[call-arg]  # the removed argument


@pytest.mark.parametrize(
    "raw",
    [
        "ec38df32-ceda-4cfa-9b4a-1aeb94ad551a",
        "EC38DF32-CEDA-4CFA-9B4A-1AEB94AD551A",
        "ec38df32ceda4cfa9b4a1aeb94ad551a",
    ],
)
def test_0_43_flexible_uuid_path_parameters(test_client_factory: TestClientFactory, raw: str) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.path_params["ident"]))

    app = Starlette(routes=[Route("/{ident:uuid}", endpoint)])
    assert test_client_factory(app).get(f"/{raw}").text == "ec38df32-ceda-4cfa-9b4a-1aeb94ad551a"
    assert UUIDConvertor().to_string(UUIDConvertor().convert(raw)) == "ec38df32-ceda-4cfa-9b4a-1aeb94ad551a"


# ---------------------------------------------------------------------------------------------------------------
# 0.42
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_0_42_streaming_response_raises_client_disconnect_on_send_error() -> None:
    async def numbers() -> AsyncIterator[bytes]:
        for n in range(3):  # pragma: no branch - the stream is interrupted
            yield str(n).encode()

    async def receive() -> Message:  # pragma: no cover - spec 2.4 does not listen for disconnects
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise OSError("client went away")

    with pytest.raises(ClientDisconnect):
        await StreamingResponse(numbers())(make_scope(), receive, send)


@pytest.mark.anyio
async def test_0_42_streaming_response_stops_on_http_disconnect_before_spec_2_4() -> None:
    sent: list[Message] = []
    ran: list[str] = []

    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"x"
            await anyio.sleep(0.001)

    async def receive() -> Message:
        await anyio.sleep(0.05)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = make_scope(asgi={"version": "3.0", "spec_version": "2.3"})
    with anyio.fail_after(5):
        await StreamingResponse(forever(), background=BackgroundTask(ran.append, "bg"))(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert all(message.get("more_body") for message in sent[1:])
    assert ran == ["bg"]


def test_0_42_if_range_uses_etag_from_headers(test_client_factory: TestClientFactory, ten_bytes: Path) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await FileResponse(ten_bytes, headers={"etag": '"custom-etag"'})(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/", headers={"range": "bytes=0-2", "if-range": '"custom-etag"'})
    assert (response.status_code, response.content) == (206, b"012")
    assert response.headers["etag"] == '"custom-etag"'
    stale = client.get("/", headers={"range": "bytes=0-2", "if-range": '"generated"'})
    assert (stale.status_code, stale.content) == (200, b"0123456789")


# ---------------------------------------------------------------------------------------------------------------
# 0.41
# ---------------------------------------------------------------------------------------------------------------


def test_0_41_3_test_client_raw_path_excludes_query(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(scope["raw_path"].decode())(scope, receive, send)

    assert test_client_factory(app).get("/path%2Fx?query=1").text == "/path%2Fx"


def test_0_41_3_http_exception_headers_accept_any_mapping(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        raise HTTPException(401, headers=MappingProxyType({"WWW-Authenticate": "Basic"}))

    response = test_client_factory(Starlette(routes=[Route("/", endpoint)])).get("/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Basic"


def test_0_41_3_middleware_factory_functions(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    def logging_factory(app: Any, label: str, *, suffix: str = "") -> Any:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            calls.append(f"{label}{suffix}:{scope['type']}")
            await app(scope, receive, send)

        return middleware

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(logging_factory, "log", suffix="!")])
    test_client_factory(app).get("/")
    assert calls == ["log!:http"]


# ---------------------------------------------------------------------------------------------------------------
# 0.39 / 0.38
# ---------------------------------------------------------------------------------------------------------------


def test_0_39_2_url_for_with_only_app_in_scope() -> None:
    app = Starlette(routes=[Route("/users/{name}", echo_path, name="user")])
    request = Request(make_scope(app=app))
    assert str(request.url_for("user", name="tom")) == "http://testserver/users/tom"


def test_0_39_1_multiple_ranges_respect_chunk_size(test_client_factory: TestClientFactory, ten_bytes: Path) -> None:
    class TinyChunks(FileResponse):
        chunk_size = 2

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await TinyChunks(ten_bytes)(scope, receive, send)

    response = test_client_factory(app).get("/", headers={"range": "bytes=0-4,7-9"})
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(response.content))
    text = response.content.decode()
    assert "01234" in text
    assert "789" in text


def test_0_38_5_background_tasks_scheduled_in_base_http_middleware(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    class AddBackground(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            response.background = BackgroundTask(ran.append, "from middleware")
            return response

    app = Starlette(routes=[Route("/", echo_path)], middleware=[Middleware(AddBackground)])
    assert test_client_factory(app).get("/").text == "/"
    assert ran == ["from middleware"]


def test_0_38_5_endpoint_background_runs_through_base_http_middleware(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(ran.append, "from endpoint"))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(Passthrough)])
    assert test_client_factory(app).get("/").text == "ok"
    assert ran == ["from endpoint"]


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/foo", "/api", "/foo"),
        ("/apiv2/foo", "/api", "/apiv2/foo"),
        ("/foo", "", "/foo"),
        ("/other/foo", "/api", "/other/foo"),
        ("/api/", "/api", "/"),
    ],
)
def test_0_38_4_get_route_path_strips_root_path_exactly(path: str, root_path: str, expected: str) -> None:
    assert get_route_path({"path": path, "root_path": root_path}) == expected


def test_0_38_4_routing_under_a_root_path(test_client_factory: TestClientFactory) -> None:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.scope["path"], "params": request.path_params})

    app = Starlette(routes=[Route("/items/{item}", show)])

    async def proxied(scope: Scope, receive: Receive, send: Send) -> None:
        # What a server behind a proxy sends: the full path, plus the root_path it is mounted at.
        scope = dict(scope, root_path="/api", path="/api" + scope["path"])
        await app(scope, receive, send)

    response = test_client_factory(proxied).get("/items/1")
    assert response.json() == {"path": "/api/items/1", "params": {"item": "1"}}


def test_0_38_2_get_name_without_dunder_name() -> None:
    class CallableEndpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
            pass

    assert get_name(CallableEndpoint()) == "CallableEndpoint"
    assert get_name(functools.partial(echo_path)) == "partial"
    assert get_name(echo_path) == "echo_path"
    assert get_name(CallableEndpoint) == "CallableEndpoint"


def test_0_38_memoryview_in_responses(test_client_factory: TestClientFactory) -> None:
    def chunks() -> Iterator[memoryview]:
        yield memoryview(b"stream-")
        yield memoryview(b"view")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/plain":
            await Response(memoryview(b"plain view"), media_type="text/plain")(scope, receive, send)
        else:
            await StreamingResponse(chunks())(scope, receive, send)

    client = test_client_factory(app)
    plain = client.get("/plain")
    assert plain.content == b"plain view"
    assert plain.headers["content-length"] == "10"
    assert client.get("/stream").content == b"stream-view"


# ---------------------------------------------------------------------------------------------------------------
# 0.36 / 0.35 / 0.34
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_0_36_websocket_send_oserror_becomes_disconnect() -> None:
    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        if message["type"] == "websocket.send":
            raise OSError("broken pipe")

    websocket = WebSocket(make_scope(type="websocket"), receive, send)
    await websocket.accept()
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.send_text("x")
    assert info.value.code == 1006


def test_0_36_websocket_test_session_cancelled_on_close(test_client_factory: TestClientFactory) -> None:
    cancelled: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with test_client_factory(app).websocket_connect("/") as session:
        session.send_text("ignored")
    assert cancelled == [True]


def test_0_36_1_denial_response_without_extensions_key(test_client_factory: TestClientFactory) -> None:
    errors: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope.pop("extensions", None)
        websocket = WebSocket(scope, receive=receive, send=send)
        try:
            await websocket.send_denial_response(PlainTextResponse("no", status_code=403))
        except RuntimeError as exc:
            errors.append(type(exc).__name__)
        await websocket.close()

    with pytest.raises(WebSocketDisconnect):
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - refused
    assert errors == ["RuntimeError"]


def test_0_35_mounted_asgi_app_sees_full_path_and_root_path(test_client_factory: TestClientFactory) -> None:
    from starlette.routing import Mount

    async def wsgi_like(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"path": scope["path"], "root_path": scope["root_path"]})(scope, receive, send)

    app = Starlette(routes=[Mount("/legacy", app=wsgi_like)])
    assert test_client_factory(app).get("/legacy/a/b").json() == {"path": "/legacy/a/b", "root_path": "/legacy"}


def test_0_34_test_client_merges_base_url_path(test_client_factory: TestClientFactory) -> None:
    paths: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        paths.append(scope["path"])
        if scope["type"] == "http":
            await Response()(scope, receive, send)
        else:
            await WebSocket(scope, receive, send).close()

    client = test_client_factory(app, base_url="http://testserver/api")
    client.get("/items")
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws"):
            pass  # pragma: no cover - refused
    assert paths == ["/api/items", "/api/ws"]


def test_0_34_upload_file_repr() -> None:
    import io

    with io.BytesIO(b"abc") as file:
        upload = UploadFile(file, size=3, filename="a.txt", headers=Headers({"content-type": "text/plain"}))
        assert repr(upload) == "UploadFile(filename='a.txt', size=3, headers=Headers({'content-type': 'text/plain'}))"


def test_0_34_file_response_method_is_deprecated(ten_bytes: Path) -> None:
    with pytest.warns(DeprecationWarning):
        FileResponse(ten_bytes, method="GET")


# ---------------------------------------------------------------------------------------------------------------
# 0.31 / 0.29 / 0.26
# ---------------------------------------------------------------------------------------------------------------


def test_0_31_1_duplicate_response_headers_are_not_grouped(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"x-dup", b"a"), (b"x-dup", b"b"), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    response = test_client_factory(app).get("/")
    assert response.headers.get_list("x-dup") == ["a", "b"]
    assert response.headers.multi_items().count(("x-dup", "a")) == 1


def test_0_29_router_lifespan_with_on_startup_warns_and_ignores_handlers(
    test_client_factory: TestClientFactory,
) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("lifespan")
        yield

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        router = Router(lifespan=lifespan, on_startup=[lambda: events.append("on_startup")])
    categories = sorted(w.category.__name__ for w in caught)
    assert categories == ["DeprecationWarning", "UserWarning"]
    assert "will be ignored" in str(next(w.message for w in caught if w.category is UserWarning))
    with test_client_factory(router):
        pass
    assert events == ["lifespan"]


def test_0_29_starlette_refuses_lifespan_with_on_startup() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:  # pragma: no cover - never entered
        yield

    with pytest.raises(AssertionError, match="Use either 'lifespan' or 'on_startup'/'on_shutdown', not both."):
        Starlette(lifespan=lifespan, on_startup=[lambda: None])


def test_0_26_url_for_accepts_a_name_path_parameter(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("user", name="tom")))

    app = Starlette(routes=[Route("/users/{name}", endpoint, name="user")])
    assert test_client_factory(app).get("/users/x").text == "http://testserver/users/tom"
    assert app.url_path_for("user", name="ann") == "/users/ann"
    assert Router(routes=[Route("/r/{name}", echo_path, name="r")]).url_path_for("r", name="n") == "/r/n"


def test_0_26_async_generator_lifespan_is_deprecated_but_works(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    with pytest.warns(DeprecationWarning):
        app = Starlette(lifespan=lifespan)  # type: ignore[arg-type]  # the deprecated form
    with test_client_factory(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_0_26_lifespan_state_requires_server_support() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"key": "value"}

    app = Starlette(lifespan=lifespan)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    with contextlib.suppress(RuntimeError):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert 'The server does not support "state" in the lifespan scope.' in sent[0]["message"]
