"""`starlette.routing`: path compilation, the route classes, `Router` dispatch (and its lookup
table, `starlette._route_table`), reverse lookups, on raw ASGI calls and through the TestClient."""

from __future__ import annotations

import functools
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from starlette._route_table import RouteList
from starlette._routing_compile import compile_template
from starlette.applications import Starlette
from starlette.convertors import CONVERTOR_TYPES, Convertor
from starlette.datastructures import URLPath
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import (
    PARAM_REGEX,
    BaseRoute,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    get_name,
    iscoroutinefunction_or_partial,
    replace_params,
    request_response,
    websocket_session,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def http_scope(path: str = "/", method: str = "GET", **extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    scope.update(extra)
    return scope


def websocket_scope(path: str = "/", **extra: Any) -> Scope:
    scope = http_scope(path, **extra)
    scope["type"] = "websocket"
    scope["scheme"] = "ws"
    del scope["method"]
    return scope


async def run(app: ASGIApp, scope: Scope, incoming: list[Message] | None = None) -> list[Message]:
    """Call `app` with `scope`; deliver `incoming` (default: an empty request body); return what it sent."""
    pending = list(incoming) if incoming is not None else [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def status_of(sent: list[Message]) -> int:
    status: int = sent[0]["status"]
    return status


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def header_of(sent: list[Message], name: bytes) -> str | None:
    for key, value in sent[0]["headers"]:
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None


def text_endpoint(text: str) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return PlainTextResponse(text)

    return endpoint


async def homepage(request: Request) -> Response:
    return PlainTextResponse("home")


async def echo_params(request: Request) -> Response:
    return JSONResponse({key: str(value) for key, value in request.path_params.items()})


async def echo_scope(request: Request) -> Response:
    return JSONResponse(
        {
            "path": request.scope["path"],
            "root_path": request.scope["root_path"],
            "app_root_path": request.scope.get("app_root_path"),
            "path_params": {key: str(value) for key, value in request.path_params.items()},
        }
    )


class EchoApp:
    """An ASGI app answering with its scope's method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(f"asgi {scope['method']}")(scope, receive, send)


class AddHeaderMiddleware:
    """Adds `x-mw: <label>` (appended, so nesting order shows) to HTTP responses."""

    def __init__(self, app: ASGIApp, label: str = "mw") -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-mw", self.label.encode())]
            await send(message)

        await self.app(scope, receive, wrapped_send)


# ---------------------------------------------------------------------------------------------------------------
# compile_path / replace_params
# ---------------------------------------------------------------------------------------------------------------


def test_param_regex_is_the_documented_pattern() -> None:
    assert PARAM_REGEX.pattern == "{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}"


def test_compile_path_plain_and_typed_params() -> None:
    regex, path_format, convertors = compile_path("/users/{username}/posts/{post_id:int}")
    assert regex.pattern == "^/users/(?P<username>[^/]+)/posts/(?P<post_id>[0-9]+)$"
    assert path_format == "/users/{username}/posts/{post_id}"
    assert convertors == {"username": CONVERTOR_TYPES["str"], "post_id": CONVERTOR_TYPES["int"]}
    match = regex.match("/users/tom/posts/42")
    assert match is not None and match.groupdict() == {"username": "tom", "post_id": "42"}
    assert regex.match("/users/tom/posts/x") is None


def test_compile_path_escapes_literal_text() -> None:
    regex, path_format, convertors = compile_path("/a.b/(c)+")
    assert regex.match("/a.b/(c)+") is not None
    assert regex.match("/aXb/(c)+") is None
    assert path_format == "/a.b/(c)+"
    assert convertors == {}


def test_compile_path_every_builtin_convertor() -> None:
    regex, _, convertors = compile_path("/{a:str}/{b:int}/{c:float}/{d:uuid}/{e:path}")
    assert set(convertors) == {"a", "b", "c", "d", "e"}
    match = regex.match("/x/1/2.5/5c0d6d6e-8f3c-4f8f-9e0b-0a1b2c3d4e5f/rest/of/it")
    assert match is not None
    assert match.group("e") == "rest/of/it"


def test_compile_path_host_pattern_leaves_the_port_out_of_the_regex() -> None:
    regex, host_format, convertors = compile_path("{subdomain}.example.org:3600")
    assert regex.pattern == r"^(?P<subdomain>[^/]+)\.example\.org$"
    assert host_format == "{subdomain}.example.org:3600"
    assert set(convertors) == {"subdomain"}
    assert regex.match("api.example.org") is not None
    plain_regex, plain_format, _ = compile_path("example.org")
    assert plain_regex.match("example.org") is not None
    assert plain_format == "example.org"


def test_compile_path_unknown_convertor() -> None:
    with pytest.raises(ValueError, match="Unknown path convertor 'nope'"):
        compile_path("/{x:nope}")
    # Also an AssertionError, for code that catches that.
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        Route("/{x:nope}", homepage)


def test_compile_path_duplicated_params() -> None:
    with pytest.raises(ValueError, match=re.escape("Duplicated param name id at path /{id}/{id:int}")):
        compile_path("/{id}/{id:int}")
    with pytest.raises(ValueError, match=re.escape("Duplicated param names a, b at path /{b}/{a}/{a}/{b}")):
        compile_path("/{b}/{a}/{a}/{b}")


def test_compile_path_custom_convertor() -> None:
    class HexConvertor(Convertor[int]):
        regex = "[0-9a-f]+"

        def convert(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: int) -> str:
            return format(value, "x")

    CONVERTOR_TYPES["hex_for_routing_test"] = HexConvertor()
    try:
        route = Route("/color/{value:hex_for_routing_test}", homepage, name="color")
        match, child = route.matches(http_scope("/color/ff"))
        assert match is Match.FULL and child["path_params"] == {"value": 255}
        assert route.url_path_for("color", value=4095) == "/color/fff"
    finally:
        del CONVERTOR_TYPES["hex_for_routing_test"]


def test_compile_template_first_segment_key() -> None:
    assert compile_template("/users/{id}").first_segment == "users"
    assert compile_template("/users").first_segment == "users"
    assert compile_template("/").first_segment == ""
    assert compile_template("/{id}").first_segment is None
    assert compile_template("/v{n:int}/x").first_segment is None
    assert compile_template("/a{b}").first_segment is None
    assert compile_template("/{path:path}").first_segment is None
    assert compile_template("/x/{path:path}").first_segment == "x"
    assert compile_template("example.org").first_segment is None


def test_replace_params_fills_placeholders_and_returns_the_rest() -> None:
    _, path_format, convertors = compile_path("/users/{id:int}/{name}")
    params: dict[str, Any] = {"id": 7, "name": "tom", "extra": "x"}
    path, remaining = replace_params(path_format, convertors, params)
    assert path == "/users/7/tom"
    assert remaining == {"extra": "x"}
    assert remaining is params  # the used ones are removed from the given dict


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis: building a path with url_path_for, then matching it, gives back the same parameters.
# ---------------------------------------------------------------------------------------------------------------

_LITERAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=6)
_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6).filter(str.isidentifier)
_STR_VALUE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\n"), min_size=1, max_size=8)
_PATH_VALUE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=12)
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": _STR_VALUE,
    "int": st.integers(min_value=0, max_value=10**30),
    "float": st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False),
    "uuid": st.uuids(),
}


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A route path of literal and parameter segments (a `path` parameter only last), with values."""
    count = draw(st.integers(min_value=1, max_value=5))
    names = draw(st.lists(_NAMES, min_size=count, max_size=count, unique=True))
    segments: list[str] = []
    values: dict[str, Any] = {}
    for index, name in enumerate(names):
        kind = draw(st.sampled_from(["literal", "str", "int", "float", "uuid", "path"]))
        if kind == "path" and index != count - 1:
            kind = "str"
        if kind == "literal":
            segments.append(draw(_LITERAL))
        else:
            segments.append("{" + name + ("" if kind == "str" and draw(st.booleans()) else ":" + kind) + "}")
            values[name] = draw(_PATH_VALUE if kind == "path" else _VALUES[kind])
    return "/" + "/".join(segments), values


@settings(max_examples=300, deadline=None)
@given(templates())
def test_url_path_for_then_match_round_trips(template: tuple[str, dict[str, Any]]) -> None:
    path, values = template
    route = Route(path, homepage, name="r")
    url = route.url_path_for("r", **values)
    assert url.protocol == "http"
    match, child = route.matches(http_scope(str(url)))
    assert match is Match.FULL
    assert child["path_params"] == values
    router = Router([Route("/zz-other/{x}", homepage), route])
    assert router.url_path_for("r", **values) == url


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis: the router's lookup table finds the same first match as trying every route in order.
# ---------------------------------------------------------------------------------------------------------------

_SEGMENTS = st.sampled_from(["a", "b", "users", "{x}", "{n:int}", "{p:path}", "a.b", "", "me"])


@st.composite
def route_tables(draw: st.DrawFn) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for index in range(draw(st.integers(min_value=0, max_value=8))):
        kind = draw(st.sampled_from(["route", "mount", "post"]))
        segments = draw(st.lists(_SEGMENTS, min_size=1, max_size=3))
        # Parameter names must be unique within a path.
        seen: set[str] = set()
        unique = []
        for segment in segments:
            if segment.startswith("{") and segment in seen:
                continue
            seen.add(segment)
            unique.append(segment)
        path = "/" + "/".join(unique)
        name = f"r{index}"
        if kind == "mount":
            if "{p:path}" in unique:
                continue
            routes.append(Mount(path.rstrip("/"), app=EchoApp(), name=name))
        else:
            methods = ["POST"] if kind == "post" else None
            routes.append(Route(path, homepage, name=name, methods=methods))
    return routes


_REQUEST_PATHS = st.lists(st.sampled_from(["a", "b", "users", "me", "1", "a.b", "", "x\n"]), max_size=4).map(
    lambda parts: "/" + "/".join(parts)
)


@settings(max_examples=300, deadline=None)
@given(route_tables(), _REQUEST_PATHS, st.sampled_from(["GET", "POST"]))
def test_lookup_table_agrees_with_a_linear_scan(routes: list[BaseRoute], path: str, method: str) -> None:
    router = Router(routes)
    scope = http_scope(path, method=method)
    linear = [(route, route.matches(scope)[0]) for route in routes]
    expected_full = next((route for route, match in linear if match is Match.FULL), None)
    expected_partial = next((route for route, match in linear if match is Match.PARTIAL), None)
    candidates = router._candidates(path)
    found = [(route, route.matches(scope)[0]) for route in candidates]
    assert next((route for route, match in found if match is Match.FULL), None) is expected_full
    assert next((route for route, match in found if match is Match.PARTIAL), None) is expected_partial
    # Candidates keep the router's order.
    positions = [next(i for i, r in enumerate(routes) if r is route) for route in candidates]
    assert positions == sorted(positions)


# ---------------------------------------------------------------------------------------------------------------
# Route
# ---------------------------------------------------------------------------------------------------------------


def test_route_path_must_start_with_slash() -> None:
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        Route("users", homepage)
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        WebSocketRoute("ws", homepage)
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        Mount("static", app=EchoApp())


def test_route_function_endpoint_defaults_to_get_and_head() -> None:
    route = Route("/", homepage)
    assert route.methods == {"GET", "HEAD"}
    assert route.name == "homepage"
    assert route.include_in_schema is True
    assert route.endpoint is homepage
    assert route.path == "/"
    assert route.path_format == "/"
    assert route.param_convertors == {}


def test_route_methods_are_upper_cased_and_head_follows_get() -> None:
    assert Route("/", homepage, methods=["post", "put"]).methods == {"POST", "PUT"}
    assert Route("/", homepage, methods=("get",)).methods == {"GET", "HEAD"}


def test_route_class_endpoint_accepts_every_method_by_default() -> None:
    route = Route("/", EchoApp)
    assert route.methods is None
    assert route.name == "EchoApp"
    app: object = route.app
    assert app is EchoApp


@pytest.mark.anyio
async def test_route_asgi_endpoint_gets_any_method() -> None:
    router = Router([Route("/", EchoApp())])
    sent = await run(router, http_scope("/", method="DELETE"))
    assert status_of(sent) == 200
    assert body_of(sent) == b"asgi DELETE"


@pytest.mark.anyio
async def test_route_405_outside_an_application_is_a_plain_response() -> None:
    router = Router([Route("/", homepage, methods=["GET", "POST"])])
    sent = await run(router, http_scope("/", method="DELETE"))
    assert status_of(sent) == 405
    assert body_of(sent) == b"Method Not Allowed"
    assert header_of(sent, b"allow") == "GET, HEAD, POST"


def test_route_405_inside_an_application_goes_through_exception_handlers(
    test_client_factory: TestClientFactory,
) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail, "allow": (exc.headers or {})["Allow"]}, status_code=405)

    app = Starlette(routes=[Route("/", homepage)], exception_handlers={405: method_not_allowed})
    client = test_client_factory(app)
    response = client.post("/")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed", "allow": "GET, HEAD"}


def test_route_405_default_rendering_in_an_application(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/", homepage)]))
    response = client.put("/")
    assert response.status_code == 405
    assert response.text == "Method Not Allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_route_head_and_sync_endpoints(test_client_factory: TestClientFactory) -> None:
    threads: list[int] = []

    def sync_endpoint(request: Request) -> Response:
        threads.append(threading.get_ident())
        return PlainTextResponse("sync")

    client = test_client_factory(Router([Route("/", sync_endpoint)]))
    assert client.get("/").text == "sync"
    head = client.head("/")
    assert head.status_code == 200
    assert head.content == b""
    assert threads and threading.get_ident() not in threads


def test_route_methods_endpoint_and_partial_endpoint(test_client_factory: TestClientFactory) -> None:
    class Views:
        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        async def hello(self, request: Request) -> Response:
            return PlainTextResponse(self.greeting)

    async def greet(greeting: str, request: Request) -> Response:
        return PlainTextResponse(greeting)

    views = Views("hi")
    partial_endpoint = functools.partial(greet, "partial hi")
    routes = [Route("/method", views.hello), Route("/partial", partial_endpoint)]
    assert routes[0].name == "hello"
    assert routes[1].name == "partial"
    assert routes[1].methods == {"GET", "HEAD"}
    client = test_client_factory(Router(routes))
    assert client.get("/method").text == "hi"
    assert client.get("/partial").text == "partial hi"
    assert client.post("/partial").status_code == 405


def test_route_http_endpoint_class(test_client_factory: TestClientFactory) -> None:
    class Items(HTTPEndpoint):
        async def get(self, request: Request) -> Response:
            return PlainTextResponse(f"item {request.path_params['item_id']}")

    client = test_client_factory(Starlette(routes=[Route("/items/{item_id:int}", Items)]))
    assert client.get("/items/3").text == "item 3"
    assert client.post("/items/3").status_code == 405


def test_path_params_and_convertors(test_client_factory: TestClientFactory) -> None:
    routes = [
        Route("/int/{value:int}", echo_params),
        Route("/float/{value:float}", echo_params),
        Route("/uuid/{value:uuid}", echo_params),
        Route("/path/{value:path}", echo_params),
        Route("/str/{value}", echo_params),
    ]
    client = test_client_factory(Router(routes))
    assert client.get("/int/42").json() == {"value": "42"}
    assert client.get("/int/x").status_code == 404
    assert client.get("/float/1.5").json() == {"value": "1.5"}
    identifier = uuid.uuid4()
    assert client.get(f"/uuid/{identifier}").json() == {"value": str(identifier)}
    assert client.get(f"/uuid/{identifier.hex}").json() == {"value": str(identifier)}
    assert client.get("/path/a/b/c").json() == {"value": "a/b/c"}
    assert client.get("/str/hello").json() == {"value": "hello"}
    assert client.get("/str/a/b").status_code == 404


def test_values_a_convertor_rejects_do_not_match(test_client_factory: TestClientFactory) -> None:
    # int() refuses numbers of more than 4300 digits: that is no match (404), not a server error.
    huge = "9" * 5000
    app = Router(
        [
            Route("/int/{value:int}", echo_params),
            WebSocketRoute("/ws/{value:int}", ws_hello),
            Mount("/m/{value:int}", app=EchoApp()),
            Host("{value:int}.example.org", app=EchoApp()),
            Route("/{anything:path}", text_endpoint("fallback")),
        ]
    )
    client = test_client_factory(app)
    assert client.get(f"/int/{huge}").text == "fallback"
    assert client.get(f"/m/{huge}/x").text == "fallback"
    assert client.get("/m/1/x").text == "asgi GET"
    assert test_client_factory(app, base_url=f"http://{huge}.example.org").get("/").text == "fallback"
    assert app.routes[1].matches(websocket_scope(f"/ws/{huge}")) == (Match.NONE, {})


def test_route_matches_gives_the_child_scope() -> None:
    route = Route("/users/{id:int}", homepage, methods=["POST"])
    match, child = route.matches(http_scope("/users/3", method="POST", path_params={"tenant": "t"}))
    assert match is Match.FULL
    assert child == {"endpoint": homepage, "path_params": {"tenant": "t", "id": 3}}
    match, child = route.matches(http_scope("/users/3", method="GET"))
    assert match is Match.PARTIAL
    assert child["path_params"] == {"id": 3}
    assert route.matches(http_scope("/users/x")) == (Match.NONE, {})
    assert route.matches(websocket_scope("/users/3")) == (Match.NONE, {})


def test_route_middleware(test_client_factory: TestClientFactory) -> None:
    route = Route(
        "/",
        homepage,
        middleware=[Middleware(AddHeaderMiddleware, label="outer"), Middleware(AddHeaderMiddleware, label="inner")],
    )
    client = test_client_factory(Router([route, Route("/plain", homepage)]))
    response = client.get("/")
    assert response.headers.get_list("x-mw") == ["inner", "outer"]
    assert "x-mw" not in client.get("/plain").headers


def test_route_url_path_for() -> None:
    route = Route("/users/{id:int}/{name}", homepage, name="user")
    url = route.url_path_for("user", id=1, name="tom")
    assert isinstance(url, URLPath)
    assert url == "/users/1/tom"
    assert url.protocol == "http"
    assert url.host == ""
    with pytest.raises(NoMatchFound, match='No route exists for name "other" and params "id, name".'):
        route.url_path_for("other", id=1, name="tom")
    with pytest.raises(NoMatchFound, match='No route exists for name "user" and params "id".'):
        route.url_path_for("user", id=1)
    with pytest.raises(NoMatchFound):
        route.url_path_for("user", id=1, name="tom", extra=2)


def test_route_equality_and_repr() -> None:
    assert Route("/", homepage) == Route("/", homepage)
    assert Route("/", homepage) != Route("/", homepage, methods=["POST"])
    assert Route("/", homepage) != Route("/x", homepage)
    assert Route("/", homepage) != Route("/", echo_params)
    assert Route("/", homepage) != "/"
    assert repr(Route("/", homepage)) == "Route(path='/', name='homepage', methods=['GET', 'HEAD'])"
    assert repr(Route("/", EchoApp, name="e")) == "Route(path='/', name='e', methods=[])"
    with pytest.raises(TypeError):
        hash(Route("/", homepage))


def test_route_include_in_schema_and_name() -> None:
    route = Route("/", homepage, name="custom", include_in_schema=False)
    assert route.name == "custom"
    assert route.include_in_schema is False


@pytest.mark.anyio
async def test_route_called_directly() -> None:
    route = Route("/", homepage)
    sent = await run(route, http_scope("/"))
    assert body_of(sent) == b"home"
    sent = await run(route, http_scope("/missing"))
    assert status_of(sent) == 404
    assert body_of(sent) == b"Not Found"
    sent = await run(route, websocket_scope("/missing"), incoming=[{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert await run(route, {"type": "lifespan"}) == []


# ---------------------------------------------------------------------------------------------------------------
# request_response / websocket_session / helpers
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_request_response_sync_and_async() -> None:
    def sync_view(request: Request) -> Response:
        return PlainTextResponse(f"sync {request.method}")

    async def async_view(request: Request) -> Response:
        return PlainTextResponse(f"async {request.url.path}")

    assert body_of(await run(request_response(sync_view), http_scope("/s", method="POST"))) == b"sync POST"
    assert body_of(await run(request_response(async_view), http_scope("/a"))) == b"async /a"


@pytest.mark.anyio
async def test_request_response_exceptions_propagate_without_handlers() -> None:
    async def failing(request: Request) -> Response:
        raise HTTPException(418)

    with pytest.raises(HTTPException):
        await run(request_response(failing), http_scope("/"))


@pytest.mark.anyio
async def test_websocket_session_wraps_a_function() -> None:
    async def session(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.url.path)
        await websocket.close()

    sent = await run(websocket_session(session), websocket_scope("/ws"), incoming=[{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == "/ws"


def test_get_name() -> None:
    class Endpoint:
        def __call__(self) -> None: ...

    assert get_name(homepage) == "homepage"
    assert get_name(Endpoint) == "Endpoint"
    assert get_name(Endpoint()) == "Endpoint"
    assert get_name(functools.partial(homepage)) == "partial"


def test_iscoroutinefunction_or_partial_is_deprecated() -> None:
    def sync() -> None: ...

    with pytest.deprecated_call(match="iscoroutinefunction_or_partial is deprecated"):
        assert iscoroutinefunction_or_partial(functools.partial(functools.partial(homepage)))
    with pytest.deprecated_call():
        assert not iscoroutinefunction_or_partial(sync)


@pytest.mark.anyio
async def test_base_route_is_abstract() -> None:
    route = BaseRoute()
    with pytest.raises(NotImplementedError):
        route.matches(http_scope("/"))
    with pytest.raises(NotImplementedError):
        route.url_path_for("name")
    with pytest.raises(NotImplementedError):
        await route.handle(http_scope("/"), None, None)  # type: ignore[arg-type]  # never used


def test_match_enum_and_no_match_found() -> None:
    assert [(m.name, m.value) for m in Match] == [("NONE", 0), ("PARTIAL", 1), ("FULL", 2)]
    assert str(NoMatchFound("n", {"a": 1, "b": 2})) == 'No route exists for name "n" and params "a, b".'
    assert str(NoMatchFound("n", {})) == 'No route exists for name "n" and params "".'


# ---------------------------------------------------------------------------------------------------------------
# WebSocketRoute
# ---------------------------------------------------------------------------------------------------------------


async def ws_hello(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(dict(websocket.path_params))
    await websocket.close()


def test_websocket_route_function(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Router([WebSocketRoute("/ws/{room}", ws_hello)]))
    with client.websocket_connect("/ws/lobby") as session:
        assert session.receive_json() == {"room": "lobby"}
    assert client.get("/ws/lobby").status_code == 404


def test_websocket_route_endpoint_class_and_partial(test_client_factory: TestClientFactory) -> None:
    class Echo(WebSocketEndpoint):
        encoding = "text"

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_text(f"echo {data}")

    async def greet(greeting: str, websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(greeting)
        await websocket.close()

    partial_route = WebSocketRoute("/greet", functools.partial(greet, "hello"))
    assert partial_route.name == "partial"
    client = test_client_factory(Router([WebSocketRoute("/echo", Echo), partial_route]))
    with client.websocket_connect("/echo") as session:
        session.send_text("x")
        assert session.receive_text() == "echo x"
    with client.websocket_connect("/greet") as session:
        assert session.receive_text() == "hello"


def test_websocket_route_middleware(test_client_factory: TestClientFactory) -> None:
    seen: list[str] = []

    class Recorder:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope["type"])
            await self.app(scope, receive, send)

    client = test_client_factory(Router([WebSocketRoute("/ws", ws_hello, middleware=[Middleware(Recorder)])]))
    with client.websocket_connect("/ws") as session:
        assert session.receive_json() == {}
    assert seen == ["websocket"]


def test_websocket_route_matches_url_path_for_eq_repr() -> None:
    route = WebSocketRoute("/ws/{room}", ws_hello, name="room")
    assert route.matches(http_scope("/ws/a")) == (Match.NONE, {})
    assert route.matches(websocket_scope("/nope")) == (Match.NONE, {})
    match, child = route.matches(websocket_scope("/ws/a"))
    assert match is Match.FULL and child == {"endpoint": ws_hello, "path_params": {"room": "a"}}
    url = route.url_path_for("room", room="a")
    assert url == "/ws/a" and url.protocol == "websocket"
    with pytest.raises(NoMatchFound):
        route.url_path_for("room")
    with pytest.raises(NoMatchFound):
        route.url_path_for("other", room="a")
    assert route == WebSocketRoute("/ws/{room}", ws_hello)
    assert route != WebSocketRoute("/ws/{other}", ws_hello)
    assert route != Route("/ws/{room}", ws_hello)
    assert repr(route) == "WebSocketRoute(path='/ws/{room}', name='room')"
    assert WebSocketRoute("/", ws_hello).name == "ws_hello"


@pytest.mark.anyio
async def test_websocket_not_found_closes() -> None:
    sent = await run(Router([]), websocket_scope("/nowhere"), incoming=[{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


def test_websocket_not_found_in_an_application(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[]))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/nowhere"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.code == 1000


# ---------------------------------------------------------------------------------------------------------------
# Mount
# ---------------------------------------------------------------------------------------------------------------


def test_mount_routes(test_client_factory: TestClientFactory) -> None:
    app = Router(
        [
            Route("/", homepage),
            Mount(
                "/users",
                routes=[Route("/", text_endpoint("users")), Route("/{username}", echo_params)],
            ),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/users/").text == "users"
    assert client.get("/users/tom").json() == {"username": "tom"}
    redirected = client.get("/users", follow_redirects=False)
    assert redirected.status_code == 307
    assert redirected.headers["location"] == "http://testserver/users/"
    assert client.get("/users").text == "users"
    assert client.get("/users/tom/x").status_code == 404


def test_websocket_route_inside_a_mount(test_client_factory: TestClientFactory) -> None:
    app = Router([Mount("/rooms/{building}", routes=[WebSocketRoute("/{room}", ws_hello)])])
    with test_client_factory(app).websocket_connect("/rooms/b1/r2") as session:
        assert session.receive_json() == {"building": "b1", "room": "r2"}


def test_mount_scope_root_path_and_full_path(test_client_factory: TestClientFactory) -> None:
    inner = Router([Route("/leaf/{id}", echo_scope)])
    app = Router([Mount("/outer/{tenant}", routes=[Mount("/inner", app=inner)])])
    client = test_client_factory(app)
    assert client.get("/outer/acme/inner/leaf/9").json() == {
        "path": "/outer/acme/inner/leaf/9",
        "root_path": "/outer/acme/inner",
        "app_root_path": "",
        "path_params": {"tenant": "acme", "id": "9"},
    }


def test_mount_with_server_root_path(test_client_factory: TestClientFactory) -> None:
    app = Router([Mount("/sub", routes=[Route("/x", echo_scope)])])
    client = test_client_factory(app, root_path="/api")
    assert client.get("/api/sub/x").json() == {
        "path": "/api/sub/x",
        "root_path": "/api/sub",
        "app_root_path": "/api",
        "path_params": {},
    }


def test_mount_asgi_app_and_root(test_client_factory: TestClientFactory) -> None:
    app = Router([Mount("/static", app=EchoApp(), name="static"), Mount("/", app=Router([Route("/r", homepage)]))])
    client = test_client_factory(app)
    assert client.get("/static/anything/here").text == "asgi GET"
    assert client.post("/static/").text == "asgi POST"
    assert client.get("/r").text == "home"
    assert app.routes[1].path == ""  # type: ignore[attr-defined]


def test_mount_matches_child_scope() -> None:
    mount = Mount("/m/{lang}", app=EchoApp())
    match, child = mount.matches(http_scope("/m/en/a/b", root_path="", path_params={"x": 1}))
    assert match is Match.FULL
    assert child == {
        "path_params": {"x": 1, "lang": "en"},
        "app_root_path": "",
        "root_path": "/m/en",
        "endpoint": mount.app,
    }
    match, child = mount.matches(websocket_scope("/m/en/", app_root_path="/srv", root_path="/srv"))
    assert match is Match.FULL  # the path does not lie under root_path "/srv": routed as it is
    assert child["root_path"] == "/srv/m/en"
    match, child = mount.matches(websocket_scope("/srv/m/en/", app_root_path="/srv", root_path="/srv"))
    assert match is Match.FULL
    assert child["app_root_path"] == "/srv" and child["root_path"] == "/srv/m/en"
    assert mount.matches({"type": "lifespan"}) == (Match.NONE, {})
    assert mount.matches(http_scope("/m/en")) == (Match.NONE, {})


def test_mount_url_path_for() -> None:
    users = Mount(
        "/users",
        name="users",
        routes=[Route("/", homepage, name="user_list"), Route("/{username}", homepage, name="user_detail")],
    )
    assert users.url_path_for("users:user_list") == "/users/"
    assert users.url_path_for("users:user_detail", username="tom") == "/users/tom"
    with pytest.raises(NoMatchFound):
        users.url_path_for("users:missing")
    with pytest.raises(NoMatchFound):
        users.url_path_for("user_list")
    static = Mount("/static", app=EchoApp(), name="static")
    url = static.url_path_for("static", path="/css/base.css")
    assert url == "/static/css/base.css" and url.protocol == ""
    with pytest.raises(NoMatchFound):
        static.url_path_for("static", path="/x", extra=1)
    with pytest.raises(NoMatchFound):
        static.url_path_for("static")
    unnamed = Mount("/api", routes=[Route("/items", homepage, name="items")])
    assert unnamed.url_path_for("items") == "/api/items"
    assert Mount("", routes=[Route("/x", homepage, name="x")]).url_path_for("x") == "/x"


def test_mount_url_path_for_with_params_in_the_prefix() -> None:
    mount = Mount("/{lang}", name="i18n", routes=[Route("/about", homepage, name="about")])
    assert mount.url_path_for("i18n:about", lang="en") == "/en/about"
    with pytest.raises(NoMatchFound):
        mount.url_path_for("i18n:about")
    files = Mount("/{bucket}", name="files", app=EchoApp())
    assert files.url_path_for("files", bucket="b", path="/k/v") == "/b/k/v"


def test_mount_url_path_for_forwards_path_to_children() -> None:
    outer = Mount("/outer", name="outer", routes=[Mount("/static", app=EchoApp(), name="static")])
    assert outer.url_path_for("outer:static", path="/a.css") == "/outer/static/a.css"
    ws = Mount("/live", routes=[WebSocketRoute("/feed", ws_hello, name="feed")])
    url = ws.url_path_for("feed")
    assert url == "/live/feed" and url.protocol == "websocket"


def test_mount_routes_property_eq_repr_and_asserts() -> None:
    inner = [Route("/a", homepage)]
    mount = Mount("/m/", routes=inner, name="m")
    assert mount.path == "/m"
    assert mount.routes == inner
    assert Mount("/e", app=EchoApp()).routes == []
    assert mount == Mount("/m", app=mount.app)
    assert mount != Mount("/n", app=mount.app)
    assert mount != Route("/m", homepage)
    assert repr(mount) == f"Mount(path='/m', name='m', app={mount.app!r})"
    app = EchoApp()
    assert repr(Mount("/x", app=app)) == f"Mount(path='/x', name='', app={app!r})"
    with pytest.raises(AssertionError, match=re.escape("Either 'app=...', or 'routes=' must be specified")):
        Mount("/x")
    both = Mount("/both", app=app, routes=inner)
    assert both.app is app


def test_mount_middleware(test_client_factory: TestClientFactory) -> None:
    app = Router(
        [
            Mount("/with", routes=[Route("/x", homepage)], middleware=[Middleware(AddHeaderMiddleware, label="m")]),
            Route("/without", homepage),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/with/x").headers["x-mw"] == "m"
    assert "x-mw" not in client.get("/without").headers


def test_url_for_across_mounts(test_client_factory: TestClientFactory) -> None:
    async def links(request: Request) -> Response:
        return JSONResponse(
            {
                "self": str(request.url_for("api:v1:links")),
                "home": str(request.url_for("home")),
                "static": str(request.url_for("static", path="/app.js")),
                "ws": str(request.url_for("api:live")),
            }
        )

    inner_app = Starlette(routes=[Route("/links", links, name="links")])
    app = Starlette(
        routes=[
            Route("/", homepage, name="home"),
            Mount(
                "/api",
                name="api",
                routes=[Mount("/v1", app=inner_app, name="v1"), WebSocketRoute("/live", ws_hello, name="live")],
            ),
            Mount("/static", app=EchoApp(), name="static"),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/api/v1/links").json() == {
        "self": "http://testserver/api/v1/links",
        "home": "http://testserver/",
        "static": "http://testserver/static/app.js",
        "ws": "ws://testserver/api/live",
    }
    client = test_client_factory(app, root_path="/prefix")
    assert client.get("/prefix/api/v1/links").json()["self"] == "http://testserver/prefix/api/v1/links"


# ---------------------------------------------------------------------------------------------------------------
# Host
# ---------------------------------------------------------------------------------------------------------------


def test_host_routing(test_client_factory: TestClientFactory) -> None:
    api = Router([Route("/users", text_endpoint("api users"), name="users")])
    subdomains = Router([Route("/", echo_params, name="index")])
    app = Router(
        [
            Host("api.example.org:3600", api, name="api"),
            Host("{subdomain}.example.org", subdomains, name="sub"),
            Route("/", text_endpoint("fallback")),
        ]
    )
    client = test_client_factory(app, base_url="https://api.example.org")
    assert client.get("/users").text == "api users"
    client = test_client_factory(app, base_url="https://api.example.org:5600")
    assert client.get("/users").text == "api users"
    client = test_client_factory(app, base_url="https://blog.example.org")
    assert client.get("/").json() == {"subdomain": "blog"}
    client = test_client_factory(app, base_url="https://other.test")
    assert client.get("/").text == "fallback"


def test_host_url_path_for() -> None:
    api = Router([Route("/users", homepage, name="users"), Mount("/s", app=EchoApp(), name="s")])
    host = Host("api.example.org:3600", api, name="api")
    url = host.url_path_for("api:users")
    assert url == "/users" and url.host == "api.example.org:3600" and url.protocol == "http"
    assert str(url.make_absolute_url("https://example.org")) == "https://api.example.org:3600/users"
    assert host.url_path_for("api", path="/x") == "/x"
    assert host.url_path_for("api", path="/x").host == "api.example.org:3600"
    with pytest.raises(NoMatchFound):
        host.url_path_for("api", path="/x", extra=1)
    with pytest.raises(NoMatchFound):
        host.url_path_for("api:missing")
    with pytest.raises(NoMatchFound):
        host.url_path_for("users")
    sub = Host("{subdomain}.example.org", api, name="sub")
    url = sub.url_path_for("sub:users", subdomain="blog")
    assert url == "/users" and url.host == "blog.example.org"
    with pytest.raises(NoMatchFound):
        sub.url_path_for("sub:users")
    unnamed = Host("h.example.org", api)
    assert unnamed.url_path_for("users").host == "h.example.org"
    assert unnamed.url_path_for("s", path="/f") == "/s/f"


def test_host_url_for_from_a_request(test_client_factory: TestClientFactory) -> None:
    async def link(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("sub:users:user_detail", username="tom", subdomain="blog")))

    users = Router([Mount("/users", name="users", routes=[Route("/{username}", homepage, name="user_detail")])])
    app = Starlette(routes=[Host("{subdomain}.example.org", users, name="sub"), Route("/link", link)])
    client = test_client_factory(app)
    assert client.get("/link").text == "http://blog.example.org/users/tom"


def test_host_matches_routes_eq_repr() -> None:
    app = Router([Route("/", homepage)])
    host = Host("{sub}.example.org", app, name="h")
    assert host.routes == app.routes
    assert Host("x.org", EchoApp()).routes == []
    scope = http_scope("/", headers=[(b"host", b"a.example.org:8000")])
    match, child = host.matches(scope)
    assert match is Match.FULL and child == {"path_params": {"sub": "a"}, "endpoint": app}
    other_headers = [(b"accept", b"*/*"), (b"host", b"c.example.org")]
    assert host.matches(http_scope("/", headers=other_headers))[1]["path_params"] == {"sub": "c"}
    assert host.matches(http_scope("/", headers=[])) == (Match.NONE, {})
    assert host.matches({"type": "lifespan"}) == (Match.NONE, {})
    match, _ = host.matches(websocket_scope("/", headers=[(b"host", b"b.example.org")]))
    assert match is Match.FULL
    assert host == Host("{sub}.example.org", app)
    assert host != Host("{sub}.example.com", app)
    assert host != Route("/", homepage)
    assert repr(host) == f"Host(host='{{sub}}.example.org', name='h', app={app!r})"
    assert repr(Host("x.org", app)) == f"Host(host='x.org', name='', app={app!r})"
    with pytest.raises(AssertionError, match="Host must not start with '/'"):
        Host("/x", app)


def test_host_ipv6_literal_port_is_stripped() -> None:
    host = Host("[::1]", EchoApp())
    assert host.matches(http_scope("/", headers=[(b"host", b"[::1]:8000")]))[0] is Match.FULL
    assert host.matches(http_scope("/", headers=[(b"host", b"[::1]")]))[0] is Match.FULL
    assert host.matches(http_scope("/", headers=[(b"host", b"[::1")]))[0] is Match.NONE
    regex, host_format, _ = compile_path("[::1]:8000")
    assert regex.pattern == re.escape("[::1]").join("^$") and host_format == "[::1]:8000"


# ---------------------------------------------------------------------------------------------------------------
# Router
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_router_not_found_outside_an_application() -> None:
    sent = await run(Router([Route("/", homepage)]), http_scope("/missing"))
    assert status_of(sent) == 404
    assert body_of(sent) == b"Not Found"
    assert header_of(sent, b"content-type") == "text/plain; charset=utf-8"


def test_router_not_found_inside_an_application_uses_handlers(test_client_factory: TestClientFactory) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"missing": request.url.path}, status_code=404)

    client = test_client_factory(Starlette(exception_handlers={404: not_found}))
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"missing": "/nope"}


def test_router_default_app(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Router([Route("/", homepage)], default=EchoApp()))
    assert client.patch("/anything").text == "asgi PATCH"


def test_router_first_match_wins(test_client_factory: TestClientFactory) -> None:
    app = Router(
        [
            Route("/users/{username}", echo_params),
            Route("/users/me", text_endpoint("me")),
            Route("/static/me", text_endpoint("static me")),
            Route("/{anything}/me", text_endpoint("wildcard me")),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/users/me").json() == {"username": "me"}
    assert client.get("/static/me").text == "static me"
    assert client.get("/other/me").text == "wildcard me"


def test_router_partial_match_used_when_no_full_match(test_client_factory: TestClientFactory) -> None:
    app = Router(
        [
            Route("/item", text_endpoint("get"), methods=["GET"]),
            Route("/item", text_endpoint("post"), methods=["POST"]),
            Route("/only-put", text_endpoint("put"), methods=["PUT"]),
            Route("/only-put", text_endpoint("patch"), methods=["PATCH"]),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/item").text == "get"
    assert client.post("/item").text == "post"
    response = client.delete("/only-put")
    assert response.status_code == 405
    assert response.headers["allow"] == "PUT"  # the first partial match answers


def test_router_redirect_slashes(test_client_factory: TestClientFactory) -> None:
    app = Router(
        [
            Route("/no-slash", homepage),
            Route("/slash/", homepage),
            Route("/post-only", homepage, methods=["POST"]),
        ]
    )
    client = test_client_factory(app)
    response = client.get("/no-slash/?q=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/no-slash?q=1"
    response = client.get("/slash", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/slash/"
    # A route matching by path only (wrong method) still triggers the redirect.
    response = client.get("/post-only/", follow_redirects=False)
    assert response.status_code == 307
    assert client.get("/nothing/").status_code == 404
    assert client.get("/no-slash//", follow_redirects=False).headers["location"] == "http://testserver/no-slash"


def test_router_redirect_slashes_disabled_and_root(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Router([Route("/a", homepage)], redirect_slashes=False))
    assert client.get("/a/").status_code == 404
    client = test_client_factory(Router([Route("/", homepage)]))
    assert client.get("/").text == "home"
    client = test_client_factory(Router([Route("//", homepage)]))
    assert client.get("/", follow_redirects=False).status_code == 404


@pytest.mark.anyio
async def test_router_redirect_under_root_path() -> None:
    router = Router([Route("/", homepage)])
    sent = await run(router, http_scope("/api", root_path="/api"))
    assert status_of(sent) == 307
    assert header_of(sent, b"location") == "http://testserver/api/"


def test_router_sets_router_scope_key_once(test_client_factory: TestClientFactory) -> None:
    seen: list[Any] = []

    async def endpoint(request: Request) -> Response:
        seen.append(request.scope["router"])
        return PlainTextResponse("ok")

    inner = Router([Route("/e", endpoint)])
    outer = Router([Mount("/m", app=inner)])
    test_client_factory(outer).get("/m/e")
    assert seen == [outer]
    test_client_factory(inner).get("/e")
    assert seen == [outer, inner]


def test_router_middleware(test_client_factory: TestClientFactory) -> None:
    router = Router([Route("/", homepage)], middleware=[Middleware(AddHeaderMiddleware, label="router")])
    client = test_client_factory(router)
    assert client.get("/").headers["x-mw"] == "router"
    assert client.get("/missing").headers["x-mw"] == "router"


def test_router_url_path_for() -> None:
    router = Router([Route("/", homepage, name="home"), Route("/u/{id:int}", homepage, name="user")])
    assert router.url_path_for("home") == "/"
    assert router.url_path_for("user", id=3) == "/u/3"
    with pytest.raises(NoMatchFound, match='No route exists for name "user" and params "name".'):
        router.url_path_for("user", name="x")


def test_router_add_methods(test_client_factory: TestClientFactory) -> None:
    router = Router()
    router.add_route("/r", homepage, methods=["POST"], name="r", include_in_schema=False)
    router.add_websocket_route("/ws", ws_hello, name="ws")
    router.mount("/m", EchoApp(), name="m")
    router.host("h.example.org", EchoApp(), name="h")
    route = router.routes[0]
    assert isinstance(route, Route)
    assert route.methods == {"POST"} and route.name == "r" and route.include_in_schema is False
    assert isinstance(router.routes[1], WebSocketRoute) and router.routes[1].name == "ws"
    assert isinstance(router.routes[2], Mount) and router.routes[2].name == "m"
    assert isinstance(router.routes[3], Host) and router.routes[3].name == "h"
    client = test_client_factory(router)
    assert client.post("/r").text == "home"
    assert client.get("/m/x").text == "asgi GET"


def test_router_deprecated_decorators(test_client_factory: TestClientFactory) -> None:
    router = Router()
    with pytest.deprecated_call(match="The `route` decorator is deprecated"):

        @router.route("/dec", methods=["GET"], name="dec")
        async def decorated(request: Request) -> Response:
            return PlainTextResponse("decorated")

    with pytest.deprecated_call(match="The `websocket_route` decorator is deprecated"):

        @router.websocket_route("/ws", name="ws")
        async def decorated_ws(websocket: WebSocket) -> None:
            await ws_hello(websocket)

    assert router.url_path_for("dec") == "/dec"
    client = test_client_factory(router)
    assert client.get("/dec").text == "decorated"
    with client.websocket_connect("/ws") as session:
        assert session.receive_json() == {}


def test_router_equality() -> None:
    assert Router([Route("/", homepage)]) == Router([Route("/", homepage)])
    assert Router([Route("/", homepage)]) != Router([])
    assert Router() != "router"
    with pytest.raises(TypeError):
        hash(Router())


@pytest.mark.anyio
async def test_router_rejects_unknown_scope_types() -> None:
    with pytest.raises(AssertionError):
        await run(Router(), {"type": "other"})


# ---------------------------------------------------------------------------------------------------------------
# The lookup table follows changes to `routes`
# ---------------------------------------------------------------------------------------------------------------


def _mutations() -> list[tuple[str, Callable[[list[BaseRoute]], None]]]:
    route = Route("/new", text_endpoint("new"))
    shadow = Route("/{anything}", text_endpoint("shadow"))
    return [
        ("append", lambda routes: routes.append(route)),
        ("extend", lambda routes: routes.extend([route])),
        ("insert", lambda routes: routes.insert(0, route)),
        ("iadd", lambda routes: routes.__iadd__([route])),
        ("setitem", lambda routes: routes.__setitem__(0, route)),
        ("setslice", lambda routes: routes.__setitem__(slice(0, 0), [route])),
        ("shadow-insert", lambda routes: routes.insert(0, shadow)),
    ]


@pytest.mark.parametrize("mutation", [m for _, m in _mutations()], ids=[name for name, _ in _mutations()])
def test_route_list_mutations_are_seen(
    mutation: Callable[[list[BaseRoute]], None], test_client_factory: TestClientFactory
) -> None:
    router = Router([Route("/old", text_endpoint("old"))])
    client = test_client_factory(router)
    assert client.get("/old").text == "old"
    assert client.get("/new").status_code == 404
    mutation(router.routes)
    assert client.get("/new").text in ("new", "shadow")


def test_route_list_removals_and_reordering_are_seen(test_client_factory: TestClientFactory) -> None:
    first = Route("/x", text_endpoint("first"))
    second = Route("/x", text_endpoint("second"))
    router = Router([first, second])
    client = test_client_factory(router)
    assert client.get("/x").text == "first"
    router.routes.reverse()
    assert client.get("/x").text == "second"
    router.routes.sort(key=lambda route: route is not first)
    assert client.get("/x").text == "first"
    router.routes.remove(first)
    assert client.get("/x").text == "second"
    router.routes.append(first)
    router.routes.pop()
    assert client.get("/x").text == "second"
    del router.routes[0]
    assert client.get("/x").status_code == 404
    router.routes *= 1
    router.routes.append(first)
    router.routes.clear()
    assert client.get("/x").status_code == 404
    assert isinstance(router.routes, RouteList) and router.routes.version > 0


def test_routes_replaced_with_a_plain_list(test_client_factory: TestClientFactory) -> None:
    router = Router([Route("/a", text_endpoint("a"))])
    client = test_client_factory(router)
    assert client.get("/a").text == "a"
    plain: list[BaseRoute] = [Route("/b", text_endpoint("b"))]
    router.routes = plain
    assert client.get("/a").status_code == 404
    assert client.get("/b").text == "b"
    plain.append(Route("/c", text_endpoint("c")))
    assert client.get("/c").text == "c"
    shared = Router([Route("/d", text_endpoint("d"))]).routes
    router.routes = shared
    assert client.get("/d").text == "d"


def test_custom_routes_are_tried_for_every_path(test_client_factory: TestClientFactory) -> None:
    class PrefixRoute(BaseRoute):
        """Matches any path starting with /custom-anything (a non-segment boundary)."""

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            if scope["type"] == "http" and scope["path"].startswith("/cust"):
                return Match.FULL, {}
            return Match.NONE, {}

        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            await PlainTextResponse("custom")(scope, receive, send)

    class LooseRoute(Route):
        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            if scope["path"] == "/anything-loose":
                return Match.FULL, {"endpoint": self.endpoint, "path_params": {}}
            return super().matches(scope)

    rewritten = Route("/static-looking", text_endpoint("rewritten"))
    rewritten.path_regex = re.compile("^/rewritten$")
    router = Router(
        [Route("/custom", homepage), PrefixRoute(), LooseRoute("/loose", text_endpoint("loose")), rewritten]
    )
    client = test_client_factory(router)
    assert client.get("/custom").text == "home"
    assert client.get("/customer").text == "custom"
    assert client.get("/anything-loose").text == "loose"
    assert client.get("/rewritten").text == "rewritten"


def test_newline_terminated_paths_keep_the_regex_semantics() -> None:
    router = Router([Route("/users", homepage), Route("/weird\n", homepage)])
    assert router._candidates("/users\n")[0] is router.routes[0]
    assert router.routes[0].matches(http_scope("/users\n"))[0] is Match.FULL
    assert router._candidates("/x/y") == ()
    assert router._candidates("no-slash") == ()
