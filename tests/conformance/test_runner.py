from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import (
    CommandTarget,
    InProcessTarget,
    Result,
    Scenario,
    ScenarioFailure,
    ServerStartFailed,
    Session,
    Unsupported,
    Waiver,
    expect,
    expect_equal,
    render_report,
    run_scenario,
    run_target,
    write_json,
    write_junit,
)
from conformance._model import Registry
from conformance._targets import load_app
from conformance.waivers import find_waiver
from tests.conformance.apps import hello

HELLO = "tests.conformance.apps:hello"
UVICORN = f"{sys.executable} -m uvicorn --host {{host}} --port {{port}} {{app}}"


def _passes(s: Session) -> None:
    expect_equal("body", s.http.get("/").text, "hello")


def _fails(s: Session) -> None:
    expect(s.http.get("/").text == "bye", "the app did not say bye")


def _crashes(s: Session) -> None:
    raise KeyError("oops")


def _dedicated(s: Session) -> None:
    with s.serve(HELLO) as endpoint, endpoint.http_client({}) as client:
        expect_equal("body", client.get("/").text, "hello")


def _dedicated_failing(s: Session) -> None:
    with s.serve("tests.conformance.apps:failing_startup"):
        pass  # pragma: no cover  (the server never starts)


def make(id: str, check: object, *, dedicated: bool = False, waivers: dict[str, str] | None = None) -> Scenario:
    return Scenario(id, None if dedicated else hello, check, "", waivers or {})  # type: ignore[arg-type]  # test checks


def test_registry_rejects_bad_and_duplicate_ids() -> None:
    registry = Registry()
    registry.scenario("a.b.c", app=hello)(_passes)
    with pytest.raises(ValueError, match="Duplicate"):
        registry.scenario("a.b.c", app=hello)(_passes)
    with pytest.raises(ValueError, match="Invalid scenario id"):
        registry.scenario("NoDots", app=hello)(_passes)
    assert [s.id for s in registry] == ["a.b.c"]
    assert len(registry) == 1
    assert registry.get("a.b.c") is not None and registry.get("x.y") is None
    assert registry.select(["b.c"]) == list(registry) and registry.select(["zzz"]) == []


def test_scenario_group_and_description() -> None:
    registry = Registry()

    @registry.scenario("http.scope.method", app=hello, waivers={"daphne": "why"})
    def check(s: Session) -> None:
        """First line.

        More."""

    scenario = registry.get("http.scope.method")
    assert scenario is not None
    assert scenario.group == "http.scope"
    assert scenario.description.splitlines()[0] == "First line."
    assert scenario.waivers == {"daphne": "why"}


def test_expectations() -> None:
    expect(True, "never shown")
    with pytest.raises(ScenarioFailure, match="^status: expected 200, got 404$"):
        expect_equal("status", 404, 200)
    with pytest.raises(ScenarioFailure, match="^detail$"):
        expect(False, "detail")


def test_find_waiver_prefers_the_scenarios_own() -> None:
    scenario = make("x.y.z", _passes, waivers={"uvicorn": "own reason"})
    shared = [Waiver("uvicorn", "x.*", "pattern reason"), Waiver("daphne", "x.*", "daphne reason")]
    assert find_waiver("uvicorn", scenario, shared) == Waiver("uvicorn", "x.y.z", "own reason")
    assert find_waiver("daphne", scenario, shared) == Waiver("daphne", "x.*", "daphne reason")
    assert find_waiver("hypercorn", scenario, shared) is None
    assert find_waiver("hypercorn", scenario) is None


def test_run_scenario_outcomes_in_process() -> None:
    target = InProcessTarget()
    with target.serve(HELLO) as endpoint:
        assert run_scenario(make("t.ok.a", _passes), target, endpoint).outcome == "passed"
        failed = run_scenario(make("t.fail.a", _fails), target, endpoint)
        assert (failed.outcome, failed.detail) == ("failed", "the app did not say bye")
        crashed = run_scenario(make("t.crash.a", _crashes), target, endpoint)
        assert (crashed.outcome, crashed.detail) == ("failed", "KeyError: 'oops'")
        waived = run_scenario(make("t.fail.b", _fails, waivers={"testclient": "known"}), target, endpoint)
        assert (waived.outcome, waived.detail) == ("waived", "known [observed: the app did not say bye]")
        stale = run_scenario(make("t.ok.b", _passes, waivers={"testclient": "known"}), target, endpoint)
        assert stale.outcome == "passed"
        assert stale.detail == "passed although waived, the waiver can go: known"
        with pytest.raises(Unsupported):
            endpoint.connect()
        assert endpoint.log() == ""


