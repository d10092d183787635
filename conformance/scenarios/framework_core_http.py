"""Our ``starlette`` end to end over HTTP: routing, url_for, redirects, requests.

The apps are Starlette applications on the shared server (the dispatcher hands them the scope
without the scenario header, root_path ""). Endpoints answer with what the framework gave them
(path params with their types, ``request.url``, ``url_for`` results, ...) as JSON; the checks
compare with what Starlette documents. URLs are built from the request's Host header and scheme:
the expected ones come from the client's own base URL, never from host or port literals.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from conformance import Session, expect, expect_equal, scenario
from conformance._session import TIMEOUT, read_until_closed
from conformance.scenarios._helpers import jsonable_scope, send_json
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Host, Mount, Route, Router
from starlette.types import Receive, Scope, Send

MIB = 1024 * 1024


def base(s: Session) -> str:
    """The client's base URL without the trailing slash: what the app sees as scheme://host."""
    return str(s.http.base_url).rstrip("/")


def get_json(s: Session, path: str, status: int = 200, **kwargs: Any) -> Any:
    """GET ``path``, expect ``status`` and a JSON body; return it."""
    response = s.http.get(path, **kwargs)
    expect_equal(f"status of GET {path}", response.status_code, status)
    return response.json()


# --- Routing ------------------------------------------------------------------------------------


async def _params(request: Request) -> JSONResponse:
    """The path params with their type names, and where the request was routed."""
    params = {name: [type(value).__name__, str(value)] for name, value in request.path_params.items()}
    scope = request.scope
    return JSONResponse({"params": params, "path": scope["path"], "root_path": scope.get("root_path", "")})


