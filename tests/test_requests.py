from __future__ import annotations

import http.cookies
import json
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import anyio
import pytest
from hypothesis import given, strategies as st

from starlette._cookies import unquote_cookie_value
from starlette.applications import Starlette
from starlette.datastructures import URL, Address, FormData, Headers, QueryParams, State, UploadFile, URLPath
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import (
    SERVER_PUSH_HEADERS_TO_COPY,
    ClientDisconnect,
    HTTPConnection,
    Request,
    cookie_parser,
    empty_receive,
    empty_send,
)
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from tests.types import TestClientFactory


def make_scope(**overrides: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    scope.update(overrides)
    return scope


def receive_from(*messages: Message) -> Receive:
    """A receive channel that hands out `messages`, then fails the test if asked for more."""
    queue = list(messages)

    async def receive() -> Message:
        if not queue:
            raise AssertionError("receive() called after the last message")
        return queue.pop(0)

    return receive


def body_messages(*chunks: bytes) -> list[Message]:
    messages: list[Message] = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    return messages


# cookie_parser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("chips=ahoy", {"chips": "ahoy"}),
        ("chips=ahoy; vienna=finger", {"chips": "ahoy", "vienna": "finger"}),
        ("keebler=E=mc2", {"keebler": "E=mc2"}),
        ("key:term=value:term", {"key:term": "value:term"}),
        ("a=b; c=[; d=r; f=h", {"a": "b", "c": "[", "d": "r", "f": "h"}),
        ("a=b; Domain=example.com", {"a": "b", "Domain": "example.com"}),
        # The last assignment of a name wins.
        ("a=b; h=i; a=c", {"a": "c", "h": "i"}),
        # A piece without "=" is a value with the empty name.
        ("unnamed", {"": "unnamed"}),
        ("a=b; unnamed; c=d", {"a": "b", "": "unnamed", "c": "d"}),
        # Whitespace around names and values is dropped, empty pieces are skipped.
        ("  =  b  ;  ;  =  ;   c  =  ;  ", {"": "b", "c": ""}),
        ("a b c=d e = f; gh=i", {"a b c": "d e = f", "gh": "i"}),
        ("saint=André Bessette", {"saint": "André Bessette"}),
        # Quoted values are unquoted, with backslash escapes; unquoted ones are left alone.
        ('L="Loves"', {"L": "Loves"}),
        ('q="a\\"b\\\\c"', {"q": 'a"b\\c'}),
        ('o="\\101\\012"', {"o": "A\n"}),
        ("fudge=\\012", {"fudge": "\\012"}),
        ('half="quoted', {"half": '"quoted'}),
        ('lone="', {"lone": '"'}),
        ('empty=""', {"empty": ""}),
    ],
)
def test_cookie_parser(header: str, expected: dict[str, str]) -> None:
    assert cookie_parser(header) == expected


@given(st.text())
def test_cookie_parser_never_raises(header: str) -> None:
    cookies = cookie_parser(header)
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in cookies.items())


_COOKIE_NAME = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~", min_size=1
)
# RFC 6265 cookie-octets: no whitespace, double quote, comma, semicolon or backslash.
_COOKIE_VALUE = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\'])


@given(st.dictionaries(_COOKIE_NAME, _COOKIE_VALUE))
def test_cookie_parser_round_trips_simple_pairs(cookies: dict[str, str]) -> None:
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    assert cookie_parser(header) == cookies


@given(st.dictionaries(_COOKIE_NAME, st.text()))
def test_cookie_parser_reads_values_quoted_by_http_cookies(cookies: dict[str, str]) -> None:
    # Values quoted by the standard library (as Set-Cookie writers do) read back as written,
    # as long as they survive the split on ";" and the stripping of whitespace.
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    header_parts = []
    for name, value in cookies.items():
        _, quoted = jar.value_encode(value)
        header_parts.append(f"{name}={quoted}")
    parsed = cookie_parser("; ".join(header_parts))
    for name, value in cookies.items():
        if ";" not in value and value == value.strip():
            assert parsed[name] == value


