"""Robustness: bad input from a client gets a clear 4xx (or a documented exception), never a 500,
a hang, unbounded memory or a leaked task/file.

Every section drives a real `Starlette` app, through the TestClient (both anyio backends) or, where
the bytes on the wire matter, through a real uvicorn fed by a raw socket.
"""

from __future__ import annotations

import contextlib
import json
import socket
import tempfile
import time
from base64 import b64encode
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any, cast

import anyio
import itsdangerous
import pytest
from hypothesis import given, settings, strategies as st

from starlette import _conditional
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.datastructures import URL, Headers, MutableHeaders, urlsplit
from starlette.formparsers import FormParser
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request, cookie_parser
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from tests._server import RunningServer, run_uvicorn
from tests.types import TestClientFactory


async def call_http(
    app: Any, path: str, *, query_string: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes]:
    """Call `app` with a GET for `path` exactly as given (no client-side normalisation)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("1.2.3.4", 5),
        "path": path,
        "raw_path": path.encode("utf-8"),
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"testserver")] if headers is None else headers,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"]
    return status, b"".join(message.get("body", b"") for message in sent[1:])


def spy_on_spooled_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every SpooledTemporaryFile the multipart parser creates."""
    created: list[Any] = []
    original = tempfile.SpooledTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        file = original(*args, **kwargs)
        created.append(file)
        return file

    monkeypatch.setattr("starlette.formparsers.SpooledTemporaryFile", spy)
    return created


async def describe_url(request: Request) -> Response:
    url = request.url
    return JSONResponse(
        {
            "url": str(url),
            "path": url.path,
            "hostname": url.hostname,
            "port": url.port,
            "query": url.query,
            "base_url": str(request.base_url),
            "url_for": str(request.url_for("describe_url")),
        }
    )


url_app = Starlette(routes=[Route("/", describe_url), Route("/{rest:path}", describe_url, name="any")])


# The Host header -----------------------------------------------------------------------------
# A Host header that `urlsplit` cannot take apart (unbalanced or invalid IPv6 brackets, a port
# that is no number in 0-65535) is ignored when the URL is rebuilt: the request's URL comes from
# the server address, as without a Host header. Others, odd as they may be, are kept.


