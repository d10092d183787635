"""`starlette.websockets` against a real server: uvicorn on 127.0.0.1, driven by the `websockets` client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from tests._server import RunningServer, run_uvicorn

TIMEOUT = 10


class Observations:
    """What the application saw, written from uvicorn's thread and read by the test once `done` is set."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.done = threading.Event()

    def wait(self) -> list[Any]:
        assert self.done.wait(TIMEOUT), "the application did not finish"
        return self.events


observations = Observations()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """One raw ASGI app; the path picks the scenario."""
    websocket = WebSocket(scope, receive=receive, send=send)
    path = scope["path"]
    try:
        if path == "/text":
            await websocket.accept()
            async for text in websocket.iter_text():
                await websocket.send_text(f"echo: {text}")
        elif path == "/bytes":
            await websocket.accept()
            async for data in websocket.iter_bytes():
                await websocket.send_bytes(data[::-1])
        elif path == "/json":
            await websocket.accept()
            received = await websocket.receive_json()
            await websocket.send_json({"got": received})
            received = await websocket.receive_json(mode="binary")
            await websocket.send_json({"got": received}, mode="binary")
            await websocket.close()
        elif path == "/negotiate":
            wanted = websocket.scope["subprotocols"]
            await websocket.accept(subprotocol=wanted[-1], headers=[(b"x-negotiated", b"yes")])
            await websocket.send_json(
                {"query": websocket.query_params["q"], "agent": websocket.headers["user-agent"].startswith("Python/")}
            )
            await websocket.close()
        elif path == "/server-close":
            await websocket.accept()
            await websocket.close(code=4001, reason="server says bye")
        elif path == "/client-close":
            await websocket.accept()
            await websocket.send_text("ready")
            try:
                await websocket.receive_text()
            except WebSocketDisconnect as exc:
                observations.events.append((exc.code, exc.reason, websocket.client_state))
        elif path == "/deny":
            await websocket.close()
        elif path == "/denial-response":
            await websocket.send_denial_response(
                PlainTextResponse("Nope", status_code=401, headers={"www-authenticate": "Bearer"})
            )
        elif path == "/peer-gone":
            await websocket.accept()
            await websocket.send_text("ready")
            message = await websocket.receive()
            observations.events.append(message["type"])
            try:
                while True:
                    await websocket.send_text("still there?")
            except WebSocketDisconnect as exc:
                observations.events.append((exc.code, websocket.application_state))
    finally:
        observations.done.set()


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with run_uvicorn(app, lifespan="off") as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_observations() -> None:
    global observations
    observations = Observations()


def open_client(
    server: RunningServer, path: str, subprotocols: Sequence[Subprotocol] | None = None
) -> ClientConnection:
    return connect(
        server.ws_url + path, subprotocols=subprotocols, proxy=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT
    )


def test_text_echo(server: RunningServer) -> None:
    with open_client(server, "/text") as client:
        for text in ["hello", "ünïcødé", ""]:
            client.send(text)
            assert client.recv(timeout=TIMEOUT) == f"echo: {text}"
    observations.wait()


def test_bytes_echo(server: RunningServer) -> None:
    with open_client(server, "/bytes") as client:
        client.send(b"\x00\x01\x02")
        assert client.recv(timeout=TIMEOUT) == b"\x02\x01\x00"
    observations.wait()


def test_json_over_text_and_binary_frames(server: RunningServer) -> None:
    with open_client(server, "/json") as client:
        client.send(json.dumps({"a": "é"}))
        reply = client.recv(timeout=TIMEOUT)
        assert reply == '{"got":{"a":"é"}}'
        client.send(json.dumps([1, 2]).encode())
        reply = client.recv(timeout=TIMEOUT)
        assert reply == b'{"got":[1,2]}'
        with pytest.raises(ConnectionClosed) as info:
            client.recv(timeout=TIMEOUT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1000
    observations.wait()


def test_subprotocol_accept_headers_and_scope(server: RunningServer) -> None:
    protocols = [Subprotocol("soap"), Subprotocol("wamp")]
    with open_client(server, "/negotiate?q=search", subprotocols=protocols) as client:
        assert client.subprotocol == "wamp"
        assert client.response is not None
        assert client.response.headers["x-negotiated"] == "yes"
        assert json.loads(client.recv(timeout=TIMEOUT)) == {"query": "search", "agent": True}
    observations.wait()


def test_server_close_code_and_reason_reach_the_client(server: RunningServer) -> None:
    with open_client(server, "/server-close") as client:
        with pytest.raises(ConnectionClosed) as info:
            client.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "server says bye")
    observations.wait()


def test_client_close_code_and_reason_reach_the_app(server: RunningServer) -> None:
    with open_client(server, "/client-close") as client:
        assert client.recv(timeout=TIMEOUT) == "ready"
        client.close(code=4002, reason="client says bye")
    assert observations.wait() == [(4002, "client says bye", WebSocketState.DISCONNECTED)]


def test_close_before_accept_is_a_403(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_client(server, "/deny")
    assert info.value.response.status_code == 403
    observations.wait()


def test_send_denial_response(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_client(server, "/denial-response")
    response = info.value.response
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.body == b"Nope"
    observations.wait()


def test_sending_to_a_gone_peer_raises_disconnect_1006(server: RunningServer) -> None:
    with open_client(server, "/peer-gone") as client:
        assert client.recv(timeout=TIMEOUT) == "ready"
        client.close()
    assert observations.wait() == ["websocket.disconnect", (1006, WebSocketState.DISCONNECTED)]


# --- through Starlette: routing, WebSocketEndpoint, HTTPException before accept ------------------------------------


class Chat(WebSocketEndpoint):
    encoding = "json"

    async def on_connect(self, websocket: WebSocket) -> None:
        if websocket.query_params.get("token") != "secret":
            raise HTTPException(status_code=403, detail="Bad token")
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"room": websocket.path_params["room"], "echo": data})


@pytest.fixture(scope="module")
def starlette_server() -> Iterator[RunningServer]:
    with run_uvicorn(Starlette(routes=[WebSocketRoute("/chat/{room}", Chat)])) as running:
        yield running


def test_websocket_endpoint_through_starlette(starlette_server: RunningServer) -> None:
    with open_client(starlette_server, "/chat/general?token=secret") as client:
        client.send(json.dumps({"msg": "hi"}))
        assert json.loads(client.recv(timeout=TIMEOUT)) == {"room": "general", "echo": {"msg": "hi"}}


def test_http_exception_before_accept_is_a_denial_response(starlette_server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_client(starlette_server, "/chat/general?token=wrong")
    assert info.value.response.status_code == 403
    assert info.value.response.body == b"Bad token"
