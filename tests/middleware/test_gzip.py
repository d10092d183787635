"""`GZipMiddleware`: which responses get compressed, and how headers are adjusted."""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings, strategies as st

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipMiddleware,
    GZipResponder,
    IdentityResponder,
    unattached_send,
)
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
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


# --- Accept-Encoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "compressed"),
    [
        pytest.param(b"gzip", True, id="gzip"),
        pytest.param(b"deflate, gzip", True, id="in-a-list"),
        pytest.param(b"gzip;q=0", True, id="q0-still-counts"),  # as documented: "includes gzip"
        pytest.param(b"br;q=1.0, gzip;q=0.5", True, id="q-values-ignored"),
        pytest.param(b"identity", False, id="identity"),
        pytest.param(b"br, deflate", False, id="others"),
        pytest.param(b"*", False, id="star-is-not-gzip"),
        pytest.param(b"", False, id="empty"),
        pytest.param(None, False, id="absent"),
    ],
)
@pytest.mark.anyio
async def test_accept_encoding(accept_encoding: bytes | None, compressed: bool) -> None:
    data = b"abc" * 1000
    sent = await call(GZipMiddleware(raw_app(start(), body(data))), accept_encoding=accept_encoding)
    headers = Headers(raw=sent[0]["headers"])
    # Vary either way: the response could be compressed for some client.
    assert headers["vary"] == "Accept-Encoding"
    if compressed:
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(sent[1]["body"]) == data
    else:
        assert "content-encoding" not in headers
        assert sent[1]["body"] == data


# --- response start, streaming -----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("accept_encoding", [b"gzip", None])
async def test_response_start_is_held_back_until_the_first_body(accept_encoding: bytes | None) -> None:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start((b"content-type", b"text/plain")))
        assert sent == []  # the encoding is not decided yet
        await send(body(b"x" * 1000, more_body=True))
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
        await send(body(b""))

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    if accept_encoding is not None:
        scope["headers"] = [(b"accept-encoding", accept_encoding)]

    async def send(message: Message) -> None:
        sent.append(message)

    await GZipMiddleware(app)(scope, unused_receive, send)
    assert len(sent) == 3


async def unused_receive() -> Message:
    raise AssertionError("not called")


@pytest.mark.anyio
async def test_streamed_output_flows_before_the_response_ends() -> None:
    chunk = os.urandom(256 * 1024)  # incompressible and larger than any internal buffer
    sent: list[Message] = []
    before_second_chunk: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start((b"content-type", b"application/octet-stream")))
        await send(body(chunk, more_body=True))
        before_second_chunk.append(b"".join(m["body"] for m in sent[1:]))
        await send(body(chunk, more_body=True))
        await send(body(b""))

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", b"gzip")]}
    await GZipMiddleware(app)(scope, unused_receive, send)
    decompressed = zlib.decompressobj(wbits=31).decompress(before_second_chunk[0])
    # Most of the first chunk was compressed and sent while the app was still producing.
    assert len(decompressed) > len(chunk) // 2
    assert chunk.startswith(decompressed)
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == chunk * 2


@pytest.mark.anyio
async def test_small_streamed_chunks_are_buffered_by_the_compressor() -> None:
    # Documented: small chunks are held back until enough data accumulates. One message still
    # goes out per message in (some with an empty body), so the stream keeps its rhythm.
    chunks = [f"event {n}\n".encode() for n in range(20)]
    messages = [start()] + [body(chunk, more_body=True) for chunk in chunks] + [body(b"")]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert len(sent) == len(messages)
    assert len(sent[1]["body"]) == 10  # just the gzip header
    assert all(m["body"] == b"" for m in sent[2:-1])
    assert all(m["more_body"] is True for m in sent[1:-1])
    assert sent[-1]["more_body"] is False
    assert gzip.decompress(b"".join(m["body"] for m in sent[1:])) == b"".join(chunks)


@pytest.mark.anyio
async def test_streamed_identity_response_keeps_chunks_and_content_length() -> None:
    messages = [start((b"content-length", b"6")), body(b"abc", more_body=True), body(b"def")]
    sent = await call(GZipMiddleware(raw_app(*messages), minimum_size=100), accept_encoding=b"identity")
    assert sent[0]["headers"] == [(b"content-length", b"6"), (b"vary", b"Accept-Encoding")]
    assert sent[1:] == [body(b"abc", more_body=True), body(b"def")]


# --- sizes, levels ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 204, 304])
async def test_empty_body_is_never_compressed(status: int) -> None:
    messages = [start((b"content-length", b"0"), status=status), body(b"")]
    sent = await call(GZipMiddleware(raw_app(*messages), minimum_size=0))
    assert sent == messages


