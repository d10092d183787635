"""Every conformance scenario on every built-in target, as pytest tests.

The shared server of each target starts once (on first use) and stops at the end of the session.
A waived scenario is an expected failure; one that passes although waived fails here, so that
stale waivers get removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from conformance import all_scenarios, builtin_targets, run_scenario
from conformance._runner import SHARED_APP
from conformance._targets import Endpoint

TARGETS = builtin_targets()
SCENARIOS = {s.id: s for s in all_scenarios()}


class _Servers:
    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._endpoints: dict[str, Endpoint] = {}

    def endpoint(self, target: str) -> Endpoint:
        if target not in self._endpoints:
            self._endpoints[target] = self._stack.enter_context(TARGETS[target].serve(SHARED_APP))
        return self._endpoints[target]


@pytest.fixture(scope="session")
def servers() -> Iterator[_Servers]:
    with contextlib.ExitStack() as stack:
        yield _Servers(stack)


@pytest.mark.parametrize(("target", "scenario_id"), [(t, s) for t in TARGETS for s in SCENARIOS])
def test_scenario(target: str, scenario_id: str, servers: _Servers) -> None:
    scenario = SCENARIOS[scenario_id]
    endpoint = servers.endpoint(target) if scenario.app is not None else None
    result = run_scenario(scenario, TARGETS[target], endpoint)
    if result.outcome == "waived":
        pytest.xfail(result.detail)
    assert result.outcome == "passed", result.detail
    assert result.detail == ""
