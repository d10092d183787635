"""`HTTPConnection` (what HTTP requests and WebSockets share) and `Request`, the interface onto
an incoming HTTP request: its URL, headers, cookies, client, body, JSON and form data."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from starlette._cookies import parse_cookie_header as _parse_cookie_header
from starlette._header_params import parse_header_params as _parse_header_params
from starlette._utils import AwaitableOrContextManager, AwaitableOrContextManagerWrapper
from starlette.datastructures import URL, Address, FormData, Headers, QueryParams, State
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from starlette.datastructures import URLPath

__all__ = (
    "SERVER_PUSH_HEADERS_TO_COPY",
    "ClientDisconnect",
    "HTTPConnection",
    "Request",
    "cookie_parser",
    "empty_receive",
    "empty_send",
)

SERVER_PUSH_HEADERS_TO_COPY = {
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "user-agent",
}
# The same names in a fixed order, so push promises carry their headers deterministically.
_SERVER_PUSH_HEADER_ORDER = ("accept", "accept-encoding", "accept-language", "cache-control", "user-agent")


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parse a `Cookie` header value into a `{name: value}` dict.

    Lenient like browsers: pieces are split on `;` then on the first `=`; a piece without `=`
    counts as a value with the empty name; names and values are stripped; quoted values are
    unquoted (`"a\\"b"` gives `a"b`); the last assignment of a name wins. Never raises.
    """
    cookies: dict[str, str] = {}
    _parse_cookie_header(cookie_string, cookies)
    return cookies


class ClientDisconnect(Exception):
    """The client went away (an `http.disconnect` message arrived) while the body was read."""