@pytest.mark.anyio
async def test_minimum_size_zero_compresses_any_non_empty_body() -> None:
    sent = await call(GZipMiddleware(raw_app(start(), body(b"x")), minimum_size=0))
    assert Headers(raw=sent[0]["headers"])["content-encoding"] == "gzip"
    assert gzip.decompress(sent[1]["body"]) == b"x"


@pytest.mark.anyio
async def test_streamed_response_is_compressed_whatever_its_size() -> None:
    messages = [start(), body(b"a", more_body=True), body(b"b")]
    sent = await call(GZipMiddleware(raw_app(*messages)))
    assert Headers(raw=sent[0]["headers"])["content-encoding"] == "gzip"
    assert gzip.decompress(sent[1]["body"] + sent[2]["body"]) == b"ab"


TEXT = b"".join(f"line {n}: the quick brown fox jumps over the lazy dog {n * n}\n".encode() for n in range(2000))


@pytest.mark.anyio
async def test_every_compresslevel() -> None:
    sizes: dict[int, int] = {}
    for level in range(1, 10):
        sent = await call(GZipMiddleware(raw_app(start(), body(TEXT)), compresslevel=level))
        assert gzip.decompress(sent[1]["body"]) == TEXT
        sizes[level] = len(sent[1]["body"])
    assert sizes[9] < sizes[1] < len(TEXT)


def test_middleware_attributes() -> None:
    middleware = GZipMiddleware(raw_app(), minimum_size=42, compresslevel=3)
    assert (middleware.minimum_size, middleware.compresslevel) == (42, 3)
    default = GZipMiddleware(raw_app())
    assert (default.minimum_size, default.compresslevel) == (500, 9)


# --- excluded responses ------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"content-encoding", b"br")], id="encoded"),
        pytest.param([(b"content-encoding", b"identity")], id="encoded-identity"),
        pytest.param([(b"content-type", b"text/event-stream")], id="sse"),
        pytest.param([(b"content-type", b"text/event-stream; charset=utf-8")], id="sse-charset"),
    ],
)
async def test_excluded_responses_are_untouched(headers: list[tuple[bytes, bytes]]) -> None:
    all_headers = [*headers, (b"content-length", b"4000"), (b"vary", b"Cookie")]
    single = [start(*all_headers), body(b"x" * 4000)]
    assert await call(GZipMiddleware(raw_app(*single))) == single
    assert await call(GZipMiddleware(raw_app(*single)), accept_encoding=None) == single
    streamed = [start(*headers), body(b"x" * 4000, more_body=True), body(b"y" * 10)]
    assert await call(GZipMiddleware(raw_app(*streamed))) == streamed


@pytest.mark.anyio
async def test_a_similar_content_type_is_compressed() -> None:
    sent = await call(GZipMiddleware(raw_app(start((b"content-type", b"text/event")), body(b"x" * 1000))))
    assert Headers(raw=sent[0]["headers"])["content-encoding"] == "gzip"


# --- Vary --------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        pytest.param([b"Origin"], [b"Origin, Accept-Encoding"], id="appended"),
        pytest.param([b"accept-encoding"], [b"accept-encoding"], id="already-listed"),
        pytest.param([b"Origin, Accept-Encoding"], [b"Origin, Accept-Encoding"], id="already-in-a-list"),
        pytest.param([b"*"], [b"*"], id="star"),
        pytest.param([b"Origin", b"Cookie"], [b"Origin, Cookie, Accept-Encoding"], id="lines-merged"),
    ],
)
@pytest.mark.parametrize("accept_encoding", [b"gzip", None])
async def test_vary_accept_encoding_is_merged_without_duplicates(
    app_vary: list[bytes], expected: list[bytes], accept_encoding: bytes | None
) -> None:
    app = raw_app(start(*[(b"vary", value) for value in app_vary]), body(b"x" * 1000))
    sent = await call(GZipMiddleware(app), accept_encoding=accept_encoding)
    assert [value for name, value in sent[0]["headers"] if name == b"vary"] == expected


# --- HEAD --------------------------------------------------------------------------------------


