"""Uploaded files (`UploadFile`) and the form data holding them (`FormData`).

Theory of operation: the multipart parser stores each file in a `SpooledTemporaryFile`, which
stays an in-memory buffer until it grows past its `max_size` and then "rolls over" to a real
file on disk. In-memory operations cannot block, so they run inline (no thread hop, which is
far cheaper); anything that may touch the disk, including a write that would trigger the
rollover, runs in the thread pool. Any other file object is treated as on-disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import BinaryIO

from starlette._headers import Headers
from starlette._multidict import ImmutableMultiDict
from starlette.concurrency import run_in_threadpool


class UploadFile:
    """An uploaded file: a file object plus its `filename`, `size` and part `headers`, with
    async `read`/`write`/`seek`/`close` that do not block the event loop."""

    def __init__(
        self,
        file: BinaryIO,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.filename = filename
        self.file = file
        self.size = size
        self.headers: Headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        """The `Content-Type` of the part, or `None`."""
        return self.headers.get("content-type", None)

    @property
    def _in_memory(self) -> bool:
        # Only a SpooledTemporaryFile that has not rolled over is known to be in memory.
        rolled_to_disk = getattr(self.file, "_rolled", True)
        return not rolled_to_disk

    def _will_roll(self, size_to_add: int) -> bool:
        # Would writing `size_to_add` more bytes make the spooled file roll over to disk?
        max_size: int = getattr(self.file, "_max_size", 0)
        return bool(max_size) and self.file.tell() + size_to_add > max_size

    async def write(self, data: bytes) -> None:
        """Write `data` at the current position (and add its length to `size`, if known)."""
        new_data_len = len(data)
        if self.size is not None:
            self.size += new_data_len

        if self._in_memory and not self._will_roll(new_data_len):
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (everything left by default)."""
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to byte position `offset` from the start."""
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        """Close the underlying file."""
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"


class FormData(ImmutableMultiDict[str, UploadFile | str]):
    """An immutable multidict of parsed form fields: strings and `UploadFile`s."""

    def __init__(
        self,
        *args: FormData | Mapping[str, str | UploadFile] | list[tuple[str, str | UploadFile]],
        **kwargs: str | UploadFile,
    ) -> None:
        super().__init__(*args, **kwargs)

    async def close(self) -> None:
        """Close every `UploadFile` in the form."""
        for _, value in self.multi_items():
            if isinstance(value, UploadFile):
                await value.close()
