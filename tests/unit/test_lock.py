"""One command at a time per region: the lock file, and the commands it stops or lets through."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy import deploy as deploy_module
from scs_deploy.cli import app
from scs_deploy.errors import RegionLocked
from scs_deploy.lock import LOCK_NAME, holder, region_lock
from scs_deploy.runner import Event, RunRequest, RunResult
from scs_deploy.testbed import lifecycle, registry
from tests.unit.conftest import HELD_BY, offline_region

runner = CliRunner()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def succeed(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
    return RunResult(status="successful", rc=0, artifacts=request.artifact_dir / request.ident)


def test_lock_names_its_holder_and_goes_away(tmp_path: Path) -> None:
    with region_lock(tmp_path, "scs-deploy deploy here"):
        found = holder(tmp_path)
        assert found is not None
        assert (found.pid, found.command) == (os.getpid(), "scs-deploy deploy here")
        # A second open file is a second holder, even in this process.
        with pytest.raises(RegionLocked) as raised, region_lock(tmp_path, "again"):
            pass
        assert f"PID {os.getpid()} (scs-deploy deploy here, since " in str(raised.value)
    assert not (tmp_path / LOCK_NAME).exists()
    assert holder(tmp_path) is None


def test_holder_pid_comes_from_the_kernel(
    tmp_path: Path, hold: Callable[..., subprocess.Popen[str]]
) -> None:
    # A holder that wrote nothing yet (or a file left by a killed one) still has its PID named.
    (tmp_path / LOCK_NAME).write_text('{"pid": 1, "command": "scs-deploy from before"}')
    process = hold(tmp_path, "")
    found = holder(tmp_path)
    assert found is not None
    assert (found.pid, found.command) == (process.pid, None)
    with (
        pytest.raises(RegionLocked, match=f"in use by PID {process.pid};"),
        region_lock(tmp_path, "scs-deploy rotate"),
    ):
        pass
    process.kill()
    process.wait()
    # The kernel let go with the process: the file left behind is no lock.
    assert holder(tmp_path) is None
    with region_lock(tmp_path, "scs-deploy rotate"):
        assert holder(tmp_path) is not None


@pytest.mark.parametrize(
    "command",
    [
        ["deploy", "{dir}", "--phase", "kaas"],
        ["deploy", "{dir}"],
        ["init", "{dir}", "--force"],
        ["init", "{dir}", "--merge"],
        ["rotate", "{dir}", "keystone-fernet"],
    ],
)
def test_commands_that_write_wait_for_nobody(
    tmp_path: Path,
    hold: Callable[..., subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.setattr(deploy_module, "run_playbook", succeed)
    directory = offline_region(tmp_path)
    process = hold(directory)
    before = snapshot(directory)
    result = runner.invoke(app, [part.format(dir=directory) for part in command])
    assert result.exit_code == 2, result.output
    assert f"in use by PID {process.pid} ({HELD_BY})" in result.output
    assert "Traceback" not in result.output
    assert snapshot(directory) == before


def test_reading_works_while_locked_and_deploy_once_the_holder_is_gone(
    tmp_path: Path, hold: Callable[..., subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy_module, "run_playbook", succeed)
    directory = offline_region(tmp_path)
    process = hold(directory)
    assert runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"]).exit_code == 2
    # What only reads needs no lock: it works while a deploy runs.
    for command in ("validate", "plan", "status"):
        result = runner.invoke(app, [command, str(directory)])
        assert result.exit_code == 0, (command, result.output)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert result.exit_code == 0, result.output
    assert "phase kaas ok" in result.output
    assert not (directory / LOCK_NAME).exists()


def test_testbed_down_waits_for_nobody(
    tmp_path: Path, hold: Callable[..., subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def untouched(*_args: object) -> None:
        raise AssertionError("testbed down went on while the region was locked")

    monkeypatch.setattr(registry, "STATE_DIR", tmp_path / "state")
    monkeypatch.setattr(lifecycle, "check_prerequisites", lambda: None)
    monkeypatch.setattr(lifecycle, "_clean", untouched)
    process = hold(tmp_path)
    result = runner.invoke(app, ["testbed", "down", "--dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"in use by PID {process.pid}" in result.output
