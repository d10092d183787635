from __future__ import annotations

import sys
import tempfile
import types
from collections.abc import AsyncGenerator, Sequence
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings, strategies as st

from starlette import formparsers
from starlette._header_params import parse_header_params
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import (
    FormMessage,
    FormParser,
    MultiPartException,
    MultiPartParser,
    MultipartPart,
    _user_safe_decode,
)


async def stream_of(*chunks: bytes) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk
    yield b""


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = sorted({min(max(cut, 0), len(data)) for cut in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


# parse_header_params ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("", {})),
        ("Text/HTML", ("text/html", {})),
        (" multipart/form-data ; boundary=abc ", ("multipart/form-data", {"boundary": "abc"})),
        ("a; Charset=UTF-8; BOUNDARY=X", ("a", {"charset": "UTF-8", "boundary": "X"})),
        ('form-data; name="f"; filename="a b.txt"', ("form-data", {"name": "f", "filename": "a b.txt"})),
        ('form-data; name="a;b=c"; x=1', ("form-data", {"name": "a;b=c", "x": "1"})),
        ('form-data; name="say \\"hi\\" \\\\o/"', ("form-data", {"name": 'say "hi" \\o/'})),
        ('form-data; filename="C:\\dir\\a.txt"', ("form-data", {"filename": "C:\\dir\\a.txt"})),
        ("form-data; junk; name=x; =y; name2", ("form-data", {"name": "x"})),
        ("form-data; name=a; name=b", ("form-data", {"name": "b"})),
        ('form-data; name="unterminated; x=1', ("form-data", {"name": '"unterminated', "x": "1"})),
        ("form-data; filename*=UTF-8''na%C3%AFve%20file.txt", ("form-data", {"filename*": "naïve file.txt"})),
        ("form-data; filename*=iso-8859-1'en'%E9t%E9", ("form-data", {"filename*": "été"})),
        ("form-data; filename*=''plain", ("form-data", {"filename*": "plain"})),
        # Undecodable extended values are dropped.
        ("form-data; filename*=UTF-8''%FF", ("form-data", {})),
        ("form-data; filename*=no-such-charset''x", ("form-data", {})),
        ("form-data; filename*=UTF-8'x", ("form-data", {})),
        ("form-data; filename*=x", ("form-data", {})),
    ],
)
def test_parse_header_params(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_header_params(value) == expected


@given(st.text())
def test_parse_header_params_never_raises(value: str) -> None:
    main, params = parse_header_params(value)
    assert main == main.strip().lower()
    assert all(key == key.lower() for key in params)


# FormParser -------------------------------------------------------------------------------


async def parse_urlencoded(*chunks: bytes) -> list[tuple[str, str | UploadFile]]:
    form = await FormParser(Headers(), stream_of(*chunks)).parse()
    assert isinstance(form, FormData)
    return form.multi_items()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", []),
        (b"a=1&b=2", [("a", "1"), ("b", "2")]),
        (b"a=1&a=2", [("a", "1"), ("a", "2")]),
        (b"a&b=c", [("a", ""), ("b", "c")]),
        (b"a=&b", [("a", ""), ("b", "")]),
        (b"&&a=1&&", [("a", "1")]),
        (b"=x&=", [("", "x"), ("", "")]),
        (b"a=b=c", [("a", "b=c")]),
        (b"a=1;b=2", [("a", "1;b=2")]),
        (b"sp+ace=a+b%20c", [("sp ace", "a b c")]),
        (b"plus=%2B&amp=%26&eq=%3D", [("plus", "+"), ("amp", "&"), ("eq", "=")]),
        (b"u=%C3%A9t%C3%A9", [("u", "été")]),
        ("raw=été".encode(), [("raw", "été")]),
        (b"bad=%ZZ%4", [("bad", "%ZZ%4")]),
        (b"latin1=%E9", [("latin1", "\ufffd")]),
    ],
)
async def test_form_parser(body: bytes, expected: list[tuple[str, str]]) -> None:
    assert await parse_urlencoded(body) == expected