def test_dedicated_scenarios_start_their_own_server_in_process() -> None:
    target = InProcessTarget()
    results = run_target(target, [make("t.ded.ok", _dedicated, dedicated=True)], shared_app=HELLO)
    assert [r.outcome for r in results] == ["passed"]
    failed = run_scenario(make("t.ded.fail", _dedicated_failing, dedicated=True), target, None)
    assert failed.outcome == "failed"
    assert failed.detail.startswith("server did not start: lifespan startup failed: the database is on fire")


def test_a_dedicated_scenario_has_no_shared_endpoint() -> None:
    target = InProcessTarget()
    result = run_scenario(make("t.ded.shared", _passes, dedicated=True), target, None)
    assert result.outcome == "failed"
    assert "start one with session.serve()" in result.detail


def test_serve_sets_and_restores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_TEST_KEPT", "before")
    monkeypatch.delenv("CONFORMANCE_TEST_NEW", raising=False)
    with InProcessTarget().serve(HELLO, env={"CONFORMANCE_TEST_KEPT": "during", "CONFORMANCE_TEST_NEW": "x"}):
        import os

        assert (os.environ["CONFORMANCE_TEST_KEPT"], os.environ["CONFORMANCE_TEST_NEW"]) == ("during", "x")
    assert os.environ["CONFORMANCE_TEST_KEPT"] == "before"
    assert "CONFORMANCE_TEST_NEW" not in os.environ


def test_load_app_defaults_to_the_app_attribute() -> None:
    import conformance.app

    assert load_app("conformance.app") is conformance.app.app
    assert load_app(HELLO) is hello


def test_command_target_on_a_real_server() -> None:
    target = CommandTarget("mine", f"{sys.executable} -m uvicorn --host {{host}} --port {{port}} {{app}}")
    scenarios = [make("t.ok.a", _passes), make("t.fail.a", _fails), make("t.ded.ok", _dedicated, dedicated=True)]
    seen: list[str] = []
    results = run_target(target, scenarios, progress=lambda r: seen.append(r.scenario), shared_app=HELLO)
    assert [(r.scenario, r.outcome) for r in results] == [
        ("t.ok.a", "passed"),
        ("t.fail.a", "failed"),
        ("t.ded.ok", "passed"),
    ]
    assert sorted(seen) == sorted(s.id for s in scenarios)
    # The server's log lines written during a failing scenario come with its detail.
    assert "--- server log ---" in results[1].detail and "GET / HTTP/1.1" in results[1].detail


def test_a_server_that_exits_fails_every_shared_scenario() -> None:
    target = CommandTarget("broken", [sys.executable, "-c", "print('no such luck {app} {port}')"])
    results = run_target(target, [make("t.ok.a", _passes), make("t.ok.b", _passes, waivers={"broken": "known"})])
    assert [r.outcome for r in results] == ["failed", "waived"]
    assert results[0].detail.startswith("server did not start: ")
    assert "exited with status 0" in results[0].detail and "no such luck conformance.app:app" in results[0].detail


def test_a_startup_failure_on_a_real_server_is_reported_with_its_log() -> None:
    target = CommandTarget("uvicorn", f"{sys.executable} -m uvicorn --host {{host}} --port {{port}} {{app}}")
    with pytest.raises(ServerStartFailed) as info, target.serve("tests.conformance.apps:failing_startup"):
        pass  # pragma: no cover  (never started)
    assert "the database is on fire" in info.value.log


def test_a_server_that_never_listens_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conformance._targets.START_TIMEOUT", 0.3)
    target = CommandTarget("sleepy", [sys.executable, "-c", "import time; time.sleep(30)  # {app} {port}"])
    with pytest.raises(ServerStartFailed, match="did not listen within"), target.serve(HELLO):
        pass  # pragma: no cover  (never started)


def test_a_server_ignoring_sigint_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conformance._targets.STOP_TIMEOUT", 0.3)
    program = (
        "import signal, socket, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)  # {app}"
    )
    target = CommandTarget("stubborn", [sys.executable, "-c", program])
    with target.serve(HELLO) as endpoint, endpoint.connect() as sock:
        assert sock.getpeername()[0] == "127.0.0.1"


