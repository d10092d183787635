"""The event-loop half of `WebSocketTestSession`.

Theory of operation
-------------------
A `WebSocketTestSession` is driven from the test's thread, but the application must run in
an event loop: the session starts `_WebSocketChannel.run()` as a task in an anyio blocking
portal (its own portal, or the `TestClient`'s one inside `with TestClient(...)`) and then talks
to it only through `portal.call()`.

Two unbounded memory object streams carry the messages: `to_app` (test -> app, read by the
app's `receive`) and `from_app` (app -> test, written by the app's `send`). Being unbounded,
a send never blocks, so neither side can dead-lock the other. When the application returns or
raises, `run()` pushes a final `AppEnded` marker into `from_app`, so a test blocked in
`receive()` wakes up and either sees the app's exception or learns that the socket is gone.

Closing: `shutdown()` tells the app the client went away (`websocket.disconnect`), lets it run
its disconnect handling, and, once every task of the loop is blocked (the app is waiting for
something that will never come) or a short grace period ran out, cancels it. A
`WebSocketDisconnect` escaping the app after the client disconnected is the normal reaction to
the disconnect, not an error.
"""

from __future__ import annotations

import math

import anyio
import anyio.abc
import anyio.lowlevel

from starlette.types import ASGIApp, Message, Scope
from starlette.websockets import WebSocketDisconnect

# Scheduler rounds given to the app to finish after a disconnect before checking whether it is stuck.
_SETTLE_ROUNDS = 20
# Upper bound for waiting until the app blocks (an app spinning on checkpoints never does).
_BLOCK_WAIT_SECONDS = 1.0


class AppEnded:
    """Marker put in the app -> test stream once the application returned or raised."""

    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class WebSocketChannel:
    """Runs one websocket application call and relays its messages."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.to_app_send, self.to_app_receive = anyio.create_memory_object_stream[Message](math.inf)
        self.from_app_send, self.from_app_receive = anyio.create_memory_object_stream[Message | AppEnded](math.inf)
        self.client_disconnected = False
        self.error: Exception | None = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the application until it returns, raises or is cancelled by `shutdown()`."""
        self.ended = anyio.Event()
        try:
            with anyio.CancelScope() as self.cancel_scope:
                task_status.started()
                await self.app(self.scope, self.to_app_receive.receive, self.app_send)
        except Exception as exc:
            if not (self.client_disconnected and isinstance(exc, WebSocketDisconnect)):
                self.error = exc
        finally:
            self.from_app_send.send_nowait(AppEnded(self.error))
            self.ended.set()

    async def app_send(self, message: Message) -> None:
        # Once the client went away nobody reads any more: drop what the app still sends.
        if not self.client_disconnected:
            self.from_app_send.send_nowait(message)

    async def send(self, message: Message) -> None:
        """Deliver a message from the test to the application."""
        if message["type"] == "websocket.disconnect":
            self.client_disconnected = True
        self.to_app_send.send_nowait(message)

    async def receive(self) -> Message | AppEnded:
        """Wait for the next message from the application."""
        return await self.from_app_receive.receive()

    async def shutdown(self, send_disconnect: bool) -> None:
        """Make the application finish (see the module docstring), then release the streams."""
        if not self.ended.is_set():
            if send_disconnect:
                await self.send({"type": "websocket.disconnect", "code": 1000, "reason": ""})
            for _ in range(_SETTLE_ROUNDS):
                if self.ended.is_set():
                    break
                await anyio.lowlevel.checkpoint()
            else:
                with anyio.move_on_after(_BLOCK_WAIT_SECONDS):
                    await anyio.wait_all_tasks_blocked()
                self.cancel_scope.cancel()
            await self.ended.wait()
        for stream in (self.to_app_send, self.to_app_receive, self.from_app_send, self.from_app_receive):
            stream.close()