async def _sub_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw ASGI app mounted under /sub: reports the scope Starlette gives it."""
    data = jsonable_scope(scope)
    data["route_path"] = get_route_path(scope)
    await send_json(send, {key: data.get(key) for key in ("path", "root_path", "app_root_path", "route_path")})


async def _child_hello(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "who": request.path_params["who"],
            "path": request.scope["path"],
            "root_path": request.scope["root_path"],
            "url": str(request.url),
            "url_for": str(request.url_for("child:hello", who="again")),
        }
    )


_child = Starlette(routes=[Route("/hello/{who}", _child_hello, name="hello")])


async def _where(request: Request) -> JSONResponse:
    return JSONResponse({"host": request.headers["host"], "params": request.path_params})


async def _items(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"items of {request.url.path}")


class _Thing(HTTPEndpoint):
    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("got")

    def post(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("posted")


async def _url_info(request: Request) -> JSONResponse:
    url = request.url
    return JSONResponse(
        {
            "url": str(url),
            "base_url": str(request.base_url),
            "parts": [url.scheme, url.hostname, url.port, url.path, url.query],
            "item": str(request.url_for("api:item", id=7)),
            "team": str(request.url_for("api:teams:team", org="acme", team="red")),
            "user": str(request.url_for("user", name="ada")),
            "files": str(request.url_for("files", value="a/b.txt")),
            "child": str(request.url_for("child", path="/hello/x")),
            "child_hello": str(request.url_for("child:hello", who="x")),
            "tenant": str(request.url_for("tenant:where", tenant="blue")),
        }
    )


routing_app = Starlette(
    routes=[
        Host("api.example.org", Router([Route("/where", _where)]), name="api_host"),
        Host("{tenant}.tenants.example.org", Router([Route("/where", _where, name="where")]), name="tenant"),
        Route("/params/str/{value}", _params),
        Route("/params/int/{value:int}", _params),
        Route("/params/float/{value:float}", _params),
        Route("/params/uuid/{value:uuid}", _params),
        Route("/params/path/{value:path}", _params, name="files"),
        Route("/users/{name}", _params, name="user"),
        Route("/items", _items),
        Route("/folder/", _items),
        Route("/only-get", _items, methods=["GET"]),
        Route("/write", _items, methods=["POST", "PUT"]),
        Route("/thing", _Thing),
        Route("/url", _url_info),
        Mount(
            "/api",
            name="api",
            routes=[
                Route("/items/{id:int}", _params, name="item"),
                Mount("/{org}/teams", name="teams", routes=[Route("/{team}", _params, name="team")]),
            ],
        ),
        Mount("/sub", app=_sub_app),
        Mount("/child", app=_child, name="child"),
    ]
)


def _param(s: Session, path: str) -> list[str]:
    value: list[str] = get_json(s, path)["params"]["value"]
    return value


@scenario("framework.routing.convertor_str", app=routing_app)
def _convertor_str(s: Session) -> None:
    """{value} (str) gets one path segment as a str."""
    expect_equal("value", _param(s, "/params/str/hello-world"), ["str", "hello-world"])


@scenario("framework.routing.convertor_int", app=routing_app)
def _convertor_int(s: Session) -> None:
    """{value:int} gets an int; a value that is not digits does not match (404)."""
    expect_equal("value", _param(s, "/params/int/0042"), ["int", "42"])
    expect_equal("status of /params/int/-1", s.http.get("/params/int/-1").status_code, 404)


@scenario("framework.routing.convertor_float", app=routing_app)
def _convertor_float(s: Session) -> None:
    """{value:float} gets a float (with or without a fraction)."""
    expect_equal("value of 3.25", _param(s, "/params/float/3.25"), ["float", "3.25"])
    expect_equal("value of 12", _param(s, "/params/float/12"), ["float", "12.0"])


@scenario("framework.routing.convertor_path", app=routing_app)
def _convertor_path(s: Session) -> None:
    """{value:path} gets the rest of the path, slashes included."""
    expect_equal("value", _param(s, "/params/path/a/b/c.txt"), ["str", "a/b/c.txt"])


@scenario("framework.routing.convertor_uuid", app=routing_app)
def _convertor_uuid(s: Session) -> None:
    """{value:uuid} gets a uuid.UUID; a malformed one does not match (404)."""
    value = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")
    expect_equal("value", _param(s, f"/params/uuid/{value}"), ["UUID", str(value)])
    expect_equal("status of /params/uuid/not-a-uuid", s.http.get("/params/uuid/not-a-uuid").status_code, 404)


@scenario("framework.routing.percent_encoded", app=routing_app)
def _percent_encoded(s: Session) -> None:
    """Path params are decoded: /users/caf%C3%A9 -> "café", /users/a%20b -> "a b"."""
    expect_equal("name of caf%C3%A9", get_json(s, "/users/caf%C3%A9")["params"]["name"], ["str", "café"])
    expect_equal("name of a%20b", get_json(s, "/users/a%20b")["params"]["name"], ["str", "a b"])


@scenario("framework.routing.encoded_slash", app=routing_app)
def _encoded_slash(s: Session) -> None:
    """Routing sees the decoded path: %2F is a "/" (a {path} param gets it; a {str} one does not match)."""
    expect_equal("path param of a%2Fb", _param(s, "/params/path/a%2Fb"), ["str", "a/b"])
    expect_equal("status of /users/a%2Fb", s.http.get("/users/a%2Fb").status_code, 404)


@scenario("framework.routing.mount_routes", app=routing_app)
def _mount_routes(s: Session) -> None:
    """A Mount with routes: params of every level reach the endpoint; root_path grows, path stays full."""
    data = get_json(s, "/api/acme/teams/red")
    expect_equal("params", data["params"], {"org": ["str", "acme"], "team": ["str", "red"]})
    expect_equal("path, root_path", [data["path"], data["root_path"]], ["/api/acme/teams/red", "/api/acme/teams"])
    expect_equal("params of /api/items/3", get_json(s, "/api/items/3")["params"], {"id": ["int", "3"]})


@scenario("framework.routing.mount_app", app=routing_app)
def _mount_app(s: Session) -> None:
    """A raw ASGI app under Mount("/sub"): full path, root_path "/sub", routing path the rest."""
    data = get_json(s, "/sub/x/y%20z")
    expected = {"path": "/sub/x/y z", "root_path": "/sub", "app_root_path": "", "route_path": "/x/y z"}
    expect_equal("scope of the mounted app", data, expected)


@scenario("framework.routing.mount_starlette", app=routing_app)
def _mount_starlette(s: Session) -> None:
    """A Starlette app under Mount("/child"): it routes the rest, request.url and url_for keep the prefix."""
    data = get_json(s, "/child/hello/ada")
    expected = {
        "who": "ada",
        "path": "/child/hello/ada",
        "root_path": "/child",
        "url": f"{base(s)}/child/hello/ada",
        "url_for": f"{base(s)}/child/hello/again",
    }
    expect_equal("what the mounted app saw", data, expected)


@scenario("framework.routing.host", app=routing_app)
def _host(s: Session) -> None:
    """Host routes match the Host header (port ignored) and take params from it."""
    api = get_json(s, "/where", headers={"Host": "api.example.org:8080"})
    expect_equal("api.example.org", api, {"host": "api.example.org:8080", "params": {}})
    tenant = get_json(s, "/where", headers={"Host": "blue.tenants.example.org"})
    expect_equal("a tenant host", tenant, {"host": "blue.tenants.example.org", "params": {"tenant": "blue"}})
    expect_equal("status of /where on the server's own host", s.http.get("/where").status_code, 404)


@scenario("framework.routing.not_found", app=routing_app)
def _not_found(s: Session) -> None:
    """No route matches: 404 "Not Found" as plain text."""
    response = s.http.get("/no/such/route")
    expect_equal("status", response.status_code, 404)
    expect_equal("body", response.text, "Not Found")
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")


def _allowed(response: httpx.Response) -> set[str]:
    """The methods of the Allow header (Starlette does not promise an order)."""
    return {method.strip() for method in response.headers.get("allow", "").split(",")}


@scenario("framework.routing.method_not_allowed", app=routing_app)
def _method_not_allowed(s: Session) -> None:
    """A route matching the path but not the method: 405 with an Allow header listing its methods."""
    response = s.http.post("/only-get")
    expect_equal("status", response.status_code, 405)
    expect_equal("body", response.text, "Method Not Allowed")
    expect_equal("allow", _allowed(response), {"GET", "HEAD"})
    expect_equal("allow of a POST/PUT route", _allowed(s.http.delete("/write")), {"POST", "PUT"})


@scenario("framework.routing.endpoint_class", app=routing_app)
def _endpoint_class(s: Session) -> None:
    """An HTTPEndpoint dispatches on the method (sync methods too); others get 405 with Allow."""
    expect_equal("GET", s.http.get("/thing").text, "got")
    expect_equal("POST", s.http.post("/thing").text, "posted")
    response = s.http.put("/thing")
    expect_equal("PUT status and allow", [response.status_code, _allowed(response)], [405, {"GET", "POST"}])


@scenario("framework.routing.head", app=routing_app)
def _head(s: Session) -> None:
    """HEAD on a GET route: 200, the GET's headers (content-length included), no body."""
    got = s.http.get("/items")
    head = s.http.head("/items")
    expect_equal("status", head.status_code, 200)
    expect_equal("content-length", head.headers.get("content-length"), str(len(got.content)))
    expect_equal("body", head.content, b"")


