"""Scenarios: what one conformance check is made of, and the registry that holds them all.

A scenario is an id (``group.subgroup.name``, stable: reports and waivers refer to it), the ASGI
app under test, and a check: a function that drives the app through a :class:`Session` (an HTTP
client, a WebSocket client, raw sockets) and raises :class:`ScenarioFailure` when what it
observes is not what the ASGI specification requires.

Most scenarios share one server per target: their apps are mounted in the dispatcher app
(``conformance.app:app``), which hands each request to the scenario named by its
``x-conformance-scenario`` header. A scenario about the server's life itself (lifespan startup
failing, an app without lifespan support) is *dedicated*: its check starts its own server with
``session.serve(...)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar

from starlette.types import ASGIApp

if TYPE_CHECKING:
    from conformance._session import Session

Check = Callable[["Session"], None]
CheckT = TypeVar("CheckT", bound=Check)

_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+\Z")


class ScenarioFailure(AssertionError):
    """Raised by a check when the target did not behave as the scenario requires."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One conformance check: an id, the app it runs against (None when dedicated), the check."""

    id: str
    app: ASGIApp | None
    check: Check
    description: str
    #: Known deviations: target name -> the reason (pointing at that server's behaviour or docs).
    waivers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def group(self) -> str:
        """The first two components of the id (``http.scope``): a row of the report's matrix."""
        return ".".join(self.id.split(".")[:2])


class Registry:
    """An ordered collection of scenarios with unique ids."""

    def __init__(self) -> None:
        self._scenarios: dict[str, Scenario] = {}

    def add(self, scenario: Scenario) -> None:
        if not _ID.match(scenario.id):
            raise ValueError(f"Invalid scenario id {scenario.id!r}: lowercase words separated by dots")
        if scenario.id in self._scenarios:
            raise ValueError(f"Duplicate scenario id {scenario.id!r}")
        self._scenarios[scenario.id] = scenario

    def scenario(
        self, id: str, app: ASGIApp | None, *, waivers: Mapping[str, str] | None = None
    ) -> Callable[[CheckT], CheckT]:
        """Decorator registering a check under ``id``, run against ``app`` (None: dedicated).

        ``waivers`` maps a target name to the reason that target may fail this scenario.
        """

        def register(check: CheckT) -> CheckT:
            description = (check.__doc__ or "").strip()
            self.add(Scenario(id=id, app=app, check=check, description=description, waivers=dict(waivers or {})))
            return check

        return register

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._scenarios.values())

    def __len__(self) -> int:
        return len(self._scenarios)

    def get(self, id: str) -> Scenario | None:
        return self._scenarios.get(id)

    def select(self, patterns: Iterable[str] = ()) -> list[Scenario]:
        """Scenarios whose id contains any of ``patterns`` (all when there are none)."""
        wanted = list(patterns)
        return [s for s in self._scenarios.values() if not wanted or any(p in s.id for p in wanted)]


registry = Registry()
scenario = registry.scenario


def expect(condition: bool, detail: str) -> None:
    """Fail the scenario with ``detail`` unless ``condition`` holds."""
    if not condition:
        raise ScenarioFailure(detail)


def expect_equal(what: str, actual: object, expected: object) -> None:
    """Fail the scenario unless ``actual == expected``, saying what differed."""
    if actual != expected:
        raise ScenarioFailure(f"{what}: expected {expected!r}, got {actual!r}")
