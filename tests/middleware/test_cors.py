"""`CORSMiddleware`: preflight answers, headers on simple responses, origin matching."""

from __future__ import annotations

import contextlib
import inspect
import string
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, strategies as st

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import ALL_METHODS, SAFELISTED_HEADERS, CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory

calls: list[str] = []


def homepage(request: Request) -> Response:
    calls.append(request.method)
    return PlainTextResponse("Homepage", status_code=200)


def vary_endpoint(request: Request) -> Response:
    return PlainTextResponse("Homepage", headers={"Vary": "Accept-Encoding"})


def options_endpoint(request: Request) -> Response:
    return PlainTextResponse("options handled by the app")


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


async def unused_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


def make_app(**options: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/", homepage),
            Route("/vary", vary_endpoint),
            Route("/options", options_endpoint, methods=["OPTIONS"]),
            WebSocketRoute("/ws", websocket_endpoint),
        ],
        middleware=[Middleware(CORSMiddleware, **options)],
    )


def preflight(
    origin: str = "https://example.org", method: str = "GET", request_headers: str | None = None
) -> dict[str, str]:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    return headers


def test_constants() -> None:
    assert ALL_METHODS == ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
    assert SAFELISTED_HEADERS == {"Accept", "Accept-Language", "Content-Language", "Content-Type"}


def test_allow_all(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["*"], allow_headers=["*"], allow_methods=["*"], expose_headers=["X-Status"], max_age=300
    )
    client = test_client_factory(app)

    # Preflight: answered by the middleware, requested headers echoed back.
    calls.clear()
    response = client.options("/", headers=preflight(request_headers="X-Example"))
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "access-control-allow-credentials" not in response.headers
    assert "vary" not in response.headers
    assert calls == []

    # Simple request.
    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-Status"
    assert "access-control-allow-credentials" not in response.headers
    assert "vary" not in response.headers

    # Not a CORS request: untouched.
    response = client.get("/")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers


def test_allow_all_without_requested_headers(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], allow_headers=["*"]))
    response = client.options("/", headers=preflight())
    assert response.status_code == 200
    assert "access-control-allow-headers" not in response.headers


