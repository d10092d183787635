"""The HTTP connection scope as the application sees it (ASGI HTTP spec, "HTTP connection scope")."""

from __future__ import annotations

from conformance import Session, expect, expect_equal, scenario
from conformance.scenarios._helpers import scope_echo


@scenario("http.scope.type", app=scope_echo)
def _type(s: Session) -> None:
    """scope["type"] is "http"."""
    expect_equal('scope["type"]', s.http.get("/").json()["type"], "http")


@scenario("http.scope.asgi_version", app=scope_echo)
def _asgi_version(s: Session) -> None:
    """scope["asgi"]["version"] is "3.0"; spec_version, when present, is "2.x"."""
    asgi = s.http.get("/").json()["asgi"]
    expect_equal('scope["asgi"]["version"]', asgi.get("version"), "3.0")
    spec = asgi.get("spec_version", "2.0")
    expect(isinstance(spec, str) and spec.startswith("2."), f"spec_version should be 2.x, got {spec!r}")


@scenario("http.scope.method", app=scope_echo)
def _method(s: Session) -> None:
    """The method is uppercased, as sent."""
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        expect_equal(f"method of a {method} request", s.http.request(method, "/").json()["method"], method)


@scenario("http.scope.query_string", app=scope_echo)
def _query_string(s: Session) -> None:
    """query_string is the raw, still percent-encoded bytes after "?"."""
    expect_equal(
        "query_string", s.http.get("/path?a=1&b=%20x&c=%E2%82%AC").json()["query_string"], "a=1&b=%20x&c=%E2%82%AC"
    )
