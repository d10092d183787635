"""Mistakes that type checking must catch: each snippet is checked by mypy --strict (one run
for all of them) and must give exactly the errors marked `# E: <code>` on its lines."""

from __future__ import annotations

import re
from pathlib import Path

import mypy.api

SNIPPETS: dict[str, str] = {
    "middleware_options": """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

Middleware(CORSMiddleware, allow_origin=["*"])  # E: call-arg
Middleware(CORSMiddleware, max_age="600")  # E: arg-type
Middleware(SessionMiddleware, secret_key="k", same_site="Lax")  # E: arg-type
Middleware(SessionMiddleware)  # E: call-arg
app = Starlette()
app.add_middleware(GZipMiddleware, minimum_size="big")  # E: arg-type
app.add_middleware(GZipMiddleware, minimum=1)  # E: call-arg
""",
    "routes_and_handlers": """
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.websockets import WebSocket


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.close()


async def http_endpoint(request: Request) -> Response:
    return Response()


async def returns_text(request: Request, exc: Exception) -> str:
    return "text"


async def handler(request: Request, exc: Exception) -> Response:
    return Response()


async def on_http_exception(request: Request, exc: HTTPException) -> Response:
    return Response(status_code=exc.status_code)


app = Starlette()
app.add_route("/", websocket_endpoint)  # E: arg-type
app.add_websocket_route("/ws", http_endpoint)  # E: arg-type
app.add_exception_handler(404, returns_text)  # E: arg-type
app.add_exception_handler("404", handler)  # E: call-overload
app.add_exception_handler(ValueError, on_http_exception)  # E: arg-type
app.add_exception_handler(404, on_http_exception)  # E: arg-type
Route("/", http_endpoint, ["GET"])  # E: call-arg
Router().add_route("/", websocket_endpoint)  # E: arg-type
""",
    "lifespans": """
import contextlib
from collections.abc import AsyncGenerator

from starlette.applications import Starlette


class OtherApp(Starlette): ...


@contextlib.asynccontextmanager
async def other_lifespan(app: OtherApp) -> AsyncGenerator[None, None]:
    yield


@contextlib.asynccontextmanager
async def int_lifespan(app: Starlette) -> AsyncGenerator[int, None]:
    yield 1


Starlette(lifespan=other_lifespan)  # E: arg-type
Starlette(lifespan=int_lifespan)  # E: arg-type
OtherApp(lifespan=other_lifespan)
""",
    "request_values": """
from starlette.requests import Request


async def endpoint(request: Request) -> None:
    request.query_params["page"] + 1  # E: operator
    request.headers.get("x-token").lower()  # E: union-attr
    request.client.host  # E: union-attr
    request.method = "GET"  # E: misc
    form = await request.form()
    await form["upload"].read()  # E: union-attr
    body: str = await request.body()  # E: assignment
    request.url.path = "/"  # E: misc
""",
    "config_values": """
from starlette.config import Config

config = Config()
port: str = config("PORT", cast=int)  # E: assignment
debug: bool = config("DEBUG")  # E: assignment
name: str = config("NAME", default=None)  # E: arg-type
timeout: float = config("TIMEOUT", cast=float, default=None)  # E: assignment
""",
    "responses_and_tasks": """
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles


def send_email(address: str, *, retries: int = 1) -> None: ...


BackgroundTask(send_email, 42)  # E: arg-type
BackgroundTask(send_email, "a@example.org", retry=2)  # E: call-arg
BackgroundTasks().add_task(send_email)  # E: call-arg
JSONResponse()  # E: call-arg
Response(status_code="200")  # E: arg-type
Response().set_cookie("a", "b", samesite="Lax")  # E: arg-type
StreamingResponse([{"a": 1}])  # E: list-item
StaticFiles("static")  # E: call-arg
HTTPException("404")  # E: arg-type


async def compute() -> None:
    total: str = await run_in_threadpool(sum, [1, 2])  # E: arg-type
    await run_in_threadpool(send_email, 1)  # E: arg-type
""",
    "templates": """
from starlette.requests import Request
from starlette.templating import Jinja2Templates

templates = Jinja2Templates(directory="templates")


def page(request: Request) -> None:
    templates.TemplateResponse(request, "page.html", status=404)  # E: call-overload
    templates.TemplateResponse(request, "page.html", {}, "200")  # E: call-overload
    templates.TemplateResponse(request)  # E: call-overload
    templates.TemplateResponse("page.html", {"request": request}, 200, {"x": 1})  # E: dict-item
""",
    "test_client": """
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

client = TestClient(PlainTextResponse("x"), backend="curio")  # E: arg-type
client.get("/").missing  # E: attr-defined
with client.websocket_connect("/ws") as session:
    session.send_json({}, mode="bytes")  # E: arg-type
    text: bytes = session.receive_text()  # E: assignment
""",
}

_EXPECTED = re.compile(r"#\s*E:\s*([a-z-]+)")
_ERROR = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def _expected_errors(files: dict[str, str]) -> set[tuple[str, int, str]]:
    expected: set[tuple[str, int, str]] = set()
    for file_name, source in files.items():
        for line_number, line in enumerate(source.splitlines(), start=1):
            for code in _EXPECTED.findall(line):
                expected.add((file_name, line_number, code))
    return expected


def test_mistakes_are_reported_by_mypy(tmp_path: Path) -> None:
    files = {f"snippet_{name}.py": source.lstrip("\n") for name, source in SNIPPETS.items()}
    for file_name, source in files.items():
        (tmp_path / file_name).write_text(source)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nwarn_unreachable = True\nshow_error_codes = True\n")

    stdout, stderr, _ = mypy.api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            *(str(tmp_path / file_name) for file_name in files),
        ]
    )

    assert stderr == ""
    found: set[tuple[str, int, str]] = set()
    unparsed: list[str] = []
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            found.add((Path(match["file"]).name, int(match["line"]), match["code"]))
        elif ": note: " not in line:
            unparsed.append(line)
    assert unparsed == []
    expected = _expected_errors(files)
    assert (sorted(found - expected), sorted(expected - found)) == ([], []), stdout
