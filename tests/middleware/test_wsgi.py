"""`WSGIMiddleware`: running WSGI applications, the environ, errors and streaming."""

from __future__ import annotations

import importlib
import io
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio
import pytest

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Message, Scope
from tests.types import TestClientFactory

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import starlette.middleware.wsgi as wsgi_module
    from starlette.middleware.wsgi import WSGIMiddleware, WSGIResponder, build_environ

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def hello_world(environ: Environ, start_response: StartResponse) -> list[bytes]:
    status = "200 OK"
    output = b"Hello World!\n"
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(output)))]
    start_response(status, headers)
    return [output]


def echo_body(environ: Environ, start_response: StartResponse) -> list[bytes]:
    output = environ["wsgi.input"].read()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(output)))]
    start_response("200 OK", headers)
    return [output]


def raise_exception(environ: Environ, start_response: StartResponse) -> list[bytes]:
    raise RuntimeError("Something went wrong")


def return_exc_info(environ: Environ, start_response: StartResponse) -> list[bytes]:
    try:
        raise RuntimeError("Something went wrong")
    except RuntimeError:
        output = b"Internal Server Error"
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(output)))]
        start_response("500 Internal Server Error", headers, exc_info=sys.exc_info())
        return [output]


def many_chunks(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    for n in range(100):
        yield f"{n},".encode()


def test_deprecation_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    import starlette.middleware

    # A fresh import, undone afterwards so that other tests keep the module they imported.
    monkeypatch.delitem(sys.modules, "starlette.middleware.wsgi", raising=False)
    monkeypatch.setattr(starlette.middleware, "wsgi", wsgi_module)
    with pytest.warns(DeprecationWarning, match=r"starlette\.middleware\.wsgi is deprecated.*a2wsgi"):
        importlib.import_module("starlette.middleware.wsgi")


def test_wsgi_get(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(WSGIMiddleware(hello_world))
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "Hello World!\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_wsgi_post(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(WSGIMiddleware(echo_body))
    response = client.post("/", json={"example": 123})
    assert response.status_code == 200
    assert response.text == '{"example":123}'


def test_wsgi_streamed_response(test_client_factory: TestClientFactory) -> None:
    # More chunks than the stream buffers: the WSGI thread waits for the client.
    client = test_client_factory(WSGIMiddleware(many_chunks))
    response = client.get("/")
    assert response.text == "".join(f"{n}," for n in range(100))


def test_wsgi_exception(test_client_factory: TestClientFactory) -> None:
    # The exception propagates as itself, not wrapped in an exception group.
    client = test_client_factory(WSGIMiddleware(raise_exception))
    with pytest.raises(RuntimeError, match="Something went wrong"):
        client.get("/")

    client = test_client_factory(WSGIMiddleware(raise_exception), raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500


def test_wsgi_exc_info(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(WSGIMiddleware(return_exc_info))
    with pytest.raises(RuntimeError, match="Something went wrong"):
        client.get("/")

    # The error response was sent before the exception was re-raised.
    client = test_client_factory(WSGIMiddleware(return_exc_info), raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def http_scope(**overrides: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/sub/",
        "root_path": "",
        "query_string": b"hello=world",
        "headers": [
            (b"host", b"www.example.org"),
            (b"content-type", b"application/json"),
            (b"content-length", b"18"),
            (b"accept", b"application/json"),
            (b"accept", b"text/plain"),
            (b"x-custom-header", b"value"),
        ],
        "client": ("134.56.78.4", 1453),
        "server": ("www.example.org", 443),
    }
    scope.update(overrides)
    return scope


def test_build_environ() -> None:
    environ = build_environ(http_scope(), b'{"example":"body"}')
    stream = environ.pop("wsgi.input")
    assert stream.read() == b'{"example":"body"}'
    assert environ == {
        "CONTENT_LENGTH": "18",
        "CONTENT_TYPE": "application/json",
        "HTTP_ACCEPT": "application/json,text/plain",
        "HTTP_HOST": "www.example.org",
        "HTTP_X_CUSTOM_HEADER": "value",
        "PATH_INFO": "/sub/",
        "QUERY_STRING": "hello=world",
        "REMOTE_ADDR": "134.56.78.4",
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "www.example.org",
        "SERVER_PORT": 443,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.errors": sys.stdout,
        "wsgi.multiprocess": True,
        "wsgi.multithread": True,
        "wsgi.run_once": False,
        "wsgi.url_scheme": "https",
        "wsgi.version": (1, 0),
    }


def test_build_environ_defaults() -> None:
    scope: Scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": []}
    environ = build_environ(scope, b"")
    assert environ["SERVER_NAME"] == "localhost"
    assert environ["SERVER_PORT"] == 80
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SCRIPT_NAME"] == ""
    assert "REMOTE_ADDR" not in environ
    assert isinstance(environ["wsgi.input"], io.BytesIO)


def test_build_environ_root_path_and_encoding() -> None:
    environ = build_environ(http_scope(path="/mount/caf\u00e9", root_path="/mount", query_string=b"q=\xff"), b"")
    # PEP 3333: native strings holding the UTF-8 bytes, decoded as latin-1.
    assert environ["SCRIPT_NAME"] == "/mount"
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9"
    assert environ["QUERY_STRING"] == "q=\u00ff"

    environ = build_environ(http_scope(path="/elsewhere", root_path="/mount"), b"")
    assert environ["SCRIPT_NAME"] == "/mount"
    assert environ["PATH_INFO"] == "/elsewhere"


def test_wsgi_app_sees_the_environ(test_client_factory: TestClientFactory) -> None:
    seen: list[Environ] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        seen.append(environ)
        start_response("204 No Content", [])
        return []

    client = test_client_factory(WSGIMiddleware(app), base_url="https://example.org:8443")
    response = client.put("/path?x=1", content=b"data", headers={"X-Thing": "1"})
    assert response.status_code == 204
    environ = seen[0]
    assert environ["REQUEST_METHOD"] == "PUT"
    assert environ["PATH_INFO"] == "/path"
    assert environ["QUERY_STRING"] == "x=1"
    assert environ["HTTP_X_THING"] == "1"
    assert environ["HTTP_HOST"] == "example.org:8443"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.input"].read() == b"data"
    assert environ["CONTENT_LENGTH"] == "4"
    assert "HTTP_CONTENT_LENGTH" not in environ
    assert environ["SERVER_NAME"] == "example.org"
    assert environ["SERVER_PORT"] == 8443
    assert environ["REMOTE_ADDR"] == "testclient"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"


def test_mounted_wsgi_app(test_client_factory: TestClientFactory) -> None:
    # The mount point (and the server's root_path) becomes SCRIPT_NAME, the rest PATH_INFO.
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}|{environ['QUERY_STRING']}".encode()]

    starlette_app = Starlette(routes=[Mount("/wsgi", WSGIMiddleware(app))])
    client = test_client_factory(starlette_app)
    assert client.get("/wsgi/some/caf%C3%A9?x=1").text == "/wsgi|/some/caf\u00c3\u00a9|x=1"
    assert client.get("/wsgi/").text == "/wsgi|/|"
    client = test_client_factory(starlette_app, root_path="/proxy")
    assert client.get("/wsgi/p").text == "/proxy/wsgi|/p|"


@pytest.mark.anyio
async def test_output_is_streamed_while_the_app_runs() -> None:
    # The first chunk reaches the server while the WSGI app is still running: the app waits
    # for it (a buffering implementation would time out here).
    first_chunk_sent = threading.Event()

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first"
        assert first_chunk_sent.wait(timeout=10), "the first chunk was held back"
        yield b"second"

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b"first":
            first_chunk_sent.set()

    await WSGIMiddleware(app)(http_scope(), receive, send)
    assert [(m["type"], m.get("body")) for m in sent] == [
        ("http.response.start", None),
        ("http.response.body", b"first"),
        ("http.response.body", b"second"),
        ("http.response.body", b""),
    ]


class Recorder:
    """A server side for direct ASGI calls."""

    def __init__(self, incoming: list[Message], fail_on: int | None = None) -> None:
        self.incoming = incoming
        self.sent: list[Message] = []
        self.fail_on = fail_on

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        if self.fail_on is not None and len(self.sent) == self.fail_on:
            raise OSError("connection lost")
        self.sent.append(message)


class ClosingIterable:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_request_body_in_several_messages() -> None:
    recorder = Recorder(
        [
            {"type": "http.request", "body": b"abc", "more_body": True},
            {"type": "http.request", "body": b"def", "more_body": True},
            {"type": "http.request"},
        ]
    )
    await WSGIMiddleware(echo_body)(http_scope(), recorder.receive, recorder.send)
    assert recorder.sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"6")],
        },
        {"type": "http.response.body", "body": b"abcdef", "more_body": True},
        {"type": "http.response.body", "body": b""},
    ]


