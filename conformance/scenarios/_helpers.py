"""Small raw ASGI building blocks shared by the scenario modules."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

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

    result = convert({k: v for k, v in scope.items() if k not in ("app", "router")})
    result["_types"] = {k: type(v).__name__ for k, v in scope.items()}
    return result  # type: ignore[no-any-return]  # convert() of a Mapping is a dict


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
