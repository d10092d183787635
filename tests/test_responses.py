from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, strategies as st

from starlette.background import BackgroundTask
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    MalformedRangeHeader,
    PlainTextResponse,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.types import Message, Receive, Scope, Send
from tests.types import TestClientFactory

# --------------------------------------------------------------------------------------------
# Raw ASGI helpers


def http_scope(
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    spec_version: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or [])],
    }
    if spec_version is not None:
        scope["asgi"] = {"version": "3.0", "spec_version": spec_version}
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


async def receive_forever() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")  # pragma: no cover - sleep_forever never returns


class Recorder:
    """An ASGI `send` that keeps the messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def start(self) -> Message:
        return self.messages[0]

    @property
    def headers(self) -> Headers:
        return Headers(raw=self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(bytes(m["body"]) for m in self.messages[1:] if m["type"] == "http.response.body")


async def call(app: Response, scope: Scope | None = None, receive: Receive = receive_forever) -> Recorder:
    send = Recorder()
    await app(scope if scope is not None else http_scope(), receive, send)
    return send


class Flag:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


# --------------------------------------------------------------------------------------------
# Response


def test_render() -> None:
    assert Response().body == b""
    assert Response(None).body == b""
    assert Response(b"\x00\xff").body == b"\x00\xff"
    view = memoryview(b"abc")
    assert Response(view).body is view
    assert Response("caf\u00e9").body == "caf\u00e9".encode()


def test_render_with_custom_charset() -> None:
    class Latin1Response(Response):
        charset = "latin-1"
        media_type = "text/plain"

    response = Latin1Response("caf\u00e9")
    assert response.body == b"caf\xe9"
    assert response.headers["content-type"] == "text/plain; charset=latin-1"


def test_default_headers() -> None:
    response = Response("hello", media_type="text/plain")
    assert response.raw_headers == [(b"content-length", b"5"), (b"content-type", b"text/plain; charset=utf-8")]
    assert response.status_code == 200
    assert response.media_type == "text/plain"
    assert response.background is None


def test_no_media_type_means_no_content_type() -> None:
    response = Response(b"x")
    assert response.raw_headers == [(b"content-length", b"1")]
    assert Response.media_type is None


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("text/html", "text/html; charset=utf-8"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("text/plain; charset=latin-1", "text/plain; charset=latin-1"),
        ("text/plain; Charset=ascii", "text/plain; Charset=ascii"),
        ("application/json", "application/json"),
        ("image/png", "image/png"),
    ],
)
def test_content_type_charset(media_type: str, expected: str) -> None:
    assert Response(b"", media_type=media_type).headers["content-type"] == expected


def test_given_headers_take_precedence() -> None:
    response = Response(
        "hello", media_type="text/plain", headers={"Content-Length": "99", "Content-Type": "x/y", "X-Thing": "1"}
    )
    assert response.raw_headers == [(b"content-length", b"99"), (b"content-type", b"x/y"), (b"x-thing", b"1")]


def test_headers_accept_a_headers_instance() -> None:
    response = Response(b"ab", headers=Headers({"x-a": "1"}))
    assert response.raw_headers == [(b"x-a", b"1"), (b"content-length", b"2")]


@pytest.mark.parametrize("status_code", [100, 101, 103, 199, 204, 304])
def test_no_content_length_for_bodiless_status(status_code: int) -> None:
    response = Response(status_code=status_code, media_type="text/plain")
    assert "content-length" not in response.headers
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("status_code", [200, 205, 301, 404, 500])
def test_content_length_for_other_status(status_code: int) -> None:
    assert Response(status_code=status_code).headers["content-length"] == "0"


def test_headers_is_a_live_view() -> None:
    response = Response(b"abc")
    headers = response.headers
    assert isinstance(headers, MutableHeaders)
    assert response.headers is headers
    headers["X-Custom"] = "value"
    assert (b"x-custom", b"value") in response.raw_headers
    del headers["content-length"]
    assert response.raw_headers == [(b"x-custom", b"value")]
    response.raw_headers = [(b"x-other", b"1")]
    assert dict(response.headers) == {"x-other": "1"}


def test_headers_on_subclass_that_builds_raw_headers_itself() -> None:
    class Minimal(Response):
        def __init__(self) -> None:
            self.raw_headers = [(b"x-a", b"b")]

    assert Minimal().headers["x-a"] == "b"


@pytest.mark.anyio
async def test_call_sends_start_and_body() -> None:
    sent = await call(Response("hi", status_code=201, headers={"x-a": "1"}, media_type="text/plain"))
    assert sent.messages == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"x-a", b"1"), (b"content-length", b"2"), (b"content-type", b"text/plain; charset=utf-8")],
        },
        {"type": "http.response.body", "body": b"hi"},
    ]


@pytest.mark.anyio
async def test_call_on_websocket_scope_sends_denial_response() -> None:
    send = Recorder()
    await PlainTextResponse("nope", status_code=403)({"type": "websocket", "path": "/"}, receive_forever, send)
    assert [m["type"] for m in send.messages] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert send.messages[0]["status"] == 403
    assert send.messages[1]["body"] == b"nope"


@pytest.mark.anyio
async def test_background_runs_after_the_body() -> None:
    events: list[str] = []

    async def send(message: Message) -> None:
        events.append(message["type"])

    response = Response(b"x", background=BackgroundTask(events.append, "background"))
    await response(http_scope(), receive_forever, send)
    assert events == ["http.response.start", "http.response.body", "background"]


def test_response_via_test_client(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response("hello, world", media_type="text/plain")(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.status_code == 200
    assert response.text == "hello, world"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "12"


def test_head_request_via_test_client(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response("hello", media_type="text/plain")(scope, receive, send)

    response = test_client_factory(app).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "5"


# --------------------------------------------------------------------------------------------
# Cookies


def set_cookie_headers(response: Response) -> list[str]:
    return response.headers.getlist("set-cookie")


def test_set_cookie_defaults() -> None:
    response = Response()
    response.set_cookie("session", "abc")
    assert set_cookie_headers(response) == ["session=abc; Path=/; SameSite=lax"]


def test_set_cookie_all_attributes() -> None:
    response = Response()
    response.set_cookie(
        "mycookie",
        "myvalue",
        max_age=10,
        expires=dt.datetime(2037, 1, 22, 12, 0, 10, tzinfo=dt.timezone.utc),
        path="/",
        domain="localhost",
        secure=True,
        httponly=True,
        samesite="none",
    )
    assert set_cookie_headers(response) == [
        "mycookie=myvalue; Domain=localhost; expires=Thu, 22 Jan 2037 12:00:10 GMT; HttpOnly; Max-Age=10; "
        "Path=/; SameSite=none; Secure"
    ]


def test_set_cookie_expires_as_string() -> None:
    response = Response()
    response.set_cookie("a", "b", expires="Thu, 22 Jan 2037 12:00:10 GMT")
    assert set_cookie_headers(response) == ["a=b; expires=Thu, 22 Jan 2037 12:00:10 GMT; Path=/; SameSite=lax"]


@pytest.mark.parametrize("seconds", [0, 10, 3600])
def test_set_cookie_expires_as_seconds(seconds: int) -> None:
    response = Response()
    before = time.time()
    response.set_cookie("a", "b", expires=seconds)
    after = time.time()
    morsel = SimpleCookie(set_cookie_headers(response)[0])["a"]
    from email.utils import parsedate_to_datetime

    expires = parsedate_to_datetime(morsel["expires"]).timestamp()
    assert int(before) + seconds - 1 <= expires <= after + seconds


def test_set_cookie_without_path_samesite() -> None:
    response = Response()
    response.set_cookie("a", "b", path=None, samesite=None)
    assert set_cookie_headers(response) == ["a=b"]


@pytest.mark.parametrize("samesite", ["Lax", "STRICT", "none"])
def test_set_cookie_samesite_is_case_insensitive(samesite: Any) -> None:
    response = Response()
    response.set_cookie("a", "b", samesite=samesite)
    assert set_cookie_headers(response) == [f"a=b; Path=/; SameSite={samesite}"]


def test_set_cookie_invalid_samesite() -> None:
    response = Response()
    with pytest.raises(AssertionError, match="samesite must be either 'strict', 'lax' or 'none'"):
        response.set_cookie("a", "b", samesite="invalid")  # type: ignore[arg-type]  # deliberately wrong
    assert set_cookie_headers(response) == []


def test_set_cookie_quotes_values() -> None:
    response = Response()
    response.set_cookie("a", 'hello world; "x"')
    assert set_cookie_headers(response) == ['a="hello world\\073 \\"x\\""; Path=/; SameSite=lax']
    assert SimpleCookie(set_cookie_headers(response)[0])["a"].value == 'hello world; "x"'


def test_set_several_cookies() -> None:
    response = Response(b"body")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    assert response.raw_headers == [
        (b"content-length", b"4"),
        (b"set-cookie", b"a=1; Path=/; SameSite=lax"),
        (b"set-cookie", b"b=2; HttpOnly; Path=/; SameSite=lax"),
    ]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 supports partitioned cookies")
def test_set_cookie_partitioned_needs_python_314() -> None:
    response = Response()
    with pytest.raises(ValueError, match="Partitioned cookies are only supported in Python 3.14 and above."):
        response.set_cookie("a", "b", partitioned=True)
    assert set_cookie_headers(response) == []


@pytest.mark.skipif(sys.version_info < (3, 14), reason="partitioned cookies need Python 3.14")
def test_set_cookie_partitioned() -> None:  # pragma: no cover - the gate runs on Python 3.11
    response = Response()
    response.set_cookie("a", "b", secure=True, partitioned=True)
    assert set_cookie_headers(response) == ["a=b; Path=/; SameSite=lax; Secure; Partitioned"]


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", domain="example.com", secure=True, httponly=True, samesite="strict")
    (header,) = set_cookie_headers(response)
    morsel = SimpleCookie(header)["session"]
    assert morsel.value == ""
    assert morsel["max-age"] == "0"
    assert morsel["path"] == "/app"
    assert morsel["domain"] == "example.com"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    from email.utils import parsedate_to_datetime

    assert abs(parsedate_to_datetime(morsel["expires"]).timestamp() - time.time()) < 5
    assert header.startswith('session=""; Domain=example.com; expires=')


def test_cookies_via_test_client(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = Response("ok", media_type="text/plain")
        if scope["path"] == "/set":
            response.set_cookie("mycookie", "myvalue", max_age=60)
        else:
            response.delete_cookie("mycookie")
        await response(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/set")
    assert response.cookies["mycookie"] == "myvalue"
    assert client.cookies.get("mycookie") == "myvalue"
    client.get("/delete")
    assert client.cookies.get("mycookie") is None


# --------------------------------------------------------------------------------------------
# HTMLResponse, PlainTextResponse, JSONResponse, RedirectResponse


def test_html_and_plain_text() -> None:
    html = HTMLResponse("<h1>\u00e9</h1>")
    assert html.body == "<h1>\u00e9</h1>".encode()
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert HTMLResponse.media_type == "text/html"
    text = PlainTextResponse(b"raw")
    assert text.body == b"raw"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert PlainTextResponse.media_type == "text/plain"


def test_json_response() -> None:
    response = JSONResponse({"hello": "w\u00f6rld", "list": [1, 2.5, None, True]})
    assert response.body == '{"hello":"w\u00f6rld","list":[1,2.5,null,true]}'.encode()
    assert response.raw_headers == [
        (b"content-length", str(len(response.body)).encode()),
        (b"content-type", b"application/json"),
    ]


def test_json_response_none_is_null() -> None:
    assert JSONResponse(None).body == b"null"


def test_json_response_content_is_required() -> None:
    with pytest.raises(TypeError):
        JSONResponse()  # type: ignore[call-arg]  # deliberately missing


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_json_response_rejects_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueError):
        JSONResponse({"x": value})


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(content=_JSON_VALUES)
def test_json_response_body_is_compact_json_dumps(content: Any) -> None:
    expected = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    assert JSONResponse(content).body == expected.encode("utf-8")


def test_json_response_rejects_circular_references_and_stays_usable() -> None:
    looped: list[Any] = []
    looped.append(looped)
    shared = [1]
    with pytest.raises(ValueError, match="Circular reference detected"):
        JSONResponse({"a": shared, "b": looped})
    # An aborted encoding leaves nothing behind: the same objects encode fine afterwards.
    assert JSONResponse({"a": shared, "b": [shared]}).body == b'{"a":[1],"b":[[1]]}'


def test_json_response_rejects_unserialisable_values() -> None:
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        JSONResponse({"x": {1}})


def test_json_response_string_content() -> None:
    assert JSONResponse('a "quoted" \u00e9').body == '"a \\"quoted\\" \u00e9"'.encode()


def test_json_response_options() -> None:
    background = BackgroundTask(print)
    response = JSONResponse([1], status_code=201, headers={"x-a": "b"}, media_type="application/vnd.api+json")
    assert response.status_code == 201
    assert response.headers["x-a"] == "b"
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert JSONResponse(1, background=background).background is background


def test_json_response_custom_render() -> None:
    class SortedJSON(JSONResponse):
        def render(self, content: Any) -> bytes:
            return repr(sorted(content)).encode()

    assert SortedJSON({"b": 1, "a": 2}).body == b"['a', 'b']"


def test_json_via_test_client(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"hello": "world"})(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/", "/"),
        ("https://example.org/a b?x=1&y=\u00e9#frag", "https://example.org/a%20b?x=1&y=%C3%A9#frag"),
        ("/path;p=1/[x]/!$&'()*+,@:%20", "/path;p=1/[x]/!$&'()*+,@:%20"),
        ('/<script>"{}|\\^`', "/%3Cscript%3E%22%7B%7D%7C%5C%5E%60"),
        ("/a\r\nSet-Cookie: x=1", "/a%0D%0ASet-Cookie:%20x=1"),
    ],
)
def test_redirect_location(url: str, location: str) -> None:
    response = RedirectResponse(url)
    assert response.status_code == 307
    assert response.body == b""
    assert response.raw_headers == [(b"content-length", b"0"), (b"location", location.encode())]


def test_redirect_accepts_url_and_options() -> None:
    background = BackgroundTask(print)
    response = RedirectResponse(
        URL("https://example.org/x?y=1"), status_code=301, headers={"X-A": "b"}, background=background
    )
    assert response.status_code == 301
    assert response.background is background
    assert response.raw_headers == [
        (b"x-a", b"b"),
        (b"content-length", b"0"),
        (b"location", b"https://example.org/x?y=1"),
    ]


def test_redirect_replaces_given_location() -> None:
    response = RedirectResponse("/new", headers={"Location": "/old"})
    assert response.headers.getlist("location") == ["/new"]


def test_redirect_via_test_client(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/":
            response: Response = PlainTextResponse("hello, world")
        else:
            response = RedirectResponse("/")
        await response(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/redirect")
    assert response.text == "hello, world"
    assert response.url == "http://testserver/"
    response = client.get("/redirect", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/"


# --------------------------------------------------------------------------------------------
# StreamingResponse


async def numbers(count: int, log: list[int] | None = None) -> AsyncIterator[str]:
    for number in range(count):
        if log is not None:
            log.append(number)
        yield str(number)
        await anyio.sleep(0)


@pytest.mark.anyio
@pytest.mark.parametrize("spec_version", [None, "2.3", "2.4", "2.10", "3.0"])
async def test_streaming_async_iterator(spec_version: str | None) -> None:
    background = Flag()
    response = StreamingResponse(
        numbers(3), media_type="text/plain", headers={"x-a": "1"}, background=BackgroundTask(background, "done")
    )
    sent = await call(response, http_scope(spec_version=spec_version))
    assert sent.messages == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-a", b"1"), (b"content-type", b"text/plain; charset=utf-8")],
        },
        {"type": "http.response.body", "body": b"0", "more_body": True},
        {"type": "http.response.body", "body": b"1", "more_body": True},
        {"type": "http.response.body", "body": b"2", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]
    assert background.calls == [("done",)]


@pytest.mark.anyio
async def test_streaming_sync_iterator_and_chunk_types() -> None:
    def chunks() -> Iterator[str | bytes | memoryview]:
        yield "caf\u00e9"
        yield b"\x00"
        yield memoryview(b"mv")

    response = StreamingResponse(chunks(), status_code=203)
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers
    sent = await call(response)
    assert sent.start["status"] == 203
    assert [bytes(m["body"]) for m in sent.messages[1:]] == ["caf\u00e9".encode(), b"\x00", b"mv", b""]


@pytest.mark.anyio
async def test_streaming_custom_async_iterable_and_sync_list() -> None:
    class Chunks:
        def __aiter__(self) -> AsyncIterator[bytes]:
            return self.generate()

        async def generate(self) -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

    class Countdown:
        """An async iterator without `aclose`."""

        def __init__(self) -> None:
            self.left = 2

        def __aiter__(self) -> Countdown:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return str(self.left).encode()

    assert (await call(StreamingResponse(Chunks()))).body == b"ab"
    assert (await call(StreamingResponse(Countdown()))).body == b"10"
    assert (await call(StreamingResponse(["x", "y"]))).body == b"xy"


@pytest.mark.anyio
async def test_streaming_encodes_with_charset() -> None:
    class Latin1Stream(StreamingResponse):
        charset = "latin-1"

    sent = await call(Latin1Stream(iter(["\u00e9"]), media_type="text/csv"))
    assert sent.body == b"\xe9"
    assert sent.headers["content-type"] == "text/csv; charset=latin-1"


@pytest.mark.anyio
async def test_streaming_media_type_class_attribute() -> None:
    class EventStream(StreamingResponse):
        media_type = "text/event-stream"

    assert EventStream(iter([])).headers["content-type"] == "text/event-stream; charset=utf-8"
    assert EventStream(iter([]), media_type="x/y").media_type == "x/y"


@pytest.mark.anyio
async def test_streaming_disconnect_before_spec_24_cancels_the_stream() -> None:
    log: list[int] = []
    disconnect = anyio.Event()
    background = Flag()

    async def receive() -> Message:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message.get("body") == b"2":
            disconnect.set()
            await anyio.sleep(1)  # the cancellation interrupts this

    async def endless() -> AsyncIterator[str]:
        number = 0
        try:
            while True:
                log.append(number)
                yield str(number)
                number += 1
        finally:
            log.append(-1)  # the iterator is closed as soon as the stream stops

    response = StreamingResponse(endless(), background=BackgroundTask(background))
    with anyio.fail_after(5):
        await response(http_scope(spec_version="2.3"), receive, send)
    assert log == [0, 1, 2, -1]
    assert background.calls == [()]


@pytest.mark.anyio
async def test_streaming_ignores_other_messages_while_listening() -> None:
    messages: Iterator[Message] = iter(
        [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
    )
    stream_started = anyio.Event()

    async def receive() -> Message:
        await stream_started.wait()
        return next(messages)

    async def stalled() -> AsyncIterator[bytes]:
        stream_started.set()
        yield b"first"
        await anyio.sleep_forever()
        yield b"never"  # pragma: no cover - the stream is cancelled first

    with anyio.fail_after(5):
        sent = await call(StreamingResponse(stalled()), http_scope(), receive)
    assert sent.body == b"first"
    assert sent.messages[-1]["more_body"] is True  # cut short, never finished


@pytest.mark.anyio
async def test_streaming_spec_24_send_error_is_client_disconnect() -> None:
    log: list[int] = []
    background = Flag()

    async def send(message: Message) -> None:
        if message.get("body") == b"1":
            raise OSError("connection closed")

    async def receive() -> Message:
        raise AssertionError("receive must not be called on ASGI >= 2.4")  # pragma: no cover

    response = StreamingResponse(numbers(10, log), background=BackgroundTask(background))
    with pytest.raises(ClientDisconnect):
        await response(http_scope(spec_version="2.4"), receive, send)
    assert log == [0, 1]
    assert background.calls == []


@pytest.mark.anyio
@pytest.mark.parametrize("spec_version", ["2.0", "2.4"])
async def test_streaming_iterator_errors_propagate(spec_version: str) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"ok"
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await call(StreamingResponse(broken()), http_scope(spec_version=spec_version))


@pytest.mark.anyio
async def test_listen_for_disconnect_returns_on_disconnect() -> None:
    messages = iter([{"type": "http.request"}, {"type": "http.request"}, {"type": "http.disconnect"}])
    seen: list[str] = []

    async def receive() -> Message:
        message = next(messages)
        seen.append(message["type"])
        return message

    await StreamingResponse(iter([])).listen_for_disconnect(receive)
    assert seen == ["http.request", "http.request", "http.disconnect"]


def test_streaming_via_test_client(test_client_factory: TestClientFactory) -> None:
    background = Flag()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        def sync_numbers() -> Iterator[str]:
            yield from ("1", ", ", "2")

        response = StreamingResponse(sync_numbers(), media_type="text/plain", background=BackgroundTask(background))
        await response(scope, receive, send)

    response = test_client_factory(app).get("/")
    assert response.status_code == 200
    assert response.text == "1, 2"
    assert "content-length" not in response.headers
    assert background.calls == [()]


# --------------------------------------------------------------------------------------------
# FileResponse


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "example.txt"
    path.write_bytes(bytes(range(32, 127)) * 10)  # 950 printable bytes
    return path


def expected_etag(path: Path) -> str:
    result = os.stat(path)
    return '"' + hashlib.md5(f"{result.st_mtime}-{result.st_size}".encode(), usedforsecurity=False).hexdigest() + '"'


@pytest.mark.anyio
async def test_file_response(text_file: Path) -> None:
    background = Flag()
    response = FileResponse(text_file, background=BackgroundTask(background))
    assert response.path == text_file
    assert response.stat_result is None
    assert response.filename is None
    assert response.media_type == "text/plain"
    sent = await call(response)
    stat_result = os.stat(text_file)
    assert sent.start["status"] == 200
    assert sent.start["headers"] == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"accept-ranges", b"bytes"),
        (b"content-length", b"950"),
        (b"last-modified", formatdate(stat_result.st_mtime, usegmt=True).encode()),
        (b"etag", expected_etag(text_file).encode()),
    ]
    assert sent.messages[1:] == [{"type": "http.response.body", "body": text_file.read_bytes(), "more_body": False}]
    assert background.calls == [()]


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("x.html", "text/html; charset=utf-8"),
        ("x.png", "image/png"),
        ("x.json", "application/json"),
        ("x.unknown-extension", "text/plain; charset=utf-8"),
        ("no-extension", "text/plain; charset=utf-8"),
    ],
)
def test_file_response_guesses_media_type(tmp_path: Path, name: str, media_type: str) -> None:
    assert FileResponse(tmp_path / name).headers["content-type"] == media_type
    assert FileResponse(str(tmp_path / name)).headers["content-type"] == media_type


def test_file_response_media_type_from_filename_then_explicit(tmp_path: Path) -> None:
    response = FileResponse(tmp_path / "data.bin", filename="picture.png")
    assert response.headers["content-type"] == "image/png"
    response = FileResponse(tmp_path / "data.bin", filename="picture.png", media_type="application/x-custom")
    assert response.headers["content-type"] == "application/x-custom"


@pytest.mark.parametrize(
    ("filename", "disposition_type", "expected"),
    [
        ("report.pdf", "attachment", 'attachment; filename="report.pdf"'),
        ("report.pdf", "inline", 'inline; filename="report.pdf"'),
        ("r\u00e9sum\u00e9.pdf", "attachment", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"),
        ("my file.txt", "inline", "inline; filename*=utf-8''my%20file.txt"),
        ('evil".txt', "attachment", "attachment; filename*=utf-8''evil%22.txt"),
        ("a\r\nb", "attachment", "attachment; filename*=utf-8''a%0D%0Ab"),
    ],
)
def test_file_response_content_disposition(tmp_path: Path, filename: str, disposition_type: str, expected: str) -> None:
    response = FileResponse(tmp_path / "f", filename=filename, content_disposition_type=disposition_type)
    assert response.filename == filename
    assert response.headers["content-disposition"] == expected


def test_file_response_given_headers_win(tmp_path: Path) -> None:
    response = FileResponse(
        tmp_path / "f",
        filename="x.txt",
        headers={"Content-Disposition": "custom", "Accept-Ranges": "none", "ETag": '"mine"'},
        stat_result=os.stat(tmp_path),
    )
    assert response.headers["content-disposition"] == "custom"
    assert response.headers["accept-ranges"] == "none"
    assert response.headers["etag"] == '"mine"'


def test_file_response_with_stat_result_sets_headers_up_front(text_file: Path) -> None:
    stat_result = os.stat(text_file)
    response = FileResponse(text_file, stat_result=stat_result)
    assert response.stat_result is stat_result
    assert response.headers["content-length"] == "950"
    assert response.headers["etag"] == expected_etag(text_file)
    assert response.headers["last-modified"] == formatdate(stat_result.st_mtime, usegmt=True)


@pytest.mark.anyio
async def test_file_response_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(FileResponse.chunk_size * 2 + 10)
    path.write_bytes(data)
    sent = await call(FileResponse(path))
    bodies = sent.messages[1:]
    assert [len(m["body"]) for m in bodies] == [FileResponse.chunk_size, FileResponse.chunk_size, 10]
    assert [m["more_body"] for m in bodies] == [True, True, False]
    assert sent.body == data


@pytest.mark.anyio
async def test_file_response_exact_multiple_of_chunk_size(tmp_path: Path) -> None:
    class SmallChunks(FileResponse):
        chunk_size = 4

    path = tmp_path / "eight.bin"
    path.write_bytes(b"abcdefgh")
    sent = await call(SmallChunks(path))
    assert [(m["body"], m["more_body"]) for m in sent.messages[1:]] == [
        (b"abcd", True),
        (b"efgh", True),
        (b"", False),
    ]


@pytest.mark.anyio
async def test_file_response_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    sent = await call(FileResponse(path))
    assert sent.headers["content-length"] == "0"
    assert sent.messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


@pytest.mark.anyio
async def test_file_response_head(text_file: Path) -> None:
    background = Flag()
    sent = await call(FileResponse(text_file, background=BackgroundTask(background)), http_scope("HEAD"))
    assert sent.headers["content-length"] == "950"
    assert sent.messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]
    assert background.calls == [()]


@pytest.mark.anyio
async def test_file_response_method_argument_is_deprecated_but_honoured(text_file: Path) -> None:
    with pytest.warns(DeprecationWarning, match="'method'"):
        response = FileResponse(text_file, method="head")
    sent = await call(response, http_scope("GET"))
    assert sent.body == b""
    assert sent.headers["content-length"] == "950"


@pytest.mark.anyio
async def test_file_response_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    with pytest.raises(RuntimeError) as info:
        await call(FileResponse(path))
    assert str(info.value) == f"File at path {path} does not exist."


@pytest.mark.anyio
async def test_file_response_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as info:
        await call(FileResponse(tmp_path))
    assert str(info.value) == f"File at path {tmp_path} is not a file."


@pytest.mark.anyio
async def test_file_response_given_stat_result_is_trusted(text_file: Path) -> None:
    stat_result = os.stat(text_file)
    text_file.write_bytes(b"changed")  # a shorter file than the stat says
    sent = await call(FileResponse(text_file, stat_result=stat_result))
    assert sent.headers["content-length"] == "950"
    assert sent.body == b"changed"


@pytest.mark.anyio
@pytest.mark.parametrize("relative", [False, True])
async def test_file_response_pathsend(text_file: Path, relative: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    background = Flag()
    path: Path = text_file
    if relative:
        monkeypatch.chdir(text_file.parent)
        path = Path(text_file.name)
    scope = http_scope(extensions={"http.response.pathsend": {}})
    sent = await call(FileResponse(path, background=BackgroundTask(background)), scope)
    assert sent.headers["content-length"] == "950"
    assert sent.messages[1:] == [{"type": "http.response.pathsend", "path": str(text_file)}]
    assert background.calls == [()]


@pytest.mark.anyio
async def test_file_response_pathsend_not_used_for_head_or_ranges(text_file: Path) -> None:
    extensions: dict[str, Any] = {"http.response.pathsend": {}}
    sent = await call(FileResponse(text_file), http_scope("HEAD", extensions=extensions))
    assert [m["type"] for m in sent.messages] == ["http.response.start", "http.response.body"]
    sent = await call(FileResponse(text_file), http_scope(extensions=None))
    assert sent.body == text_file.read_bytes()  # servers without extensions
    scope = http_scope()
    scope["extensions"] = None
    assert (await call(FileResponse(text_file), scope)).body == text_file.read_bytes()
    sent = await call(FileResponse(text_file), http_scope(headers=[("range", "bytes=0-1")], extensions=extensions))
    assert {m["type"] for m in sent.messages[1:]} == {"http.response.body"}
    assert sent.body == b" !"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=10-19", 10, 20),
        ("bytes=900-", 900, 950),
        ("bytes=-50", 900, 950),
        ("bytes=940-10000", 940, 950),
        ("bytes=0-5,3-9", 0, 10),  # merged into one range
    ],
)
async def test_file_response_single_range(text_file: Path, header: str, start: int, end: int) -> None:
    background = Flag()
    data = text_file.read_bytes()
    response = FileResponse(text_file, background=BackgroundTask(background))
    sent = await call(response, http_scope(headers=[("Range", header)]))
    assert sent.start["status"] == 206
    assert sent.headers["content-range"] == f"bytes {start}-{end - 1}/950"
    assert sent.headers["content-length"] == str(end - start)
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert sent.body == data[start:end]
    assert sent.messages[-1]["more_body"] is False
    assert all(m["more_body"] for m in sent.messages[1:-1])
    assert background.calls == [()]


@pytest.mark.anyio
async def test_file_response_single_range_in_chunks(tmp_path: Path) -> None:
    class SmallChunks(FileResponse):
        chunk_size = 3

    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    sent = await call(SmallChunks(path), http_scope(headers=[("range", "bytes=1-8")]))
    assert [m["body"] for m in sent.messages[1:]] == [b"123", b"456", b"78", b""]


@pytest.mark.anyio
async def test_file_response_single_range_head(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), http_scope("HEAD", headers=[("range", "bytes=0-9")]))
    assert sent.start["status"] == 206
    assert sent.headers["content-length"] == "10"
    assert sent.headers["content-range"] == "bytes 0-9/950"
    assert sent.messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]


def parse_multipart(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    closing = f"--{boundary}--\r\n".encode()
    assert body.endswith(closing)
    parts = body[: -len(closing)].split(f"--{boundary}\r\n".encode())
    assert parts[0] == b""
    result = []
    for part in parts[1:]:
        head, _, payload = part.partition(b"\r\n\r\n")
        assert payload.endswith(b"\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        result.append((headers, payload[:-2]))
    return result


@pytest.mark.anyio
async def test_file_response_multiple_ranges(text_file: Path) -> None:
    data = text_file.read_bytes()
    background = Flag()
    response = FileResponse(text_file, background=BackgroundTask(background))
    sent = await call(response, http_scope(headers=[("range", "bytes=900-,0-9,5-14,-10, 100-101")]))
    assert sent.start["status"] == 206
    content_type = sent.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.removeprefix("multipart/byteranges; boundary=")
    assert len(boundary) == 26
    assert int(boundary, 16) >= 0
    assert "content-range" not in sent.headers
    assert sent.headers["content-length"] == str(len(sent.body))
    assert parse_multipart(sent.body, boundary) == [
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 0-14/950"}, data[0:15]),
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 100-101/950"}, data[100:102]),
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Range": "bytes 900-949/950"}, data[900:950]),
    ]
    assert sent.messages[-1]["more_body"] is False
    assert all(m["more_body"] for m in sent.messages[1:-1])
    assert background.calls == [()]


@pytest.mark.anyio
async def test_file_response_can_be_sent_again_after_a_range(text_file: Path) -> None:
    response = FileResponse(text_file)
    headers_before = list(response.raw_headers)
    for header in ["bytes=0-1,5-6", "bytes=3-4"]:
        sent = await call(response, http_scope(headers=[("range", header)]))
        assert sent.start["status"] == 206
    assert response.raw_headers[: len(headers_before)] == headers_before
    sent = await call(response)
    assert sent.start["status"] == 200
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert sent.headers["content-length"] == "950"
    assert "content-range" not in sent.headers
    assert len(sent.body) == 950


@pytest.mark.anyio
async def test_file_response_multiple_ranges_boundary_is_random(text_file: Path) -> None:
    scope = http_scope(headers=[("range", "bytes=0-1,5-6")])
    first = await call(FileResponse(text_file), scope)
    second = await call(FileResponse(text_file), scope)
    assert first.headers["content-type"] != second.headers["content-type"]


@pytest.mark.anyio
async def test_file_response_multiple_ranges_head(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), http_scope("HEAD", headers=[("range", "bytes=0-1,5-6")]))
    assert sent.start["status"] == 206
    assert sent.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert sent.messages[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]
    get = await call(FileResponse(text_file), http_scope(headers=[("range", "bytes=0-1,5-6")]))
    assert sent.headers["content-length"] == get.headers["content-length"] == str(len(get.body))


def test_generate_multipart(text_file: Path) -> None:
    response = FileResponse(text_file)
    length, part_header = response.generate_multipart([(0, 2), (5, 9)], "abc", 950, "text/plain")
    assert part_header(5, 9) == b"--abc\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-8/950\r\n\r\n"
    assert length == len(part_header(0, 2)) + 2 + 2 + len(part_header(5, 9)) + 4 + 2 + len(b"--abc--\r\n")


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["bytes=5-1", "items=0-1", "bytes=x", "bytes="])
async def test_file_response_malformed_range(text_file: Path, header: str) -> None:
    background = Flag()
    response = FileResponse(text_file, background=BackgroundTask(background))
    sent = await call(response, http_scope(headers=[("range", header)]))
    assert sent.start["status"] == 400
    assert sent.body == b"Malformed range header."
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert background.calls == [()]


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["bytes=950-", "bytes=1000-2000", "bytes=-0"])
async def test_file_response_unsatisfiable_range(text_file: Path, header: str) -> None:
    sent = await call(FileResponse(text_file), http_scope(headers=[("range", header)]))
    assert sent.start["status"] == 416
    assert sent.headers["content-range"] == "bytes */950"
    assert sent.body == b""


@pytest.mark.anyio
async def test_file_response_if_range(text_file: Path) -> None:
    etag = expected_etag(text_file)
    last_modified = formatdate(os.stat(text_file).st_mtime, usegmt=True)
    for if_range, status in [
        (etag, 206),
        (last_modified, 206),
        ('"other"', 200),
        ("W/" + etag, 200),
        ("Mon, 01 Jan 2001 00:00:00 GMT", 200),
    ]:
        scope = http_scope(headers=[("range", "bytes=0-9"), ("if-range", if_range)])
        sent = await call(FileResponse(text_file), scope)
        assert sent.start["status"] == status, if_range
        assert len(sent.body) == (10 if status == 206 else 950)


@pytest.mark.anyio
async def test_file_response_if_range_uses_the_etag_header(text_file: Path) -> None:
    response = FileResponse(text_file, headers={"etag": '"custom"'})
    sent = await call(response, http_scope(headers=[("range", "bytes=0-9"), ("if-range", '"custom"')]))
    assert sent.start["status"] == 206


@pytest.mark.anyio
async def test_file_response_range_only_for_get_head_and_200(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), http_scope("POST", headers=[("range", "bytes=0-9")]))
    assert (sent.start["status"], len(sent.body)) == (200, 950)
    sent = await call(FileResponse(text_file, status_code=404), http_scope(headers=[("range", "bytes=0-9")]))
    assert (sent.start["status"], len(sent.body)) == (404, 950)


@pytest.mark.anyio
async def test_file_response_file_shrinks_during_range(text_file: Path) -> None:
    stat_result = os.stat(text_file)
    text_file.write_bytes(b"short")
    sent = await call(FileResponse(text_file, stat_result=stat_result), http_scope(headers=[("range", "bytes=2-99")]))
    assert sent.start["status"] == 206
    assert sent.body == b"ort"
    assert sent.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_file_response_without_method_in_scope(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), {"type": "http", "headers": [(b"range", b"bytes=0-1")]})
    assert sent.start["status"] == 206


def test_file_response_via_test_client(test_client_factory: TestClientFactory, text_file: Path) -> None:
    data = text_file.read_bytes()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await FileResponse(text_file, filename="example.txt")(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-disposition"] == 'attachment; filename="example.txt"'
    assert response.headers["etag"] == expected_etag(text_file)
    assert response.headers["accept-ranges"] == "bytes"

    response = client.get("/", headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.content == data[10:20]
    assert response.headers["content-range"] == "bytes 10-19/950"

    response = client.get("/", headers={"Range": "bytes=0-1,10-11"})
    assert response.status_code == 206
    boundary = response.headers["content-type"].removeprefix("multipart/byteranges; boundary=")
    assert [payload for _, payload in parse_multipart(response.content, boundary)] == [data[0:2], data[10:12]]

    response = client.get("/", headers={"Range": "bytes=2000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */950"

    response = client.get("/", headers={"Range": "bytes=1-0"})
    assert response.status_code == 400
    assert response.text == "Malformed range header."

    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "950"


def test_range_exceptions_are_public() -> None:
    assert MalformedRangeHeader().content == "Malformed range header."
    assert RangeNotSatisfiable(5).max_size == 5
    assert issubclass(MalformedRangeHeader, Exception)
    assert issubclass(RangeNotSatisfiable, Exception)
