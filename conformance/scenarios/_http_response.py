"""Support for the ``http.response.*`` scenarios: app building blocks, observations, a raw reader.

Apps run in the server's process, checks in ours. What an app observes and cannot put in its
response (whether a late ``send()`` raised, say) is posted under a token from the query string;
the check fetches it with a follow-up request to ``/_report?token=T`` (which waits, bounded, for
the value). ``/_ack?token=T`` wakes an app waiting for the client to acknowledge something (the
server-sent events scenario): the app registers its waiter before it sends what is to be
acknowledged, so an acknowledgement never arrives before there is someone to receive it.

:class:`Reader` reads HTTP/1.1 responses off a socket with every framing a server may choose
(RFC 9112 section 6.3): no body (HEAD, 1xx, 204, 304), chunked (trailers kept), Content-Length,
or delimited by the connection closing. A response cut short is returned with ``complete``
False instead of raising, since several scenarios are about exactly that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

import anyio
import httpx

from conformance import Session, expect
from conformance.scenarios._helpers import post as post_observation, query_param as query, read_body, send_json, take
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: How long an app waits for an observation's reader or for the client; and a check for a report.
WAIT = 5.0
#: How long a raw read waits for more bytes before deciding the server has nothing more to send.
RAW_TIMEOUT = 3.0


# --- App building blocks -----------------------------------------------------------------------


def start(status: int = 200, headers: Sequence[tuple[bytes, bytes]] = (), **extra: Any) -> Message:
    """An ``http.response.start`` message."""
    return {"type": "http.response.start", "status": status, "headers": list(headers), **extra}


def body(data: bytes = b"", more: bool = False) -> Message:
    """An ``http.response.body`` message."""
    return {"type": "http.response.body", "body": data, "more_body": more}


def length(data: bytes) -> tuple[bytes, bytes]:
    """The Content-Length header for ``data``."""
    return (b"content-length", str(len(data)).encode())


def replay(*messages: Message) -> ASGIApp:
    """An app that reads the request body, then sends ``messages`` as they are."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        for message in messages:
            await send(dict(message))

    return app


async def attempt(action: Awaitable[object]) -> str:
    """Await ``action``: "ok" if it worked, else "raised <exception type name>"."""
    try:
        await action
    except Exception as exc:
        return f"raised {type(exc).__name__}"
    return "ok"


# --- Observations and acknowledgements -----------------------------------------------------------


class _Nobody:
    """Stands in for a waiter that is not there (an acknowledgement nobody waits for)."""

    def set(self) -> None:
        """Nothing to wake."""


_NOBODY = _Nobody()
_ACKS: dict[str, anyio.Event] = {}


def post(scope: Scope, value: Any) -> None:
    """Record ``value`` under the request's token, for the check's ``/_report`` request."""
    post_observation(query(scope, "token"), value)


def waiter(scope: Scope) -> anyio.Event:
    """Register (before sending what is to be acknowledged) the event ``/_ack`` will set."""
    event = _ACKS[query(scope, "token")] = anyio.Event()
    return event


async def acknowledged(scope: Scope, event: anyio.Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the acknowledgement: whether it came."""
    with anyio.move_on_after(timeout):
        await event.wait()
    _ACKS.pop(query(scope, "token"), None)
    return event.is_set()


def reporting(app: ASGIApp) -> ASGIApp:
    """``app``, plus ``/_report?token=T`` (the value posted under T, null if none within WAIT
    seconds) and ``/_ack?token=T`` (wakes the app waiting for T; answers whether one was)."""

    async def reporting_app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        token = query(scope, "token")
        if path == "/_report":
            await send_json(send, {"value": await take(token, WAIT)})
        elif path == "/_ack":
            event = _ACKS.pop(token, _NOBODY)
            event.set()
            await send_json(send, {"waiting": event is not _NOBODY})
        else:
            await app(scope, receive, send)

    return reporting_app


def report(s: Session, token: str) -> Any:
    """The value the app posted under ``token`` (fails the scenario if none came)."""
    response = s.http.get("/_report", params={"token": token})
    value = response.json()["value"]
    expect(value is not None, f"the app posted no observation within {WAIT:.0f} s")
    return value


@contextlib.contextmanager
def patience(s: Session, seconds: float) -> Iterator[httpx.Client]:
    """``s.http`` with a short timeout, for a server that may go quiet mid-response (restored after).

    Set on the client, not per request: the TestClient warns about a per-request timeout.
    """
    client = s.http
    saved = client.timeout
    client.timeout = httpx.Timeout(seconds)
    try:
        yield client
    finally:
        client.timeout = saved


# --- Raw HTTP/1.1 --------------------------------------------------------------------------------


@dataclasses.dataclass
class RawResponse:
    """A response as it came over the wire."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    #: How the body was delimited: "none", "chunked", "length" or "close".
    framing: str = "none"
    #: Whether the body was complete by its framing (False: the connection ended it early).
    complete: bool = True
    trailers: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def header_list(self, name: str) -> list[str]:
        """Every value of header ``name``, in order."""
        return [v for k, v in self.headers if k == name.lower()]


def _fields(lines: Sequence[bytes]) -> list[tuple[str, str]]:
    fields = (line.decode("latin-1").partition(":") for line in lines)
    return [(name.strip().lower(), value.strip()) for name, _, value in fields]


class Reader:
    """Reads responses, one after the other, off a connected socket."""

    def __init__(self, sock: socket.socket, timeout: float = RAW_TIMEOUT) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""
        #: Set once the server closed the connection (as opposed to going quiet).
        self.closed = False

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False once the peer closed or went quiet."""
        self.sock.settimeout(self.timeout)
        try:
            chunk = self.sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return False
        self.closed = chunk == b""
        self.buffer += chunk
        return not self.closed

    def _until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self._fill():
                return None
        data, _, self.buffer = self.buffer.partition(marker)
        return data

    def _exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not self._fill():
                return None
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def rest(self) -> bytes:
        """Everything else the server sends until it closes (or goes quiet)."""
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def read(self, method: str = "GET") -> RawResponse:
        """The next response to a ``method`` request; fails the scenario if no complete head came."""
        head = self._until(b"\r\n\r\n")
        expect(head is not None, f"no response head before the connection ended; got {self.buffer[:300]!r}")
        status_line, *lines = (head or b"").split(b"\r\n")
        parts = status_line.split(b" ", 2)
        expect(
            len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit(),
            f"malformed status line {status_line[:200]!r}",
        )
        response = RawResponse(int(parts[1]), _fields(lines))
        if method == "HEAD" or response.status < 200 or response.status in (204, 304):
            return response
        if "chunked" in (response.header("transfer-encoding") or "").lower():
            self._read_chunked(response)
        elif response.header("content-length") is not None:
            size = int(response.header("content-length") or "0")
            data = self._exactly(size)
            response.framing, response.complete = "length", data is not None
            response.body = self.rest() if data is None else data
        else:
            response.framing, response.body = "close", self.rest()
            response.complete = self.closed
        return response

    def _read_chunked(self, response: RawResponse) -> None:
        response.framing = "chunked"
        chunks: list[bytes] = []
        while (line := self._until(b"\r\n")) is not None:
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                # The last chunk: trailer field lines, then the empty line ending the message.
                fields: list[bytes] = []
                while field := self._until(b"\r\n"):
                    fields.append(field)
                response.trailers = _fields(fields)
                response.complete = field is not None
                response.body = b"".join(chunks)
                return
            data = self._exactly(size + 2)
            if data is None:
                break
            chunks.append(data[:size])
        response.complete = False
        response.body = b"".join(chunks) + self.rest()
