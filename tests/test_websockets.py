"""`starlette.websockets`: the WebSocket state machine against raw ASGI callables, then end to end."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from starlette.applications import Starlette
from starlette.exceptions import HTTPException, WebSocketException
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Router, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose, WebSocketDisconnect, WebSocketState
from tests.types import TestClientFactory

# ---------------------------------------------------------------------------------------------------------------
# Low level: a scripted server (messages to deliver, messages sent recorded) so that every transition and every
# error is observed exactly at the ASGI boundary.
# ---------------------------------------------------------------------------------------------------------------


class ScriptedServer:
    """The server side of one websocket: delivers `incoming` in order and records what the app sends."""

    def __init__(self, *incoming: Message, send_error: BaseException | None = None) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []
        self.receive_calls = 0
        self.send_error = send_error

    async def receive(self) -> Message:
        self.receive_calls += 1
        if not self.incoming:
            raise AssertionError("the application received more messages than the script holds")
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(message)


CONNECT: Message = {"type": "websocket.connect"}


def text_message(text: str) -> Message:
    return {"type": "websocket.receive", "text": text}


def bytes_message(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def disconnect(code: int = 1000, reason: str | None = None) -> Message:
    message: Message = {"type": "websocket.disconnect", "code": code}
    if reason is not None:
        message["reason"] = reason
    return message


def make_scope(
    path: str = "/ws",
    query_string: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    **extra: Any,
) -> Scope:
    scope: Scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 4321),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "headers": [(b"host", b"testserver"), *headers],
        "subprotocols": [],
    }
    scope.update(extra)
    return scope


def make_websocket(server: ScriptedServer, **scope_extra: Any) -> WebSocket:
    return WebSocket(make_scope(**scope_extra), receive=server.receive, send=server.send)


async def connected(*incoming: Message) -> tuple[WebSocket, ScriptedServer]:
    """A websocket that has been accepted, with `incoming` queued after the connect message."""
    server = ScriptedServer(CONNECT, *incoming)
    websocket = make_websocket(server)
    await websocket.accept()
    server.sent.clear()
    return websocket, server


def client_state(websocket: WebSocket) -> WebSocketState:
    """Read through a call so that the type checker does not narrow the attribute between awaits."""
    return websocket.client_state


def application_state(websocket: WebSocket) -> WebSocketState:
    """Read through a call so that the type checker does not narrow the attribute between awaits."""
    return websocket.application_state


# --- construction, scope access -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_new_websocket_starts_connecting_on_both_sides() -> None:
    websocket = make_websocket(ScriptedServer())
    assert client_state(websocket) is WebSocketState.CONNECTING
    assert application_state(websocket) is WebSocketState.CONNECTING


def test_state_enum_values() -> None:
    assert [(state.name, state.value) for state in WebSocketState] == [
        ("CONNECTING", 0),
        ("CONNECTED", 1),
        ("DISCONNECTED", 2),
        ("RESPONSE", 3),
    ]


def test_websocket_requires_a_websocket_scope() -> None:
    server = ScriptedServer()
    with pytest.raises(AssertionError):
        WebSocket({"type": "http", "path": "/", "headers": []}, receive=server.receive, send=server.send)


def test_websocket_exposes_the_scope_as_a_mapping_and_parsed_url_parts() -> None:
    server = ScriptedServer()
    websocket = make_websocket(
        server,
        path="/chat/room",
        query_string=b"a=1&b=two",
        headers=[(b"sec-websocket-version", b"13")],
        path_params={"room": "room"},
    )
    assert websocket["path"] == "/chat/room"
    assert websocket["type"] == "websocket"
    assert "headers" in websocket
    assert len(websocket) == len(websocket.scope)
    assert dict(websocket) == dict(websocket.scope)
    assert websocket.url == "ws://testserver/chat/room?a=1&b=two"
    assert websocket.url.scheme == "ws"
    assert websocket.url.path == "/chat/room"
    assert websocket.headers["sec-websocket-version"] == "13"
    assert websocket.query_params["b"] == "two"
    assert websocket.path_params == {"room": "room"}
    assert websocket.client is not None and websocket.client.host == "127.0.0.1"


def test_websockets_are_hashable_and_compare_by_identity() -> None:
    server = ScriptedServer()
    scope = make_scope()
    first = WebSocket(scope, receive=server.receive, send=server.send)
    second = WebSocket(scope, receive=server.receive, send=server.send)
    assert first == first
    assert first != second
    assert len({first, second, first}) == 2


# --- accept ---------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_accept_receives_connect_then_sends_accept() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    await websocket.accept()
    assert server.receive_calls == 1
    assert server.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert client_state(websocket) is WebSocketState.CONNECTED
    assert application_state(websocket) is WebSocketState.CONNECTED


@pytest.mark.anyio
async def test_accept_with_subprotocol_and_headers() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    await websocket.accept(subprotocol="wamp", headers=[(b"x-custom", b"1"), (b"set-cookie", b"a=b")])
    assert server.sent == [
        {"type": "websocket.accept", "subprotocol": "wamp", "headers": [(b"x-custom", b"1"), (b"set-cookie", b"a=b")]}
    ]


@pytest.mark.anyio
async def test_accept_headers_may_be_any_iterable() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    await websocket.accept(headers=(pair for pair in [(b"x-a", b"1")]))
    assert server.sent[0]["headers"] == [(b"x-a", b"1")]


@pytest.mark.anyio
async def test_accept_after_explicit_receive_of_connect_does_not_receive_again() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    assert await websocket.receive() == CONNECT
    assert client_state(websocket) is WebSocketState.CONNECTED
    await websocket.accept()
    assert server.receive_calls == 1
    assert application_state(websocket) is WebSocketState.CONNECTED


@pytest.mark.anyio
async def test_accept_twice_is_a_runtime_error() -> None:
    websocket, server = await connected()
    with pytest.raises(RuntimeError) as info:
        await websocket.accept()
    assert (
        str(info.value) == 'Expected ASGI message "websocket.send" or "websocket.close", but got \'websocket.accept\''
    )
    assert server.sent == []


# --- receive state machine ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_first_received_message_must_be_connect() -> None:
    server = ScriptedServer(text_message("hi"))
    websocket = make_websocket(server)
    with pytest.raises(RuntimeError) as info:
        await websocket.receive()
    assert str(info.value) == "Expected ASGI message \"websocket.connect\", but got 'websocket.receive'"
    assert client_state(websocket) is WebSocketState.CONNECTING


@pytest.mark.anyio
async def test_connected_receive_accepts_only_receive_or_disconnect() -> None:
    websocket, _ = await connected({"type": "websocket.connect"})
    with pytest.raises(RuntimeError) as info:
        await websocket.receive()
    assert str(info.value) == (
        'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got \'websocket.connect\''
    )


@pytest.mark.anyio
async def test_receive_returns_raw_messages_and_tracks_disconnect() -> None:
    websocket, _ = await connected(text_message("a"), disconnect(1001, "bye"))
    assert await websocket.receive() == text_message("a")
    assert client_state(websocket) is WebSocketState.CONNECTED
    assert await websocket.receive() == {"type": "websocket.disconnect", "code": 1001, "reason": "bye"}
    assert client_state(websocket) is WebSocketState.DISCONNECTED


@pytest.mark.anyio
async def test_receive_after_disconnect_is_a_runtime_error() -> None:
    websocket, server = await connected(disconnect())
    await websocket.receive()
    with pytest.raises(RuntimeError) as info:
        await websocket.receive()
    assert str(info.value) == 'Cannot call "receive" once a disconnect message has been received.'
    assert server.receive_calls == 2  # the server was not asked again


# --- send state machine ---------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("message_type", ["websocket.send", "websocket.http.response.body", "http.response.start"])
async def test_connecting_send_accepts_only_accept_close_or_denial_start(message_type: str) -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    with pytest.raises(RuntimeError) as info:
        await websocket.send({"type": message_type, "text": "x"})
    assert str(info.value) == (
        'Expected ASGI message "websocket.accept", "websocket.close" or "websocket.http.response.start", '
        f"but got {message_type!r}"
    )
    assert server.sent == []
    assert application_state(websocket) is WebSocketState.CONNECTING


@pytest.mark.anyio
async def test_connected_send_accepts_only_send_or_close() -> None:
    websocket, server = await connected()
    with pytest.raises(RuntimeError) as info:
        await websocket.send({"type": "websocket.http.response.start", "status": 500, "headers": []})
    assert str(info.value) == (
        'Expected ASGI message "websocket.send" or "websocket.close", but got \'websocket.http.response.start\''
    )
    assert server.sent == []
    assert application_state(websocket) is WebSocketState.CONNECTED


@pytest.mark.anyio
async def test_raw_send_of_data_and_close() -> None:
    websocket, server = await connected()
    await websocket.send({"type": "websocket.send", "text": "raw"})
    assert application_state(websocket) is WebSocketState.CONNECTED
    await websocket.send({"type": "websocket.close", "code": 1000})
    assert application_state(websocket) is WebSocketState.DISCONNECTED
    assert server.sent == [{"type": "websocket.send", "text": "raw"}, {"type": "websocket.close", "code": 1000}]


@pytest.mark.anyio
async def test_send_after_close_is_a_runtime_error() -> None:
    websocket, server = await connected()
    await websocket.close()
    with pytest.raises(RuntimeError) as info:
        await websocket.send_text("too late")
    assert str(info.value) == 'Cannot call "send" once a close message has been sent.'
    assert server.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


@pytest.mark.anyio
async def test_close_before_accept_disconnects_without_receiving() -> None:
    server = ScriptedServer()
    websocket = make_websocket(server)
    await websocket.close()
    assert server.receive_calls == 0
    assert server.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert application_state(websocket) is WebSocketState.DISCONNECTED
    assert client_state(websocket) is WebSocketState.CONNECTING


@pytest.mark.anyio
async def test_close_with_code_and_reason() -> None:
    websocket, server = await connected()
    await websocket.close(code=4001, reason="policy")
    assert server.sent == [{"type": "websocket.close", "code": 4001, "reason": "policy"}]


@pytest.mark.anyio
async def test_denial_response_messages_move_through_the_response_state() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    await websocket.receive()
    await websocket.send({"type": "websocket.http.response.start", "status": 401, "headers": []})
    assert application_state(websocket) is WebSocketState.RESPONSE
    await websocket.send({"type": "websocket.http.response.body", "body": b"part", "more_body": True})
    assert application_state(websocket) is WebSocketState.RESPONSE
    await websocket.send({"type": "websocket.http.response.body", "body": b"end"})
    assert application_state(websocket) is WebSocketState.DISCONNECTED
    assert [message["type"] for message in server.sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
        "websocket.http.response.body",
    ]
    with pytest.raises(RuntimeError, match='Cannot call "send" once a close message has been sent.'):
        await websocket.send({"type": "websocket.http.response.body", "body": b""})


@pytest.mark.anyio
@pytest.mark.parametrize("message_type", ["websocket.send", "websocket.close", "websocket.http.response.start"])
async def test_response_state_accepts_only_body_messages(message_type: str) -> None:
    server = ScriptedServer()
    websocket = make_websocket(server)
    await websocket.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    with pytest.raises(RuntimeError) as info:
        await websocket.send({"type": message_type})
    assert str(info.value) == f'Expected ASGI message "websocket.http.response.body", but got {message_type!r}'
    assert application_state(websocket) is WebSocketState.RESPONSE
    assert len(server.sent) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("error", [OSError("gone"), ConnectionResetError(), BrokenPipeError()])
async def test_send_failing_with_oserror_raises_disconnect_1006(error: OSError) -> None:
    websocket, server = await connected()
    server.send_error = error
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.send_text("lost")
    assert info.value.code == 1006
    assert info.value.reason == ""
    assert application_state(websocket) is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="once a close message has been sent"):
        await websocket.send_text("again")


@pytest.mark.anyio
async def test_accept_failing_with_oserror_raises_disconnect_1006() -> None:
    server = ScriptedServer(CONNECT, send_error=ConnectionResetError())
    websocket = make_websocket(server)
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.accept()
    assert info.value.code == 1006
    assert application_state(websocket) is WebSocketState.DISCONNECTED


@pytest.mark.anyio
async def test_other_send_errors_propagate_unchanged() -> None:
    websocket, server = await connected()
    server.send_error = ValueError("not a disconnect")
    with pytest.raises(ValueError, match="not a disconnect"):
        await websocket.send_text("x")


# --- typed receive helpers ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_receive_text_bytes_and_json() -> None:
    websocket, _ = await connected(
        text_message("hello"),
        bytes_message(b"\x00\xff"),
        text_message('{"a": [1, 2]}'),
        bytes_message('{"ünï": "cødé"}'.encode()),
    )
    assert await websocket.receive_text() == "hello"
    assert await websocket.receive_bytes() == b"\x00\xff"
    assert await websocket.receive_json() == {"a": [1, 2]}
    assert await websocket.receive_json(mode="binary") == {"ünï": "cødé"}


@pytest.mark.anyio
async def test_receive_helpers_accept_messages_carrying_both_keys() -> None:
    websocket, _ = await connected(
        {"type": "websocket.receive", "text": "t", "bytes": None},
        {"type": "websocket.receive", "text": None, "bytes": b"b"},
    )
    assert await websocket.receive_text() == "t"
    assert await websocket.receive_bytes() == b"b"


@pytest.mark.anyio
async def test_receive_text_of_a_binary_frame_is_a_runtime_error() -> None:
    websocket, _ = await connected(bytes_message(b"x"))
    with pytest.raises(RuntimeError, match="^Expected a text websocket message, but got bytes$"):
        await websocket.receive_text()


@pytest.mark.anyio
async def test_receive_bytes_of_a_text_frame_is_a_runtime_error() -> None:
    websocket, _ = await connected(text_message("x"))
    with pytest.raises(RuntimeError, match="^Expected a bytes websocket message, but got text$"):
        await websocket.receive_bytes()


@pytest.mark.anyio
async def test_receive_json_of_invalid_json_raises_json_decode_error() -> None:
    websocket, _ = await connected(text_message("{not json"))
    with pytest.raises(json.JSONDecodeError):
        await websocket.receive_json()


@pytest.mark.anyio
async def test_receive_json_with_an_unknown_mode() -> None:
    websocket, server = await connected(text_message("{}"))
    with pytest.raises(RuntimeError) as info:
        await websocket.receive_json(mode="xml")
    assert str(info.value) == 'The "mode" argument should be "text" or "binary".'
    assert server.receive_calls == 1  # nothing consumed beyond the connect


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
async def test_receive_helpers_need_an_accepted_connection(method: str) -> None:
    server = ScriptedServer(CONNECT, text_message("x"))
    websocket = make_websocket(server)
    with pytest.raises(RuntimeError) as info:
        await getattr(websocket, method)()
    assert str(info.value) == 'WebSocket is not connected. Need to call "accept" first.'
    assert server.receive_calls == 0


@pytest.mark.anyio
async def test_receive_helpers_after_the_app_closed() -> None:
    websocket, _ = await connected(text_message("x"))
    await websocket.close()
    with pytest.raises(RuntimeError, match='Need to call "accept" first'):
        await websocket.receive_text()


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
async def test_receive_helpers_raise_disconnect_with_code_and_reason(method: str) -> None:
    websocket, _ = await connected(disconnect(4000, "client says bye"))
    with pytest.raises(WebSocketDisconnect) as info:
        await getattr(websocket, method)()
    assert info.value.code == 4000
    assert info.value.reason == "client says bye"
    assert client_state(websocket) is WebSocketState.DISCONNECTED


@pytest.mark.anyio
async def test_disconnect_without_reason_or_code() -> None:
    websocket, _ = await connected({"type": "websocket.disconnect", "code": 1005})
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.receive_text()
    assert (info.value.code, info.value.reason) == (1005, "")

    websocket, _ = await connected({"type": "websocket.disconnect", "code": None, "reason": None})
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.receive_bytes()
    assert (info.value.code, info.value.reason) == (1000, "")


# --- iteration ------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_iter_text_stops_at_disconnect() -> None:
    websocket, _ = await connected(text_message("a"), text_message("b"), disconnect(1001))
    assert [item async for item in websocket.iter_text()] == ["a", "b"]
    assert client_state(websocket) is WebSocketState.DISCONNECTED


@pytest.mark.anyio
async def test_iter_bytes_stops_at_disconnect() -> None:
    websocket, _ = await connected(bytes_message(b"1"), bytes_message(b"2"), disconnect())
    assert [item async for item in websocket.iter_bytes()] == [b"1", b"2"]


@pytest.mark.anyio
async def test_iter_json_stops_at_disconnect() -> None:
    websocket, _ = await connected(text_message("[1]"), text_message('{"k": null}'), disconnect())
    assert [item async for item in websocket.iter_json()] == [[1], {"k": None}]


@pytest.mark.anyio
async def test_iter_text_does_not_swallow_other_errors() -> None:
    websocket, _ = await connected(text_message("a"), bytes_message(b"b"))
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="Expected a text websocket message"):
        async for item in websocket.iter_text():
            seen.append(item)
    assert seen == ["a"]


# --- typed send helpers ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_send_text_and_bytes() -> None:
    websocket, server = await connected()
    await websocket.send_text("héllo")
    await websocket.send_bytes(b"\x01\x02")
    assert server.sent == [
        {"type": "websocket.send", "text": "héllo"},
        {"type": "websocket.send", "bytes": b"\x01\x02"},
    ]


@pytest.mark.anyio
async def test_send_json_is_compact_and_not_ascii_escaped() -> None:
    websocket, server = await connected()
    await websocket.send_json({"message": "héllo", "list": [1, 2]})
    await websocket.send_json({"message": "héllo"}, mode="binary")
    assert server.sent == [
        {"type": "websocket.send", "text": '{"message":"héllo","list":[1,2]}'},
        {"type": "websocket.send", "bytes": '{"message":"héllo"}'.encode()},
    ]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(alphabet=st.characters(codec="utf-8"), max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@pytest.mark.anyio
@settings(max_examples=50, deadline=None)
@given(value=json_values, mode=st.sampled_from(["text", "binary"]))
async def test_json_round_trips_through_send_json_and_receive_json(value: Any, mode: str) -> None:
    sender, sender_server = await connected()
    await sender.send_json(value, mode=mode)
    (sent,) = sender_server.sent
    frame = sent["text"] if mode == "text" else sent["bytes"].decode("utf-8")
    assert frame == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    receiver, _ = await connected({**sent, "type": "websocket.receive"})
    assert await receiver.receive_json(mode=mode) == value


@pytest.mark.anyio
async def test_send_json_with_an_unknown_mode() -> None:
    websocket, server = await connected()
    with pytest.raises(RuntimeError) as info:
        await websocket.send_json({}, mode="base64")
    assert str(info.value) == 'The "mode" argument should be "text" or "binary".'
    assert server.sent == []


@pytest.mark.anyio
@pytest.mark.parametrize("method,argument", [("send_text", "x"), ("send_bytes", b"x"), ("send_json", 1)])
async def test_send_helpers_before_accept_are_runtime_errors(method: str, argument: Any) -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    with pytest.raises(RuntimeError, match="but got 'websocket.send'"):
        await getattr(websocket, method)(argument)
    assert server.sent == []


# --- denial responses -----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_send_denial_response_needs_the_server_extension() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server)
    with pytest.raises(RuntimeError) as info:
        await websocket.send_denial_response(PlainTextResponse("no", status_code=403))
    assert str(info.value) == "The server doesn't support the Websocket Denial Response extension."
    assert server.sent == []
    assert server.receive_calls == 0

    websocket = make_websocket(server, extensions={"websocket.http.pathsend": {}})
    with pytest.raises(RuntimeError, match="Denial Response extension"):
        await websocket.send_denial_response(PlainTextResponse("no", status_code=403))


@pytest.mark.anyio
async def test_send_denial_response_sends_prefixed_http_response() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server, extensions={"websocket.http.response": {}})
    await websocket.send_denial_response(
        PlainTextResponse("Go away", status_code=401, headers={"www-authenticate": "Bearer"})
    )
    assert server.receive_calls == 1  # the connect message is consumed before the response
    assert application_state(websocket) is WebSocketState.DISCONNECTED
    start, body = server.sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 401
    headers = {bytes(key): bytes(value) for key, value in start["headers"]}
    assert headers[b"www-authenticate"] == b"Bearer"
    assert headers[b"content-type"] == b"text/plain; charset=utf-8"
    assert headers[b"content-length"] == b"7"
    assert body["type"] == "websocket.http.response.body"
    assert body["body"] == b"Go away"


@pytest.mark.anyio
async def test_send_denial_response_after_connect_was_received() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server, extensions={"websocket.http.response": {}})
    await websocket.receive()
    await websocket.send_denial_response(Response(b"", status_code=400))
    assert server.receive_calls == 1
    assert server.sent[0]["status"] == 400


@pytest.mark.anyio
async def test_send_denial_response_after_accept_is_a_runtime_error() -> None:
    server = ScriptedServer(CONNECT)
    websocket = make_websocket(server, extensions={"websocket.http.response": {}})
    await websocket.accept()
    with pytest.raises(RuntimeError, match="but got 'websocket.http.response.start'"):
        await websocket.send_denial_response(Response(b"", status_code=400))


# --- WebSocketClose / WebSocketDisconnect ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_websocket_close_app_sends_close() -> None:
    server = ScriptedServer()
    await WebSocketClose()(make_scope(), server.receive, server.send)
    await WebSocketClose(code=1008, reason="policy")(make_scope(), server.receive, server.send)
    assert server.sent == [
        {"type": "websocket.close", "code": 1000, "reason": ""},
        {"type": "websocket.close", "code": 1008, "reason": "policy"},
    ]
    assert server.receive_calls == 0


def test_websocket_close_attributes() -> None:
    close = WebSocketClose(1001)
    assert (close.code, close.reason) == (1001, "")


def test_websocket_disconnect_attributes() -> None:
    default = WebSocketDisconnect()
    assert (default.code, default.reason) == (1000, "")
    custom = WebSocketDisconnect(code=4003, reason="forbidden")
    assert (custom.code, custom.reason) == (4003, "forbidden")
    assert isinstance(custom, Exception)


# ---------------------------------------------------------------------------------------------------------------
# End to end: the TestClient's websocket sessions, Starlette's routing and exception handling, on both backends.
# ---------------------------------------------------------------------------------------------------------------


def websocket_app(handler: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """A raw ASGI app that wraps the connection in a `WebSocket` and hands it to `handler`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await handler(WebSocket(scope, receive=receive, send=send))

    return app


