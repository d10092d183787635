"""CORSMiddleware behind each server (the "CORSMiddleware" section of docs/middleware.md).

A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered by
the middleware itself: 200 "OK" with the allow headers, or 400 "Disallowed CORS ..." naming
what was refused. Any other request carrying ``Origin`` reaches the app and gets the CORS
headers added to its response. Header names are compared case-insensitively (servers may
re-case them); list-valued headers are compared token by token.
"""

from __future__ import annotations

import httpx

from conformance import Session, expect, expect_equal, scenario
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

_ORIGIN = "https://example.org"
_OTHER_ORIGIN = "https://evil.example"


async def _hello(request: Request) -> Response:
    return PlainTextResponse("hello", headers={"x-exposed": "yes"})


async def _big(request: Request) -> Response:
    return PlainTextResponse("compressible " * 200)


async def _crash(request: Request) -> Response:
    raise RuntimeError("conformance: the endpoint failed")


_ROUTES = [Route("/", _hello, methods=["GET", "POST"]), Route("/big", _big), Route("/crash", _crash)]

_LISTED = Starlette(
    routes=_ROUTES,
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=[_ORIGIN],
            allow_methods=["GET", "POST"],
            allow_headers=["X-Custom"],
            expose_headers=["X-Exposed"],
            max_age=300,
        )
    ],
)
_CREDENTIALS = Starlette(
    routes=_ROUTES,
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=[_ORIGIN],
            allow_methods=["GET"],
            allow_headers=["X-Custom"],
            allow_credentials=True,
        )
    ],
)
# Wrapping the whole application, as the docs recommend, puts the CORS headers on 500s too.
_WILDCARD = CORSMiddleware(Starlette(routes=_ROUTES), allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


_WITH_GZIP = Starlette(
    routes=_ROUTES,
    middleware=[Middleware(CORSMiddleware, allow_origins=[_ORIGIN]), Middleware(GZipMiddleware, minimum_size=100)],
)


def _tokens(response: httpx.Response, name: str) -> set[str]:
    """The comma-separated tokens of every ``name`` header, lowercased."""
    return {token.strip().lower() for value in response.headers.get_list(name) for token in value.split(",")}


def _preflight(s: Session, origin: str, method: str, headers: str) -> httpx.Response:
    return s.http.options(
        "/",
        headers={"origin": origin, "access-control-request-method": method, "access-control-request-headers": headers},
    )


@scenario("framework.cors.preflight_allowed", app=_LISTED)
def _preflight_allowed(s: Session) -> None:
    """An allowed preflight: 200 "OK" with the origin echoed, Vary: Origin, the allowed methods,
    the allowed headers (safelisted ones included) and the max age."""
    response = _preflight(s, _ORIGIN, "POST", "X-Custom, Content-Type")
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.text, "OK")
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), _ORIGIN)
    expect("origin" in _tokens(response, "vary"), f"Vary should list Origin: {response.headers.get_list('vary')}")
    expect_equal("allowed methods", _tokens(response, "access-control-allow-methods"), {"get", "post"})
    allowed = _tokens(response, "access-control-allow-headers")
    expect(
        {"x-custom", "accept", "accept-language", "content-language", "content-type"} <= allowed,
        f"access-control-allow-headers misses some: {allowed}",
    )
    expect_equal("access-control-max-age", response.headers.get("access-control-max-age"), "300")


@scenario("framework.cors.preflight_disallowed", app=_LISTED)
def _preflight_disallowed(s: Session) -> None:
    """A preflight with a foreign origin, method and header: 400 "Disallowed CORS origin,
    method, headers", without an Access-Control-Allow-Origin."""
    response = _preflight(s, _OTHER_ORIGIN, "DELETE", "X-Other")
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Disallowed CORS origin, method, headers")
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), None)
    response = _preflight(s, _ORIGIN, "GET", "X-Custom, X-Other")
    expect_equal("status with one header refused", response.status_code, 400)
    expect_equal("body with one header refused", response.text, "Disallowed CORS headers")


@scenario("framework.cors.preflight_wildcard", app=_WILDCARD)
def _preflight_wildcard(s: Session) -> None:
    """With everything allowed ("*"): any origin gets "*", and the requested headers are echoed."""
    response = _preflight(s, _OTHER_ORIGIN, "PATCH", "X-Anything, X-Else")
    expect_equal("status", response.status_code, 200)
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), "*")
    expect_equal("allowed headers", _tokens(response, "access-control-allow-headers"), {"x-anything", "x-else"})
    expect("patch" in _tokens(response, "access-control-allow-methods"), "PATCH should be among the allowed methods")