def test_unparseable_host_header_falls_back_to_the_server_address(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(url_app)
    for host in ["[::1", "::1]", "[not-an-ip]", "example.com:abc", "example.com:99999", "a:-1", "[::1]:x"]:
        response = client.get("/a/b?q=1", headers={"host": host})
        assert response.status_code == 200, host
        assert response.json() == {
            "url": "http://testserver/a/b?q=1",
            "path": "/a/b",
            "hostname": "testserver",
            "port": None,
            "query": "q=1",
            "base_url": "http://testserver/",
            "url_for": "http://testserver/",
        }, host


def test_valid_host_headers_are_kept(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(url_app)
    for host, hostname, port in [
        ("example.com", "example.com", None),
        ("Example.COM:8000", "example.com", 8000),
        ("[::1]", "::1", None),
        ("[::1]:65535", "::1", 65535),
        ("under_score.local:0", "under_score.local", 0),
        ("example.com:", "example.com", None),
        ("[v1.fe]:81", "v1.fe", 81),  # an IPvFuture literal
        ("[fe80::1%eth0]", "fe80::1%eth0", None),
    ]:
        data = client.get("/a", headers={"host": host}).json()
        assert data["url"] == f"http://{host}/a"
        assert (data["hostname"], data["port"]) == (hostname, port)


@settings(max_examples=300, deadline=None)
@given(host=st.text(alphabet=st.characters(max_codepoint=0xFF, exclude_characters="\r\n\x00/?#@"), max_size=30))
def test_any_host_header_gives_a_url_whose_components_never_raise(host: str) -> None:
    scope = {
        "type": "http",
        "scheme": "http",
        "server": ("server.local", 8000),
        "path": "/a/b",
        "query_string": b"q=1",
        "headers": [(b"host", host.encode("latin-1"))],
    }
    url = URL(scope=scope)
    assert (url.path, url.query, url.fragment, url.username, url.password) == ("/a/b", "q=1", "", None, None)
    port = url.port
    assert port is None or 0 <= port <= 65535
    assert url.hostname is None or isinstance(url.hostname, str)
    assert url.replace(path="/c").path == "/c"


def test_https_redirect_with_an_unparseable_host_redirects_to_the_server_address(
    test_client_factory: TestClientFactory,
) -> None:
    app = HTTPSRedirectMiddleware(url_app)
    client = test_client_factory(app, follow_redirects=False)
    for host in ["[::1", "example.com:abc"]:
        response = client.get("/a?x=1", headers={"host": host})
        assert response.status_code == 307
        assert response.headers["location"] == "https://testserver/a?x=1"


def test_static_directory_redirect_with_an_unparseable_host(
    tmp_path: Path, test_client_factory: TestClientFactory
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "index.html").write_text("<p>index</p>")
    app = Starlette(routes=[Mount("/static", StaticFiles(directory=tmp_path, html=True))])
    client = test_client_factory(app, follow_redirects=False)
    response = client.get("/static/dir", headers={"host": "[::1"})
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/static/dir/"


@pytest.mark.anyio
async def test_duplicate_host_headers_the_first_one_counts_everywhere() -> None:
    headers = [(b"host", b"first.example"), (b"host", b"second.example")]
    app = TrustedHostMiddleware(url_app, allowed_hosts=["first.example"])
    status, body = await call_http(app, "/a", headers=headers)
    assert status == 200
    assert json.loads(body)["url"] == "http://first.example/a"
    status, body = await call_http(app, "/a", headers=headers[::-1])
    assert (status, body) == (400, b"Invalid host header")


def test_long_urls_are_not_kept_in_the_urlsplit_cache() -> None:
    # The parse cache holds up to 1024 URLs: long ones (rare, and client controlled) are parsed
    # each time instead, so the cache cannot be made to hold 1024 URLs of 64 KB each.
    urlsplit.cache_clear()
    long_url = URL("http://example.com/" + "a" * 5000)
    assert long_url.path == "/" + "a" * 5000
    assert urlsplit.cache_info().currsize == 0
    assert URL("http://example.com/" + "a" * 1000).path == "/" + "a" * 1000
    assert urlsplit.cache_info().currsize == 1


# Request bodies: forms ----------------------------------------------------------------------


async def echo_form(request: Request) -> Response:
    async with request.form() as form:
        items = [
            (name, value if isinstance(value, str) else f"file:{value.filename}") for name, value in form.multi_items()
        ]
    return JSONResponse(items)


form_app = Starlette(routes=[Route("/", echo_form, methods=["POST"])])
MULTIPART = "multipart/form-data; boundary=B"


def part(name: str, data: bytes, filename: str | None = None, extra: bytes = b"") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return b"--B\r\nContent-Disposition: " + disposition.encode() + b"\r\n" + extra + b"\r\n" + data + b"\r\n"


END = b"--B--\r\n"


@pytest.mark.parametrize("charset", ["punycode", "undefined", "unicode_escape", "raw_unicode_escape", "idna"])
def test_multipart_charset_that_is_no_text_charset_is_a_bad_request(
    charset: str, test_client_factory: TestClientFactory
) -> None:
    # Codecs that raise UnicodeError (not UnicodeDecodeError) or interpret backslash escapes
    # (with a DeprecationWarning for unknown ones) are not charsets: a clear 400, never a 500.
    client = test_client_factory(form_app)
    body = part("_charset_", charset.encode()) + part("a", "€".encode()) + part("b", b"\\]\xff") + END
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert (response.status_code, response.text) == (400, f"Invalid charset in multipart: {charset!r}.")
    response = client.post(
        "/", content=part("a", b"\\]") + END, headers={"content-type": f"{MULTIPART}; charset={charset}"}
    )
    assert (response.status_code, response.text) == (400, f"Invalid charset in multipart: {charset!r}.")


@pytest.mark.parametrize("charset", [b"utf\x00-8", b"x" * 100_000, b"latin_1" + b"_" * 100, b"\xff\xfe"])
def test_multipart_charset_field_with_a_malformed_name_is_a_bad_request(
    charset: bytes, test_client_factory: TestClientFactory
) -> None:
    # A NUL makes `codecs.lookup` raise ValueError; a name longer than any charset's is not
    # looked up at all (`codecs.lookup` would take it apart character by character).
    client = test_client_factory(form_app)
    body = part("_charset_", charset) + part("a", "€".encode()) + END
    started = time.perf_counter()
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 400
    assert response.text.startswith("Invalid charset in multipart: ") and len(response.text) < 100
    disposition = b"form-data; name=f; filename*=" + charset[:110] + b"''%41"
    body = b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\ndata\r\n" + END
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert (response.status_code, response.json()) == (200, [["f", "data"]])
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("charset", ["punycode", "undefined", "unicode_escape", "idna", "rot13", "base64"])
def test_multipart_extended_filename_in_a_codec_that_is_no_charset_is_dropped(
    charset: str, test_client_factory: TestClientFactory
) -> None:
    client = test_client_factory(form_app)
    disposition = f"form-data; name=f; filename*={charset}''%FF%5C%5D".encode()
    body = b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\ndata\r\n" + END
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 200
    assert response.json() == [["f", "data"]]  # without a usable file name, a plain field


@pytest.mark.parametrize(
    "body",
    [
        part("a", b"1") + b"--B",  # no closing "--"
        part("a", b"1") + b"--B-",
        part("a", b"1"),  # no closing delimiter at all
        b"--B\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
        b"--B\r\nContent-Disposition: form-data; name=a\r\n",  # headers never finished
        b"--B",
    ],
    ids=[
        "no-closing-dashes",
        "one-closing-dash",
        "no-closing-delimiter",
        "inside-a-part",
        "inside-headers",
        "bare-delimiter",
    ],
)
def test_multipart_truncated_body_is_a_400(
    body: bytes, test_client_factory: TestClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = spy_on_spooled_files(monkeypatch)
    client = test_client_factory(form_app)
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 400
    assert response.text == "Malformed multipart body: the body ended before the closing boundary."
    assert all(file.closed for file in files)


def test_multipart_truncated_inside_a_file_closes_every_file(
    test_client_factory: TestClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = spy_on_spooled_files(monkeypatch)
    client = test_client_factory(form_app)
    body = part("f", b"complete", filename="a.txt") + part("g", b"cut", filename="b.txt")[:-5]
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 400
    assert len(files) == 2
    assert all(file.closed for file in files)


@pytest.mark.parametrize("body", [b"", END, END[:-2], b"\r\n" + END, END + b"epilogue is ignored"])
def test_multipart_empty_forms(body: bytes, test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(form_app)
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 200
    assert response.json() == []


def test_urlencoded_form_oddities(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(form_app)
    body = b"a=%zz&b=%FF&&c&=d&e=\xff&f=1=2&g=%&h=+x+%2B"
    response = client.post("/", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json() == [
        ["a", "%zz"],
        ["b", "\ufffd"],
        ["c", ""],
        ["", "d"],
        ["e", "\ufffd"],
        ["f", "1=2"],
        ["g", "%"],
        ["h", " x +"],
    ]


def test_urlencoded_form_fields_are_not_limited_and_parse_in_linear_time(
    test_client_factory: TestClientFactory,
) -> None:
    # As in Starlette, `max_fields` bounds multipart bodies only; an urlencoded body is parsed
    # in time and memory proportional to its size.
    client = test_client_factory(form_app)
    body = b"&".join(b"k%d=v" % index for index in range(100_000))
    started = time.perf_counter()
    response = client.post("/", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert len(response.json()) == 100_000
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", END, "Missing boundary in multipart."),
        ("multipart/form-data; boundary=", END, "Missing boundary in multipart."),
        ('multipart/form-data; boundary=""', END, "Missing boundary in multipart."),
        ("multipart/form-data; boundary=" + "b" * 300, END, "Malformed multipart body: Boundary length 300"),
        ("multipart/form-data; boundary=other", part("a", b"1") + END, "Malformed multipart body: Expected boundary"),
        (MULTIPART, b"preamble without any boundary", "Malformed multipart body: Expected boundary"),
        (MULTIPART, b"--B\r\nX-Only: header\r\n\r\nv\r\n" + END, 'The Content-Disposition header field "name"'),
        (MULTIPART, b"--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n" + END, "The Content-Disposition header"),
        (
            MULTIPART,
            part("a", b"1", extra=b"X: " + b"y" * 100_000 + b"\r\n") + END,
            "Malformed multipart body: Maximum header size",
        ),
        (
            MULTIPART,
            part("a", b"1", extra=b"X: y\r\n" * 100) + END,
            "Malformed multipart body: Maximum header count exceeded",
        ),
        (
            MULTIPART,
            part("a", b"1", extra=b"no colon here\r\n") + END,
            "Malformed multipart body: Found invalid character",
        ),
        (MULTIPART, part("a", b"x" * (1024 * 1024 + 1)) + END, "Part exceeded maximum size of 1024KB."),
        (MULTIPART, part("a", b"1") * 1001 + END, "Too many fields. Maximum number of fields is 1000."),
        (MULTIPART, part("f", b"1", filename="a") * 1001 + END, "Too many files. Maximum number of files is 1000."),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "empty-quoted-boundary",
        "boundary-too-long",
        "boundary-mismatch",
        "preamble-only",
        "no-content-disposition",
        "no-name",
        "enormous-part-header",
        "too-many-part-headers",
        "bad-part-header",
        "part-too-large",
        "too-many-fields",
        "too-many-files",
    ],
)
def test_malformed_or_excessive_multipart_bodies_are_400(
    content_type: str,
    body: bytes,
    message: str,
    test_client_factory: TestClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = spy_on_spooled_files(monkeypatch)
    client = test_client_factory(form_app)
    response = client.post("/", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.text.startswith(message)
    assert all(file.closed for file in files)


def test_multipart_limits_are_configurable(test_client_factory: TestClientFactory) -> None:
    async def limited(request: Request) -> Response:
        async with request.form(max_files=1, max_fields=1, max_part_size=4) as form:
            return JSONResponse(sorted(form.keys()))

    client = test_client_factory(Starlette(routes=[Route("/", limited, methods=["POST"])]))
    ok = part("a", b"1234") + part("f", b"long file content", filename="f") + END
    assert client.post("/", content=ok, headers={"content-type": MULTIPART}).json() == ["a", "f"]
    for body, message in [
        (part("a", b"1") + part("b", b"2") + END, "Too many fields. Maximum number of fields is 1."),
        (part("f", b"1", filename="f") * 2 + END, "Too many files. Maximum number of files is 1."),
        (part("a", b"12345") + END, "Part exceeded maximum size of 0KB."),
    ]:
        response = client.post("/", content=body, headers={"content-type": MULTIPART})
        assert (response.status_code, response.text) == (400, message)


def test_multipart_file_names_are_reported_as_sent(test_client_factory: TestClientFactory) -> None:
    # The file name is client input, kept as sent (only an old-IE full Windows path is reduced
    # to its last component): never use it as a path without sanitising it.
    client = test_client_factory(form_app)
    body = (
        part("a", b"1", filename="../../etc/passwd")
        + part("b", b"1", filename="C:\\\\dir\\\\x.txt")
        + part("c", b"1", filename="nul\x00byte")
        + END
    )
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 200
    assert response.json() == [["a", "file:../../etc/passwd"], ["b", "file:x.txt"], ["c", "file:nul\x00byte"]]


@pytest.mark.anyio
async def test_client_disconnect_while_parsing_a_form_closes_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    files = spy_on_spooled_files(monkeypatch)
    chunks = [part("f", b"first", filename="a.txt"), part("g", b"second", filename="b.txt")[:-4]]
    seen: list[BaseException] = []

    async def endpoint(request: Request) -> Response:
        try:
            await request.form()
        except ClientDisconnect as exc:
            seen.append(exc)
            raise
        raise AssertionError("unreachable")  # pragma: no cover - the form cannot be complete

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])

    async def receive() -> Message:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", MULTIPART.encode())],
    }
    with pytest.raises(ClientDisconnect):
        await app(scope, receive, send)
    assert len(seen) == 1
    assert len(files) == 2
    assert all(file.closed for file in files)


def test_invalid_json_body_raises_what_json_loads_raises(test_client_factory: TestClientFactory) -> None:
    # As in Starlette, `request.json()` raises what `json.loads` raises (a ValueError): a 500 unless the
    # application handles it, for instance with an exception handler turning it into a 400.
    async def endpoint(request: Request) -> Response:
        return JSONResponse(await request.json())

    async def bad_json(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("Invalid JSON", status_code=400)

    routes = [Route("/", endpoint, methods=["POST"])]
    client = test_client_factory(Starlette(routes=routes))
    for body in [b"{bad", b"", b"[" * 10]:
        with pytest.raises(json.JSONDecodeError):
            client.post("/", content=body)
    for body in [b"\xff", b"\xff\xfe\x00"]:  # not UTF-8, 16 or 32 (both are ValueErrors too)
        with pytest.raises(UnicodeDecodeError):
            client.post("/", content=body)
    handled = test_client_factory(Starlette(routes=routes, exception_handlers={json.JSONDecodeError: bad_json}))
    response = handled.post("/", content=b"{bad")
    assert (response.status_code, response.text) == (400, "Invalid JSON")
    assert handled.post("/", content=b'{"ok": [1, "\\u00e9"]}').json() == {"ok": [1, "é"]}


@pytest.mark.anyio
async def test_urlencoded_empty_fields_are_skipped_for_callback_subclasses_too() -> None:
    class Recording(FormParser):
        def on_field_start(self) -> None:
            super().on_field_start()

    async def body() -> AsyncGenerator[bytes, None]:
        yield b"&&a=1&&"
        yield b"&b&&"

    form = await Recording(Headers({"content-type": "application/x-www-form-urlencoded"}), body()).parse()
    assert form.multi_items() == [("a", "1"), ("b", "")]


# Response headers an application builds from client input -----------------------------------
# Starlette does not validate header values set through `MutableHeaders` (the server refuses
# CR/LF when it writes them), but the helpers that assemble header values neutralise or refuse
# what would split the header or the cookie.


def test_set_cookie_value_is_quoted_so_it_cannot_split_the_header() -> None:
    response = Response()
    response.set_cookie("k", 'a;b\r\nSet-Cookie: evil=1 "q"')
    (value,) = [v for k, v in response.raw_headers if k == b"set-cookie"]
    assert value == b'k="a\\073b\\015\\012Set-Cookie: evil=1 \\"q\\""; Path=/; SameSite=lax'
    assert b"\r" not in value and b"\n" not in value
    assert SimpleCookie(value.decode())["k"].value == 'a;b\r\nSet-Cookie: evil=1 "q"'


def test_set_cookie_key_must_be_a_token() -> None:
    response = Response()
    with pytest.raises(CookieError):
        response.set_cookie("k;x", "v")
    with pytest.raises(CookieError):
        response.set_cookie("k\r\n", "v")
    assert [k for k, _ in response.raw_headers if k == b"set-cookie"] == []


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("path", "/a;Domain=evil.com"),
        ("path", "/a\r\nX-Injected: 1"),
        ("path", "/\x00"),
        ("domain", "example.com; Secure"),
        ("domain", "example.com\n"),
        ("expires", "Thu, 01 Jan 2037 00:00:00 GMT; Max-Age=9"),
        ("expires", "\x7f"),
    ],
)
def test_set_cookie_attributes_cannot_inject_attributes_or_headers(attribute: str, value: str) -> None:
    response = Response()
    with pytest.raises(ValueError, match=f"The cookie {attribute} must not contain"):
        response.set_cookie("k", "v", **cast(dict[str, Any], {attribute: value}))
    assert [k for k, _ in response.raw_headers if k == b"set-cookie"] == []


def test_set_cookie_accepts_ordinary_attributes() -> None:
    response = Response()
    response.set_cookie("k", "v", path="/a b/é", domain=".example.com", expires="Thu, 01 Jan 2037 00:00:00 GMT")
    (value,) = [v for k, v in response.raw_headers if k == b"set-cookie"]
    assert value.decode("latin-1") == (
        "k=v; Domain=.example.com; expires=Thu, 01 Jan 2037 00:00:00 GMT; Path=/a b/é; SameSite=lax"
    )


def test_redirect_location_is_percent_encoded() -> None:
    response = RedirectResponse("/a\r\nSet-Cookie: x=1")
    assert response.headers["location"] == "/a%0D%0ASet-Cookie:%20x=1"


def test_file_response_filename_cannot_split_the_content_disposition(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"x")
    response = FileResponse(path, filename='a"\r\nX: 1.txt')
    assert response.headers["content-disposition"] == "attachment; filename*=utf-8''a%22%0D%0AX%3A%201.txt"


def test_mutable_headers_do_not_validate_values() -> None:
    # A documented non-feature: values are stored as given (the server rejects CR/LF on output).
    headers = MutableHeaders()
    headers["x"] = "a\r\nb"
    assert headers.raw == [(b"x", b"a\r\nb")]


# Paths, path parameters, query strings -------------------------------------------------------


async def echo_request(request: Request) -> Response:
    return JSONResponse(
        {
            "path": request.url.path,
            "path_params": {name: repr(value) for name, value in request.path_params.items()},
            "query": request.query_params.multi_items(),
        }
    )


path_app = Starlette(
    routes=[
        Route("/int/{value:int}", echo_request),
        Route("/float/{value:float}", echo_request),
        Route("/uuid/{value:uuid}", echo_request),
        Route("/str/{value}", echo_request),
        Route("/path/{value:path}", echo_request),
    ]
)


@pytest.mark.parametrize(
    "path",
    [
        "/int/" + "9" * 5000,  # beyond int()'s digit limit: no route takes it
        "/int/-1",
        "/int/1.5",
        "/float/nan",
        "/float/inf",
        "/float/1e5",
        "/float/-1.0",
        "/uuid/not-a-uuid",
        "/uuid/" + "0" * 31,
        "/uuid/" + "g" * 32,
        "/str/",
        "/" + "a" * 60_000,
    ],
)
def test_paths_no_route_takes_are_404(path: str, test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(path_app)
    response = client.get(path)
    assert response.status_code == 404
    assert response.text == "Not Found"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("/str/%00", "'\\x00'"),
        ("/str/%FF%FE", "'\ufffd\ufffd'"),  # invalid UTF-8 is replaced, never an error
        ("/str/%", "'%'"),
    ],
)
def test_odd_paths_reach_the_endpoint(raw: str, value: str, test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(path_app)
    response = client.get(raw)
    assert response.status_code == 200
    assert response.json()["path_params"] == {"value": value}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("/path/..", "'..'"),
        ("/path//etc//passwd", "'/etc//passwd'"),
        ("/path/a/../../b", "'a/../../b'"),
        ("/str/\x00", "'\\x00'"),
    ],
)
async def test_dot_segments_and_empty_segments_are_not_interpreted_by_routing(path: str, value: str) -> None:
    # Clients normalise dot segments, servers do not: routing sees the path as sent.
    status, body = await call_http(path_app, path)
    assert status == 200
    assert json.loads(body)["path_params"] == {"value": value}


def test_query_string_oddities(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(path_app)
    response = client.get("/str/x?a=%zz&b=%FF&c=%&=v&d&e=1=2&&f=%00")
    assert response.status_code == 200
    assert response.json()["query"] == [
        ["a", "%zz"],
        ["b", "\ufffd"],
        ["c", "%"],
        ["", "v"],
        ["d", ""],
        ["e", "1=2"],
        ["f", "\x00"],
    ]


@pytest.mark.anyio
async def test_a_hundred_thousand_query_parameters_are_parsed_in_linear_time() -> None:
    query = b"&".join(b"k%d=v" % index for index in range(100_000)) + b"&raw=\xff"
    started = time.perf_counter()
    status, body = await call_http(path_app, "/str/x", query_string=query)
    assert status == 200
    items = json.loads(body)["query"]
    assert len(items) == 100_001
    assert items[-1] == ["raw", "\xff"]  # raw non-UTF-8 bytes read as latin-1
    assert time.perf_counter() - started < 5


@settings(max_examples=200, deadline=None)
@given(
    query_string=st.binary(max_size=60),
    headers=st.lists(
        st.tuples(st.sampled_from([b"cookie", b"host", b"content-type", b"x", b""]), st.binary(max_size=40)),
        max_size=6,
    ),
)
def test_request_views_never_raise_on_arbitrary_bytes(query_string: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("server.local", 80),
        "client": ("1.2.3.4", 5),
        "path": "/p",
        "root_path": "",
        "query_string": query_string,
        "headers": headers,
    }
    request = Request(scope)
    assert isinstance(request.cookies, dict)
    assert all(isinstance(key, str) for key in request.query_params)
    # (A Host header holding "/" or "?" moves text into the path, as in Starlette; but no
    # component ever raises.)
    url = request.url
    assert isinstance(url.path, str) and isinstance(url.query, str) and isinstance(url.hostname, (str, type(None)))
    assert url.port is None or 0 <= url.port <= 65535
    assert isinstance(request.base_url.path, str)
    assert len(request.headers) == len(headers)
    assert all(isinstance(value, str) for value in request.headers.values())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_cookie_parser_never_raises(cookie: str) -> None:
    cookies = cookie_parser(cookie)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in cookies.items())


def test_huge_and_malformed_cookie_headers(test_client_factory: TestClientFactory) -> None:
    async def cookies(request: Request) -> Response:
        return JSONResponse(request.cookies)

    client = test_client_factory(Starlette(routes=[Route("/", cookies)]))
    huge = "; ".join(f"c{index}={index}" for index in range(20_000))
    response = client.get("/", headers={"cookie": huge})
    assert response.status_code == 200
    assert len(response.json()) == 20_000
    malformed = 'a="unterminated; b=\\"; =; ;; c; d="\\777"; e=x=y; f'
    response = client.get("/", headers={"cookie": malformed})
    assert response.status_code == 200
    assert response.json() == {"a": '"unterminated', "b": '\\"', "": "f", "d": "777", "e": "x=y"}


# Range requests --------------------------------------------------------------------------------


@pytest.fixture
def ranged_client(tmp_path: Path, test_client_factory: TestClientFactory) -> Any:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(100)) * 100)  # 10 000 bytes

    async def endpoint(request: Request) -> Response:
        return FileResponse(path)

    return test_client_factory(Starlette(routes=[Route("/", endpoint, methods=["GET", "HEAD"])]))


