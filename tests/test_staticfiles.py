from __future__ import annotations

import errno
import os
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from starlette._conditional import etag_matches
from starlette._safe_path import resolve_inside
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Message, Scope
from starlette.websockets import WebSocketDisconnect
from tests.types import TestClientFactory

# --------------------------------------------------------------------------------------------
# Helpers


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def checked(app: StaticFiles) -> bool:
    """`config_checked`, read through a call so that mypy does not narrow it between reads."""
    return app.config_checked


def mounted(app: StaticFiles, at: str = "/") -> Starlette:
    return Starlette(routes=[Mount(at, app=app, name="static")])


def get_scope(path: str = "/", method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "scheme": "http",
        "server": ("testserver", 80),
    }


async def call_app(app: StaticFiles, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}  # pragma: no cover - never read

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.fixture
def example(tmp_path: Path) -> Path:
    write(tmp_path / "example.txt", "<file content>")
    return tmp_path


# --------------------------------------------------------------------------------------------
# Serving files


def test_serves_a_file(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/example.txt")
    assert response.status_code == 200
    assert response.text == "<file content>"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "14"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"] == formatdate((example / "example.txt").stat().st_mtime, usegmt=True)


def test_serves_a_file_standalone_with_str_directory(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(StaticFiles(directory=str(example)))
    response = client.get("/example.txt")
    assert response.status_code == 200
    assert response.text == "<file content>"


def test_serves_nested_files_and_guesses_media_type(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "css" / "site.css", "body {}")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path)))
    response = client.get("/css/site.css")
    assert response.status_code == 200
    assert response.text == "body {}"
    assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_head_sends_headers_only(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.head("/example.txt")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "14"


def test_range_requests_reach_the_file_response(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/example.txt", headers={"Range": "bytes=1-4"})
    assert response.status_code == 206
    assert response.text == "file"
    assert response.headers["content-range"] == "bytes 1-4/14"


def test_head_with_a_range(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.head("/example.txt", headers={"Range": "bytes=1-4"})
    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["content-range"] == "bytes 1-4/14"
    assert response.headers["content-length"] == "4"


def test_multiple_ranges(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/example.txt", headers={"Range": "bytes=1-4, 6-12"})
    assert response.status_code == 206
    content_type, _, boundary = response.headers["content-type"].partition("; boundary=")
    assert content_type == "multipart/byteranges"
    assert response.headers["content-length"] == str(len(response.content))
    body = response.text.lower()  # the part layout itself is FileResponse's business (tests/test_responses.py)
    assert body.count(f"--{boundary}\r\n") == 2
    assert "content-range: bytes 1-4/14\r\n\r\nfile\r\n" in body
    assert "content-range: bytes 6-12/14\r\n\r\ncontent\r\n" in body


def test_unsatisfiable_and_malformed_ranges(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/example.txt", headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */14"
    response = client.get("/example.txt", headers={"Range": "pages=1-2"})
    assert response.status_code == 400


def test_if_range_decides_between_a_range_and_the_whole_file(
    test_client_factory: TestClientFactory, example: Path
) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    first = client.get("/example.txt")
    for validator in (first.headers["etag"], first.headers["last-modified"]):
        response = client.get("/example.txt", headers={"Range": "bytes=1-4", "If-Range": validator})
        assert (response.status_code, response.text) == (206, "file")
    response = client.get("/example.txt", headers={"Range": "bytes=1-4", "If-Range": '"stale"'})
    assert (response.status_code, response.text) == (200, "<file content>")


def test_404_page_ignores_ranges(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "404.html", "custom 404")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path, html=True)))
    response = client.get("/missing", headers={"Range": "bytes=0-1"})
    assert (response.status_code, response.text) == (404, "custom 404")


def test_mounted_under_a_prefix_with_url_for(test_client_factory: TestClientFactory, example: Path) -> None:
    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(request.url_for("static", path="/example.txt")))

    app = Starlette(routes=[Route("/", home), Mount("/static", app=StaticFiles(directory=example), name="static")])
    client = test_client_factory(app)
    assert client.get("/").text == "http://testserver/static/example.txt"
    assert app.url_path_for("static", path="example.txt") == "/static/example.txt"
    assert app.url_path_for("static", path="") == "/static/"
    response = client.get("/static/example.txt")
    assert response.status_code == 200
    assert response.text == "<file content>"
    assert client.get("/example.txt").status_code == 404


def test_mounted_with_a_root_path(test_client_factory: TestClientFactory, example: Path) -> None:
    app = Starlette(routes=[Mount("/static", app=StaticFiles(directory=example))])
    client = test_client_factory(app, root_path="/api")
    response = client.get("/api/static/example.txt")
    assert response.status_code == 200
    assert response.text == "<file content>"


def test_file_response_with_another_status_code(example: Path) -> None:
    app = StaticFiles(directory=example)
    path = str(example / "example.txt")
    response = app.file_response(path, os.stat(path), get_scope(), status_code=203)
    assert isinstance(response, FileResponse)
    assert response.status_code == 203
    assert response.headers["content-length"] == "14"


# --------------------------------------------------------------------------------------------
# Refused methods and misses


def test_other_methods_get_405_inside_an_app(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = client.request(method, "/example.txt")
        assert response.status_code == 405
        assert response.text == "Method Not Allowed"
        assert response.headers["allow"] == "GET, HEAD"


def test_other_methods_raise_http_exception_standalone(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(StaticFiles(directory=example))
    with pytest.raises(HTTPException) as info:
        client.post("/example.txt")
    assert info.value.status_code == 405
    assert info.value.detail == "Method Not Allowed"


def test_missing_file_is_404(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/404.txt")
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_missing_file_raises_standalone(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(StaticFiles(directory=example))
    with pytest.raises(HTTPException) as info:
        client.get("/404.txt")
    assert info.value.status_code == 404
    assert info.value.detail == "Not Found"


def test_directory_is_404_without_html(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "dir" / "index.html", "<h1>index</h1>")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path)))
    assert client.get("/").status_code == 404
    assert client.get("/dir").status_code == 404
    assert client.get("/dir/").status_code == 404


def test_file_used_as_directory_is_404(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    assert client.get("/example.txt/foo").status_code == 404


def test_special_file_is_404(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path)))
    assert client.get("/fifo").status_code == 404


def test_too_long_file_name_is_404(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/" + "x" * 300)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_nul_byte_is_404(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    assert client.get("/example.txt%00").status_code == 404
    assert StaticFiles(directory=example).lookup_path("example.txt\x00") == ("", None)


def test_symlink_loop_is_404(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    os.symlink("loop", tmp_path / "loop")
    for follow in (False, True):
        client = test_client_factory(mounted(StaticFiles(directory=tmp_path, follow_symlink=follow)))
        assert client.get("/loop").status_code == 404


def test_permission_error_is_401(
    test_client_factory: TestClientFactory, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(self: StaticFiles, path: str) -> tuple[str, os.stat_result | None]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(StaticFiles, "lookup_path", forbidden)
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    response = client.get("/example.txt")
    assert response.status_code == 401
    assert response.text == "Unauthorized"


def test_unexpected_os_error_is_a_server_error(
    test_client_factory: TestClientFactory, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def timeout(self: StaticFiles, path: str) -> tuple[str, os.stat_result | None]:
        raise TimeoutError

    monkeypatch.setattr(StaticFiles, "lookup_path", timeout)
    client = test_client_factory(mounted(StaticFiles(directory=example)), raise_server_exceptions=False)
    assert client.get("/example.txt").status_code == 500


def test_websocket_is_refused(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/example.txt"):
            pass  # pragma: no cover - the handshake is refused
    assert info.value.code == 1000


@pytest.mark.anyio
async def test_other_scope_types_are_refused(example: Path) -> None:
    with pytest.raises(AssertionError, match="only serves HTTP"):
        await call_app(StaticFiles(directory=example), {"type": "lifespan"})


# --------------------------------------------------------------------------------------------
# Configuration


def test_missing_directory_is_refused_at_construction(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_directory"
    with pytest.raises(RuntimeError) as info:
        StaticFiles(directory=missing)
    assert str(info.value) == f"Directory '{missing}' does not exist"


def test_directory_checked_on_first_request_without_check_dir(
    test_client_factory: TestClientFactory, tmp_path: Path
) -> None:
    missing = tmp_path / "later"
    app = StaticFiles(directory=missing, check_dir=False)
    assert app.all_directories == [missing]
    client = test_client_factory(app)
    with pytest.raises(RuntimeError) as info:
        client.get("/example.txt")
    assert str(info.value) == f"StaticFiles directory '{missing}' does not exist."
    assert checked(app) is False

    write(missing / "example.txt", "now here")
    assert client.get("/example.txt").text == "now here"
    assert checked(app) is True


def test_missing_directory_inside_an_app_is_a_server_error(
    test_client_factory: TestClientFactory, tmp_path: Path
) -> None:
    app = mounted(StaticFiles(directory=tmp_path / "later", check_dir=False), at="/static")
    client = test_client_factory(app, raise_server_exceptions=False)
    assert client.get("/static/example.txt").status_code == 500
    write(tmp_path / "later" / "example.txt", "created later")
    response = client.get("/static/example.txt")
    assert (response.status_code, response.text) == (200, "created later")


def test_directory_given_with_a_trailing_slash(test_client_factory: TestClientFactory, vault: Path) -> None:
    for follow in (False, True):
        app = StaticFiles(directory=str(vault) + os.sep, follow_symlink=follow)
        client = test_client_factory(mounted(app, at="/static"))
        assert client.get("/static/example.txt").text == "<file content>"
        assert client.get("/static/%2e%2e/static-secret/secret.txt").status_code == 404


def test_directory_that_is_a_file_is_refused_on_first_request(
    test_client_factory: TestClientFactory, example: Path
) -> None:
    path = example / "example.txt"
    app = StaticFiles(directory=path, check_dir=False)
    client = test_client_factory(app)
    with pytest.raises(RuntimeError) as info:
        client.get("/")
    assert str(info.value) == f"StaticFiles path '{path}' is not a directory."


def test_config_is_checked_only_once(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    directory = tmp_path / "static"
    directory.mkdir()
    app = StaticFiles(directory=directory)
    client = test_client_factory(app)
    assert checked(app) is False
    with pytest.raises(HTTPException):
        client.get("/")
    assert checked(app) is True
    directory.rmdir()
    with pytest.raises(HTTPException) as info:  # no RuntimeError: not checked again
        client.get("/")
    assert info.value.status_code == 404


@pytest.mark.anyio
async def test_check_config_without_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_package(tmp_path, "pkg_no_dir", monkeypatch, statics="statics")
    app = StaticFiles(packages=["pkg_no_dir"])
    assert app.directory is None
    await app.check_config()  # nothing to check: packages are checked at construction


def test_attributes(example: Path) -> None:
    app = StaticFiles(directory=example, html=True, follow_symlink=True)
    assert (app.directory, app.packages, app.html, app.follow_symlink) == (example, None, True, True)
    assert app.get_directories() == []
    assert app.get_directories(directory=example) == [example]


# --------------------------------------------------------------------------------------------
# Packages


def make_package(root: Path, name: str, monkeypatch: pytest.MonkeyPatch, statics: str | None = None) -> Path:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    if statics is not None:
        write(package / statics / "example.txt", f"{name}/{statics}")
    monkeypatch.syspath_prepend(str(root))
    return package


def test_package_statics_directory(
    test_client_factory: TestClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = make_package(tmp_path, "pkg_statics", monkeypatch, statics="statics")
    app = StaticFiles(packages=["pkg_statics"])
    assert app.all_directories == [str(package / "statics")]
    client = test_client_factory(mounted(app))
    assert client.get("/example.txt").text == "pkg_statics/statics"


def test_package_with_named_directory(
    test_client_factory: TestClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_package(tmp_path, "pkg_named", monkeypatch, statics="assets")
    client = test_client_factory(mounted(StaticFiles(packages=[("pkg_named", "assets")])))
    assert client.get("/example.txt").text == "pkg_named/assets"


def test_directory_comes_before_packages(
    test_client_factory: TestClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = make_package(tmp_path, "pkg_both", monkeypatch, statics="statics")
    write(package / "statics" / "only-in-package.txt", "package")
    directory = tmp_path / "own"
    write(directory / "example.txt", "directory")
    app = StaticFiles(directory=directory, packages=["pkg_both"])
    assert app.all_directories == [directory, str(package / "statics")]
    client = test_client_factory(mounted(app))
    assert client.get("/example.txt").text == "directory"
    assert client.get("/only-in-package.txt").text == "package"
    assert client.get("/nowhere.txt").status_code == 404


def test_unknown_package_is_refused() -> None:
    with pytest.raises(AssertionError) as info:
        StaticFiles(packages=["no_such_package_anywhere"])
    assert str(info.value) == "Package 'no_such_package_anywhere' could not be found."


def test_namespace_package_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "namespace_pkg" / "statics").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AssertionError) as info:
        StaticFiles(packages=["namespace_pkg"])
    assert str(info.value) == "Package 'namespace_pkg' could not be found."


def test_package_without_the_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_package(tmp_path, "pkg_without", monkeypatch)
    with pytest.raises(AssertionError) as info:
        StaticFiles(packages=["pkg_without"])
    assert str(info.value) == "Directory 'statics' in package 'pkg_without' could not be found."
    with pytest.raises(AssertionError) as info:
        StaticFiles(packages=[("pkg_without", "assets")])
    assert str(info.value) == "Directory 'assets' in package 'pkg_without' could not be found."


# --------------------------------------------------------------------------------------------
# HTML mode


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "index.html", "<h1>Home</h1>")
    write(tmp_path / "dir" / "index.html", "<h1>Dir</h1>")
    write(tmp_path / "empty" / "readme.txt", "no index here")
    write(tmp_path / "hello.html", "<h1>Hello</h1>")
    return tmp_path


def test_html_serves_index_files(test_client_factory: TestClientFactory, site: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True)))
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "<h1>Home</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/dir/").text == "<h1>Dir</h1>"
    assert client.get("/hello.html").text == "<h1>Hello</h1>"


def test_html_redirects_directories_to_a_trailing_slash(test_client_factory: TestClientFactory, site: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True), at="/site"), follow_redirects=False)
    response = client.get("/site/dir?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/site/dir/?x=1"
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True), at="/site"))
    response = client.get("/site/dir")
    assert response.status_code == 200
    assert response.text == "<h1>Dir</h1>"
    assert str(response.url) == "http://testserver/site/dir/"


def test_html_redirects_the_mount_point_and_keeps_the_root_path(
    test_client_factory: TestClientFactory, site: Path
) -> None:
    app = mounted(StaticFiles(directory=site, html=True), at="/site")
    client = test_client_factory(app, follow_redirects=False)
    response = client.get("/site")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/site/"
    client = test_client_factory(app, root_path="/api", follow_redirects=False)
    response = client.get("/api/site/dir")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/site/dir/"
    assert client.get("/api/site/dir/").text == "<h1>Dir</h1>"


def test_html_redirect_quotes_the_location(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "my dir" / "index.html", "spaced")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path, html=True)), follow_redirects=False)
    response = client.get("/my%20dir")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/my%20dir/"
    assert client.get("/my%20dir/").text == "spaced"