@pytest.mark.anyio
async def test_form_parser_fields_split_across_chunks() -> None:
    chunks = [b"fir", b"st=va", b"lue&sec", b"ond", b"=2&", b"&thi", b"rd"]
    assert await parse_urlencoded(*chunks) == [("first", "value"), ("second", "2"), ("third", "")]
    assert await parse_urlencoded(b"a=%C", b"3%A9") == [("a", "é")]


_URLENCODED = st.text(alphabet="ab=&%+2C3A9", max_size=40).map(str.encode)


@pytest.mark.anyio
@settings(max_examples=50)
@given(body=_URLENCODED, cuts=st.lists(st.integers(0, 40), max_size=6))
async def test_form_parser_matches_parse_qsl_however_chunked(body: bytes, cuts: list[int]) -> None:
    expected = parse_qsl(body.decode(), keep_blank_values=True)
    assert await parse_urlencoded(*split_at(body, cuts)) == expected


class RecordingFormParser(FormParser):
    def __init__(self, headers: Headers, stream: AsyncGenerator[bytes, None]) -> None:
        super().__init__(headers, stream)
        self.names: list[bytes] = []

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self.names.append(data[start:end])
        super().on_field_name(data, start, end)


@pytest.mark.anyio
async def test_form_parser_subclass_callbacks_are_called() -> None:
    parser = RecordingFormParser(Headers(), stream_of(b"a=1&&b", b"c=%C3", b"%A9&&d"))
    form = await parser.parse()
    assert form.multi_items() == [("a", "1"), ("bc", "é"), ("d", "")]
    assert parser.names == [b"a", b"bc", b"d"]
    assert parser.messages == []


@pytest.mark.anyio
async def test_form_parser_subclass_callbacks_skip_empty_fields() -> None:
    parser = RecordingFormParser(Headers(), stream_of(b"&a&&b=1&&", b"&&c&"))
    assert (await parser.parse()).multi_items() == [("a", ""), ("b", "1"), ("c", "")]
    assert parser.names == [b"a", b"b", b"c"]


@pytest.mark.anyio
@settings(max_examples=30)
@given(body=_URLENCODED, cuts=st.lists(st.integers(0, 40), max_size=6))
async def test_form_parser_callbacks_give_the_same_result(body: bytes, cuts: list[int]) -> None:
    chunks = split_at(body, cuts)
    direct = await FormParser(Headers(), stream_of(*chunks)).parse()
    via_callbacks = await RecordingFormParser(Headers(), stream_of(*chunks)).parse()
    assert via_callbacks.multi_items() == direct.multi_items()


def test_form_parser_callbacks_record_messages() -> None:
    parser = FormParser(Headers(), stream_of())
    parser.on_field_start()
    parser.on_field_name(b"xnamex", 1, 5)
    parser.on_field_data(b"value", 0, 5)
    parser.on_field_end()
    parser.on_end()
    assert parser.messages == [
        (FormMessage.FIELD_START, b""),
        (FormMessage.FIELD_NAME, b"name"),
        (FormMessage.FIELD_DATA, b"value"),
        (FormMessage.FIELD_END, b""),
        (FormMessage.END, b""),
    ]
    assert parser.headers == Headers()


def test_form_message_values() -> None:
    assert [(member.name, member.value) for member in FormMessage] == [
        ("FIELD_START", 1),
        ("FIELD_NAME", 2),
        ("FIELD_DATA", 3),
        ("FIELD_END", 4),
        ("END", 5),
    ]


# MultiPartParser --------------------------------------------------------------------------


def multipart_body(*parts: tuple[list[str] | list[bytes], bytes], boundary: bytes = b"B") -> bytes:
    body = b""
    for headers, content in parts:
        body += b"--" + boundary + b"\r\n"
        for header in headers:
            body += (header if isinstance(header, bytes) else header.encode()) + b"\r\n"
        body += b"\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def field(name: str, value: bytes) -> tuple[list[str], bytes]:
    return [f'Content-Disposition: form-data; name="{name}"'], value