@given(st.text(alphabet=st.sampled_from('"\\0123456789abc\n '), max_size=12))
def test_unquote_cookie_value_matches_the_standard_library(value: str) -> None:
    assert unquote_cookie_value(value) == http.cookies._unquote(value)  # the oracle


# HTTPConnection ---------------------------------------------------------------------------


def test_connection_is_a_read_only_view_of_the_scope() -> None:
    scope = make_scope(path="/abc", extra=1)
    conn = HTTPConnection(scope)
    assert conn.scope is scope
    assert conn["path"] == "/abc"
    assert conn["extra"] == 1
    assert list(conn) == list(scope)
    assert len(conn) == len(scope)
    assert dict(conn) == scope


def test_connections_compare_and_hash_by_identity() -> None:
    scope = make_scope()
    first, second = HTTPConnection(scope), HTTPConnection(scope)
    assert first == first
    assert first != second
    assert len({first, second, first}) == 2


def test_connection_accepts_websocket_scopes_only_besides_http() -> None:
    conn = HTTPConnection(make_scope(type="websocket", scheme="ws"))
    assert conn.url == "ws://testserver/"
    with pytest.raises(AssertionError):
        HTTPConnection(make_scope(type="lifespan"))


def test_connection_url_and_query_params() -> None:
    scope = make_scope(path="/a/b", query_string=b"x=1&y=2&x=3", headers=[(b"host", b"example.org:8000")])
    conn = HTTPConnection(scope)
    assert conn.url == "http://example.org:8000/a/b?x=1&y=2&x=3"
    assert conn.url is conn.url
    assert isinstance(conn.url, URL)
    assert isinstance(conn.query_params, QueryParams)
    assert conn.query_params.getlist("x") == ["1", "3"]
    assert conn.query_params is conn.query_params


@pytest.mark.parametrize(
    ("scope_overrides", "expected"),
    [
        ({}, "http://testserver/"),
        ({"path": "/users/1", "query_string": b"a=1"}, "http://testserver/"),
        ({"root_path": "/api", "path": "/api/users"}, "http://testserver/api/"),
        ({"root_path": "/api/", "path": "/api/users"}, "http://testserver/api/"),
        # Inside a Mount, `app_root_path` (the outermost app's root) wins over `root_path`.
        ({"root_path": "/api/sub", "app_root_path": "/api", "path": "/api/sub/x"}, "http://testserver/api/"),
        ({"scheme": "https", "server": ("example.com", 443)}, "https://example.com/"),
    ],
)
def test_connection_base_url(scope_overrides: dict[str, Any], expected: str) -> None:
    conn = HTTPConnection(make_scope(**scope_overrides))
    assert conn.base_url == expected
    assert conn.base_url is conn.base_url


def test_connection_base_url_does_not_change_the_scope() -> None:
    scope = make_scope(path="/x", query_string=b"q=1", root_path="/r")
    before = dict(scope)
    assert HTTPConnection(scope).base_url == "http://testserver/r/"
    assert scope == before


def test_connection_headers() -> None:
    conn = HTTPConnection(make_scope(headers=[(b"x-a", b"1"), (b"x-a", b"2"), (b"content-type", b"text/plain")]))
    assert isinstance(conn.headers, Headers)
    assert conn.headers["Content-Type"] == "text/plain"
    assert conn.headers.getlist("x-a") == ["1", "2"]
    assert conn.headers is conn.headers


def test_connection_path_params() -> None:
    assert HTTPConnection(make_scope()).path_params == {}
    assert HTTPConnection(make_scope(path_params={"id": 3})).path_params == {"id": 3}


def test_connection_cookies_merge_every_cookie_header() -> None:
    headers = [(b"cookie", b"a=1; b=2"), (b"x-other", b"c=0"), (b"cookie", b"c=3; a=4")]
    conn = HTTPConnection(make_scope(headers=headers))
    assert conn.cookies == {"a": "4", "b": "2", "c": "3"}
    assert conn.cookies is conn.cookies
    assert HTTPConnection(make_scope()).cookies == {}


def test_connection_cookies_decode_latin_1_bytes() -> None:
    conn = HTTPConnection(make_scope(headers=[(b"cookie", "name=caf\xe9".encode("latin-1"))]))
    assert conn.cookies == {"name": "caf\xe9"}