def test_allow_all_with_credentials(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["*"], allow_headers=["*"], allow_methods=["*"], allow_credentials=True, expose_headers=["X-S"]
    )
    client = test_client_factory(app)

    response = client.options("/", headers=preflight(request_headers="X-Example"))
    assert response.status_code == 200
    # With credentials `*` is not allowed: the origin is echoed and the response varies with it.
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["vary"] == "Origin"

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-S"
    assert "vary" not in response.headers

    # A request sending cookies gets its explicit origin.
    response = client.get("/", headers={"Origin": "https://example.org", "Cookie": "a=b"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"


def test_allow_specific_origin(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["https://example.org"],
        allow_headers=["X-Example", "Content-Type"],
        allow_methods=["GET", "POST"],
    )
    client = test_client_factory(app)

    response = client.options("/", headers=preflight(request_headers="X-Example, Content-Type"))
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Example"
    )
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers

    response = client.get("/")
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers


def test_requested_headers_are_compared_case_insensitively(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"], allow_headers=["X-Example"]))
    response = client.options("/", headers=preflight(request_headers=" x-EXAMPLE ,accept,  content-type"))
    assert response.status_code == 200


def test_disallowed_preflight(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_headers=["X-Example"])
    client = test_client_factory(app)

    response = client.options(
        "/", headers=preflight(origin="https://another.org", method="POST", request_headers="X-Nope")
    )
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin, method, headers"
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
    assert response.headers["access-control-allow-methods"] == "GET"

    response = client.options("/", headers=preflight(method="POST"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS method"
    # The origin itself is fine, so it is still reported as allowed.
    assert response.headers["access-control-allow-origin"] == "https://example.org"

    response = client.options("/", headers=preflight(request_headers="X-Example, X-Other"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS headers"

    response = client.options("/", headers=preflight(origin="https://another.org"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


def test_credentials_in_preflight(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_credentials=True)
    client = test_client_factory(app)
    response = client.options("/", headers=preflight())
    assert response.status_code == 200
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    # Only the safelisted headers are listed.
    assert response.headers["access-control-allow-headers"] == "Accept, Accept-Language, Content-Language, Content-Type"


def test_disallowed_origin_on_simple_request(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_credentials=True, expose_headers=["X-A", "X-B"])
    client = test_client_factory(app)
    response = client.get("/", headers={"Origin": "https://another.org"})
    # The app still answers; the browser will refuse to expose the response.
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-A, X-B"


def test_allow_origin_regex(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["https://example.org"],
        allow_origin_regex=r"https://.*\.example\.org",
        allow_headers=["X-Example"],
    )
    client = test_client_factory(app)

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"

    response = client.get("/", headers={"Origin": "https://sub.example.org"})
    assert response.headers["access-control-allow-origin"] == "https://sub.example.org"
    assert response.headers["vary"] == "Origin"

    response = client.options("/", headers=preflight(origin="https://sub.example.org"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://sub.example.org"

    # The regex must match the whole origin.
    response = client.get("/", headers={"Origin": "https://sub.example.org.evil.com"})
    assert "access-control-allow-origin" not in response.headers
    response = client.options("/", headers=preflight(origin="https://sub.example.org.evil.com"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


def test_vary_header_is_merged(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"]))
    response = client.get("/vary", headers={"Origin": "https://example.org"})
    assert response.headers["vary"] == "Accept-Encoding, Origin"


def test_options_without_request_method_reaches_the_app(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.options("/options", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.text == "options handled by the app"
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_is_answered_on_any_path(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.options("/does-not-exist", headers=preflight())
    assert response.status_code == 200
    assert response.text == "OK"


def test_websocket_and_lifespan_pass_through(test_client_factory: TestClientFactory) -> None:
    app = CORSMiddleware(make_app(), allow_origins=["https://example.org"])
    with test_client_factory(app) as client:  # the lifespan goes through the middleware
        with client.websocket_connect("/ws", headers={"Origin": "https://another.org"}) as websocket:
            assert websocket.receive_text() == "hello"


def test_attributes() -> None:
    middleware = CORSMiddleware(unused_app, allow_methods=["*"], allow_headers=["X-Example"])
    assert middleware.app is unused_app
    assert middleware.allow_methods == ALL_METHODS
    assert middleware.allow_headers == ["accept", "accept-language", "content-language", "content-type", "x-example"]
    assert middleware.allow_all_origins is False
    assert middleware.allow_all_headers is False
    assert middleware.preflight_explicit_allow_origin is True
    assert middleware.allow_origin_regex is None
    assert middleware.simple_headers == {}
    assert middleware.preflight_headers == {
        "Vary": "Origin",
        "Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Language, Content-Type, X-Example",
    }


@pytest.mark.anyio
async def test_send_adds_headers_to_start_message_only() -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=["https://example.org"], expose_headers=["X-A"])
    request_headers = Headers({"origin": "https://example.org"})
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware.send({"type": "http.response.start", "status": 200}, send, request_headers)
    await middleware.send({"type": "http.response.body", "body": b"x"}, send, request_headers)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"access-control-expose-headers", b"X-A"),
                (b"access-control-allow-origin", b"https://example.org"),
                (b"vary", b"Origin"),
            ],
        },
        {"type": "http.response.body", "body": b"x"},
    ]


_label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@given(labels=st.lists(_label, min_size=1, max_size=4), suffix=_label)
def test_origin_regex_matches_whole_origins(labels: list[str], suffix: str) -> None:
    middleware = CORSMiddleware(unused_app, allow_origin_regex=r"https://.*\.example\.org")
    origin = "https://" + ".".join(labels) + ".example.org"
    assert middleware.is_allowed_origin(origin)
    assert not middleware.is_allowed_origin(origin + "." + suffix)
    assert not middleware.is_allowed_origin(origin.replace("https://", "http://"))
    assert not middleware.is_allowed_origin("https://" + ".".join(labels) + ".example.com")


_header_name = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)


@given(allowed=st.lists(_header_name, max_size=5), requested=st.lists(_header_name, min_size=1, max_size=5))
def test_preflight_headers_allowed_iff_configured(allowed: list[str], requested: list[str]) -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=["https://example.org"], allow_headers=allowed)
    response = middleware.preflight_response(
        Headers(
            {
                "origin": "https://example.org",
                "access-control-request-method": "GET",
                "access-control-request-headers": ", ".join(requested),
            }
        )
    )
    permitted = {h.lower() for h in allowed} | {h.lower() for h in SAFELISTED_HEADERS}
    expected_ok = all(h.lower() in permitted for h in requested)
    assert response.status_code == (200 if expected_ok else 400)
    assert response.body == (b"OK" if expected_ok else b"Disallowed CORS headers")


# --- Vary handling, header replacement -------------------------------------------------------


def raw_response_app(*headers: tuple[bytes, bytes]) -> ASGIApp:
    """An app answering 200 "ok" with exactly `headers` (plus nothing else)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        pytest.param([], ["Origin"], id="none"),
        pytest.param([b"Accept-Encoding"], ["Accept-Encoding, Origin"], id="appended"),
        pytest.param([b"origin"], ["origin"], id="already-listed-any-case"),
        pytest.param([b"Accept-Encoding,Origin"], ["Accept-Encoding,Origin"], id="already-listed-in-a-list"),
        pytest.param([b"*"], ["*"], id="star-covers-everything"),
        pytest.param([b"Accept-Encoding", b"Cookie"], ["Accept-Encoding, Cookie, Origin"], id="lines-merged"),
        pytest.param([b"Origin", b"Cookie"], ["Origin, Cookie"], id="lines-merged-already-listed"),
        pytest.param([b"", b"Cookie"], ["Cookie, Origin"], id="empty-line-dropped"),
    ],
)
def test_vary_origin_is_merged_without_duplicates(
    test_client_factory: TestClientFactory, app_vary: list[bytes], expected: list[str]
) -> None:
    app = CORSMiddleware(
        raw_response_app(*[(b"vary", value) for value in app_vary]), allow_origins=["https://example.org"]
    )
    response = test_client_factory(app).get("/", headers={"Origin": "https://example.org"})
    assert response.headers.get_list("vary") == expected
    assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_cors_headers_set_by_the_app_are_replaced(test_client_factory: TestClientFactory) -> None:
    app = CORSMiddleware(
        raw_response_app(
            (b"access-control-allow-origin", b"https://evil.org"),
            (b"x-other", b"1"),
            (b"access-control-allow-origin", b"https://evil.org"),
            (b"access-control-expose-headers", b"X-Secret"),
        ),
        allow_origins=["https://example.org"],
        expose_headers=["X-A"],
    )
    response = test_client_factory(app).get("/", headers={"Origin": "https://example.org"})
    assert response.headers.multi_items() == [
        ("access-control-allow-origin", "https://example.org"),
        ("x-other", "1"),
        ("access-control-expose-headers", "X-A"),
        ("vary", "Origin"),
    ]


def test_allow_explicit_origin_edits_headers_in_place() -> None:
    headers = MutableHeaders(raw=[(b"vary", b"Cookie"), (b"access-control-allow-origin", b"*")])
    CORSMiddleware.allow_explicit_origin(headers, "https://example.org")
    assert headers.raw == [(b"vary", b"Cookie, Origin"), (b"access-control-allow-origin", b"https://example.org")]


# --- simple requests ---------------------------------------------------------------------------


def test_simple_request_with_credentials_and_specific_origin(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"], allow_credentials=True))
    response = client.get("/", headers={"Origin": "https://example.org", "Cookie": "a=b"})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    assert "access-control-expose-headers" not in response.headers


def test_allow_all_origins_without_credentials_echoes_the_origin_of_a_cookie_request(
    test_client_factory: TestClientFactory,
) -> None:
    # With cookies the browser refuses `*`, whatever the credentials setting says.
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.get("/", headers={"Origin": "https://example.org", "Cookie": "a=b"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.org/",  # a trailing slash is not the same origin
        "http://example.org",  # another scheme
        "https://example.org:8443",  # another port
        "https://EXAMPLE.org",  # origins are compared exactly
        "https://example.org.evil.com",
        "null",
        "",
    ],
)
def test_origins_must_match_exactly(test_client_factory: TestClientFactory, origin: str) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org", "https://www.example.org"]))
    response = client.get("/", headers={"Origin": origin})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers

    response = client.options("/", headers=preflight(origin=origin))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


def test_every_listed_origin_is_allowed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org", "https://www.example.org"]))
    for origin in ("https://example.org", "https://www.example.org"):
        response = client.get("/", headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin


def test_non_options_request_with_request_method_header_is_a_simple_request(
    test_client_factory: TestClientFactory,
) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    calls.clear()
    response = client.get("/", headers=preflight())
    assert response.text == "Homepage"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-methods" not in response.headers
    assert calls == ["GET"]


def test_default_parameters_are_restrictive(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.text == "Homepage"
    assert not any(name.startswith("access-control-") for name in response.headers)
    response = client.options("/", headers=preflight())
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert response.headers["access-control-allow-methods"] == "GET"
    assert response.headers["access-control-max-age"] == "600"


def test_cors_headers_on_server_errors_when_wrapping_the_app(test_client_factory: TestClientFactory) -> None:
    # "CORSMiddleware Global Enforcement": wrapping the whole application also covers 500s.
    def crash(request: Request) -> Response:
        raise RuntimeError("boom")

    app = CORSMiddleware(Starlette(routes=[Route("/crash", crash)]), allow_origins=["*"])
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/crash", headers={"Origin": "https://example.org"})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == "*"


# --- preflight ---------------------------------------------------------------------------------


def test_preflight_method_must_be_listed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], allow_methods=["GET", "POST"]))
    assert client.options("/", headers=preflight(method="POST")).status_code == 200
    for method in ("PUT", "DELETE", "post"):
        response = client.options("/", headers=preflight(method=method))
        assert response.status_code == 400
        assert response.text == "Disallowed CORS method"
        # The origin is fine: `*` is still sent, so the browser can read the reason.
        assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_allow_all_methods(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], allow_methods=["*"]))
    for method in ALL_METHODS:
        response = client.options("/", headers=preflight(method=method))
        assert response.status_code == 200
        assert response.headers["access-control-allow-methods"] == ", ".join(ALL_METHODS)
    assert client.options("/", headers=preflight(method="PROPFIND")).status_code == 400


@pytest.mark.parametrize(
    "requested",
    ["", " ", "X-Example,", ",x-example", "X-Example, , Accept", "accept,,content-type"],
)
def test_preflight_ignores_empty_request_header_elements(
    test_client_factory: TestClientFactory, requested: str
) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"], allow_headers=["X-Example"]))
    response = client.options("/", headers=preflight(request_headers=requested))
    assert response.status_code == 200
    assert response.text == "OK"


def test_preflight_with_allow_all_headers_echoes_the_request_verbatim(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], allow_headers=["*"], allow_credentials=True))
    response = client.options("/", headers=preflight(request_headers="x-One, X-TWO,authorization"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-headers"] == "x-One, X-TWO,authorization"
    # Credentials: no `*` anywhere.
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-methods"] == "GET"


def test_preflight_with_origin_regex_only(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origin_regex=r"https://(www\.)?example\.(org|com)"))
    for origin in ("https://example.org", "https://www.example.com"):
        response = client.options("/", headers=preflight(origin=origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["vary"] == "Origin"
    response = client.options("/", headers=preflight(origin="https://www.example.org/x"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_preflight_content_type_and_length(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.options("/", headers=preflight())
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "2"
    response = client.options("/", headers=preflight(method="PUT"))
    assert response.headers["content-length"] == str(len("Disallowed CORS method"))


def test_private_network_access_is_refused_by_default(test_client_factory: TestClientFactory) -> None:
    # The default keeps 0.50's behaviour: the request header is ignored, no PNA header is sent
    # (so a browser enforcing Private Network Access blocks the request).
    assert inspect.signature(CORSMiddleware).parameters["allow_private_network"].default is False
    client = test_client_factory(make_app(allow_origins=["*"]))
    headers = preflight() | {"Access-Control-Request-Private-Network": "true"}
    response = client.options("/", headers=headers)
    assert response.status_code == 200
    assert "access-control-allow-private-network" not in response.headers


@pytest.mark.parametrize("requested", ["true", "TRUE"])
def test_allow_private_network(test_client_factory: TestClientFactory, requested: str) -> None:
    client = test_client_factory(make_app(allow_origins=["https://a.org"], allow_private_network=True))
    headers = preflight("https://a.org") | {"Access-Control-Request-Private-Network": requested}
    response = client.options("/", headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"
    assert response.headers["access-control-allow-origin"] == "https://a.org"
    # Only when the preflight asks for it, and never on simple responses.
    assert "access-control-allow-private-network" not in client.options("/", headers=preflight("https://a.org")).headers
    simple = client.get("/", headers={"Origin": "https://a.org", "Access-Control-Request-Private-Network": "true"})
    assert "access-control-allow-private-network" not in simple.headers
    # A refused preflight does not grant it either.
    refused = client.options("/", headers=headers | {"Origin": "https://evil.org"})
    assert refused.status_code == 400
    assert "access-control-allow-private-network" not in refused.headers


@pytest.mark.parametrize("max_age", [0, 1, 86400])
def test_max_age(test_client_factory: TestClientFactory, max_age: int) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], max_age=max_age))
    response = client.options("/", headers=preflight())
    assert response.headers["access-control-max-age"] == str(max_age)
    # Only on preflights.
    assert "access-control-max-age" not in client.get("/", headers={"Origin": "https://a.org"}).headers


# --- other scopes ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_other_scopes_are_passed_through_unchanged(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    headers = [(b"origin", b"https://another.org"), (b"access-control-request-method", b"GET")]
    scope: Scope = {"type": scope_type, "method": "OPTIONS", "headers": headers}
    await CORSMiddleware(app, allow_origins=["https://example.org"])(scope, receive, send)
    assert len(seen) == 1
    assert seen[0][0] is scope
    assert seen[0][1] is receive
    assert seen[0][2] is send
    assert scope == {"type": scope_type, "method": "OPTIONS", "headers": headers}


def test_websocket_denial_response_gets_no_cors_headers(test_client_factory: TestClientFactory) -> None:
    async def deny(websocket: WebSocket) -> None:
        await websocket.send_denial_response(PlainTextResponse("go away", status_code=403))

    app = CORSMiddleware(Starlette(routes=[WebSocketRoute("/deny", deny)]), allow_origins=["*"])
    client = test_client_factory(app)
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/deny", headers={"Origin": "https://example.org"}):
            pass  # the handshake is denied
    assert info.value.status_code == 403
    assert info.value.text == "go away"
    assert "access-control-allow-origin" not in info.value.headers


def test_lifespan_runs_through_the_middleware(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"value": "from lifespan"}
        events.append("shutdown")

    def read_state(request: Request) -> Response:
        return PlainTextResponse(request.state.value)

    app = CORSMiddleware(Starlette(routes=[Route("/", read_state)], lifespan=lifespan), allow_origins=["*"])
    with test_client_factory(app) as client:
        assert events == ["startup"]
        response = client.get("/", headers={"Origin": "https://example.org"})
        assert response.text == "from lifespan"
        assert response.headers["access-control-allow-origin"] == "*"
    assert events == ["startup", "shutdown"]


# --- properties --------------------------------------------------------------------------------


@given(allowed=st.lists(_header_name, min_size=1, max_size=5), data=st.data())
def test_requested_headers_match_in_any_case(allowed: list[str], data: st.DataObject) -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=["*"], allow_headers=allowed)
    requested = [
        "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in header)
        for header in data.draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=5))
    ]
    separator = data.draw(st.sampled_from([",", ", ", " , "]))
    response = middleware.preflight_response(
        Headers(
            {
                "origin": "https://example.org",
                "access-control-request-method": "GET",
                "access-control-request-headers": separator.join(requested),
            }
        )
    )
    assert response.status_code == 200
    assert response.body == b"OK"


_origin = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["http", "https"]),
    _label,
    st.sampled_from(["", ".org", ".com", ":8000"]),
)


@given(allowed=st.lists(_origin, max_size=4), origin=_origin)
def test_origin_allowed_iff_listed(allowed: list[str], origin: str) -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=allowed)
    assert middleware.is_allowed_origin(origin) is (origin in allowed)
    assert CORSMiddleware(unused_app, allow_origins=[*allowed, "*"]).is_allowed_origin(origin) is True
