"""In-process throughput: a Starlette app against a hand-written raw ASGI app.

Runs N requests straight through each app's ASGI callable (no server, no sockets), so what
is measured is the framework's own per-request cost: routing, Request/Response objects,
middleware stack, header encoding.

    .venv/bin/python benchmarks/inprocess.py [--requests N] [--backend asyncio|trio]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable

import anyio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Message, Receive, Scope, Send


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    if path == "/":
        body = b"Hello, world!"
        content_type = b"text/plain; charset=utf-8"
    elif path.startswith("/users/"):
        body = json.dumps({"user": int(path.rsplit("/", 1)[1])}).encode()
        content_type = b"application/json"
    else:
        body = b"Not Found"
        content_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def homepage(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


async def user(request: Request) -> Response:
    return JSONResponse({"user": request.path_params["user_id"]})


async def other(request: Request) -> Response:
    return PlainTextResponse("other")


def make_starlette() -> Starlette:
    # Some routes before the interesting ones, as a real application has.
    filler = [Route(f"/section-{index}/{{item}}", other) for index in range(20)]
    return Starlette(
        routes=[
            *filler,
            Route("/", homepage),
            Mount("/api", routes=[Route("/users/{user_id:int}", user)]),
        ]
    )


def make_scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }


async def run(app: Callable[[Scope, Receive, Send], Awaitable[None]], path: str, requests: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    for _ in range(200):  # warm up (builds the middleware stack, fills caches)
        await app(make_scope(path), receive, send)
    start = time.perf_counter()
    for _ in range(requests):
        await app(make_scope(path), receive, send)
    return requests / (time.perf_counter() - start)


async def main(requests: int) -> None:
    app = make_starlette()
    for label, raw_path, path in [("plain text /", "/", "/"), ("json /api/users/{id}", "/users/42", "/api/users/42")]:
        raw = await run(raw_app, raw_path, requests)
        framework = await run(app, path, requests)
        ratio = framework / raw
        print(f"{label:28} raw ASGI {raw:10.0f} req/s   starlette {framework:10.0f} req/s   ratio {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    args = parser.parse_args()
    anyio.run(main, args.requests, backend=args.backend)