def test_connection_client() -> None:
    assert HTTPConnection(make_scope()).client is None
    assert HTTPConnection(make_scope(client=None)).client is None
    client = HTTPConnection(make_scope(client=["10.0.0.1", 1234])).client
    assert client == Address("10.0.0.1", 1234)
    assert isinstance(client, Address)
    assert (client.host, client.port) == ("10.0.0.1", 1234)


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("session", "SessionMiddleware must be installed to access request.session"),
        ("auth", "AuthenticationMiddleware must be installed to access request.auth"),
        ("user", "AuthenticationMiddleware must be installed to access request.user"),
    ],
)
def test_connection_middleware_provided_attributes(attribute: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        getattr(HTTPConnection(make_scope()), attribute)
    value = object() if attribute != "session" else {"k": "v"}
    assert getattr(HTTPConnection(make_scope(**{attribute: value})), attribute) is value


def test_connection_app() -> None:
    app = object()
    assert HTTPConnection(make_scope(app=app)).app is app
    with pytest.raises(KeyError):
        HTTPConnection(make_scope()).app  # noqa: B018


def test_connection_state_is_shared_through_the_scope() -> None:
    lifespan_state: dict[str, Any] = {"db": "connection"}
    scope = make_scope(state=lifespan_state)
    conn = HTTPConnection(scope)
    assert isinstance(conn.state, State)
    assert conn.state is conn.state
    assert conn.state.db == "connection"
    conn.state.user = "alice"
    assert lifespan_state["user"] == "alice"
    # A second connection over the same scope (e.g. in the next middleware) sees it.
    assert HTTPConnection(scope).state.user == "alice"


def test_connection_state_is_created_in_the_scope() -> None:
    scope = make_scope()
    HTTPConnection(scope).state.started = 1
    assert scope["state"] == {"started": 1}
    with pytest.raises(AttributeError):
        HTTPConnection(scope).state.missing  # noqa: B018


class _Router:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        self.calls.append((name, path_params))
        return URLPath(f"{self.prefix}/{name}/{path_params.get('id', '')}", protocol="http")


def test_connection_url_for_uses_the_router() -> None:
    router, app = _Router("/from-router"), _Router("/from-app")
    conn = HTTPConnection(make_scope(router=router, app=app, root_path="/root", path="/root/x"))
    url = conn.url_for("user", id=5)
    assert isinstance(url, URL)
    assert url == "http://testserver/root/from-router/user/5"
    assert router.calls == [("user", {"id": 5})]
    assert app.calls == []


def test_connection_url_for_falls_back_to_the_app() -> None:
    app = _Router("/from-app")
    conn = HTTPConnection(make_scope(app=app, scheme="https", server=("example.com", 443)))
    assert conn.url_for("name") == "https://example.com/from-app/name/"


def test_connection_url_for_the_name_parameter_is_positional_only() -> None:
    router = _Router("")
    HTTPConnection(make_scope(router=router)).url_for("route", name="value")
    assert router.calls == [("route", {"name": "value"})]


def test_connection_url_for_outside_an_application() -> None:
    with pytest.raises(RuntimeError, match="url_for"):
        HTTPConnection(make_scope()).url_for("anything")


# Request ----------------------------------------------------------------------------------


def test_request_requires_an_http_scope() -> None:
    with pytest.raises(AssertionError):
        Request(make_scope(type="websocket"))


def test_request_method_and_channels() -> None:
    receive = receive_from()
    request = Request(make_scope(method="PATCH"), receive)
    assert request.method == "PATCH"
    assert request.receive is receive
    assert isinstance(request, HTTPConnection)
    assert Request(make_scope()).receive is empty_receive


@pytest.mark.anyio
async def test_empty_channels_raise() -> None:
    with pytest.raises(RuntimeError, match="Receive channel has not been made available"):
        await empty_receive()
    with pytest.raises(RuntimeError, match="Send channel has not been made available"):
        await empty_send({"type": "http.response.start"})
    with pytest.raises(RuntimeError, match="Receive channel has not been made available"):
        await Request(make_scope()).body()


@pytest.mark.anyio
async def test_request_stream_yields_the_chunks_then_an_empty_one() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"abc", b"", b"def")))
    chunks = [chunk async for chunk in request.stream()]
    assert chunks == [b"abc", b"def", b""]