@scenario("framework.routing.redirect_slashes", app=routing_app)
def _redirect_slashes(s: Session) -> None:
    """redirect_slashes: 307 to the slash-toggled path, an absolute URL from the Host header, query kept."""
    strip = s.http.get("/items/?page=2")
    add = s.http.get("/folder")
    expect_equal("statuses", [strip.status_code, add.status_code], [307, 307])
    expect_equal("location of /items/", strip.headers.get("location"), f"{base(s)}/items?page=2")
    expect_equal("location of /folder", add.headers.get("location"), f"{base(s)}/folder/")


@scenario("framework.routing.redirect_slashes_host", app=routing_app)
def _redirect_slashes_host(s: Session) -> None:
    """The redirect_slashes Location follows the Host header the client sent."""
    response = s.http.get("/folder", headers={"Host": "www.example.com:8443"})
    expect_equal("status", response.status_code, 307)
    expect_equal("location", response.headers.get("location"), "http://www.example.com:8443/folder/")


@scenario("framework.routing.redirect_slashes_quoted", app=routing_app)
def _redirect_slashes_quoted(s: Session) -> None:
    """The redirect of a non-ASCII path is percent-encoded again; followed, it reaches the route."""
    response = s.http.get("/users/caf%C3%A9/?q=a%20b")
    expect_equal("location", response.headers.get("location"), f"{base(s)}/users/caf%C3%A9?q=a%20b")
    followed = s.http.get("/users/caf%C3%A9/", follow_redirects=True)
    expect_equal("followed", [followed.status_code, followed.json()["params"]], [200, {"name": ["str", "café"]}])