def test_hello_world(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("Hello, world!")
        await websocket.close()

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        assert session.receive_text() == "Hello, world!"
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
        assert (info.value.code, info.value.reason) == (1000, "")


def test_connection_details_from_the_handshake(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "url": str(websocket.url),
                "path": websocket.url.path,
                "query": dict(websocket.query_params),
                "header": websocket.headers.get("x-token"),
                "version": websocket.headers.get("sec-websocket-version"),
                "cookie": websocket.cookies.get("session"),
                "client": list(websocket.client or ()),
            }
        )
        await websocket.close()

    client = test_client_factory(websocket_app(handler), cookies={"session": "s1"})
    with client.websocket_connect("/chat/room?user=bob&user=alice", headers={"x-token": "t0k"}) as session:
        details = session.receive_json()
    assert details == {
        "url": "ws://testserver/chat/room?user=bob&user=alice",
        "path": "/chat/room",
        "query": {"user": "alice"},
        "header": "t0k",
        "version": "13",
        "cookie": "s1",
        "client": ["testclient", 50000],
    }


def test_echo_text_bytes_and_json(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("text: " + await websocket.receive_text())
        await websocket.send_bytes(b"bytes: " + await websocket.receive_bytes())
        await websocket.send_json({"json": await websocket.receive_json()})
        await websocket.send_json({"binary": await websocket.receive_json(mode="binary")}, mode="binary")
        await websocket.close()

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        session.send_text("héllo")
        assert session.receive_text() == "text: héllo"
        session.send_bytes(b"\x00\x01")
        assert session.receive_bytes() == b"bytes: \x00\x01"
        session.send_json({"a": ["é", 1]})
        assert session.receive_json() == {"json": {"a": ["é", 1]}}
        session.send_json([True, None], mode="binary")
        assert session.receive_json(mode="binary") == {"binary": [True, None]}


def test_json_goes_over_the_wire_compact_and_unescaped(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"k": "ü", "l": [1, 2]})
        await websocket.close()

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        assert session.receive_text() == '{"k":"ü","l":[1,2]}'