@pytest.mark.parametrize(
    ("range_header", "status", "content_range"),
    [
        (b"bytes=5-1", 400, None),
        (b"bytes=abc", 400, None),
        (b"items=0-1", 400, None),
        (b"bytes=", 400, None),
        (b"bytes=-", 400, None),
        (b"bytes=1-2-3", 400, None),
        (b"bytes=0x10-", 400, None),
        (b"bytes=\xff", 400, None),
        (b"bytes=" + b",".join([b" "] * 10_000), 400, None),
        (b"bytes=99999999999999999999999999999-", 416, "bytes */10000"),
        (b"bytes=10000-", 416, "bytes */10000"),
        (b"bytes=-0", 416, "bytes */10000"),
        (b"bytes=0-" + b"9" * 5000, 206, "bytes 0-9999/10000"),
        (b"bytes=-" + b"9" * 5000, 206, "bytes 0-9999/10000"),
        (b"bytes=9990-1" + b"0" * 40, 206, "bytes 9990-9999/10000"),
        (b"BYTES = 0-1 ,, ", 206, "bytes 0-1/10000"),
        (b"bytes=" + b",".join(b"%d-%d" % (index, index + 10) for index in range(5000)), 206, "bytes 0-5009/10000"),
    ],
)
def test_pathological_range_headers(
    range_header: bytes, status: int, content_range: str | None, ranged_client: Any
) -> None:
    started = time.perf_counter()
    response = ranged_client.get("/", headers={"range": range_header})
    assert time.perf_counter() - started < 5
    assert response.status_code == status
    assert response.headers.get("content-range") == content_range
    if status == 400:
        assert response.text == "Malformed range header."