@pytest.mark.anyio
async def test_request_stream_ends_on_the_last_message() -> None:
    # No more_body key means the body is complete; the key may also be absent from earlier ones.
    request = Request(make_scope(), receive_from({"type": "http.request", "body": b"whole"}))
    assert [chunk async for chunk in request.stream()] == [b"whole", b""]
    request = Request(make_scope(), receive_from({"type": "http.request"}))
    assert [chunk async for chunk in request.stream()] == [b""]


@pytest.mark.anyio
async def test_request_stream_ignores_unknown_messages() -> None:
    messages: list[Message] = [{"type": "http.unknown"}, {"type": "http.request", "body": b"x"}]
    request = Request(make_scope(), receive_from(*messages))
    assert [chunk async for chunk in request.stream()] == [b"x", b""]


@pytest.mark.anyio
async def test_request_stream_twice_is_an_error() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"abc")))
    assert [chunk async for chunk in request.stream()] == [b"abc", b""]
    with pytest.raises(RuntimeError, match="Stream consumed"):
        async for _ in request.stream():
            pass  # pragma: no cover - never reached
    with pytest.raises(RuntimeError, match="Stream consumed"):
        await request.body()


@pytest.mark.anyio
async def test_request_body_collects_an_overridden_stream() -> None:
    # A subclass that transforms the stream (say, decompressing it) gets the transformed body.
    class UpperRequest(Request):
        async def stream(self) -> AsyncGenerator[bytes, None]:
            async for chunk in super().stream():
                yield chunk.upper()

    request = UpperRequest(make_scope(), receive_from(*body_messages(b"ab", b"cd")))
    assert await request.body() == b"ABCD"
    assert await request.body() == b"ABCD"  # kept: the stream is not read again


@pytest.mark.anyio
async def test_request_stream_after_body_replays_the_body() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"ab", b"cd")))
    assert await request.body() == b"abcd"
    assert [chunk async for chunk in request.stream()] == [b"abcd", b""]
    assert [chunk async for chunk in request.stream()] == [b"abcd", b""]


@pytest.mark.anyio
async def test_request_body_is_read_once() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"ab", b"cd")))
    body = await request.body()
    assert body == b"abcd"
    assert await request.body() is body


@pytest.mark.anyio
async def test_request_empty_body() -> None:
    request = Request(make_scope(), receive_from({"type": "http.request", "body": b"", "more_body": False}))
    assert await request.body() == b""


@pytest.mark.anyio
async def test_request_disconnect_while_streaming() -> None:
    messages: list[Message] = [{"type": "http.request", "body": b"abc", "more_body": True}, {"type": "http.disconnect"}]
    request = Request(make_scope(), receive_from(*messages))
    received = []
    with pytest.raises(ClientDisconnect):
        async for chunk in request.stream():
            received.append(chunk)
    assert received == [b"abc"]
    # Known now, without asking the channel again.
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_request_disconnect_while_reading_the_body() -> None:
    request = Request(make_scope(), receive_from({"type": "http.disconnect"}))
    with pytest.raises(ClientDisconnect):
        await request.body()


@pytest.mark.anyio
async def test_request_json() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b'{"a": [1, ', b'2], "b": null}')))
    data = await request.json()
    assert data == {"a": [1, 2], "b": None}
    assert await request.json() is data
    assert await request.body() == b'{"a": [1, 2], "b": null}'


@pytest.mark.anyio
async def test_request_json_invalid() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"{nope")))
    with pytest.raises(json.JSONDecodeError):
        await request.json()


@pytest.mark.anyio
async def test_is_disconnected_sees_a_pending_disconnect() -> None:
    request = Request(make_scope(), receive_from({"type": "http.disconnect"}))
    assert await request.is_disconnected() is True
    assert await request.is_disconnected() is True  # remembered: receive() is not called again