# --- url_for, request.url -----------------------------------------------------------------------


@scenario("framework.url_for.path_params", app=routing_app)
def _url_for_params(s: Session) -> None:
    """request.url_for fills path params (every convertor) into an absolute URL on the request's host."""
    data = get_json(s, "/url")
    expect_equal("url_for('user')", data["user"], f"{base(s)}/users/ada")
    expect_equal("url_for('files') with a path param", data["files"], f"{base(s)}/params/path/a/b.txt")


@scenario("framework.url_for.mount", app=routing_app)
def _url_for_mount(s: Session) -> None:
    """url_for of routes inside Mounts (names joined with ":") includes every mount prefix."""
    data = get_json(s, "/url")
    expect_equal("api:item", data["item"], f"{base(s)}/api/items/7")
    expect_equal("api:teams:team", data["team"], f"{base(s)}/api/acme/teams/red")
    expect_equal("child (path=)", data["child"], f"{base(s)}/child/hello/x")
    expect_equal("child:hello (a route of the mounted app)", data["child_hello"], f"{base(s)}/child/hello/x")


@scenario("framework.url_for.host", app=routing_app)
def _url_for_host(s: Session) -> None:
    """url_for of a route under a Host gives a URL on that host (params filled in), same scheme."""
    scheme = s.http.base_url.scheme
    expect_equal("tenant:where", get_json(s, "/url")["tenant"], f"{scheme}://blue.tenants.example.org/where")


@scenario("framework.url_for.host_header", app=routing_app)
def _url_for_host_header(s: Session) -> None:
    """url_for builds on the Host header the request came with."""
    data = get_json(s, "/url", headers={"Host": "example.org:8080"})
    expect_equal("api:item", data["item"], "http://example.org:8080/api/items/7")


@scenario("framework.request.url", app=routing_app)
def _request_url(s: Session) -> None:
    """request.url and base_url reflect the scheme, host and port the client used; the query is kept."""
    data = get_json(s, "/url?a=1&b=%20")
    url = s.http.base_url
    expect_equal("url", data["url"], f"{base(s)}/url?a=1&b=%20")
    expect_equal("base_url", data["base_url"], f"{base(s)}/")
    expect_equal(
        "scheme, hostname, port, path, query", data["parts"], [url.scheme, url.host, url.port, "/url", "a=1&b=%20"]
    )


@scenario("framework.request.url_host_header", app=routing_app)
def _request_url_host(s: Session) -> None:
    """request.url follows the Host header: a name and a port the server does not listen on."""
    data = get_json(s, "/url", headers={"Host": "example.org:8080"})
    expect_equal("url", data["url"], "http://example.org:8080/url")
    expect_equal("base_url", data["base_url"], "http://example.org:8080/")
    expect_equal("hostname, port", data["parts"][1:3], ["example.org", 8080])


# --- Redirects ----------------------------------------------------------------------------------