def test_many_disjoint_ranges_give_one_part_each_in_linear_time(ranged_client: Any) -> None:
    ranges = [(index, index) for index in range(0, 10_000, 4)]  # 2500 one-byte ranges
    header = "bytes=" + ",".join(f"{start}-{end}" for start, end in reversed(ranges))
    started = time.perf_counter()
    response = ranged_client.get("/", headers={"range": header})
    assert time.perf_counter() - started < 10
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(response.content))
    boundary = response.headers["content-type"].split("boundary=")[1]
    parts = response.content.split(f"--{boundary}".encode())
    assert len(parts) == len(ranges) + 2  # the empty preamble and the closing "--\r\n"
    assert parts[1].endswith(b"Content-Range: bytes 0-0/10000\r\n\r\n\x00\r\n")
    assert parts[-2].endswith(b"Content-Range: bytes 9996-9996/10000\r\n\r\n\x60\r\n")


# Clients that go away; errors after the response; lifespan errors ------------------------------


def scripted_receive(messages: list[Message]) -> Receive:
    async def receive() -> Message:
        return messages.pop(0)

    return receive


async def discard(message: Message) -> None:
    pass


def http_scope(method: str = "GET", spec_version: str = "2.3") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "method": method,
        "scheme": "http",
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


@pytest.mark.anyio
async def test_client_disconnect_mid_request_body() -> None:
    outcome: list[str] = []

    async def endpoint(request: Request) -> Response:
        try:
            await request.body()
        except ClientDisconnect:
            outcome.append("disconnected")
            assert await request.is_disconnected()
            raise
        raise AssertionError("unreachable")  # pragma: no cover - the body never completes

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])])
    messages: list[Message] = [
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5), pytest.raises(ClientDisconnect):
        await app(http_scope("POST"), receive, send)
    assert outcome == ["disconnected"]
    assert sent[0]["status"] == 500  # what ServerErrorMiddleware sends; nobody is listening


