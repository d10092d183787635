"""The HTTP connection scope as the application sees it (ASGI HTTP spec, "HTTP Connection Scope").

The scenario apps answer with the scope they were called with, as JSON (bytes become latin-1
strings, see ``jsonable_scope``), plus the type names of nested values (which JSON would hide:
a header name must be ``bytes``, not ``str``). Keys the spec calls optional (``raw_path``,
``root_path``, ``client``, ``server``, ``state``, ``extensions``, ``spec_version``) are checked
only when present; absent, they take the spec's default.
"""

from __future__ import annotations

import json
from typing import Any

from conformance import Session, expect, expect_equal, scenario
from conformance._session import SCENARIO_HEADER, STATE_KEY, STATE_VALUE, TIMEOUT, read_until_closed
from conformance.scenarios._helpers import jsonable_scope, read_body, send_json, send_response
from starlette.types import Receive, Scope, Send

_NO_LIFESPAN = "daphne does not implement the lifespan protocol (no 'lifespan' anywhere in its source), so no state"
_LEAK = "conformance_leak"


def _types(values: Any) -> list[str]:
    return [type(value).__name__ for value in values]


async def _scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the scope as JSON, the nested type names under "_nested", the method in a header."""
    await read_body(receive)
    data = jsonable_scope(scope)
    data["_nested"] = {
        "asgi": {key: type(value).__name__ for key, value in scope["asgi"].items()},
        "headers": sorted({"/".join([str(len(list(pair))), *_types(pair)]) for pair in scope["headers"]}),
        "client": _types(scope.get("client") or ()),
        "server": _types(scope.get("server") or ()),
        "extensions": sorted({type(value).__name__ for value in (scope.get("extensions") or {}).values()}),
    }
    body = json.dumps(data).encode()
    await send_response(
        send, body=body, headers=[(b"x-scope-method", scope["method"].encode())], content_type=b"application/json"
    )


async def _mutating_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Report leak markers left by an earlier request, then leave markers in every mutable part."""
    await read_body(receive)
    parts: dict[str, Any] = {
        "scope": scope,
        "asgi": scope["asgi"],
        "state": scope.get("state", {}),
        "extensions": scope.get("extensions") or {},
    }
    seen = sorted(name for name, part in parts.items() if _LEAK in part)
    for part in parts.values():
        part[_LEAK] = True
    header = _LEAK.encode()
    seen += [f"headers[{header!r}]" for name, _ in scope["headers"] if name == header]
    scope["headers"].append((header, b"1"))
    await send_json(send, seen)


def _scope(s: Session, path: str = "/", **kwargs: Any) -> dict[str, Any]:
    response = s.http.get(path, **kwargs)
    expect_equal("status of the scope echo", response.status_code, 200)
    data: dict[str, Any] = response.json()
    return data