def test_html_head_requests(test_client_factory: TestClientFactory, site: Path) -> None:
    write(site / "404.html", "<h1>Custom not found</h1>")
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True)), follow_redirects=False)
    response = client.head("/")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == str(len("<h1>Home</h1>"))
    response = client.head("/missing")
    assert (response.status_code, response.content) == (404, b"")
    assert response.headers["content-length"] == str(len("<h1>Custom not found</h1>"))
    assert client.head("/dir").status_code == 307
    assert client.post("/").status_code == 405


def test_html_mode_with_packages(
    test_client_factory: TestClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = make_package(tmp_path, "pkg_html", monkeypatch, statics="statics")
    write(package / "statics" / "docs" / "index.html", "package docs")
    write(package / "statics" / "404.html", "package 404")
    own = tmp_path / "own"
    write(own / "index.html", "own index")
    client = test_client_factory(mounted(StaticFiles(directory=own, packages=["pkg_html"], html=True)))
    assert client.get("/").text == "own index"
    assert client.get("/docs/").text == "package docs"
    response = client.get("/missing")
    assert (response.status_code, response.text) == (404, "package 404")


def test_html_without_404_page(test_client_factory: TestClientFactory, site: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True)))
    assert client.get("/missing").status_code == 404
    assert client.get("/empty").status_code == 404  # a directory without index.html
    assert client.get("/empty/").status_code == 404
    assert client.get("/hello").status_code == 404  # no extension guessing