def test_iterating_until_the_client_leaves(test_client_factory: TestClientFactory) -> None:
    received: list[Any] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        async with aclosing(websocket.iter_text()) as texts:
            async for text in texts:
                received.append(text)
                if text == "switch":
                    break
        async for data in websocket.iter_json():
            received.append(data)
        received.append(client_state(websocket))

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        session.send_text("a")
        session.send_text("switch")
        session.send_json({"n": 1})
        session.close(code=1001)
    assert received == ["a", "switch", {"n": 1}, WebSocketState.DISCONNECTED]


def test_iter_bytes_until_the_client_leaves(test_client_factory: TestClientFactory) -> None:
    received: list[bytes] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_bytes():
            received.append(data)

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        session.send_bytes(b"1")
        session.send_bytes(b"2")
    assert received == [b"1", b"2"]


def test_subprotocol_negotiation_and_accept_headers(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        chosen = "wamp" if "wamp" in offered else None
        await websocket.accept(subprotocol=chosen, headers=[(b"x-offered", ",".join(offered).encode())])
        await websocket.close()

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/", subprotocols=["soap", "wamp"]) as session:
        assert session.accepted_subprotocol == "wamp"
        assert [(bytes(k), bytes(v)) for k, v in session.extra_headers or []] == [(b"x-offered", b"soap,wamp")]
    with client.websocket_connect("/") as session:
        assert session.accepted_subprotocol is None


def test_server_close_code_and_reason_reach_the_client(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4001, reason="Custom reason")

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4001, "Custom reason")


