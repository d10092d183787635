"""Fast candidate lookup for `Router`: which routes could match a given path.

Theory of operation. Routes are tried in order and the first full match wins, so a router
must not skip a route that could match. Most routes can only match paths whose first segment
is a given literal: `"/users/{id}"` only matches paths starting with `"/users/"`, and
`Mount("/api")` only paths starting with `"/api/"`. Each such route has a *key* (that literal,
`"users"`); routes without one (a parameter in the first segment, `Host`, `Mount("")`, custom
`matches()`) are *wildcards* that could match anything. For every key, the table keeps, in
router order, the routes with that key plus all the wildcards; a path whose first segment is
`k` only needs the routes of bucket `k` (or only the wildcards if there is no such bucket), and
the first match among them is the first match of the whole list, since the skipped routes
cannot match. One regex quirk is kept: `$` also matches before a final newline, so a path
ending in a newline without a second "/" gets every route.

`Router.routes` is a public, mutable list. It is a `RouteList`, a `list` that counts its
mutations; the table remembers which list and which version it was built from and is rebuilt
lazily after a change. When user code replaces `routes` with a plain list, the router falls
back to trying every route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")


class RouteList(list[T]):
    """A list that counts its mutations in `version` (routers rebuild their lookup table when
    it changes)."""

    version: int = 0

    def _changed(self) -> None:
        self.version += 1

    def append(self, item: T, /) -> None:
        self._changed()
        super().append(item)

    def extend(self, items: Iterable[T], /) -> None:
        self._changed()
        super().extend(items)

    def insert(self, index: SupportsIndex, item: T, /) -> None:
        self._changed()
        super().insert(index, item)

    def remove(self, item: T, /) -> None:
        self._changed()
        super().remove(item)

    def pop(self, index: SupportsIndex = -1, /) -> T:
        self._changed()
        return super().pop(index)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._changed()
        super().reverse()

    @overload
    def __setitem__(self, index: SupportsIndex, value: T, /) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[T], /) -> None: ...

    def __setitem__(self, index: Any, value: Any, /) -> None:
        self._changed()
        super().__setitem__(index, value)

    def __delitem__(self, index: SupportsIndex | slice, /) -> None:
        self._changed()
        super().__delitem__(index)

    def __iadd__(self, items: Iterable[T], /) -> Self:  # type: ignore[override,misc]  # same as list.__iadd__ in typeshed
        self._changed()
        super().__iadd__(items)
        return self

    def __imul__(self, count: SupportsIndex, /) -> Self:
        self._changed()
        super().__imul__(count)
        return self


class RouteTable:
    """The candidate routes of a router for each first path segment (see the module doc)."""

    __slots__ = ("buckets", "every", "routes", "version", "wildcards")

    def __init__(self, routes: RouteList[T], key_of: Callable[[T], str | None]) -> None:
        self.routes: object = routes
        self.version = routes.version
        every = tuple(routes)
        buckets: dict[str, list[Any]] = {}
        wildcards: list[Any] = []
        for route in every:
            key = key_of(route)
            if key is None:
                wildcards.append(route)
                for bucket in buckets.values():
                    bucket.append(route)
            elif key in buckets:
                buckets[key].append(route)
            else:
                buckets[key] = [*wildcards, route]
        self.every: Sequence[Any] = every
        self.wildcards: Sequence[Any] = tuple(wildcards)
        self.buckets: dict[str, Sequence[Any]] = {key: tuple(bucket) for key, bucket in buckets.items()}

    def candidates(self, path: str) -> Sequence[Any]:
        """The routes that could match `path` (a route path, as `get_route_path` gives), in order."""
        if path[:1] != "/":
            return self.wildcards
        end = path.find("/", 1)
        if end < 0:
            if path[-1] == "\n":
                return self.every
            return self.buckets.get(path[1:], self.wildcards)
        return self.buckets.get(path[1:end], self.wildcards)
