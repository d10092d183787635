"""The user documentation, executed.

Every ```python block in docs/*.md must compile. Every block is also executed in a fresh module,
unless the line before its fence is `<!-- test: compile-only -->`. A block preceded by
`<!-- test: NAME -->` is then handed to the check registered here under NAME, which drives the
example (usually through a `TestClient`) and asserts what the surrounding prose promises. A block
that defines a module-level `app` must have such a check.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import dataclasses
import datetime
import http.cookies
import importlib
import json
import os
import re
import sys
import tempfile
import threading
import types
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import anyio
import httpx
import jinja2
import pytest
import yaml

from starlette import formparsers, status
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
    requires,
)
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.config import Config, EnvironError
from starlette.datastructures import CommaSeparatedStrings, FormData, Headers, Secret
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import HTTPException, WebSocketException
from starlette.formparsers import FormParser, MultiPartException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, NoMatchFound, Route, Router, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.testclient import WebSocketDenialResponse
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from tests.types import TestClientFactory

DOCS = Path(__file__).parent.parent / "docs"
MKDOCS_YML = Path(__file__).parent.parent / "mkdocs.yml"

_FENCE = re.compile(r"^```python\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)
_MARKER = re.compile(r"<!-- test: (?P<name>[a-z0-9-]+) -->\n$")
COMPILE_ONLY = "compile-only"


@dataclasses.dataclass(frozen=True)
class Example:
    """One ```python block of the documentation."""

    page: str
    line: int
    name: str | None
    code: str

    @property
    def label(self) -> str:
        return self.name if self.name not in (None, COMPILE_ONLY) else f"{self.page}:{self.line}"

    def defines_app(self) -> bool:
        """Whether the block binds `app` at module level."""
        for node in ast.parse(self.code).body:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == "app":
                return True
            if any(isinstance(target, ast.Name) and target.id == "app" for target in targets):
                return True
        return False


def collect_examples() -> list[Example]:
    examples: list[Example] = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = text[: match.start()]
            marker = _MARKER.search(before[before.rfind("\n", 0, len(before) - 1) + 1 :])
            examples.append(
                Example(
                    page=page.name,
                    line=before.count("\n") + 1,
                    name=marker["name"] if marker else None,
                    code=match["code"],
                )
            )
    return examples


EXAMPLES = collect_examples()
Check = Callable[[types.ModuleType, TestClientFactory], None]
CHECKS: dict[str, Check] = {}
FILES: dict[str, dict[str, str]] = {}


def check(name: str, files: dict[str, str] | None = None) -> Callable[[Check], Check]:
    """Register `func` as the check of the example called `name`; `files` are created (relative
    to a fresh working directory) before the example runs."""

    def register(func: Check) -> Check:
        assert name not in CHECKS, name
        CHECKS[name] = func
        if files is not None:
            FILES[name] = files
        return func

    return register


@pytest.fixture
def example_module(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[types.ModuleType]:
    """Execute the example in a fresh module (registered in sys.modules while the test runs,
    as dataclasses and typing need), with a temporary directory as working directory."""
    example: Example = request.param
    for relative, content in FILES.get(example.name or "", {}).items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"docs_example_{example.label.replace('-', '_').replace(':', '_').replace('.', '_')}")
    module.__file__ = str(tmp_path / "example.py")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(example.code, f"{example.page}:{example.line}", "exec"), module.__dict__)
    yield module


def _params(examples: list[Example]) -> list[object]:
    return [pytest.param(example, id=example.label) for example in examples]


EXECUTED = [example for example in EXAMPLES if example.name != COMPILE_ONLY]


@pytest.mark.parametrize("example", _params(EXAMPLES))
def test_block_compiles(example: Example) -> None:
    compile(example.code, f"{example.page}:{example.line}", "exec")


@pytest.mark.parametrize("example_module", _params(EXECUTED), indirect=True)
def test_example_behaves_as_documented(
    request: pytest.FixtureRequest, example_module: types.ModuleType, test_client_factory: TestClientFactory
) -> None:
    """Every example runs; a named one is then driven by its check."""
    example: Example = request.node.callspec.params["example_module"]
    run_check = CHECKS.get(example.name or "")
    if run_check is not None:
        run_check(example_module, test_client_factory)


def test_no_python_block_hides_from_the_extraction() -> None:
    """Indented fences (in lists, admonitions) would be skipped: keep examples at top level."""
    for page in DOCS.glob("*.md"):
        assert not re.search(r"^[ \t]+```python", page.read_text(encoding="utf-8"), flags=re.MULTILINE), page.name


def test_examples_defining_an_app_are_checked() -> None:
    unchecked = [e.label for e in EXAMPLES if e.defines_app() and e.name in (None, COMPILE_ONLY)]
    assert unchecked == []


def test_every_check_has_its_example() -> None:
    names = [e.name for e in EXAMPLES if e.name not in (None, COMPILE_ONLY)]
    assert len(names) == len(set(names)), "example names must be unique"
    assert sorted(CHECKS) == sorted(names)


