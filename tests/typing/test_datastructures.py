"""Typing of the data structures, configuration and helpers users build themselves."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import assert_type

from starlette import status
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.config import Config, Environ
from starlette.convertors import Convertor, IntegerConvertor, register_url_convertor
from starlette.datastructures import (
    URL,
    CommaSeparatedStrings,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    Secret,
    State,
    UploadFile,
    URLPath,
)
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, NoMatchFound, Route, Router, compile_path


def test_config(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nPORT=8000\nNAME=app\nHOSTS=a, b\nSECRET=s3cr3t\n")
    config = Config(env_file, environ=Environ({}), env_prefix="")

    assert_type(config("NAME"), str)
    assert_type(config("MISSING", default="fallback"), str)
    assert_type(config("MISSING", default=None), str | None)
    assert_type(config("PORT", cast=int), int)
    assert_type(config("MISSING", cast=int, default=0), int)
    assert_type(config("MISSING", cast=int, default=None), int | None)
    assert_type(config("DEBUG", cast=bool, default=False), bool)
    assert_type(config("SECRET", cast=Secret), Secret)
    assert_type(config("HOSTS", cast=CommaSeparatedStrings), CommaSeparatedStrings)
    assert_type(config.get("PORT", cast=float), float)
    assert_type(config.get("NAME"), str)
    assert_type(config.get("MISSING", default=None), str | None)
    assert_type(config.get("MISSING", cast=int, default=None), int | None)

    assert config("PORT", cast=int) == 8000
    assert config("MISSING", cast=int, default=None) is None
    assert config("DEBUG", cast=bool) is True
    assert str(config("SECRET", cast=Secret)) == "s3cr3t"
    assert list(config("HOSTS", cast=CommaSeparatedStrings)) == ["a", "b"]


def test_urls() -> None:
    url = URL("https://user:pass@example.org:8443/path?a=1#frag")
    assert_type(url.replace(path="/other"), URL)
    assert_type(url.hostname, str | None)
    assert_type(str(url), str)
    assert url.port == 8443

    path = URLPath("/users/1", protocol="http")
    assert_type(path, URLPath)
    absolute = path.make_absolute_url(base_url="http://example.org")
    assert_type(absolute, URL)
    assert str(absolute) == "http://example.org/users/1"

    secret = Secret("value")
    assert_type(str(secret), str)
    strings = CommaSeparatedStrings("a, b")
    for item in strings:
        assert_type(item, str)
    assert_type(len(strings), int)


def test_multidicts() -> None:
    query = QueryParams("a=1&a=2&b=3")
    assert_type(query["a"], str)
    assert_type(query.getlist("a"), list[str])
    assert query.getlist("a") == ["1", "2"]
    assert_type(QueryParams({"a": "1"}), QueryParams)

    pairs: list[tuple[str, int]] = [("a", 1), ("a", 2)]
    immutable = ImmutableMultiDict(pairs)
    assert_type(immutable, ImmutableMultiDict[str, int])
    assert_type(immutable["a"], int)
    assert_type(immutable.getlist("a"), list[int])
    assert_type(immutable.multi_items(), list[tuple[str, int]])
    assert immutable["a"] == 2

    mutable = MultiDict([("a", "1")])
    mutable.append("a", "2")
    mutable["b"] = "3"
    assert_type(mutable.getlist("a"), list[Any])
    assert mutable.multi_items() == [("a", "1"), ("a", "2"), ("b", "3")]

    headers = Headers({"content-type": "text/plain"})
    assert_type(headers.get("content-type"), str | None)
    mutable_headers = MutableHeaders(headers={"a": "1"})
    mutable_headers["b"] = "2"
    mutable_headers.append("b", "3")
    mutable_headers.add_vary_header("Accept")
    assert_type(mutable_headers.setdefault("c", "4"), str)
    assert_type(mutable_headers.getlist("b"), list[str])
    assert mutable_headers.getlist("b") == ["2", "3"]


@pytest.mark.anyio
async def test_uploads_and_forms() -> None:
    upload = UploadFile(io.BytesIO(b"data"), filename="a.txt", headers=Headers({"content-type": "text/plain"}))
    form = FormData([("name", "value"), ("file", upload)])
    assert_type(form["name"], str | UploadFile)
    assert_type(await upload.read(2), bytes)
    assert_type(upload.content_type, str | None)
    await upload.seek(0)
    assert await upload.read() == b"data"
    await form.close()
    assert upload.file.closed


def greet(name: str, *, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


@pytest.mark.anyio
async def test_concurrency_and_background() -> None:
    greeting = await run_in_threadpool(greet, "you", punctuation="?")
    assert_type(greeting, str)
    assert greeting == "hello you?"

    collected: list[int] = []
    async for value in iterate_in_threadpool(iter([1, 2])):
        assert_type(value, int)
        collected.append(value)
    assert collected == [1, 2]

    calls: list[str] = []

    async def record(item: str) -> None:
        calls.append(item)

    task = BackgroundTask(record, "one")
    tasks = BackgroundTasks([task])
    tasks.add_task(record, item="two")
    tasks.add_task(calls.append, "three")
    await tasks()
    assert calls == ["one", "two", "three"]


def test_routing_helpers_and_exceptions() -> None:
    regex, path_format, convertors = compile_path("/users/{user_id:int}")
    assert_type(path_format, str)
    assert_type(convertors, dict[str, Convertor[Any]])
    assert regex.match("/users/1") is not None

    int_convertor = IntegerConvertor()
    assert_type(int_convertor.convert("5"), int)
    assert_type(int_convertor.to_string(5), str)

    class HexConvertor(Convertor[int]):
        regex = "[0-9a-f]+"

        def convert(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: int) -> str:
            return format(value, "x")

    register_url_convertor("hex_typing", HexConvertor())

    async def color(request: Request) -> Response:
        return Response(str(request.path_params["value"]))

    route = Route("/colors/{value:hex_typing}", color)
    match, child_scope = route.matches({"type": "http", "path": "/colors/ff", "method": "GET"})
    assert_type(match, Match)
    assert match is Match.FULL
    assert child_scope["path_params"] == {"value": 255}

    router = Router([route])
    with pytest.raises(NoMatchFound):
        router.url_path_for("nope")

    exc = HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="missing", headers={"x": "y"})
    assert_type(exc.status_code, int)
    assert_type(exc.detail, str)
    assert_type(exc.headers, Mapping[str, str] | None)
    ws_exc = WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    assert_type(ws_exc.code, int)
    assert_type(ws_exc.reason, str)
    code: int = status.HTTP_200_OK
    assert code == 200

    state = State({"a": 1})
    assert_type(state.a, Any)
    assert_type(uuid.UUID(int=0), uuid.UUID)
