"""The conformance harness's own pieces: the dispatcher app, shared helpers, sessions, adapters."""

from __future__ import annotations

import socket
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import (
    CommandTarget,
    InProcessTarget,
    Session,
    WebSocketClosed,
    WebSocketRejected,
    expect_equal,
    run_scenario,
)
from conformance._session import STATE_KEY, read_until_closed
from conformance._targets import _ServerEndpoint
from conformance.app import app as dispatcher
from conformance.scenarios._helpers import read_body, scope_echo, send_response
from starlette.testclient import TestClient
from starlette.types import Message
from tests.conformance.test_runner import HELLO, UVICORN, make


def test_the_dispatcher_answers_404_without_a_scenario_header() -> None:
    with TestClient(dispatcher) as client:
        response = client.get("/")
        assert response.status_code == 404
        assert response.text == "No scenario: send an x-conformance-scenario header naming one."
        assert client.get("/", headers={"x-conformance-scenario": "no.such.scenario"}).status_code == 404
        with pytest.raises(Exception) as info, client.websocket_connect("/"):
            pass  # pragma: no cover  (refused)
        assert getattr(info.value, "code", None) == 1008


@pytest.mark.anyio
async def test_the_dispatcher_lifespan_without_state() -> None:
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    await dispatcher({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    state: dict[str, object] = {}
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    await dispatcher({"type": "lifespan", "state": state}, receive, send)
    assert STATE_KEY in state


@pytest.mark.anyio
async def test_helpers() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await send_response(send, 201, b"x", headers=[(b"x-a", b"1")], content_type=None)
    assert sent[0] == {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"x-a", b"1"), (b"content-length", b"1")],
    }

    incoming: Iterator[Message] = iter(
        [{"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.disconnect"}]
    )

    async def receive() -> Message:
        return next(incoming)

    body, messages = await read_body(receive)
    assert (body, [m["type"] for m in messages]) == (b"a", ["http.request", "http.disconnect"])


def test_scope_echo() -> None:
    data = TestClient(scope_echo).get("/p?q=1").json()  # no lifespan: scope_echo serves HTTP only
    assert (data["type"], data["path"], data["query_string"]) == ("http", "/p", "q=1")
    assert data["_types"]["query_string"] == "bytes"


def _raw_requests(s: Session) -> None:
    head = s.request_head("GET", "/", [("connection", "close")])
    expect_equal("start of the answer", s.raw(head)[:12], b"HTTP/1.1 200")
    expect_equal("start of the answer", s.raw(head, shutdown=False)[:12], b"HTTP/1.1 200")


def test_session_raw_on_a_real_server() -> None:
    target = CommandTarget("uvicorn", UVICORN)
    with target.serve(HELLO) as endpoint:
        assert run_scenario(make("t.raw.ok", _raw_requests), target, endpoint).outcome == "passed"
    # Still readable once the server is gone (its log file with it).
    assert "Uvicorn running" in endpoint.log()


def test_read_until_closed_stops_on_timeout_reset_and_close() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            peer, _ = server.accept()
            with peer:
                peer.sendall(b"hello")
                assert read_until_closed(client, 0.2) == b"hello"  # timed out: the peer is silent
                assert read_until_closed(client, 0) == b""  # no time at all
                peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            assert read_until_closed(client, 5) == b""  # reset by the peer
        with socket.create_connection(("127.0.0.1", port)) as client:
            peer, _ = server.accept()
            peer.sendall(b"bye")
            peer.close()
            assert read_until_closed(client, 5) == b"bye"  # closed by the peer


def test_testclient_websocket_after_the_app_ended() -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        from starlette.websockets import WebSocket

        if scope["type"] != "websocket":
            return  # no lifespan support
        websocket = WebSocket(scope, receive, send)  # type: ignore[arg-type]  # plain ASGI test app
        await websocket.accept()
        await websocket.close(4000, "done")

    sys.modules[__name__].ended_app = app  # type: ignore[attr-defined]  # importable by path below
    with (
        InProcessTarget().serve(f"{__name__}:ended_app") as endpoint,
        endpoint.websocket("/", subprotocols=(), headers={}) as ws,
    ):
        for _ in range(2):  # the close message, then the TestClient's report that the app is gone
            with pytest.raises(WebSocketClosed) as closed:
                ws.receive()
            assert (closed.value.code, closed.value.reason) == (4000, "done")


def test_a_websocket_handshake_cut_short_is_an_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        endpoint = _ServerEndpoint("127.0.0.1", server.getsockname()[1], tmp_path / "log")

        def hang_up() -> None:
            peer, _ = server.accept()
            peer.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        with pytest.raises(Exception) as info, endpoint.websocket("/", subprotocols=(), headers={}):
            pass  # pragma: no cover  (never connected)
        thread.join()
    assert not isinstance(info.value, WebSocketRejected)