def test_client_close_code_and_reason_reach_the_app(test_client_factory: TestClientFactory) -> None:
    seen: list[tuple[int, str]] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_bytes()
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason))

    client = test_client_factory(websocket_app(handler))
    with client.websocket_connect("/") as session:
        session.close(code=4002, reason="client reason")
    assert seen == [(4002, "client reason")]


@pytest.mark.parametrize("code,reason", [(1000, None), (1008, "forbidden")])
def test_close_before_accept_rejects_the_handshake(
    test_client_factory: TestClientFactory, code: int, reason: str | None
) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.close(code=code, reason=reason)

    client = test_client_factory(websocket_app(handler))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/"):
            pass  # pragma: no cover - the handshake is refused
    assert (info.value.code, info.value.reason) == (code, reason or "")


def test_send_denial_response(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        response = PlainTextResponse("Sorry, no entry", status_code=401, headers={"www-authenticate": "Bearer"})
        await websocket.send_denial_response(response)

    client = test_client_factory(websocket_app(handler))
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/"):
            pass  # pragma: no cover - the handshake is refused
    assert isinstance(info.value, WebSocketDisconnect)
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.headers["content-type"] == "text/plain; charset=utf-8"
    assert info.value.content == b"Sorry, no entry"


def test_streamed_denial_response(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.receive()
        await websocket.send({"type": "websocket.http.response.start", "status": 418, "headers": []})
        await websocket.send({"type": "websocket.http.response.body", "body": b"I'm ", "more_body": True})
        await websocket.send({"type": "websocket.http.response.body", "body": b"a teapot"})

    client = test_client_factory(websocket_app(handler))
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/"):
            pass  # pragma: no cover - the handshake is refused
    assert (info.value.status_code, info.value.text) == (418, "I'm a teapot")


def test_application_errors_reach_the_test(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.receive_text()  # not accepted yet

    client = test_client_factory(websocket_app(handler))
    with pytest.raises(RuntimeError, match='WebSocket is not connected. Need to call "accept" first.'):
        with client.websocket_connect("/"):
            pass  # pragma: no cover - the app fails during the handshake


def test_sending_after_close_is_an_application_error(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()
        await websocket.send_text("late")

    client = test_client_factory(websocket_app(handler))
    with pytest.raises(RuntimeError, match='Cannot call "send" once a close message has been sent.'):
        with client.websocket_connect("/") as session:
            with pytest.raises(WebSocketDisconnect):
                session.receive_text()


# --- through Starlette: routing, WebSocketEndpoint, exception handlers ----------------------------------------


async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(
        {
            "room": websocket.path_params["room"],
            "self": str(websocket.url_for("room", room=websocket.path_params["room"])),
            "root_path": websocket.scope["root_path"],
        }
    )
    await websocket.close()


async def chat_host(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"host": websocket.headers["host"], "self": str(websocket.url_for("chat:ws"))})
    await websocket.close()


async def needs_token(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token")
    if token is None:
        raise HTTPException(status_code=401, detail="Unauthorized", headers={"www-authenticate": "Bearer"})
    if token != "secret":
        raise WebSocketException(code=1008, reason="Bad token")
    await websocket.accept()
    await websocket.send_text("welcome")
    if await websocket.receive_text() == "misbehave":
        raise WebSocketException(code=4003, reason="Misbehaving")
    await websocket.close()  # pragma: no cover - every test ends the session above


def routed_app() -> Starlette:
    return Starlette(
        routes=[
            WebSocketRoute("/auth", needs_token),
            Mount("/api", routes=[WebSocketRoute("/rooms/{room}", room, name="room")]),
            Host("chat.example.org", Router(routes=[WebSocketRoute("/ws", chat_host, name="ws")]), name="chat"),
        ]
    )


def test_websocket_routes_through_mount(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with client.websocket_connect("/api/rooms/lobby") as session:
            assert session.receive_json() == {
                "room": "lobby",
                "self": "ws://testserver/api/rooms/lobby",
                "root_path": "/api",
            }


def test_websocket_routes_through_host(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with client.websocket_connect("ws://chat.example.org/ws") as session:
            message = session.receive_json()
    assert message == {"host": "chat.example.org", "self": "ws://chat.example.org/ws"}


def test_websocket_without_a_route_is_closed(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/nowhere"):
                pass  # pragma: no cover - the handshake is refused
    assert info.value.code == 1000


def test_http_exception_before_accept_is_a_denial_response(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with pytest.raises(WebSocketDenialResponse) as info:
            with client.websocket_connect("/auth"):
                pass  # pragma: no cover - the handshake is refused
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.text == "Unauthorized"


def test_websocket_exception_before_accept_closes_with_its_code(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/auth?token=wrong"):
                pass  # pragma: no cover - the handshake is refused
    assert (info.value.code, info.value.reason) == (1008, "Bad token")


def test_websocket_exception_after_accept_closes_with_its_code(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(routed_app()) as client:
        with client.websocket_connect("/auth?token=secret") as session:
            assert session.receive_text() == "welcome"
            session.send_text("misbehave")
            with pytest.raises(WebSocketDisconnect) as info:
                session.receive_text()
    assert (info.value.code, info.value.reason) == (4003, "Misbehaving")


def test_custom_websocket_exception_handler(test_client_factory: TestClientFactory) -> None:
    async def on_websocket_exception(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=1011, reason=f"handled: {exc.reason}")

    app = Starlette(
        routes=[WebSocketRoute("/auth", needs_token)],
        exception_handlers={WebSocketException: on_websocket_exception},
    )
    with test_client_factory(app) as client:
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/auth?token=nope"):
                pass  # pragma: no cover - the handshake is refused
    assert (info.value.code, info.value.reason) == (1011, "handled: Bad token")
