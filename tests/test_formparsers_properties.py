"""Property tests of form parsing through a real application: urlencoded and multipart bodies,
generated at random and delivered in random `http.request` chunkings, parse to exactly what
was sent; garbage and mutilated bodies get a 200 or a clear 400, never a 500.

The application is called over raw ASGI, so each generated chunk is exactly one message; every
test runs on both anyio backends.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

from starlette import formparsers
from starlette.applications import Starlette
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import FormParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message
from tests.strategies import (
    TOKEN_CHARS,
    chunkings,
    header_names,
    header_values,
    multipart_boundaries,
    multipart_parts,
    query_items,
)

# What an endpoint reports of a form: `[name, value]` for a field, `[name, {...}]` for a file
# (bytes as latin-1 text, so that the report is JSON).
Report = list[list[Any]]


async def describe_form(request: Request) -> Response:
    limits = {key: int(value) for key, value in request.query_params.items()}
    report: Report = []
    async with request.form(**limits) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                assert value.size == len(content)
                file = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in value.headers.raw],
                    "content": content.decode("latin-1"),
                }
                report.append([name, file])
            else:
                report.append([name, value])
    return JSONResponse(report)


app = Starlette(routes=[Route("/", describe_form, methods=["POST"])])


async def post(content_type: str | None, chunks: list[bytes], query: bytes = b"") -> tuple[int, bytes]:
    """POST `chunks` to the app, one `http.request` message each; the status and body sent back."""
    headers = [] if content_type is None else [(b"content-type", content_type.encode("latin-1"))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("1.2.3.4", 5),
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": query,
        "headers": headers,
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


@contextmanager
def spooled_files() -> Iterator[list[Any]]:
    """Record every temporary file the multipart parser creates (hypothesis tests cannot use
    the function-scoped monkeypatch fixture)."""
    created: list[Any] = []
    original = tempfile.SpooledTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        created.append(original(*args, **kwargs))
        return created[-1]

    with mock.patch.object(formparsers, "SpooledTemporaryFile", spy):
        yield created


# Urlencoded forms -------------------------------------------------------------------------


@st.composite
def urlencoded_forms(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[bytes]]:
    """Items and the chunks of their urlencoded body, a space encoded either way (`+` as HTML
    forms do, `%20` as `quote` does)."""
    items = draw(query_items())
    body = urlencode(items, quote_via=draw(st.sampled_from([quote_plus, quote]))).encode("ascii")
    return items, draw(chunkings(body))


@pytest.mark.anyio
@settings(max_examples=100, deadline=None)
@given(form=urlencoded_forms())
async def test_urlencoded_forms_round_trip_however_chunked(form: tuple[list[tuple[str, str]], list[bytes]]) -> None:
    items, chunks = form
    parsed = await FormParser(Headers(), _stream(chunks)).parse()
    assert parsed.multi_items() == items
    status, response = await post("application/x-www-form-urlencoded", chunks)
    assert status == 200
    assert json.loads(response) == [list(item) for item in items]


async def _stream(chunks: list[bytes]) -> Any:
    for chunk in chunks:
        yield chunk
    yield b""


# Multipart forms --------------------------------------------------------------------------


def _quoted(value: str) -> bytes:
    return b'"' + value.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


def _case(draw: st.DrawFn, name: str) -> bytes:
    return draw(st.sampled_from([name, name.lower(), name.upper()])).encode()


@st.composite
def multipart_forms(draw: st.DrawFn) -> tuple[str, list[bytes], Report]:
    """A multipart form as a client may send it: `(content_type, chunks of the body, expected
    report)`.

    Names and file names are quoted with backslash escapes (or sent as bare tokens when they
    are tokens, or, for file names, as RFC 5987 `filename*`); header names in any case; files
    with or without a Content-Type and with extra headers; an optional final CRLF.
    """
    boundary = draw(multipart_boundaries())
    delimiter = b"--" + boundary.encode()
    parts = draw(multipart_parts())
    body = b""
    expected: Report = []
    for _kind, name, filename, content in parts:
        raw = content.encode() if isinstance(content, str) else content
        assume(delimiter not in raw)  # a part holding its own delimiter ends there
        if name and all(char in TOKEN_CHARS for char in name) and draw(st.booleans()):
            disposition = b"form-data; name=" + name.encode()
        else:
            disposition = b"form-data; name=" + _quoted(name)
        headers: list[tuple[bytes, bytes]] = [(b"content-disposition", b"")]
        if filename is not None:
            windows_path = filename[1:3] == ":\\" or filename[:2] == "\\\\"
            if not windows_path and draw(st.booleans()):
                disposition += b"; filename=" + _quoted(filename)
            else:
                disposition += b"; filename*=UTF-8''" + quote(filename, safe="").encode()
            content_type = draw(st.none() | st.sampled_from(["text/plain", "application/octet-stream", "image/png"]))
            if content_type is not None:
                headers.append((b"content-type", content_type.encode()))
            extra = draw(st.lists(st.tuples(header_names(10), header_values(20)), max_size=3))
            headers += [(b"x-" + key.lower().encode(), value.encode("latin-1")) for key, value in extra]
        headers[0] = (b"content-disposition", disposition)
        body += delimiter + b"\r\n"
        for key, value in headers:
            body += _case(draw, key.decode()) + b":" + draw(st.sampled_from([b"", b" ", b"\t "])) + value + b"\r\n"
        body += b"\r\n" + raw + b"\r\n"
        if filename is None:
            expected.append([name, content])
        else:
            file = {
                "filename": filename,
                "content_type": next((v.decode() for k, v in headers if k == b"content-type"), None),
                "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers],
                "content": raw.decode("latin-1"),
            }
            expected.append([name, file])
    body += delimiter + b"--" + draw(st.sampled_from([b"", b"\r\n"]))
    if draw(st.booleans()) or not boundary.replace("-", "").isalnum():
        content_type = 'multipart/form-data; boundary="' + boundary + '"'
    else:
        content_type = "multipart/form-data; boundary=" + boundary
    return content_type, draw(chunkings(body, max_chunks=20)), expected


@pytest.mark.anyio
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=multipart_forms())
async def test_multipart_forms_round_trip_however_chunked(form: tuple[str, list[bytes], Report]) -> None:
    content_type, chunks, expected = form
    with spooled_files() as files:
        status, response = await post(content_type, chunks)
    assert (status, json.loads(response)) == (200, expected)
    assert all(file.closed for file in files)


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(form=multipart_forms(), spool_max_size=st.integers(1, 64))
async def test_multipart_files_spooled_to_disk_round_trip(
    form: tuple[str, list[bytes], Report], spool_max_size: int
) -> None:
    content_type, chunks, expected = form
    with mock.patch.object(formparsers.MultiPartParser, "spool_max_size", spool_max_size), spooled_files() as files:
        status, response = await post(content_type, chunks)
    assert (status, json.loads(response)) == (200, expected)
    assert all(file.closed for file in files)


@st.composite
def charset_forms(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """A form whose first field is `_charset_`: the charset, the fields after it, the chunks."""
    charset = draw(st.sampled_from(["utf-8", "latin-1", "cp1252", "koi8-r", "iso-8859-7"]))
    text = st.text(st.characters(codec=charset, exclude_characters="\r\n"), max_size=10)
    fields = draw(st.lists(st.tuples(text, text), max_size=4))
    body = b"--B\r\nContent-Disposition: form-data; name=_charset_\r\n\r\n" + charset.encode() + b"\r\n"
    for name, value in fields:
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        disposition = b"form-data; name=" + quoted.encode(charset)
        body += b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value.encode(charset) + b"\r\n"
    body += b"--B--\r\n"
    return charset, fields, draw(chunkings(body))


@pytest.mark.anyio
@settings(max_examples=60, deadline=None)
@given(form=charset_forms())
async def test_multipart_charset_field_decodes_the_following_fields(
    form: tuple[str, list[tuple[str, str]], list[bytes]],
) -> None:
    # A `_charset_` field (HTML: the charset the browser used, always ASCII-compatible) applies
    # to the names and values of the fields after it.
    charset, fields, chunks = form
    status, response = await post("multipart/form-data; boundary=B", chunks)
    assert status == 200
    assert json.loads(response) == [["_charset_", charset], *(list(field) for field in fields)]


# Garbage never gives a 500 ----------------------------------------------------------------

# Every reason a form is refused; the response body is the message.
CLEAR_MESSAGES = (
    "Missing boundary in multipart.",
    "Malformed multipart body: ",
    'The Content-Disposition header field "name" must be provided.',
    "Too many files. Maximum number of files is ",
    "Too many fields. Maximum number of fields is ",
    "Part exceeded maximum size of ",
    "Invalid charset in multipart: ",
)


@st.composite
def mutilated(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` with one to four random edits: cut, inserted, deleted, overwritten or repeated bytes."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        edit = draw(st.sampled_from(["cut", "insert", "delete", "overwrite", "repeat"]))
        if edit == "cut":
            body = body[:at]
        elif edit == "insert":
            noise = draw(
                st.sampled_from([b"\r\n", b"--", b"\r\n--B", b":", b";", b'"', b"\x00"]) | st.binary(max_size=8)
            )
            body = body[:at] + noise + body[at:]
        elif edit == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 8)) :]
        elif edit == "overwrite":
            body = body[:at] + draw(st.binary(min_size=1, max_size=1)) + body[at + 1 :]
        else:
            body = body[:at] + body[at : at + draw(st.integers(1, 40))] * draw(st.integers(2, 4)) + body[at:]
    return body


@st.composite
def garbage_requests(draw: st.DrawFn) -> tuple[str | None, list[bytes], bytes]:
    """A form request gone wrong: a random or mutilated body under some form content type, its
    chunks and a query string of limits for the endpoint."""
    content_type, chunks, _ = draw(multipart_forms())
    body = b"".join(chunks)
    # Unchanged bodies are kept too: under the small limits drawn below, they may be too big.
    kind = draw(st.sampled_from(["mutilated", "random", "other-boundary", "unchanged", "unchanged"]))
    if kind == "mutilated":
        body = draw(mutilated(body))
    elif kind == "random":
        body = draw(st.binary(max_size=200))
    elif kind == "other-boundary":
        content_type = draw(
            st.sampled_from(
                [
                    "multipart/form-data",
                    "multipart/form-data; boundary=",
                    "multipart/form-data; boundary=other",
                    "multipart/form-data; boundary=" + "x" * 300,
                    "multipart/form-data; charset=nonsense; boundary=B",
                    "Multipart/Form-Data; boundary=B; boundary*=UTF-8''%E2%82%AC",
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=latin-1",
                    "text/plain",
                ]
            )
            | st.text(max_size=60).map(
                lambda params: "multipart/form-data;" + params.encode("latin-1", "replace").decode("latin-1")
            )
        )
    limits = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_files": st.integers(0, 3),
                "max_fields": st.integers(0, 3),
                "max_part_size": st.integers(0, 16),
            },
        )
    )
    return content_type, draw(chunkings(body)), urlencode(limits).encode()


@pytest.mark.anyio
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=garbage_requests())
async def test_garbage_bodies_never_give_a_server_error(request: tuple[str | None, list[bytes], bytes]) -> None:
    content_type, chunks, query = request
    with spooled_files() as files:
        status, response = await post(content_type, chunks, query)
    assert status in (200, 400)
    if status == 400:
        reason = next(message for message in CLEAR_MESSAGES if response.decode().startswith(message))
        event("400: " + reason)
    else:
        assert isinstance(json.loads(response), list)
        event("200")
    assert all(file.closed for file in files)
