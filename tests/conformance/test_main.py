from __future__ import annotations

import runpy
import sys

import pytest

from conformance.__main__ import main


def test_main_says_there_are_no_scenarios_yet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "no scenarios yet" in capsys.readouterr().out


def test_module_runs_as_a_program(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # As `python -m conformance` does: a fresh execution of the module as __main__.
    monkeypatch.delitem(sys.modules, "conformance.__main__", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("conformance", run_name="__main__")
    assert exit_info.value.code == 0
    assert "no scenarios yet" in capsys.readouterr().out
