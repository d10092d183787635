"""Forms and multipart uploads behind each server (``request.form()``, ``UploadFile``).

The endpoint answers with what it parsed: every field, and for every file its name, type,
size and SHA-256 (and whether it was spooled to disk), so that the check compares contents by
hash. Limits (``max_files``, ``max_fields``, ``max_part_size``) and malformed bodies must give a
400 with the parser's message, never a 500. Malformed bodies are sent with PUT: twisted (under
daphne) parses POSTed multipart bodies itself and answers those it cannot parse with its own
400 before the app sees them; ``request.form()`` does not care about the method.
"""

from __future__ import annotations

import hashlib
from typing import Any

from conformance import Session, expect_equal, scenario
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_MIB = 1024 * 1024
_LARGE = bytes(range(256)) * (5 * _MIB // 256)


async def _describe(request: Request, **limits: int) -> Response:
    items: list[dict[str, Any]] = []
    async with request.form(**limits) as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                items.append(
                    {
                        "name": name,
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": value.size,
                        "sha256": hashlib.sha256(content).hexdigest(),
                        "on_disk": bool(getattr(value.file, "_rolled", False)),
                    }
                )
            else:
                items.append({"name": name, "value": value})
    return JSONResponse(items)


async def _form(request: Request) -> Response:
    return await _describe(request)


async def _one_file(request: Request) -> Response:
    return await _describe(request, max_files=1)


async def _one_field(request: Request) -> Response:
    return await _describe(request, max_fields=1)


async def _small_parts(request: Request) -> Response:
    return await _describe(request, max_part_size=1024)


_APP = Starlette(
    routes=[
        Route("/form", _form, methods=["POST", "PUT"]),
        Route("/one-file", _one_file, methods=["POST"]),
        Route("/one-field", _one_field, methods=["POST"]),
        Route("/small-parts", _small_parts, methods=["POST"]),
    ]
)


def _file(name: str, filename: str, content: bytes, content_type: str, *, on_disk: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "on_disk": on_disk,
    }


@scenario("framework.forms.urlencoded", app=_APP)
def _urlencoded(s: Session) -> None:
    """An application/x-www-form-urlencoded body: fields in order, repeated names kept, "+" and
    percent-escapes decoded, non-ASCII text intact."""
    response = s.http.post(
        "/form",
        content=b"a=1&tag=x&tag=y&text=hello+world%21&name=%C3%A9l%C3%A8ve&empty=",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    expect_equal("status", response.status_code, 200)
    expected = [
        {"name": "a", "value": "1"},
        {"name": "tag", "value": "x"},
        {"name": "tag", "value": "y"},
        {"name": "text", "value": "hello world!"},
        {"name": "name", "value": "élève"},
        {"name": "empty", "value": ""},
    ]
    expect_equal("fields", response.json(), expected)


@scenario("framework.forms.multipart", app=_APP)
def _multipart(s: Session) -> None:
    """A multipart/form-data body with fields and files: fields as text, files with their name
    (non-ASCII included), content type, size and content (by hash)."""
    image = bytes(range(256)) * 64
    response = s.http.post(
        "/form",
        data={"title": "holiday", "note": "ünïcode"},
        files=[
            ("upload", ("notes.txt", b"first file\r\n--not-a-boundary\r\n", "text/plain")),
            ("upload", ("image.bin", image, "application/octet-stream")),
            ("cv", ("résumé 2025.txt", b"\xc3\xa9", "text/plain; charset=utf-8")),
        ],
    )
    expect_equal("status", response.status_code, 200)
    expected = [
        {"name": "title", "value": "holiday"},
        {"name": "note", "value": "ünïcode"},
        _file("upload", "notes.txt", b"first file\r\n--not-a-boundary\r\n", "text/plain"),
        _file("upload", "image.bin", image, "application/octet-stream"),
        _file("cv", "résumé 2025.txt", b"\xc3\xa9", "text/plain; charset=utf-8"),
    ]
    expect_equal("parts", response.json(), expected)


@scenario("framework.forms.large_upload", app=_APP)
def _large_upload(s: Session) -> None:
    """A 5 MiB file arrives whole (same SHA-256), spooled to disk rather than held in memory."""
    response = s.http.post("/form", files={"big": ("big.bin", _LARGE, "application/octet-stream")})
    expect_equal("status", response.status_code, 200)
    expect_equal("parts", response.json(), [_file("big", "big.bin", _LARGE, "application/octet-stream", on_disk=True)])


@scenario("framework.forms.too_many_files", app=_APP)
def _too_many_files(s: Session) -> None:
    """More files than max_files: 400 "Too many files. Maximum number of files is 1."."""
    files = [("f", ("a.txt", b"a", "text/plain")), ("f", ("b.txt", b"b", "text/plain"))]
    response = s.http.post("/one-file", files=files)
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Too many files. Maximum number of files is 1.")
    within = s.http.post("/one-file", files=files[:1])
    expect_equal("status within the limit", within.status_code, 200)


@scenario("framework.forms.too_many_fields", app=_APP)
def _too_many_fields(s: Session) -> None:
    """More multipart fields than max_fields: 400 "Too many fields. Maximum number of fields is 1."."""
    response = s.http.post("/one-field", data={"a": "1", "b": "2"}, files={"f": ("f.txt", b"f", "text/plain")})
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Too many fields. Maximum number of fields is 1.")
    within = s.http.post("/one-field", data={"a": "1"}, files={"f": ("f.txt", b"f", "text/plain")})
    expect_equal("status within the limit", within.status_code, 200)


@scenario("framework.forms.part_too_large", app=_APP)
def _part_too_large(s: Session) -> None:
    """A field larger than max_part_size: 400 "Part exceeded maximum size of 1KB."; files are not
    bound by it."""
    response = s.http.post("/small-parts", data={"big": "x" * 2048}, files={"f": ("f.txt", b"f", "text/plain")})
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Part exceeded maximum size of 1KB.")
    content = b"y" * 4096
    files = s.http.post("/small-parts", files={"f": ("f.txt", content, "text/plain")})
    expect_equal("status for a big file", files.status_code, 200)
    expect_equal("parts for a big file", files.json(), [_file("f", "f.txt", content, "text/plain")])


@scenario("framework.forms.missing_boundary", app=_APP)
def _missing_boundary(s: Session) -> None:
    """multipart/form-data without a boundary parameter: 400 "Missing boundary in multipart."."""
    response = s.http.put("/form", content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Missing boundary in multipart.")


@scenario("framework.forms.malformed", app=_APP)
def _malformed(s: Session) -> None:
    """Malformed multipart bodies (a part without a name, no closing boundary) get 400, not a
    500; a part without a name says so."""
    content_type = {"content-type": "multipart/form-data; boundary=xyz"}
    nameless = b'--xyz\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\ndata\r\n--xyz--\r\n'
    response = s.http.put("/form", content=nameless, headers=content_type)
    expect_equal("status for a part without a name", response.status_code, 400)
    expect_equal(
        "body for a part without a name", response.text, 'The Content-Disposition header field "name" must be provided.'
    )
    truncated = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end'
    response = s.http.put("/form", content=truncated, headers=content_type)
    expect_equal("status for a body without its closing boundary", response.status_code, 400)