class HTTPConnection(Mapping[str, Any]):
    """What HTTP requests and WebSocket connections have in common: a read-only mapping over
    the ASGI scope plus parsed views of it (URL, headers, query parameters, cookies...)."""

    # Lazily computed views of the scope, cached on first access. The class-level None
    # defaults cost nothing per connection and make the cache check a plain attribute read.
    _url: URL | None = None
    _base_url: URL | None = None
    _headers: Headers | None = None
    _query_params: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _state: State | None = None

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        assert scope["type"] in ("http", "websocket")
        self.scope = scope

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    # Connections are compared and hashed by identity (not as the mapping of their scope), so
    # they can be dict keys and two requests over equal scopes stay distinct. Type checkers see
    # plain method declarations: the `object` slots would be ambiguous overrides of `Mapping`'s.
    if TYPE_CHECKING:

        def __eq__(self, other: object) -> bool: ...
        def __hash__(self) -> int: ...

    else:
        __eq__ = object.__eq__
        __hash__ = object.__hash__

    @property
    def app(self) -> Any:
        """The application that received the connection (`scope["app"]`)."""
        return self.scope["app"]

    @property
    def url(self) -> URL:
        """The full URL of the request, as the client addressed it."""
        url = self._url
        if url is None:
            url = self._url = URL(scope=self.scope)
        return url

    @property
    def base_url(self) -> URL:
        """The URL of the application root (where the outermost app is mounted), with a
        trailing slash and no query string."""
        base_url = self._base_url
        if base_url is None:
            scope = dict(self.scope)
            app_root_path: str = scope.get("app_root_path", scope.get("root_path", ""))
            scope["path"] = app_root_path if app_root_path.endswith("/") else app_root_path + "/"
            scope["query_string"] = b""
            scope["root_path"] = app_root_path
            base_url = self._base_url = URL(scope=scope)
        return base_url

    @property
    def headers(self) -> Headers:
        """The request headers: an immutable, case-insensitive multi-dict."""
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers(scope=self.scope)
        return headers

    @property
    def query_params(self) -> QueryParams:
        """The query string parameters: an immutable multi-dict."""
        query_params = self._query_params
        if query_params is None:
            query_params = self._query_params = QueryParams(self.scope["query_string"])
        return query_params

    @property
    def path_params(self) -> dict[str, Any]:
        """The parameters the router extracted from the path (empty outside routing)."""
        path_params: dict[str, Any] = self.scope.get("path_params", {})
        return path_params

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies sent by the client, merged from every `Cookie` header (a later
        assignment of the same name wins)."""
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = {}
            for name, value in self.headers.raw:
                if name == b"cookie":
                    _parse_cookie_header(value.decode("latin-1"), cookies)
        return cookies

    @property
    def client(self) -> Address | None:
        """The client's `(host, port)`, or None when the server does not provide it."""
        host_port = self.scope.get("client")
        if host_port is None:
            return None
        return Address(*host_port)

    @property
    def session(self) -> dict[str, Any]:
        """The session dict (requires `SessionMiddleware`)."""
        assert "session" in self.scope, "SessionMiddleware must be installed to access request.session"
        session: dict[str, Any] = self.scope["session"]
        return session

    @property
    def auth(self) -> Any:
        """The credentials set by `AuthenticationMiddleware` (required)."""
        assert "auth" in self.scope, "AuthenticationMiddleware must be installed to access request.auth"
        return self.scope["auth"]

    @property
    def user(self) -> Any:
        """The user set by `AuthenticationMiddleware` (required)."""
        assert "user" in self.scope, "AuthenticationMiddleware must be installed to access request.user"
        return self.scope["user"]

    @property
    def state(self) -> State:
        """Free-form attributes for this connection. Backed by `scope["state"]`, so values set
        by the lifespan and by middleware are visible here."""
        state = self._state
        if state is None:
            state = self._state = State(self.scope.setdefault("state", {}))
        return state

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called `name`, with `path_params` filled in."""
        router = self.scope.get("router")
        if router is None:
            router = self.scope.get("app")
        if router is None:
            raise RuntimeError("The `url_for` method can only be used inside a Starlette application or with a router.")
        url_path: URLPath = router.url_path_for(name, **path_params)
        return url_path.make_absolute_url(base_url=self.base_url)


async def empty_receive() -> NoReturn:
    """The `receive` of a `Request` built without one: raises RuntimeError."""
    raise RuntimeError("Receive channel has not been made available")


async def empty_send(message: Message) -> NoReturn:
    """The `send` of a `Request` built without one: raises RuntimeError."""
    raise RuntimeError("Send channel has not been made available")


_NOT_PARSED: Any = object()


class Request(HTTPConnection):
    """An incoming HTTP request: the scope views of `HTTPConnection` plus the body, read from
    `receive` as a stream, as bytes, as JSON or as form data."""

    # `_body` is only set once the body has been read (so `hasattr(request, "_body")` tells).
    _body: bytes
    _json: Any = _NOT_PARSED
    # Per-request state starts as these class-level defaults (assigned on the instance when it
    # changes), so building a Request, done for every request, sets three attributes only.
    _stream_consumed = False
    _is_disconnected = False
    _form: FormData | None = None
    # Body messages that `is_disconnected()` received while probing; `stream()` uses them first.
    _pending_messages: list[Message] | None = None

    def __init__(self, scope: Scope, receive: Receive = empty_receive, send: Send = empty_send):
        assert scope["type"] == "http"
        self.scope = scope
        self._receive = receive
        self._send = send

    @property
    def method(self) -> str:
        """The HTTP method, upper case (e.g. "GET")."""
        method: str = self.scope["method"]
        return method

    @property
    def receive(self) -> Receive:
        """The ASGI receive channel of the request."""
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """Yield the body as it arrives, without keeping it, ending with an empty chunk.

        Raises RuntimeError("Stream consumed") if the body was already streamed (and not
        kept by `body()`), and ClientDisconnect if the client goes away meanwhile.
        """
        if "_body" in self.__dict__:
            yield self._body
            yield b""
            return
        consumed = self._stream_consumed  # (a local: mypy would narrow the attribute to False)
        if consumed:
            raise RuntimeError("Stream consumed")
        while not self._stream_consumed:
            body = await self._read_chunk()
            if body:
                yield body
        yield b""

    async def _read_chunk(self) -> bytes:
        """The body bytes of the next message (b"" for an empty or unknown one); marks the
        stream consumed after the last one, raises ClientDisconnect on `http.disconnect`."""
        if self._pending_messages:
            message = self._pending_messages.pop(0)
        else:
            message = await self._receive()
        message_type = message["type"]
        if message_type == "http.request":
            body: bytes = message.get("body", b"")
            if not message.get("more_body", False):
                self._stream_consumed = True
            return body
        if message_type == "http.disconnect":
            self._is_disconnected = True
            raise ClientDisconnect()
        return b""

    async def body(self) -> bytes:
        """The whole body as bytes (read once, then cached)."""
        if "_body" not in self.__dict__:
            if type(self).stream is Request.stream:
                # What collecting `stream()` gives, without running an async generator.
                consumed = self._stream_consumed
                if consumed:
                    raise RuntimeError("Stream consumed")
                chunks = []
                while not self._stream_consumed:
                    chunks.append(await self._read_chunk())
            else:
                chunks = [chunk async for chunk in self.stream()]
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """The body decoded as JSON (decoded once, then cached)."""
        if self._json is _NOT_PARSED:
            self._json = json.loads(await self.body())
        return self._json

    async def _get_form(self, *, max_files: int | float, max_fields: int | float, max_part_size: int) -> FormData:
        if self._form is None:
            content_type, params = _parse_header_params(self.headers.get("content-type", ""))
            if content_type == "multipart/form-data":
                try:
                    parser = MultiPartParser(
                        self.headers,
                        self.stream(),
                        max_files=max_files,
                        max_fields=max_fields,
                        max_part_size=max_part_size,
                    )
                    self._form = await parser.parse()
                except MultiPartException as exc:
                    if "app" in self.scope:
                        raise HTTPException(status_code=400, detail=exc.message)
                    raise
            elif content_type == "application/x-www-form-urlencoded":
                self._form = await FormParser(self.headers, self.stream()).parse()
            else:
                self._form = FormData()
        return self._form

    def form(
        self,
        *,
        max_files: int | float = 1000,
        max_fields: int | float = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> AwaitableOrContextManager[FormData]:
        """The body parsed as a form (`multipart/form-data` or urlencoded; any other content
        type gives an empty form). Await it, or use `async with` to close uploaded files on exit.

        The limits bound multipart bodies: too many files or fields, or a non-file part larger
        than `max_part_size` bytes, is a 400 inside an application (MultiPartException outside).
        """
        return AwaitableOrContextManagerWrapper(
            self._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        )

    async def close(self) -> None:
        """Close the files of the parsed form, if any."""
        if self._form is not None:
            await self._form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone away. Does not wait: it looks at most at one message
        already available on the receive channel."""
        if not self._is_disconnected:
            message: Message | None = None
            with anyio.CancelScope() as cancel_scope:
                cancel_scope.cancel()
                message = await self._receive()
            if message is not None:
                if message.get("type") == "http.disconnect":
                    self._is_disconnected = True
                elif not self._stream_consumed:
                    # Keep a body message for `stream()` rather than losing it.
                    if self._pending_messages is None:
                        self._pending_messages = []
                    self._pending_messages.append(message)
        return self._is_disconnected

    async def send_push_promise(self, path: str) -> None:
        """Ask the server to push the resource at `path` (HTTP/2 server push), copying the
        headers that matter for content negotiation. Does nothing if the server cannot push."""
        if "http.response.push" in self.scope.get("extensions", {}):
            headers = self.headers
            raw_headers: list[tuple[bytes, bytes]] = []
            for name in _SERVER_PUSH_HEADER_ORDER:
                for value in headers.getlist(name):
                    raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
            await self._send({"type": "http.response.push", "path": path, "headers": raw_headers})