def test_head_request_for_a_response_with_a_body(test_client_factory: TestClientFactory) -> None:
    # Response sends its body for HEAD too (the server drops it): the headers are those of GET.
    client = test_client_factory(make_app())
    get = client.get("/", headers={"accept-encoding": "gzip"})
    head = client.head("/", headers={"accept-encoding": "gzip"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-encoding"] == "gzip"
    assert head.headers["vary"] == "Accept-Encoding"
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_request_for_a_file_is_left_alone(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    # FileResponse answers HEAD with an empty body: nothing to compress, so the Content-Length
    # (that of the file) is left as it is, as when no compression is negotiated.
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 4000)
    app = Starlette(
        routes=[Route("/file", lambda request: FileResponse(path))], middleware=[Middleware(GZipMiddleware)]
    )
    client = test_client_factory(app)
    head = client.head("/file", headers={"accept-encoding": "gzip"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "4000"
    assert "content-encoding" not in head.headers
    get = client.get("/file", headers={"accept-encoding": "gzip"})
    assert get.headers["content-encoding"] == "gzip"
    assert get.content == b"x" * 4000


# --- other scopes, errors, resources -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_other_scopes_are_passed_through_unchanged(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    scope: Scope = {"type": scope_type, "headers": [(b"accept-encoding", b"gzip")]}
    await GZipMiddleware(app, minimum_size=0)(scope, unused_receive, send)
    assert seen == [(scope, unused_receive, send)]
    assert seen[0][0] is scope
    assert seen[0][2] is send


def test_websocket_denial_response_is_not_compressed(test_client_factory: TestClientFactory) -> None:
    async def deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse(BIG, status_code=403))

    app = GZipMiddleware(Starlette(routes=[WebSocketRoute("/deny", deny)]))
    client = test_client_factory(app)
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/deny", headers={"accept-encoding": "gzip"}):
            pass  # the handshake is denied
    assert info.value.status_code == 403
    assert info.value.text == BIG
    assert "content-encoding" not in info.value.headers
    assert "vary" not in info.value.headers


def test_lifespan_runs_through_the_middleware(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"value": "state " * 200}
        events.append("shutdown")

    def read_state(request: Request) -> Response:
        return PlainTextResponse(request.state.value)

    app = GZipMiddleware(Starlette(routes=[Route("/", read_state)], lifespan=lifespan))
    with test_client_factory(app) as client:
        assert events == ["startup"]
        response = client.get("/", headers={"accept-encoding": "gzip"})
        assert response.text == "state " * 200
        assert response.headers["content-encoding"] == "gzip"
    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_compressor_is_released_when_the_app_fails_mid_stream() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start())
        await send(body(b"x" * 1000, more_body=True))
        raise RuntimeError("boom")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    responder = GZipResponder(app, minimum_size=500)
    with pytest.raises(RuntimeError, match="boom"):
        await responder({"type": "http", "headers": []}, unused_receive, send)
    assert len(sent) == 2
    assert responder.gzip_file.closed
    assert responder.gzip_buffer.closed


@pytest.mark.anyio
async def test_no_compressor_is_created_for_a_response_left_uncompressed() -> None:
    responder = GZipResponder(raw_app(start(), body(b"tiny")), minimum_size=500)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await responder({"type": "http", "headers": []}, unused_receive, send)
    assert sent == [start(), body(b"tiny")]
    assert "gzip_file" not in vars(responder)
    assert responder.gzip_buffer.closed


def test_errors_inside_the_app_reach_the_client_uncompressed(test_client_factory: TestClientFactory) -> None:
    def crash(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/crash", crash)], middleware=[Middleware(GZipMiddleware, minimum_size=0)])
    response = test_client_factory(app, raise_server_exceptions=False).get("/crash")
    # ServerErrorMiddleware is outside every user middleware.
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "content-encoding" not in response.headers


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=1500),
    minimum_size=st.integers(min_value=0, max_value=1500),
    accept=st.booleans(),
    backend=st.sampled_from(["asyncio", "trio"]),
)
def test_single_body_property(data: bytes, minimum_size: int, accept: bool, backend: str) -> None:
    app = raw_app(start((b"content-length", str(len(data)).encode())), body(data))
    sent = anyio.run(call, GZipMiddleware(app, minimum_size=minimum_size), b"gzip" if accept else None, backend=backend)
    assert len(sent) == 2
    headers = Headers(raw=sent[0]["headers"])
    assert headers["content-length"] == str(len(sent[1]["body"]))
    could_compress = bool(data) and len(data) >= minimum_size
    assert headers.get("vary") == ("Accept-Encoding" if could_compress else None)
    if could_compress and accept:
        assert headers["content-encoding"] == "gzip"
        assert gzip.decompress(sent[1]["body"]) == data
    else:
        assert "content-encoding" not in headers
        assert sent[1]["body"] == data


@settings(max_examples=40, deadline=None)
@given(chunks=st.lists(st.binary(max_size=3000), min_size=1, max_size=8), data=st.data())
def test_identity_streamed_round_trip(chunks: Sequence[bytes], data: st.DataObject) -> None:
    messages = [start()] + [body(chunk, more_body=True) for chunk in chunks] + [body(b"")]
    minimum_size = data.draw(st.integers(min_value=0, max_value=5000))
    sent = anyio.run(call, GZipMiddleware(raw_app(*messages), minimum_size=minimum_size), None)
    assert [m["body"] for m in sent[1:]] == [*chunks, b""]
    assert Headers(raw=sent[0]["headers"]).get("content-encoding") is None
