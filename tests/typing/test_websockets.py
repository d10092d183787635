"""Typing of websocket endpoints and of the test client's websocket sessions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typing_extensions import assert_type

from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from tests.types import TestClientFactory


async def chat(websocket: WebSocket) -> None:
    assert_type(websocket.client_state, WebSocketState)
    assert_type(websocket.application_state, WebSocketState)
    await websocket.accept(subprotocol="chat", headers=[(b"x-chat", b"1")])
    message = await websocket.receive()
    assert_type(message, Message)
    assert_type(await websocket.receive_bytes(), bytes)
    data = await websocket.receive_json()
    assert_type(data, Any)
    await websocket.send_json({"got": data, "text": message["text"]})
    await websocket.send_bytes(b"raw")
    text = await websocket.receive_text()
    assert_type(text, str)
    await websocket.send_text(text.upper())
    await websocket.close(code=1001, reason="bye")


async def echo_text(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        assert_type(text, str)
        await websocket.send_text(text)


async def echo_bytes(websocket: WebSocket) -> None:
    await websocket.accept()
    async for chunk in websocket.iter_bytes():
        assert_type(chunk, bytes)
        await websocket.send_bytes(chunk)


async def echo_json(websocket: WebSocket) -> None:
    await websocket.accept()
    async for item in websocket.iter_json():
        assert_type(item, Any)
        await websocket.send_json(item, mode="binary")


async def deny(websocket: WebSocket) -> None:
    await websocket.send_denial_response(PlainTextResponse("go away", status_code=403))


class Counter(WebSocketEndpoint):
    encoding = "json"

    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"count": len(data)})

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        assert_type(close_code, int)


app = Starlette(
    routes=[
        WebSocketRoute("/chat", chat),
        WebSocketRoute("/text", echo_text),
        WebSocketRoute("/bytes", echo_bytes),
        WebSocketRoute("/json", echo_json),
        WebSocketRoute("/deny", deny),
        WebSocketRoute("/counter", Counter),
    ]
)


def test_websocket_session_types(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    assert_type(client, TestClient)
    session = client.websocket_connect("/chat", subprotocols=["chat"], headers={"x-client": "1"})
    assert_type(session, WebSocketTestSession)
    with session as websocket:
        assert_type(websocket, WebSocketTestSession)
        assert_type(websocket.accepted_subprotocol, str | None)
        assert_type(websocket.extra_headers, list[tuple[bytes, bytes]] | None)
        websocket.send_text("first")
        websocket.send_bytes(b"second")
        websocket.send_json([1, 2])
        received = websocket.receive_json()
        assert_type(received, Any)
        assert received == {"got": [1, 2], "text": "first"}
        assert_type(websocket.receive_bytes(), bytes)
        websocket.send_text("shout")
        text = websocket.receive_text()
        assert_type(text, str)
        assert text == "SHOUT"
        with pytest.raises(WebSocketDisconnect) as disconnect:
            websocket.receive_text()
        assert_type(disconnect.value.code, int)
        assert_type(disconnect.value.reason, str)
        assert (disconnect.value.code, disconnect.value.reason) == (1001, "bye")

    with client.websocket_connect("/text") as websocket:
        websocket.send_text("text")
        assert websocket.receive_text() == "text"
    with client.websocket_connect("/bytes") as websocket:
        websocket.send_bytes(b"bin")
        message = websocket.receive()
        assert_type(message, Message)
        assert message["bytes"] == b"bin"
    with client.websocket_connect("/json") as websocket:
        websocket.send_json({"a": 1})
        assert websocket.receive_json(mode="binary") == {"a": 1}

    with client.websocket_connect("/counter") as websocket:
        websocket.send_json([1, 2, 3])
        assert websocket.receive_json() == {"count": 3}
        websocket.close(code=1000)


def test_websocket_denial_response_is_an_httpx_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    with pytest.raises(WebSocketDenialResponse) as denial:
        with client.websocket_connect("/deny"):
            pass  # never reached: the handshake is denied
    response = denial.value
    assert_type(response.status_code, int)
    assert_type(response.text, str)
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.text) == (403, "go away")