def test_html_without_404_page_raises_standalone(test_client_factory: TestClientFactory, site: Path) -> None:
    client = test_client_factory(StaticFiles(directory=site, html=True))
    with pytest.raises(HTTPException) as info:
        client.get("/missing")
    assert info.value.status_code == 404


def test_html_404_page(test_client_factory: TestClientFactory, site: Path) -> None:
    write(site / "404.html", "<h1>Custom not found</h1>")
    client = test_client_factory(StaticFiles(directory=site, html=True))
    for path in ("/missing", "/empty/", "/hello.html/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.text == "<h1>Custom not found</h1>"
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    response = client.get("/missing", headers={"If-None-Match": "*"})  # never turned into a 304
    assert response.status_code == 404


def test_html_404_page_must_be_a_file(test_client_factory: TestClientFactory, site: Path) -> None:
    (site / "404.html").mkdir()
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True)))
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_html_index_must_be_a_file(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    (tmp_path / "dir" / "index.html").mkdir(parents=True)
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path, html=True)))
    assert client.get("/dir/").status_code == 404


def test_html_index_deleted_after_being_served(test_client_factory: TestClientFactory, site: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=site, html=True)))
    assert client.get("/").status_code == 200
    (site / "index.html").unlink()
    assert client.get("/").status_code == 404
    write(site / "404.html", "gone")
    response = client.get("/")
    assert (response.status_code, response.text) == (404, "gone")


