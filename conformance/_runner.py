"""Running scenarios on targets, and reporting the results (matrix, JSON, JUnit XML)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from conformance._model import Scenario, ScenarioFailure
from conformance._session import ServerStartFailed, Session, Unsupported
from conformance._targets import Endpoint, Target
from conformance.waivers import Waiver, find_waiver

SHARED_APP = "conformance.app:app"
LOG_EXCERPT = 2000

Outcome = Literal["passed", "failed", "waived"]


@dataclasses.dataclass(frozen=True)
class Result:
    """What happened when ``scenario`` ran on ``target``."""

    scenario: str
    target: str
    outcome: Outcome
    detail: str = ""
    duration: float = 0.0

    def as_json(self) -> dict[str, str]:
        return {"scenario": self.scenario, "target": self.target, "outcome": self.outcome, "detail": self.detail}


def _judge(
    scenario: Scenario, target: Target, failure: str | None, waivers: list[Waiver] | None, unsupported: bool = False
) -> tuple[Outcome, str]:
    waiver = find_waiver(target.name, scenario, waivers)
    if failure is None:
        return "passed", (f"passed although waived, the waiver can go: {waiver.reason}" if waiver else "")
    if waiver is not None:
        return "waived", f"{waiver.reason} [observed: {failure}]"
    if unsupported:
        # The harness itself cannot drive this target that way (no socket, no root_path option).
        return "waived", f"{target.name} cannot run this scenario: {failure}"
    return "failed", failure


def run_scenario(
    scenario: Scenario, target: Target, endpoint: Endpoint | None, waivers: list[Waiver] | None = None
) -> Result:
    """Run one scenario's check on a target (``endpoint``: the shared server, None if dedicated)."""
    started = time.perf_counter()
    log_offset = len(endpoint.log()) if endpoint is not None else 0
    session = Session(scenario.id, target, endpoint if scenario.app is not None else None)
    failure: str | None = None
    unsupported = False
    try:
        scenario.check(session)
    except ScenarioFailure as exc:
        failure = str(exc)
    except Unsupported as exc:
        failure, unsupported = str(exc), True
    except ServerStartFailed as exc:
        failure = f"server did not start: {exc}\n{exc.log[-LOG_EXCERPT:]}"
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(Exception):
            session.close()
    outcome, detail = _judge(scenario, target, failure, waivers, unsupported)
    if outcome == "failed" and endpoint is not None and (log := endpoint.log()[log_offset:].strip()):
        # What the server said while the scenario ran (only for failures: waived ones stay terse).
        detail += f"\n--- server log ---\n{log[-LOG_EXCERPT:]}"
    return Result(scenario.id, target.name, outcome, detail, time.perf_counter() - started)


def run_target(
    target: Target,
    scenarios: Sequence[Scenario],
    progress: Callable[[Result], None] = lambda result: None,
    waivers: list[Waiver] | None = None,
    shared_app: str = SHARED_APP,
) -> list[Result]:
    """Run ``scenarios`` on one target: shared ones against one server, dedicated ones alone.

    ``shared_app`` is the app the shared server runs: the dispatcher of every registered scenario.
    """
    results: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        progress(result)

    shared = [s for s in scenarios if s.app is not None]
    if shared:
        try:
            with target.serve(shared_app) as endpoint:
                for scenario in shared:
                    record(run_scenario(scenario, target, endpoint, waivers))
        except ServerStartFailed as exc:  # raised on start only: no shared scenario has run
            failure = f"server did not start: {exc}\n{exc.log[-LOG_EXCERPT:]}"
            for scenario in shared:
                outcome, detail = _judge(scenario, target, failure, waivers)
                record(Result(scenario.id, target.name, outcome, detail))
    for scenario in scenarios:
        if scenario.app is None:
            record(run_scenario(scenario, target, None, waivers))
    order = {s.id: i for i, s in enumerate(scenarios)}
    return sorted(results, key=lambda r: order[r.scenario])


# --- Reports --------------------------------------------------------------------------------


def render_report(results: Sequence[Result], targets: Sequence[str], scenarios: Sequence[Scenario]) -> str:
    """The matrix (groups by targets: passed/failed/waived), then failures, waivers, stale waivers."""
    groups: dict[str, dict[str, list[int]]] = {}
    group_of = {s.id: s.group for s in scenarios}
    for result in results:
        counts = groups.setdefault(group_of[result.scenario], {}).setdefault(result.target, [0, 0, 0])
        counts[("passed", "failed", "waived").index(result.outcome)] += 1
    width = max([len("group"), *map(len, groups)]) + 2
    columns = [max(len(t), 9) + 2 for t in targets]
    lines = ["passed/failed/waived per scenario group and target", ""]
    lines.append("group".ljust(width) + "".join(t.rjust(c) for t, c in zip(targets, columns, strict=True)))
    totals = {t: [0, 0, 0] for t in targets}
    for group, per_target in groups.items():
        cells = []
        for target, column in zip(targets, columns, strict=True):
            counts = per_target.get(target, [0, 0, 0])
            totals[target] = [a + b for a, b in zip(totals[target], counts, strict=True)]
            cells.append("/".join(map(str, counts)).rjust(column))
        lines.append(group.ljust(width) + "".join(cells))
    lines.append(
        "total".ljust(width)
        + "".join("/".join(map(str, totals[t])).rjust(c) for t, c in zip(targets, columns, strict=True))
    )
    for title, selected in (
        ("Failures", [r for r in results if r.outcome == "failed"]),
        ("Waived", [r for r in results if r.outcome == "waived"]),
        ("Waivers no longer needed", [r for r in results if r.outcome == "passed" and r.detail]),
    ):
        if selected:
            lines += ["", f"{title} ({len(selected)}):"]
            for result in selected:
                detail = result.detail.replace("\n", "\n      ")
                lines.append(f"  [{result.target}] {result.scenario}: {detail}")
    failed = sum(r.outcome == "failed" for r in results)
    waived = sum(r.outcome == "waived" for r in results)
    lines += [
        "",
        f"{len({r.scenario for r in results})} scenarios on {len(targets)} targets: "
        f"{len(results) - failed - waived} passed, {failed} failed, {waived} waived",
    ]
    return "\n".join(lines)


def write_json(path: Path, targets: Sequence[str], results: Iterable[Result]) -> None:
    """The machine-readable report: version, targets, one entry per scenario and target."""
    document = {"version": 1, "targets": list(targets), "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")


def write_junit(path: Path, targets: Sequence[str], results: Sequence[Result]) -> None:
    """JUnit XML: a test suite per target, a test case per scenario (waived ones skipped)."""
    root = ET.Element("testsuites", name="asgi-conformance")
    for target in targets:
        mine = [r for r in results if r.target == target]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=target,
            tests=str(len(mine)),
            failures=str(sum(r.outcome == "failed" for r in mine)),
            skipped=str(sum(r.outcome == "waived" for r in mine)),
            time=f"{sum(r.duration for r in mine):.3f}",
        )
        for result in mine:
            case = ET.SubElement(
                suite, "testcase", classname=f"{target}.{result.scenario.rsplit('.', 1)[0]}", name=result.scenario
            )
            case.set("time", f"{result.duration:.3f}")
            if result.outcome == "failed":
                ET.SubElement(
                    case, "failure", message=(result.detail.splitlines() or [""])[0][:200]
                ).text = result.detail
            elif result.outcome == "waived":
                ET.SubElement(case, "skipped", message=result.detail)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
