"""Small raw ASGI building blocks shared by the scenario modules."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import anyio

from starlette.types import Message, Receive, Scope, Send


def jsonable_scope(scope: Scope) -> dict[str, Any]:
    """The scope as JSON-friendly data: bytes become latin-1 strings, tuples lists, objects repr."""

    def convert(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        return repr(value)

    result: dict[str, Any] = convert({k: v for k, v in scope.items() if k not in ("app", "router")})
    result["_types"] = {k: type(v).__name__ for k, v in scope.items()}
    return result


async def send_response(
    send: Send,
    status: int = 200,
    body: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    content_type: bytes | None = b"text/plain",
) -> None:
    """Send a complete response with a Content-Length (and Content-Type unless None)."""
    all_headers = list(headers)
    if content_type is not None:
        all_headers.append((b"content-type", content_type))
    all_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, data: Any, status: int = 200) -> None:
    """Send ``data`` as a JSON response."""
    await send_response(send, status, json.dumps(data).encode(), content_type=b"application/json")


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """Receive the whole request body; returns it and the messages it came in."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


async def scope_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an HTTP request with the scope it was called with, as JSON."""
    await read_body(receive)
    await send_json(send, jsonable_scope(scope))


def query_param(scope: Scope, name: str, default: str = "") -> str:
    """The first value of the query parameter ``name`` of the request."""
    raw: bytes = scope["query_string"]
    return parse_qs(raw.decode("latin-1")).get(name, [default])[0]


# --- Observations ----------------------------------------------------------------------------
# Apps run in the server's process, checks in ours: what an app observes and cannot put in its
# response (a disconnect, whether a late send raised) is posted under a token in module memory,
# and a follow-up request to the same scenario takes it (waiting, bounded, until it is there).

_OBSERVED: dict[str, Any] = {}
_ARRIVED: dict[str, anyio.Event] = {}
_NOTHING = object()


def _arrival(token: str) -> anyio.Event:
    return _ARRIVED.setdefault(token, anyio.Event())


def post(token: str, value: Any) -> None:
    """Post ``value`` under ``token`` (waking whoever waits to take it)."""
    _OBSERVED[token] = value
    _arrival(token).set()


async def take(token: str, wait: float) -> Any:
    """The value posted under ``token``, waiting up to ``wait`` seconds (None if none came); forgotten then."""
    with anyio.move_on_after(wait):
        await _arrival(token).wait()
    _ARRIVED.pop(token, None)
    return _OBSERVED.pop(token, None)


def take_if_posted(token: str) -> bool:
    """Whether something was posted under ``token`` (without waiting); forgotten then."""
    _ARRIVED.pop(token, None)
    return _OBSERVED.pop(token, _NOTHING) is not _NOTHING
