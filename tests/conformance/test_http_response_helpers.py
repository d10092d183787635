"""The http.response scenarios' building blocks, beyond what the suite's targets exercise.

No built-in target offers a response extension over HTTP/1.1, so the apps' offered paths and
the checks' wire assertions for them run here: the scenario apps are called with a scope that
offers the extension, and the offered checks read canned server replies off a socket pair. The
raw reader's framings and failure modes are pinned with canned bytes too.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from typing import Any, cast

import httpx
import pytest

from conformance import ScenarioFailure, Session, registry
from conformance.scenarios import http_response_ext as ext
from conformance.scenarios._http_response import RawResponse, Reader, reporting
from starlette.types import Message, Receive, Scope, Send
from tests.types import TestClientFactory

# --- The scenario apps, offered the extension -------------------------------------------------


async def _run(scenario_id: str, extensions: dict[str, Any]) -> list[Message]:
    scenario = registry.get(scenario_id)
    assert scenario is not None and scenario.app is not None
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "path": "/", "query_string": b"", "headers": [], "extensions": extensions}
    await scenario.app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_trailers_offered() -> None:
    sent = await _run("http.response.trailers.sent", {ext.TRAILERS: {}})
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-extension", b"offered"), (b"trailer", b"x-checksum")],
            "trailers": True,
        },
        {"type": "http.response.body", "body": ext.TRAILED, "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
        {"type": "http.response.trailers", "headers": [(b"x-checksum", b"c0ffee")], "more_trailers": False},
    ]


@pytest.mark.anyio
async def test_trailers_not_offered() -> None:
    sent = await _run("http.response.trailers.sent", {"http.response.debug": {}})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["headers"] == [(b"x-extension", b"not offered"), (b"content-length", b"20")]
    assert "trailers" not in sent[0]


@pytest.mark.anyio
async def test_pathsend_offered() -> None:
    sent = await _run("http.response.pathsend.sent", {ext.PATHSEND: {}})
    size = str(ext.FILE.stat().st_size).encode()
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-extension", b"offered"), (b"content-length", size)],
        },
        {"type": "http.response.pathsend", "path": str(ext.FILE)},
    ]


@pytest.mark.anyio
async def test_zerocopysend_offered() -> None:
    sent = await _run("http.response.zerocopysend.sent", {ext.ZEROCOPYSEND: {}})
    start, zerocopy, end = sent
    assert start["headers"] == [(b"x-extension", b"offered"), (b"content-length", b"104")]
    file = zerocopy.pop("file")
    assert zerocopy == {"type": "http.response.zerocopysend", "offset": 10, "count": 100, "more_body": True}
    assert file.name == str(ext.FILE) and file.closed  # the app closes its descriptor
    assert end == {"type": "http.response.body", "body": b"|end", "more_body": False}


@pytest.mark.anyio
async def test_early_hint_offered() -> None:
    sent = await _run("http.response.early_hint.sent", {ext.EARLY_HINT: {}})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.early_hint", "http.response.body"]
    assert sent[1]["links"] == ext.LINKS
    assert sent[2]["body"] == ext.HINTED


@pytest.mark.anyio
async def test_push_offered() -> None:
    sent = await _run("http.response.push.sent", {ext.PUSH: {}})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.push", "http.response.body"]
    assert sent[1] == {"type": "http.response.push", "path": "/pushed", "headers": [(b"accept", b"text/css")]}
    assert sent[2]["body"] == ext.PUSHED


@pytest.mark.anyio
async def test_ack_nobody_waiting() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request"}

    app = reporting(cast(Any, None))
    scope: Scope = {"type": "http", "path": "/_ack", "query_string": b"token=nobody"}
    await app(scope, receive, send)
    assert sent[1]["body"] == b'{"waiting": false}'


# --- The offered checks, against canned replies -------------------------------------------------


class _CannedServer:
    """Stands in for a Session: connect() returns a socket whose peer answers ``reply`` and closes."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.request = b""
        self._stack = contextlib.ExitStack()

    def connect(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        self._stack.enter_context(ours)
        self._stack.enter_context(theirs)
        theirs.sendall(self.reply)
        theirs.shutdown(socket.SHUT_WR)
        self._peer = theirs
        return ours

    def request_head(self, method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> bytes:
        return f"{method} {path} HTTP/1.1\r\n".encode() + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)

    def close(self) -> None:
        # The peer reads what the check sent (the reader tests send nothing: no wait for it).
        self._peer.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            self.request = self._peer.recv(65536)
        self._stack.close()


@contextlib.contextmanager
def _canned(reply: bytes) -> Iterator[_CannedServer]:
    server = _CannedServer(reply)
    try:
        yield server
    finally:
        server.close()


_RESPONSE = httpx.Response(200)
_TRAILED = (
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n\r\n"
    b"14\r\na body with trailers\r\n0\r\nx-checksum: c0ffee\r\n\r\n"
)


def test_trailers_offered_check_passes() -> None:
    with _canned(_TRAILED) as server:
        ext.check_trailers_offered(cast(Session, server), _RESPONSE)
    assert b"te: trailers" in server.request


def test_trailers_offered_check_fails_without_trailers() -> None:
    reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n14\r\na body with trailers\r\n0\r\n\r\n"
    with _canned(reply) as server, pytest.raises(ScenarioFailure, match="trailers"):
        ext.check_trailers_offered(cast(Session, server), _RESPONSE)


_LINKS = b"link: </style.css>; rel=preload; as=style\r\nlink: </app.js>; rel=preload; as=script\r\n"
_FINAL = b"HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\na body after early hints"


@pytest.mark.parametrize("hints", [0, 1, 2])
def test_early_hints_offered_check_passes(hints: int) -> None:
    with _canned((b"HTTP/1.1 103 Early Hints\r\n" + _LINKS + b"\r\n") * hints + _FINAL) as server:
        ext.check_early_hints_offered(cast(Session, server), _RESPONSE)  # raises ScenarioFailure if refused
    assert server.request.startswith(b"GET ")  # the check did ask the server


def test_early_hints_offered_check_fails_on_other_links() -> None:
    reply = b"HTTP/1.1 103 Early Hints\r\nlink: </other.css>\r\n\r\n" + _FINAL
    with _canned(reply) as server, pytest.raises(ScenarioFailure, match="links"):
        ext.check_early_hints_offered(cast(Session, server), _RESPONSE)


# --- The raw reader -------------------------------------------------------------------------------


def _read(reply: bytes, method: str = "GET", timeout: float = 1.0) -> tuple[RawResponse, Reader]:
    with _canned(reply) as server:
        reader = Reader(server.connect(), timeout)
        return reader.read(method), reader


def test_reader_length_framing_and_short_body() -> None:
    response, _ = _read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA")
    assert (response.body, response.framing, response.complete) == (b"hello", "length", True)
    assert response.header_list("X-A") == ["1", "2"] and response.header("x-missing") is None
    short, reader = _read(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello")
    assert (short.body, short.complete, reader.closed) == (b"hello", False, True)


def test_reader_close_delimited_and_bodiless() -> None:
    response, reader = _read(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
    assert (response.body, response.framing, response.complete, reader.closed) == (
        b"until the end",
        "close",
        True,
        True,
    )
    head, _ = _read(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", method="HEAD")
    assert (head.body, head.framing) == (b"", "none")


def test_reader_chunked_cut_short() -> None:
    mid_chunk, _ = _read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nA\r\n0123")
    assert (mid_chunk.body, mid_chunk.complete) == (b"hello0123", False)
    no_last, _ = _read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n")
    assert (no_last.body, no_last.complete) == (b"hello", False)
    in_trailers, _ = _read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx-t: 1\r\n")
    assert (in_trailers.complete, in_trailers.trailers) == (False, [("x-t", "1")])


def test_reader_rejects_what_is_no_response() -> None:
    with pytest.raises(ScenarioFailure, match="no response head"):
        _read(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ScenarioFailure, match="malformed status line"):
        _read(b"garbage\r\n\r\n")


def test_reader_stops_when_the_server_goes_quiet() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 200 OK\r\n\r\npartial")
        response = Reader(ours, timeout=0.05).read()
        assert (response.body, response.complete) == (b"partial", False)


def test_reader_treats_a_reset_as_the_end() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        with client, server:

            def reset() -> None:
                server.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc")
                server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                server.close()

            thread = threading.Thread(target=reset)
            thread.start()
            thread.join()
            response = Reader(client).read()
    assert (response.body, response.complete) == (b"abc", False)


# --- The TestClient fix this suite asked for ------------------------------------------------------


def test_testclient_answers_500_when_the_app_sends_nothing(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.content) == (500, b"")
