"""Form limits and malformed bodies through a real application (both anyio backends): every
limit of `Request.form()` and every way a multipart body can be malformed gives a 400 whose
body says why, the files created so far being closed; spooling to disk past `spool_max_size`;
and a large upload does not block the event loop.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from starlette import formparsers
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message
from tests.types import TestClientFactory

MULTIPART = "multipart/form-data; boundary=B"
END = b"--B--\r\n"


def field(name: str, value: bytes) -> bytes:
    return b'--B\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value + b"\r\n"


def file(name: str, content: bytes, filename: str = "f.bin") -> bytes:
    disposition = f'form-data; name="{name}"; filename="{filename}"'.encode()
    return b"--B\r\nContent-Disposition: " + disposition + b"\r\nContent-Type: text/plain\r\n\r\n" + content + b"\r\n"


async def describe_form(request: Request) -> Response:
    """Report the form: fields as strings, files as `{filename, size, on_disk, content}`;
    limits come from the query string (`inf` allowed)."""
    limits: dict[str, Any] = {
        key: float(value) if value == "inf" else int(value) for key, value in request.query_params.items()
    }
    report: list[list[Any]] = []
    async with request.form(**limits) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                on_disk = getattr(value.file, "_rolled")  # noqa: B009  # SpooledTemporaryFile internals
                content = (await value.read()).decode("latin-1")
                report.append(
                    [name, {"filename": value.filename, "size": value.size, "on_disk": on_disk, "c": content}]
                )
            else:
                report.append([name, value])
    return JSONResponse(report)


app = Starlette(routes=[Route("/", describe_form, methods=["POST"])])


@pytest.fixture
def spooled_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every temporary file the multipart parser creates; all must be closed at the end."""
    created: list[Any] = []
    original = tempfile.SpooledTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        created.append(original(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", spy)
    yield created
    assert all(created_file.closed for created_file in created)


# Limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "body", "status", "result"),
    [
        # max_files: uploads only, however many fields.
        ("max_files=2", file("a", b"1") + file("b", b"2") + field("c", b"3") * 5, 200, None),
        ("max_files=2", file("a", b"1") * 3, 400, "Too many files. Maximum number of files is 2."),
        ("max_files=0", file("a", b""), 400, "Too many files. Maximum number of files is 0."),
        ("max_files=0", field("a", b"1"), 200, None),
        ("max_files=inf", file("a", b"1") * 3, 200, None),
        # max_fields: non-file parts only, however many files.
        ("max_fields=2", field("a", b"1") * 2 + file("f", b"x") * 5, 200, None),
        ("max_fields=2", field("a", b"1") * 3, 400, "Too many fields. Maximum number of fields is 2."),
        ("max_fields=0", field("a", b""), 400, "Too many fields. Maximum number of fields is 0."),
        ("max_fields=inf", field("a", b"1") * 3, 200, None),
        # max_part_size: the bytes of a non-file part (files are not limited).
        ("max_part_size=2048", field("a", b"x" * 2048) + file("f", b"x" * 5000), 200, None),
        ("max_part_size=2048", field("a", b"x" * 2049), 400, "Part exceeded maximum size of 2KB."),
        ("max_part_size=1000", field("a", b"x" * 1001), 400, "Part exceeded maximum size of 0KB."),
        ("max_part_size=0", field("a", b""), 200, None),
        ("max_part_size=0", field("a", b"x"), 400, "Part exceeded maximum size of 0KB."),
        # The limit is checked on the way, not once the part is complete.
        ("max_part_size=10", field("a", b"x" * 11)[:-2], 400, "Part exceeded maximum size of 0KB."),
        ("max_files=1&max_fields=1&max_part_size=1", field("a", b"1") + file("f", b"long"), 200, None),
    ],
)
def test_limits(
    query: str,
    body: bytes,
    status: int,
    result: str | None,
    test_client_factory: TestClientFactory,
    spooled_files: list[Any],
) -> None:
    client = test_client_factory(app)
    response = client.post("/?" + query, content=body + END, headers={"content-type": MULTIPART})
    assert response.status_code == status
    if result is None:
        assert len(response.json()) == body.count(b"--B\r\n")
    else:
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text == result


def test_default_limits(test_client_factory: TestClientFactory, spooled_files: list[Any]) -> None:
    client = test_client_factory(app)
    headers = {"content-type": MULTIPART}
    for body, message in [
        (field("a", b"") * 1000, None),
        (field("a", b"") * 1001, "Too many fields. Maximum number of fields is 1000."),
        (file("a", b"") * 1000, None),
        (file("a", b"") * 1001, "Too many files. Maximum number of files is 1000."),
        (field("a", b"x" * 1024 * 1024), None),
        (field("a", b"x" * (1024 * 1024 + 1)), "Part exceeded maximum size of 1024KB."),
    ]:
        response = client.post("/", content=body + END, headers=headers)
        if message is None:
            assert response.status_code == 200
        else:
            assert (response.status_code, response.text) == (400, message)
    assert len(spooled_files) == 2000


@pytest.mark.parametrize(
    ("spool_max_size", "size", "on_disk"),
    [(1024 * 1024, 1024 * 1024, False), (1024 * 1024, 1024 * 1024 + 1, True), (10, 10, False), (10, 11, True)],
)
def test_files_roll_over_to_disk_past_spool_max_size(
    spool_max_size: int,
    size: int,
    on_disk: bool,
    test_client_factory: TestClientFactory,
    monkeypatch: pytest.MonkeyPatch,
    spooled_files: list[Any],
) -> None:
    monkeypatch.setattr(MultiPartParser, "spool_max_size", spool_max_size)
    content = (b"0123456789" * (size // 10 + 1))[:size]
    client = test_client_factory(app)
    # Sent in 1000-byte messages: the size is reached across many writes.
    chunks = [content[i : i + 1000] for i in range(0, size, 1000)]
    body = [file("f", b"")[:-2], *chunks, b"\r\n" + END]
    response = client.post("/", content=iter(body), headers={"content-type": MULTIPART})
    assert response.status_code == 200
    expected = {"filename": "f.bin", "size": size, "on_disk": on_disk, "c": content.decode()}
    assert response.json() == [["f", expected]]
    assert [created._max_size for created in spooled_files] == [spool_max_size]


def test_spool_max_size_can_be_set_on_a_subclass() -> None:
    class BigSpool(MultiPartParser):
        spool_max_size = 10 * 1024 * 1024

    assert MultiPartParser.spool_max_size == 1024 * 1024
    assert BigSpool.spool_max_size == 10 * 1024 * 1024


# Malformed bodies -------------------------------------------------------------------------

PART = field("a", b"value")


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        # Missing boundary.
        ("multipart/form-data", PART + END, "Missing boundary in multipart."),
        ("multipart/form-data; charset=utf-8", PART + END, "Missing boundary in multipart."),
        ("multipart/form-data; boundary=", PART + END, "Missing boundary in multipart."),
        ('multipart/form-data; boundary=""', PART + END, "Missing boundary in multipart."),
        # Invalid boundary: too long, or not the one of the body.
        (
            "multipart/form-data; boundary=" + "b" * 257,
            PART + END,
            "Malformed multipart body: Boundary length 257 exceeds maximum of 256",
        ),
        ("multipart/form-data; boundary=other", PART + END, "Malformed multipart body: Expected boundary character"),
        ("multipart/form-data; boundary=Bx", PART + END, "Malformed multipart body: Expected boundary character"),
        (MULTIPART, b"--Bxyz\r\n" + PART[5:] + END, "Malformed multipart body: Did not find CR at end of boundary"),
        (MULTIPART, PART.replace(b"\r\n", b"\n") + END, "Malformed multipart body: Did not find CR at end of boundary"),
        (MULTIPART, b"preamble\r\n" + PART + END, "Malformed multipart body: Expected boundary character"),
        # Truncated body: anywhere before the closing delimiter.
        (MULTIPART, PART[:3], "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, PART[:20], "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, PART[:-4], "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, PART, "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, PART + b"--B", "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, PART + b"--B-", "Malformed multipart body: the body ended before the closing boundary."),
        (MULTIPART, file("f", b"cut")[:-3], "Malformed multipart body: the body ended before the closing boundary."),
        # Bad part headers.
        (MULTIPART, b"--B\r\nno colon here\r\n\r\nx\r\n" + END, "Malformed multipart body: Found invalid character"),
        (MULTIPART, b"--B\r\nA B: c\r\n\r\nx\r\n" + END, "Malformed multipart body: Found invalid character 32"),
        (MULTIPART, b"--B\r\nX\xe9: 1\r\n\r\nx\r\n" + END, "Malformed multipart body: Found invalid character 233"),
        (MULTIPART, b"--B\r\n: x\r\n\r\nx\r\n" + END, "Malformed multipart body: Found 0-length header"),
        (MULTIPART, b"--B\r\nX: a\rb\r\n\r\nx\r\n" + END, "Malformed multipart body: Did not find LF character"),
        (
            MULTIPART,
            b"--B\r\n" + b"X: 1\r\n" * 9 + b"\r\nx\r\n" + END,
            "Malformed multipart body: Maximum header count",
        ),
        (
            MULTIPART,
            b"--B\r\nX: " + b"y" * 5000 + b"\r\n\r\nx\r\n" + END,
            "Malformed multipart body: Maximum header size",
        ),
        (MULTIPART, b"--B\r\n\r\nx\r\n" + END, 'The Content-Disposition header field "name" must be provided.'),
        (MULTIPART, b"--B\r\nX: 1\r\n\r\nx\r\n" + END, 'The Content-Disposition header field "name" must be provided.'),
        (
            MULTIPART,
            b"--B\r\nContent-Disposition: form-data; filename=a.txt\r\n\r\nx\r\n" + END,
            'The Content-Disposition header field "name" must be provided.',
        ),
    ],
)
def test_malformed_bodies_are_bad_requests(
    content_type: str,
    body: bytes,
    message: str,
    test_client_factory: TestClientFactory,
    spooled_files: list[Any],
) -> None:
    client = test_client_factory(app)
    response = client.post("/", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith(message)


def test_malformed_after_files_closes_them(test_client_factory: TestClientFactory, spooled_files: list[Any]) -> None:
    client = test_client_factory(app)
    body = file("a", b"1") + file("b", b"2" * 5000) + b"--B\r\nbad header\r\n\r\n"
    response = client.post("/", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 400
    assert len(spooled_files) == 2  # closed: checked by the fixture


@pytest.mark.parametrize(
    "charset",
    [
        *["nonsense", "", "x" * 1000, "utf\x00-8"],  # unknown
        *["base64", "rot13", "idna", "punycode", "unicode_escape"],  # codecs that are no charsets
        *["utf-16", "utf-32-le", "utf-7", "cp037", "hz"],  # charsets in which no form is sent
    ],
)
def test_an_unusable_charset_is_a_bad_request(charset: str, test_client_factory: TestClientFactory) -> None:
    # An unknown charset, a codec that is no charset, or a charset that does not read ASCII as
    # ASCII (browsers send UTF-8 for UTF-16, and never UTF-7) makes the body malformed: 400, in
    # the Content-Type as in a `_charset_` field.
    client = test_client_factory(app)
    body = field("a", "é".encode()) + field("b", b"\xe9") + END
    expected = f"Invalid charset in multipart: {charset[:40]!r}."
    for content_type in [f'{MULTIPART}; charset="{charset}"', f"{MULTIPART}; charset={charset}"]:
        response = client.post("/", content=body, headers={"content-type": content_type})
        assert (response.status_code, response.text) == (400, expected)
    response = client.post(
        "/", content=field("_charset_", charset.encode()) + body, headers={"content-type": MULTIPART}
    )
    assert (response.status_code, response.text) == (400, expected)


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-15", "cp1252", "koi8-r", "shift_jis", "utf-8"])
def test_a_usable_charset_decodes_the_fields(charset: str, test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    text = "\u0416" if charset in ("koi8-r", "shift_jis", "utf-8") else "\xe9"
    body = field("a", text.encode(charset)) + END
    response = client.post("/", content=body, headers={"content-type": f"{MULTIPART}; charset={charset}"})
    assert (response.status_code, response.json()) == (200, [["a", text]])
    response = client.post(
        "/", content=field("_charset_", charset.encode()) + body, headers={"content-type": MULTIPART}
    )
    assert (response.status_code, response.json()) == (200, [["_charset_", charset], ["a", text]])


def test_urlencoded_bodies_are_never_refused(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    headers = {"content-type": "application/x-www-form-urlencoded; charset=nonsense"}
    response = client.post("/", content=b"a=%zz&%FF=\xff\x00&&=&b", headers=headers)
    assert response.status_code == 200
    assert response.json() == [["a", "%zz"], ["\ufffd", "\ufffd\x00"], ["", ""], ["b", ""]]


# The event loop keeps running while uploads are written to disk ----------------------------


async def call_app(chunks: list[bytes]) -> list[Message]:
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"content-type", MULTIPART.encode())]
    scope = {"type": "http", "method": "POST", "path": "/", "root_path": "", "query_string": b"", "headers": headers}
    await app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_a_large_upload_does_not_block_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Writing to a file that has rolled over to disk may block (a slow disk here: each such write
    # waits until another task of the event loop has run). The parser must make those writes in
    # a worker thread, so that the event loop keeps running: if one ran on the event loop, the
    # other task could not run, and the write would give up waiting after 5 seconds.
    loop_thread = threading.get_ident()
    ticks = 0
    writes: list[tuple[bool, bool, int]] = []  # (went to disk, in the loop thread, ticks seen during it)

    class SlowDisk(tempfile.SpooledTemporaryFile[bytes]):
        def write(self, s: Any) -> int:
            to_disk = self._rolled or self.tell() + len(s) > self._max_size  # type: ignore[attr-defined]
            started = ticks
            if to_disk:
                deadline = time.monotonic() + 5
                while ticks < started + 3 and time.monotonic() < deadline:
                    time.sleep(0.001)
            writes.append((to_disk, threading.get_ident() == loop_thread, ticks - started))
            return super().write(s)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", SlowDisk)
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 300 * 1024)
    content = bytes(range(256)) * 4096  # 1 MiB, in 16 KiB messages
    body = file("f", content) + END
    chunks = [body[i : i + 16384] for i in range(0, len(body), 16384)]
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await anyio.sleep(0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        sent = await call_app(chunks)
        done = True
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"]) == [
        ["f", {"filename": "f.bin", "size": 1 << 20, "on_disk": True, "c": content.decode("latin-1")}]
    ]
    # The first writes fit in memory and run inline; the one that rolls the file over to disk
    # and every later one run in a worker thread while the other task keeps running.
    assert writes[0] == (False, True, 0)
    disk_writes = [write for write in writes if write[0]]
    assert len(disk_writes) >= 3
    assert all(not in_loop_thread and seen >= 3 for _, in_loop_thread, seen in disk_writes)
    assert writes == writes[:1] + disk_writes