def test_every_page_is_in_the_nav() -> None:
    nav = set(re.findall(r"^\s*- [^:]+: (\S+\.md)$", MKDOCS_YML.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert nav == {page.name for page in DOCS.glob("*.md")}


# ---------------------------------------------------------------------------------------------
# index.md
# ---------------------------------------------------------------------------------------------


@check("index-first-app")
def _index_first_app(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/greet/Ada").text == "Good morning, Ada."
    assert client.get("/").text == "Good morning, stranger."
    response = client.get("/health")
    assert response.json() == {"status": "ok"}
    assert response.text == '{"status":"ok"}'
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"


@check("index-raw-asgi")
def _index_raw_asgi(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/some/where").text == "You asked for /some/where"


# ---------------------------------------------------------------------------------------------
# applications.md
# ---------------------------------------------------------------------------------------------


@check("applications-complete")
def _applications_complete(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    app = module.app
    with client_factory(app) as client:
        assert app.state.started
        assert client.get("/books/").json() == ["Dune", "Solaris"]
        assert client.get("/books/2").text == "Solaris"
        assert client.get("/books/9").text == "unknown"
        assert client.get("/books/x").status_code == 404
        with client.websocket_connect("/ticker") as websocket:
            assert websocket.receive_json() == {"books": 2}
    assert not app.state.started
    with pytest.raises(RuntimeError, match="^Cannot add middleware after an application has started$"):
        app.add_middleware(GZipMiddleware)


@check("applications-methods")
def _applications_methods(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/status").text == "all good"
    for method in ("GET", "POST"):
        response = client.request(method, "/teapot")
        assert (response.status_code, response.json()) == (418, {"error": "short and stout"})
    assert client.put("/teapot").status_code == 405
    assert module.app.url_path_for("status") == "/status"


@check("applications-state")
def _applications_state(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert client_factory(module.app).get("/contact").text == "Write to help@example.net"
    with pytest.raises(AttributeError):
        module.app.state.missing  # noqa: B018


# ---------------------------------------------------------------------------------------------
# routing.md
# ---------------------------------------------------------------------------------------------


@check("routing-basic")
def _routing_basic(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/notes").json() == {}
    created = client.post("/notes", content=b"buy milk")
    assert (created.status_code, created.json()) == (201, {"id": 1})
    assert client.get("/notes").json() == {"1": "buy milk"}
    assert client.get("/about").text == "A tiny note keeper."
    head = client.head("/about")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "19")
    refused = client.delete("/notes")
    assert (refused.status_code, refused.text, refused.headers["allow"]) == (405, "Method Not Allowed", "GET, HEAD")
    assert client.post("/about").status_code == 405
    assert [route.name for route in module.app.routes] == ["list_notes", "create_note", "about"]


@check("routing-convertors")
def _routing_convertors(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/items/41").json() == {"item": 41, "next": 42}
    assert client.get("/items/abc").status_code == 404
    assert client.get("/items/-1").status_code == 404
    assert client.get("/price/10").json() == {"with_tax": 12.0}
    assert client.get("/price/2.5").json() == {"with_tax": 3.0}
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert client.get(f"/orders/{value}").json() == {"order": str(value)}
    assert client.get(f"/orders/{value.hex.upper()}").json() == {"order": str(value)}
    assert client.get("/orders/not-a-uuid").status_code == 404
    assert client.get("/files/a/b/c.txt").json() == {"parts": ["a", "b", "c.txt"]}
    assert client.get("/files/").json() == {"parts": [""]}


@check("routing-custom-convertor")
def _routing_custom_convertor(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/agenda/2030-01-01").text == "Tuesday 01 January 2030"
    assert client.get("/agenda/tomorrow").status_code == 404
    assert module.app.url_path_for("agenda", day=datetime.date(2030, 1, 1)) == "/agenda/2030-01-01"
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        Route("/x/{value:nope}", module.agenda)


@check("routing-priority")
def _routing_priority(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/users/me").text == "you"
    assert client.get("/users/ada").text == "user ada"
    assert client.get("/users/a%20b").text == "user a b"
    assert client.get("/users/a/b").status_code == 404


@check("routing-mount")
def _routing_mount(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/ada/repos/engine").text == "ada/engine"
    assert client.get("/old/page").text == "legacy app at /old serving /old/page"
    redirect = client.get("/old", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/old/")
    assert module.app.url_path_for("owner:repo", owner="ada", name="engine") == "/ada/repos/engine"
    assert module.app.url_path_for("old", path="/x/y") == "/old/x/y"


@check("routing-host")
def _routing_host(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/status", headers={"host": "api.example.org"}).text == "api ok"
    assert client.get("/status", headers={"host": "api.example.org:8443"}).text == "api ok"
    assert client.get("/", headers={"host": "acme.example.org"}).text == "welcome, acme"
    assert client.get("/").text == "main site"
    assert client.get("/status").status_code == 404
    path = module.app.url_path_for("api:status")
    assert (path, path.host) == ("/status", "api.example.org")
    assert module.app.url_path_for("tenant:home", tenant="acme").host == "acme.example.org"
    assert str(path.make_absolute_url("https://ignored.example")) == "https://api.example.org/status"


@check("routing-url-for")
def _routing_url_for(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, base_url="https://shop.example")
    assert client.get("/").json() == {"me": "https://shop.example/accounts/7", "home": "https://shop.example/"}
    assert client.get("/accounts/7").json() == {"user": 7}
    app = module.app
    assert app.url_path_for("accounts:profile", user_id=7) == "/accounts/7"
    with pytest.raises(NoMatchFound, match='^No route exists for name "profile" and params "user_id".$'):
        app.url_path_for("profile", user_id=7)
    with pytest.raises(NoMatchFound, match='^No route exists for name "accounts:profile" and params "".$'):
        app.url_path_for("accounts:profile")
    with pytest.raises(NoMatchFound):
        app.url_path_for("accounts:profile", user_id=7, extra=1)
    with pytest.raises(AssertionError, match="Negative integers are not supported"):
        app.url_path_for("accounts:profile", user_id=-7)


@check("routing-errors")
def _routing_errors(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    missing = client.get("/missing")
    assert (missing.status_code, missing.text) == (404, "<h1>Nothing at /missing</h1>")
    refused = client.post("/")
    assert (refused.status_code, refused.text, refused.headers["allow"]) == (405, "Method Not Allowed", "GET, HEAD")
    exact = client.get("/?q=1")
    assert exact.text == "index"
    # Slash redirects keep the query string, and can be switched off.
    router = Router(routes=[Route("/notes", module.index)])
    bare = client_factory(router)
    redirect = bare.get("/notes/?page=2", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/notes?page=2")
    assert (bare.get("/elsewhere").status_code, bare.get("/elsewhere").text) == (404, "Not Found")
    strict = client_factory(Router(routes=[Route("/notes", module.index)], redirect_slashes=False))
    assert strict.get("/notes/", follow_redirects=False).status_code == 404
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/"):
        pass
    assert info.value.code == 1000
    fallback = client_factory(Router(routes=[], default=module.app))
    assert fallback.get("/").text == "index"


@check("routing-route-middleware")
def _routing_route_middleware(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    guarded = client.get("/account/balance")
    assert (guarded.text, guarded.headers["cache-control"]) == ("42 coins", "no-store")
    assert "cache-control" not in client.get("/public").headers
    assert "cache-control" not in client.get("/account/nothing").headers


# ---------------------------------------------------------------------------------------------
# requests.md
# ---------------------------------------------------------------------------------------------


@check("requests-raw")
def _requests_raw(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.post("/upload/here", content=b"12345").text == "POST /upload/here: 5 bytes"
    assert client.get("/").text == "GET /: 0 bytes"


@check("requests-attributes")
def _requests_attributes(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, base_url="https://search.example")
    response = client.get(
        "/search?q=blue%20whale&tag=sea&tag=mammal&page=3",
        headers={"accept-language": "fr", "cookie": "theme=dark; junk"},
    )
    assert response.json() == {
        "terms": "blue whale",
        "tags": ["sea", "mammal"],
        "page": 3,
        "language": "fr",
        "theme": "dark",
        "secure": True,
        "client_host": "testclient",
    }
    defaults = client_factory(module.app).get("/search").json()
    assert defaults == {
        "terms": "",
        "tags": [],
        "page": 1,
        "language": "en",
        "theme": "light",
        "secure": False,
        "client_host": "testclient",
    }


@check("requests-body")
def _requests_body(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.post("/count", content=b"x" * 100_000).text == "100000"
    echoed = client.post("/echo", json={"a": [1, 2]})
    assert echoed.json() == {"received": {"a": [1, 2]}, "length": len(b'{"a":[1,2]}')}
    with pytest.raises(json.JSONDecodeError):
        client.post("/echo", content=b"{not json")
    assert client_factory(module.app, raise_server_exceptions=False).post("/echo", content=b"{").status_code == 500


@check("requests-form")
def _requests_form(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    response = client.post(
        "/upload",
        data={"title": "holiday"},
        files=[("attachment", ("a.png", b"\x89PNG", "image/png")), ("attachment", ("b.txt", b"hello", "text/plain"))],
    )
    assert response.json() == {
        "title": "holiday",
        "files": [
            {"name": "a.png", "type": "image/png", "bytes": 4},
            {"name": "b.txt", "type": "text/plain", "bytes": 5},
        ],
    }
    assert client.post("/upload", data={"title": "plain"}).json() == {"title": "plain", "files": []}
    assert client.post("/upload", content=b"title=x", headers={"content-type": "text/plain"}).json() == {
        "title": None,
        "files": [],
    }
    too_many = client.post("/upload", files=[("attachment", (f"{i}.txt", b"x", "text/plain")) for i in range(3)])
    assert (too_many.status_code, too_many.text) == (400, "Too many files. Maximum number of files is 2.")


def test_requests_prose_body_rules(test_client_factory: TestClientFactory) -> None:
    """requests.md, "Reading the body": caching, replay, "Stream consumed", no receive channel."""

    async def cached(request: Request) -> JSONResponse:
        first = await request.body()
        replay = b"".join([chunk async for chunk in request.stream()])
        assert await request.form() == FormData()
        with pytest.raises(RuntimeError, match="^Receive channel has not been made available$"):
            await Request(request.scope).body()
        return JSONResponse({"first": first.decode(), "replay": replay.decode()})

    async def streamed(request: Request) -> JSONResponse:
        body = b"".join([chunk async for chunk in request.stream()])
        errors = []
        for again in (request.body, request.json, request.form):
            with pytest.raises(RuntimeError, match="^Stream consumed$"):
                await again()
            errors.append(again.__name__)
        return JSONResponse({"body": body.decode(), "errors": errors})

    app = Starlette(routes=[Route("/cached", cached, methods=["POST"]), Route("/streamed", streamed, methods=["POST"])])
    client = test_client_factory(app)
    assert client.post("/cached", content=b"abc").json() == {"first": "abc", "replay": "abc"}
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/streamed", content=b"a=c", headers=form_type).json() == {
        "body": "a=c",
        "errors": ["body", "json", "form"],
    }


def test_requests_prose_mapping_and_missing_middleware() -> None:
    scope = {"type": "http", "path": "/p", "root_path": "", "headers": [], "query_string": b""}
    request = Request(scope)
    assert request["path"] == "/p" and "root_path" in request and request.client is None
    with pytest.raises(AssertionError, match="SessionMiddleware must be installed"):
        request.session  # noqa: B018
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed"):
        request.user  # noqa: B018
    with pytest.raises(RuntimeError):
        request.url_for("anything")
    request.state.visits = 1
    assert Request(scope).state.visits == 1


def _spool_recorder(monkeypatch: pytest.MonkeyPatch) -> list[BinaryIO]:
    """Record every file the multipart parser spools an upload into."""
    opened: list[BinaryIO] = []
    real = tempfile.SpooledTemporaryFile

    def spool(*args: Any, **kwargs: Any) -> BinaryIO:
        file = cast(BinaryIO, real(*args, **kwargs))
        opened.append(file)
        return file

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", spool)
    return opened


_MULTIPART_B = {"content-type": "multipart/form-data; boundary=B"}
_TRUNCATED = (
    b'--B\r\nContent-Disposition: form-data; name="a"; filename="a.txt"\r\n\r\nfirst\r\n'
    b'--B\r\nContent-Disposition: form-data; name="b"; filename="b.txt"\r\n\r\nsec'
)
_TRUNCATED_MESSAGE = "Malformed multipart body: the body ended before the closing boundary."


def test_requests_prose_malformed_multipart(
    test_client_factory: TestClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests.md, "Forms and file uploads": truncated and other malformed multipart bodies."""
    opened = _spool_recorder(monkeypatch)

    async def upload(request: Request) -> Response:
        async with request.form() as form:
            return JSONResponse(sorted(form.keys()))

    client = test_client_factory(Starlette(routes=[Route("/", upload, methods=["POST"])]))
    truncated = client.post("/", content=_TRUNCATED, headers=_MULTIPART_B)
    assert (truncated.status_code, truncated.text) == (400, _TRUNCATED_MESSAGE)
    assert len(opened) == 2 and all(file.closed for file in opened)
    # The same body delivered in several chunks, cut inside the headers of its second part.
    chunks = [_TRUNCATED[:20], _TRUNCATED[20:70], _TRUNCATED[70:110]]
    cut = client.post("/", content=iter(chunks), headers=_MULTIPART_B)
    assert (cut.status_code, cut.text) == (400, _TRUNCATED_MESSAGE)
    assert len(opened) == 3 and all(file.closed for file in opened)
    empty = client.post("/", content=b"", headers=_MULTIPART_B)
    assert (empty.status_code, empty.json()) == (200, [])
    complete = client.post("/", content=_TRUNCATED + b"ond\r\n--B--\r\n", headers=_MULTIPART_B)
    assert (complete.status_code, complete.json()) == (200, ["a", "b"])
    no_boundary = client.post("/", content=b"x", headers={"content-type": "multipart/form-data"})
    assert (no_boundary.status_code, no_boundary.text) == (400, "Missing boundary in multipart.")
    nameless_body = b"--B\r\nContent-Disposition: form-data\r\n\r\n1\r\n--B--\r\n"
    nameless = client.post("/", content=nameless_body, headers=_MULTIPART_B)
    assert (nameless.status_code, nameless.text) == (
        400,
        'The Content-Disposition header field "name" must be provided.',
    )

    async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).form()  # raises: no response is ever sent

    raw = test_client_factory(raw_app)
    opened.clear()
    with pytest.raises(MultiPartException) as info:
        raw.post("/", content=_TRUNCATED, headers=_MULTIPART_B)
    assert info.value.message == _TRUNCATED_MESSAGE
    assert len(opened) == 2 and all(file.closed for file in opened)


def test_requests_prose_urlencoded_has_no_field_limit(test_client_factory: TestClientFactory) -> None:
    """requests.md: the `max_*` limits are for multipart bodies; a urlencoded form keeps every field."""

    async def count(request: Request) -> Response:
        async with request.form(max_fields=1, max_files=0, max_part_size=1) as form:
            return JSONResponse({"fields": len(form), "last": form["f2999"]})

    client = test_client_factory(Starlette(routes=[Route("/", count, methods=["POST"])]))
    body = "&".join(f"f{index}=value{index}" for index in range(3000))
    response = client.post("/", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.json() == {"fields": 3000, "last": "value2999"}
    multipart = client.post("/", data={"a": "1", "b": "2"}, files={"f": ("f.txt", b"x")})
    assert (multipart.status_code, multipart.text) == (400, "Too many fields. Maximum number of fields is 1.")


@pytest.mark.anyio
async def test_requests_prose_urlencoded_parses_in_linear_time() -> None:
    """requests.md: a long field sent in many small chunks, and many small fields, parse in linear
    time (re-joining the pending bytes on every chunk would take minutes here, not milliseconds)."""

    async def one_long_field() -> AsyncGenerator[bytes, None]:
        yield b"long="
        for _ in range(100_000):
            yield b"0123456789abcdefghij"

    async def many_fields() -> AsyncGenerator[bytes, None]:
        for _ in range(50_000):
            yield b"k=v&"

    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    with anyio.fail_after(10):
        long_form = await FormParser(headers, one_long_field()).parse()
        many = await FormParser(headers, many_fields()).parse()
    assert len(str(long_form["long"])) == 2_000_000
    assert many.getlist("k") == ["v"] * 50_000


def test_requests_prose_unusable_host_header(test_client_factory: TestClientFactory) -> None:
    """requests.md, "URL": a Host header that is no `host[:port]` is ignored, not a 500."""

    async def where(request: Request) -> Response:
        return JSONResponse(
            {"url": str(request.url), "base": str(request.base_url), "link": str(request.url_for("where"))}
        )

    client = test_client_factory(Starlette(routes=[Route("/where", where, name="where")]))
    server = {"url": "http://testserver/where?q=1", "base": "http://testserver/", "link": "http://testserver/where"}
    for bad in ("[::1", "::1]", "[not-ipv6]:80", "example.com:abc", "example.com:99999", "example.com:-1"):
        response = client.get("/where?q=1", headers={"host": bad})
        assert (response.status_code, response.json()) == (200, server), bad
    for good, origin in (("[::1]:8000", "http://[::1]:8000"), ("shop.example:8080", "http://shop.example:8080")):
        assert client.get("/where?q=1", headers={"host": good}).json() == {
            "url": f"{origin}/where?q=1",
            "base": f"{origin}/",
            "link": f"{origin}/where",
        }
    scope: Scope = {
        "type": "http",
        "scheme": "https",
        "server": ("10.0.0.1", 8443),
        "path": "/p",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"[::1")],
    }
    assert str(Request(scope).url) == "https://10.0.0.1:8443/p"


# ---------------------------------------------------------------------------------------------
# responses.md
# ---------------------------------------------------------------------------------------------


@check("responses-basic")
def _responses_basic(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    exported = client.get("/export.csv")
    assert exported.text == "name,qty\nbolts,40\nnuts,75\n"
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-length"] == str(len(exported.content))
    assert (exported.headers["x-row-count"], exported.headers["cache-control"]) == ("2", "max-age=60")
    ping = client.get("/ping")
    assert (ping.status_code, ping.content) == (204, b"")
    assert "content-length" not in ping.headers and "content-type" not in ping.headers


@check("responses-cookies")
def _responses_cookies(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, base_url="https://testserver")
    login = client.post("/login")
    assert login.headers["set-cookie"] == "session_id=c0ffee; HttpOnly; Max-Age=3600; Path=/; SameSite=strict; Secure"
    assert client.cookies["session_id"] == "c0ffee"
    logout = client.post("/logout")
    assert re.fullmatch(r'session_id=""; expires=.* GMT; Max-Age=0; Path=/; SameSite=lax', logout.headers["set-cookie"])
    assert "session_id" not in client.cookies


@check("responses-json-render")
def _responses_json_render(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).get("/latest")
    assert response.text == '{"latest":{"sensor":"attic","taken_at":"2024-05-01T12:30:00","celsius":21.5}}'
    assert response.headers["content-type"] == "application/json"


@check("responses-redirect")
def _responses_redirect(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    redirect = client.post("/submit", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"], redirect.content) == (
        303,
        "http://testserver/thanks",
        b"",
    )
    followed = client.post("/submit")
    assert (followed.request.method, followed.text) == ("GET", "thank you")


@check("responses-streaming")
def _responses_streaming(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    launch = client.get("/launch")
    assert launch.text == "3...\n2...\n1...\nliftoff!\n"
    assert launch.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in launch.headers
    assert client.get("/squares.csv").text == "id,square\n1,1\n2,4\n3,9\n"


@check("responses-file", files={"reports/2023.csv": "month,total\n01,100\n02,250\n"})
def _responses_file(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    whole = client.get("/reports/2023")
    assert whole.text == "month,total\n01,100\n02,250\n"
    size = str(len(whole.content))
    assert whole.headers["content-disposition"] == 'attachment; filename="sales-2023.csv"'
    assert whole.headers["content-type"] == "text/csv; charset=utf-8"
    assert (whole.headers["content-length"], whole.headers["accept-ranges"]) == (size, "bytes")
    assert whole.headers["etag"].startswith('"') and whole.headers["last-modified"].endswith(" GMT")
    assert client.get("/reports/1999").status_code == 404
    head = client.head("/reports/2023")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", size)
    # The range table.
    first = client.get("/reports/2023", headers={"range": "bytes=0-4"})
    assert (first.status_code, first.headers["content-range"], first.content) == (206, f"bytes 0-4/{size}", b"month")
    assert client.get("/reports/2023", headers={"range": "bytes=-4"}).content == b"250\n"
    assert client.get("/reports/2023", headers={"range": "bytes=22-"}).content == b"250\n"
    several = client.get("/reports/2023", headers={"range": "bytes=0-4,12-13"})
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert b"month" in several.content and b"01" in several.content
    merged = client.get("/reports/2023", headers={"range": "bytes=0-4,3-10"})
    assert (merged.headers["content-range"], merged.content) == (f"bytes 0-10/{size}", b"month,total")
    outside = client.get("/reports/2023", headers={"range": "bytes=500-600"})
    assert (outside.status_code, outside.headers["content-range"]) == (416, f"bytes */{size}")
    for malformed in ("bytes=9-2", "lines=0-1", "bytes=x"):
        bad = client.get("/reports/2023", headers={"range": malformed})
        assert (bad.status_code, bad.text) == (400, "Malformed range header.")
    stale = client.get("/reports/2023", headers={"range": "bytes=0-4", "if-range": '"stale"'})
    assert (stale.status_code, stale.content) == (200, whole.content)
    fresh = client.get("/reports/2023", headers={"range": "bytes=0-4", "if-range": whole.headers["etag"]})
    assert (fresh.status_code, fresh.content) == (206, b"month")
    by_date = client.get("/reports/2023", headers={"range": "bytes=0-4", "if-range": whole.headers["last-modified"]})
    assert by_date.status_code == 206


@check("responses-as-asgi")
def _responses_as_asgi(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).get("/shop/cart")
    assert (response.status_code, response.text, response.headers["retry-after"]) == (503, "<h1>Back soon</h1>", "120")


def test_responses_prose_construction_rules() -> None:
    assert Response().raw_headers == [(b"content-length", b"0")]
    assert Response("x", status_code=304).raw_headers == []
    assert Response("x", media_type="text/csv; charset=latin-1").headers["content-type"] == "text/csv; charset=latin-1"
    assert Response("x", headers={"content-length": "7"}).headers.getlist("content-length") == ["7"]
    assert Response("é", media_type="text/plain").body == "é".encode()
    assert JSONResponse({"name": "Zoë"}).body == '{"name":"Zoë"}'.encode()
    with pytest.raises(ValueError):
        JSONResponse({"x": float("nan")})
    with pytest.raises(TypeError):
        JSONResponse({"x": object()})
    cookies = Response()
    cookies.set_cookie(
        "greeting",
        "two words",
        path=None,
        samesite=None,
        expires=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
    )
    assert cookies.headers["set-cookie"] == 'greeting="two words"; expires=Tue, 01 Jan 2030 00:00:00 GMT'
    with pytest.raises(ValueError):
        cookies.set_cookie("x", expires=datetime.datetime(2030, 1, 1))
    with pytest.raises(AssertionError):
        cookies.set_cookie("x", samesite="sometimes")  # type: ignore[arg-type]  # the documented error
    if sys.version_info < (3, 14):
        with pytest.raises(ValueError, match="Python 3.14"):
            cookies.set_cookie("x", partitioned=True)
    assert RedirectResponse("/a path/é").headers["location"] == "/a%20path/%C3%A9"


def test_responses_prose_file_errors(tmp_path: Path, test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(FileResponse(tmp_path / "missing.txt"))
    with pytest.raises(RuntimeError, match=r"^File at path .*missing.txt does not exist.$"):
        client.get("/")
    with pytest.raises(RuntimeError, match="is not a file"):
        test_client_factory(FileResponse(tmp_path)).get("/")
    (tmp_path / "page.bin").write_bytes(b"x")
    inline = FileResponse(tmp_path / "page.bin", filename="café.txt", content_disposition_type="inline")
    assert inline.headers["content-disposition"] == "inline; filename*=utf-8''caf%C3%A9.txt"
    assert inline.media_type == "text/plain"
    assert FileResponse(tmp_path / "page.bin").media_type == "application/octet-stream"


@pytest.mark.anyio
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_responses_prose_streaming_disconnect(spec_version: str) -> None:
    """responses.md, "When the client disconnects", for both kinds of server."""
    events: list[str] = []

    async def numbers() -> AsyncIterator[bytes]:
        try:
            for number in range(1000):
                yield str(number).encode()
                await anyio.sleep(0)
        finally:
            events.append("generator closed")

    async def record() -> None:
        events.append("background ran")

    sent: list[Message] = []
    disconnected = anyio.Event()

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if len(sent) == 3:
            if spec_version == "2.4":
                raise OSError("connection closed")
            disconnected.set()
            await anyio.sleep_forever()
        sent.append(message)

    scope = {"type": "http", "method": "GET", "asgi": {"version": "3.0", "spec_version": spec_version}}
    response = StreamingResponse(numbers(), background=BackgroundTask(record))
    if spec_version == "2.4":
        with pytest.raises(ClientDisconnect):
            await response(scope, receive, send)
        assert events == ["generator closed"]
    else:
        await response(scope, receive, send)
        assert events == ["generator closed", "background ran"]
    assert [message.get("body") for message in sent] == [None, b"0", b"1"]


def test_responses_prose_cookie_rules() -> None:
    """responses.md, "Cookies": values are quoted, keys validated, attributes checked."""
    response = Response()
    response.set_cookie("k", 'a;b"c', path=None, samesite=None)
    response.set_cookie("crlf", "a\r\nb", path=None, samesite=None)
    assert response.headers.getlist("set-cookie") == ['k="a\\073b\\"c"', 'crlf="a\\015\\012b"']
    setters: dict[str, Callable[[str], None]] = {
        "path": lambda value: response.set_cookie("k", "v", path=value),
        "domain": lambda value: response.set_cookie("k", "v", domain=value),
        "expires": lambda value: response.set_cookie("k", "v", expires=value),
    }
    for attribute, value in (
        ("path", "/a;b"),
        ("path", "/\x00"),
        ("domain", "example.com\r\nX-Evil: 1"),
        ("domain", "example.com; Secure"),
        ("expires", "Tue, 01 Jan 2030 00:00:00 GMT; Max-Age=9"),
        ("expires", "\x7f"),
    ):
        expected = f"The cookie {attribute} must not contain ';' or control characters: {value!r}"
        with pytest.raises(ValueError) as info:
            setters[attribute](value)
        assert str(info.value) == expected
    for key in ("bad key", "a;b", "a=b", "é"):
        with pytest.raises(http.cookies.CookieError, match=f"^Illegal key {key!r}$"):
            response.set_cookie(key, "v")
    assert len(response.headers.getlist("set-cookie")) == 2
    response.set_cookie("a!#$%&'*+-.^_`|~:Z9", "v", domain="example.com", path="/x y", expires="soon")
    assert (
        response.headers.getlist("set-cookie")[-1]
        == "a!#$%&'*+-.^_`|~:Z9=v; Domain=example.com; expires=soon; Path=/x y; SameSite=lax"
    )


# ---------------------------------------------------------------------------------------------
# websockets.md
# ---------------------------------------------------------------------------------------------


@check("websockets-echo")
def _websockets_echo(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    with client_factory(module.app).websocket_connect("/shout") as websocket:
        for word in ("hello", "again"):
            websocket.send_text(word)
            assert websocket.receive_text() == word.upper()


@check("websockets-chat")
def _websockets_chat(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    with client.websocket_connect("/chat?nick=ada", subprotocols=["chat.v1", "chat.v2"]) as websocket:
        assert websocket.accepted_subprotocol == "chat.v2"
        assert websocket.receive_json() == {"event": "joined", "nick": "ada"}
        websocket.send_json({"text": "hi all"})
        assert websocket.receive_json() == {"event": "message", "nick": "ada", "text": "hi all"}
        websocket.close(code=4100)
    with client.websocket_connect("/chat") as websocket:
        assert websocket.accepted_subprotocol is None
        assert websocket.receive_json() == {"event": "joined", "nick": "anonymous"}
        websocket.send_json({"text": "buy SPAM now"})
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_json()
    assert (info.value.code, info.value.reason) == (status.WS_1008_POLICY_VIOLATION, "watch your language")
    assert module.app.state.last_close_code == 4100


@check("websockets-deny")
def _websockets_deny(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/feed?token=wrong"):
        pass
    assert (denied.value.status_code, denied.value.text) == (401, "A valid token is required")
    with client.websocket_connect("/feed?token=s3cret") as websocket:
        websocket.send_text("gardening")
        assert websocket.receive_text() == "ada now follows gardening"
    with client.websocket_connect("/feed?token=s3cret") as websocket:
        websocket.send_text("admin")
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert (closed.value.code, closed.value.reason) == (4003, "ada may not follow admin")
    with pytest.raises(WebSocketDenialResponse) as held, client.websocket_connect("/held"):
        pass
    assert (held.value.status_code, held.value.text) == (451, "Not in your region")


def test_websockets_prose_state_machine(test_client_factory: TestClientFactory) -> None:
    """websockets.md, "The connection's life": the RuntimeErrors and the states."""
    seen: dict[str, object] = {}

    async def endpoint(websocket: WebSocket) -> None:
        seen["start"] = (websocket.client_state, websocket.application_state)
        with pytest.raises(RuntimeError, match='Need to call "accept" first'):
            await websocket.receive_text()
        with pytest.raises(RuntimeError):
            await websocket.send_text("too early")
        await websocket.accept()
        seen["accepted"] = (websocket.client_state, websocket.application_state)
        with pytest.raises(RuntimeError, match="Expected a bytes websocket message, but got text"):
            await websocket.receive_bytes()
        with pytest.raises(RuntimeError, match='"mode" argument should be "text" or "binary"'):
            await websocket.send_json({}, mode="yaml")
        await websocket.send_json({"k": "é"}, mode="binary")
        with pytest.raises(WebSocketDisconnect) as info:
            await websocket.receive_text()
        seen["disconnect"] = (info.value.code, info.value.reason)
        seen["closed"] = (websocket.client_state, websocket.application_state)
        with pytest.raises(RuntimeError, match='Cannot call "receive" once a disconnect message has been received.'):
            await websocket.receive()

    async def close_twice(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()
        with pytest.raises(RuntimeError, match='Cannot call "send" once a close message has been sent.'):
            await websocket.send_text("late")

    app = Starlette(routes=[WebSocketRoute("/", endpoint), WebSocketRoute("/twice", close_twice)])
    client = test_client_factory(app)
    with client.websocket_connect("/") as websocket:
        websocket.send_text("not bytes")
        assert websocket.receive_bytes() == '{"k":"é"}'.encode()
        websocket.close(code=4000, reason="bye")
    connecting, connected, disconnected = (
        WebSocketState.CONNECTING,
        WebSocketState.CONNECTED,
        WebSocketState.DISCONNECTED,
    )
    assert seen == {
        "start": (connecting, connecting),
        "accepted": (connected, connected),
        "disconnect": (4000, "bye"),
        "closed": (disconnected, connected),
    }
    with client.websocket_connect("/twice") as websocket, pytest.raises(WebSocketDisconnect):
        websocket.receive_text()


def test_websockets_prose_errors_under_uvicorn() -> None:
    """websockets.md, "Errors in WebSocket endpoints", against a real server."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from tests._server import run_uvicorn

    async def after_accept(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("after accept")

    async def before_accept(websocket: WebSocket) -> None:
        raise ValueError("before accept")

    app = Starlette(routes=[WebSocketRoute("/after", after_accept), WebSocketRoute("/before", before_accept)])
    with run_uvicorn(app, log_level="critical") as server:
        with pytest.raises(InvalidStatus) as refused, connect(server.ws_url + "/before"):
            pass
        assert refused.value.response.status_code == 500
        with connect(server.ws_url + "/after") as connection, pytest.raises(ConnectionClosed) as dropped:
            connection.recv(timeout=10)
        assert dropped.value.rcvd is None


# ---------------------------------------------------------------------------------------------
# endpoints.md
# ---------------------------------------------------------------------------------------------


@check("endpoints-http")
def _endpoints_http(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/plants").json() == {"fern": 2}
    created = client.post("/plants", json={"name": "cactus", "count": 3})
    assert (created.status_code, created.json()) == (201, {"created": "cactus"})
    assert client.get("/plants/cactus").json() == {"cactus": 3}
    head = client.head("/plants/cactus")
    assert (head.status_code, head.content) == (200, b"")
    assert client.delete("/plants/cactus").status_code == 204
    assert client.get("/plants/cactus").json() == {"error": "no cactus"}
    refused = client.put("/plants")
    assert (refused.status_code, refused.text, refused.headers["allow"]) == (405, "Method Not Allowed", "GET, POST")
    standalone = client_factory(module.Plant).post("/anything")
    assert (standalone.status_code, standalone.text, standalone.headers["allow"]) == (
        405,
        "Method Not Allowed",
        "GET, DELETE",
    )


@check("endpoints-websocket")
def _endpoints_websocket(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    with client.websocket_connect("/calc") as websocket:
        websocket.send_json({"add": [1, 2, 3]})
        assert websocket.receive_json() == {"total": 6}
        websocket.send_json({"add": [10]}, mode="binary")
        assert websocket.receive_json() == {"total": 10}
    assert module.app.state.calculations == 2
    with pytest.raises(RuntimeError, match="Malformed JSON data received."):
        with client.websocket_connect("/calc") as websocket:
            websocket.send_text("{oops")
            with pytest.raises(WebSocketDisconnect) as closed:
                websocket.receive_json()
    assert closed.value.code == 1003
    assert module.app.state.calculations == 0


def test_endpoints_prose_encodings(test_client_factory: TestClientFactory) -> None:
    """endpoints.md, the `encoding` table and the close codes given to `on_disconnect`."""
    received: list[object] = []

    class Raw(WebSocketEndpoint):
        async def on_receive(self, websocket: WebSocket, data: object) -> None:
            received.append(data)

        async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
            received.append(close_code)

    class TextOnly(WebSocketEndpoint):
        encoding = "text"

    class BytesOnly(WebSocketEndpoint):
        encoding = "bytes"

    app = Starlette(
        routes=[WebSocketRoute("/raw", Raw), WebSocketRoute("/text", TextOnly), WebSocketRoute("/bytes", BytesOnly)]
    )
    client = test_client_factory(app)
    with client.websocket_connect("/raw") as websocket:
        websocket.send_text("t")
        websocket.send_bytes(b"b")
        websocket.close(code=4321)
    with client.websocket_connect("/raw") as websocket:
        websocket.send_text("again")
    assert received == ["t", b"b", 4321, "again", 1000]
    for path, wrong, message in (
        ("/text", {"type": "websocket.receive", "bytes": b"x"}, "Expected text websocket messages, but got bytes"),
        ("/bytes", {"type": "websocket.receive", "text": "x"}, "Expected bytes websocket messages, but got text"),
    ):
        with pytest.raises(RuntimeError, match=message):
            with client.websocket_connect(path) as websocket:
                websocket.send(wrong)
                assert websocket.receive() == {"type": "websocket.close", "code": 1003, "reason": ""}


# ---------------------------------------------------------------------------------------------
# exceptions.md
# ---------------------------------------------------------------------------------------------


@check("exceptions-handlers")
def _exceptions_handlers(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.post("/buy/teapot").json() == {"bought": "teapot", "left": 3}
    sold_out = client.post("/buy/kettle")
    assert (sold_out.status_code, sold_out.json()) == (409, {"error": "kettle is sold out"})
    for response in (client.post("/buy/piano"), client.get("/nowhere")):
        assert (response.status_code, response.text) == (404, "<h1>Lost?</h1>")
    restricted = client.get("/admin")
    assert (restricted.status_code, restricted.json()) == (401, {"error": "Unauthorized"})
    assert restricted.headers["www-authenticate"] == 'Bearer realm="shop"'
    refused = client.get("/buy/teapot")
    assert (refused.status_code, refused.json()) == (405, {"error": "Method Not Allowed"})


@check("exceptions-server-error")
def _exceptions_server_error(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert client_factory(module.app).get("/divide?a=6&b=3").json() == {"result": 2.0}
    with pytest.raises(ZeroDivisionError):
        client_factory(module.app).get("/divide?a=1&b=0")
    response = client_factory(module.app, raise_server_exceptions=False).get("/divide?a=1&b=0")
    assert (response.status_code, response.json()) == (500, {"error": "something broke, we are on it"})


@check("exceptions-debug")
def _exceptions_debug(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, raise_server_exceptions=False)
    text = client.get("/broken")
    assert text.status_code == 500
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.startswith("Traceback (most recent call last):") and "KeyError: 'greeting'" in text.text
    page = client.get("/broken", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 500
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "KeyError: &#x27;greeting&#x27;" in page.text and "<b>broken</b>" in page.text


@check("exceptions-websocket")
def _exceptions_websocket(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    with client.websocket_connect("/prices") as websocket:
        assert [websocket.receive_text(), websocket.receive_text()] == ["ACME", "INIT"]
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert (closed.value.code, closed.value.reason) == (status.WS_1013_TRY_AGAIN_LATER, "quota exceeded")
    with pytest.raises(WebSocketDisconnect) as reserved, client.websocket_connect("/reserved"):
        pass
    assert (reserved.value.code, reserved.value.reason) == (1008, "reserved channel")


def test_exceptions_prose(test_client_factory: TestClientFactory) -> None:
    """exceptions.md: HTTPException defaults, 204/304 bodies, middleware-raised HTTPExceptions,
    handlers on errors after the response started, and HTTPException after accept()."""
    error = HTTPException(404)
    assert (error.detail, str(error), repr(error)) == (
        "Not Found",
        "404: Not Found",
        "HTTPException(status_code=404, detail='Not Found')",
    )
    assert str(WebSocketException(4001, "gone")) == "4001: gone"
    handled: list[str] = []

    async def not_modified(request: Request) -> Response:
        raise HTTPException(304, headers={"etag": '"v1"'})

    async def streaming_failure(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"partial"
            raise HTTPException(418)

        return StreamingResponse(chunks())

    async def broken_background(request: Request) -> Response:
        def fail() -> None:
            raise ValueError("late failure")

        return PlainTextResponse("sent", background=BackgroundTask(fail))

    async def after_accept(websocket: WebSocket) -> None:
        await websocket.accept()
        raise HTTPException(400)

    def on_error(request: Request, exc: Exception) -> Response:
        handled.append(repr(exc))
        return PlainTextResponse("handler", status_code=500)

    class Refuse(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            if request.url.path == "/refused":
                raise HTTPException(403)
            return await call_next(request)

    app = Starlette(
        routes=[
            Route("/not-modified", not_modified),
            Route("/streaming", streaming_failure),
            Route("/background", broken_background),
            WebSocketRoute("/ws", after_accept),
        ],
        middleware=[Middleware(Refuse)],
        exception_handlers={Exception: on_error},
    )
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/not-modified")
    assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", '"v1"')
    refused = client.get("/refused")
    assert (refused.status_code, refused.text) == (500, "handler")
    background = client.get("/background")
    assert (background.status_code, background.text) == (200, "sent")
    streaming = client.get("/streaming")
    assert (streaming.status_code, streaming.content) == (200, b"partial")
    assert handled == [
        "HTTPException(status_code=403, detail='Forbidden')",
        "ValueError('late failure')",
        "RuntimeError('Caught handled exception, but response already started.')",
    ]
    with test_client_factory(app).websocket_connect("/ws") as websocket, pytest.raises(WebSocketDisconnect) as info:
        websocket.receive_text()
    assert info.value.code == 1008


# ---------------------------------------------------------------------------------------------
# middleware.md
# ---------------------------------------------------------------------------------------------


@check("middleware-using")
def _middleware_using(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, base_url="http://api.shop.example")
    response = client.get("/catalogue")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.splitlines()[-1] == "item 199"
    refused = client_factory(module.app, base_url="http://evil.example").get("/catalogue")
    assert (refused.status_code, refused.text) == (400, "Invalid host header")
    app = module.app
    stack = app.middleware_stack
    layers = []
    while stack is not None and not isinstance(stack, Router):
        layers.append(type(stack).__name__)
        stack = getattr(stack, "app", None)
    assert layers == ["ServerErrorMiddleware", "TrustedHostMiddleware", "GZipMiddleware", "ExceptionMiddleware"]


@check("middleware-pure-asgi")
def _middleware_pure_asgi(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    response = client.get("/whoami", headers={"x-request-id": "abc123"})
    assert response.json() == {"request_id": "abc123"}
    assert response.headers["x-request-id"] == "abc123"
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["server-timing"])
    generated = client.get("/whoami")
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
    assert len(generated.headers["x-request-id"]) == 32
    closed = module.Starlette(
        routes=module.app.routes, middleware=[module.Middleware(module.MaintenanceMiddleware, enabled=True)]
    )
    down = client_factory(closed).get("/whoami")
    assert (down.status_code, down.text) == (503, "Down for maintenance")


@check("middleware-base-http")
def _middleware_base_http(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    refused = client.get("/secret")
    assert (refused.status_code, refused.text) == (401, "Invalid API key")
    allowed = client.get("/secret", headers={"x-api-key": "letmein"})
    assert (allowed.text, allowed.headers["x-api-version"]) == ("the cake is in the fridge", "2")


@check("middleware-cors")
def _middleware_cors(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    origin = {"origin": "https://weather.example"}
    preflight = client.options(
        "/forecast",
        headers={**origin, "access-control-request-method": "POST", "access-control-request-headers": "X-Units"},
    )
    assert (preflight.status_code, preflight.text) == (200, "OK")
    assert preflight.headers["access-control-allow-origin"] == "https://weather.example"
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    assert preflight.headers["access-control-max-age"] == "3600"
    assert "X-Units" in preflight.headers["access-control-allow-headers"]
    refused = client.options(
        "/forecast",
        headers={"origin": "https://other.example", "access-control-request-method": "DELETE"},
    )
    assert (refused.status_code, refused.text) == (400, "Disallowed CORS origin, method")
    bad_header = client.options(
        "/forecast",
        headers={**origin, "access-control-request-method": "GET", "access-control-request-headers": "X-Secret"},
    )
    assert (bad_header.status_code, bad_header.text) == (400, "Disallowed CORS headers")
    simple = client.get("/forecast", headers=origin)
    assert simple.json() == {"tomorrow": "sunny"}
    assert simple.headers["access-control-allow-origin"] == "https://weather.example"
    assert simple.headers["access-control-expose-headers"] == "X-Data-Source"
    assert simple.headers["vary"] == "Origin"
    foreign = client.get("/forecast", headers={"origin": "https://other.example"})
    assert foreign.status_code == 200 and "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-origin" not in client.get("/forecast").headers


@check("middleware-cors-outside")
def _middleware_cors_outside(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app, raise_server_exceptions=False)
    response = client.get("/fragile", headers={"origin": "https://weather.example"})
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["access-control-allow-origin"] == "https://weather.example"
    inside = Starlette(
        routes=module.inner.routes, middleware=[Middleware(CORSMiddleware, allow_origins=["https://weather.example"])]
    )
    hidden = client_factory(inside, raise_server_exceptions=False).get(
        "/fragile", headers={"origin": "https://weather.example"}
    )
    assert hidden.status_code == 500 and "access-control-allow-origin" not in hidden.headers


@check("middleware-trusted-host")
def _middleware_trusted_host(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    def get(host: str) -> httpx.Response:
        return client_factory(module.app, base_url=f"http://{host}").get("/", follow_redirects=False)

    assert get("www.bakery.test").text == "served for www.bakery.test"
    assert get("orders.bakery.test:8080").text == "served for orders.bakery.test"
    redirect = get("bakery.test")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://www.bakery.test/")
    refused = get("bakery.evil")
    assert (refused.status_code, refused.text) == (400, "Invalid host header")
    with pytest.raises(WebSocketDisconnect):
        with client_factory(module.app, base_url="http://bakery.evil").websocket_connect("/"):
            pass
    with pytest.raises(AssertionError, match=r"^Domain wildcard patterns must be like '\*.example.com'.$"):
        TrustedHostMiddleware(module.app, allowed_hosts=["bakery.*"])
    anything = TrustedHostMiddleware(Router(routes=[Route("/", module.home)]))
    assert client_factory(anything, base_url="http://whatever.test").get("/").status_code == 200


@check("middleware-https-redirect")
def _middleware_https_redirect(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    for base, location in (
        ("http://shop.test", "https://shop.test/checkout?step=2"),
        ("http://shop.test:80", "https://shop.test/checkout?step=2"),
        ("http://shop.test:8080", "https://shop.test:8080/checkout?step=2"),
    ):
        response = client_factory(module.app, base_url=base).get("/checkout?step=2", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (307, location)
    assert (
        client_factory(module.app, base_url="https://shop.test").get("/checkout").text == "secure checkout over https"
    )
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client_factory(module.app, base_url="http://shop.test").websocket_connect("/live"):
            pass
    assert (denied.value.status_code, denied.value.headers["location"]) == (307, "wss://shop.test/live")


@check("middleware-sessions")
def _middleware_sessions(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.post("/basket/apple").json() == {"basket": ["apple"]}
    second = client.post("/basket/pear")
    assert second.json() == {"basket": ["apple", "pear"]}
    cookie = second.headers["set-cookie"]
    assert cookie.startswith("session=") and "Max-Age=3600" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    tampered = client_factory(module.app)
    tampered.cookies.set("session", client.cookies["session"][:-2] + "xx")
    assert tampered.post("/basket/plum").json() == {"basket": ["plum"]}
    cleared = client.delete("/basket")
    assert cleared.json() == {"basket": []}
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in cleared.headers["set-cookie"]
    assert client.post("/basket/fig").json() == {"basket": ["fig"]}


def test_middleware_prose_base_http(test_client_factory: TestClientFactory) -> None:
    """middleware.md, "What to know about BaseHTTPMiddleware"."""
    context: contextvars.ContextVar[str] = contextvars.ContextVar("context", default="unset")
    observed: dict[str, str] = {}

    async def endpoint(request: Request) -> Response:
        observed["endpoint saw"] = context.get()
        observed["endpoint body"] = (await request.body()).decode()
        context.set("endpoint")
        if request.query_params.get("fail"):
            raise KeyError("fail")
        return PlainTextResponse("ok")

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        context.set("dispatch")
        observed["dispatch body"] = (await request.body()).decode()
        try:
            response = await call_next(request)
        except KeyError:
            return PlainTextResponse("caught", status_code=418)
        observed["dispatch saw"] = context.get()
        assert not hasattr(response, "body")
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]  # a streamed response
        return PlainTextResponse(b"".join(chunks).upper())

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("untouched")
        await websocket.close()

    app = Starlette(
        routes=[Route("/", endpoint, methods=["POST"]), WebSocketRoute("/ws", websocket_endpoint)],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)],
    )
    client = test_client_factory(app)
    assert client.post("/", content=b"payload").text == "OK"
    assert observed == {
        "dispatch body": "payload",
        "endpoint saw": "dispatch",
        "endpoint body": "payload",
        "dispatch saw": "dispatch",
    }
    assert client.post("/?fail=1").status_code == 418
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "untouched"
    with pytest.raises(RuntimeError, match=r"^No response returned.$"):
        test_client_factory(BaseHTTPMiddleware(silent, dispatch=dispatch)).post("/")


def test_middleware_prose_gzip(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        size = int(request.query_params["size"])
        kind = request.query_params.get("kind", "text/plain")
        headers = {"content-encoding": "br"} if request.query_params.get("encoded") else None
        return Response(b"a" * size, media_type=kind, headers=headers)

    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b"chunk " * 20

        return StreamingResponse(chunks(), media_type="text/plain")

    app = GZipMiddleware(Router(routes=[Route("/", endpoint), Route("/stream", stream)]), minimum_size=100)
    client = test_client_factory(app)
    big = client.get("/?size=1000")
    assert (big.headers["content-encoding"], big.headers["vary"], big.content) == (
        "gzip",
        "Accept-Encoding",
        b"a" * 1000,
    )
    small = client.get("/?size=10")
    assert "content-encoding" not in small.headers
    identity = client.get("/?size=1000", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in identity.headers and identity.headers["vary"] == "Accept-Encoding"
    assert client.get("/?size=1000&kind=text/event-stream").headers.get("content-encoding") is None
    assert client.get("/?size=1000&encoded=1").headers["content-encoding"] == "br"
    streamed = client.get("/stream")
    assert streamed.headers["content-encoding"] == "gzip" and streamed.content == b"chunk " * 2000


def test_middleware_prose_wsgi_is_deprecated(monkeypatch: pytest.MonkeyPatch) -> None:
    import starlette.middleware

    # A fresh import, undone afterwards so that other tests keep the module they imported.
    monkeypatch.delitem(sys.modules, "starlette.middleware.wsgi", raising=False)
    monkeypatch.setattr(starlette.middleware, "wsgi", None, raising=False)
    with pytest.warns(DeprecationWarning, match="a2wsgi"):
        importlib.import_module("starlette.middleware.wsgi")


# ---------------------------------------------------------------------------------------------
# lifespan.md
# ---------------------------------------------------------------------------------------------


@check("lifespan-basic")
def _lifespan_basic(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    with client_factory(module.app) as client:
        assert client.get("/events").json() == ["startup"]
    assert module.EVENTS == ["startup", "shutdown"]
    module.EVENTS.clear()
    assert client_factory(module.app).get("/events").json() == []


@check("lifespan-state")
def _lifespan_state(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    with client_factory(module.app) as client:
        assert client.get("/convert/USD?amount=10").json() == {"USD": 10.8}
        assert client.get("/convert/EUR").json() == {"EUR": 1.0}
        # The rebinding done by the first request did not leak into the lifespan state.
        assert client.app_state["started_by"] == "lifespan"


def test_lifespan_prose(test_client_factory: TestClientFactory) -> None:
    """lifespan.md: mounted lifespans are ignored, startup failures, state without server support,
    and the deprecated forms."""
    ran: list[str] = []

    @contextlib.asynccontextmanager
    async def inner_lifespan(app: Starlette) -> AsyncGenerator[None, None]:
        ran.append("inner")
        yield

    @contextlib.asynccontextmanager
    async def outer_lifespan(app: Starlette) -> AsyncGenerator[None, None]:
        ran.append("outer")
        yield

    inner = Starlette(lifespan=inner_lifespan)
    with test_client_factory(Starlette(routes=[Mount("/inner", app=inner)], lifespan=outer_lifespan)):
        pass
    assert ran == ["outer"]

    @contextlib.asynccontextmanager
    async def failing(app: Starlette) -> AsyncGenerator[None, None]:
        if not app.debug:
            raise ConnectionError("database unreachable")
        yield

    with pytest.raises(ConnectionError, match="database unreachable"):
        with test_client_factory(Starlette(lifespan=failing)):
            pass

    with pytest.warns(DeprecationWarning):
        Starlette(on_startup=[lambda: None])
    with pytest.raises(AssertionError):
        Starlette(on_startup=[], lifespan=outer_lifespan)

    async def bare(app: Starlette) -> AsyncIterator[None]:
        yield

    with pytest.warns(DeprecationWarning):
        test_client_factory(Starlette(lifespan=bare)).__enter__().__exit__(None, None, None)  # type: ignore[arg-type]  # the deprecated form


@pytest.mark.anyio
async def test_lifespan_prose_state_needs_server_support() -> None:
    @contextlib.asynccontextmanager
    async def stateful(app: Starlette) -> AsyncGenerator[dict[str, int], None]:
        yield {"answer": 42}

    sent: list[Message] = []
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match='^The server does not support "state" in the lifespan scope.$'):
        await Starlette(lifespan=stateful)({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"


# ---------------------------------------------------------------------------------------------
# background.md
# ---------------------------------------------------------------------------------------------


@check("background-single")
def _background_single(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).post("/orders", json={"email": "ada@example.net"})
    assert (response.status_code, response.json()) == (202, {"order_id": 1001})
    assert module.OUTBOX == [("ada@example.net", "Thanks for order #1001")]


@check("background-many")
def _background_many(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert client_factory(module.app).delete("/accounts/ada").text == "deleted"
    assert module.AUDIT_LOG == ["ada: account deleted", "cache cleared: user:ada"]


def test_background_prose_failures(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        raise OSError("smtp down")

    def second() -> None:
        ran.append("second")  # never runs, which is the point

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(
            "accepted", background=BackgroundTasks([BackgroundTask(first), BackgroundTask(second)])
        )

    app = Starlette(routes=[Route("/", endpoint)])
    with pytest.raises(OSError, match="smtp down"):
        test_client_factory(app).get("/")
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (200, "accepted")
    assert ran == ["first", "first"]


# ---------------------------------------------------------------------------------------------
# config.md
# ---------------------------------------------------------------------------------------------

_ENV_FILE = re.search(r"```text\n(# Local settings.*?)```", (DOCS / "config.md").read_text(encoding="utf-8"), re.DOTALL)
assert _ENV_FILE is not None


@check("config-settings", files={".env": _ENV_FILE[1]})
def _config_settings(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert module.DEBUG is True
    assert repr(module.DATABASE_URL) == "Secret('**********')"
    assert str(module.DATABASE_URL) == "postgresql://shop:hunter2@localhost/shop"
    assert str(module.SECRET_KEY) == "s3cr3t-s1gn1ng-k3y"
    assert list(module.ALLOWED_HOSTS) == ["shop.test", "*.shop.test"]
    assert module.PORT == int(os.environ.get("PORT", "8000"))
    assert module.SENTRY_DSN == os.environ.get("SENTRY_DSN")


@check("config-prefix")
def _config_prefix(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert module.WORKERS == 4


@check("config-environ")
def _config_environ(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert module.MODE == "production"
    assert module.MESSAGE == "Attempting to set environ['MODE'], but the value has already been read."
    with pytest.raises(EnvironError):
        del module.environ["MODE"]


def test_config_prose(tmp_path: Path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text("# comment\n\n  SPACED = ' quoted value '  \nNOT A SETTING\nLEVEL=lätt\n", encoding="latin-1")
    config = Config(env_file, environ={"FLAG": "Yes", "RETRIES": "three"}, encoding="latin-1")
    assert config("SPACED") == " quoted value "
    assert config("LEVEL") == "lätt"
    assert config("PORT", cast=int, default="8000") == 8000
    assert config.get("TIMEOUT", cast=float, default=None) is None
    for value, expected in (("TRUE", True), ("0", False), ("false", False), ("1", True)):
        assert Config(environ={"B": value})("B", cast=bool) is expected
    with pytest.raises(ValueError, match="^Config 'FLAG' has value 'yes'. Not a valid bool.$"):
        config("FLAG", cast=bool)
    with pytest.raises(ValueError, match="^Config 'RETRIES' has value 'three'. Not a valid int.$"):
        config("RETRIES", cast=int)
    with pytest.raises(KeyError, match="Config 'MISSING' is missing, and has no default."):
        config("MISSING")
    with pytest.warns(UserWarning, match="not found"):
        Config(tmp_path / "absent.env")
    assert bool(Secret("")) is False and bool(Secret("x")) is True
    hosts = CommaSeparatedStrings('a, "b, c"')
    assert (list(hosts), len(hosts), hosts[0], list(hosts[1:])) == (["a", "b, c"], 2, "a", ["b, c"])
    assert repr(CommaSeparatedStrings(["a", "b", "c"])) == "CommaSeparatedStrings(['a', 'b', 'c'])"


# ---------------------------------------------------------------------------------------------
# threadpool.md
# ---------------------------------------------------------------------------------------------


@check("threadpool-helpers")
def _threadpool_helpers(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).post("/digest", content=b"one\ntwo\nthree")
    assert response.json() == {"sha256x1000": module.slow_digest(b"one\ntwo\nthree", 1000), "lines": 3}


@check("threadpool-limit")
def _threadpool_limit(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    with client_factory(module.app) as client:
        assert client.get("/pool").json() == {"threads": 100}


def test_threadpool_prose(test_client_factory: TestClientFactory) -> None:
    """threadpool.md: which user code runs in a worker thread, and context variables."""
    loop_thread: list[int] = []
    seen: dict[str, int] = {}
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

    def sync_endpoint(request: Request) -> Response:
        seen["endpoint"] = threading.get_ident()
        assert request_id.get() == "set before"
        raise KeyError("to the handler")

    def sync_handler(request: Request, exc: Exception) -> Response:
        seen["handler"] = threading.get_ident()
        return PlainTextResponse("handled", background=BackgroundTask(sync_task))

    def sync_task() -> None:
        seen["task"] = threading.get_ident()

    def rows() -> Iterator[bytes]:
        seen["iterator"] = threading.get_ident()
        yield b"row"

    async def streaming(request: Request) -> Response:
        return StreamingResponse(rows())

    class SetContext(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            loop_thread.append(threading.get_ident())
            request_id.set("set before")
            return await call_next(request)

    app = Starlette(
        routes=[Route("/sync", sync_endpoint), Route("/stream", streaming)],
        middleware=[Middleware(SetContext)],
        exception_handlers={KeyError: sync_handler},
    )
    client = test_client_factory(app)
    assert client.get("/sync").text == "handled"
    assert client.get("/stream").text == "row"
    assert set(seen) == {"endpoint", "handler", "task", "iterator"}
    # Thread idents are only unique among live threads: compare with the loop of the same request.
    first_loop, second_loop = loop_thread
    assert first_loop not in (seen["endpoint"], seen["handler"], seen["task"])
    assert second_loop != seen["iterator"]


# ---------------------------------------------------------------------------------------------
# testclient.md: the examples are tests; run them as pytest would (fixtures unwrapped by hand).
# ---------------------------------------------------------------------------------------------


def _run_fixture_test(fixture: Any, test: Callable[..., None], *fixture_args: object) -> None:
    generator = fixture.__wrapped__(*fixture_args)
    test(next(generator))
    with pytest.raises(StopIteration):
        next(generator)


@check("testclient-basic")
def _testclient_basic(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    module.test_profile()
    assert client_factory(module.app, client=("10.0.0.7", 4321)).get("/profile").json()["client"] == "10.0.0.7"


@check("testclient-lifespan")
def _testclient_lifespan(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    _run_fixture_test(module.client, module.test_home)
    with client_factory(module.app) as client:
        assert client.get("/").text == "hello from the lifespan"


@check("testclient-errors")
def _testclient_errors(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    module.test_crash_raises()
    module.test_crash_response()


@check("testclient-websocket")
def _testclient_websocket(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    module.test_counter()
    module.test_counter_refuses_bad_tokens()
    assert issubclass(WebSocketDenialResponse, WebSocketDisconnect)
    assert issubclass(WebSocketDenialResponse, httpx.Response)


@check("testclient-backends")
def _testclient_backends(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    for backend in ("asyncio", "trio"):
        _run_fixture_test(module.client, module.test_home, types.SimpleNamespace(param=backend))


@check("testclient-async")
def _testclient_async(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    for backend in ("asyncio", "trio"):
        anyio.run(module.test_home, backend=backend)


def test_testclient_prose(test_client_factory: TestClientFactory) -> None:
    """testclient.md: base_url, root_path, the websocket handshake built by httpx."""

    async def where(request: Request) -> Response:
        return JSONResponse({"secure": request.url.is_secure, "root_path": request.scope["root_path"]})

    async def handshake(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="v1", headers=[(b"x-extra", b"1")])
        await websocket.send_json(
            {"url": str(websocket.url), "cookie": websocket.cookies.get("c"), "header": websocket.headers.get("x-h")}
        )
        await websocket.close()

    app = Starlette(routes=[Route("/where", where), WebSocketRoute("/ws", handshake)])
    client = test_client_factory(app, base_url="https://shop.test", root_path="/api", headers={"x-h": "h"})
    assert client.get("/where").json() == {"secure": True, "root_path": "/api"}
    client.cookies.set("c", "cookie-value")
    with client.websocket_connect("/ws?x=1", subprotocols=["v1", "v2"]) as session:
        assert (session.accepted_subprotocol, session.extra_headers) == ("v1", [(b"x-extra", b"1")])
        received = session.receive_json()
    assert received["url"].startswith("wss://shop.test/") and received["url"].endswith("/ws?x=1")
    assert (received["cookie"], received["header"]) == ("cookie-value", "h")


@check("testclient-root-path")
def _testclient_root_path(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    module.test_behind_a_prefix()
    client = client_factory(module.app, root_path="/api")
    public = {"path": "/api/users/7", "url": "http://testserver/api/users/7", "link": "http://testserver/api/users/7"}
    assert client.get("/users/7").json() == client.get("/api/users/7").json() == public
    assert client.get("/users/x").status_code == 404


def test_testclient_prose_root_path(test_client_factory: TestClientFactory) -> None:
    """testclient.md, "Serving under a root path": the prefix is added to paths outside it only."""

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        body = {"path": scope["path"], "raw_path": scope["raw_path"].decode(), "root_path": scope["root_path"]}
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive, send)
            await websocket.accept()
            await websocket.send_json(body)
            await websocket.close()
        else:
            await JSONResponse(body)(scope, receive, send)

    client = test_client_factory(echo, root_path="/api")
    cases = {
        "/users/a%20b": ("/api/users/a b", "/api/users/a%20b"),
        "/api/users/7": ("/api/users/7", "/api/users/7"),
        "/api": ("/api", "/api"),
        "/api/": ("/api/", "/api/"),
        "/apix": ("/api/apix", "/api/apix"),
        "/": ("/api/", "/api/"),
    }
    for requested, (path, raw_path) in cases.items():
        assert client.get(requested + "?q=1").json() == {"path": path, "raw_path": raw_path, "root_path": "/api"}
    with client.websocket_connect("/live") as websocket:
        assert websocket.receive_json() == {"path": "/api/live", "raw_path": "/api/live", "root_path": "/api"}
    spaced = test_client_factory(echo, root_path="/my api").get("/x").json()
    assert spaced == {"path": "/my api/x", "raw_path": "/my%20api/x", "root_path": "/my api"}
    assert test_client_factory(echo).get("/x").json() == {"path": "/x", "raw_path": "/x", "root_path": ""}

    async def item(request: Request) -> Response:
        return JSONResponse({"url": str(request.url), "link": str(request.url_for("v1:shop:item", sku="k-1"))})

    shop = Mount("/shop", routes=[Route("/{sku}", item, name="item")], name="shop")
    nested = Starlette(routes=[Mount("/v1", routes=[shop], name="v1")])
    nested_client = test_client_factory(nested, root_path="/api")
    expected = {"url": "http://testserver/api/v1/shop/k-1", "link": "http://testserver/api/v1/shop/k-1"}
    assert nested_client.get("/v1/shop/k-1").json() == expected
    assert nested_client.get("/api/v1/shop/k-1").json() == expected
    assert nested_client.get("/v2/shop/k-1").status_code == 404


# ---------------------------------------------------------------------------------------------
# staticfiles.md
# ---------------------------------------------------------------------------------------------

_SITE_FILES = {
    "static/css/site.css": "body { color: teal; }\n",
    "site/index.html": "<h1>Home</h1>",
    "site/404.html": "<h1>No such page</h1>",
    "site/guide/index.html": "<h1>Guide</h1>",
    "secret.txt": "do not serve",
}


@check("staticfiles-mount", files=_SITE_FILES)
def _staticfiles_mount(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    css = client.get("/static/css/site.css")
    assert (css.text, css.headers["content-type"]) == ("body { color: teal; }\n", "text/css; charset=utf-8")
    assert client.get("/").text == "<h1>Home</h1>"
    redirect = client.get("/guide", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/guide/")
    assert client.get("/guide").text == "<h1>Guide</h1>"
    missing = client.get("/missing")
    assert (missing.status_code, missing.text) == (404, "<h1>No such page</h1>")
    plain_missing = client.get("/static/css/missing.css")
    assert (plain_missing.status_code, plain_missing.text) == (404, "Not Found")
    refused = client.post("/static/css/site.css")
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    part = client.get("/static/css/site.css", headers={"range": "bytes=0-3"})
    assert (part.status_code, part.text) == (206, "body")
    cached = client.get("/static/css/site.css", headers={"if-none-match": css.headers["etag"]})
    assert (cached.status_code, cached.content) == (304, b"")
    by_date = client.get("/static/css/site.css", headers={"if-modified-since": css.headers["last-modified"]})
    assert by_date.status_code == 304
    etag_wins = client.get(
        "/static/css/site.css",
        headers={"if-none-match": '"other"', "if-modified-since": css.headers["last-modified"]},
    )
    assert etag_wins.status_code == 200
    assert module.app.url_path_for("static", path="/css/site.css") == "/static/css/site.css"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/static/css/site.css"):
        pass


@pytest.mark.anyio
async def test_staticfiles_prose_paths_outside_are_missing(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "secret.txt").write_text("do not serve")
    (tmp_path / "public" / "link.txt").symlink_to(tmp_path / "secret.txt")
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    for follow, path, expected in (
        (False, "/../secret.txt", 404),
        (False, "/link.txt", 404),
        (True, "/link.txt", 200),
    ):
        sent.clear()
        app = StaticFiles(directory=tmp_path / "public", follow_symlink=follow)
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [], "query_string": b""}
        try:
            await app(scope, receive, send)
        except HTTPException as exc:
            assert exc.status_code == expected
        else:
            assert sent[0]["status"] == expected
    with pytest.raises(RuntimeError, match="^Directory '.*nowhere' does not exist$"):
        StaticFiles(directory=tmp_path / "nowhere")
    with pytest.raises(AssertionError):
        StaticFiles(packages=["no_such_package_for_docs"])


# ---------------------------------------------------------------------------------------------
# templates.md
# ---------------------------------------------------------------------------------------------


def _text_block_after(page: str, marker: str) -> str:
    """The ```text block that follows `marker` on a page (files the examples rely on)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = re.search(re.escape(marker) + r".*?```text\n(.*?)```", text, re.DOTALL)
    assert found is not None, marker
    return found[1]


@check(
    "templates-basic",
    files={
        "templates/layout.html": _text_block_after("templates.md", "Given `templates/layout.html`:"),
        "templates/recipe.html": _text_block_after("templates.md", "and `templates/recipe.html`:"),
        "static/site.css": "h1 { font-size: 2em; }\n",
    },
)
def _templates_basic(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    response = client.get("/recipes/pancakes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Pancakes - Kitchen notes</title>" in response.text
    assert "<h1>Pancakes!</h1>" in response.text
    assert "Rest the batter &lt;at least&gt; 30 minutes." in response.text
    assert 'href="http://testserver/static/site.css"' in response.text
    assert 'href="http://testserver/recipes/pancakes"' in response.text
    assert cast(Any, response).template.name == "recipe.html"
    context = cast(Any, response).context
    assert context["recipe"]["title"] == "Pancakes" and context["site_name"] == "Kitchen notes"
    assert context["request"].url.path == "/recipes/pancakes"
    omelette = client.get("/recipes/omelette")
    assert (cast(Any, omelette).template.name, cast(Any, omelette).context["recipe"]["title"]) == (
        "recipe.html",
        "Omelette",
    )
    missing = client.get("/recipes/soup")
    assert missing.status_code == 404 and "Unknown recipe" in missing.text
    assert client.get("/static/site.css").status_code == 200


@check("templates-env")
def _templates_env(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).get("/hello?name=<Ada>")
    assert response.text == "Hello <Ada>, you are visitor 7."
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "url_for" in module.environment.globals


def test_templates_prose(tmp_path: Path, test_client_factory: TestClientFactory) -> None:
    (tmp_path / "page.html").write_text("{{ request.url.path }} {{ extra }}")
    with pytest.raises(AssertionError):
        Jinja2Templates()  # type: ignore[call-overload]  # the documented error: no directory, no env
    with pytest.raises(AssertionError):
        Jinja2Templates(directory=tmp_path, env=jinja2.Environment())
    with pytest.warns(DeprecationWarning):
        Jinja2Templates(directory=tmp_path, auto_reload=True)
    templates = Jinja2Templates(directory=[tmp_path / "missing", tmp_path])

    async def old_style(request: Request) -> Response:
        return templates.TemplateResponse("page.html", {"request": request, "extra": "old"})

    client = test_client_factory(Starlette(routes=[Route("/old", old_style)]))
    with pytest.warns(DeprecationWarning):
        assert client.get("/old").text == "/old old"


# ---------------------------------------------------------------------------------------------
# schemas.md
# ---------------------------------------------------------------------------------------------


@check("schemas-generator")
def _schemas_generator(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    expected = ast.literal_eval(_text_block_after("schemas.md", "`schemas.get_schema(routes=app.routes)` gives:"))
    assert module.schemas.get_schema(routes=module.app.routes) == expected
    client = client_factory(module.app)
    served = client.get("/openapi.yaml")
    assert served.headers["content-type"] == "application/vnd.oai.openapi"
    assert yaml.safe_load(served.text) == expected
    assert client.post("/v1/books/3/loan").json() == {"loaned": 3}
    endpoints = module.schemas.get_endpoints(module.app.routes)
    assert [(e.path, e.http_method) for e in endpoints] == [
        ("/v1/books", "get"),
        ("/v1/books/{book_id}/loan", "post"),
        ("/health", "get"),
    ]


# ---------------------------------------------------------------------------------------------
# authentication.md
# ---------------------------------------------------------------------------------------------


@check("authentication-backend")
def _authentication_backend(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/whoami").json() == {"authenticated": False, "name": "", "scopes": []}
    reader = {"authorization": "Bearer t-reader"}
    admin = {"authorization": "Bearer t-admin"}
    assert client.get("/whoami", headers=admin).json() == {
        "authenticated": True,
        "name": "grace",
        "scopes": ["authenticated", "admin"],
    }
    invalid = client.get("/whoami", headers={"authorization": "Bearer forged"})
    assert (invalid.status_code, invalid.text) == (400, "Invalid bearer token")
    assert client.get("/reports").status_code == 403
    assert client.get("/reports", headers=reader).text == "reports for ada"
    assert client.get("/admin", headers=reader).status_code == 404
    assert client.get("/admin", headers=admin).text == "admin panel"


@check("authentication-redirect")
def _authentication_redirect(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    redirect = client.get("/dashboard?tab=2", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "http://testserver/login?next=http%3A%2F%2Ftestserver%2Fdashboard%3Ftab%3D2"
    assert client.get("/dashboard?tab=2").text == "please log in, then go back to http://testserver/dashboard?tab=2"
    client.cookies.set("user", "ada")
    assert client.get("/dashboard").text == "dashboard of ada"


@check("authentication-on-error")
def _authentication_on_error(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    response = client_factory(module.app).get("/")
    assert (response.status_code, response.json()) == (401, {"error": "This service is closed"})
    assert response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(WebSocketDisconnect), client_factory(module.app).websocket_connect("/"):
        pass


def test_authentication_prose(test_client_factory: TestClientFactory) -> None:
    class Anonymous(AuthenticationBackend):
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
            return None

    @requires("authenticated")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()

    @requires("authenticated")
    def sync_page(request: Request) -> Response:
        return PlainTextResponse("never")

    app = Starlette(
        routes=[WebSocketRoute("/live", live), Route("/sync", sync_page)],
        middleware=[Middleware(AuthenticationMiddleware, backend=Anonymous())],
    )
    client = test_client_factory(app)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/live"):
        pass
    assert client.get("/sync").status_code == 403
    with pytest.raises(Exception, match='No "request" or "websocket" argument'):

        @requires("authenticated")
        async def wrong(conn: Request) -> Response:
            return PlainTextResponse("never")

    with pytest.raises(NotImplementedError):
        SimpleUser("ada").identity  # noqa: B018
    assert (UnauthenticatedUser().is_authenticated, UnauthenticatedUser().display_name) == (False, "")


# ---------------------------------------------------------------------------------------------
# typing.md, and the promise that every example type-checks
# ---------------------------------------------------------------------------------------------


@check("typing-app")
def _typing_app(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    with client_factory(module.app) as client:
        guest = client.get("/stock/lamp")
        assert guest.json() == {"item": "lamp", "count": 2, "greeting": "hello guest"}
        assert guest.headers["x-served-by"] == "Lamps & Desks"
        customer = client.get("/stock/desk", headers={"x-customer": "7"})
        assert customer.json() == {"item": "desk", "count": 1, "greeting": "hello customer 7"}
        missing = client.get("/stock/sofa")
        assert (missing.status_code, missing.json()) == (404, {"error": "no sofa here"})
        assert client.get("/elsewhere").json() == {"error": "Not Found"}


_MYPY_PROBES = """
from starlette.background import BackgroundTask
from starlette.config import Config
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware


def send_mail(address: str) -> None: ...


Middleware(CORSMiddleware, allow_origin=["*"])  # E: allow_origins
BackgroundTask(send_mail, 42)  # E: incompatible type
config = Config(environ={})
reveal_type(config("PORT", cast=int))  # N: int
reveal_type(config("NAME"))  # N: str
reveal_type(config("DSN", default=None))  # N: str | None
reveal_type(config("RATE", cast=float, default=None))  # N: float | None
"""


def test_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """typing.md: "every example in this documentation passes `mypy --strict`", and the errors
    and revealed types the page quotes."""
    from mypy import api

    files = []
    for example in EXAMPLES:
        target = tmp_path / f"docs_{example.label.replace('-', '_').replace(':', '_').replace('.', '_')}.py"
        target.write_text(example.code, encoding="utf-8")
        files.append(str(target))
    probes = tmp_path / "probes.py"
    probes.write_text(_MYPY_PROBES, encoding="utf-8")
    stdout, stderr, status = api.run(
        ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / ".mypy_cache"), *files, str(probes)]
    )
    reported = [line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith(str(tmp_path))]
    expected = [
        'error: Unexpected keyword argument "allow_origin" for "Middleware"; did you mean "allow_origins"?  [call-arg]',
        'note: "Middleware" defined in "starlette.middleware"',
        'error: Argument 2 to "BackgroundTask" has incompatible type "int"; expected "str"  [arg-type]',
        'note: Revealed type is "int"',
        'note: Revealed type is "str"',
        'note: Revealed type is "str | None"',
        'note: Revealed type is "float | None"',
    ]
    assert reported == expected, stdout + stderr
    assert status == 1


# ---------------------------------------------------------------------------------------------
# Statements of the prose that no example shows.
# ---------------------------------------------------------------------------------------------


def test_prose_deprecated_decorators() -> None:
    """applications.md: the decorator forms still work but warn."""
    app = Starlette()

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")  # never called

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.close()  # never called

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)  # never called

    with pytest.warns(DeprecationWarning):
        app.route("/")(endpoint)
    with pytest.warns(DeprecationWarning):
        app.websocket_route("/ws")(websocket_endpoint)
    with pytest.warns(DeprecationWarning):
        app.middleware("http")(dispatch)
    with pytest.warns(DeprecationWarning):
        app.on_event("startup")(lambda: None)


def test_prose_form_part_size_and_disconnect_probe(test_client_factory: TestClientFactory) -> None:
    """requests.md: `max_part_size` bounds non-file parts; `is_disconnected()` does not block."""

    async def endpoint(request: Request) -> Response:
        assert await request.is_disconnected() is False
        async with request.form(max_part_size=1024) as form:
            return PlainTextResponse(str(len(form)))

    client = test_client_factory(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))
    assert client.post("/", files={"upload": ("big.bin", b"x" * 5000)}).text == "1"
    too_big = client.post("/", data={"field": "x" * 5000}, files={"upload": ("small.bin", b"x")})
    assert (too_big.status_code, too_big.text) == (400, "Part exceeded maximum size of 1KB.")


def test_prose_cors_wildcard_with_cookies(test_client_factory: TestClientFactory) -> None:
    """middleware.md: with allow_origins=["*"], credentialed requests get their origin echoed."""

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = CORSMiddleware(Router(routes=[Route("/", endpoint)]), allow_origins=["*"])
    client = test_client_factory(app)
    anonymous = client.get("/", headers={"origin": "https://a.example"})
    assert anonymous.headers["access-control-allow-origin"] == "*" and "vary" not in anonymous.headers
    with_cookie = client.get("/", headers={"origin": "https://a.example", "cookie": "k=v"})
    assert with_cookie.headers["access-control-allow-origin"] == "https://a.example"
    assert with_cookie.headers["vary"] == "Origin"


def test_prose_sessions_on_websockets(test_client_factory: TestClientFactory) -> None:
    """middleware.md: `websocket.session` reads the session cookie."""

    async def login(request: Request) -> Response:
        request.session["user"] = "ada"
        return PlainTextResponse("ok")

    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(str(websocket.session.get("user")))
        await websocket.close()

    app = Starlette(
        routes=[Route("/login", login), WebSocketRoute("/live", live)],
        middleware=[Middleware(SessionMiddleware, secret_key="k")],
    )
    client = test_client_factory(app)
    client.get("/login")
    with client.websocket_connect("/live") as websocket:
        assert websocket.receive_text() == "ada"


def test_prose_staticfiles_check_dir(tmp_path: Path, test_client_factory: TestClientFactory) -> None:
    """staticfiles.md: with check_dir=False, a missing directory is reported on the first request."""
    app = StaticFiles(directory=tmp_path / "later", check_dir=False)
    with pytest.raises(RuntimeError, match="^StaticFiles directory '.*later' does not exist.$"):
        test_client_factory(app).get("/anything")
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "a.txt").write_text("now here")
    assert (
        test_client_factory(StaticFiles(directory=tmp_path / "later", check_dir=False)).get("/a.txt").text == "now here"
    )
