"""Known deviations of the targets: each one a target, a scenario (or fnmatch pattern), a reason.

Most waivers sit next to their scenario (``@scenario(..., waivers={"daphne": "reason"})``);
this module holds those spanning many scenarios, and finds the one that applies.

A waiver turns a failure into ``waived``; it never hides a bug of ours (every reason points at
the target's documented or observed behaviour). A waived scenario that passes is reported as
passing with a note that its waiver can go.
"""

from __future__ import annotations

import dataclasses
import fnmatch

from conformance._model import Scenario


@dataclasses.dataclass(frozen=True)
class Waiver:
    """``target`` may fail ``scenario`` (an id or an fnmatch pattern) because of ``reason``."""

    target: str
    scenario: str
    reason: str

    def applies(self, target: str, scenario_id: str) -> bool:
        return target == self.target and fnmatch.fnmatchcase(scenario_id, self.scenario)


WAIVERS: list[Waiver] = []


def find_waiver(target: str, scenario: Scenario, waivers: list[Waiver] | None = None) -> Waiver | None:
    """The waiver for this target and scenario, if any (the scenario's own first)."""
    if target in scenario.waivers:
        return Waiver(target, scenario.id, scenario.waivers[target])
    return next((w for w in (WAIVERS if waivers is None else waivers) if w.applies(target, scenario.id)), None)
