from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import given, settings, strategies as st

from starlette import _testclient_websocket
from starlette.testclient import TestClient, WebSocketDenialResponse, WebSocketTestSession
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect
from tests.types import TestClientFactory

# ---------------------------------------------------------------------------------------------
# Helpers: small raw ASGI applications
# ---------------------------------------------------------------------------------------------


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body, messages


async def send_text(send: Send, text: str, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": text.encode()})


def portal_of(client: TestClient) -> object:
    return client.portal


class ScopeRecorder:
    """An app that records the scope and the request messages, then answers "ok"."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scopes.append(scope)
        _, messages = await read_body(receive)
        self.messages.extend(messages)
        await send_text(send, "ok")

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.scope["headers"]
        return headers


# ---------------------------------------------------------------------------------------------
# HTTP scope
# ---------------------------------------------------------------------------------------------


def test_http_scope_defaults(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    response = client.get("/path/to?a=1&b=two")
    assert response.status_code == 200
    assert response.text == "ok"
    scope = app.scope
    assert scope["type"] == "http"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/path/to"
    assert scope["raw_path"] == b"/path/to"
    assert scope["root_path"] == ""
    assert scope["query_string"] == b"a=1&b=two"
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ["testserver", 80]
    assert scope["extensions"] == {"http.response.debug": {}}
    assert scope["state"] == {}
    assert scope["asgi"] == {"version": "3.0"}
    assert "spec_version" not in scope["asgi"]
    headers = dict(app.headers)
    assert app.headers[0] == (b"host", b"testserver")
    assert headers[b"user-agent"] == b"testclient"
    assert headers[b"accept"] == b"*/*"
    assert headers[b"connection"] == b"keep-alive"
    assert all(name == name.lower() for name, _ in app.headers)


def test_http_scope_path_is_percent_decoded_but_raw_path_is_not(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.get("/a%2Fb/caf%C3%A9 x?q=%2F&r=%20")
    assert app.scope["path"] == "/a/b/café x"
    assert app.scope["raw_path"] == b"/a%2Fb/caf%C3%A9%20x"
    assert app.scope["query_string"] == b"q=%2F&r=%20"


_segments = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=8).filter(
    lambda segment: segment.strip(".") != ""  # "." and ".." segments are resolved by the URL parser
)


@settings(max_examples=60, deadline=None)
@given(segments=st.lists(_segments, max_size=4), query=st.text(alphabet=st.characters(codec="utf-8"), max_size=10))
def test_http_scope_path_round_trips(segments: list[str], query: str) -> None:
    app = ScopeRecorder()
    raw_path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    with TestClient(app) as client:
        client.get(raw_path + "?q=" + quote(query, safe=""))
    assert app.scope["path"] == "/" + "/".join(segments)
    assert app.scope["raw_path"] == raw_path.encode()
    assert app.scope["query_string"] == b"q=" + quote(query, safe="").encode()


def test_http_scope_params_go_to_query_string(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.get("/", params={"x": "1 2", "y": ["a", "b"]})
    assert app.scope["query_string"] == b"x=1+2&y=a&y=b"
    assert app.scope["raw_path"] == b"/"


@pytest.mark.parametrize(
    ("base_url", "url", "scheme", "server", "host"),
    [
        ("http://testserver", "/", "http", ["testserver", 80], b"testserver"),
        ("https://testserver", "/", "https", ["testserver", 443], b"testserver"),
        ("http://example.org:8080", "/", "http", ["example.org", 8080], b"example.org:8080"),
        ("https://example.org:8443", "/", "https", ["example.org", 8443], b"example.org:8443"),
        ("http://testserver", "http://other.com:81/", "http", ["other.com", 81], b"other.com:81"),
    ],
)
def test_http_scope_server_and_host_follow_the_url(
    test_client_factory: TestClientFactory, base_url: str, url: str, scheme: str, server: list[Any], host: bytes
) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, base_url=base_url)
    client.get(url)
    assert app.scope["scheme"] == scheme
    assert app.scope["server"] == server
    assert app.headers[0] == (b"host", host)


def test_base_url_path_is_merged(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, base_url="http://testserver/api/")
    client.get("/users")
    assert app.scope["path"] == "/api/users"


def test_root_path_prefixes_paths_outside_it(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, root_path="/mounted")
    client.get("/items/a%20b")
    assert app.scope["root_path"] == "/mounted"
    assert app.scope["path"] == "/mounted/items/a b"
    assert app.scope["raw_path"] == b"/mounted/items/a%20b"


@pytest.mark.parametrize("path", ["/mounted", "/mounted/", "/mounted/items"])
def test_root_path_leaves_paths_under_it(test_client_factory: TestClientFactory, path: str) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, root_path="/mounted")
    client.get(path)
    assert app.scope["path"] == path
    assert app.scope["raw_path"] == path.encode()


def test_root_path_with_nested_mounts(test_client_factory: TestClientFactory) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Mount, Route

    async def user(request: Request) -> Response:
        return JSONResponse({"id": request.path_params["id"], "url": str(request.url_for("api:user", id=7))})

    app = Starlette(routes=[Mount("/api", routes=[Route("/users/{id:int}", user, name="user")], name="api")])
    client = test_client_factory(app, root_path="/root")
    expected = {"id": 3, "url": "http://testserver/root/api/users/7"}
    assert client.get("/api/users/3").json() == expected
    assert client.get("/root/api/users/3").json() == expected


def test_client_address(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, client=("localhost", 8000))
    client.get("/")
    assert app.scope["client"] == ("localhost", 8000)


def test_client_headers_and_user_agent(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app, headers={"Authorization": "Bearer x"})
    client.get("/", headers={"X-Request": "1"})
    headers = dict(app.headers)
    assert headers[b"authorization"] == b"Bearer x"
    assert headers[b"x-request"] == b"1"
    assert headers[b"user-agent"] == b"testclient"

    client = test_client_factory(app, headers={"User-Agent": "custom"})
    client.get("/")
    assert [value for name, value in app.headers if name == b"user-agent"] == [b"custom"]


def test_repeated_headers_are_kept_separate(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.get("/", headers=[("x-multi", "1"), ("x-multi", "2")])
    assert [value for name, value in app.headers if name == b"x-multi"] == [b"1", b"2"]


# ---------------------------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------------------------


def test_empty_body_is_one_final_message(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.get("/")
    assert app.messages == [{"type": "http.request", "body": b"", "more_body": False}]


def test_content_body(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.post("/", content=b"hello")
    assert app.messages == [{"type": "http.request", "body": b"hello", "more_body": False}]
    assert (b"content-length", b"5") in app.headers


def test_json_body(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.put("/", json={"a": [1, 2]})
    assert json.loads(b"".join(message["body"] for message in app.messages)) == {"a": [1, 2]}
    assert (b"content-type", b"application/json") in app.headers


def test_form_body(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.patch("/", data={"name": "a b", "tags": ["x", "y"]})
    assert b"".join(message["body"] for message in app.messages) == b"name=a+b&tags=x&tags=y"
    assert (b"content-type", b"application/x-www-form-urlencoded") in app.headers


def test_files_body(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    client.post("/", files={"upload": ("hello.txt", b"file content", "text/plain")}, data={"field": "value"})
    body = b"".join(message["body"] for message in app.messages)
    content_type = dict(app.headers)[b"content-type"]
    assert content_type.startswith(b"multipart/form-data; boundary=")
    assert b'name="upload"; filename="hello.txt"' in body
    assert b"file content" in body
    assert b'name="field"' in body


def test_streaming_request_body_arrives_in_chunks(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)

    def chunks() -> Iterator[bytes]:
        yield b"first"
        yield b""
        yield b"second"

    client.post("/", content=chunks())
    assert app.messages == [
        {"type": "http.request", "body": b"first", "more_body": True},
        {"type": "http.request", "body": b"second", "more_body": False},
    ]
    assert (b"transfer-encoding", b"chunked") in app.headers


def test_receive_after_body_waits_for_the_response_to_complete(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

        async def listen() -> None:
            message = await receive()
            events.append(message["type"])

        async with anyio.create_task_group() as tg:
            tg.start_soon(listen)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for chunk in (b"a", b"b"):
                await anyio.lowlevel.checkpoint()
                events.append("chunk")
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await anyio.lowlevel.checkpoint()
            events.append("final")
            await send({"type": "http.response.body", "body": b"c"})
        message = await receive()
        events.append(message["type"])

    client = test_client_factory(app)
    response = client.get("/")
    assert response.text == "abc"
    assert events == ["chunk", "chunk", "final", "http.disconnect", "http.disconnect"]


def test_request_methods(test_client_factory: TestClientFactory) -> None:
    app = ScopeRecorder()
    client = test_client_factory(app)
    calls = [
        (client.get, "GET"),
        (client.options, "OPTIONS"),
        (client.delete, "DELETE"),
        (client.post, "POST"),
        (client.put, "PUT"),
        (client.patch, "PATCH"),
    ]
    for method, name in calls:
        assert method("/x").status_code == 200
        assert app.scope["method"] == name
    assert client.request("PROPFIND", "/x").status_code == 200
    assert app.scope["method"] == "PROPFIND"


def test_head_response_has_no_body(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send_text(send, "hello", headers=[(b"content-length", b"5")])

    client = test_client_factory(app)
    response = client.head("/")
    assert response.status_code == 200
    assert response.headers["content-length"] == "5"
    assert response.content == b""
    assert client.get("/").content == b"hello"


def test_timeout_argument_warns(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ScopeRecorder())
    with pytest.warns(DeprecationWarning, match="timeout"):
        response = client.get("/", timeout=5)
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


def test_response_status_headers_and_streamed_body(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"x-a", b"1"), (b"x-a", b"2"), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"par", "more_body": True})
        await send({"type": "http.response.body", "more_body": True})
        await send({"type": "http.response.body", "body": b"tial"})
        # Messages after the final body are ignored.
        await send({"type": "http.response.body", "body": b"ignored"})

    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 201
    assert response.headers.get_list("x-a") == ["1", "2"]
    assert response.text == "partial"
    assert response.request.url == "http://testserver/"


def test_unknown_response_messages_are_ignored(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.trailers", "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    client = test_client_factory(app)
    response = client.get("/")
    assert response.text == "ok"
    assert not hasattr(response, "template")


def test_debug_extension_exposes_template_and_context(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "http.response.debug" in scope["extensions"]
        await send({"type": "http.response.debug", "info": {"template": "index.html", "context": {"a": 1}}})
        await send_text(send, "rendered")

    client = test_client_factory(app)
    response = client.get("/")
    assert response.text == "rendered"
    assert response.template == "index.html"  # type: ignore[attr-defined]  # set by the TestClient
    assert response.context == {"a": 1}  # type: ignore[attr-defined]  # set by the TestClient
    assert response.extensions["template"] == "index.html"
    assert response.extensions["context"] == {"a": 1}


def test_double_response_start_is_an_error(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.start", "status": 200})

    client = test_client_factory(app)
    with pytest.raises(RuntimeError, match='"http.response.start" twice'):
        client.get("/")


def test_body_before_start_is_an_error(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b""})

    client = test_client_factory(app)
    with pytest.raises(RuntimeError, match="before"):
        client.get("/")


def test_app_without_response_is_an_assertion_error(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    client = test_client_factory(app)
    with pytest.raises(AssertionError, match="TestClient did not receive any response."):
        client.get("/")


# ---------------------------------------------------------------------------------------------
# Server exceptions
# ---------------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_server_exceptions_are_raised_by_default(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom("bad")

    client = test_client_factory(app)
    with pytest.raises(Boom, match="bad"):
        client.get("/")


def test_server_exceptions_after_the_response_are_raised(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send_text(send, "done")
        raise Boom("in background")

    client = test_client_factory(app)
    with pytest.raises(Boom, match="in background"):
        client.get("/")


def test_server_exception_becomes_500_when_not_raised(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom()

    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.content == b""


def test_partial_response_stands_when_exceptions_are_not_raised(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": [(b"x-a", b"b")]})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise Boom()

    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 202
    assert response.headers["x-a"] == "b"
    assert response.text == "part"


# ---------------------------------------------------------------------------------------------
# ASGI 2 / ASGI 3 detection
# ---------------------------------------------------------------------------------------------


class ASGI2App:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        await send_text(send, "asgi2 " + self.scope["path"])


class ASGI3ClassApp:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.send = send

    def __await__(self) -> Any:
        return send_text(self.send, "asgi3 class " + self.scope["path"]).__await__()


class ASGI3InstanceApp:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_text(send, "asgi3 instance")


def test_asgi2_class_app(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ASGI2App)  # type: ignore[arg-type]  # ASGI2 apps are accepted too
    assert client.get("/x").text == "asgi2 /x"


def test_asgi2_function_app(test_client_factory: TestClientFactory) -> None:
    def app(scope: Scope) -> ASGI2App:
        return ASGI2App(scope)

    client = test_client_factory(app)  # type: ignore[arg-type]  # ASGI2 apps are accepted too
    assert client.get("/y").text == "asgi2 /y"


def test_asgi3_class_and_instance_apps(test_client_factory: TestClientFactory) -> None:
    assert test_client_factory(ASGI3ClassApp).get("/z").text == "asgi3 class /z"
    assert test_client_factory(ASGI3InstanceApp()).get("/").text == "asgi3 instance"


# ---------------------------------------------------------------------------------------------
# httpx features: cookies, redirects
# ---------------------------------------------------------------------------------------------


async def cookie_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = dict(scope["headers"])
    if scope["path"] == "/set":
        await send_text(send, "set", headers=[(b"set-cookie", b"session=abc; Path=/")])
    else:
        await send_text(send, headers.get(b"cookie", b"").decode())


def test_cookies_persist_between_requests(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(cookie_app)
    assert client.get("/get").text == ""
    client.get("/set")
    assert client.cookies["session"] == "abc"
    assert client.get("/get").text == "session=abc"


def test_cookies_argument(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(cookie_app, cookies={"a": "1"})
    assert client.get("/get").text == "a=1"


async def redirect_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/old":
        await send_text(send, "", status=307, headers=[(b"location", b"/new")])
    else:
        await send_text(send, "at " + scope["path"])


def test_redirects_are_followed_by_default(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(redirect_app)
    response = client.get("/old")
    assert response.status_code == 200
    assert response.text == "at /new"
    assert response.url == "http://testserver/new"
    assert [r.status_code for r in response.history] == [307]


def test_redirects_not_followed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(redirect_app, follow_redirects=False)
    response = client.get("/old")
    assert response.status_code == 307
    assert response.headers["location"] == "/new"
    assert client.get("/old", follow_redirects=True).text == "at /new"


def test_testclient_is_an_httpx_client() -> None:
    client = TestClient(ScopeRecorder())
    assert isinstance(client, httpx.Client)
    assert client.portal is None
    assert TestClient.portal is None
    assert client.base_url == "http://testserver"
    assert client.async_backend == {"backend": "asyncio", "backend_options": {}}


def test_trio_backend_is_used() -> None:
    libraries: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        import sniffio

        libraries.append(sniffio.current_async_library())
        await send_text(send, "ok")

    TestClient(app, backend="trio").get("/")
    TestClient(app).get("/")
    assert libraries == ["trio", "asyncio"]


# ---------------------------------------------------------------------------------------------
# Lifespan
# ---------------------------------------------------------------------------------------------


class LifespanApp:
    """Answers lifespan events as scripted and records what happens."""

    def __init__(
        self,
        startup: str = "complete",
        shutdown: str = "complete",
        startup_message: str | None = None,
        shutdown_message: str | None = None,
    ) -> None:
        self.events: list[str] = []
        self.startup = startup
        self.shutdown = shutdown
        self.startup_message = startup_message
        self.shutdown_message = shutdown_message
        self.lifespan_scope: Scope | None = None
        self.threads: list[int] = []

    async def reply(self, send: Send, phase: str, behaviour: str, text: str | None) -> None:
        if behaviour == "complete":
            await send({"type": f"lifespan.{phase}.complete"})
            return
        if behaviour.startswith("failed"):
            message: Message = {"type": f"lifespan.{phase}.failed"}
            if text is not None:
                message["message"] = text
            await send(message)
            if behaviour == "failed-extra":
                await send({"type": "lifespan.extra"})
            if behaviour in ("failed-raise", "failed-extra"):
                raise Boom(f"{phase} exploded")
            return
        if behaviour == "raise":
            raise Boom(f"{phase} raised")
        if behaviour == "return":
            return
        await send({"type": "lifespan.unexpected"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.threads.append(threading.get_ident())
        if scope["type"] == "http":
            self.events.append("request")
            await send_text(send, json.dumps(scope["state"]))
            return
        assert scope["type"] == "lifespan"
        self.lifespan_scope = scope
        message = await receive()
        assert message["type"] == "lifespan.startup"
        self.events.append("startup")
        scope["state"]["counter"] = 1
        scope["state"]["shared"] = []
        await self.reply(send, "startup", self.startup, self.startup_message)
        if self.startup == "return":
            return
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        self.events.append("shutdown")
        await self.reply(send, "shutdown", self.shutdown, self.shutdown_message)


def test_lifespan_runs_only_in_a_with_block(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp()
    client = test_client_factory(app)
    client.get("/")
    assert app.events == ["request"]
    with client as entered:
        assert entered is client
        assert client.portal is not None
        assert app.events == ["request", "startup"]
        client.get("/")
        assert app.events == ["request", "startup", "request"]
    assert app.events == ["request", "startup", "request", "shutdown"]
    assert portal_of(client) is None
    assert app.lifespan_scope is not None
    assert app.lifespan_scope["asgi"] == {"version": "3.0", "spec_version": "2.0"}


def test_requests_share_the_lifespan_event_loop(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp()
    with test_client_factory(app) as client:
        client.get("/")
        client.get("/")
    assert len(set(app.threads)) == 1
    assert app.threads[0] != threading.get_ident()


def test_lifespan_state_is_shallow_copied_into_requests(test_client_factory: TestClientFactory) -> None:
    states: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["items"] = []
            scope["state"]["name"] = "app"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        state = scope["state"]
        states.append(state)
        state["name"] = "changed"  # a copy: does not leak to the next request
        state["items"].append(len(states))  # shallow: the list is shared
        await send_text(send, "ok")

    client = test_client_factory(app)
    with client:
        client.get("/")
        client.get("/")
    assert states[0] is not states[1]
    assert states[1]["items"] == [1, 2]
    assert client.app_state["name"] == "app"
    assert client.app_state["items"] == [1, 2]


def test_app_without_lifespan_support_is_tolerated(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        await send_text(send, "plain")

    with test_client_factory(app) as client:
        assert client.get("/").text == "plain"


def test_lifespan_returning_immediately_is_tolerated(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="return")
    with test_client_factory(app) as client:
        assert client.get("/").status_code == 200
    assert app.events == ["startup", "request"]


def test_lifespan_startup_failure_propagates_the_exception(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="failed-raise", startup_message="traceback text")
    client = test_client_factory(app)
    with pytest.raises(Boom, match="startup exploded"):
        with client:
            pass  # pragma: no cover - startup fails before the body runs
    assert client.portal is None
    assert app.events == ["startup"]


def test_lifespan_startup_failure_skips_further_messages(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="failed-extra")
    with pytest.raises(Boom, match="startup exploded"):
        test_client_factory(app).__enter__()


def test_lifespan_startup_failed_message_without_exception(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="failed", startup_message="database unavailable")
    with pytest.raises(RuntimeError, match="^database unavailable$"):
        test_client_factory(app).__enter__()
    app = LifespanApp(startup="failed")
    with pytest.raises(RuntimeError, match="^Lifespan startup failed.$"):
        test_client_factory(app).__enter__()


def test_lifespan_unexpected_startup_message(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="weird")
    with pytest.raises(RuntimeError, match="lifespan.startup.complete.*lifespan.unexpected"):
        test_client_factory(app).__enter__()


def test_lifespan_shutdown_failure_propagates_the_exception(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(shutdown="failed-raise")
    client = test_client_factory(app)
    with pytest.raises(Boom, match="shutdown exploded"):
        with client:
            client.get("/")
    assert app.events == ["startup", "request", "shutdown"]
    assert client.portal is None


def test_lifespan_shutdown_failed_message_without_exception(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(shutdown="failed", shutdown_message="could not close")
    with pytest.raises(RuntimeError, match="^could not close$"):
        with test_client_factory(app):
            pass


def test_lifespan_shutdown_raising_without_message(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(shutdown="raise")
    with pytest.raises(Boom, match="shutdown raised"):
        with test_client_factory(app):
            pass


def test_lifespan_shutdown_returning_without_message(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(shutdown="return")
    with test_client_factory(app):
        pass
    assert app.events == ["startup", "shutdown"]


def test_lifespan_error_after_shutdown_complete(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        raise Boom("after shutdown")

    with pytest.raises(Boom, match="after shutdown"):
        with test_client_factory(app):
            pass


def test_lifespan_that_ends_early(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        raise Boom("crashed while running")

    with pytest.raises(Boom, match="crashed while running"):
        with test_client_factory(app):
            pass


def test_lifespan_shutdown_runs_when_the_block_raises(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp()
    with pytest.raises(ValueError):
        with test_client_factory(app):
            raise ValueError
    assert app.events == ["startup", "shutdown"]


def test_client_can_be_entered_twice(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp()
    client = test_client_factory(app)
    with client:
        pass
    with client:
        pass
    assert app.events == ["startup", "shutdown", "startup", "shutdown"]


# ---------------------------------------------------------------------------------------------
# WebSockets
# ---------------------------------------------------------------------------------------------


class EchoApp:
    """Accepts (with the first offered subprotocol) and echoes until the client disconnects."""

    def __init__(self) -> None:
        self.scope: Scope = {}
        self.disconnect: Message | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope = scope
        message = await receive()
        assert message == {"type": "websocket.connect"}
        subprotocol = scope["subprotocols"][0] if scope["subprotocols"] else None
        await send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": [(b"x-extra", b"yes")]})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnect = message
                return
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": "echo:" + message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": b"echo:" + message["bytes"]})


def test_websocket_scope(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    client = test_client_factory(app, root_path="/root", client=("1.2.3.4", 99), cookies={"c": "v"})
    with client.websocket_connect("/chat%2Froom?token=abc", headers={"X-Custom": "1"}) as websocket:
        assert isinstance(websocket, WebSocketTestSession)
    scope = app.scope
    assert scope["type"] == "websocket"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/root/chat/room"
    assert scope["raw_path"] == b"/root/chat%2Froom"
    assert scope["query_string"] == b"token=abc"
    assert scope["root_path"] == "/root"
    assert scope["client"] == ("1.2.3.4", 99)
    assert scope["server"] == ["testserver", 80]
    assert scope["subprotocols"] == []
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["state"] == {}
    assert scope["http_version"] == "1.1"
    headers = dict(scope["headers"])
    assert scope["headers"][0] == (b"host", b"testserver")
    assert headers[b"connection"] == b"upgrade"
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"sec-websocket-version"] == b"13"
    assert headers[b"sec-websocket-key"]
    assert headers[b"x-custom"] == b"1"
    assert headers[b"cookie"] == b"c=v"
    assert headers[b"user-agent"] == b"testclient"
    assert b"sec-websocket-protocol" not in headers


@pytest.mark.parametrize(
    ("base_url", "url", "scheme", "server"),
    [
        ("https://testserver", "/", "wss", ["testserver", 443]),
        ("http://testserver", "ws://example.org:8000/", "ws", ["example.org", 8000]),
        ("http://testserver", "wss://example.org/", "wss", ["example.org", 443]),
    ],
)
def test_websocket_scheme(
    test_client_factory: TestClientFactory, base_url: str, url: str, scheme: str, server: list[Any]
) -> None:
    app = EchoApp()
    with test_client_factory(app, base_url=base_url).websocket_connect(url):
        pass
    assert app.scope["scheme"] == scheme
    assert app.scope["server"] == server


def test_websocket_subprotocols_and_accept_headers(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    client = test_client_factory(app)
    with client.websocket_connect("/", subprotocols=["wamp", "soap"]) as websocket:
        assert websocket.accepted_subprotocol == "wamp"
        assert websocket.extra_headers == [(b"x-extra", b"yes")]
    assert app.scope["subprotocols"] == ["wamp", "soap"]
    assert dict(app.scope["headers"])[b"sec-websocket-protocol"] == b"wamp, soap"


def test_websocket_default_accept(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        assert websocket.accepted_subprotocol is None
        assert websocket.extra_headers == []


def test_websocket_text_bytes_and_json(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "echo:hello"
        websocket.send_bytes(b"\x00\x01")
        assert websocket.receive_bytes() == b"echo:\x00\x01"
        websocket.send_json({"a": "é"})
        assert websocket.receive_text() == 'echo:{"a":"é"}'
        websocket.send_json([1, 2], mode="binary")
        assert websocket.receive_bytes() == b"echo:[1,2]"
        websocket.send({"type": "websocket.receive", "text": "raw"})
        assert websocket.receive() == {"type": "websocket.send", "text": "echo:raw"}
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1000, "reason": ""}


def test_websocket_receive_json_modes(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '{"mode": "text"}'})
        await send({"type": "websocket.send", "bytes": '{"mode": "binary", "x": "é"}'.encode()})
        await send({"type": "websocket.close"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        assert websocket.receive_json() == {"mode": "text"}
        assert websocket.receive_json(mode="binary") == {"mode": "binary", "x": "é"}
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_json()
        assert info.value.code == 1000
        assert info.value.reason == ""


def test_websocket_receive_returns_the_raw_close_message(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "bye"})
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        assert websocket.receive() == {"type": "websocket.send", "text": "bye"}
        assert websocket.receive() == {"type": "websocket.close", "code": 4000, "reason": "done"}
        # The app is gone now: receiving again reports the close.
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive()
        assert (info.value.code, info.value.reason) == (4000, "done")


def test_websocket_app_close_code_and_reason(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1001, "reason": "Going Away"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_text()
        assert (info.value.code, info.value.reason) == (1001, "Going Away")
        # The app is gone: later receives keep reporting the close.
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_bytes()
        assert (info.value.code, info.value.reason) == (1001, "Going Away")
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive()
        assert (info.value.code, info.value.reason) == (1001, "Going Away")


def test_websocket_app_returning_without_close(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "last"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        assert websocket.receive_text() == "last"
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_text()
        assert info.value.code == 1000


def test_websocket_client_close_code_and_reason(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.close(code=1001, reason="Bye")
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1001, "reason": "Bye"}

    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.close()
    assert app.disconnect == {"type": "websocket.disconnect", "code": 1000, "reason": ""}


def test_websocket_messages_sent_after_client_close_are_dropped(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        await send({"type": "websocket.send", "text": "too late"})

    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.close()
        with pytest.raises(WebSocketDisconnect):
            websocket.receive_text()


def test_websocket_close_before_accept(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 1008, "reason": "Policy"})

    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake fails
    assert (info.value.code, info.value.reason) == (1008, "Policy")


def test_websocket_close_before_accept_defaults(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close"})

    with pytest.raises(WebSocketDisconnect) as info:
        test_client_factory(app).websocket_connect("/").__enter__()
    assert (info.value.code, info.value.reason) == (1000, "")


def test_websocket_app_returning_before_accept(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with pytest.raises(WebSocketDisconnect) as info:
        test_client_factory(app).websocket_connect("/").__enter__()
    assert info.value.code == 1000


def test_websocket_unexpected_first_message(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "not accepted"})

    with pytest.raises(RuntimeError, match="websocket.accept.*'websocket.send'"):
        test_client_factory(app).websocket_connect("/").__enter__()


def test_websocket_denial_response(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "websocket.http.response" in scope["extensions"]
        await receive()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"not ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"allowed"})

    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake fails
    response = info.value
    assert isinstance(response, httpx.Response)
    assert isinstance(response, WebSocketDisconnect)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"not allowed"
    assert response.text == "not allowed"
    assert response.code == 1000


def test_websocket_denial_response_without_body(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403})

    with pytest.raises(WebSocketDenialResponse) as info:
        test_client_factory(app).websocket_connect("/").__enter__()
    assert info.value.status_code == 403
    assert info.value.content == b""


def test_websocket_denial_response_with_wrong_body_message(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.send", "text": "oops"})

    with pytest.raises(RuntimeError, match="websocket.http.response.body"):
        test_client_factory(app).websocket_connect("/").__enter__()


def test_websocket_exception_before_accept(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom("handshake")

    with pytest.raises(Boom, match="handshake"):
        with test_client_factory(app).websocket_connect("/"):
            pass  # pragma: no cover - the handshake fails


def test_websocket_exception_after_close_before_accept(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close"})
        raise Boom("after close")

    with pytest.raises(Boom, match="after close") as info:
        test_client_factory(app).websocket_connect("/").__enter__()
    assert isinstance(info.value.__context__, WebSocketDisconnect)


def test_websocket_exception_while_receiving(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise Boom("on message")

    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.send_text("go")
        with pytest.raises(Boom, match="on message"):
            websocket.receive_text()
        # Reported once: afterwards the connection is just closed.
        with pytest.raises(WebSocketDisconnect):
            websocket.receive_text()


def test_websocket_exception_is_raised_on_exit(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        raise Boom(message["text"])

    with pytest.raises(Boom, match="from test"):
        with test_client_factory(app).websocket_connect("/") as websocket:
            websocket.send_text("from test")


def test_websocket_disconnect_raised_by_app_after_client_disconnect_is_normal(
    test_client_factory: TestClientFactory,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message["code"])
            await send({"type": "websocket.send", "text": message["text"]})

    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.send_text("ping")
        assert websocket.receive_text() == "ping"


def test_websocket_disconnect_raised_by_app_on_its_own_is_an_error(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise WebSocketDisconnect(1011, "server side")

    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/"):
            pass
    assert (info.value.code, info.value.reason) == (1011, "server side")


def test_websocket_app_is_cancelled_on_exit_when_stuck(test_client_factory: TestClientFactory) -> None:
    cancelled = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with test_client_factory(app).websocket_connect("/"):
        pass
    assert cancelled == [True]


def test_websocket_disconnect_handler_runs_before_cancellation(test_client_factory: TestClientFactory) -> None:
    handled: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        for _ in range(50):
            await anyio.lowlevel.checkpoint()
        handled.append("cleanup done")
        await anyio.sleep_forever()

    with test_client_factory(app).websocket_connect("/"):
        pass
    assert handled == ["cleanup done"]


def test_websocket_spinning_app_is_cancelled_after_a_grace_period(
    test_client_factory: TestClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_testclient_websocket, "_BLOCK_WAIT_SECONDS", 0.05)
    spins = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal spins
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            spins += 1
            await anyio.lowlevel.checkpoint()

    with test_client_factory(app).websocket_connect("/"):
        pass
    assert spins > _testclient_websocket._SETTLE_ROUNDS


def test_websocket_connect_forwards_httpx_options(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    client = test_client_factory(app)
    with client.websocket_connect("/", auth=("user", "pass"), extensions={"custom": True}):
        pass
    assert dict(app.scope["headers"])[b"authorization"] == b"Basic dXNlcjpwYXNz"


def test_websocket_connect_without_with_does_not_run_the_app(test_client_factory: TestClientFactory) -> None:
    app = EchoApp()
    session = test_client_factory(app).websocket_connect("/")
    assert isinstance(session, WebSocketTestSession)
    assert app.scope == {}
    assert session.scope["type"] == "websocket"


def test_websocket_inside_lifespan_shares_state_and_loop(test_client_factory: TestClientFactory) -> None:
    threads: dict[str, int] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        threads[scope["type"]] = threading.get_ident()
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = "hi"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": scope["state"]["greeting"]})
        await send({"type": "websocket.close"})

    with test_client_factory(app) as client:
        with client.websocket_connect("/") as websocket:
            assert websocket.receive_text() == "hi"
        with client.websocket_connect("/") as websocket:
            assert websocket.receive_text() == "hi"
        assert client.portal is not None
    assert threads["lifespan"] == threads["websocket"]


def test_websocket_with_starlette_websocket_class(test_client_factory: TestClientFactory) -> None:
    from starlette.websockets import WebSocket

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept(subprotocol="chat")
        name = await websocket.receive_text()
        await websocket.send_json({"hello": name})
        await websocket.close(code=1000)

    with test_client_factory(app).websocket_connect("/", subprotocols=["chat"]) as websocket:
        assert websocket.accepted_subprotocol == "chat"
        websocket.send_text("world")
        assert websocket.receive_json() == {"hello": "world"}
        with pytest.raises(WebSocketDisconnect):
            websocket.receive_text()


def test_lifespan_app_stuck_after_startup_failed(test_client_factory: TestClientFactory) -> None:
    app = LifespanApp(startup="failed", startup_message="stuck")
    client = test_client_factory(app)
    with pytest.raises(RuntimeError, match="^stuck$"):
        with client:
            pass  # pragma: no cover - startup fails before the body runs
    assert client.portal is None


def test_lifespan_app_stuck_after_shutdown_complete_is_cancelled(test_client_factory: TestClientFactory) -> None:
    cancelled: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        try:
            await receive()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    with test_client_factory(app):
        pass
    assert cancelled == [True]


def test_websocket_exit_after_client_close_does_not_disconnect_twice(test_client_factory: TestClientFactory) -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            received.append(await receive())

    with test_client_factory(app).websocket_connect("/") as websocket:
        websocket.close(code=1001)
    assert received == [{"type": "websocket.disconnect", "code": 1001, "reason": ""}]


def test_is_disconnected_after_the_response_is_complete(test_client_factory: TestClientFactory) -> None:
    from starlette.requests import Request

    results: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await request.body()
        results.append(await request.is_disconnected())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        results.append(await request.is_disconnected())

    assert test_client_factory(app).get("/").text == "ok"
    assert results == [False, True]


def test_websocket_connect_through_a_transport_that_does_not_upgrade(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(EchoApp())
    # A transport other than the TestClient's own (as httpx mounts allow) answers plain HTTP.
    client._transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with pytest.raises(RuntimeError, match="Expected a websocket upgrade."):
        client.websocket_connect("/")
