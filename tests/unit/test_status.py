"""``status`` tells a phase that runs from one whose deploy is gone."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.state import State, save_state
from tests.unit.conftest import offline_region
from tests.unit.test_state import record

runner = CliRunner()


def write_running(directory: Path, pid: int) -> None:
    state = State(region="local")
    state.record(record("running", pid=pid))
    save_state(directory / "state.json", state)


def ceph(directory: Path) -> dict[str, object]:
    result = runner.invoke(app, ["status", str(directory), "--json"])
    assert result.exit_code == 0, result.output
    phase = json.loads(result.output)["phases"]["ceph"]
    assert isinstance(phase, dict)
    return phase


def test_running_while_its_deploy_holds_the_lock(
    tmp_path: Path, hold: Callable[..., subprocess.Popen[str]]
) -> None:
    directory = offline_region(tmp_path)
    process = hold(directory)
    write_running(directory, process.pid)
    assert ceph(directory)["result"] == "running"
    assert (
        "ceph         running     - release 2026.1"
        in runner.invoke(app, ["status", str(directory)]).output
    )
    process.kill()
    process.wait()
    phase = ceph(directory)
    assert phase["result"] == "interrupted"
    assert phase["failure"] == f"the deploy (PID {process.pid}) ended before the phase did"
    # status only reads: state.json still says what the deploy wrote.
    saved = json.loads((directory / "state.json").read_text())
    assert saved["phases"]["ceph"]["result"] == "running"


def test_interrupted_when_the_pid_lives_but_holds_no_lock(tmp_path: Path) -> None:
    directory = offline_region(tmp_path)
    write_running(directory, os.getpid())
    assert ceph(directory)["result"] == "interrupted"
    assert "ceph         interrupted" in runner.invoke(app, ["status", str(directory)]).output