def upload(name: str, filename: str, content: bytes, content_type: str = "text/plain") -> tuple[list[str], bytes]:
    return [
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"',
        f"Content-Type: {content_type}",
    ], content


def multipart_parser(
    body: bytes | list[bytes], content_type: str = "multipart/form-data; boundary=B", **limits: Any
) -> MultiPartParser:
    chunks = [body] if isinstance(body, bytes) else body
    return MultiPartParser(Headers({"content-type": content_type}), stream_of(*chunks), **limits)


async def parse_multipart(body: bytes | list[bytes], content_type: str = "multipart/form-data; boundary=B") -> FormData:
    return await multipart_parser(body, content_type).parse()


@pytest.mark.anyio
async def test_multipart_fields_and_files() -> None:
    body = multipart_body(
        field("name", b"value"),
        upload("file", "a.txt", b"<contents>"),
        field("name", b"second"),
        upload("file", "b.bin", b"\x00\xff", content_type="application/octet-stream"),
        field("empty", b""),
    )
    form = await parse_multipart(body)
    try:
        assert form.getlist("name") == ["value", "second"]
        assert form["empty"] == ""
        first, second = form.getlist("file")
        assert isinstance(first, UploadFile) and isinstance(second, UploadFile)
        assert (first.filename, first.size, first.content_type) == ("a.txt", 10, "text/plain")
        assert await first.read() == b"<contents>"
        assert (second.filename, second.size, second.content_type) == ("b.bin", 2, "application/octet-stream")
        assert await second.read() == b"\x00\xff"
        assert first.headers.raw == [
            (b"content-disposition", b'form-data; name="file"; filename="a.txt"'),
            (b"content-type", b"text/plain"),
        ]
        assert [key for key, _ in form.multi_items()] == ["name", "file", "name", "file", "empty"]
    finally:
        await form.close()
    assert first.file.closed and second.file.closed


@pytest.mark.anyio
async def test_multipart_empty_file_and_no_content_type() -> None:
    body = multipart_body(([b'Content-Disposition: form-data; name="f"; filename=""'], b""))
    form = await parse_multipart(body)
    upload_file = form["f"]
    assert isinstance(upload_file, UploadFile)
    assert (upload_file.filename, upload_file.size, upload_file.content_type) == ("", 0, None)
    await form.close()


@pytest.mark.anyio
async def test_multipart_empty_body() -> None:
    assert await parse_multipart(b"") == FormData()
    assert await parse_multipart(b"--B--\r\n") == FormData()


@pytest.mark.anyio
async def test_multipart_utf8_names_and_values() -> None:
    body = multipart_body(
        (['Content-Disposition: form-data; name="prénom"'.encode()], "Zoë ✓".encode()),
        (['Content-Disposition: form-data; name="pièce"; filename="résumé.txt"'.encode()], b"x"),
    )
    form = await parse_multipart(body)
    assert form["prénom"] == "Zoë ✓"
    upload_file = form["pièce"]
    assert isinstance(upload_file, UploadFile)
    assert upload_file.filename == "résumé.txt"
    await form.close()


@pytest.mark.anyio
async def test_multipart_undecodable_bytes_fall_back_to_latin_1() -> None:
    body = multipart_body(([b'Content-Disposition: form-data; name="n\xe9"'], b"caf\xe9"))
    form = await parse_multipart(body)
    assert form.multi_items() == [("n\xe9", "caf\xe9")]


@pytest.mark.anyio
async def test_multipart_charset_of_the_content_type() -> None:
    body = multipart_body(([b'Content-Disposition: form-data; name="n\xe9"'], b"caf\xe9"))
    form = await parse_multipart(body, "multipart/form-data; charset=iso-8859-15; boundary=B")
    assert form.multi_items() == [("né", "café")]
    # An unknown charset makes the body malformed.
    body = multipart_body(field("n", "é".encode()))
    with pytest.raises(MultiPartException, match="^Invalid charset in multipart: 'nonsense'.$"):
        await parse_multipart(body, "multipart/form-data; charset=nonsense; boundary=B")