@pytest.mark.anyio
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_client_disconnect_mid_streaming_response_closes_a_sync_iterator(spec_version: str) -> None:
    log: list[str] = []
    sent: list[Message] = []
    disconnected = anyio.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"chunk"
        finally:
            log.append("closed")

    async def endpoint(request: Request) -> Response:
        return StreamingResponse(endless(), background=BackgroundTask(log.append, "background"))

    app = Starlette(routes=[Route("/", endpoint)])

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) == 3:
            disconnected.set()
            if spec_version == "2.4":
                raise OSError("the client went away")
            await anyio.sleep(5)  # cancelled by the disconnect

    with anyio.fail_after(5):
        if spec_version == "2.4":
            with pytest.raises(ClientDisconnect):
                await app(http_scope(spec_version=spec_version), receive, send)
        else:
            await app(http_scope(spec_version=spec_version), receive, send)
    assert log[0] == "closed"  # the iterator is closed as soon as the stream stops
    assert log[1:] == ([] if spec_version == "2.4" else ["background"])
    assert all(message.get("more_body", True) for message in sent[1:])  # never a complete body


@pytest.mark.anyio
async def test_websocket_abrupt_close_ends_iteration_and_reports_the_code() -> None:
    received: list[Any] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            received.append(text)
        received.append(websocket.client_state)
        with pytest.raises(RuntimeError, match="disconnect message has been received"):
            await websocket.receive_text()

    async def endpoint_raising(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            received.append((exc.code, exc.reason))

    app = Starlette(routes=[WebSocketRoute("/", endpoint), WebSocketRoute("/raising", endpoint_raising)])
    for path in ["/", "/raising"]:
        messages: list[Message] = [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "hello"},
            {"type": "websocket.disconnect", "code": 1006},
        ]
        if path == "/raising":
            del messages[1]

        scope = {"type": "websocket", "path": path, "root_path": "", "query_string": b"", "headers": []}
        with anyio.fail_after(5):
            await app(scope, scripted_receive(messages), discard)
    assert received == ["hello", WebSocketState.DISCONNECTED, (1006, "")]


