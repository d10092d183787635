"""`GZipMiddleware`: which responses get compressed, and how headers are adjusted."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Sequence

import anyio
import pytest
from hypothesis import given, settings, strategies as st

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipMiddleware,
    GZipResponder,
    IdentityResponder,
    unattached_send,
)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory

BIG = "x" * 4000


def big(request: Request) -> Response:
    return PlainTextResponse(BIG)


def small(request: Request) -> Response:
    return PlainTextResponse("x" * 499)


def exactly_minimum(request: Request) -> Response:
    return PlainTextResponse("x" * 500)


async def numbers() -> AsyncIterator[str]:
    for n in range(10):
        yield f"{n}" * 1000


def streaming(request: Request) -> Response:
    return StreamingResponse(numbers(), media_type="text/plain")


def already_encoded(request: Request) -> Response:
    return Response(gzip.compress(BIG.encode()), headers={"Content-Encoding": "gzip"}, media_type="text/plain")


def event_stream(request: Request) -> Response:
    return StreamingResponse(numbers(), media_type="text/event-stream")


def vary_already(request: Request) -> Response:
    return PlainTextResponse(BIG, headers={"Vary": "Origin"})


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(BIG)
    await websocket.close()


def make_app(**options: int) -> Starlette:
    return Starlette(
        routes=[
            Route("/", big),
            Route("/small", small),
            Route("/exactly-minimum", exactly_minimum),
            Route("/streaming", streaming),
            Route("/encoded", already_encoded),
            Route("/events", event_stream),
            Route("/vary", vary_already),
            WebSocketRoute("/ws", websocket_endpoint),
        ],
        middleware=[Middleware(GZipMiddleware, **options)],
    )


async def call(app: ASGIApp, accept_encoding: bytes | None = b"gzip") -> list[Message]:
    """Run one GET through `app` and return the messages it sent."""
    headers = [] if accept_encoding is None else [(b"accept-encoding", accept_encoding)]
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def raw_app(*messages: Message) -> ASGIApp:
    """An app sending exactly `messages`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(dict(message))

    return app


def start(*headers: tuple[bytes, bytes], status: int = 200) -> Message:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes, more_body: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more_body}


def test_constants() -> None:
    assert DEFAULT_EXCLUDED_CONTENT_TYPES == ("text/event-stream",)


def test_gzip_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.text == BIG  # httpx decompresses
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(BIG)


