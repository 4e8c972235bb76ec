"""A real deploy stopped mid-phase: Ctrl-C, and SIGKILL.

The kaas phase of a local region (see test_deploy_local.py) is made slow
without touching scs-deploy: the deploy's PATH starts with a directory whose
``ip`` waits, and Ansible's fact gathering runs ``ip``. The deploy runs as
``python -m scs_deploy`` in a session of its own, as from a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.state import load_state
from tests.unit.test_deploy_local import local_region, machine_address

runner = CliRunner()
REPOSITORY = Path(__file__).resolve().parents[2]


def processes_under(path: Path) -> dict[int, str]:
    """Every process whose command line names something under ``path``."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in command:
            found[int(entry.name)] = command
    return found


def kill_under(path: Path) -> None:
    """SIGKILL each process under ``path`` with its process group (a task runs in its worker's)."""
    for pid in processes_under(path):
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    kill_under(tmp_path)  # whatever a failed test left running


def wait_for(condition: str, check: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while not check():
        if process.poll() is not None:
            pytest.fail(f"deploy ended before {condition}: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {condition} after 90 s")
        time.sleep(0.1)


def slow_deploy(workdir: Path) -> tuple[Path, subprocess.Popen[str], Path]:
    """A deploy of kaas whose fact gathering hangs; returns once ansible runs it."""
    directory = local_region(workdir, machine_address())
    slow = workdir / "slow-bin"
    slow.mkdir()
    marker = workdir / "ip-called"
    (slow / "ip").write_text(
        f'#!/bin/sh\ntouch "{marker}"\n'
        f'exec {sys.executable} -c "import time; time.sleep(300)" "{workdir}"\n'
    )
    (slow / "ip").chmod(0o755)
    process = subprocess.Popen(
        [sys.executable, "-m", "scs_deploy", "deploy", str(directory), "--phase", "kaas"],
        cwd=REPOSITORY,
        env={**os.environ, "PATH": f"{slow}{os.pathsep}{os.environ['PATH']}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def running() -> bool:
        try:
            state = json.loads((directory / "state.json").read_text())
        except (OSError, ValueError):
            return False
        return bool(state["phases"]["kaas"]["result"] == "running")

    wait_for("a running kaas record", running, process)
    wait_for("a call of ip by ansible", marker.exists, process)
    return directory, process, marker


def test_ctrl_c_stops_ansible_records_interrupted_and_exits_130(workdir: Path) -> None:
    directory, process, _ = slow_deploy(workdir)
    assert any("ansible-playbook" in c for c in processes_under(directory).values())
    # What Ctrl-C in the terminal does: SIGINT to the foreground process group.
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert "phase kaas interrupted (SIGINT)" in output
    assert f"resume with: scs-deploy deploy {directory} --phase kaas" in output
    record = load_state(directory / "state.json", "local").phases["kaas"]
    assert record.result == "interrupted"
    assert output.rstrip().endswith(f"full log: {directory}/artifacts/{record.run_id}/stdout")
    # Nothing of the run is left: not ansible-playbook, its workers, nor the task's process.
    assert processes_under(workdir) == {}
    assert not (directory / ".scs-deploy.lock").exists()


def test_sigkill_leaves_an_interrupted_phase_the_next_deploy_runs_again(workdir: Path) -> None:
    directory, process, _ = slow_deploy(workdir)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    state = load_state(directory / "state.json", "local")
    assert state.phases["kaas"].result == "running"
    status = runner.invoke(app, ["status", str(directory), "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["phases"]["kaas"]["result"] == "interrupted"

    # ansible-runner started ansible-playbook in a session of its own: the
    # SIGKILL did not reach it, and a second deploy must not run beside it.
    left = {
        pid for pid, c in processes_under(directory / "build").items() if "ansible-playbook" in c
    }
    assert left
    refused = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert refused.exit_code == 2, refused.output
    assert "ansible-playbook of an earlier deploy still runs" in refused.output
    assert f"PID {min(left)}" in refused.output

    kill_under(workdir)
    deadline = time.monotonic() + 30
    while processes_under(workdir) and time.monotonic() < deadline:
        time.sleep(0.1)
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert result.exit_code == 0, result.output
    state = load_state(directory / "state.json", "local")
    assert state.phases["kaas"].result == "ok"
    assert [r.result for r in state.history] == ["interrupted", "ok"]