# --------------------------------------------------------------------------------------------
# Path traversal and symbolic links


@pytest.mark.anyio
async def test_parent_directory_is_out_of_reach(tmp_path: Path) -> None:
    directory = tmp_path / "foo"
    directory.mkdir()
    write(tmp_path / "example.txt", "secret")
    app = StaticFiles(directory=directory)
    for raw in ("/../example.txt", "/a/../../example.txt", "/..", "//../example.txt"):
        path = app.get_path({"path": raw})
        with pytest.raises(HTTPException) as info:
            await app.get_response(path, {"method": "GET"})
        assert info.value.status_code == 404
        assert info.value.detail == "Not Found"
    assert app.lookup_path("../example.txt") == ("", None)


def test_get_path_normalises_the_route_path(example: Path) -> None:
    app = StaticFiles(directory=example)
    assert app.get_path({"path": "/a/b/../c.txt"}) == os.path.join("a", "c.txt")
    assert app.get_path({"path": "/"}) == "."
    assert app.get_path({"path": "/static/x/y", "root_path": "/static"}) == os.path.join("x", "y")


# Every traversal attempt below runs against this layout, mounted at /static (or standalone):
#   tmp/static/            the served directory (example.txt, 404.html)
#   tmp/secret.txt         a parent's file
#   tmp/static-secret/     a sibling whose name starts with the served directory's name
SECRET = "TOP SECRET"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    write(root / "example.txt", "<file content>")
    write(root / "sub" / "inner.txt", "inner")
    write(root / "404.html", "custom 404")
    write(tmp_path / "secret.txt", SECRET)
    write(tmp_path / "static-secret" / "secret.txt", SECRET)
    return root


