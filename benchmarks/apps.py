"""The applications and scenarios every benchmark drives.

Each scenario is served twice: by a Starlette application (`starlette_app`, or
`starlette_middleware_app` for the middleware scenario) and by `raw_app`, a hand-written ASGI
application doing the same work (same routing decision, same JSON/query parsing, same response
bytes) with nothing in between. The ratio of the two is the framework's overhead.

Both also serve the lifespan protocol, so that they can run behind uvicorn unchanged:

    uvicorn benchmarks.apps:starlette_app
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Scenario:
    """One kind of request, and the response both implementations must give to it."""

    name: str
    description: str
    method: str
    path: str
    query_string: bytes = b""
    body: bytes = b""
    status: int = 200
    expected_body: bytes | None = None  # None: not checked (HEAD: servers strip it anyway)
    middleware: bool = False  # served by `starlette_middleware_app`


_ITEM = {"name": "widget", "price": 9.5, "tags": ["a", "b"]}
STREAM_CHUNKS = (b"chunk-1\n", b"chunk-2\n", b"chunk-3\n")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("plaintext", "GET / -> PlainTextResponse", "GET", "/", expected_body=b"Hello, world!"),
    Scenario(
        "path_json",
        "GET /users/{id:int} -> JSONResponse",
        "GET",
        "/users/42",
        expected_body=b'{"user_id":42}',
    ),
    Scenario(
        "query",
        "GET /search?q=..&page=..&tag=..&tag=.. -> JSONResponse",
        "GET",
        "/search",
        query_string=b"q=starlette&page=2&tag=a&tag=b",
        expected_body=b'{"q":"starlette","page":2,"tags":["a","b"]}',
    ),
    Scenario(
        "post_json",
        "POST /items, small JSON body via request.json() -> JSONResponse",
        "POST",
        "/items",
        body=json.dumps(_ITEM).encode(),
        expected_body=b'{"id":1,"name":"widget","price":9.5,"tags":["a","b"]}',
    ),
    Scenario(
        "middleware",
        "GET /mw behind a pure ASGI middleware and a BaseHTTPMiddleware",
        "GET",
        "/mw",
        expected_body=b"Hello, world!",
        middleware=True,
    ),
    Scenario("not_found", "GET /missing -> 404", "GET", "/missing", status=404, expected_body=b"Not Found"),
    Scenario(
        "mount",
        "GET /sub/items/{id} in a Starlette app mounted at /sub",
        "GET",
        "/sub/items/7",
        expected_body=b"item 7",
    ),
    Scenario(
        "streaming",
        "GET /stream -> StreamingResponse of 3 chunks",
        "GET",
        "/stream",
        expected_body=b"".join(STREAM_CHUNKS),
    ),
    Scenario("head", "HEAD / -> PlainTextResponse", "HEAD", "/"),
)


# --- Starlette ---------------------------------------------------------------------------


async def homepage(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


async def user(request: Request) -> Response:
    return JSONResponse({"user_id": request.path_params["user_id"]})


async def search(request: Request) -> Response:
    params = request.query_params
    return JSONResponse({"q": params["q"], "page": int(params.get("page", "1")), "tags": params.getlist("tag")})


async def create_item(request: Request) -> Response:
    item = await request.json()
    return JSONResponse({"id": 1, **item})


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in STREAM_CHUNKS:
            yield chunk

    return StreamingResponse(chunks(), media_type="text/plain")


async def sub_item(request: Request) -> Response:
    return PlainTextResponse(f"item {request.path_params['item_id']}")


async def other(request: Request) -> Response:
    return PlainTextResponse("other")


class PureASGIMiddleware:
    """Adds a response header, the way pure ASGI middleware does: by wrapping `send`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-pure", b"1")]
            await send(message)

        await self.app(scope, receive, send_with_header)


class HeaderMiddleware(BaseHTTPMiddleware):
    """Adds a response header through `call_next`."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["x-base"] = "1"
        return response


def make_starlette_app() -> Starlette:
    # Routes before the interesting ones, as a real application has.
    filler = [Route(f"/section-{index}/{{item}}", other) for index in range(20)]
    sub_app = Starlette(routes=[Route("/items/{item_id}", sub_item)])
    return Starlette(
        routes=[
            *filler,
            Route("/", homepage),
            Route("/users/{user_id:int}", user),
            Route("/search", search),
            Route("/items", create_item, methods=["POST"]),
            Route("/stream", stream),
            Mount("/sub", app=sub_app),
        ]
    )


def make_starlette_middleware_app() -> Starlette:
    return Starlette(
        routes=[Route("/mw", homepage)],
        middleware=[Middleware(PureASGIMiddleware), Middleware(HeaderMiddleware)],
    )


starlette_app = make_starlette_app()
starlette_middleware_app = make_starlette_middleware_app()


# --- Raw ASGI ----------------------------------------------------------------------------

_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"


async def _respond(send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", content_type), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Every scenario, written directly against ASGI."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path: str = scope["path"]
    method: str = scope["method"]
    if path == "/" or path == "/mw":
        extra = [(b"x-pure", b"1"), (b"x-base", b"1")] if path == "/mw" else []
        await _respond(send, 200, b"Hello, world!", _TEXT, extra)
    elif path.startswith("/users/"):
        await _respond(send, 200, _dumps({"user_id": int(path[7:])}), _JSON, [])
    elif path == "/search":
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        params = dict(pairs)
        tags = [value for key, value in pairs if key == "tag"]
        result = {"q": params["q"], "page": int(params.get("page", "1")), "tags": tags}
        await _respond(send, 200, _dumps(result), _JSON, [])
    elif path == "/items" and method == "POST":
        item = json.loads(await _read_body(receive))
        await _respond(send, 200, _dumps({"id": 1, **item}), _JSON, [])
    elif path.startswith("/sub/items/"):
        await _respond(send, 200, f"item {path[11:]}".encode(), _TEXT, [])
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", _TEXT)]})
        for chunk in STREAM_CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        await _respond(send, 404, b"Not Found", _TEXT, [])