async def _redirect(request: Request) -> Response:
    await request.body()  # read what was posted: a keep-alive connection stays usable on every server
    status = int(request.query_params.get("status", "307"))
    return RedirectResponse(request.query_params.get("to", "/redirect/end"), status_code=status)


async def _redirect_end(request: Request) -> JSONResponse:
    return JSONResponse({"method": request.method, "body": (await request.body()).decode(), "url": str(request.url)})


redirect_app = Starlette(
    routes=[
        Route("/redirect/go", _redirect, methods=["GET", "POST"]),
        Route("/redirect/end", _redirect_end, methods=["GET", "POST"]),
        Route("/redirect/chain", lambda request: RedirectResponse(request.url_for("hop"), status_code=302)),
        Route("/redirect/hop", lambda request: RedirectResponse("/redirect/end?from=hop", 301), name="hop"),
    ]
)


@scenario("framework.redirect.status_codes", app=redirect_app)
def _redirect_status_codes(s: Session) -> None:
    """RedirectResponse: 307 by default, or the status given; Location as given; an empty body."""
    seen = []
    for status in ("", "301", "302", "303", "308"):
        response = s.http.get(f"/redirect/go?status={status or 307}")
        seen.append([response.status_code, response.headers.get("location"), response.content])
    expect_equal("status, location, body", seen, [[code, "/redirect/end", b""] for code in (307, 301, 302, 303, 308)])


@scenario("framework.redirect.location_quoted", app=redirect_app)
def _redirect_location_quoted(s: Session) -> None:
    """A non-ASCII Location is percent-encoded (UTF-8); "?", "=", "&" and existing escapes are kept."""
    response = s.http.get("/redirect/go", params={"to": "/café/x y?q=é&r=%20"})
    expect_equal("location", response.headers.get("location"), "/caf%C3%A9/x%20y?q=%C3%A9&r=%20")


@scenario("framework.redirect.follow", app=redirect_app)
def _redirect_follow(s: Session) -> None:
    """Followed end to end: 302 (an absolute url_for) then 301 then the final page, query kept."""
    response = s.http.get("/redirect/chain", follow_redirects=True)
    expect_equal("status", response.status_code, 200)
    expect_equal("history", [r.status_code for r in response.history], [302, 301])
    expect_equal("final url seen by the app", response.json()["url"], f"{base(s)}/redirect/end?from=hop")


@scenario("framework.redirect.method_kept", app=redirect_app)
def _redirect_method_kept(s: Session) -> None:
    """A POST redirected with 307 is repeated as a POST with its body; with 303 it becomes a GET."""
    kept = s.http.post("/redirect/go?status=307", content=b"payload", follow_redirects=True).json()
    changed = s.http.post("/redirect/go?status=303", content=b"payload", follow_redirects=True).json()
    expect_equal("after 307", [kept["method"], kept["body"]], ["POST", "payload"])
    expect_equal("after 303", [changed["method"], changed["body"]], ["GET", ""])


# --- Requests -----------------------------------------------------------------------------------


async def _json_echo(request: Request) -> JSONResponse:
    return JSONResponse({"json": await request.json()})


