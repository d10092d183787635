"""Twelve-factor configuration: values come from the environment, then from an optional `.env`
file, then from the default given at the call site."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, TypeVar, overload


class undefined:
    """Marker for "no default given" (so that `None` can be a real default)."""


class EnvironError(Exception):
    """Raised when an environment variable is changed after configuration has read it."""


class Environ(MutableMapping[str, str]):
    """A view over `os.environ` that remembers which keys have been read and refuses to set or
    delete them afterwards: the change would silently not reach configuration already loaded.

    A lookup of a key that is absent counts as a read too (the default was used instead).
    """

    def __init__(self, environ: MutableMapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._has_been_read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self._has_been_read.add(key)
        return self._environ[key]

    def __setitem__(self, key: str, value: str) -> None:
        if key in self._has_been_read:
            raise EnvironError(f"Attempting to set environ['{key}'], but the value has already been read.")
        self._environ[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self._has_been_read:
            raise EnvironError(f"Attempting to delete environ['{key}'], but the value has already been read.")
        del self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


environ: Environ = Environ()

T = TypeVar("T")

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class Config:
    """Reads configuration values: `config("KEY", cast=int, default=0)`.

    Lookup order: `environ[env_prefix + key]`, then the same key in `env_file`, then `default`;
    with none of them, `KeyError`. `cast` converts the string found (and a non-`None` default);
    `cast=bool` accepts "true"/"false"/"1"/"0" in any case. A missing `env_file` only warns.
    """

    def __init__(
        self,
        env_file: str | Path | None = None,
        environ: Mapping[str, str] = environ,
        env_prefix: str = "",
        encoding: str = "utf-8",
    ) -> None:
        self.environ = environ
        self.env_prefix = env_prefix
        self.file_values: dict[str, str] = {}
        if env_file is not None:
            if os.path.isfile(env_file):
                self.file_values = self._read_file(env_file, encoding)
            else:
                warnings.warn(f"Config file '{env_file}' not found.", stacklevel=2)

    # The overloads give callers precise types: no cast -> str (or str | the default's type),
    # a cast -> what the cast returns (| None when the default is None, which is never cast).
    @overload
    def __call__(self, key: str, cast: None = None, default: type[undefined] = undefined) -> str: ...
    @overload
    def __call__(self, key: str, cast: None = None, *, default: T) -> str | T: ...
    @overload
    def __call__(self, key: str, cast: Callable[[Any], T], default: None) -> T | None: ...
    @overload
    def __call__(self, key: str, cast: Callable[[Any], T], default: Any = undefined) -> T: ...

    def __call__(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        """Same as `get()`."""
        return self.get(key, cast, default)

    @overload
    def get(self, key: str, cast: None = None, default: type[undefined] = undefined) -> str: ...
    @overload
    def get(self, key: str, cast: None = None, *, default: T) -> str | T: ...
    @overload
    def get(self, key: str, cast: Callable[[Any], T], default: None) -> T | None: ...
    @overload
    def get(self, key: str, cast: Callable[[Any], T], default: Any = undefined) -> T: ...

    def get(self, key: str, cast: Callable[[Any], Any] | None = None, default: Any = undefined) -> Any:
        """The value of `key` (prefixed with `env_prefix`), converted with `cast`."""
        key = self.env_prefix + key
        if key in self.environ:
            return self._perform_cast(key, self.environ[key], cast)
        if key in self.file_values:
            return self._perform_cast(key, self.file_values[key], cast)
        if default is not undefined:
            return self._perform_cast(key, default, cast)
        raise KeyError(f"Config '{key}' is missing, and has no default.")

    def _read_file(self, file_name: str | Path, encoding: str) -> dict[str, str]:
        # `KEY=value` lines; blank lines, `#` comment lines and lines without "=" are skipped;
        # whitespace around key and value and quotes around the value are stripped.
        file_values: dict[str, str] = {}
        with open(file_name, encoding=encoding) as input_file:
            for line in input_file:
                line = line.strip()
                if "=" in line and not line.startswith("#"):
                    key, value = line.split("=", 1)
                    file_values[key.strip()] = value.strip().strip("\"'")
        return file_values

    def _perform_cast(self, key: str, value: Any, cast: Callable[[Any], Any] | None) -> Any:
        if cast is None or value is None:
            return value
        if cast is bool and isinstance(value, str):
            value = value.lower()
            if value not in _BOOLEANS:
                raise ValueError(f"Config '{key}' has value '{value}'. Not a valid bool.")
            return _BOOLEANS[value]
        try:
            return cast(value)
        except (TypeError, ValueError):
            name = getattr(cast, "__name__", repr(cast))
            raise ValueError(f"Config '{key}' has value '{value}'. Not a valid {name}.")