def test_websocket_client_that_leaves_without_closing(test_client_factory: TestClientFactory) -> None:
    closed: list[int] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect as exc:
            closed.append(exc.code)

    client = test_client_factory(Starlette(routes=[WebSocketRoute("/", endpoint)]))
    with client.websocket_connect("/") as websocket:
        websocket.send_text("one")
    assert closed == [1000]


def test_background_task_error_after_the_response(test_client_factory: TestClientFactory) -> None:
    # The response is complete when the task runs: the client gets it whole, the error goes to
    # the server (raised by the TestClient unless raise_server_exceptions=False); later tasks
    # do not run.
    ran: list[str] = []

    def failing() -> None:
        raise LookupError("background failed")

    async def endpoint(request: Request) -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(failing)
        tasks.add_task(ran.append, "after")
        return PlainTextResponse("done", background=tasks)

    app = Starlette(routes=[Route("/", endpoint)])
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (200, "done")
    with pytest.raises(LookupError, match="background failed"):
        test_client_factory(app).get("/")
    assert ran == []


@pytest.mark.anyio
@pytest.mark.parametrize("phase", ["startup", "shutdown"])
async def test_lifespan_errors_are_reported_to_the_server_and_raised(phase: str) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if phase == "startup":
            raise LookupError("startup broke")
        yield
        raise LookupError("shutdown broke")

    app = Starlette(lifespan=lifespan)
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5), pytest.raises(LookupError, match=f"{phase} broke"):
        await app({"type": "lifespan", "state": {}}, receive, send)
    assert sent[-1]["type"] == f"lifespan.{phase}.failed"
    assert f"LookupError: {phase} broke" in sent[-1]["message"]


# StaticFiles -------------------------------------------------------------------------------------


@pytest.fixture
def static_tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    (root / "file.txt").write_text("public")
    (root / "dir" / "inner.txt").write_text("inner")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "secret_dir").mkdir()
    (tmp_path / "secret_dir" / "s.txt").write_text("secret")
    (root / "link_out.txt").symlink_to(tmp_path / "secret.txt")
    (root / "link_dir").symlink_to(tmp_path / "secret_dir")
    (root / "link_in.txt").symlink_to(root / "file.txt")
    return root


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/dir/../../secret.txt",
        "/static/..\\secret.txt",
        "/static/dir\\..\\..\\secret.txt",
        "/static//../secret.txt",
        "/static/link_out.txt",
        "/static/link_dir/s.txt",
        "/static/file.txt\x00",
        "/static/" + "a" * 300,
        "/static/" + "a/" * 3000 + "file.txt",
        "/static/" + "../" * 50 + "etc/passwd",
        "/static/.",
        "/static/...",
    ],
)
async def test_static_files_never_leave_their_directory(static_tree: Path, path: str) -> None:
    app = Starlette(routes=[Mount("/static", StaticFiles(directory=static_tree))])
    status, body = await call_http(app, path)
    assert (status, body) == (404, b"Not Found")


@pytest.mark.anyio
async def test_static_files_serve_what_is_inside(static_tree: Path) -> None:
    app = Starlette(routes=[Mount("/static", StaticFiles(directory=static_tree))])
    assert await call_http(app, "/static/link_in.txt") == (200, b"public")
    assert await call_http(app, "/static/dir/../file.txt") == (200, b"public")
    assert await call_http(app, "/static//dir//inner.txt") == (200, b"inner")
    following = Starlette(routes=[Mount("/static", StaticFiles(directory=static_tree, follow_symlink=True))])
    assert await call_http(following, "/static/link_out.txt") == (200, b"secret")
    assert await call_http(following, "/static/../secret.txt") == (404, b"Not Found")


