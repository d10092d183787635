from __future__ import annotations

import functools
from typing import Any, Literal, cast

import pytest

from tests.types import TestClientFactory


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """Every async test and every TestClient-based test runs on both anyio backends."""
    backend: tuple[str, dict[str, Any]] = request.param
    return backend


@pytest.fixture
def test_client_factory(anyio_backend_name: str, anyio_backend_options: dict[str, Any]) -> TestClientFactory:
    """Build a `TestClient` bound to the backend this test runs on (asyncio, then trio)."""
    from starlette.testclient import TestClient

    backend = cast(Literal["asyncio", "trio"], anyio_backend_name)
    return functools.partial(TestClient, backend=backend, backend_options=anyio_backend_options)