def _results() -> tuple[list[Result], list[Scenario]]:
    scenarios = [make("http.a.one", _passes), make("http.a.two", _passes), make("ws.b.one", _passes)]
    results = [
        Result("http.a.one", "uvicorn", "passed", "", 0.01),
        Result("http.a.two", "uvicorn", "failed", "status: expected 200, got 500\nsecond line", 0.02),
        Result("ws.b.one", "uvicorn", "waived", "no sockets [observed: x]", 0.0),
        Result("http.a.one", "daphne", "passed", "passed although waived, the waiver can go: r", 0.01),
        Result("http.a.two", "daphne", "failed", "", 0.0),
    ]
    return results, scenarios


def test_render_report() -> None:
    results, scenarios = _results()
    report = render_report(results, ["uvicorn", "daphne"], scenarios)
    lines = report.splitlines()
    assert lines[0] == "passed/failed/waived per scenario group and target"
    assert lines[2].split() == ["group", "uvicorn", "daphne"]
    assert lines[3].split() == ["http.a", "1/1/0", "1/1/0"]
    assert lines[4].split() == ["ws.b", "0/0/1", "0/0/0"]
    assert lines[5].split() == ["total", "1/1/1", "1/1/0"]
    assert "Failures (2):" in lines
    assert "  [uvicorn] http.a.two: status: expected 200, got 500" in lines
    assert "      second line" in lines
    assert "Waived (1):" in lines and "  [uvicorn] ws.b.one: no sockets [observed: x]" in lines
    assert "Waivers no longer needed (1):" in lines
    assert lines[-1] == "3 scenarios on 2 targets: 2 passed, 2 failed, 1 waived"


def test_write_json(tmp_path: Path) -> None:
    results, _ = _results()
    path = tmp_path / "report.json"
    write_json(path, ["uvicorn", "daphne"], results)
    document = json.loads(path.read_text())
    assert document["version"] == 1 and document["targets"] == ["uvicorn", "daphne"]
    assert document["results"][1] == {
        "scenario": "http.a.two",
        "target": "uvicorn",
        "outcome": "failed",
        "detail": "status: expected 200, got 500\nsecond line",
    }
    assert len(document["results"]) == 5


def test_write_junit(tmp_path: Path) -> None:
    results, _ = _results()
    path = tmp_path / "report.xml"
    write_junit(path, ["uvicorn", "daphne"], results)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped")) for s in suites] == [
        ("uvicorn", "3", "1", "1"),
        ("daphne", "2", "1", "0"),
    ]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["http.a.one", "http.a.two", "ws.b.one"]
    assert cases[0].get("classname") == "uvicorn.http.a"
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "status: expected 200, got 500"
    assert failure.text == "status: expected 200, got 500\nsecond line"
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.get("message") == "no sockets [observed: x]"
    empty_failure = suites[1].findall("testcase")[1].find("failure")
    assert empty_failure is not None and empty_failure.get("message") == ""


def _needs_a_socket(s: Session) -> None:
    s.raw(s.request_head("GET", "/"))


def _needs_a_root_path(s: Session) -> None:
    with s.serve(HELLO, root_path="/api") as endpoint, endpoint.http_client({}) as client:
        expect_equal("body", client.get("/api/").text, "hello")


def test_what_a_target_cannot_do_is_waived_with_the_reason() -> None:
    target = InProcessTarget()
    with target.serve(HELLO) as endpoint:
        result = run_scenario(make("t.raw.a", _needs_a_socket), target, endpoint)
    assert (result.outcome, result.detail) == (
        "waived",
        "testclient cannot run this scenario: the in-process TestClient has no socket",
    )
    custom = CommandTarget("custom", "server {app} {port}")
    result = run_scenario(make("t.root.a", _needs_a_root_path, dedicated=True), custom, None)
    assert result.outcome == "waived"
    assert result.detail == (
        "custom cannot run this scenario: custom has no way to be given a root_path (see CommandTarget.root_path_args)"
    )


def test_root_path_is_given_to_servers_that_take_one() -> None:
    for target in (InProcessTarget(), CommandTarget("uvicorn", UVICORN, ["--root-path", "{root_path}"])):
        result = run_scenario(make("t.root.a", _needs_a_root_path, dedicated=True), target, None)
        assert (result.outcome, result.detail) == ("passed", "")