TRAVERSAL_URLS = [
    # percent-encoded dots, lower/upper/mixed case, alone or mixed with literal dots
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/%2e%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e./secret.txt",
    "/static/sub/%2e%2e/%2e%2e/secret.txt",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    # percent-encoded slashes, so the client cannot collapse the dot segments
    "/static/..%2fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/sub%2f..%2f..%2fsecret.txt",
    # the sibling directory sharing the name prefix
    "/static/%2e%2e/static-secret/secret.txt",
    "/static/..%2Fstatic-secret%2Fsecret.txt",
    "/static-secret/secret.txt",
    # double encoding: decoded once, it is a file name made of "%2e" text, not a parent
    "/static/%252e%252e/secret.txt",
    "/static/%252e%252e%252fsecret.txt",
    "/static/%25252e%25252e/secret.txt",
    # backslashes are ordinary name characters on POSIX, never separators
    "/static/..\\secret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/..%5c..%5csecret.txt",
    "/static/..%5Cstatic-secret%5Csecret.txt",
    # NUL bytes
    "/static/secret.txt%00",
    "/static/example.txt%00.html",
    "/static/%00%2f..%2fsecret.txt",
    "/static/..%00/secret.txt",
    # absolute paths (encoded "/" so that the client keeps them): {secret} is the full path
    "/static/%2f{secret}",
    "/static/{secret}",
    "/static/%2f%2f{secret}",
]


@pytest.mark.parametrize("html", [False, True], ids=["plain", "html"])
@pytest.mark.parametrize("url", TRAVERSAL_URLS)
def test_traversal_through_the_client_is_404(
    test_client_factory: TestClientFactory, vault: Path, url: str, html: bool
) -> None:
    secret = quote(str(vault.parent / "secret.txt").lstrip("/"), safe="")
    client = test_client_factory(mounted(StaticFiles(directory=vault, html=html), at="/static"))
    response = client.get(url.format(secret=secret))
    assert response.status_code == 404
    assert SECRET not in response.text
    if html and url.startswith("/static/"):
        assert response.text == "custom 404"


def test_the_fixture_secrets_are_reachable_by_honest_paths(test_client_factory: TestClientFactory, vault: Path) -> None:
    # Guards the test above: the same files, served from their own directories, are found.
    client = test_client_factory(mounted(StaticFiles(directory=vault.parent), at="/static"))
    assert client.get("/static/secret.txt").text == SECRET
    assert client.get("/static/static-secret/secret.txt").text == SECRET
    assert client.get(f"/static/{quote(vault.name)}/sub/%2e%2e/example.txt").text == "<file content>"


RAW_TRAVERSAL_PATHS = [
    "/..",
    "/../",
    "/../secret.txt",
    "/../../secret.txt",
    "/./../secret.txt",
    "/sub/../../secret.txt",
    "/sub/../../static-secret/secret.txt",
    "/../static-secret/secret.txt",
    "/../static-secret",
    "/..\\secret.txt",
    "/\\..\\secret.txt",
    "/secret.txt\x00",
    "/\x00/../secret.txt",
    "/../secret.txt\x00",
    "/{secret}",
    "//{secret}",
    "///{secret}",
]


@pytest.mark.anyio
@pytest.mark.parametrize("follow", [False, True], ids=["no-follow", "follow"])
@pytest.mark.parametrize("html", [False, True], ids=["plain", "html"])
@pytest.mark.parametrize("raw", RAW_TRAVERSAL_PATHS)
async def test_traversal_in_the_raw_scope_is_404(vault: Path, raw: str, html: bool, follow: bool) -> None:
    # The scope as any server may build it: "path" already percent-decoded, nothing collapsed.
    app = StaticFiles(directory=vault, html=html, follow_symlink=follow)
    scope = get_scope(raw.format(secret=str(vault.parent / "secret.txt").lstrip("/")))
    if html:
        sent = await call_app(app, scope)
        assert sent[0]["status"] == 404
        assert b"".join(message.get("body", b"") for message in sent[1:]) == b"custom 404"
    else:
        with pytest.raises(HTTPException) as info:
            await call_app(app, scope)
        assert info.value.status_code == 404


