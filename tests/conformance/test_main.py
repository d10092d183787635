from __future__ import annotations

import json
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import conformance.__main__ as cli
from conformance import Scenario, Session, all_scenarios, expect
from conformance.__main__ import main

UVICORN = f"{sys.executable} -m uvicorn --host {{host}} --port {{port}} {{app}}"


def test_list_shows_ids_and_first_docstring_lines(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = all_scenarios()[0]
    assert main(["--list", "-k", scenario.id]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"{scenario.id}  {scenario.description.splitlines()[0]}"


def test_list_everything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{s.id}  {s.description.splitlines()[0]}" if s.description else s.id for s in all_scenarios()
    ]


def test_no_match_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-k", "no.such.scenario"]) == 2
    assert capsys.readouterr().err == "No scenario matches.\n"


def test_unknown_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--target", "nginx"])
    assert info.value.code == 2
    assert "unknown target 'nginx' (known: testclient, uvicorn, hypercorn, daphne)" in capsys.readouterr().err


def test_server_command_needs_placeholders(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--server-command", "myserver --port 8000 app:app"])
    assert info.value.code == 2
    assert "needs the {app} and {port} placeholders" in capsys.readouterr().err


def test_runs_a_target_and_writes_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    argv = ["--target", "testclient", "--target", "testclient", "-k", "http.scope.type", "-k", "http.scope.asgi"]
    selected = {s.id for s in all_scenarios(["http.scope.type", "http.scope.asgi"])}
    assert len(selected) >= 2
    assert main([*argv, "--json", str(json_path), "--junit", str(junit_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("testclient " + "." * len(selected) + " ")
    assert f"{len(selected)} scenarios on 1 targets: {len(selected)} passed, 0 failed, 0 waived" in out
    document = json.loads(json_path.read_text())
    assert document["targets"] == ["testclient"]
    assert {(r["scenario"], r["outcome"]) for r in document["results"]} == {(id, "passed") for id in selected}
    assert ET.parse(junit_path).getroot().find("testsuite") is not None


def test_server_command_runs_the_suite_on_that_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server author's own server, started from --server-command (here: uvicorn, as they would)."""
    path = tmp_path / "r.json"
    argv = ["--server-command", UVICORN, "--server-name", "my-server", "-k", "http.scope", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("my-server ")
    document = json.loads(path.read_text())
    assert document["targets"] == ["my-server"]
    expected = {s.id for s in all_scenarios(["http.scope"])}
    assert {r["scenario"] for r in document["results"] if r["outcome"] != "failed"} == expected


def test_a_failure_makes_the_exit_status_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def check(s: Session) -> None:
        expect(False, "deliberately failing")

    scenario = Scenario("x.y.fails", None, check, "Fails.", {})
    monkeypatch.setattr(cli, "all_scenarios", lambda patterns: [scenario])
    assert main(["--target", "testclient"]) == 1
    out = capsys.readouterr().out
    assert "  [testclient] x.y.fails: deliberately failing" in out


def test_module_runs_as_a_program(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delitem(sys.modules, "conformance.__main__", raising=False)
    monkeypatch.setattr(sys, "argv", ["conformance", "--list", "-k", "http.scope.type"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("conformance", run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("http.scope.type")


def test_server_root_path_args(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    selection = ["-k", "framework.request.url_root_path", "-k", "framework.url_for.websocket_root_path"]
    base = ["--server-command", UVICORN, "--server-name", "mine", *selection, "--json", str(path)]
    assert main([*base, "--server-root-path-args", "--root-path {root_path}"]) == 0
    with_args = {r["scenario"]: r["detail"] for r in json.loads(path.read_text())["results"]}
    assert main(base) == 0
    without = {r["scenario"]: r["detail"] for r in json.loads(path.read_text())["results"]}
    capsys.readouterr()
    assert with_args.keys() == without.keys() and len(with_args) == 2
    # Given the option, the runner can configure the root_path; without it, it says it cannot.
    assert not any("has no way to be given a root_path" in detail for detail in with_args.values())
    assert all("has no way to be given a root_path" in detail for detail in without.values())