def test_static_files_with_malformed_conditional_headers(
    static_tree: Path, test_client_factory: TestClientFactory
) -> None:
    client = test_client_factory(Starlette(routes=[Mount("/static", StaticFiles(directory=static_tree))]))
    for headers in [
        {"if-modified-since": "garbage"},
        {"if-modified-since": "Mon, 01 Jan 99999 00:00:00 GMT"},
        {"if-modified-since": "Mon, 01 Jan 1 00:00:00 -9999"},
        {"if-none-match": ""},
        {"if-none-match": ',,W/,"'},
        {"if-range": "garbage", "range": "bytes=0-0"},
    ]:
        response = client.get("/static/file.txt", headers=headers)
        assert (response.status_code, response.text) == (200, "public"), headers
    response = client.post("/static/file.txt")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")


@settings(max_examples=500, deadline=None)
@given(
    if_modified_since=st.text(
        alphabet=st.sampled_from(list("0123456789 ,:+-MonJaGMTZ()APSbcdefhilrstuvy\t.")), max_size=50
    ),
    if_none_match=st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=30),
)
def test_conditional_request_headers_never_raise(if_modified_since: str, if_none_match: str) -> None:
    response_headers = Headers({"etag": '"abc"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
    for request_headers in [{"if-modified-since": if_modified_since}, {"if-none-match": if_none_match}]:
        assert isinstance(_conditional.not_modified(response_headers, Headers(request_headers)), bool)


# Middleware with malformed input ---------------------------------------------------------------


def session_client(test_client_factory: TestClientFactory) -> Any:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(request.session)

    app = Starlette(
        routes=[Route("/", endpoint)],
        middleware=[Middleware(SessionMiddleware, secret_key="secret", max_age=60)],
    )
    return test_client_factory(app)


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a" * 20_000,
        "\xff\xfe",
        '"\\"',
        "",
        "not.base64.at.all",
    ],
)
def test_malformed_session_cookies_give_an_empty_session(cookie: str, test_client_factory: TestClientFactory) -> None:
    client = session_client(test_client_factory)
    response = client.get("/", headers={b"cookie": f"session={cookie}".encode("latin-1")})
    assert (response.status_code, response.json()) == (200, {})
    assert "set-cookie" not in response.headers  # nothing to store, nothing to clear


@pytest.mark.parametrize(
    "payload",
    [b"!!not base64", b64encode(b"\xff\xfe"), b64encode(b"[1, 2]"), b64encode(b"null"), b64encode(b"{")],
)
def test_validly_signed_but_malformed_session_data_gives_an_empty_session(
    payload: bytes, test_client_factory: TestClientFactory
) -> None:
    client = session_client(test_client_factory)
    cookie = itsdangerous.TimestampSigner("secret").sign(payload).decode()
    response = client.get("/", headers={"cookie": f"session={cookie}"})
    assert (response.status_code, response.json()) == (200, {})


