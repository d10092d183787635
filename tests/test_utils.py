"""starlette._utils: the helpers downstream frameworks import (is_async_callable,
AwaitableOrContextManagerWrapper, collapse_excgroups, get_route_path)."""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from starlette._utils import AwaitableOrContextManagerWrapper, collapse_excgroups, get_route_path, is_async_callable

if sys.version_info < (3, 11):  # pragma: no cover - the builtins exist from 3.11
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup


# --- is_async_callable -------------------------------------------------------------------------


async def async_function() -> None: ...


def sync_function() -> None: ...


async def async_generator() -> AsyncIterator[None]:
    yield None


def sync_generator() -> Iterator[None]:
    yield None


class AsyncCallable:
    async def __call__(self) -> None: ...

    async def method(self) -> None: ...


class SyncCallable:
    def __call__(self) -> None: ...

    def method(self) -> None: ...


@pytest.mark.parametrize(
    "obj",
    [
        async_function,
        functools.partial(async_function),
        functools.partial(functools.partial(async_function)),
        AsyncCallable(),
        functools.partial(AsyncCallable()),
        AsyncCallable().method,
    ],
    ids=["function", "partial", "nested-partial", "callable-object", "partial-of-callable-object", "bound-method"],
)
def test_is_async_callable_true(obj: Any) -> None:
    assert is_async_callable(obj) is True


@pytest.mark.parametrize(
    "obj",
    [
        sync_function,
        functools.partial(sync_function),
        SyncCallable(),
        SyncCallable().method,
        lambda: None,
        async_generator,
        sync_generator,
        print,
        None,
        42,
        "async",
    ],
    ids=[
        "function",
        "partial",
        "callable-object",
        "bound-method",
        "lambda",
        "async-generator-function",
        "generator-function",
        "builtin",
        "none",
        "int",
        "str",
    ],
)
def test_is_async_callable_false(obj: Any) -> None:
    assert is_async_callable(obj) is False


def test_is_async_callable_narrows_the_type() -> None:
    async def double(x: int) -> int:
        return x * 2

    def handler(func: object) -> str:
        if is_async_callable(func):
            return "async"
        return "sync"

    assert handler(double) == "async"
    assert handler(len) == "sync"


# --- AwaitableOrContextManagerWrapper -------------------------------------------------------------


class Resource:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def open_resource(resource: Resource) -> Resource:
    await anyio.sleep(0)
    return resource


@pytest.mark.anyio
async def test_wrapper_can_be_awaited() -> None:
    resource = Resource()
    result = await AwaitableOrContextManagerWrapper(open_resource(resource))
    assert result is resource
    assert resource.closed is False


@pytest.mark.anyio
async def test_wrapper_as_context_manager_closes_on_exit() -> None:
    resource = Resource()
    async with AwaitableOrContextManagerWrapper(open_resource(resource)) as entered:
        assert entered is resource
        assert resource.closed is False
    assert resource.closed is True


@pytest.mark.anyio
async def test_wrapper_closes_and_propagates_on_error() -> None:
    resource = Resource()
    with pytest.raises(KeyError, match="inside"):
        async with AwaitableOrContextManagerWrapper(open_resource(resource)):
            raise KeyError("inside")
    assert resource.closed is True


# --- collapse_excgroups --------------------------------------------------------------------------


def test_collapse_excgroups_without_error() -> None:
    ran: list[str] = []
    with collapse_excgroups():
        ran.append("body")
    assert ran == ["body"]


def test_collapse_excgroups_passes_plain_exceptions_through() -> None:
    error = ValueError("plain")
    with pytest.raises(ValueError) as info:
        with collapse_excgroups():
            raise error
    assert info.value is error


def test_collapse_excgroups_unwraps_a_single_exception() -> None:
    error = ValueError("only one")
    with pytest.raises(ValueError) as info:
        with collapse_excgroups():
            raise ExceptionGroup("group", [error])
    assert info.value is error


def test_collapse_excgroups_unwraps_nested_single_groups() -> None:
    error = KeyError("deep")
    with pytest.raises(KeyError) as info:
        with collapse_excgroups():
            raise ExceptionGroup("outer", [ExceptionGroup("inner", [error])])
    assert info.value is error


def test_collapse_excgroups_keeps_groups_of_several_exceptions() -> None:
    group = ExceptionGroup("several", [ValueError("a"), KeyError("b")])
    with pytest.raises(ExceptionGroup) as info:
        with collapse_excgroups():
            raise group
    assert info.value is group


def test_collapse_excgroups_stops_at_the_first_group_with_several_members() -> None:
    inner = ExceptionGroup("inner", [ValueError("a"), KeyError("b")])
    with pytest.raises(ExceptionGroup) as info:
        with collapse_excgroups():
            raise ExceptionGroup("outer", [inner])
    assert info.value is inner


def test_collapse_excgroups_unwraps_base_exception_groups() -> None:
    with pytest.raises(KeyboardInterrupt):
        with collapse_excgroups():
            raise BaseExceptionGroup("base", [KeyboardInterrupt()])


@pytest.mark.anyio
async def test_collapse_excgroups_around_a_task_group() -> None:
    async def fail() -> None:
        raise RuntimeError("in a task")

    with pytest.raises(RuntimeError, match="in a task"):
        with collapse_excgroups():
            async with anyio.create_task_group() as tg:
                tg.start_soon(fail)


# --- get_route_path ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/users/1", "", "/users/1"),
        ("/api/users/1", "/api", "/users/1"),
        ("/api/", "/api", "/"),
        ("/api", "/api", ""),
        ("/apiv2/users", "/api", "/apiv2/users"),
        ("/other/path", "/api", "/other/path"),
        ("/a/b/c", "/a/b", "/c"),
    ],
)
def test_get_route_path(path: str, root_path: str, expected: str) -> None:
    assert get_route_path({"type": "http", "path": path, "root_path": root_path}) == expected


def test_get_route_path_without_root_path_key() -> None:
    assert get_route_path({"type": "http", "path": "/users"}) == "/users"


def test_collapse_excgroups_keeps_the_exceptions_own_context() -> None:
    def fail() -> None:
        try:
            raise KeyError("first")
        except KeyError:
            raise ValueError("second")

    with pytest.raises(ValueError, match="second") as info:
        with collapse_excgroups():
            try:
                fail()
            except ValueError as error:
                raise BaseExceptionGroup("group", [error])
    assert isinstance(info.value.__context__, KeyError)


def test_collapse_excgroups_leaves_a_lone_exception_untouched() -> None:
    with pytest.raises(ValueError) as info:
        with collapse_excgroups():
            raise ValueError("plain")
    assert info.value.__context__ is None