def test_double_encoded_dots_name_a_literal_directory(test_client_factory: TestClientFactory, vault: Path) -> None:
    write(vault / "%2e%2e" / "literal.txt", "literal")
    client = test_client_factory(mounted(StaticFiles(directory=vault), at="/static"))
    assert client.get("/static/%252e%252e/literal.txt").text == "literal"
    assert client.get("/static/%2e%2e/literal.txt").status_code == 404


def test_backslash_is_part_of_a_file_name(test_client_factory: TestClientFactory, vault: Path) -> None:
    write(vault / "a\\b.txt", "backslash")
    client = test_client_factory(mounted(StaticFiles(directory=vault), at="/static"))
    assert client.get("/static/a%5cb.txt").text == "backslash"
    assert client.get("/static/a/b.txt").status_code == 404


@pytest.mark.anyio
async def test_name_the_file_system_cannot_encode_is_404(vault: Path) -> None:
    # Servers decode paths as UTF-8 with replacement, but a raw scope may carry a lone surrogate.
    for follow in (False, True):
        app = StaticFiles(directory=vault, follow_symlink=follow)
        assert app.lookup_path("\ud800.txt") == ("", None)
        with pytest.raises(HTTPException) as info:
            await call_app(app, get_scope("/\ud800.txt"))
        assert info.value.status_code == 404


def test_symlink_into_a_sibling_sharing_the_prefix(test_client_factory: TestClientFactory, vault: Path) -> None:
    os.symlink(os.path.join("..", "static-secret"), vault / "peek")
    os.symlink(os.path.join("..", "secret.txt"), vault / "secret.txt")
    client = test_client_factory(mounted(StaticFiles(directory=vault), at="/static"))
    assert client.get("/static/peek/secret.txt").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404
    client = test_client_factory(mounted(StaticFiles(directory=vault, follow_symlink=True), at="/static"))
    assert client.get("/static/peek/secret.txt").text == SECRET
    assert client.get("/static/secret.txt").text == SECRET
    assert client.get("/static/peek/%2e%2e/%2e%2e/secret.txt").status_code == 404  # ".." applies before links


def test_resolve_inside_compares_whole_components(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "static-secret").mkdir()
    for follow in (False, True):
        assert resolve_inside(root, os.path.join("..", "static-secret", "x"), follow) is None
        assert resolve_inside(root, os.path.join("..", "static"), follow) == str(root)
        assert resolve_inside(root, "x", follow) == str(root / "x")
        assert resolve_inside(str(root), ".", follow) == str(root)


def test_resolve_inside_refuses_paths_on_another_drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def other_drive(paths: list[str]) -> str:
        raise ValueError("Paths don't have the same drive")

    monkeypatch.setattr(os.path, "commonpath", other_drive)
    assert resolve_inside(tmp_path, "x", False) is None


segment = st.one_of(
    st.sampled_from(
        ["..", ".", "", "example.txt", "inner", "outer.txt", "link", "peek", "root-secret", "secret.txt"]
        + ["%2e%2e", "\\..\\", "..\x00", "\ud800"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), max_size=8),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(segment, max_size=8), follow=st.booleans())
def test_lookups_never_leave_the_directory(tmp_path: Path, segments: list[str], follow: bool) -> None:
    root = tmp_path / "root"
    if not root.exists():
        write(root / "example.txt", "inside")
        write(root / "inner" / "example.txt", "inside")
        write(tmp_path / "outer.txt", "outside")
        os.symlink(tmp_path / "outer.txt", root / "link")
        write(tmp_path / "root-secret" / "secret.txt", "sibling")
        os.symlink(os.path.join("..", "root-secret"), root / "peek")
    app = StaticFiles(directory=root, follow_symlink=follow)
    route_path = "/" + "/".join(segments)
    try:
        full_path, stat_result = app.lookup_path(app.get_path({"path": route_path}))
    except OSError as exc:  # a name too long for the file system: a 404 for the app
        assert exc.errno == errno.ENAMETOOLONG
        return
    if stat_result is None:
        assert full_path == ""
        return
    assert os.path.commonpath([full_path, str(root)]) == str(root)
    if not follow:
        assert os.path.commonpath([os.path.realpath(full_path), str(root)]) == str(root)