@pytest.mark.anyio
async def test_client_gone_before_the_body_is_complete() -> None:
    called: list[bool] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        called.append(True)
        return []

    recorder = Recorder([{"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}])
    await WSGIMiddleware(app)(http_scope(), recorder.receive, recorder.send)
    assert recorder.sent == []
    assert called == []


@pytest.mark.anyio
async def test_iterable_is_closed() -> None:
    iterable = ClosingIterable([b"a", b"b"])

    def app(environ: Environ, start_response: StartResponse) -> ClosingIterable:
        start_response("200 OK", [])
        return iterable

    recorder = Recorder([{"type": "http.request"}])
    await WSGIMiddleware(app)(http_scope(), recorder.receive, recorder.send)
    assert [m.get("body") for m in recorder.sent] == [None, b"a", b"b", b""]
    assert iterable.closed


@pytest.mark.anyio
async def test_send_failure_propagates_and_stops_the_wsgi_app() -> None:
    iterable = ClosingIterable(f"{n}".encode() for n in range(1000))

    def app(environ: Environ, start_response: StartResponse) -> ClosingIterable:
        start_response("200 OK", [])
        return iterable

    recorder = Recorder([{"type": "http.request"}], fail_on=2)
    with pytest.raises(OSError, match="connection lost"):
        await WSGIMiddleware(app)(http_scope(), recorder.receive, recorder.send)
    assert len(recorder.sent) == 2
    assert iterable.closed


@pytest.mark.anyio
async def test_start_response_twice() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-A", "1")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"partial"]

    responder = WSGIResponder(app, http_scope())
    recorder = Recorder([{"type": "http.request"}])
    with pytest.raises(ValueError, match="late failure"):
        await responder(recorder.receive, recorder.send)
    assert [m["type"] for m in recorder.sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert recorder.sent[0]["status"] == 200
    assert responder.status == "200 OK"
    assert responder.response_headers == [("X-A", "1")]
    assert responder.response_started is True
    assert responder.exc_info is not None


def test_responder_attributes() -> None:
    responder = WSGIResponder(hello_world, http_scope())
    assert responder.app is hello_world
    assert responder.scope["path"] == "/sub/"
    assert responder.status is None
    assert responder.response_headers is None
    assert responder.response_started is False
    assert responder.exc_info is None
    responder.stream_send.close()
    responder.stream_receive.close()
    assert WSGIMiddleware(hello_world).app is hello_world


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_only_http(scope_type: str) -> None:
    # WSGI has neither websockets nor a lifespan. Raising on a lifespan scope is how an ASGI app
    # tells the server it does not support the lifespan protocol (the server then carries on).
    recorder = Recorder([{"type": "lifespan.startup"}])
    with pytest.raises(AssertionError):
        await WSGIMiddleware(hello_world)({"type": scope_type}, recorder.receive, recorder.send)
    assert recorder.sent == []


def test_lifespan_unsupported_under_a_starlette_mount(test_client_factory: TestClientFactory) -> None:
    # Mounted, the WSGI app is never sent the lifespan: the Starlette app's lifespan runs.
    starlette_app = Starlette(routes=[Mount("/wsgi", WSGIMiddleware(hello_world))])
    with test_client_factory(starlette_app) as client:
        assert client.get("/wsgi/").text == "Hello World!\n"


@pytest.mark.anyio
async def test_output_produced_before_an_error_is_delivered_first() -> None:
    # The app fails after producing output faster than the server takes it: what it produced
    # still goes out (in order), then its exception propagates as itself.
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        yield b"b"
        raise RuntimeError("failed mid-stream")

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        await anyio.sleep(0.02)  # a slow client
        sent.append(message)

    with pytest.raises(RuntimeError, match="failed mid-stream"):
        await WSGIMiddleware(app)(http_scope(), receive, send)
    assert [(m["type"], m.get("body")) for m in sent] == [
        ("http.response.start", None),
        ("http.response.body", b"a"),
        ("http.response.body", b"b"),
    ]
