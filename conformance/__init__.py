"""The ASGI conformance suite: scenarios that run unchanged on the TestClient and real servers.

Run it with ``python -m conformance`` (see ``--help`` and docs/conformance.md). Programmatic use:
:func:`all_scenarios`, :class:`CommandTarget` / :class:`InProcessTarget`, :func:`run_target`.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance._model import Scenario, ScenarioFailure, expect, expect_equal, registry, scenario
from conformance._runner import Result, render_report, run_scenario, run_target, write_json, write_junit
from conformance._session import (
    ServerStartFailed,
    Session,
    Unsupported,
    WebSocketClient,
    WebSocketClosed,
    WebSocketRejected,
)
from conformance._targets import CommandTarget, Endpoint, InProcessTarget, Target, builtin_targets
from conformance.waivers import WAIVERS, Waiver

__all__ = [
    "WAIVERS",
    "CommandTarget",
    "Endpoint",
    "InProcessTarget",
    "Result",
    "Scenario",
    "ScenarioFailure",
    "ServerStartFailed",
    "Session",
    "Target",
    "Unsupported",
    "Waiver",
    "WebSocketClient",
    "WebSocketClosed",
    "WebSocketRejected",
    "all_scenarios",
    "builtin_targets",
    "expect",
    "expect_equal",
    "registry",
    "render_report",
    "run_scenario",
    "run_target",
    "scenario",
    "write_json",
    "write_junit",
]


def all_scenarios(patterns: Iterable[str] = ()) -> list[Scenario]:
    """Every registered scenario (importing them all), optionally filtered by id substrings."""
    import conformance.scenarios  # noqa: F401  (registration happens on import)

    return registry.select(patterns)
