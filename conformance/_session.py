"""What a scenario's check drives: the :class:`Session` and the clients it hands out.

Every target offers the same surface, so a check never knows which server it talks to:
``session.http`` is an ``httpx.Client`` (the in-process target's is a ``TestClient``, itself an
``httpx.Client``); ``session.websocket()`` opens a :class:`WebSocketClient`; ``session.raw()``
talks bytes over a TCP connection (targets without a socket raise :class:`Unsupported`);
``session.serve()`` starts a dedicated server for scenarios about the server's own life.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from conformance._targets import Endpoint, Target

SCENARIO_HEADER = "x-conformance-scenario"
#: What the shared dispatcher app stores in the lifespan state at startup (conformance.app).
STATE_KEY = "conformance"
STATE_VALUE = "lifespan state from the dispatcher"
TIMEOUT = 10.0


class Unsupported(Exception):
    """The target cannot do what the scenario asks (e.g. raw bytes with no socket)."""


class ServerStartFailed(Exception):
    """A dedicated server did not start; ``log`` holds what it printed."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


class WebSocketClosed(Exception):
    """The server closed the WebSocket (or the connection went away: code 1006)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"WebSocket closed with code {code} and reason {reason!r}")
        self.code = code
        self.reason = reason


class WebSocketRejected(Exception):
    """The server answered the handshake with an HTTP response instead of accepting."""

    def __init__(self, status_code: int, headers: Sequence[tuple[str, str]], body: bytes) -> None:
        super().__init__(f"WebSocket handshake rejected with HTTP {status_code}")
        self.status_code = status_code
        self.headers = list(headers)
        self.body = body

    def header(self, name: str) -> str | None:
        """The first value of the response header ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class WebSocketClient(abc.ABC):
    """An accepted WebSocket connection, as seen by the client."""

    subprotocol: str | None
    #: The handshake response's headers, names lowercased.
    headers: list[tuple[str, str]]

    @abc.abstractmethod
    def send_text(self, data: str) -> None:
        """Send a text message."""

    @abc.abstractmethod
    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""

    @abc.abstractmethod
    def receive(self) -> str | bytes:
        """The next message; raises :class:`WebSocketClosed` when the server closed instead."""

    @abc.abstractmethod
    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection from the client side."""

    def header(self, name: str) -> str | None:
        """The first value of the handshake response header ``name``, or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


class Session:
    """Everything a check needs to drive its app on one target."""

    def __init__(self, scenario_id: str, target: Target, endpoint: Endpoint | None) -> None:
        self.scenario_id = scenario_id
        self.target = target
        self._endpoint = endpoint
        self._exit = contextlib.ExitStack()

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            raise RuntimeError("A dedicated scenario has no shared server: start one with session.serve()")
        return self._endpoint

    @property
    def headers(self) -> dict[str, str]:
        """The headers that route a request to this scenario's app (add them to raw requests)."""
        return {SCENARIO_HEADER: self.scenario_id}

    @property
    def http(self) -> httpx.Client:
        """An HTTP client for this scenario's app (redirects are not followed unless asked)."""
        client = getattr(self, "_http", None)
        if client is None:
            client = self._http = self._exit.enter_context(self.endpoint.http_client(self.headers))
        return client

    def websocket(
        self, path: str, *, subprotocols: Sequence[str] = (), headers: Mapping[str, str] | None = None
    ) -> contextlib.AbstractContextManager[WebSocketClient]:
        """Open a WebSocket to ``path`` (raises :class:`WebSocketRejected` if refused)."""
        return self.endpoint.websocket(path, subprotocols=subprotocols, headers={**self.headers, **(headers or {})})

    def connect(self) -> socket.socket:
        """A TCP connection to the server, closed when the scenario ends."""
        return self._exit.enter_context(self.endpoint.connect())

    def raw(self, data: bytes, *, shutdown: bool = True, timeout: float = TIMEOUT) -> bytes:
        """Send ``data`` on a fresh connection and return everything the server sends back.

        With ``shutdown`` the write side is closed after sending, so the server sees the end of
        the request stream; reading stops when the server closes or after ``timeout``.
        """
        sock = self.connect()
        sock.sendall(data)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock, timeout)

    def request_head(self, method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> bytes:
        """An HTTP/1.1 request head routed to this scenario (Host and scenario headers included)."""
        lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1", f"{SCENARIO_HEADER}: {self.scenario_id}"]
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def serve(
        self, app: str, env: Mapping[str, str] | None = None, *, root_path: str = ""
    ) -> contextlib.AbstractContextManager[Endpoint]:
        """Start a dedicated server for ``app`` (an import path ``module:name``).

        ``env`` is added to the server's environment; ``root_path`` is configured on the server
        (raises :class:`Unsupported` for a target that cannot be given one).
        """
        return self.target.serve(app, env=env, root_path=root_path)

    def close(self) -> None:
        self._exit.close()


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Read from ``sock`` until the peer closes it or ``timeout`` seconds have gone by."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
