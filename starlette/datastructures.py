"""Data structures shared by requests, responses, routing and configuration.

This is the public import path (`starlette.datastructures`); the bulk of each structure lives
in a private module named after it (`_url`, `_headers`, `_multidict`, `_upload`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from shlex import shlex
from typing import Any, NamedTuple

from starlette._headers import Headers, MutableHeaders
from starlette._multidict import ImmutableMultiDict, MultiDict, QueryParams
from starlette._upload import FormData, UploadFile
from starlette._url import URL, URLPath, urlsplit
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

__all__ = [
    "URL",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "Scope",
    "Secret",
    "State",
    "URLPath",
    "UploadFile",
    "run_in_threadpool",
    "urlsplit",
]


class Address(NamedTuple):
    """A `(host, port)` network address, e.g. `request.client`."""

    host: str
    port: int


class Secret:
    """A string value that hides itself in `repr()` (and so in tracebacks and logs);
    `str(secret)` gives the value."""

    def __init__(self, value: str):
        self._value = value

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        return f"{class_name}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


class CommaSeparatedStrings(Sequence[str]):
    """A sequence of strings parsed from a comma-separated string (`"a, b"` gives
    `["a", "b"]`; quotes group, as in a shell), or taken from a sequence of strings."""

    def __init__(self, value: str | Sequence[str]):
        if isinstance(value, str):
            splitter = shlex(value, posix=True)
            splitter.whitespace = ","
            splitter.whitespace_split = True
            self._items = [item.strip() for item in splitter]
        else:
            self._items = list(value)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        return self._items[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        items = list(self)
        return f"{class_name}({items!r})"

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self)


class State:
    """An object for storing arbitrary state as attributes (`app.state`, `request.state`),
    backed by the dict `_state` (shared, not copied, when one is given)."""

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None):
        if state is None:
            state = {}
        super().__setattr__("_state", state)

    def __setattr__(self, key: Any, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: Any) -> Any:
        # Read `_state` from the instance dict, not as `self._state`: on an instance made without
        # __init__ (copy, pickle) that would call __getattr__ again, forever.
        try:
            return self.__dict__["_state"][key]
        except KeyError:
            message = "'{}' object has no attribute '{}'"
            raise AttributeError(message.format(self.__class__.__name__, key))

    def __delattr__(self, key: Any) -> None:
        del self._state[key]
