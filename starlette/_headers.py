"""HTTP headers: the case-insensitive multi-mapping `Headers` and its mutable form.

Theory of operation: the single source of truth is `_list`, the ASGI "raw" form, a list of
`(name, value)` byte pairs with lower-cased names, exactly as found in `scope["headers"]` or
an `http.response.start` message. Nothing is precomputed: a `Headers` built over a scope or a
message is a live view, and `MutableHeaders` edits that very list in place, so a middleware
doing `MutableHeaders(scope=message)` changes the message it is about to send. Names are
compared after `key.lower().encode("latin-1")`; header values travel as latin-1.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar


def _encode_name(key: str) -> bytes:
    return key.lower().encode("latin-1")


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive multidict of HTTP headers.

    Build it from a mapping (`headers=`), from raw ASGI byte pairs (`raw=`), or from an ASGI
    scope or message (`scope=`, reading `scope["headers"]`); at most one of them.
    """

    _list: list[tuple[bytes, bytes]]

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: MutableMapping[str, Any] | None = None,
    ) -> None:
        self._list = []
        if headers is not None:
            assert raw is None, 'Cannot set both "headers" and "raw".'
            assert scope is None, 'Cannot set both "headers" and "scope".'
            self._list = [(_encode_name(key), value.encode("latin-1")) for key, value in headers.items()]
        elif raw is not None:
            assert scope is None, 'Cannot set both "raw" and "scope".'
            self._list = raw
        elif scope is not None:
            # Share the scope's own list so that mutations are visible to whoever holds the scope;
            # a tuple (or other iterable) is replaced by an equivalent list stored back into it.
            # A missing "headers" key (optional in ASGI messages) starts an empty list.
            scope_headers = scope.get("headers")
            if type(scope_headers) is not list:
                scope_headers = scope["headers"] = list(scope_headers or ())
            self._list = scope_headers

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The underlying ASGI header list: `(lower-cased name, value)` byte pairs."""
        return self._list

    def keys(self) -> list[str]:  # type: ignore[override]  # a list, with duplicates, as Starlette does
        """Every header name (lower-case), duplicates included, in order."""
        return [key.decode("latin-1") for key, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]  # a list, with duplicates, as Starlette does
        """Every header value, duplicates included, in order."""
        return [value.decode("latin-1") for _, value in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]  # a list, with duplicates
        """Every `(name, value)` pair decoded as latin-1, duplicates included, in order."""
        return [(key.decode("latin-1"), value.decode("latin-1")) for key, value in self._list]

    def getlist(self, key: str) -> list[str]:
        """Every value of header `key` (case-insensitive), in order."""
        get_header_key = _encode_name(key)
        return [item_value.decode("latin-1") for item_key, item_value in self._list if item_key == get_header_key]

    def mutablecopy(self) -> MutableHeaders:
        """A `MutableHeaders` over a copy of the raw list."""
        return MutableHeaders(raw=self._list[:])

    def __getitem__(self, key: str) -> str:
        get_header_key = _encode_name(key)
        for header_key, header_value in self._list:
            if header_key == get_header_key:
                return header_value.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        if not isinstance(key, str):
            return False
        get_header_key = _encode_name(key)
        for header_key, _ in self._list:
            if header_key == get_header_key:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Headers):
            return False
        # tuple(): ASGI servers may hand over [name, value] lists instead of tuples.
        return sorted(map(tuple, self._list)) == sorted(map(tuple, other._list))

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # headers are a (possibly live) mutable view

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{class_name}({as_dict!r})"
        return f"{class_name}(raw={self.raw!r})"


class MutableHeaders(Headers):
    """`Headers` that can be edited; edits apply in place to the underlying raw list."""

    def __setitem__(self, key: str, value: str) -> None:
        """Set header `key` to `value`: the first occurrence is replaced in place, later ones are
        removed; the header is appended when absent."""
        set_key = _encode_name(key)
        set_value = value.encode("latin-1")

        found_indexes = [idx for idx, (item_key, _) in enumerate(self._list) if item_key == set_key]
        for idx in reversed(found_indexes[1:]):
            del self._list[idx]

        if found_indexes:
            self._list[found_indexes[0]] = (set_key, set_value)
        else:
            self._list.append((set_key, set_value))

    def __delitem__(self, key: str) -> None:
        """Remove every occurrence of header `key` (no error when absent)."""
        del_key = _encode_name(key)
        pop_indexes = [idx for idx, (item_key, _) in enumerate(self._list) if item_key == del_key]
        for idx in reversed(pop_indexes):
            del self._list[idx]

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        self.update(other)
        return self

    def __or__(self, other: Mapping[str, str]) -> MutableHeaders:
        if not isinstance(other, Mapping):
            raise TypeError(f"Expected a mapping but got {other.__class__.__name__}")
        new = self.mutablecopy()
        new.update(other)
        return new

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The underlying ASGI header list (edits made through this object show up in it)."""
        return self._list

    def setdefault(self, key: str, value: str) -> str:
        """Return the first value of header `key`, appending `(key, value)` first if absent."""
        set_key = _encode_name(key)
        set_value = value.encode("latin-1")

        for item_key, item_value in self._list:
            if item_key == set_key:
                return item_value.decode("latin-1")
        self._list.append((set_key, set_value))
        return value

    def update(self, other: Mapping[str, str]) -> None:
        """Set every header of `other` (as `self[key] = value` does)."""
        for key, val in other.items():
            self[key] = val

    def append(self, key: str, value: str) -> None:
        """Add a header, keeping any existing one with the same name."""
        append_key = _encode_name(key)
        append_value = value.encode("latin-1")
        self._list.append((append_key, append_value))

    def add_vary_header(self, vary: str) -> None:
        """Add `vary` to the `Vary` header, appending to an existing value with ", "."""
        existing = self.get("vary")
        if existing is not None:
            vary = ", ".join([existing, vary])
        self["vary"] = vary