@pytest.mark.anyio
async def test_multipart_charset_field_applies_to_the_following_fields() -> None:
    body = multipart_body(
        field("before", "é".encode()),
        field("_charset_", b" windows-1252 "),
        field("after", b"\x80 caf\xe9"),
        field("also", b"\xe9"),
    )
    form = await parse_multipart(body)
    assert form.multi_items() == [("before", "é"), ("_charset_", " windows-1252 "), ("after", "€ café"), ("also", "é")]
    body = multipart_body(field("_charset_", b"bogus"), field("after", "é".encode()))
    with pytest.raises(MultiPartException, match="^Invalid charset in multipart: 'bogus'.$"):
        await parse_multipart(body)


@pytest.mark.anyio
async def test_multipart_quoted_and_unquoted_parameters() -> None:
    body = multipart_body(
        ([b"content-disposition: form-data; name=plain"], b"1"),
        ([b'CONTENT-DISPOSITION: form-data; name="q\\"uo;te"'], b"2"),
    )
    assert (await parse_multipart(body)).multi_items() == [("plain", "1"), ('q"uo;te', "2")]


@pytest.mark.anyio
async def test_multipart_filename_star() -> None:
    body = multipart_body(
        ([b"Content-Disposition: form-data; name=\"a\"; filename*=UTF-8''%E2%82%AC%20rates.txt"], b"x"),
        # `filename` is authoritative when both are given (RFC 7578).
        ([b'Content-Disposition: form-data; name="b"; filename="plain.txt"; filename*=UTF-8\'\'other.txt'], b"y"),
        # An undecodable `filename*` alone does not make the part a file.
        ([b"Content-Disposition: form-data; name=\"c\"; filename*=UTF-8''%FF"], b"z"),
    )
    form = await parse_multipart(body)
    a, b = form["a"], form["b"]
    assert isinstance(a, UploadFile) and isinstance(b, UploadFile)
    assert (a.filename, b.filename) == ("€ rates.txt", "plain.txt")
    assert form["c"] == "z"
    await form.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        # Quoted backslashes are unescaped first: four of them make the two of a UNC path.
        ("\\\\\\\\server\\share\\doc.txt", "doc.txt"),
        ("\\\\server\\doc.txt", "\\server\\doc.txt"),
        ("dir/name.txt", "dir/name.txt"),
        ("back\\slash.txt", "back\\slash.txt"),
    ],
)
async def test_multipart_windows_paths_keep_the_file_name(filename: str, expected: str) -> None:
    form = await parse_multipart(multipart_body(upload("f", filename, b"")))
    upload_file = form["f"]
    assert isinstance(upload_file, UploadFile)
    assert upload_file.filename == expected
    await form.close()


@pytest.mark.anyio
async def test_multipart_large_file_is_spooled_to_disk() -> None:
    class SmallSpoolParser(MultiPartParser):
        spool_max_size = 16

    content = bytes(range(256)) * 40
    chunks = split_at(multipart_body(upload("f", "big.bin", content)), range(0, 20000, 1000))
    parser = SmallSpoolParser(Headers({"content-type": "multipart/form-data; boundary=B"}), stream_of(*chunks))
    form = await parser.parse()
    upload_file = form["f"]
    assert isinstance(upload_file, UploadFile)
    assert upload_file.file._rolled  # type: ignore[attr-defined]  # SpooledTemporaryFile internals
    assert upload_file.size == len(content)
    assert await upload_file.read() == content
    await form.close()
    assert upload_file.file.closed