def test_symlink_leaving_the_directory_is_refused(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "outside" / "secret.txt", "secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path / "outside" / "secret.txt", root / "secret.txt")
    os.symlink(tmp_path / "outside", root / "outdir")
    client = test_client_factory(mounted(StaticFiles(directory=root)))
    assert client.get("/secret.txt").status_code == 404
    assert client.get("/outdir/secret.txt").status_code == 404


def test_symlinks_followed_with_follow_symlink(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "outside" / "secret.txt", "shared")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path / "outside" / "secret.txt", root / "secret.txt")
    os.symlink(tmp_path / "outside", root / "outdir")
    client = test_client_factory(mounted(StaticFiles(directory=root, follow_symlink=True)))
    assert client.get("/secret.txt").text == "shared"
    assert client.get("/outdir/secret.txt").text == "shared"
    assert client.get("/../outside/secret.txt").status_code == 404


def test_symlink_inside_the_directory_is_served(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "real.html", "<p>real</p>")
    os.symlink(tmp_path / "real.html", tmp_path / "index.html")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path, html=True)))
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "<p>real</p>"


def test_directory_that_is_a_symlink(test_client_factory: TestClientFactory, example: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-dir"
    os.symlink(example, link)
    for follow in (False, True):
        client = test_client_factory(mounted(StaticFiles(directory=link, follow_symlink=follow)))
        assert client.get("/example.txt").text == "<file content>"


def test_relative_directory_with_follow_symlink(
    test_client_factory: TestClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "static" / "example.txt", "relative")
    write(tmp_path / "shared" / "other.txt", "linked")
    os.symlink(tmp_path / "shared", tmp_path / "static" / "shared")
    monkeypatch.chdir(tmp_path)
    for follow in (False, True):
        client = test_client_factory(mounted(StaticFiles(directory="static", follow_symlink=follow)))
        assert client.get("/example.txt").text == "relative"
        assert client.get("/shared/other.txt").status_code == (200 if follow else 404)


# --------------------------------------------------------------------------------------------
# Conditional requests


def test_304_when_the_etag_matches(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    first = client.get("/example.txt", headers={"Cache-Control": "no-cache"})
    etag = first.headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', f' W/"x" ,{etag} ', "*"):
        response = client.get("/example.txt", headers={"If-None-Match": if_none_match})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        for absent in ("content-length", "content-type", "last-modified", "accept-ranges"):
            assert absent not in response.headers
    assert client.head("/example.txt", headers={"If-None-Match": etag}).status_code == 304


def test_200_when_the_etag_differs(test_client_factory: TestClientFactory, example: Path) -> None:
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    etag = client.get("/example.txt").headers["etag"]
    for if_none_match in ('"other"', 'W/"other", "more"', etag.strip('"'), f"{etag}x"):
        response = client.get("/example.txt", headers={"If-None-Match": if_none_match})
        assert response.status_code == 200
        assert response.text == "<file content>"


def test_if_modified_since(test_client_factory: TestClientFactory, example: Path) -> None:
    mtime = (example / "example.txt").stat().st_mtime
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    for value in (formatdate(mtime, usegmt=True), formatdate(mtime + 3600, usegmt=True)):
        response = client.get("/example.txt", headers={"If-Modified-Since": value})
        assert response.status_code == 304
        assert "last-modified" not in response.headers
    later_zone = time.strftime("%a, %d %b %Y %H:%M:%S +0100", time.gmtime(mtime + 3600))
    assert client.get("/example.txt", headers={"If-Modified-Since": later_zone}).status_code == 304
    for value in (formatdate(mtime - 3600, usegmt=True), "not a date", "Mon, 01 Jan 99999 00:00:00 GMT"):
        response = client.get("/example.txt", headers={"If-Modified-Since": value})
        assert response.status_code == 200
        assert response.text == "<file content>"


def test_if_none_match_takes_precedence_over_if_modified_since(
    test_client_factory: TestClientFactory, example: Path
) -> None:
    mtime = (example / "example.txt").stat().st_mtime
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": formatdate(mtime + 3600, usegmt=True)}
    assert client.get("/example.txt", headers=headers).status_code == 200


def test_matching_if_none_match_wins_over_a_stale_if_modified_since(
    test_client_factory: TestClientFactory, example: Path
) -> None:
    mtime = (example / "example.txt").stat().st_mtime
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    etag = client.get("/example.txt").headers["etag"]
    headers = {"If-None-Match": etag, "If-Modified-Since": formatdate(mtime - 3600, usegmt=True)}
    assert client.get("/example.txt", headers=headers).status_code == 304


def test_304_for_head_and_before_ranges(test_client_factory: TestClientFactory, example: Path) -> None:
    mtime = (example / "example.txt").stat().st_mtime
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    etag = client.get("/example.txt").headers["etag"]
    response = client.head("/example.txt", headers={"If-Modified-Since": formatdate(mtime, usegmt=True)})
    assert response.status_code == 304
    response = client.get("/example.txt", headers={"If-None-Match": etag, "Range": "bytes=1-4"})
    assert (response.status_code, response.content) == (304, b"")
    assert "content-range" not in response.headers


def test_a_changed_file_is_sent_again(test_client_factory: TestClientFactory, example: Path) -> None:
    path = example / "example.txt"
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    first = client.get("/example.txt")
    path.write_text("<new content, longer>")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    for headers in ({"If-None-Match": first.headers["etag"]}, {"If-Modified-Since": first.headers["last-modified"]}):
        response = client.get("/example.txt", headers=headers)
        assert (response.status_code, response.text) == (200, "<new content, longer>")
        assert response.headers["etag"] != first.headers["etag"]


def test_html_index_honours_conditional_requests(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "index.html", "<h1>Home</h1>")
    client = test_client_factory(mounted(StaticFiles(directory=tmp_path, html=True)))
    etag = client.get("/").headers["etag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304


def test_is_not_modified_direct(example: Path) -> None:
    app = StaticFiles(directory=example)
    response_headers = Headers({"etag": '"abc"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert app.is_not_modified(response_headers, Headers({"if-none-match": '"abc"'}))
    assert app.is_not_modified(
        response_headers, Headers(raw=[(b"if-none-match", b'"x"'), (b"if-none-match", b'W/"abc"')])
    )
    assert not app.is_not_modified(response_headers, Headers({}))
    assert not app.is_not_modified(Headers({}), Headers({"if-none-match": '"abc"'}))
    assert not app.is_not_modified(Headers({}), Headers({"if-modified-since": "Mon, 01 Jan 2024 00:00:00 GMT"}))
    late = "Mon, 01 Jan 2024 00:00:00"  # no zone: local time, as the email module reads it
    assert not app.is_not_modified(
        Headers({"last-modified": "Mon, 01 Jan 999999999999 00:00:00"}), Headers({"if-modified-since": late})
    )
    assert app.is_not_modified(response_headers, Headers({"if-modified-since": "Tue, 02 Jan 2024 00:00:00 GMT"}))
    assert not app.is_not_modified(response_headers, Headers({"if-modified-since": "Sun, 31 Dec 2023 23:59:59 GMT"}))


@given(
    tag=st.text(alphabet=st.characters(min_codepoint=0x23, max_codepoint=0x7E, exclude_characters=","), max_size=10),
    others=st.lists(st.text(alphabet="abc", min_size=1, max_size=3), max_size=4),
    weak=st.booleans(),
    position=st.integers(min_value=0, max_value=4),
)
def test_etag_matching_finds_the_tag_in_any_list_position(
    tag: str, others: list[str], weak: bool, position: int
) -> None:
    etag = f'"{tag}"'
    listed = [f'"{other}{tag}x"' for other in others]
    listed.insert(min(position, len(listed)), f"W/{etag}" if weak else etag)
    assert etag_matches(etag, [", ".join(listed)])
    assert etag_matches(etag, listed)
    del listed[min(position, len(listed) - 1)]
    assert not etag_matches(etag, [", ".join(listed)])


def test_not_modified_response_keeps_only_allowed_headers() -> None:
    headers = Headers(
        {
            "cache-control": "max-age=60",
            "content-location": "/x",
            "date": "Mon, 01 Jan 2024 00:00:00 GMT",
            "etag": '"abc"',
            "expires": "Tue, 02 Jan 2024 00:00:00 GMT",
            "vary": "accept-encoding",
            "content-length": "14",
            "content-type": "text/plain",
            "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT",
        }
    )
    response = NotModifiedResponse(headers)
    assert response.status_code == 304
    assert response.body == b""
    assert dict(response.headers) == {name: headers[name] for name in NotModifiedResponse.NOT_MODIFIED_HEADERS}


@pytest.mark.anyio
async def test_304_over_raw_asgi(example: Path) -> None:
    app = StaticFiles(directory=example)
    first = await call_app(app, get_scope("/example.txt"))
    etag = dict(first[0]["headers"])[b"etag"]
    sent = await call_app(app, get_scope("/example.txt", headers=[(b"if-none-match", etag)]))
    assert sent[0] == {"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]}
    assert sent[1] == {"type": "http.response.body", "body": b""}


# --------------------------------------------------------------------------------------------
# Miscellaneous


def test_lookup_runs_in_a_worker_thread(
    test_client_factory: TestClientFactory, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    original = anyio.to_thread.run_sync

    async def spy(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", func))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    client = test_client_factory(mounted(StaticFiles(directory=example)))
    assert client.get("/example.txt").status_code == 200
    assert "lookup_path" in calls
