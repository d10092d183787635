"""Path parameter convertors: `{name:type}` in a route path matches `regex`, `convert()` turns
the matched text into a value and `to_string()` turns a value back into path text."""

from __future__ import annotations

import math
import uuid
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class Convertor(Generic[T]):
    """Base class of convertors: set `regex` and implement `convert` and `to_string`."""

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        """The value of the matched path text."""
        raise NotImplementedError()

    def to_string(self, value: T) -> str:
        """The path text of a value (used by `url_path_for`)."""
        raise NotImplementedError()


class StringConvertor(Convertor[str]):
    """One non-empty path segment (no "/"); the default convertor."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        value = str(value)
        assert "/" not in value, "May not contain path separators"
        assert value, "Must not be empty"
        return value


class PathConvertor(Convertor[str]):
    """The rest of the path, "/" included."""

    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


class IntegerConvertor(Convertor[int]):
    """A non-negative decimal integer."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert value >= 0, "Negative integers are not supported"
        return str(value)


class FloatConvertor(Convertor[float]):
    """A non-negative decimal number, without exponent."""

    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        value = float(value)
        assert not math.isnan(value), "NaN values are not supported"
        assert value >= 0.0, "Negative floats are not supported"
        assert not math.isinf(value), "Infinite values are not supported"
        # repr() gives the shortest text that round-trips, but may use an exponent ("1e+16"),
        # which `regex` does not match: Decimal re-renders the same digits positionally.
        text = format(Decimal(repr(abs(value))), "f")  # abs(): -0.0 passes the checks but must print as "0"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text


class UUIDConvertor(Convertor[uuid.UUID]):
    """A UUID, with or without hyphens, any case."""

    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Make `{name:key}` available in route paths, converted by `convertor`."""
    CONVERTOR_TYPES[key] = convertor