def _raw_scope(s: Session, request: bytes) -> dict[str, Any]:
    """The scope of a raw request (which must ask for "Connection: close" or be HTTP/1.0)."""
    reply = s.raw(request, shutdown=False)
    head, _, body = reply.partition(b"\r\n\r\n")
    expect(head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")), f"expected a 200 response, got {reply[:200]!r}")
    data: dict[str, Any] = json.loads(body)
    return data


def _header_values(data: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in data["headers"] if key.lower() == name]


# --- type, versions ---------------------------------------------------------------------------


@scenario("http.scope.type", app=_scope_app)
def _type(s: Session) -> None:
    """scope["type"] is "http"."""
    expect_equal('scope["type"]', _scope(s)["type"], "http")


@scenario("http.scope.required_keys", app=_scope_app)
def _required_keys(s: Session) -> None:
    """Every key the spec does not call optional is present, with the type the spec gives it."""
    types = _scope(s, "/a?b=c")["_types"]
    expected = {
        "type": "str",
        "asgi": "dict",
        "http_version": "str",
        "method": "str",
        "path": "str",
        "query_string": "bytes",
        "headers": {"list", "tuple"},
    }
    for key, wanted in expected.items():
        expect(key in types, f'scope has no "{key}" key (keys: {sorted(types)})')
        expect(types[key] in wanted, f'scope["{key}"] should be {wanted}, is {types[key]}')


@scenario("http.scope.asgi_version", app=_scope_app)
def _asgi_version(s: Session) -> None:
    """scope["asgi"]["version"] is "3.0" (the version of the ASGI spec)."""
    data = _scope(s)
    expect_equal('scope["asgi"]["version"]', data["asgi"].get("version"), "3.0")
    expect_equal('type of scope["asgi"]["version"]', data["_nested"]["asgi"]["version"], "str")


@scenario("http.scope.spec_version", app=_scope_app)
def _spec_version(s: Session) -> None:
    """scope["asgi"]["spec_version"], when present, is a "2.x" string (missing means "2.0")."""
    data = _scope(s)
    spec = data["asgi"].get("spec_version", "2.0")
    expect(data["_nested"]["asgi"].get("spec_version", "str") == "str", f"spec_version is not a str: {spec!r}")
    expect(spec.startswith("2.") and spec[2:].isdigit(), f"spec_version should be 2.x, got {spec!r}")


@scenario("http.scope.http_version.http11", app=_scope_app)
def _http_version_11(s: Session) -> None:
    """An HTTP/1.1 request has http_version "1.1"."""
    expect_equal("http_version", _scope(s)["http_version"], "1.1")


@scenario("http.scope.http_version.http10", app=_scope_app)
def _http_version_10(s: Session) -> None:
    """An HTTP/1.0 request (raw bytes) has http_version "1.0"."""
    request = f"GET /ten HTTP/1.0\r\nHost: 127.0.0.1\r\n{SCENARIO_HEADER}: {s.scenario_id}\r\n\r\n".encode()
    data = _raw_scope(s, request)
    expect_equal("http_version", data["http_version"], "1.0")
    expect_equal("path", data["path"], "/ten")


# --- method -----------------------------------------------------------------------------------


@scenario("http.scope.method", app=_scope_app)
def _method(s: Session) -> None:
    """The method is uppercased, as sent.

    Every standard method with a response body: GET, POST, PUT, PATCH, DELETE, OPTIONS.
    """
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        expect_equal(f"method of a {method} request", s.http.request(method, "/").json()["method"], method)


@scenario("http.scope.head_request", app=_scope_app)
def _method_head(s: Session) -> None:
    """A HEAD request reaches the app with method "HEAD" (not rewritten to GET)."""
    response = s.http.head("/")
    expect_equal("status", response.status_code, 200)
    expect_equal("method the app saw (x-scope-method)", response.headers.get("x-scope-method"), "HEAD")


@scenario("http.scope.extension_methods", app=_scope_app)
def _method_extension(s: Session) -> None:
    """Extension methods (WebDAV's PROPFIND, PURGE, an unregistered token) reach the app as sent."""
    for method in ("PROPFIND", "PURGE", "CONFORMANCE-CHECK"):
        response = s.http.request(method, "/")
        expect_equal(f"status of a {method} request", response.status_code, 200)
        expect_equal(f"method of a {method} request", response.json()["method"], method)


# --- scheme, path, raw_path -------------------------------------------------------------------


@scenario("http.scope.scheme", app=_scope_app)
def _scheme(s: Session) -> None:
    """A plain-HTTP request has scheme "http" (the default when the key is missing)."""
    expect_equal("scheme", _scope(s).get("scheme", "http"), "http")


@scenario("http.scope.path.plain", app=_scope_app)
def _path_plain(s: Session) -> None:
    """path is the request target's path; "/" for the root."""
    expect_equal("path of /", _scope(s, "/")["path"], "/")
    expect_equal("path of /a/b/c.txt", _scope(s, "/a/b/c.txt")["path"], "/a/b/c.txt")


@scenario("http.scope.path.percent_decoded", app=_scope_app)
def _path_percent_decoded(s: Session) -> None:
    """path is percent-decoded and UTF-8 decoded: /caf%C3%A9%20x%7E -> "/café x~"."""
    expect_equal("path", _scope(s, "/caf%C3%A9%20x%7E")["path"], "/café x~")


@scenario("http.scope.path.non_ascii", app=_scope_app)
def _path_non_ascii(s: Session) -> None:
    """Multi-byte UTF-8 in the path decodes to the characters: /%E2%82%AC/%F0%9F%98%80 -> "/€/😀"."""
    expect_equal("path", _scope(s, "/%E2%82%AC/%F0%9F%98%80")["path"], "/\u20ac/\U0001f600")


@scenario("http.scope.path.encoded_slash", app=_scope_app)
def _path_encoded_slash(s: Session) -> None:
    """%2F decodes to "/" in path, while raw_path (when present) keeps "%2F"."""
    data = _scope(s, "/a%2Fb/c")
    expect_equal("path", data["path"], "/a/b/c")
    expect_equal("raw_path", data.get("raw_path", "/a%2Fb/c"), "/a%2Fb/c")


@scenario("http.scope.path.plus_kept", app=_scope_app)
def _path_plus_kept(s: Session) -> None:
    """ "+" in a path is a plus sign, not a space (form decoding applies to query strings only)."""
    expect_equal("path", _scope(s, "/a+b")["path"], "/a+b")


@scenario("http.scope.path.decoded_once", app=_scope_app)
def _path_decoded_once(s: Session) -> None:
    """Percent-decoding happens once: /100%25/a%2541 -> "/100%/a%41" (not "/a A")."""
    expect_equal("path", _scope(s, "/100%25/a%2541")["path"], "/100%/a%41")


@scenario("http.scope.path.not_normalised", app=_scope_app)
def _path_not_normalised(s: Session) -> None:
    """path is not normalised: "//", "." and ".." segments stay as sent (raw request).

    What they mean is the application's business, not the server's.
    """
    data = _raw_scope(s, s.request_head("GET", "/a//b/./c/../d", [("Connection", "close")]))
    expect_equal("path", data["path"], "/a//b/./c/../d")
    expect_equal("raw_path", data.get("raw_path") or "/a//b/./c/../d", "/a//b/./c/../d")


@scenario("http.scope.path.excludes_query", app=_scope_app)
def _path_excludes_query(s: Session) -> None:
    """path stops before the "?" of the query string."""
    expect_equal("path", _scope(s, "/search?q=1")["path"], "/search")


@scenario("http.scope.raw_path.as_sent", app=_scope_app)
def _raw_path_as_sent(s: Session) -> None:
    """raw_path, when present, is bytes, exactly as sent (lowercase escapes kept, not re-encoded)."""
    data = _scope(s, "/caf%c3%a9/%7Euser/a%20b")
    expect_equal("path", data["path"], "/café/~user/a b")
    expect(data["_types"].get("raw_path", "bytes") in ("bytes", "NoneType"), "raw_path should be bytes")
    expect_equal("raw_path", data.get("raw_path") or "/caf%c3%a9/%7Euser/a%20b", "/caf%c3%a9/%7Euser/a%20b")


@scenario("http.scope.raw_path.excludes_query", app=_scope_app)
def _raw_path_excludes_query(s: Session) -> None:
    """raw_path, when present, excludes the query string."""
    expect_equal("raw_path", _scope(s, "/x%20y?q=%20").get("raw_path") or "/x%20y", "/x%20y")


# --- query_string -----------------------------------------------------------------------------


@scenario("http.scope.query_string.raw", app=_scope_app)
def _query_string_raw(s: Session) -> None:
    """query_string is bytes: what follows "?", still percent-encoded (non-ASCII escapes kept)."""
    data = _scope(s, "/path?a=1&b=%20x&c=%E2%82%AC")
    expect_equal("type of query_string", data["_types"]["query_string"], "bytes")
    expect_equal("query_string", data["query_string"], "a=1&b=%20x&c=%E2%82%AC")


@scenario("http.scope.query_string.not_decoded", app=_scope_app)
def _query_string_not_decoded(s: Session) -> None:
    """query_string is not form-decoded: "+", "%2B", "%26" and a bare key stay as sent."""
    expect_equal("query_string", _scope(s, "/?a+b=%2B%26&flag")["query_string"], "a+b=%2B%26&flag")


@scenario("http.scope.query_string.empty", app=_scope_app)
def _query_string_empty(s: Session) -> None:
    """Without a query, query_string is b"" (bytes, not None)."""
    data = _scope(s, "/no-query")
    expect_equal("query_string", data["query_string"], "")
    expect_equal("type of query_string", data["_types"]["query_string"], "bytes")


@scenario("http.scope.query_string.bare_question_mark", app=_scope_app)
def _query_string_bare(s: Session) -> None:
    """A request target ending in a bare "?" has query_string b"" and path without the "?"."""
    data = _scope(s, "/p?")
    expect_equal("query_string", data["query_string"], "")
    expect_equal("path", data["path"], "/p")


# --- root_path --------------------------------------------------------------------------------


@scenario("http.scope.root_path", app=_scope_app)
def _root_path(s: Session) -> None:
    """root_path, when present, is a str: "" for a server started without a root path."""
    data = _scope(s)
    expect_equal("type of root_path", data["_types"].get("root_path", "str"), "str")
    expect_equal("root_path", data.get("root_path", ""), "")


# --- headers ----------------------------------------------------------------------------------


@scenario("http.scope.headers.types", app=_scope_app)
def _headers_types(s: Session) -> None:
    """headers is an iterable of [name, value] pairs of byte strings."""
    kinds = _scope(s)["_nested"]["headers"]
    expect_equal("kinds of header pairs (length/name type/value type)", kinds, ["2/bytes/bytes"])


@scenario("http.scope.headers.lowercase", app=_scope_app)
def _headers_lowercase(s: Session) -> None:
    """Header names arrive lowercased (the spec's "should"; every server here does it)."""
    data = _scope(s, headers={"X-Mixed-Case-Name": "v"})
    names = [name for name, _ in data["headers"]]
    expect("x-mixed-case-name" in names, f"x-mixed-case-name not among the header names {names}")
    expect_equal("names that are not lowercase", [n for n in names if n != n.lower()], [])


@scenario("http.scope.headers.value_kept", app=_scope_app)
def _headers_value_kept(s: Session) -> None:
    """Header values are kept exactly: case, inner spaces and punctuation."""
    value = 'MiXeD  Case; q="a,b" / Ünï'.encode("latin-1")
    data = _scope(s, headers=[("X-Value", value)])
    expect_equal("x-value", _header_values(data, "x-value"), [value.decode("latin-1")])


@scenario("http.scope.headers.obs_text", app=_scope_app)
def _headers_obs_text(s: Session) -> None:
    """A header value byte >= 0x80 (obs-text) reaches the app as that byte, undecoded."""
    data = _scope(s, headers=[("X-Latin", b"caf\xe9 \xff")])
    expect_equal("x-latin (latin-1 view of the bytes)", _header_values(data, "x-latin"), ["caf\xe9 \xff"])


@scenario("http.scope.headers.empty_value", app=_scope_app)
def _headers_empty_value(s: Session) -> None:
    """A header with an empty value is kept, with the value b""."""
    expect_equal("x-empty", _header_values(_scope(s, headers={"X-Empty": ""}), "x-empty"), [""])


@scenario("http.scope.headers.cookie", app=_scope_app)
def _headers_cookie(s: Session) -> None:
    """The Cookie header of an HTTP/1.1 request arrives as the single header sent, "; " and all."""
    data = _scope(s, headers={"Cookie": "a=1; b=two; c="})
    expect_equal("cookie", _header_values(data, "cookie"), ["a=1; b=two; c="])


@scenario("http.scope.headers.duplicates", app=_scope_app)
def _headers_duplicates(s: Session) -> None:
    """Repeated headers stay separate, each name's values in the order sent (X-A: 1, X-B, X-A: 2)."""
    data = _scope(s, headers=[("X-A", "1"), ("X-B", "b"), ("X-A", "2")])
    expect_equal("x-a values", _header_values(data, "x-a"), ["1", "2"])
    expect_equal("x-b values", _header_values(data, "x-b"), ["b"])


@scenario("http.scope.headers.duplicates_raw", app=_scope_app)
def _headers_duplicates_raw(s: Session) -> None:
    """The same with raw bytes: three X-A values around an X-B keep their order, none merged."""
    headers = [("X-A", "1"), ("X-B", "b"), ("X-A", "2"), ("X-A", "3, 4"), ("Connection", "close")]
    data = _raw_scope(s, s.request_head("GET", "/", headers))
    expect_equal("x-a values", _header_values(data, "x-a"), ["1", "2", "3, 4"])
    expect_equal("x-b values", _header_values(data, "x-b"), ["b"])


@scenario("http.scope.headers.host", app=_scope_app)
def _headers_host(s: Session) -> None:
    """The Host header reaches the app as sent."""
    data = _scope(s, headers={"Host": "conformance.example:8080"})
    expect_equal("host", _header_values(data, "host"), ["conformance.example:8080"])


@scenario("http.scope.headers.content", app=_scope_app)
def _headers_content(s: Session) -> None:
    """A request body's content-type and content-length are among the headers."""
    response = s.http.post("/", content=b"12345", headers={"Content-Type": "application/x-conformance"})
    data: dict[str, Any] = response.json()
    expect_equal("content-type", _header_values(data, "content-type"), ["application/x-conformance"])
    expect_equal("content-length", _header_values(data, "content-length"), ["5"])


# --- client, server ---------------------------------------------------------------------------


@scenario("http.scope.client", app=_scope_app)
def _client(s: Session) -> None:
    """client, when not None, is a [host, port] pair of a str and an int."""
    expect(_scope(s)["_nested"]["client"] in ([], ["str", "int"]), "client should be None or [str, int]")


@scenario("http.scope.client.socket", app=_scope_app)
def _client_socket(s: Session) -> None:
    """client, when present, is the address and port of the connection the request came on."""
    sock = s.connect()
    sock.sendall(s.request_head("GET", "/", [("Connection", "close")]))
    host, port = sock.getsockname()[:2]
    reply = json.loads(read_until_closed(sock, TIMEOUT).partition(b"\r\n\r\n")[2])
    expect_equal("client", reply.get("client") or [host, port], [host, port])


@scenario("http.scope.server", app=_scope_app)
def _server(s: Session) -> None:
    """server, when present, is [host, port] of the listening socket (port an int or None)."""
    data = _scope(s)
    base = s.http.base_url
    expected = [base.host, base.port or 80]
    expect(data["_nested"]["server"] in ([], ["str", "int"], ["str", "NoneType"]), "server should be [str, int]")
    expect_equal("server", data.get("server") or expected, expected)


# --- state, extensions, isolation -------------------------------------------------------------


@scenario("http.scope.state", app=_scope_app, waivers={"daphne": _NO_LIFESPAN})
def _state(s: Session) -> None:
    """scope["state"] carries what the lifespan startup stored in the lifespan state."""

    data = _scope(s)
    expect("state" in data, "the scope has no state: lifespan state does not reach requests")
    expect_equal(f'scope["state"]["{STATE_KEY}"]', data["state"].get(STATE_KEY), STATE_VALUE)


@scenario("http.scope.extensions", app=_scope_app)
def _extensions(s: Session) -> None:
    """scope["extensions"], when present, is a dict of extension name -> dict."""
    data = _scope(s)
    expect(data["_types"].get("extensions", "dict") == "dict", "extensions should be a dict")
    expect(data["_nested"]["extensions"] in ([], ["dict"]), f"extension values should be dicts: {data['_nested']}")


@scenario("http.scope.fresh_copy", app=_mutating_app)
def _fresh_copy(s: Session) -> None:
    """Each request gets its own scope: what one request's app adds is not seen by the next.

    Markers go into the scope, scope["asgi"], scope["state"], scope["extensions"] and the headers.
    """
    first = s.http.get("/")
    second = s.http.get("/")
    expect_equal("markers seen by a first request", first.json(), [])
    expect_equal("markers left by the first request seen by the second", second.json(), [])