@pytest.mark.anyio
async def test_is_disconnected_does_not_wait() -> None:
    calls = 0

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    request = Request(make_scope(), receive)
    with anyio.fail_after(1):
        assert await request.is_disconnected() is False
        assert await request.is_disconnected() is False
    assert calls == 2


@pytest.mark.anyio
async def test_is_disconnected_keeps_body_messages_for_the_stream() -> None:
    request = Request(make_scope(), receive_from(*body_messages(b"ab", b"cd")))
    assert await request.is_disconnected() is False
    assert await request.is_disconnected() is False
    assert await request.body() == b"abcd"


@pytest.mark.anyio
async def test_is_disconnected_after_the_body() -> None:
    messages = [*body_messages(b"ab"), {"type": "http.request", "body": b"late"}, {"type": "http.disconnect"}]
    request = Request(make_scope(), receive_from(*messages))
    assert await request.body() == b"ab"
    # A stray body message after the end of the body is dropped; the disconnect is seen next.
    assert await request.is_disconnected() is False
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_send_push_promise() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [
        (b"user-agent", b"ua"),
        (b"cookie", b"secret=1"),
        (b"accept", b"text/html"),
        (b"accept", b"*/*"),
        (b"accept-language", b"fr"),
    ]
    scope = make_scope(headers=headers, extensions={"http.response.push": {}})
    await Request(scope, receive_from(), send).send_push_promise("/static/style.css")
    assert sent == [
        {
            "type": "http.response.push",
            "path": "/static/style.css",
            "headers": [
                (b"accept", b"text/html"),
                (b"accept", b"*/*"),
                (b"accept-language", b"fr"),
                (b"user-agent", b"ua"),
            ],
        }
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("extensions", [None, {}, {"http.response.trailers": {}}])
async def test_send_push_promise_without_server_support_does_nothing(extensions: dict[str, Any] | None) -> None:
    scope = make_scope() if extensions is None else make_scope(extensions=extensions)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await Request(scope, receive_from(), send).send_push_promise("/style.css")
    assert sent == []


def test_server_push_headers_to_copy() -> None:
    assert {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "user-agent",
    } == SERVER_PUSH_HEADERS_TO_COPY


# Request.form -----------------------------------------------------------------------------

_MULTIPART_BODY = (
    b"--B\r\n"
    b'Content-Disposition: form-data; name="field"\r\n\r\n'
    b"value\r\n"
    b"--B\r\n"
    b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"file contents\r\n"
    b"--B--\r\n"
)


def form_request(content_type: bytes | None, body: bytes, **scope: Any) -> Request:
    headers = [] if content_type is None else [(b"content-type", content_type)]
    return Request(make_scope(method="POST", headers=headers, **scope), receive_from(*body_messages(body)))


@pytest.mark.anyio
async def test_form_urlencoded() -> None:
    request = form_request(b"application/x-www-form-urlencoded", b"a=1&b=two+words&a=%C3%A9")
    form = await request.form()
    assert isinstance(form, FormData)
    assert form.multi_items() == [("a", "1"), ("b", "two words"), ("a", "é")]


@pytest.mark.anyio
async def test_form_content_type_is_case_insensitive() -> None:
    request = form_request(b"Application/X-WWW-Form-Urlencoded; charset=UTF-8", b"a=1")
    assert (await request.form()).multi_items() == [("a", "1")]


@pytest.mark.anyio
async def test_form_multipart() -> None:
    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    form = await request.form()
    assert form["field"] == "value"
    upload = form["upload"]
    assert isinstance(upload, UploadFile)
    assert upload.filename == "a.txt"
    assert upload.content_type == "text/plain"
    assert await upload.read() == b"file contents"
    await request.close()
    assert upload.file.closed


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", [None, b"text/plain", b"application/json", b"multipart/mixed; boundary=B"])
async def test_form_of_another_content_type_is_empty(content_type: bytes | None) -> None:
    request = form_request(content_type, b"a=1")
    form = await request.form()
    assert form == FormData()
    # The body was not consumed.
    assert await request.body() == b"a=1"


@pytest.mark.anyio
async def test_form_is_parsed_once() -> None:
    request = form_request(b"application/x-www-form-urlencoded", b"a=1")
    form = await request.form()
    assert await request.form() is form


@pytest.mark.anyio
async def test_form_as_a_context_manager_closes_the_files() -> None:
    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    async with request.form() as form:
        upload = form["upload"]
        assert isinstance(upload, UploadFile)
        assert not upload.file.closed
        assert await upload.read() == b"file contents"
    assert upload.file.closed


@pytest.mark.anyio
async def test_close_without_a_form_does_nothing() -> None:
    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    await request.close()
    # The body is still there to be read.
    assert await request.body() == _MULTIPART_BODY


@pytest.mark.anyio
async def test_form_after_body_parses_the_kept_body() -> None:
    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    assert await request.body() == _MULTIPART_BODY
    async with request.form() as form:
        assert form["field"] == "value"


@pytest.mark.anyio
async def test_form_limits_are_passed_to_the_parser() -> None:
    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    with pytest.raises(MultiPartException, match="Too many files. Maximum number of files is 0."):
        await request.form(max_files=0)

    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    with pytest.raises(MultiPartException, match="Too many fields. Maximum number of fields is 0."):
        await request.form(max_fields=0)

    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    with pytest.raises(MultiPartException, match="Part exceeded maximum size of 0KB."):
        await request.form(max_part_size=4)

    request = form_request(b"multipart/form-data; boundary=B", _MULTIPART_BODY)
    async with request.form(max_files=1, max_fields=1, max_part_size=5) as form:
        assert form["field"] == "value"


@pytest.mark.anyio
async def test_form_errors_inside_an_application_are_bad_requests() -> None:
    request = form_request(b"multipart/form-data", _MULTIPART_BODY, app=object())
    with pytest.raises(HTTPException) as exc_info:
        await request.form()
    assert exc_info.value.status_code == 400
    assert exc_info.value.detail == "Missing boundary in multipart."


@pytest.mark.anyio
async def test_form_errors_outside_an_application_propagate() -> None:
    request = form_request(b"multipart/form-data", _MULTIPART_BODY)
    with pytest.raises(MultiPartException) as exc_info:
        await request.form()
    assert exc_info.value.message == "Missing boundary in multipart."


@pytest.mark.anyio
async def test_form_after_streaming_is_an_error() -> None:
    request = form_request(b"application/x-www-form-urlencoded", b"a=1")
    async for _ in request.stream():
        pass
    with pytest.raises(RuntimeError, match="Stream consumed"):
        await request.form()


# Through the TestClient -------------------------------------------------------------------


def test_request_over_asgi(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        data = {
            "method": request.method,
            "url": str(request.url),
            "base_url": str(request.base_url),
            "query": request.query_params.multi_items(),
            "header": request.headers["x-custom"],
            "client": list(request.client) if request.client else None,
            "cookies": request.cookies,
            "body": (await request.body()).decode(),
        }
        await JSONResponse(data)(scope, receive, send)

    client = test_client_factory(app)
    response = client.post(
        "/path/?a=1&a=2",
        content=b"payload",
        headers=[("X-Custom", "yes"), ("cookie", "c1=one"), ("cookie", "c2=two")],
    )
    assert response.json() == {
        "method": "POST",
        "url": "http://testserver/path/?a=1&a=2",
        "base_url": "http://testserver/",
        "query": [["a", "1"], ["a", "2"]],
        "header": "yes",
        "client": ["testclient", 50000],
        "cookies": {"c1": "one", "c2": "two"},
        "body": "payload",
    }


def test_request_stream_over_asgi(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = b""
        async for chunk in request.stream():
            body += chunk
        await PlainTextResponse(body)(scope, receive, send)

    def chunks() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    response = test_client_factory(app).post("/", content=chunks())
    assert response.text == "abcdef"


def test_request_json_and_is_disconnected_over_asgi(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        data = await request.json()
        await JSONResponse({"json": data, "disconnected": await request.is_disconnected()})(scope, receive, send)

    response = test_client_factory(app).post("/", json={"a": 1})
    assert response.json() == {"json": {"a": 1}, "disconnected": False}


async def _describe_form(request: Request) -> Response:
    async with request.form() as form:
        result: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                result[name] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": value.size,
                    "content": content.decode(),
                }
            else:
                result[name] = value
    return JSONResponse(result)


def test_form_files_and_fields_in_an_application(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", _describe_form, methods=["POST"])]))
    response = client.post(
        "/",
        data={"name": "Zoë", "empty": ""},
        files={"upload": ("résumé.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "name": "Zoë",
        "empty": "",
        "upload": {"filename": "résumé.txt", "content_type": "text/plain", "size": 5, "content": "hello"},
    }
    response = client.post("/", data={"a": "1 + 2 = 3", "b": "&"})
    assert response.json() == {"a": "1 + 2 = 3", "b": "&"}
    response = client.post("/", json={"not": "a form"})
    assert response.json() == {}


def test_form_upload_files_are_closed_after_the_context_manager(test_client_factory: TestClientFactory) -> None:
    uploads: list[UploadFile] = []

    async def endpoint(request: Request) -> Response:
        async with request.form() as form:
            upload = form["f"]
            assert isinstance(upload, UploadFile)
            uploads.append(upload)
            assert not upload.file.closed
        return PlainTextResponse(str(upload.file.closed))

    client = test_client_factory(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))
    assert client.post("/", files={"f": ("a.txt", b"x")}).text == "True"
    assert uploads[0].file.closed


@pytest.mark.parametrize(
    ("kwargs", "limits", "detail"),
    [
        (
            {"files": [("a", ("a.txt", b"x")), ("b", ("b.txt", b"y"))]},
            {"max_files": 1},
            "Too many files. Maximum number of files is 1.",
        ),
        (
            {"data": {"a": "1", "b": "2"}, "files": {"f": ("a.txt", b"x")}},
            {"max_fields": 1},
            "Too many fields. Maximum number of fields is 1.",
        ),
        (
            {"data": {"a": "x" * 2049}, "files": {"f": ("a.txt", b"x" * 5000)}},
            {"max_part_size": 2048},
            "Part exceeded maximum size of 2KB.",
        ),
        (
            {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
            {},
            "Missing boundary in multipart.",
        ),
        (
            {
                "content": b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--\r\n",
                "headers": {"content-type": "multipart/form-data; boundary=B"},
            },
            {},
            'The Content-Disposition header field "name" must be provided.',
        ),
    ],
)
def test_form_errors_are_bad_requests(
    test_client_factory: TestClientFactory, kwargs: dict[str, Any], limits: dict[str, Any], detail: str
) -> None:
    async def endpoint(request: Request) -> Response:
        async with request.form(**limits):
            raise AssertionError("unreachable")  # pragma: no cover

    client = test_client_factory(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))
    response = client.post("/", **kwargs)
    assert response.status_code == 400
    assert response.text == detail


def test_malformed_multipart_is_a_bad_request_not_a_server_error(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", _describe_form, methods=["POST"])]))
    for body in (b"garbage", b"--B\r\nno colon here\r\n\r\nx\r\n--B--\r\n", b"--B" + b"\x00" * 64):
        response = client.post("/", content=body, headers={"content-type": "multipart/form-data; boundary=B"})
        assert response.status_code == 400
        assert response.text.startswith("Malformed multipart body")


def test_request_state_and_url_for_in_an_application(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        request.state.seen = True
        return JSONResponse(
            {
                "url_for": str(request.url_for("user", name="tom")),
                "base_url": str(request.base_url),
                "path_params": request.path_params,
                "state": request.state.seen,
                "app": request.app is app,
            }
        )

    app = Starlette(routes=[Route("/users/{name}", endpoint, name="user")])
    client = test_client_factory(app)
    assert client.get("/users/ann").json() == {
        "url_for": "http://testserver/users/tom",
        "base_url": "http://testserver/",
        "path_params": {"name": "ann"},
        "state": True,
        "app": True,
    }
    client = test_client_factory(app, root_path="/prefix")
    assert client.get("/users/ann").json()["url_for"] == "http://testserver/prefix/users/tom"
    assert client.get("/users/ann").json()["base_url"] == "http://testserver/prefix/"
