"""The `WebSocket` connection object, its state machine, and the small websocket ASGI helpers."""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send


class WebSocketState(enum.Enum):
    """Where one side of a websocket connection is in its lifecycle."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    """Raised when the peer has gone away (a `websocket.disconnect` was received or sending failed)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""


# Module-level aliases: identity checks against these are cheaper than attribute lookups on the enum class,
# and the state checks sit on the per-message path.
_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED
_RESPONSE = WebSocketState.RESPONSE

_DENIAL_EXTENSION = "websocket.http.response"


def _check_mode(mode: str) -> None:
    if mode != "text" and mode != "binary":
        raise RuntimeError('The "mode" argument should be "text" or "binary".')


class WebSocket(HTTPConnection):
    """A websocket connection: the scope as a read-only mapping plus typed send/receive helpers.

    Theory of operation: the two directions of the connection are tracked separately.
    `client_state` follows the messages the server delivers to us (`websocket.connect`, then any number of
    `websocket.receive`, then `websocket.disconnect`); `application_state` follows the messages we send
    (`websocket.accept`, `websocket.close` or a denial `websocket.http.response.*` first, then
    `websocket.send` until `websocket.close`). Every message is checked against the current state before it
    crosses the ASGI boundary, so protocol misuse surfaces as a `RuntimeError` in the application rather than
    as undefined server behaviour.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        super().__init__(scope)
        assert scope["type"] == "websocket"
        self._receive = receive
        self._send = send
        self.client_state: WebSocketState = WebSocketState.CONNECTING
        self.application_state: WebSocketState = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """Receive the next ASGI message from the server, keeping `client_state` up to date."""
        state = self.client_state
        if state is _CONNECTED:
            message = await self._receive()
            message_type = message["type"]
            if message_type == "websocket.receive":
                return message
            if message_type == "websocket.disconnect":
                self.client_state = _DISCONNECTED
                return message
            raise RuntimeError(
                f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {message_type!r}'
            )
        if state is _CONNECTING:
            message = await self._receive()
            message_type = message["type"]
            if message_type != "websocket.connect":
                raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {message_type!r}')
            self.client_state = _CONNECTED
            return message
        raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')

    async def send(self, message: Message) -> None:
        """Send an ASGI message to the server, keeping `application_state` up to date."""
        state = self.application_state
        message_type = message["type"]
        if state is _CONNECTED:
            if message_type == "websocket.close":
                self.application_state = _DISCONNECTED
            elif message_type != "websocket.send":
                raise RuntimeError(
                    f'Expected ASGI message "websocket.send" or "websocket.close", but got {message_type!r}'
                )
        elif state is _CONNECTING:
            if message_type == "websocket.accept":
                self.application_state = _CONNECTED
            elif message_type == "websocket.close":
                self.application_state = _DISCONNECTED
            elif message_type == "websocket.http.response.start":
                self.application_state = _RESPONSE
            else:
                raise RuntimeError(
                    'Expected ASGI message "websocket.accept", "websocket.close" or "websocket.http.response.start", '
                    f"but got {message_type!r}"
                )
        elif state is _RESPONSE:
            if message_type != "websocket.http.response.body":
                raise RuntimeError(f'Expected ASGI message "websocket.http.response.body", but got {message_type!r}')
            if not message.get("more_body", False):
                self.application_state = _DISCONNECTED
        else:
            raise RuntimeError('Cannot call "send" once a close message has been sent.')
        try:
            await self._send(message)
        except OSError:
            # ASGI 2.4: servers raise an OSError subclass when sending on a connection the peer has closed.
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(code=1006)

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the connection, optionally choosing a subprotocol and adding handshake response headers."""
        if self.client_state is _CONNECTING:
            # The server must hear "websocket.connect" acknowledged before it completes the handshake.
            await self.receive()
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": list(headers) if headers else []}
        )

    def _raise_on_disconnect(self, message: Message) -> None:
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code") or 1000, message.get("reason"))

    async def _receive_data(self) -> Message:
        if self.application_state is not _CONNECTED:
            raise RuntimeError('WebSocket is not connected. Need to call "accept" first.')
        message = await self.receive()
        self._raise_on_disconnect(message)
        return message

    async def receive_text(self) -> str:
        """Receive the next text message; raises `WebSocketDisconnect` when the client has gone."""
        message = await self._receive_data()
        text: str | None = message.get("text")
        if text is None:
            raise RuntimeError("Expected a text websocket message, but got bytes")
        return text

    async def receive_bytes(self) -> bytes:
        """Receive the next binary message; raises `WebSocketDisconnect` when the client has gone."""
        message = await self._receive_data()
        data: bytes | None = message.get("bytes")
        if data is None:
            raise RuntimeError("Expected a bytes websocket message, but got text")
        return data

    async def receive_json(self, mode: str = "text") -> Any:
        """Receive the next message and decode it as JSON, from a text frame or (`mode="binary"`) a binary one."""
        _check_mode(mode)
        if mode == "text":
            text = await self.receive_text()
        else:
            text = (await self.receive_bytes()).decode("utf-8")
        return json.loads(text)

    async def iter_text(self) -> AsyncGenerator[str, None]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncGenerator[bytes, None]:
        """Yield binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncGenerator[Any, None]:
        """Yield JSON messages (text frames) until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send `data` as compact JSON, in a text frame or (`mode="binary"`) a UTF-8 encoded binary one."""
        _check_mode(mode)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": text})
        else:
            await self.send({"type": "websocket.send", "bytes": text.encode("utf-8")})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (before `accept()` this denies the handshake with a 403)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def send_denial_response(self, response: Response) -> None:
        """Reject the handshake with an arbitrary HTTP response (needs the server's denial response extension)."""
        if _DENIAL_EXTENSION not in self.scope.get("extensions", {}):
            raise RuntimeError("The server doesn't support the Websocket Denial Response extension.")
        if self.client_state is _CONNECTING:
            # The extension allows the HTTP response only after "websocket.connect" has been received.
            await self.receive()
        await response(self.scope, self.receive, self.send)


class WebSocketClose:
    """An ASGI app that closes the websocket (a 403 denial when the connection was not accepted yet)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})