def test_gzip_is_found_among_other_encodings(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/", headers={"accept-encoding": "br, gzip;q=0.8, deflate"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == BIG


def test_no_gzip_without_accept_encoding(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/", headers={"accept-encoding": "identity"})
    assert response.status_code == 200
    assert response.text == BIG
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(BIG))
    # It could have been compressed for another client.
    assert response.headers["vary"] == "Accept-Encoding"


def test_vary_is_merged(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/vary", headers={"accept-encoding": "gzip"})
    assert response.headers["vary"] == "Origin, Accept-Encoding"


def test_small_response_is_not_compressed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/small", headers={"accept-encoding": "gzip"})
    assert response.text == "x" * 499
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert response.headers["content-length"] == "499"

    response = client.get("/exactly-minimum", headers={"accept-encoding": "gzip"})
    assert response.text == "x" * 500
    assert response.headers["content-encoding"] == "gzip"


def test_minimum_size_option(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(minimum_size=5000))
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert response.text == BIG
    assert "content-encoding" not in response.headers


def test_streaming_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/streaming", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.text == "".join(f"{n}" * 1000 for n in range(10))
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-length" not in response.headers


def test_streaming_response_identity(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/streaming", headers={"accept-encoding": "identity"})
    assert response.text == "".join(f"{n}" * 1000 for n in range(10))
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"


def test_already_encoded_response_is_untouched(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/encoded", headers={"accept-encoding": "gzip"})
    assert response.text == BIG  # decoded once by httpx: not encoded twice
    assert response.headers["content-encoding"] == "gzip"
    assert "vary" not in response.headers


def test_event_stream_is_not_compressed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/events", headers={"accept-encoding": "gzip"})
    assert response.text == "".join(f"{n}" * 1000 for n in range(10))
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_websocket_and_lifespan_pass_through(test_client_factory: TestClientFactory) -> None:
    app = GZipMiddleware(make_app())
    with test_client_factory(app) as client:
        with client.websocket_connect("/ws", headers={"accept-encoding": "gzip"}) as websocket:
            assert websocket.receive_text() == BIG


@pytest.mark.anyio
async def test_single_body_message_is_compressed_whole() -> None:
    data = b"abc" * 1000
    sent = await call(GZipMiddleware(raw_app(start((b"content-length", b"3000")), body(data))))
    assert len(sent) == 2
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"vary"] == b"Accept-Encoding"
    assert headers[b"content-length"] == str(len(sent[1]["body"])).encode()
    assert gzip.decompress(sent[1]["body"]) == data
    assert sent[1]["more_body"] is False


@pytest.mark.anyio
async def test_streamed_body_is_compressed_incrementally() -> None:
    chunks = [b"a" * 10, b"b" * 2000, b"c" * 10, b""]
    messages = [start((b"content-length", b"2020"))]
    messages += [body(chunk, more_body=True) for chunk in chunks[:-1]] + [body(chunks[-1])]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert len(sent) == 5
    headers = dict(sent[0]["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    assert [m["more_body"] for m in sent[1:]] == [True, True, True, False]
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == b"".join(chunks)


@pytest.mark.anyio
async def test_compresslevel() -> None:
    # The gzip header's XFL byte records the compression level: 2 for 9, 4 for 1.
    data = b"abc" * 1000
    sent = await call(GZipMiddleware(raw_app(start(), body(data)), compresslevel=1))
    assert sent[1]["body"][8] == 4
    sent = await call(GZipMiddleware(raw_app(start(), body(data))))
    assert sent[1]["body"][8] == 2


@pytest.mark.anyio
async def test_encoded_streamed_body_passes_through() -> None:
    messages = [start((b"content-encoding", b"br")), body(b"x" * 1000, more_body=True), body(b"y" * 1000)]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert sent == messages


@pytest.mark.anyio
async def test_pathsend_passes_through() -> None:
    messages = [start((b"content-type", b"text/plain")), {"type": "http.response.pathsend", "path": "/tmp/file.txt"}]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert sent == messages


@pytest.mark.anyio
async def test_other_messages_pass_through() -> None:
    messages = [
        start((b"trailer", b"x-checksum")),
        body(b"x" * 10),
        {"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")], "more_trailers": False},
    ]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert sent == messages


@pytest.mark.anyio
async def test_start_message_without_headers() -> None:
    sent = await call(GZipMiddleware(raw_app({"type": "http.response.start", "status": 200}, body(b"z" * 1000))))
    assert sent[0]["headers"] == [
        (b"vary", b"Accept-Encoding"),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(sent[1]["body"])).encode()),
    ]
    assert gzip.decompress(sent[1]["body"]) == b"z" * 1000


@pytest.mark.anyio
async def test_unattached_send() -> None:
    with pytest.raises(RuntimeError, match="send awaitable not set"):
        await unattached_send({"type": "http.response.start"})
    responder = IdentityResponder(raw_app(), minimum_size=500)
    assert responder.send is unattached_send


def test_responders() -> None:
    identity = IdentityResponder(raw_app(), minimum_size=10)
    assert identity.minimum_size == 10
    assert identity.started is False
    assert identity.initial_message == {}
    assert identity.content_encoding_set is False
    assert identity.content_type_is_excluded is False
    data = b"payload"
    assert identity.apply_compression(data, more_body=False) is data

    responder = GZipResponder(raw_app(), minimum_size=10, compresslevel=6)
    assert responder.content_encoding == "gzip"
    first = responder.apply_compression(b"hello ", more_body=True)
    rest = responder.apply_compression(b"world", more_body=False)
    assert gzip.decompress(first + rest) == b"hello world"
    responder.gzip_buffer.close()


class BrotliLikeResponder(IdentityResponder):
    """A subclass encoding with another scheme, as the extension points allow."""

    content_encoding = "reversed"

    def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        return body[::-1]


@pytest.mark.anyio
async def test_identity_responder_subclass() -> None:
    responder = BrotliLikeResponder(raw_app(start(), body(b"ab" * 600)), minimum_size=10)
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await responder(scope, receive, send)
    assert dict(sent[0]["headers"])[b"content-encoding"] == b"reversed"
    assert sent[1]["body"] == b"ba" * 600


@settings(max_examples=50, deadline=None)
@given(chunks=st.lists(st.binary(max_size=3000), min_size=1, max_size=8))
def test_streamed_round_trip(chunks: Sequence[bytes]) -> None:
    messages = [start()] + [body(chunk, more_body=True) for chunk in chunks] + [body(b"")]
    sent = anyio.run(call, GZipMiddleware(raw_app(*messages), minimum_size=0))
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == b"".join(chunks)
    assert dict(sent[0]["headers"])[b"content-encoding"] == b"gzip"