@scenario("framework.cors.simple_allowed", app=_LISTED)
def _simple_allowed(s: Session) -> None:
    """A simple request from an allowed origin reaches the app; its response gets the origin
    echoed, Vary: Origin and the exposed headers."""
    response = s.http.get("/", headers={"origin": _ORIGIN})
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.text, "hello")
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), _ORIGIN)
    expect("origin" in _tokens(response, "vary"), f"Vary should list Origin: {response.headers.get_list('vary')}")
    expect_equal("exposed headers", _tokens(response, "access-control-expose-headers"), {"x-exposed"})
    expect_equal("access-control-allow-credentials", response.headers.get("access-control-allow-credentials"), None)


@scenario("framework.cors.simple_disallowed", app=_LISTED)
def _simple_disallowed(s: Session) -> None:
    """A simple request from another origin still reaches the app (the browser enforces CORS),
    but gets no Access-Control-Allow-Origin; a request without Origin gets no CORS headers."""
    response = s.http.post("/", headers={"origin": _OTHER_ORIGIN})
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.text, "hello")
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), None)
    plain = s.http.get("/")
    expect_equal("body without Origin", plain.text, "hello")
    cors = sorted(name for name in plain.headers if name.lower().startswith("access-control-"))
    expect_equal("CORS headers without Origin", cors, [])


@scenario("framework.cors.credentials", app=_CREDENTIALS)
def _credentials(s: Session) -> None:
    """allow_credentials: the preflight and the simple response echo the exact origin, with
    Access-Control-Allow-Credentials: true and Vary: Origin."""
    preflight = _preflight(s, _ORIGIN, "GET", "X-Custom")
    expect_equal("preflight status", preflight.status_code, 200)
    expect_equal("preflight allow-origin", preflight.headers.get("access-control-allow-origin"), _ORIGIN)
    expect_equal("preflight allow-credentials", preflight.headers.get("access-control-allow-credentials"), "true")
    response = s.http.get("/", headers={"origin": _ORIGIN, "cookie": "id=1"})
    expect_equal("status", response.status_code, 200)
    expect_equal("allow-origin", response.headers.get("access-control-allow-origin"), _ORIGIN)
    expect_equal("allow-credentials", response.headers.get("access-control-allow-credentials"), "true")
    expect("origin" in _tokens(response, "vary"), f"Vary should list Origin: {response.headers.get_list('vary')}")


@scenario("framework.cors.wildcard_cookie", app=_WILDCARD)
def _wildcard_cookie(s: Session) -> None:
    """allow_origins=["*"]: "*" for a request without cookies, but the exact origin (and Vary:
    Origin) for one carrying a Cookie, since browsers refuse "*" for credentialed requests."""
    anonymous = s.http.get("/", headers={"origin": _OTHER_ORIGIN})
    expect_equal("allow-origin without cookie", anonymous.headers.get("access-control-allow-origin"), "*")
    with_cookie = s.http.get("/", headers={"origin": _OTHER_ORIGIN, "cookie": "id=1"})
    expect_equal("allow-origin with cookie", with_cookie.headers.get("access-control-allow-origin"), _OTHER_ORIGIN)
    expect("origin" in _tokens(with_cookie, "vary"), f"Vary should list Origin: {with_cookie.headers.get_list('vary')}")


@scenario("framework.cors.error_response", app=_WILDCARD)
def _error_response(s: Session) -> None:
    """CORSMiddleware wrapping the whole app puts its headers on the 500 of a failing endpoint."""
    response = s.http.get("/crash", headers={"origin": _ORIGIN})
    expect_equal("status", response.status_code, 500)
    expect_equal("body", response.text, "Internal Server Error")
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), "*")


@scenario("framework.cors.vary_with_gzip", app=_WITH_GZIP)
def _vary_with_gzip(s: Session) -> None:
    """CORSMiddleware outside GZipMiddleware: the compressed response varies on both, the Vary
    tokens of each middleware kept (Accept-Encoding, Origin)."""
    response = s.http.get("/big", headers={"origin": _ORIGIN, "accept-encoding": "gzip"})
    expect_equal("status", response.status_code, 200)
    expect_equal("content-encoding", response.headers.get("content-encoding"), "gzip")
    expect_equal("body", response.text, "compressible " * 200)
    expect_equal("access-control-allow-origin", response.headers.get("access-control-allow-origin"), _ORIGIN)
    vary = _tokens(response, "vary")
    expect({"accept-encoding", "origin"} <= vary, f"Vary should list Accept-Encoding and Origin: {vary}")