@pytest.mark.anyio
async def test_multipart_file_data_is_written_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each write to a file on disk is a hop to a worker thread: small chunks are gathered into
    # writes of at least 256 KiB (but a part that ends is written at once).
    writes: list[tuple[int, int]] = []

    class CountingFile(tempfile.SpooledTemporaryFile[bytes]):
        def write(self, s: Any) -> int:
            writes.append((id(self), len(s)))
            return super().write(s)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", CountingFile)
    content = bytes(range(256)) * 4096
    body = multipart_body(upload("f", "a.bin", content), upload("g", "b.bin", b"small"), upload("h", "c", b"x"))
    form = await parse_multipart(split_at(body, range(0, len(body), 4096)))
    f, g, h = form["f"], form["g"], form["h"]
    assert isinstance(f, UploadFile) and isinstance(g, UploadFile) and isinstance(h, UploadFile)
    assert (await f.read(), await g.read(), await h.read()) == (content, b"small", b"x")
    big = [size for file_id, size in writes if file_id == id(f.file)]
    assert sum(big) == len(content)
    assert len(big) <= 5
    assert min(big[:-1]) >= 256 * 1024
    assert writes[-2:] == [(id(g.file), 5), (id(h.file), 1)]
    await form.close()


@pytest.mark.anyio
async def test_multipart_small_file_stays_in_memory() -> None:
    form = await parse_multipart(multipart_body(upload("f", "small.txt", b"tiny")))
    upload_file = form["f"]
    assert isinstance(upload_file, UploadFile)
    assert not upload_file.file._rolled  # type: ignore[attr-defined]  # SpooledTemporaryFile internals
    await form.close()


_PARTS = st.lists(
    st.one_of(
        st.tuples(st.just("field"), st.binary(max_size=30)),
        st.tuples(st.just("file"), st.binary(max_size=30)),
    ),
    max_size=4,
)


@pytest.mark.anyio
@settings(max_examples=50)
@given(parts=_PARTS, cuts=st.lists(st.integers(0, 400), max_size=8))
async def test_multipart_result_does_not_depend_on_chunking(parts: list[tuple[str, bytes]], cuts: list[int]) -> None:
    body = multipart_body(
        *[
            field(f"n{index}", content) if kind == "field" else upload(f"n{index}", f"{index}.bin", content)
            for index, (kind, content) in enumerate(parts)
        ]
    )
    form = await parse_multipart(split_at(body, cuts))
    try:
        assert [name for name, _ in form.multi_items()] == [f"n{index}" for index in range(len(parts))]
        for (kind, content), (name, value) in zip(parts, form.multi_items(), strict=True):
            if kind == "file":
                assert isinstance(value, UploadFile)
                assert value.filename == name[1:] + ".bin"
                assert value.size == len(content)
                assert await value.read() == content
            else:
                assert value == _user_safe_decode(content, "utf-8")
    finally:
        await form.close()


@pytest.mark.anyio
async def test_multipart_missing_boundary() -> None:
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; charset=utf-8"):
        with pytest.raises(MultiPartException) as exc_info:
            await parse_multipart(multipart_body(field("a", b"1")), content_type)
        assert exc_info.value.message == "Missing boundary in multipart."


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [
        [b"Content-Disposition: form-data"],
        [b"Content-Disposition: form-data; filename=x.txt"],
        [b"Content-Type: text/plain"],
        [],
    ],
)
async def test_multipart_part_without_a_name(headers: list[bytes]) -> None:
    with pytest.raises(MultiPartException) as exc_info:
        await parse_multipart(multipart_body((headers, b"data")))
    assert exc_info.value.message == 'The Content-Disposition header field "name" must be provided.'


