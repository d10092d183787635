"""`UploadFile`, `FormData.close()` and `Request.form()` (cached, closable), on both anyio
backends: in-memory file operations run inline, anything that may touch the disk runs in a
worker thread."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO, cast

import pytest

from starlette.applications import Starlette
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message
from tests.types import TestClientFactory


class ThreadRecordingFile(SpooledTemporaryFile[bytes]):
    """A spooled file that records, for each operation, whether it ran in the calling thread."""

    def __init__(self, max_size: int) -> None:
        super().__init__(max_size=max_size)
        self.caller = threading.get_ident()
        self.calls: list[tuple[str, bool]] = []

    def _record(self, name: str) -> None:
        self.calls.append((name, threading.get_ident() == self.caller))

    def write(self, s: Any) -> int:
        self._record("write")
        return super().write(s)

    def read(self, *args: Any) -> bytes:
        self._record("read")
        return super().read(*args)

    def seek(self, *args: Any) -> int:
        self._record("seek")
        return super().seek(*args)

    def close(self) -> None:
        self._record("close")
        super().close()


@pytest.fixture
def spooled() -> Iterator[ThreadRecordingFile]:
    file = ThreadRecordingFile(max_size=10)
    yield file
    file.close()


def binary(file: Any) -> BinaryIO:
    return cast(BinaryIO, file)


# UploadFile -------------------------------------------------------------------------------


def test_upload_file_attributes() -> None:
    with io.BytesIO(b"abc") as file:
        headers = Headers(raw=[(b"content-disposition", b'form-data; name="f"'), (b"content-type", b"image/png")])
        upload = UploadFile(file, size=3, filename="a.png", headers=headers)
        assert (upload.file, upload.size, upload.filename, upload.headers) == (file, 3, "a.png", headers)
        assert upload.content_type == "image/png"
        assert repr(upload) == (
            "UploadFile(filename='a.png', size=3, headers=Headers({'content-disposition': 'form-data; name=\"f\"', "
            "'content-type': 'image/png'}))"
        )
        bare = UploadFile(file)
        assert (bare.size, bare.filename, bare.content_type) == (None, None, None)
        assert bare.headers == Headers()
        assert UploadFile(file, headers=Headers({"Content-Type": "text/csv"})).content_type == "text/csv"


def test_upload_file_arguments_after_the_file_are_keyword_only() -> None:
    with io.BytesIO() as file, pytest.raises(TypeError):
        UploadFile(file, 3)  # type: ignore[call-arg]  # what is being tested


@pytest.mark.anyio
async def test_upload_file_in_memory_operations_run_inline(spooled: ThreadRecordingFile) -> None:
    upload = UploadFile(binary(spooled), size=0)
    await upload.write(b"hello")
    await upload.write(b"world")  # exactly max_size: still in memory
    assert upload.size == 10
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b"world"
    assert await upload.read() == b""
    await upload.seek(3)
    assert await upload.read(4) == b"lowo"
    await upload.close()
    assert spooled.closed
    assert spooled.calls == [
        ("write", True),
        ("write", True),
        ("seek", True),
        ("read", True),
        ("read", True),
        ("read", True),
        ("seek", True),
        ("read", True),
        ("close", True),
    ]


@pytest.mark.anyio
async def test_upload_file_operations_that_may_touch_the_disk_run_in_a_thread(spooled: ThreadRecordingFile) -> None:
    upload = UploadFile(binary(spooled), size=0)
    await upload.write(b"0123456789")
    await upload.write(b"!")  # rolls over to disk
    assert getattr(spooled, "_rolled") is True  # noqa: B009  # SpooledTemporaryFile internals
    await upload.write(b"more")
    await upload.seek(0)
    assert await upload.read(3) == b"012"
    assert await upload.read() == b"3456789!more"
    assert upload.size == 15
    await upload.close()
    assert spooled.closed
    # The write that rolls the file over, and everything after it, runs in a worker thread.
    assert spooled.calls == [
        ("write", True),
        ("write", False),
        ("write", False),
        ("seek", False),
        ("read", False),
        ("read", False),
        ("close", False),
    ]


@pytest.mark.anyio
async def test_upload_file_unknown_size_stays_unknown(spooled: ThreadRecordingFile) -> None:
    upload = UploadFile(binary(spooled))
    await upload.write(b"abc")
    await upload.write(b"0123456789")  # rolls over
    assert upload.size is None
    await upload.seek(0)
    assert await upload.read() == b"abc0123456789"


@pytest.mark.anyio
async def test_upload_file_over_an_unbounded_spooled_file_stays_inline() -> None:
    with ThreadRecordingFile(max_size=0) as file:
        upload = UploadFile(binary(file), size=0)
        await upload.write(b"x" * 100_000)
        assert upload.size == 100_000
        assert file.calls == [("write", True)]


@pytest.mark.anyio
async def test_upload_file_over_any_other_file_uses_threads() -> None:
    threads: list[int] = []

    class Recording(io.BytesIO):
        def write(self, data: Any, /) -> int:
            threads.append(threading.get_ident())
            return super().write(data)

        def close(self) -> None:
            threads.append(threading.get_ident())
            super().close()

    file = Recording()
    upload = UploadFile(file, size=0)
    await upload.write(b"abc")
    await upload.seek(1)
    assert await upload.read() == b"bc"
    await upload.close()
    assert file.closed
    assert len(threads) == 2
    assert threading.get_ident() not in threads


# FormData.close ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_formdata_close_closes_every_file() -> None:
    in_memory = ThreadRecordingFile(max_size=100)
    on_disk = ThreadRecordingFile(max_size=1)
    on_disk.write(b"rolled")
    plain = io.BytesIO()
    form = FormData(
        [
            ("a", UploadFile(binary(in_memory), filename="1")),
            ("text", "value"),
            ("a", UploadFile(binary(on_disk), filename="2")),
            ("b", UploadFile(plain, filename="3")),
        ]
    )
    await form.close()
    assert in_memory.closed and on_disk.closed and plain.closed
    assert in_memory.calls[-1] == ("close", True)
    assert on_disk.calls[-1] == ("close", False)
    await form.close()  # closing twice is harmless
    await FormData().close()
    await FormData(a="1").close()


# Request.form -----------------------------------------------------------------------------

BODY = (
    b"--B\r\n"
    b'Content-Disposition: form-data; name="field"\r\n\r\n'
    b"value\r\n"
    b"--B\r\n"
    b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"X-Extra: 1\r\n\r\n"
    b"file contents\r\n"
    b"--B--\r\n"
)


def make_request(body: bytes = BODY, content_type: bytes = b"multipart/form-data; boundary=B") -> Request:
    messages: list[Message] = [
        {"type": "http.request", "body": body[:7], "more_body": True},
        {"type": "http.request", "body": body[7:]},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type)]}
    return Request(scope, receive)


@pytest.mark.anyio
async def test_request_form_gives_fields_and_upload_files() -> None:
    request = make_request()
    form = await request.form()
    assert form["field"] == "value"
    upload = form["upload"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.content_type, upload.size) == ("a.txt", "text/plain", 13)
    assert upload.headers.raw == [
        (b"content-disposition", b'form-data; name="upload"; filename="a.txt"'),
        (b"content-type", b"text/plain"),
        (b"x-extra", b"1"),
    ]
    assert upload.headers["X-Extra"] == "1"
    # Ready to be read from the start.
    assert await upload.read(4) == b"file"
    await upload.seek(0)
    assert await upload.read() == b"file contents"
    # Writable: appending updates the size.
    await upload.write(b"!")
    assert upload.size == 14
    await upload.seek(0)
    assert await upload.read() == b"file contents!"
    await request.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_request_form_is_cached_whatever_the_limits_of_later_calls() -> None:
    request = make_request()
    form = await request.form(max_files=1, max_fields=1)
    # The form is parsed once: later calls give it back, their limits do not apply.
    assert await request.form(max_files=0, max_fields=0, max_part_size=0) is form
    async with request.form(max_files=0) as same:
        assert same is form
    upload = form["upload"]
    assert isinstance(upload, UploadFile)
    assert upload.file.closed


@pytest.mark.anyio
async def test_request_form_as_a_context_manager_closes_the_files_on_error() -> None:
    request = make_request()
    with pytest.raises(LookupError):
        async with request.form() as form:
            upload = form["upload"]
            assert isinstance(upload, UploadFile)
            assert not upload.file.closed
            raise LookupError
    assert isinstance(upload, UploadFile)
    assert upload.file.closed


@pytest.mark.anyio
async def test_request_form_failure_is_not_cached() -> None:
    request = make_request()
    with pytest.raises(MultiPartException, match="Too many files. Maximum number of files is 0."):
        await request.form(max_files=0)
    # The body was consumed by the failed attempt.
    with pytest.raises(RuntimeError, match="Stream consumed"):
        await request.form()
    await request.close()  # nothing to close


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "body", "items"),
    [
        (b"application/x-www-form-urlencoded", b"a=1&b=%C3%A9", [("a", "1"), ("b", "é")]),
        (b"text/plain", b"a=1", []),
    ],
)
async def test_request_form_of_other_bodies_is_closable(
    content_type: bytes, body: bytes, items: list[tuple[str, str]]
) -> None:
    request = make_request(body, content_type)
    async with request.form() as form:
        assert form.multi_items() == items
    assert await request.form() is form


async def upload_report(request: Request) -> Response:
    async with request.form(max_files=2, max_fields=2, max_part_size=100) as form:
        uploads = [value for value in form.values() if isinstance(value, UploadFile)]
        report: list[dict[str, Any]] = [
            {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": upload.size,
                "headers": dict(upload.headers),
                "content": (await upload.read()).decode(),
            }
            for upload in uploads
        ]
    report.append({"closed": [upload.file.closed for upload in uploads]})
    return JSONResponse(report)


def test_request_form_in_an_application(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", upload_report, methods=["POST"])]))
    response = client.post(
        "/",
        data={"name": "x"},
        files=[("one", ("a.txt", b"first", "text/plain")), ("two", ("b.csv", b"x,y", "text/csv"))],
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "filename": "a.txt",
            "content_type": "text/plain",
            "size": 5,
            "headers": {"content-disposition": 'form-data; name="one"; filename="a.txt"', "content-type": "text/plain"},
            "content": "first",
        },
        {
            "filename": "b.csv",
            "content_type": "text/csv",
            "size": 3,
            "headers": {"content-disposition": 'form-data; name="two"; filename="b.csv"', "content-type": "text/csv"},
            "content": "x,y",
        },
        {"closed": [True, True]},
    ]
    response = client.post("/", files=[("f", ("a", b"1")), ("f", ("b", b"2")), ("f", ("c", b"3"))])
    assert (response.status_code, response.text) == (400, "Too many files. Maximum number of files is 2.")
    response = client.post("/", data={"a": "1", "b": "2", "c": "3"}, files={"f": ("a", b"1")})
    assert (response.status_code, response.text) == (400, "Too many fields. Maximum number of fields is 2.")
    response = client.post("/", data={"a": "x" * 101}, files={"f": ("a", b"1")})
    assert (response.status_code, response.text) == (400, "Part exceeded maximum size of 0KB.")
