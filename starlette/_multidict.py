"""Multi-value mappings: `ImmutableMultiDict`, `MultiDict` and `QueryParams`.

Theory of operation: every multidict keeps two views of the same data, `_list` (every
`(key, value)` pair in insertion order, duplicates included) and `_dict` (one entry per key,
holding the LAST value seen for it). Lookups (`md[key]`, `in`, `len`, iteration) hit the
dict in O(1); `getlist()` and `multi_items()` walk the list. Mutators keep both in step.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any, ClassVar, Generic, TypeVar, cast
from urllib.parse import parse_qsl, urlencode

_KeyType = TypeVar("_KeyType")
# Values are only ever read from an immutable multidict, so it is covariant in them:
# `ImmutableMultiDict[str, str]` is usable where `ImmutableMultiDict[str, str | int]` is expected.
_CovariantValueType = TypeVar("_CovariantValueType", covariant=True)


class ImmutableMultiDict(Mapping[_KeyType, _CovariantValueType], Generic[_KeyType, _CovariantValueType]):
    """A read-only mapping that may hold several values per key.

    `md[key]` gives the last value for `key`, `md.getlist(key)` every value in order.
    """

    _dict: dict[_KeyType, _CovariantValueType]
    _list: list[tuple[_KeyType, _CovariantValueType]]

    def __init__(
        self,
        *args: ImmutableMultiDict[_KeyType, _CovariantValueType]
        | Mapping[_KeyType, _CovariantValueType]
        | Iterable[tuple[_KeyType, _CovariantValueType]],
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."

        value: Any = args[0] if args else []
        if kwargs:
            value = ImmutableMultiDict(value).multi_items() + ImmutableMultiDict(kwargs).multi_items()

        if not value:
            _items: list[Any] = []
        elif hasattr(value, "multi_items"):
            _items = list(value.multi_items())
        elif hasattr(value, "items"):
            _items = list(value.items())
        else:
            _items = list(value)

        self._dict = dict(_items)
        self._list = _items

    def getlist(self, key: Any) -> list[_CovariantValueType]:
        """Every value stored under `key`, in insertion order (empty if absent)."""
        return [item_value for item_key, item_value in self._list if item_key == key]

    def keys(self) -> KeysView[_KeyType]:
        """The distinct keys, in order of first insertion."""
        return self._dict.keys()

    def values(self) -> ValuesView[_CovariantValueType]:
        """The last value of each distinct key."""
        return self._dict.values()

    def items(self) -> ItemsView[_KeyType, _CovariantValueType]:
        """`(key, last value)` for each distinct key."""
        return self._dict.items()

    def multi_items(self) -> list[tuple[_KeyType, _CovariantValueType]]:
        """Every `(key, value)` pair, duplicates included, in insertion order (a copy)."""
        return list(self._list)

    def __getitem__(self, key: _KeyType) -> _CovariantValueType:
        return self._dict[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[_KeyType]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, self.__class__):
            return False
        if len(self._list) != len(other._list):
            return False
        try:
            return sorted(self._list) == sorted(other._list)
        except TypeError:
            # Unorderable keys or values (None next to str, UploadFile objects...): compare as
            # multisets by equality alone.
            remaining = list(other._list)
            for item in self._list:
                try:
                    remaining.remove(item)
                except ValueError:
                    return False
            return True

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # mutable-by-subclass containers are unhashable

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        items = self.multi_items()
        return f"{class_name}({items!r})"


class MultiDict(ImmutableMultiDict[Any, Any]):
    """A mutable `ImmutableMultiDict`."""

    def __setitem__(self, key: Any, value: Any) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: Any) -> None:
        self._list = [(k, v) for k, v in self._list if k != key]
        del self._dict[key]

    def pop(self, key: Any, default: Any = None) -> Any:
        """Remove every value of `key`; return its last value, or `default` if absent."""
        self._list = [(k, v) for k, v in self._list if k != key]
        return self._dict.pop(key, default)

    def popitem(self) -> tuple[Any, Any]:
        """Remove the most recently added distinct key; return `(key, last value)`."""
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: Any) -> list[Any]:
        """Remove `key` and return all of its values (empty list if absent)."""
        values = [v for k, v in self._list if k == key]
        self.pop(key)
        return values

    def clear(self) -> None:
        """Remove everything."""
        self._dict.clear()
        self._list.clear()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """Return the last value of `key`, adding `(key, default)` first if absent."""
        if key not in self:
            self._dict[key] = default
            self._list.append((key, default))
        return self[key]

    def setlist(self, key: Any, values: list[Any]) -> None:
        """Replace every value of `key` by `values` (appended last); an empty list removes the key."""
        if not values:
            self.pop(key, None)
        else:
            existing_items = [(k, v) for (k, v) in self._list if k != key]
            self._list = existing_items + [(key, value) for value in values]
            self._dict[key] = values[-1]

    def append(self, key: Any, value: Any) -> None:
        """Add one more value for `key`, keeping the existing ones."""
        self._list.append((key, value))
        self._dict[key] = value

    def update(
        self,
        *args: MultiDict | Mapping[Any, Any] | list[tuple[Any, Any]],
        **kwargs: Any,
    ) -> None:
        """Replace the values of every key present in the update by the update's values."""
        value = MultiDict(*args, **kwargs)
        existing_items = [(k, v) for (k, v) in self._list if k not in value.keys()]
        self._list = existing_items + value.multi_items()
        self._dict.update(value)


class QueryParams(ImmutableMultiDict[str, str]):
    """An immutable multidict of query string parameters.

    Also accepts a raw query string (`str`, or `bytes` decoded as latin-1); keys and values are
    always strings.
    """

    def __init__(
        self,
        *args: ImmutableMultiDict[Any, Any] | Mapping[Any, Any] | list[tuple[Any, Any]] | str | bytes,
        **kwargs: Any,
    ) -> None:
        assert len(args) < 2, "Too many arguments."

        value = args[0] if args else []

        if isinstance(value, (str, bytes)):
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            items = parse_qsl(value, keep_blank_values=True)
            if not kwargs:
                # The request path (`request.query_params`): pairs of str already, no conversion.
                self._list = items
                self._dict = dict(items)
                return
            super().__init__(items, **kwargs)
        else:
            super().__init__(*cast("tuple[Any, ...]", args), **kwargs)
        self._list = [(str(k), str(v)) for k, v in self._list]
        self._dict = {str(k): str(v) for k, v in self._dict.items()}

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        query_string = str(self)
        return f"{class_name}({query_string!r})"