async def _body(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def _stream(request: Request) -> JSONResponse:
    digest = hashlib.sha256()
    length = 0
    async for chunk in request.stream():
        digest.update(chunk)
        length += len(chunk)
    return JSONResponse({"length": length, "sha256": digest.hexdigest()})


async def _cookies(request: Request) -> JSONResponse:
    return JSONResponse(request.cookies)


async def _client(request: Request) -> JSONResponse:
    client = request.client
    scope_client = request.scope.get("client")
    return JSONResponse(
        {
            "client": client and [client.host, client.port],
            "scope": scope_client and list(scope_client),
            "types": client and [type(client.host).__name__, type(client.port).__name__],
        }
    )


async def _query(request: Request) -> JSONResponse:
    params = request.query_params
    return JSONResponse({"a": params.getlist("a"), "b": params.get("b"), "items": params.multi_items()})


async def _headers(request: Request) -> JSONResponse:
    headers = request.headers
    return JSONResponse({"x-multi": headers.getlist("X-Multi"), "x-case": headers.get("X-CASE")})


request_app = Starlette(
    routes=[
        Route("/json", _json_echo, methods=["POST"]),
        Route("/body", _body, methods=["POST"]),
        Route("/stream", _stream, methods=["POST"]),
        Route("/cookies", _cookies),
        Route("/client", _client),
        Route("/query", _query),
        Route("/headers", _headers),
    ]
)


@scenario("framework.request.json", app=request_app)
def _request_json(s: Session) -> None:
    """request.json() parses a UTF-8 JSON body (nested, non-ASCII)."""
    document = {"name": "wörld ☃", "items": [1, 2.5, None, True], "nested": {"k": "v"}}
    response = s.http.post("/json", content=json.dumps(document, ensure_ascii=False).encode())
    expect_equal("echo", response.json(), {"json": document})


def _payload(size: int) -> bytes:
    return bytes(range(256)) * (size // 256)


@scenario("framework.request.body_large", app=request_app)
def _request_body_large(s: Session) -> None:
    """request.body() of a 4 MiB body sent with a Content-Length is complete and intact."""
    payload = _payload(4 * MIB)
    expected = {"length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    expect_equal("body seen", s.http.post("/body", content=payload).json(), expected)


@scenario("framework.request.stream_large", app=request_app)
def _request_stream_large(s: Session) -> None:
    """request.stream() of a 4 MiB body sent chunked in 64 KiB pieces yields it all, in order."""
    payload = _payload(4 * MIB)

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    expected = {"length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    expect_equal("body streamed", s.http.post("/stream", content=pieces()).json(), expected)


@scenario("framework.request.cookies", app=request_app)
def _request_cookies(s: Session) -> None:
    """request.cookies parses the Cookie header: several pairs, spaces, an empty value, quotes."""
    cookies = get_json(s, "/cookies", headers={"Cookie": 'a=1; b=two words; empty=; q="quoted"'})
    expect_equal("cookies", cookies, {"a": "1", "b": "two words", "empty": "", "q": "quoted"})


@scenario("framework.request.client", app=request_app)
def _request_client(s: Session) -> None:
    """request.client is (host: str, port: int) from scope["client"], or None without one."""
    data = get_json(s, "/client")
    expect_equal("request.client vs scope client", data["client"], data["scope"])
    expect(data["types"] in (None, ["str", "int"]), f"request.client types: {data['types']}")


@scenario("framework.request.client_socket", app=request_app)
def _request_client_socket(s: Session) -> None:
    """request.client, when known, is the address and port the request's connection came from."""
    sock = s.connect()
    sock.sendall(s.request_head("GET", "/client", [("Connection", "close")]))
    host, port = sock.getsockname()[:2]
    reply = json.loads(read_until_closed(sock, TIMEOUT).partition(b"\r\n\r\n")[2])
    expect_equal("request.client", reply["client"] or [host, port], [host, port])


@scenario("framework.request.query_params", app=request_app)
def _request_query_params(s: Session) -> None:
    """request.query_params keeps repeated keys in order, decodes "+" and escapes, keeps blank values."""
    data = get_json(s, "/query?a=1&b=x+y%21&a=2&c=&a=%C3%A9")
    expect_equal("getlist('a')", data["a"], ["1", "2", "é"])
    expect_equal("get('b')", data["b"], "x y!")
    items = [["a", "1"], ["b", "x y!"], ["a", "2"], ["c", ""], ["a", "é"]]
    expect_equal("multi_items()", data["items"], items)


@scenario("framework.request.headers", app=request_app)
def _request_headers(s: Session) -> None:
    """request.headers is case-insensitive and keeps repeated headers in order."""
    data = get_json(s, "/headers", headers=[("X-Multi", "1"), ("x-case", "Value"), ("X-Multi", "2")])
    expect_equal("headers", data, {"x-multi": ["1", "2"], "x-case": "Value"})
