"""Types shared by the tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import httpx

from starlette.types import ASGIApp

if TYPE_CHECKING:
    from starlette.testclient import TestClient


class TestClientFactory(Protocol):
    """The type of the `test_client_factory` fixture: `TestClient` with the backend bound."""

    def __call__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> TestClient: ...


# Not a test class, whatever its name says (set outside the body so it is no protocol member).
setattr(TestClientFactory, "__test__", False)  # noqa: B010