def test_expired_session_cookie_gives_an_empty_session(
    test_client_factory: TestClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = session_client(test_client_factory)
    signer = itsdangerous.TimestampSigner("secret")
    monkeypatch.setattr(signer, "get_timestamp", lambda: int(time.time()) - 3600)
    cookie = signer.sign(b64encode(b'{"user": "old"}')).decode()
    response = client.get("/", headers={"cookie": f"session={cookie}"})
    assert (response.status_code, response.json()) == (200, {})


def test_gzip_cors_and_trusted_host_with_malformed_headers(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("x" * 1000)

    app = Starlette(
        routes=[Route("/", endpoint)],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.org"]),
            Middleware(CORSMiddleware, allow_origins=["https://a.com"], allow_origin_regex=r"https://.*\.b\.com"),
            Middleware(GZipMiddleware),
        ],
    )
    client = test_client_factory(app, base_url="http://example.com")
    for accept_encoding in [b"\xff, gzip;q=abc, *;q=-1", b"", b",,,", b"GZIP"]:
        response = client.get("/", headers={b"accept-encoding": accept_encoding})
        assert (response.status_code, response.text) == (200, "x" * 1000)
    response = client.get("/", headers={b"origin": b"https://\xff.b.com"})
    assert response.headers["access-control-allow-origin"] == "https://\xff.b.com"
    response = client.get("/", headers={"origin": "https://" + "a" * 20_000 + "!"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = {b"origin": b"https://a.com", b"access-control-request-method": b"\xff"}
    response = client.options("/", headers=preflight)
    assert (response.status_code, response.text) == (400, "Disallowed CORS method")
    for host in ["", "[::1", "example.com.evil.com", "example.org", "\xff", "example.com@evil.com", "a.example.org:x"]:
        response = client.get("/", headers={b"host": host.encode("latin-1")})
        expected = (200, "x" * 1000) if host == "a.example.org:x" else (400, "Invalid host header")
        assert (response.status_code, response.text) == expected, host


def test_trusted_host_www_redirect_with_a_bad_port_is_refused(test_client_factory: TestClientFactory) -> None:
    app = TrustedHostMiddleware(PlainTextResponse("ok"), allowed_hosts=["www.example.com"])
    client = test_client_factory(app, follow_redirects=False)
    response = client.get("/a", headers={"host": "example.com:8000"})
    assert (response.status_code, response.headers["location"]) == (307, "http://www.example.com:8000/a")
    for host in ["example.com:abc", "example.com:99999"]:
        response = client.get("/a", headers={"host": host})
        assert (response.status_code, response.text) == (400, "Invalid host header"), host


# Through a real server: bytes on the wire ------------------------------------------------------


async def wire_echo(request: Request) -> Response:
    return JSONResponse(
        {
            "url": str(request.url),
            "path": request.url.path,
            "path_params": request.path_params,
            "query": request.query_params.multi_items(),
            "cookies": len(request.cookies),
            "url_for": str(request.url_for("wire_echo", rest="x")),
        }
    )


wire_app = Starlette(
    routes=[Route("/echo/{rest:path}", wire_echo, name="wire_echo"), Route("/form", echo_form, methods=["POST"])]
)


@pytest.fixture(scope="module")
def wire_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("wire")
    (base / "public").mkdir()
    (base / "public" / "file.txt").write_text("public")
    (base / "secret.txt").write_text("secret")
    app = Starlette(routes=[*wire_app.routes, Mount("/static", StaticFiles(directory=base / "public"))])
    with run_uvicorn(app) as server:
        yield server


def exchange(server: RunningServer, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes (one request, `Connection: close`), return the status and the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", *headers, b"Connection: close", b"", b""]
    if not any(line.lower().startswith(b"host:") for line in headers):
        lines.insert(1, b"Host: example.com")
    return b"\r\n".join(lines)


def test_wire_percent_encoded_nul_and_invalid_utf8(wire_server: RunningServer) -> None:
    status, body = exchange(wire_server, get(b"/echo/%00%FF%fe/..//x?a=%FF&b=%zz&c=%C3%A9"))
    assert status == 200
    data = json.loads(body)
    assert data["path_params"] == {"rest": "\x00\ufffd\ufffd/..//x"}
    assert data["query"] == [["a", "\ufffd"], ["b", "%zz"], ["c", "é"]]


def test_wire_unparseable_host_headers(wire_server: RunningServer) -> None:
    server_address = f"http://127.0.0.1:{wire_server.port}"
    for host in [b"[::1", b"example.com:abc", b"example.com:70000", b"[::1]:x", b"\xff]"]:
        status, body = exchange(wire_server, get(b"/echo/a", b"Host: " + host))
        assert status == 200, host
        data = json.loads(body)
        assert data["url"] == f"{server_address}/echo/a", host
        assert data["url_for"] == f"{server_address}/echo/x", host
    status, body = exchange(wire_server, get(b"/echo/a", b"Host: \xc3\xa9xample.com:8000"))
    assert json.loads(body)["url"] == "http://\xc3\xa9xample.com:8000/echo/a"  # latin-1, kept


def test_wire_large_and_malformed_cookie_headers(wire_server: RunningServer) -> None:
    cookies = b"; ".join(b"c%d=%d" % (index, index) for index in range(1000))
    status, body = exchange(wire_server, get(b"/echo/a", b"Cookie: " + cookies, b"Cookie: \xff\xfe=\x01; ;;=; x"))
    assert status == 200
    assert json.loads(body)["cookies"] == 1002  # 1000, "\xff\xfe", and "" (for the bare "x")


def test_wire_malformed_multipart_bodies_are_400(wire_server: RunningServer) -> None:
    for content_type, body, message in [
        (b"multipart/form-data", END, b"Missing boundary in multipart."),
        (MULTIPART.encode(), part("a", b"1"), b"Malformed multipart body: the body ended before the closing boundary."),
        (
            MULTIPART.encode(),
            b"--B\r\n\r\nv\r\n" + END,
            b'The Content-Disposition header field "name" must be provided.',
        ),
        (MULTIPART.encode(), part("a", b"1") * 1001 + END, b"Too many fields. Maximum number of fields is 1000."),
    ]:
        request = b"\r\n".join(
            [
                b"POST /form HTTP/1.1",
                b"Host: example.com",
                b"Content-Type: " + content_type,
                b"Content-Length: %d" % len(body),
                b"Connection: close",
                b"",
                body,
            ]
        )
        assert exchange(wire_server, request) == (400, message)


def test_wire_static_files_traversal(wire_server: RunningServer) -> None:
    assert exchange(wire_server, get(b"/static/file.txt")) == (200, b"public")
    for target in [
        b"/static/../secret.txt",
        b"/static/..%2fsecret.txt",
        b"/static/..%2Fsecret.txt",
        b"/static/%2e%2e/secret.txt",
        b"/static/..%5csecret.txt",
        b"/static/file.txt%00",
        b"/static/" + b"a" * 5000,
    ]:
        assert exchange(wire_server, get(target)) == (404, b"Not Found"), target


# Catch-all: arbitrary client bytes through a full application never give a server error ----------


async def inspect_everything(request: Request) -> Response:
    url = request.url
    details: list[object] = [
        url.path,
        url.port,
        url.hostname,
        str(request.base_url),
        str(request.url_for("everything")),
    ]
    details += [dict(request.query_params), request.cookies, dict(request.session), request.client]
    async with request.form() as form:
        details.append(len(form))
    request.session["seen"] = True
    return PlainTextResponse(repr(details))


full_app = Starlette(
    routes=[Route("/", inspect_everything, methods=["GET", "POST"], name="everything")],
    middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=["*"]),
        Middleware(CORSMiddleware, allow_origins=["https://a.com"], allow_methods=["*"], allow_headers=["*"]),
        Middleware(SessionMiddleware, secret_key="secret"),
        Middleware(GZipMiddleware, minimum_size=1),
    ],
)

_header_names = st.sampled_from(
    [b"host", b"cookie", b"content-type", b"origin", b"accept-encoding", b"access-control-request-method", b"x"]
)
_content_types = st.sampled_from(
    [
        b"multipart/form-data; boundary=B",
        b"multipart/form-data",
        b"multipart/form-data; boundary=B; charset=",
        b"application/x-www-form-urlencoded",
        b"text/plain",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "OPTIONS"]),
    query_string=st.binary(max_size=40),
    headers=st.lists(st.tuples(_header_names, st.binary(max_size=40)), max_size=6),
    content_type=_content_types,
    body=st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from([part("a", b"1"), part("f", b"x", filename="f"), b"--B", END, b"\r\n", b"%"])).map(
            b"".join
        ),
    ),
)
def test_arbitrary_requests_never_get_a_server_error(
    method: str, query_string: bytes, headers: list[tuple[bytes, bytes]], content_type: bytes, body: bytes
) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("server.local", 80),
        "client": ("1.2.3.4", 5),
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"content-type", content_type), *headers],
    }
    incoming: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(full_app, scope, receive, send)
    assert sent[0]["status"] < 500, sent
    assert sent[0]["status"] in (200, 400, 405), sent
