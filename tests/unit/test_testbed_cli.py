"""``scs-deploy testbed`` through typer: exit codes and messages, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy import errors
from scs_deploy.cli.testbed import app
from scs_deploy.testbed import lifecycle, registry

runner = CliRunner()


def test_missing_prerequisites_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse() -> None:
        raise errors.TestbedPrerequisiteError("the testbed needs root (run it with sudo)")

    monkeypatch.setattr(lifecycle, "check_prerequisites", refuse)
    result = runner.invoke(app, ["up", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "needs root" in result.output
    assert "Traceback" not in result.output


def test_bad_size_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["up", "--disk-size", "lots", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "'lots' is not a size" in result.output


def test_status_without_testbed_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(registry, "STATE_DIR", tmp_path / "state")
    result = runner.invoke(app, ["status", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no testbed in" in result.output