def _opened_files(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every temporary file the parser creates."""
    created: list[Any] = []
    original = tempfile.SpooledTemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        created.append(original(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", spy)
    return created


@pytest.mark.anyio
async def test_multipart_too_many_files(monkeypatch: pytest.MonkeyPatch) -> None:
    created = _opened_files(monkeypatch)
    body = multipart_body(*[upload(f"f{index}", f"{index}.txt", b"x") for index in range(3)])
    with pytest.raises(MultiPartException) as exc_info:
        await multipart_parser(body, max_files=2).parse()
    assert exc_info.value.message == "Too many files. Maximum number of files is 2."
    assert len(created) == 2
    assert all(file.closed for file in created)


@pytest.mark.anyio
async def test_multipart_too_many_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    created = _opened_files(monkeypatch)
    body = multipart_body(upload("f", "a.txt", b"x"), *[field(f"f{index}", b"x") for index in range(3)])
    with pytest.raises(MultiPartException) as exc_info:
        await multipart_parser(body, max_fields=2).parse()
    assert exc_info.value.message == "Too many fields. Maximum number of fields is 2."
    assert len(created) == 1
    assert created[0].closed


@pytest.mark.anyio
async def test_multipart_limits_count_files_and_fields_separately() -> None:
    body = multipart_body(upload("a", "a.txt", b"x"), field("b", b"y"), upload("c", "c.txt", b"z"), field("d", b"w"))
    form = await multipart_parser(body, max_files=2, max_fields=2).parse()
    assert [name for name, _ in form.multi_items()] == ["a", "b", "c", "d"]
    await form.close()


@pytest.mark.anyio
async def test_multipart_part_size_limit_applies_to_fields_only(monkeypatch: pytest.MonkeyPatch) -> None:
    created = _opened_files(monkeypatch)
    body = multipart_body(upload("file", "big.txt", b"x" * 5000), field("ok", b"y" * 2048), field("big", b"y" * 2049))
    parser = multipart_parser(split_at(body, range(0, 10000, 100)), max_part_size=2048)
    assert parser.max_part_size == 2048
    with pytest.raises(MultiPartException) as exc_info:
        await parser.parse()
    assert exc_info.value.message == "Part exceeded maximum size of 2KB."
    assert len(created) == 1
    assert created[0].closed


@pytest.mark.anyio
async def test_multipart_default_limits() -> None:
    parser = multipart_parser(b"")
    assert (parser.max_files, parser.max_fields, parser.max_part_size) == (1000, 1000, 1024 * 1024)
    assert MultiPartParser.spool_max_size == 1024 * 1024
    assert MultiPartParser.max_part_size == 1024 * 1024
    with pytest.raises(MultiPartException, match="Maximum number of fields is 1000"):
        await multipart_parser(multipart_body(*[field("f", b"") for _ in range(1001)])).parse()
    with pytest.raises(MultiPartException, match="Part exceeded maximum size of 1024KB"):
        await multipart_parser(multipart_body(field("f", b"x" * (1024 * 1024 + 1)))).parse()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b"garbage",
        b"--B\r\nBad Header Line\r\n\r\nx\r\n--B--\r\n",
        b"--X\r\n",
    ],
)
async def test_multipart_malformed_body(body: bytes) -> None:
    with pytest.raises(MultiPartException, match="Malformed multipart body"):
        await parse_multipart(body)


@pytest.mark.anyio
async def test_multipart_boundary_too_long() -> None:
    content_type = "multipart/form-data; boundary=" + "b" * 1000
    with pytest.raises(MultiPartException, match="Malformed multipart body"):
        await parse_multipart(b"", content_type)


@pytest.mark.anyio
async def test_multipart_malformed_after_a_file_closes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    created = _opened_files(monkeypatch)
    body = multipart_body(upload("f", "a.txt", b"x")).replace(b"--B--", b"--B\r\nbroken header\r\n\r\n")
    with pytest.raises(MultiPartException):
        await parse_multipart(body)
    assert len(created) == 1
    assert created[0].closed


@pytest.mark.anyio
async def test_multipart_truncated_body_is_malformed_and_closes_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    # A body cut before its closing delimiter is rejected (see also tests/test_robustness.py).
    created = _opened_files(monkeypatch)
    complete = multipart_body(field("a", b"1"), upload("f", "a.txt", b"first"), upload("g", "b.txt", b"second"))
    truncated = complete[: complete.index(b"second") + 3]
    with pytest.raises(MultiPartException, match="the body ended before the closing boundary"):
        await parse_multipart(truncated)
    assert len(created) == 2
    assert all(file.closed for file in created)


@pytest.mark.anyio
async def test_multipart_stream_error_closes_the_files(monkeypatch: pytest.MonkeyPatch) -> None:
    created = _opened_files(monkeypatch)

    async def failing_stream() -> AsyncGenerator[bytes, None]:
        yield multipart_body(upload("f", "a.txt", b"x"))[:-10]
        raise OSError("connection lost")

    parser = MultiPartParser(Headers({"content-type": "multipart/form-data; boundary=B"}), failing_stream())
    with pytest.raises(OSError, match="connection lost"):
        await parser.parse()
    assert len(created) == 1
    assert created[0].closed


@pytest.mark.anyio
async def test_multipart_parser_closes_a_stream_it_stops_reading() -> None:
    closed = False

    async def endless() -> AsyncGenerator[bytes, None]:
        nonlocal closed
        try:
            while True:
                yield b"garbage"
        finally:
            closed = True

    parser = MultiPartParser(Headers({"content-type": "multipart/form-data; boundary=B"}), endless())
    with pytest.raises(MultiPartException):
        await parser.parse()
    assert closed


def test_multipart_callbacks_build_parts() -> None:
    parser = multipart_parser(b"")
    parser.on_part_begin()
    parser.on_header_field(b"Content-Dispo", 0, 13)
    parser.on_header_field(b"sition", 0, 6)
    parser.on_header_value(b'form-data; name="x"', 0, 19)
    parser.on_header_end()
    parser.on_headers_finished()
    parser.on_part_data(b"abcdef", 1, 4)
    parser.on_part_end()
    parser.on_end()
    assert parser.items == [("x", "bcd")]
    assert parser.headers["content-type"] == "multipart/form-data; boundary=B"


def test_multipart_part_defaults() -> None:
    part = MultipartPart()
    assert part == MultipartPart(None, "", bytearray(), None, [])
    assert part.data is not MultipartPart().data
    assert part.item_headers is not MultipartPart().item_headers


def test_multipart_exception_message() -> None:
    exc = MultiPartException("nope")
    assert exc.message == "nope"
    assert str(exc) == "nope"


def test_user_safe_decode() -> None:
    assert _user_safe_decode("ężć".encode(), "utf-8") == "ężć"
    assert _user_safe_decode(b"\xe9", "utf-8") == "\xe9"
    assert _user_safe_decode(b"abc", "no-such-codec") == "abc"
    assert _user_safe_decode(bytearray(b"\xe9"), "latin-1") == "é"


# The python-multipart dependency ----------------------------------------------------------


def test_multipart_parser_requires_python_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formparsers, "multipart", None)
    with pytest.raises(AssertionError, match="The `python-multipart` library must be installed to use form parsing."):
        multipart_parser(b"")


@pytest.mark.anyio
async def test_urlencoded_forms_do_not_need_python_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formparsers, "multipart", None)
    assert await parse_urlencoded(b"a=1") == [("a", "1")]


def _fake_package(monkeypatch: pytest.MonkeyPatch, name: str, submodules: Sequence[str]) -> type[Exception]:
    error = type("FormParserError", (ValueError,), {})
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    for submodule in submodules:
        module = types.ModuleType(f"{name}.{submodule}")
        module.FormParserError = error  # type: ignore[attr-defined]  # a stand-in module
        monkeypatch.setitem(sys.modules, f"{name}.{submodule}", module)
    return error


def test_import_multipart_prefers_python_multipart() -> None:
    import python_multipart
    from python_multipart.exceptions import FormParserError

    assert formparsers._import_multipart() == (python_multipart, FormParserError)


def test_import_multipart_falls_back_to_the_old_import_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "python_multipart", None)
    error = _fake_package(monkeypatch, "multipart", ["multipart", "exceptions"])
    module, found_error = formparsers._import_multipart()
    assert module is sys.modules["multipart"]
    assert found_error is error


def test_import_multipart_ignores_the_unrelated_multipart_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "python_multipart", None)
    _fake_package(monkeypatch, "multipart", [])
    assert formparsers._import_multipart() == (None, ValueError)
