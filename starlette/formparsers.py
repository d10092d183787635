"""Streaming parsers for request bodies sent as forms: `application/x-www-form-urlencoded`
(`FormParser`) and `multipart/form-data` (`MultiPartParser`, built on python-multipart)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import Enum
from itertools import groupby
from operator import itemgetter
from tempfile import SpooledTemporaryFile
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, cast
from urllib.parse import unquote_to_bytes

from starlette._header_params import lookup_charset as _lookup_charset, parse_header_params as _parse_header_params
from starlette.datastructures import FormData, Headers, UploadFile

__all__ = ("FormMessage", "FormParser", "MultiPartException", "MultiPartParser", "MultipartPart")


def _import_multipart() -> tuple[ModuleType | None, type[Exception]]:
    """python-multipart under its import name: `python_multipart` since 0.0.13, `multipart`
    before (a name also taken by an unrelated package, told apart by its `multipart` submodule)."""
    for name in ("python_multipart", "multipart"):
        try:
            module = importlib.import_module(name)
            importlib.import_module(name + ".multipart")
            exceptions = importlib.import_module(name + ".exceptions")
        except ImportError:
            continue
        error: type[Exception] = exceptions.FormParserError
        return module, error
    return None, ValueError


if TYPE_CHECKING:
    import python_multipart as multipart
    from python_multipart.exceptions import FormParserError as _FormParserError
else:
    multipart, _FormParserError = _import_multipart()


# How much file data `MultiPartParser` gathers before writing it (see `_flush_files`).
_FILE_WRITE_SIZE = 256 * 1024


class FormMessage(Enum):
    """The events `FormParser` records while parsing an urlencoded body."""

    FIELD_START = 1
    FIELD_NAME = 2
    FIELD_DATA = 3
    FIELD_END = 4
    END = 5


@dataclass
class MultipartPart:
    """The part of a multipart body being parsed: its headers, then its data (kept in `data`
    for a plain field, written to `file` for an upload)."""

    content_disposition: bytes | None = None
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    item_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class MultiPartException(Exception):
    """A multipart body that cannot be accepted (malformed, or over a limit); `message` says why.
    `Request.form()` turns it into a 400 response inside an application."""

    def __init__(self, message: str) -> None:
        self.message = message


def _user_safe_decode(src: bytes | bytearray, codec: str) -> str:
    """Decode client-provided bytes with `codec`, falling back to latin-1 (which maps every
    byte to a character, so nothing is lost) when they are not valid in it or it is unknown."""
    try:
        return src.decode(codec)
    except (UnicodeError, LookupError):
        return src.decode("latin-1")


_ASCII = bytes(range(128))


def _is_ascii_compatible(codec: str) -> bool:
    """Whether `codec` reads ASCII bytes as ASCII. Form data is always sent in such a charset
    (HTML sends UTF-8 for UTF-16, and never UTF-7): a claim of another one is ignored."""
    try:
        return _ASCII.decode(codec) == _ASCII.decode("ascii")
    except UnicodeError:
        return False


def _decode_urlencoded(raw: bytes) -> str:
    # As browsers encode forms: `+` is a space, `%XX` a byte, and the bytes are UTF-8.
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw.decode("utf-8", "replace")


def _add_fields(data: bytes, items: list[tuple[str, str | UploadFile]]) -> None:
    # `data` holds whole fields only.
    for piece in data.split(b"&"):
        if piece:
            name, _, value = piece.partition(b"=")
            items.append((_decode_urlencoded(name), _decode_urlencoded(value)))


class FormParser:
    """Parses an `application/x-www-form-urlencoded` body into a `FormData` of strings.

    Fields are separated by `&` (empty ones are skipped) and split on their first `=`; a field
    without `=` has an empty value; blank values are kept; names and values are
    percent-decoded (`+` is a space) as UTF-8.
    """

    def __init__(self, headers: Headers, stream: AsyncGenerator[bytes, None]) -> None:
        self.headers = headers
        self.stream = stream
        self.messages: list[tuple[FormMessage, bytes]] = []

    def on_field_start(self) -> None:
        """A field begins."""
        self.messages.append((FormMessage.FIELD_START, b""))

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        """`data[start:end]` is (a piece of) the current field's name."""
        self.messages.append((FormMessage.FIELD_NAME, data[start:end]))

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        """`data[start:end]` is (a piece of) the current field's value."""
        self.messages.append((FormMessage.FIELD_DATA, data[start:end]))

    def on_field_end(self) -> None:
        """The current field is complete."""
        self.messages.append((FormMessage.FIELD_END, b""))

    def on_end(self) -> None:
        """The body is complete."""
        self.messages.append((FormMessage.END, b""))

    def _feed(self, data: bytes) -> None:
        # `data` holds whole fields only: report each to the callbacks.
        start = 0
        length = len(data)
        while start < length:
            end = data.find(b"&", start)
            if end == -1:
                end = length
            if end > start:
                self.on_field_start()
                equals = data.find(b"=", start, end)
                if equals == -1:
                    self.on_field_name(data, start, end)
                else:
                    self.on_field_name(data, start, equals)
                    self.on_field_data(data, equals + 1, end)
                self.on_field_end()
            start = end + 1

    def _collect(self, items: list[tuple[str, str | UploadFile]]) -> None:
        name = value = b""
        for message_type, message_bytes in self.messages:
            if message_type is FormMessage.FIELD_START:
                name = value = b""
            elif message_type is FormMessage.FIELD_NAME:
                name += message_bytes
            elif message_type is FormMessage.FIELD_DATA:
                value += message_bytes
            elif message_type is FormMessage.FIELD_END:
                items.append((_decode_urlencoded(name), _decode_urlencoded(value)))
        self.messages.clear()

    async def parse(self) -> FormData:
        """Read the whole stream and return its fields, in order."""
        items: list[tuple[str, str | UploadFile]] = []
        # Fields go straight to `items` unless a subclass overrides a field callback: then
        # they are reported to the callbacks and read back from `messages`.
        cls = type(self)
        direct = (
            cls.on_field_start is FormParser.on_field_start
            and cls.on_field_name is FormParser.on_field_name
            and cls.on_field_data is FormParser.on_field_data
            and cls.on_field_end is FormParser.on_field_end
        )
        # Theory of operation: a chunk may end in the middle of a field, so everything after
        # its last `&` is held back (as pieces, to stay linear in the body size) until the
        # next `&` or the end of the body; what comes before is made of whole fields.
        pending: list[bytes] = []
        async with aclosing(self.stream) as stream:
            async for chunk in stream:
                cut = chunk.rfind(b"&")
                if cut == -1:
                    if chunk:
                        pending.append(chunk)
                    continue
                pending.append(chunk[:cut])
                self._parse_fields(b"".join(pending), items, direct)
                pending = [chunk[cut + 1 :]]
        final = b"".join(pending)
        if direct:
            _add_fields(final, items)
        else:
            self._feed(final)
        self.on_end()
        self._collect(items)
        return FormData(items)

    def _parse_fields(self, data: bytes, items: list[tuple[str, str | UploadFile]], direct: bool) -> None:
        if direct:
            _add_fields(data, items)
        else:
            self._feed(data)
            self._collect(items)


