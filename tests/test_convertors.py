"""starlette.convertors: each convertor's regex, convert() and to_string(), and the registry."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, strategies as st

from starlette.convertors import (
    CONVERTOR_TYPES,
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
    register_url_convertor,
)


def matches(convertor: Convertor[Any], text: str) -> bool:
    return re.fullmatch(convertor.regex, text) is not None


def test_default_registry() -> None:
    assert sorted(CONVERTOR_TYPES) == ["float", "int", "path", "str", "uuid"]
    assert type(CONVERTOR_TYPES["str"]) is StringConvertor
    assert type(CONVERTOR_TYPES["path"]) is PathConvertor
    assert type(CONVERTOR_TYPES["int"]) is IntegerConvertor
    assert type(CONVERTOR_TYPES["float"]) is FloatConvertor
    assert type(CONVERTOR_TYPES["uuid"]) is UUIDConvertor


def test_regexes() -> None:
    assert StringConvertor.regex == "[^/]+"
    assert PathConvertor.regex == ".*"
    assert IntegerConvertor.regex == "[0-9]+"
    assert FloatConvertor.regex == r"[0-9]+(\.[0-9]+)?"
    assert UUIDConvertor.regex == ("[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
    assert Convertor.regex == ""


def test_base_convertor_is_abstract() -> None:
    convertor: Convertor[int] = Convertor()
    with pytest.raises(NotImplementedError):
        convertor.convert("1")
    with pytest.raises(NotImplementedError):
        convertor.to_string(1)


def test_string_convertor() -> None:
    convertor = StringConvertor()
    assert matches(convertor, "hello world")
    assert not matches(convertor, "a/b")
    assert not matches(convertor, "")
    assert convertor.convert("hello") == "hello"
    assert convertor.to_string("hello") == "hello"


def test_string_convertor_rejects_separators_and_empty_values() -> None:
    convertor = StringConvertor()
    with pytest.raises(AssertionError, match="May not contain path separators"):
        convertor.to_string("a/b")
    with pytest.raises(AssertionError, match="Must not be empty"):
        convertor.to_string("")


def test_string_convertor_to_string_accepts_non_strings() -> None:
    # url_path_for(..., id=5) on a "{id}" route is common.
    assert StringConvertor().to_string(5) == "5"  # type: ignore[arg-type]  # untyped callers pass ints


def test_path_convertor() -> None:
    convertor = PathConvertor()
    assert matches(convertor, "")
    assert matches(convertor, "a/b/c.txt")
    assert convertor.convert("a/b") == "a/b"
    assert convertor.to_string("a/b/") == "a/b/"
    assert convertor.to_string("") == ""


def test_integer_convertor() -> None:
    convertor = IntegerConvertor()
    assert matches(convertor, "0")
    assert matches(convertor, "0042")
    assert not matches(convertor, "-1")
    assert not matches(convertor, "1.5")
    assert convertor.convert("0042") == 42
    assert convertor.to_string(42) == "42"
    assert convertor.to_string(0) == "0"
    assert convertor.to_string("7") == "7"  # type: ignore[arg-type]  # untyped callers pass strings
    with pytest.raises(AssertionError, match="Negative integers are not supported"):
        convertor.to_string(-1)


def test_float_convertor() -> None:
    convertor = FloatConvertor()
    assert matches(convertor, "3")
    assert matches(convertor, "3.25")
    assert not matches(convertor, "3.")
    assert not matches(convertor, ".5")
    assert not matches(convertor, "-1.0")
    assert not matches(convertor, "1e5")
    assert convertor.convert("3.25") == 3.25
    assert convertor.convert("3") == 3.0


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (3.5, "3.5"),
        (0.0, "0"),
        (-0.0, "0"),
        (10.0, "10"),
        (100, "100"),
        (0.1, "0.1"),
        (3.14, "3.14"),
        (1e16, "10000000000000000"),
        (1.5e-7, "0.00000015"),
        (123456.789, "123456.789"),
    ],
)
def test_float_convertor_to_string(value: float, text: str) -> None:
    assert FloatConvertor().to_string(value) == text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-0.5, "Negative floats are not supported"),
        (math.nan, "NaN values are not supported"),
        (math.inf, "Infinite values are not supported"),
    ],
)
def test_float_convertor_rejects_unsupported_values(value: float, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        FloatConvertor().to_string(value)


@given(st.floats(min_value=0.0, allow_nan=False, allow_infinity=False))
def test_float_convertor_round_trip(value: float) -> None:
    convertor = FloatConvertor()
    text = convertor.to_string(value)
    assert matches(convertor, text)
    assert convertor.convert(text) == value


@given(st.integers(min_value=0))
def test_integer_convertor_round_trip(value: int) -> None:
    convertor = IntegerConvertor()
    text = convertor.to_string(value)
    assert matches(convertor, text)
    assert convertor.convert(text) == value


@given(st.text(min_size=1).filter(lambda s: "/" not in s))
def test_string_convertor_round_trip(value: str) -> None:
    convertor = StringConvertor()
    text = convertor.to_string(value)
    assert re.fullmatch(convertor.regex, text, re.DOTALL)
    assert convertor.convert(text) == value


@given(st.uuids())
def test_uuid_convertor_round_trip(value: uuid.UUID) -> None:
    convertor = UUIDConvertor()
    text = convertor.to_string(value)
    assert matches(convertor, text)
    assert matches(convertor, text.replace("-", ""))
    assert matches(convertor, text.upper())
    assert convertor.convert(text) == value
    assert convertor.convert(text.replace("-", "").upper()) == value


def test_uuid_convertor() -> None:
    convertor = UUIDConvertor()
    value = convertor.convert("a10ff360-3b1e-4984-a26f-d3ab460bdb51")
    assert value == uuid.UUID("a10ff360-3b1e-4984-a26f-d3ab460bdb51")
    assert convertor.to_string(value) == "a10ff360-3b1e-4984-a26f-d3ab460bdb51"
    assert not matches(convertor, "a10ff360-3b1e-4984-a26f")
    assert not matches(convertor, "g10ff360-3b1e-4984-a26f-d3ab460bdb51")


class DateTimeConvertor(Convertor[datetime]):
    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(.[0-9]+)?"

    def convert(self, value: str) -> datetime:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")

    def to_string(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(CONVERTOR_TYPES)
    yield
    CONVERTOR_TYPES.clear()
    CONVERTOR_TYPES.update(saved)


@pytest.mark.usefixtures("restore_registry")
def test_register_url_convertor() -> None:
    convertor = DateTimeConvertor()
    register_url_convertor("datetime", convertor)
    assert CONVERTOR_TYPES["datetime"] is convertor
    assert convertor.convert("2024-01-02T03:04:05") == datetime(2024, 1, 2, 3, 4, 5)
    assert convertor.to_string(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05"


@pytest.mark.usefixtures("restore_registry")
def test_register_url_convertor_replaces_an_existing_key() -> None:
    class HexConvertor(Convertor[int]):
        regex = "[0-9a-f]+"

        def convert(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: int) -> str:
            return format(value, "x")

    register_url_convertor("int", HexConvertor())
    assert CONVERTOR_TYPES["int"].convert("ff") == 255
