"""Targets: the things the scenarios run against, behind one small interface.

A :class:`Target` starts an app (given by import path, ``module:name``) and yields an
:class:`Endpoint`: a running server that hands out HTTP clients, WebSocket clients and raw TCP
connections. :class:`InProcessTarget` runs the app in the test process under our TestClient;
:class:`CommandTarget` runs any server as a subprocess from a command template with ``{app}``,
``{host}`` and ``{port}`` placeholders. Adding a server is one ``CommandTarget`` line.

Theory of operation (subprocess servers): a free port is found by binding port 0 and closing the
socket; the server is started on it with its output captured to a log file; the runner polls
the port until it accepts a connection (or the process exits: a failed start, with its log);
on exit the server gets SIGINT (every ASGI server treats it as a graceful shutdown, which also
runs lifespan shutdown and lets coverage save its data), then SIGKILL if it lingers.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import cast

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect as ws_connect
from websockets.typing import Subprotocol

from conformance._session import (
    SCENARIO_HEADER,
    TIMEOUT,
    ServerStartFailed,
    Unsupported,
    WebSocketClient,
    WebSocketClosed,
    WebSocketRejected,
)
from starlette.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession
from starlette.types import ASGIApp
from starlette.websockets import WebSocketDisconnect

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class Endpoint(abc.ABC):
    """A running server for one app."""

    @abc.abstractmethod
    def http_client(self, headers: Mapping[str, str]) -> contextlib.AbstractContextManager[httpx.Client]:
        """An HTTP client sending ``headers`` with every request."""

    @abc.abstractmethod
    def websocket(
        self, path: str, *, subprotocols: Sequence[str], headers: Mapping[str, str]
    ) -> contextlib.AbstractContextManager[WebSocketClient]:
        """A WebSocket connection to ``path``; raises WebSocketRejected when refused."""

    @abc.abstractmethod
    def connect(self) -> contextlib.AbstractContextManager[socket.socket]:
        """A raw TCP connection to the server."""

    @abc.abstractmethod
    def log(self) -> str:
        """What the server printed so far."""


class Target(abc.ABC):
    """Something that runs ASGI apps: the in-process TestClient or a real server."""

    name: str

    @abc.abstractmethod
    def serve(
        self, app: str, env: Mapping[str, str] | None = None, *, root_path: str = ""
    ) -> contextlib.AbstractContextManager[Endpoint]:
        """Run ``app`` (``module:name``) until the context exits; ServerStartFailed if it cannot start.

        ``env`` is added to the environment the app runs in; ``root_path`` is the ASGI root_path the
        server is configured with (Unsupported when the target cannot be given one).
        """


def load_app(path: str) -> ASGIApp:
    """Import ``module:name`` (the notation every ASGI server accepts)."""
    module_name, _, attribute = path.partition(":")
    return cast(ASGIApp, getattr(importlib.import_module(module_name), attribute or "app"))


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


# --- In process ----------------------------------------------------------------------------


class _TestClientWebSocket(WebSocketClient):
    def __init__(self, session: WebSocketTestSession) -> None:
        self._session = session
        self.subprotocol = session.accepted_subprotocol
        self.headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in session.extra_headers or ()]

    def send_text(self, data: str) -> None:
        self._session.send_text(data)

    def send_bytes(self, data: bytes) -> None:
        self._session.send_bytes(data)

    def receive(self) -> str | bytes:
        try:
            message = self._session.receive()
        except WebSocketDisconnect as gone:  # the app ended: the TestClient reports its close again
            raise WebSocketClosed(gone.code, gone.reason or "") from None
        if message["type"] == "websocket.close":
            raise WebSocketClosed(message.get("code", 1000), message.get("reason") or "")
        text: str | None = message.get("text")
        return text if text is not None else cast(bytes, message["bytes"])

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._session.close(code, reason)


class _InProcessEndpoint(Endpoint):
    def __init__(self, client: TestClient) -> None:
        self._client = client

    @contextlib.contextmanager
    def http_client(self, headers: Mapping[str, str]) -> Iterator[httpx.Client]:
        # One client for the whole run (it holds the lifespan): fresh headers and cookies each time.
        self._client.cookies.clear()
        for name in [SCENARIO_HEADER, *headers]:
            self._client.headers.pop(name, None)
        self._client.headers.update(headers)
        yield self._client

    @contextlib.contextmanager
    def websocket(
        self, path: str, *, subprotocols: Sequence[str], headers: Mapping[str, str]
    ) -> Iterator[WebSocketClient]:
        try:
            session = self._client.websocket_connect(path, subprotocols=list(subprotocols), headers=dict(headers))
            entered = session.__enter__()
        except WebSocketDenialResponse as denial:
            raise WebSocketRejected(denial.status_code, list(denial.headers.multi_items()), denial.content) from None
        except WebSocketDisconnect:
            # The TestClient's rendering of a close before accept; servers answer 403.
            raise WebSocketRejected(403, [], b"") from None
        with contextlib.ExitStack() as stack:
            stack.push(session.__exit__)
            yield _TestClientWebSocket(entered)

    def connect(self) -> contextlib.AbstractContextManager[socket.socket]:
        raise Unsupported("the in-process TestClient has no socket")

    def log(self) -> str:
        return ""


class InProcessTarget(Target):
    """The app called in process through ``starlette.testclient.TestClient`` (lifespan included)."""

    def __init__(self, name: str = "testclient") -> None:
        self.name = name

    @contextlib.contextmanager
    def serve(self, app: str, env: Mapping[str, str] | None = None, *, root_path: str = "") -> Iterator[Endpoint]:
        with _environment(env), contextlib.ExitStack() as stack:
            client = TestClient(
                load_app(app), raise_server_exceptions=False, follow_redirects=False, root_path=root_path
            )
            try:
                stack.enter_context(client)
            except Exception as exc:
                raise ServerStartFailed(f"lifespan startup failed: {exc}", log=f"{type(exc).__name__}: {exc}") from exc
            yield _InProcessEndpoint(client)


# --- Real servers --------------------------------------------------------------------------


class _ServerWebSocket(WebSocketClient):
    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self.subprotocol = connection.subprotocol
        response = connection.response
        self.headers = [(k.lower(), v) for k, v in response.headers.raw_items()] if response else []

    def send_text(self, data: str) -> None:
        self._connection.send(data)

    def send_bytes(self, data: bytes) -> None:
        self._connection.send(data)

    def receive(self) -> str | bytes:
        try:
            return self._connection.recv(timeout=TIMEOUT)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            raise WebSocketClosed(frame.code if frame else 1006, frame.reason if frame else "") from None

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._connection.close(code, reason)


class _ServerEndpoint(Endpoint):
    def __init__(self, host: str, port: int, log_path: Path) -> None:
        self.host = host
        self.port = port
        self._log_path = log_path
        self._final_log: str | None = None

    @contextlib.contextmanager
    def http_client(self, headers: Mapping[str, str]) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=f"http://{self.host}:{self.port}", headers=headers, timeout=TIMEOUT) as client:
            yield client

    @contextlib.contextmanager
    def websocket(
        self, path: str, *, subprotocols: Sequence[str], headers: Mapping[str, str]
    ) -> Iterator[WebSocketClient]:
        # A socket of our own: the client then refuses to follow a redirect (the scenario sees it).
        sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        try:
            connection = ws_connect(
                f"ws://{self.host}:{self.port}{path}",
                sock=sock,
                subprotocols=[Subprotocol(p) for p in subprotocols] or None,
                additional_headers=dict(headers),
                compression=None,
                max_size=None,
                proxy=None,
                open_timeout=TIMEOUT,
                close_timeout=TIMEOUT,
            )
        except BaseException as error:
            sock.close()
            # websockets >= 15 wraps a redirect it will not follow in a ValueError.
            rejected = error if isinstance(error, InvalidStatus) else error.__cause__
            if not isinstance(rejected, InvalidStatus):
                raise
            response = rejected.response
            body = bytes(response.body or b"")
            raise WebSocketRejected(response.status_code, list(response.headers.raw_items()), body) from None
        with connection:
            yield _ServerWebSocket(connection)

    @contextlib.contextmanager
    def connect(self) -> Iterator[socket.socket]:
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT) as sock:
            yield sock

    def log(self) -> str:
        if self._final_log is not None:
            return self._final_log
        return self._log_path.read_text("utf-8", "replace")

    def stopped(self) -> None:
        """The server exited: keep its log readable after its directory is gone."""
        self._final_log = self.log()


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return cast(int, sock.getsockname()[1])


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class CommandTarget(Target):
    """A server started as a subprocess from ``command`` (``{app}``, ``{host}``, ``{port}`` filled in).

    ``root_path_args`` are the arguments that configure the server's root_path, with a
    ``{root_path}`` placeholder (e.g. ``["--root-path", "{root_path}"]``); without them the
    scenarios that need a root_path are reported as unsupported on this target.
    """

    def __init__(self, name: str, command: Sequence[str] | str, root_path_args: Sequence[str] = ()) -> None:
        self.name = name
        self.command = shlex.split(command) if isinstance(command, str) else list(command)
        self.root_path_args = list(root_path_args)

    @contextlib.contextmanager
    def serve(self, app: str, env: Mapping[str, str] | None = None, *, root_path: str = "") -> Iterator[Endpoint]:
        if root_path and not self.root_path_args:
            raise Unsupported(f"{self.name} has no way to be given a root_path (see CommandTarget.root_path_args)")
        port = free_port()
        command = self.command + (self.root_path_args if root_path else [])
        args = [part.format(app=app, host=HOST, port=port, root_path=root_path) for part in command]
        environment = {**os.environ, **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
        with tempfile.TemporaryDirectory(prefix=f"conformance-{self.name}-") as directory:
            log_path = Path(directory) / "server.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment, cwd=ROOT
                )
            endpoint = _ServerEndpoint(HOST, port, log_path)
            try:
                self._wait_until_listening(process, endpoint, args)
                yield endpoint
            finally:
                self._stop(process)
                endpoint.stopped()

    def _wait_until_listening(
        self, process: subprocess.Popen[bytes], endpoint: _ServerEndpoint, args: list[str]
    ) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts_connections(endpoint.host, endpoint.port):
            if process.poll() is not None:
                raise ServerStartFailed(f"{shlex.join(args)} exited with status {process.returncode}", endpoint.log())
            if time.monotonic() > deadline:
                raise ServerStartFailed(
                    f"{shlex.join(args)} did not listen within {START_TIMEOUT:.0f} s", endpoint.log()
                )
            time.sleep(0.02)

    @staticmethod
    def _stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def builtin_targets() -> dict[str, Target]:
    """The targets the suite knows by name."""
    python = sys.executable
    root_path = ["--root-path", "{root_path}"]
    targets: list[Target] = [
        InProcessTarget(),
        CommandTarget("uvicorn", [python, "-m", "uvicorn", "--host", "{host}", "--port", "{port}", "{app}"], root_path),
        CommandTarget("hypercorn", [python, "-m", "hypercorn", "--bind", "{host}:{port}", "{app}"], root_path),
        CommandTarget("daphne", [python, "-m", "daphne", "-b", "{host}", "-p", "{port}", "{app}"], root_path),
    ]
    return {target.name: target for target in targets}
