"""StaticFiles behind each server: full and partial responses, validators, HTML mode, traversal.

The files are the fixture directory ``static_fixture/public`` next to this module (served at
``/static``, and in HTML mode at ``/site``); ``static_fixture/secret.txt`` sits just outside
it, so a path escaping the directory would serve it. Traversal attempts are judged by what
matters: the secret is never served. A server may refuse such a path itself (400), which is
accepted as well as the app's 404.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import http.client
import random
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
import httpx

from conformance import Session, expect, expect_equal, scenario
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

_FIXTURE = Path(__file__).resolve().parent / "static_fixture"
_PUBLIC = _FIXTURE / "public"
_LETTERS = (_PUBLIC / "letters.txt").read_bytes()
_INDEX = (_PUBLIC / "index.html").read_bytes()
_DOCS_INDEX = (_PUBLIC / "docs" / "index.html").read_bytes()
_NOT_FOUND_PAGE = (_PUBLIC / "404.html").read_bytes()
_SECRET = b"TOP SECRET"
_SIZE = len(_LETTERS)

# Over a MiB: FileResponse sends it in several 64 KiB reads (or one pathsend, where offered).
_LARGE_SIZE = 1024 * 1024 + 123


@functools.cache
def _large_content() -> bytes:
    return random.Random(20251125).randbytes(_LARGE_SIZE)


def _large_directory() -> str:
    """A temporary directory holding large.bin, removed when the process exits."""
    directory = tempfile.mkdtemp(prefix="conformance-static-")
    atexit.register(shutil.rmtree, directory, True)
    Path(directory, "large.bin").write_bytes(_large_content())
    return directory


class _LargeFiles:
    """StaticFiles on the temporary directory, created on the first request in the server process."""

    def __init__(self) -> None:
        self._app: StaticFiles | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = StaticFiles(directory=await anyio.to_thread.run_sync(_large_directory))
        await self._app(scope, receive, send)


_APP = Starlette(
    routes=[
        Mount("/static", StaticFiles(directory=_PUBLIC)),
        Mount("/site", StaticFiles(directory=_PUBLIC, html=True)),
        Mount("/large", _LargeFiles()),
    ]
)


def _get(s: Session, path: str, **headers: str) -> httpx.Response:
    return s.http.get(path, headers={name.replace("_", "-"): value for name, value in headers.items()})


@scenario("framework.static.get", app=_APP)
def _full_get(s: Session) -> None:
    """A file is served whole with its Content-Length and Content-Type, ETag, Last-Modified and
    Accept-Ranges: bytes."""
    response = _get(s, "/static/letters.txt")
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.content, _LETTERS)
    expect_equal("content-length", response.headers.get("content-length"), str(_SIZE))
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("accept-ranges", response.headers.get("accept-ranges"), "bytes")
    expect(response.headers.get("etag", "").endswith('"'), f"no quoted etag: {response.headers.get('etag')}")
    expect("GMT" in response.headers.get("last-modified", ""), "no HTTP-date in last-modified")
    html = _get(s, "/static/index.html")
    expect_equal("html content-type", html.headers.get("content-type"), "text/html; charset=utf-8")
    expect_equal("html body", html.content, _INDEX)


@scenario("framework.static.head", app=_APP)
def _head(s: Session) -> None:
    """HEAD gets the headers of GET (same length and ETag) and no body."""
    full = _get(s, "/static/letters.txt")
    response = s.http.head("/static/letters.txt")
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.content, b"")
    expect_equal("content-length", response.headers.get("content-length"), str(_SIZE))
    expect_equal("etag", response.headers.get("etag"), full.headers.get("etag"))


@scenario("framework.static.encoded_names", app=_APP)
def _encoded_names(s: Session) -> None:
    """Percent-encoded paths are decoded before the file lookup: a space, UTF-8 (non-ASCII)."""
    for name in ("with space.txt", "café.txt"):
        response = s.http.get("/static/" + quote(name))
        expect_equal(f"status of {name}", response.status_code, 200)
        expect_equal(f"body of {name}", response.content, (_PUBLIC / name).read_bytes())


@scenario("framework.static.large_file", app=_APP)
def _large_file(s: Session) -> None:
    """A file of over a MiB arrives whole (length and SHA-256); HEAD gives its length; a range
    across a 64 KiB boundary gets exactly those bytes."""
    content = _large_content()
    response = _get(s, "/large/large.bin")
    expect_equal("status", response.status_code, 200)
    expect_equal("content-length", response.headers.get("content-length"), str(_LARGE_SIZE))
    expect_equal("sha256", hashlib.sha256(response.content).hexdigest(), hashlib.sha256(content).hexdigest())
    head = s.http.head("/large/large.bin")
    expect_equal("HEAD content-length", head.headers.get("content-length"), str(_LARGE_SIZE))
    expect_equal("HEAD body", head.content, b"")
    part = _get(s, "/large/large.bin", range="bytes=65530-65545")
    expect_equal("range status", part.status_code, 206)
    expect_equal("range body", part.content, content[65530:65546])


@scenario("framework.static.if_none_match", app=_APP)
def _if_none_match(s: Session) -> None:
    """If-None-Match listing the current ETag (weak or not, among others) gets 304 without a
    body; another ETag gets the file."""
    etag = _get(s, "/static/letters.txt").headers["etag"]
    for value in (etag, f'"other", W/{etag}'):
        response = _get(s, "/static/letters.txt", if_none_match=value)
        expect_equal(f"status for If-None-Match {value}", response.status_code, 304)
        expect_equal(f"body for If-None-Match {value}", response.content, b"")
        expect_equal(f"etag for If-None-Match {value}", response.headers.get("etag"), etag)
    changed = _get(s, "/static/letters.txt", if_none_match='"not-the-current-one"')
    expect_equal("status for another etag", changed.status_code, 200)
    expect_equal("body for another etag", changed.content, _LETTERS)


@scenario("framework.static.if_modified_since", app=_APP)
def _if_modified_since(s: Session) -> None:
    """If-Modified-Since at the Last-Modified date gets 304; an older date gets the file."""
    last_modified = _get(s, "/static/letters.txt").headers["last-modified"]
    response = _get(s, "/static/letters.txt", if_modified_since=last_modified)
    expect_equal("status", response.status_code, 304)
    expect_equal("body", response.content, b"")
    old = _get(s, "/static/letters.txt", if_modified_since="Thu, 01 Jan 1970 00:00:00 GMT")
    expect_equal("status for an older date", old.status_code, 200)
    expect_equal("body for an older date", old.content, _LETTERS)


@scenario("framework.static.range_single", app=_APP)
def _range_single(s: Session) -> None:
    """A single range (first-last, suffix, open-ended) gets 206 with Content-Range and exactly
    those bytes."""
    cases = {"bytes=2-5": (2, 5), "bytes=-3": (23, 25), "bytes=20-": (20, 25), "bytes=24-99": (24, 25)}
    for header, (first, last) in cases.items():
        response = _get(s, "/static/letters.txt", range=header)
        expect_equal(f"status for {header}", response.status_code, 206)
        expect_equal(f"content-range for {header}", response.headers.get("content-range"), f"bytes {first}-{last}/26")
        expect_equal(f"body for {header}", response.content, _LETTERS[first : last + 1])
        expect_equal(f"content-length for {header}", response.headers.get("content-length"), str(last - first + 1))


def _byteranges(response: httpx.Response) -> list[tuple[str, str, bytes]]:
    """The (Content-Type, Content-Range, data) of each part of a multipart/byteranges body."""
    content_type = response.headers.get("content-type", "")
    expect(content_type.startswith("multipart/byteranges; boundary="), f"content-type {content_type!r}")
    delimiter = b"--" + content_type.partition("boundary=")[2].encode()
    body = response.content
    expect(body.rstrip(b"\r\n").endswith(delimiter + b"--"), f"no closing delimiter at the end of {body!r}")
    parts = []
    for part in body.split(delimiter)[1:-1]:
        # RFC 2046 wants CRLF line ends; a bare LF is tolerated (the letters hold neither).
        head, data = re.split(rb"\r?\n\r?\n", part.strip(b"\r\n"), maxsplit=1)
        lines = (line.partition(b":") for line in re.split(rb"\r?\n", head))
        fields = {name.strip().lower(): value.strip() for name, _, value in lines}
        parts.append((fields[b"content-type"].decode(), fields[b"content-range"].decode(), data))
    return parts


@scenario("framework.static.range_multiple", app=_APP)
def _range_multiple(s: Session) -> None:
    """Several ranges get 206 multipart/byteranges: one part per range, each with its
    Content-Range, and a Content-Length matching the body."""
    response = _get(s, "/static/letters.txt", range="bytes=0-1, 5-7, 24-")
    expect_equal("status", response.status_code, 206)
    expect_equal("content-length", response.headers.get("content-length"), str(len(response.content)))
    text = "text/plain; charset=utf-8"
    expected = [(text, "bytes 0-1/26", b"ab"), (text, "bytes 5-7/26", b"fgh"), (text, "bytes 24-25/26", b"yz")]
    expect_equal("parts", _byteranges(response), expected)


@scenario("framework.static.range_unsatisfiable", app=_APP)
def _range_unsatisfiable(s: Session) -> None:
    """A range past the end of the file gets 416 with Content-Range: bytes */<size>."""
    response = _get(s, "/static/letters.txt", range="bytes=100-200")
    expect_equal("status", response.status_code, 416)
    expect_equal("content-range", response.headers.get("content-range"), f"bytes */{_SIZE}")


@scenario("framework.static.range_if_range", app=_APP)
def _range_if_range(s: Session) -> None:
    """If-Range with the current ETag (or Last-Modified) keeps the range; with a stale one the
    whole file is sent."""
    full = _get(s, "/static/letters.txt")
    for validator in (full.headers["etag"], full.headers["last-modified"]):
        response = _get(s, "/static/letters.txt", range="bytes=0-2", if_range=validator)
        expect_equal(f"status for If-Range {validator}", response.status_code, 206)
        expect_equal(f"body for If-Range {validator}", response.content, b"abc")
    stale = _get(s, "/static/letters.txt", range="bytes=0-2", if_range='"stale"')
    expect_equal("status for a stale If-Range", stale.status_code, 200)
    expect_equal("body for a stale If-Range", stale.content, _LETTERS)


@scenario("framework.static.html_index", app=_APP)
def _html_index(s: Session) -> None:
    """In HTML mode a directory serves its index.html, and a directory path without its
    trailing slash is redirected to it."""
    root = _get(s, "/site/")
    expect_equal("status of /site/", root.status_code, 200)
    expect_equal("body of /site/", root.content, _INDEX)
    expect_equal("content-type of /site/", root.headers.get("content-type"), "text/html; charset=utf-8")
    redirect = _get(s, "/site/docs")
    expect_equal("status of /site/docs", redirect.status_code, 307)
    expect_equal("location of /site/docs", httpx.URL(redirect.headers.get("location", "")).path, "/site/docs/")
    docs = _get(s, "/site/docs/")
    expect_equal("body of /site/docs/", docs.content, _DOCS_INDEX)


@scenario("framework.static.html_404", app=_APP)
def _html_404(s: Session) -> None:
    """In HTML mode a missing file gets 404 with the 404.html page."""
    response = _get(s, "/site/missing.txt")
    expect_equal("status", response.status_code, 404)
    expect_equal("body", response.content, _NOT_FOUND_PAGE)
    expect_equal("content-type", response.headers.get("content-type"), "text/html; charset=utf-8")


@scenario("framework.static.not_found", app=_APP)
def _not_found(s: Session) -> None:
    """Outside HTML mode, a missing file or a directory gets 404 "Not Found"."""
    for path in ("/static/missing.txt", "/static/docs/", "/static/docs"):
        response = _get(s, path)
        expect_equal(f"status of {path}", response.status_code, 404)
        expect_equal(f"body of {path}", response.text, "Not Found")


@scenario("framework.static.method_not_allowed", app=_APP)
def _method_not_allowed(s: Session) -> None:
    """Methods other than GET and HEAD get 405 "Method Not Allowed"."""
    for method in ("POST", "PUT", "DELETE"):
        response = s.http.request(method, "/static/letters.txt")
        expect_equal(f"status of {method}", response.status_code, 405)
        expect_equal(f"body of {method}", response.text, "Method Not Allowed")


_TRAVERSALS = (
    "/static/%2e%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/docs/%2e%2e/%2e%2e/secret.txt",
    "/site/%2e%2e/secret.txt",
    "/static/..%5csecret.txt",
)


@scenario("framework.static.traversal", app=_APP)
def _traversal(s: Session) -> None:
    """Encoded dot segments never reach a file outside the directory: 404 (or the server's own 400)."""
    for path in _TRAVERSALS:
        response = s.http.get(path)
        expect(_SECRET not in response.content, f"{path} served the secret")
        expect(response.status_code in (400, 404), f"{path} answered {response.status_code}")


@scenario("framework.static.traversal_raw", app=_APP)
def _traversal_raw(s: Session) -> None:
    """Literal ".." segments sent as raw bytes (no client normalises them) never reach a file
    outside the directory: 404 (or the server's own 400)."""
    for path in ("/static/../secret.txt", "/static/docs/../../secret.txt", "/site/../secret.txt", *_TRAVERSALS):
        sock = s.connect()
        sock.sendall(s.request_head("GET", path, [("connection", "close")]))
        response = http.client.HTTPResponse(sock, method="GET")
        response.begin()
        body = response.read()
        response.close()
        expect(_SECRET not in body, f"{path} served the secret")
        expect(response.status in (400, 404), f"{path} answered {response.status}")
