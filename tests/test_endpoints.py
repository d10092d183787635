"""`starlette.endpoints`: method dispatch of `HTTPEndpoint` and the event loop of `WebSocketEndpoint`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.types import Message, Scope
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from tests.types import TestClientFactory

# ---------------------------------------------------------------------------------------------------------------
# Raw ASGI harness
# ---------------------------------------------------------------------------------------------------------------


class ScriptedServer:
    """Delivers `incoming` in order and records every message the application sends."""

    def __init__(self, *incoming: Message) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def http_scope(method: str = "GET", path: str = "/", **extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    scope.update(extra)
    return scope


def websocket_scope(**extra: Any) -> Scope:
    scope: Scope = {
        "type": "websocket",
        "scheme": "ws",
        "server": ("testserver", 80),
        "path": "/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "subprotocols": [],
    }
    scope.update(extra)
    return scope


REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


def response_of(sent: list[Message]) -> tuple[int, dict[bytes, bytes], bytes]:
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    return (
        start["status"],
        {bytes(key): bytes(value) for key, value in start["headers"]},
        b"".join(message.get("body", b"") for message in bodies),
    )


# ---------------------------------------------------------------------------------------------------------------
# HTTPEndpoint
# ---------------------------------------------------------------------------------------------------------------


class Homepage(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        username = request.path_params.get("username")
        return PlainTextResponse("Hello, world!" if username is None else f"Hello, {username}!")

    def post(self, request: Request) -> Response:
        # A plain function: it runs in the thread pool, never on the event loop thread.
        return PlainTextResponse(f"posted from {threading.current_thread().name}")


class WithHead(HTTPEndpoint):
    async def get(self, request: Request) -> Response:  # pragma: no cover - HEAD must not fall back to it
        raise AssertionError("get called for HEAD")

    async def head(self, request: Request) -> Response:
        return Response(b"", headers={"x-handler": "head"})


class Custom(HTTPEndpoint):
    """Only a WebDAV-style method, plus attributes that must never be reachable as handlers."""

    not_a_handler = "a string attribute"

    async def propfind(self, request: Request) -> Response:
        return PlainTextResponse("propfind")

    async def _private(self, request: Request) -> Response:  # pragma: no cover - must not be reachable
        raise AssertionError("private helper reached")


@pytest.mark.anyio
async def test_http_endpoint_awaited_directly_dispatches_get() -> None:
    server = ScriptedServer(REQUEST)
    await Homepage(http_scope("GET"), server.receive, server.send)
    status, headers, body = response_of(server.sent)
    assert (status, body) == (200, b"Hello, world!")
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"


@pytest.mark.anyio
async def test_sync_handlers_run_in_the_threadpool() -> None:
    server = ScriptedServer(REQUEST)
    await Homepage(http_scope("POST"), server.receive, server.send)
    status, _, body = response_of(server.sent)
    assert status == 200
    assert body.startswith(b"posted from ")
    assert body != f"posted from {threading.current_thread().name}".encode()


@pytest.mark.anyio
async def test_head_falls_back_to_get() -> None:
    server = ScriptedServer(REQUEST)
    await Homepage(http_scope("HEAD"), server.receive, server.send)
    status, headers, _ = response_of(server.sent)
    assert status == 200
    assert headers[b"content-length"] == b"13"  # the GET response; servers drop the body of a HEAD


@pytest.mark.anyio
async def test_head_uses_head_when_defined() -> None:
    server = ScriptedServer(REQUEST)
    await WithHead(http_scope("HEAD"), server.receive, server.send)
    status, headers, _ = response_of(server.sent)
    assert (status, headers[b"x-handler"]) == (200, b"head")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "endpoint,method,allow",
    [
        (Homepage, "PUT", b"GET, POST"),
        (Homepage, "DELETE", b"GET, POST"),
        (WithHead, "POST", b"GET, HEAD"),
        (Custom, "GET", b""),
        (Custom, "HEAD", b""),
    ],
)
async def test_method_not_allowed_outside_an_app_is_a_plain_405(
    endpoint: type[HTTPEndpoint], method: str, allow: bytes
) -> None:
    server = ScriptedServer(REQUEST)
    await endpoint(http_scope(method), server.receive, server.send)
    status, headers, body = response_of(server.sent)
    assert (status, body) == (405, b"Method Not Allowed")
    assert headers[b"allow"] == allow


@pytest.mark.anyio
@pytest.mark.parametrize(
    "method", ["DISPATCH", "METHOD_NOT_ALLOWED", "SCOPE", "RECEIVE", "SEND", "NOT_A_HANDLER", "_PRIVATE", "__INIT__"]
)
async def test_request_methods_cannot_reach_endpoint_internals(method: str) -> None:
    server = ScriptedServer(REQUEST)
    await Custom(http_scope(method), server.receive, server.send)
    status, _, body = response_of(server.sent)
    assert (status, body) == (405, b"Method Not Allowed")


@pytest.mark.anyio
async def test_custom_method_names_dispatch_to_matching_handlers() -> None:
    server = ScriptedServer(REQUEST)
    await Custom(http_scope("PROPFIND"), server.receive, server.send)
    status, _, body = response_of(server.sent)
    assert (status, body) == (200, b"propfind")


@pytest.mark.anyio
async def test_method_not_allowed_inside_an_app_raises_http_exception() -> None:
    server = ScriptedServer(REQUEST)
    with pytest.raises(HTTPException) as info:
        await Homepage(http_scope("PATCH", app=object()), server.receive, server.send)
    assert info.value.status_code == 405
    assert info.value.detail == "Method Not Allowed"
    assert info.value.headers == {"Allow": "GET, POST"}
    assert server.sent == []


def test_http_endpoint_requires_an_http_scope() -> None:
    server = ScriptedServer()
    with pytest.raises(AssertionError):
        Homepage(websocket_scope(), server.receive, server.send)


def test_http_endpoint_keeps_scope_receive_and_send() -> None:
    server = ScriptedServer()
    scope = http_scope()
    endpoint = Homepage(scope, server.receive, server.send)
    assert endpoint.scope is scope
    assert endpoint.receive == server.receive
    assert endpoint.send == server.send


@pytest.fixture
def http_client(test_client_factory: TestClientFactory) -> Iterator[TestClient]:
    app = Starlette(routes=[Route("/", endpoint=Homepage), Route("/{username}", endpoint=Homepage)])
    with test_client_factory(app) as client:
        yield client


def test_http_endpoint_routes(http_client: TestClient) -> None:
    response = http_client.get("/")
    assert (response.status_code, response.text) == (200, "Hello, world!")
    response = http_client.get("/tomchristie")
    assert (response.status_code, response.text) == (200, "Hello, tomchristie!")
    response = http_client.post("/")
    assert response.status_code == 200
    assert response.text.startswith("posted from ")


def test_http_endpoint_405_in_an_app_goes_through_exception_handling(http_client: TestClient) -> None:
    response = http_client.put("/")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert response.headers["allow"] == "GET, POST"


def test_http_endpoint_405_uses_the_apps_exception_handlers(test_client_factory: TestClientFactory) -> None:
    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(routes=[Route("/", endpoint=Homepage)], exception_handlers={HTTPException: on_http_exception})
    with test_client_factory(app) as client:
        response = client.delete("/")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET, POST"


# ---------------------------------------------------------------------------------------------------------------
# WebSocketEndpoint, raw
# ---------------------------------------------------------------------------------------------------------------


class Recorder(WebSocketEndpoint):
    """Records every hook call; echoes nothing."""

    calls: list[tuple[str, Any]]

    async def on_connect(self, websocket: WebSocket) -> None:
        self.calls = [("connect", None)]
        await super().on_connect(websocket)

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        self.calls.append(("receive", data))
        await super().on_receive(websocket, data)

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        self.calls.append(("disconnect", close_code))
        await super().on_disconnect(websocket, close_code)


@pytest.mark.anyio
async def test_websocket_endpoint_default_hooks_accept_and_deliver_raw_data() -> None:
    server = ScriptedServer(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "t"},
        {"type": "websocket.receive", "bytes": b"b"},
        {"type": "websocket.receive", "text": "", "bytes": None},
        {"type": "websocket.receive", "text": None, "bytes": b""},
        {"type": "websocket.disconnect", "code": 1001},
    )
    endpoint = Recorder(websocket_scope(), server.receive, server.send)
    await endpoint
    assert server.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert endpoint.calls == [
        ("connect", None),
        ("receive", "t"),
        ("receive", b"b"),
        ("receive", ""),
        ("receive", b""),
        ("disconnect", 1001),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("disconnect", [{"code": None}, {}])
async def test_websocket_endpoint_disconnect_without_code_is_1000(disconnect: dict[str, Any]) -> None:
    server = ScriptedServer({"type": "websocket.connect"}, {"type": "websocket.disconnect", **disconnect})
    endpoint = Recorder(websocket_scope(), server.receive, server.send)
    await endpoint
    assert endpoint.calls[-1] == ("disconnect", 1000)


@pytest.mark.anyio
async def test_websocket_endpoint_that_denies_in_on_connect_skips_the_connect_message() -> None:
    class Deny(Recorder):
        async def on_connect(self, websocket: WebSocket) -> None:
            self.calls = []
            await websocket.close(code=1008)

    server = ScriptedServer({"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1006})
    endpoint = Deny(websocket_scope(), server.receive, server.send)
    await endpoint
    assert server.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    assert endpoint.calls == [("disconnect", 1006)]


@pytest.mark.anyio
async def test_websocket_endpoint_errors_close_with_1011_in_on_disconnect_and_propagate() -> None:
    class Broken(Recorder):
        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            raise ValueError("boom")

    server = ScriptedServer({"type": "websocket.connect"}, {"type": "websocket.receive", "text": "x"})
    endpoint = Broken(websocket_scope(), server.receive, server.send)
    with pytest.raises(ValueError, match="boom"):
        await endpoint
    assert endpoint.calls == [("connect", None), ("disconnect", 1011)]


@pytest.mark.anyio
async def test_websocket_endpoint_with_unsupported_encoding() -> None:
    class Weird(Recorder):
        encoding = "xml"  # type: ignore[assignment]  # deliberately invalid

    server = ScriptedServer({"type": "websocket.connect"}, {"type": "websocket.receive", "text": "x"})
    endpoint = Weird(websocket_scope(), server.receive, server.send)
    with pytest.raises(AssertionError, match="Unsupported 'encoding' attribute xml"):
        await endpoint
    assert endpoint.calls[-1] == ("disconnect", 1011)


def test_websocket_endpoint_requires_a_websocket_scope() -> None:
    server = ScriptedServer()
    with pytest.raises(AssertionError):
        Recorder(http_scope(), server.receive, server.send)


def test_websocket_endpoint_default_encoding_is_none() -> None:
    assert WebSocketEndpoint.encoding is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "encoding,message,error",
    [
        ("text", {"bytes": b"x"}, "Expected text websocket messages, but got bytes"),
        ("bytes", {"text": "x"}, "Expected bytes websocket messages, but got text"),
        ("json", {"text": "{oops"}, "Malformed JSON data received."),
        ("json", {"bytes": b"\xff\xfe"}, "Malformed JSON data received."),
        ("json", {"text": None, "bytes": None}, "Malformed JSON data received."),
    ],
)
async def test_decode_rejects_the_wrong_kind_of_data_with_close_1003(
    encoding: str, message: dict[str, Any], error: str
) -> None:
    class Typed(Recorder):
        pass

    Typed.encoding = encoding  # type: ignore[assignment]  # one of the three valid literals
    server = ScriptedServer({"type": "websocket.connect"}, {"type": "websocket.receive", **message})
    endpoint = Typed(websocket_scope(), server.receive, server.send)
    with pytest.raises(RuntimeError) as info:
        await endpoint
    assert str(info.value) == error
    assert server.sent[-1] == {"type": "websocket.close", "code": 1003, "reason": ""}
    assert endpoint.calls == [("connect", None), ("disconnect", 1011)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "encoding,message,data",
    [
        ("text", {"text": "héllo"}, "héllo"),
        ("text", {"text": "", "bytes": None}, ""),
        ("bytes", {"bytes": b"\x00"}, b"\x00"),
        ("bytes", {"text": None, "bytes": b""}, b""),
    ],
)
async def test_decode_text_and_bytes(encoding: str, message: dict[str, Any], data: str | bytes) -> None:
    class Typed(Recorder):
        pass

    Typed.encoding = encoding  # type: ignore[assignment]  # one of the three valid literals
    server = ScriptedServer(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", **message},
        {"type": "websocket.disconnect", "code": 1000},
    )
    endpoint = Typed(websocket_scope(), server.receive, server.send)
    await endpoint
    assert endpoint.calls == [("connect", None), ("receive", data), ("disconnect", 1000)]


@pytest.mark.anyio
async def test_decode_json_from_text_and_binary_frames() -> None:
    class Json(Recorder):
        encoding = "json"

    server = ScriptedServer(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"hello": "wörld"}'},
        {"type": "websocket.receive", "bytes": '[1, "ü"]'.encode()},
        {"type": "websocket.disconnect", "code": 1000},
    )
    endpoint = Json(websocket_scope(), server.receive, server.send)
    await endpoint
    assert endpoint.calls[1:] == [("receive", {"hello": "wörld"}), ("receive", [1, "ü"]), ("disconnect", 1000)]


# ---------------------------------------------------------------------------------------------------------------
# WebSocketEndpoint, end to end through Starlette and the TestClient
# ---------------------------------------------------------------------------------------------------------------


class BytesEcho(WebSocketEndpoint):
    encoding = "bytes"

    async def on_receive(self, websocket: WebSocket, data: bytes) -> None:
        await websocket.send_bytes(b"Message bytes was: " + data)


class TextEcho(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: str) -> None:
        await websocket.send_text(f"Message text was: {data}")


class JsonEcho(WebSocketEndpoint):
    encoding = "json"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"message": data})


class RawEcho(WebSocketEndpoint):
    async def on_receive(self, websocket: WebSocket, data: str | bytes) -> None:
        if isinstance(data, str):
            await websocket.send_text(data.upper())
        else:
            await websocket.send_bytes(data[::-1])


class Negotiating(WebSocketEndpoint):
    encoding = "text"

    async def on_connect(self, websocket: WebSocket) -> None:
        if "wamp" not in websocket.scope["subprotocols"]:
            raise WebSocketException(code=1008, reason="wamp required")
        await websocket.accept(subprotocol="wamp", headers=[(b"x-room", websocket.path_params["room"].encode())])

    async def on_receive(self, websocket: WebSocket, data: str) -> None:
        if data == "quit":
            await websocket.close(code=4000, reason="as you wish")
        else:
            await websocket.send_text(data)


class Guarded(WebSocketEndpoint):
    async def on_connect(self, websocket: WebSocket) -> None:
        raise HTTPException(status_code=401, detail="Unauthorized", headers={"www-authenticate": "Bearer"})


class DisconnectSpy(WebSocketEndpoint):
    codes: list[int] = []

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        assert websocket.client_state is WebSocketState.DISCONNECTED
        DisconnectSpy.codes.append(close_code)


def websocket_app() -> Starlette:
    return Starlette(
        routes=[
            WebSocketRoute("/bytes", BytesEcho),
            WebSocketRoute("/text", TextEcho),
            WebSocketRoute("/json", JsonEcho),
            WebSocketRoute("/raw", RawEcho),
            WebSocketRoute("/rooms/{room}", Negotiating),
            WebSocketRoute("/guarded", Guarded),
            WebSocketRoute("/spy", DisconnectSpy),
        ]
    )


@pytest.fixture
def ws_client(test_client_factory: TestClientFactory) -> Iterator[TestClient]:
    with test_client_factory(websocket_app()) as client:
        yield client


def test_websocket_endpoint_bytes(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/bytes") as session:
        session.send_bytes(b"Hello, world!")
        assert session.receive_bytes() == b"Message bytes was: Hello, world!"
    with pytest.raises(RuntimeError, match="Expected bytes websocket messages, but got text"):
        with ws_client.websocket_connect("/bytes") as session:
            session.send_text("Hello world")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_bytes()
            assert info.value.code == 1003


def test_websocket_endpoint_text(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/text") as session:
        session.send_text("Hello, world!")
        assert session.receive_text() == "Message text was: Hello, world!"
    with pytest.raises(RuntimeError, match="Expected text websocket messages, but got bytes"):
        with ws_client.websocket_connect("/text") as session:
            session.send_bytes(b"Hello world")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_text()
            assert info.value.code == 1003


def test_websocket_endpoint_json(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/json") as session:
        session.send_json({"hello": "world"})
        assert session.receive_json() == {"message": {"hello": "world"}}
        session.send_json({"hello": "bytes"}, mode="binary")
        assert session.receive_json() == {"message": {"hello": "bytes"}}
    with pytest.raises(RuntimeError, match="Malformed JSON data received."):
        with ws_client.websocket_connect("/json") as session:
            session.send_text("Hello world")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_json()
            assert info.value.code == 1003


def test_websocket_endpoint_without_encoding(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/raw") as session:
        session.send_text("shout")
        assert session.receive_text() == "SHOUT"
        session.send_bytes(b"abc")
        assert session.receive_bytes() == b"cba"


def test_websocket_endpoint_subprotocol_headers_and_close(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/rooms/lobby", subprotocols=["soap", "wamp"]) as session:
        assert session.accepted_subprotocol == "wamp"
        assert (b"x-room", b"lobby") in [(bytes(k), bytes(v)) for k, v in session.extra_headers or []]
        session.send_text("ping")
        assert session.receive_text() == "ping"
        session.send_text("quit")
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert (info.value.code, info.value.reason) == (4000, "as you wish")


def test_websocket_endpoint_websocket_exception_in_on_connect(ws_client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        with ws_client.websocket_connect("/rooms/lobby", subprotocols=["soap"]):
            pass  # pragma: no cover - the handshake is refused
    assert (info.value.code, info.value.reason) == (1008, "wamp required")


def test_websocket_endpoint_http_exception_before_accept_is_a_denial_response(ws_client: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with ws_client.websocket_connect("/guarded"):
            pass  # pragma: no cover - the handshake is refused
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.text == "Unauthorized"


def test_websocket_endpoint_sees_the_client_close_code(ws_client: TestClient) -> None:
    DisconnectSpy.codes.clear()
    with ws_client.websocket_connect("/spy") as session:
        session.close(code=4321)
    with ws_client.websocket_connect("/spy"):
        pass
    assert DisconnectSpy.codes == [4321, 1000]