class MultiPartParser:
    """Parses a `multipart/form-data` body into a `FormData` of strings and `UploadFile`s.

    Parts with a `filename` (or `filename*`) in their Content-Disposition are uploads, spooled
    to a temporary file (in memory up to `spool_max_size` bytes); the others are fields, decoded
    with the charset of the Content-Type (UTF-8 by default, or the value of a `_charset_`
    field for the fields after it), falling back to latin-1 for bytes invalid in it.

    Raises MultiPartException for a malformed body (one that ends before its closing
    delimiter included; an empty body is an empty form), a missing boundary or field name, a
    charset that is unknown or does not read ASCII as ASCII (UTF-16, UTF-7...), more
    than `max_files` uploads or `max_fields` fields, or a field larger than `max_part_size`
    bytes; the files already created are then closed.
    """

    spool_max_size = 1024 * 1024
    """Size above which an uploaded file is moved from memory to disk."""
    max_part_size: int = 1024 * 1024
    """Largest accepted size of a non-file part, in bytes."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> None:
        assert multipart is not None, "The `python-multipart` library must be installed to use form parsing."
        self.headers = headers
        self.stream = stream
        self.max_files = max_files
        self.max_fields = max_fields
        self.max_part_size = max_part_size
        self.items: list[tuple[str, str | UploadFile]] = []
        self._charset = "utf-8"
        self._file_count = 0
        self._field_count = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._current_part = MultipartPart()
        # File data seen by the synchronous parser, written afterwards (see `_flush_files`).
        self._file_data: list[tuple[UploadFile, bytes]] = []
        self._file_data_size = 0
        self._files_done: list[UploadFile] = []
        self._files: list[UploadFile] = []

    def on_part_begin(self) -> None:
        """A part begins."""
        self._current_part = MultipartPart()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        """`data[start:end]` is a piece of the current part's content."""
        part = self._current_part
        if part.file is None:
            if len(part.data) + (end - start) > self.max_part_size:
                raise MultiPartException(f"Part exceeded maximum size of {int(self.max_part_size / 1024)}KB.")
            part.data += data[start:end]
        else:
            self._file_data.append((part.file, data[start:end]))
            self._file_data_size += end - start

    def on_part_end(self) -> None:
        """The current part is complete: add it to the form."""
        part = self._current_part
        if part.file is None:
            value = _user_safe_decode(part.data, self._charset)
            if part.field_name == "_charset_":
                self._use_charset(value)
            self.items.append((part.field_name, value))
        else:
            self._files_done.append(part.file)
            self.items.append((part.field_name, part.file))
        # A fresh part, so that only a part the body left unfinished still holds a file here.
        self._current_part = MultipartPart()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        """`data[start:end]` is a piece of the name of a part header."""
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        """`data[start:end]` is a piece of the value of a part header."""
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        """A part header is complete."""
        name = bytes(self._header_name).lower()
        value = bytes(self._header_value).strip()
        if name == b"content-disposition":
            self._current_part.content_disposition = value
        self._current_part.item_headers.append((name, value))
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        """The headers of the current part are complete: it is a field or a file upload."""
        part = self._current_part
        disposition = (part.content_disposition or b"").decode("latin-1")
        _, params = _parse_header_params(disposition)
        if "name" not in params:
            raise MultiPartException('The Content-Disposition header field "name" must be provided.')
        part.field_name = _user_safe_decode(params["name"].encode("latin-1"), self._charset)
        # RFC 7578 makes `filename` authoritative in form data; `filename*` (RFC 5987) is
        # used only when it is the only one, so that intermediaries reading `filename` and
        # this parser never disagree about the name.
        if "filename" in params:
            filename: str | None = _user_safe_decode(params["filename"].encode("latin-1"), self._charset)
        else:
            filename = params.get("filename*")
        if filename is None:
            self._field_count += 1
            if self._field_count > self.max_fields:
                raise MultiPartException(f"Too many fields. Maximum number of fields is {self.max_fields}.")
            return
        self._file_count += 1
        if self._file_count > self.max_files:
            raise MultiPartException(f"Too many files. Maximum number of files is {self.max_files}.")
        if filename[1:3] == ":\\" or filename[:2] == "\\\\":
            # Old Internet Explorer sends the full Windows path: keep the file name.
            filename = filename.rsplit("\\", 1)[-1]
        upload = UploadFile(
            file=cast(BinaryIO, SpooledTemporaryFile(max_size=self.spool_max_size)),
            size=0,
            filename=filename,
            headers=Headers(raw=part.item_headers),
        )
        self._files.append(upload)
        part.file = upload

    def on_end(self) -> None:
        """The body is complete."""

    def _use_charset(self, charset: str) -> None:
        codec = _lookup_charset(charset.strip())
        if codec is None or not _is_ascii_compatible(codec):
            # Unknown, not a text charset, or not one form data can be sent in (UTF-16, UTF-7...).
            raise MultiPartException(f"Invalid charset in multipart: {charset[:40]!r}.")
        self._charset = codec

    async def parse(self) -> FormData:
        """Read the whole stream and return its fields and files, in order."""
        _, params = _parse_header_params(self.headers.get("content-type", ""))
        self._use_charset(params.get("charset", "utf-8"))
        boundary = params.get("boundary")
        if not boundary:
            raise MultiPartException("Missing boundary in multipart.")
        # A body that stops before its closing delimiter is malformed (its last part may be
        # cut short, later ones missing); only an empty body is an empty form.
        received = ended = False

        def on_end() -> None:
            nonlocal ended
            ended = True
            self.on_end()

        try:
            try:
                parser = multipart.MultipartParser(
                    boundary.encode("latin-1"),
                    {
                        "on_part_begin": self.on_part_begin,
                        "on_part_data": self.on_part_data,
                        "on_part_end": self.on_part_end,
                        "on_header_field": self.on_header_field,
                        "on_header_value": self.on_header_value,
                        "on_header_end": self.on_header_end,
                        "on_headers_finished": self.on_headers_finished,
                        "on_end": on_end,
                    },
                )
                # Closed on exit, so that a parse stopped early does not leave it suspended.
                async with aclosing(self.stream) as stream:
                    async for chunk in stream:
                        if chunk:
                            received = True
                            parser.write(chunk)
                            if self._files_done or self._file_data_size >= _FILE_WRITE_SIZE:
                                await self._flush_files()
                parser.finalize()
                await self._flush_files()
            except _FormParserError as exc:
                raise MultiPartException(f"Malformed multipart body: {exc}")
            if received and not ended:
                raise MultiPartException("Malformed multipart body: the body ended before the closing boundary.")
        except BaseException:
            for upload in self._files:
                upload.file.close()
            raise
        return FormData(self.items)

    async def _flush_files(self) -> None:
        # Theory of operation: the parser's callbacks are synchronous, so file data is written
        # once a chunk has been parsed. Writing to a file that has rolled over to disk is a hop
        # to a worker thread (the event loop must not wait for the disk), which costs far more
        # than the copy: small chunks are therefore gathered, and written once
        # `_FILE_WRITE_SIZE` bytes are pending, a part ends or the body ends.
        if self._file_data:
            for upload, pieces in groupby(self._file_data, key=itemgetter(0)):
                await upload.write(b"".join(piece for _, piece in pieces))
            self._file_data.clear()
            self._file_data_size = 0
        if self._files_done:
            for upload in self._files_done:
                await upload.seek(0)
            self._files_done.clear()
