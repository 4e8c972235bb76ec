"""deploy() with a stand-in for ansible: what is recorded when, and what the operator reads."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy import deploy as deploy_module
from scs_deploy.cli import app
from scs_deploy.lock import LOCK_NAME
from scs_deploy.runner import Event, RunRequest, RunResult
from tests.unit.conftest import offline_region

runner = CliRunner()
FakeRunner = Callable[[RunRequest, Callable[[Event], None]], RunResult]


def use(monkeypatch: pytest.MonkeyPatch, fake: FakeRunner) -> list[str]:
    """Run ``fake`` instead of ansible-playbook; returns the playbooks it was given."""
    seen: list[str] = []

    def run(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        seen.append(request.playbook.name)
        return fake(request, on_event)

    monkeypatch.setattr(deploy_module, "run_playbook", run)
    return seen


def state_of(directory: Path) -> dict[str, object]:
    data = json.loads((directory / "state.json").read_text())
    assert isinstance(data, dict)
    return data


def test_ctrl_c_during_a_phase_is_recorded_and_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = offline_region(tmp_path)

    def interrupted(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        # Recorded before ansible starts, with the PID of the deploy.
        record = json.loads((directory / "state.json").read_text())["phases"]["kaas"]
        assert (record["result"], record["pid"], record["finished"]) == (
            "running",
            os.getpid(),
            None,
        )
        raise KeyboardInterrupt

    use(monkeypatch, interrupted)
    result = runner.invoke(app, ["deploy", str(directory), "--from", "kaas"])
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    assert "phase kaas interrupted" in result.output
    assert f"resume with: scs-deploy deploy {directory} --from kaas" in result.output
    run_id = state_of(directory)["phases"]["kaas"]["run_id"]  # type: ignore[index]
    assert result.output.rstrip().endswith(f"full log: {directory}/artifacts/{run_id}/stdout")
    state = state_of(directory)
    record = state["phases"]["kaas"]  # type: ignore[index]
    assert record["result"] == "interrupted"
    assert record["finished"] is not None
    assert [r["result"] for r in state["history"]] == ["interrupted"]  # type: ignore[attr-defined]
    assert not (directory / LOCK_NAME).exists()


def test_resume_hint_keeps_the_phases_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = offline_region(tmp_path)

    def stopped(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        return RunResult(
            status="canceled",
            rc=254,
            artifacts=request.artifact_dir / request.ident,
            interrupted_by=signal.SIGTERM,
        )

    use(monkeypatch, stopped)
    result = runner.invoke(
        app,
        ["deploy", str(directory), "--phase", "kaas", "--phase", "post-deploy", "--limit", "all"],
    )
    assert result.exit_code == 143, result.output
    assert "phase post-deploy interrupted (SIGTERM)" in result.output
    assert (
        f"resume with: scs-deploy deploy {directory} --phase post-deploy --phase kaas --limit all"
    ) in result.output
    phases = state_of(directory)["phases"]
    assert phases == {"post-deploy": phases["post-deploy"]}  # type: ignore[index]
    assert phases["post-deploy"]["result"] == "interrupted"  # type: ignore[index]


def test_phase_without_hosts_is_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = offline_region(tmp_path)
    text = (directory / "region.yml").read_text()
    text = text.replace(", kaas]", "]").replace("kaas:\n  enabled: true\n", "")
    (directory / "region.yml").write_text(text)

    def succeed(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        return RunResult(status="successful", rc=0, artifacts=request.artifact_dir / request.ident)

    ran = use(monkeypatch, succeed)
    result = runner.invoke(app, ["deploy", str(directory), "--from", "post-deploy"])
    assert result.exit_code == 0, result.output
    assert "phase kaas: nothing to deploy (no host in group kaas)" in result.output
    assert ran == ["post-deploy.yml"]
    # Not recorded: state.json says what ran.
    assert list(state_of(directory)["phases"]) == ["post-deploy"]  # type: ignore[call-overload]


def test_failure_message_ends_with_the_full_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = offline_region(tmp_path)

    def fail(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        failure = Event(kind="failed", host="deployhost", role="gate_host", task="Check")
        failure = replace(failure, message="no")
        return RunResult(
            status="failed",
            rc=2,
            artifacts=request.artifact_dir / request.ident,
            failures=[failure],
        )

    use(monkeypatch, fail)
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert result.exit_code == 1, result.output
    run_id = state_of(directory)["phases"]["kaas"]["run_id"]  # type: ignore[index]
    lines = result.output.rstrip().splitlines()
    assert lines[-2].endswith("task 'Check': no")
    assert lines[-1] == f"full log: {directory}/artifacts/{run_id}/stdout"


def test_verbose_prints_what_ansible_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = offline_region(tmp_path)

    def chatty(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        on_event(Event(kind="task_start", role="gate_host", task="Check", stdout=""))
        on_event(Event(kind="ok", host="deployhost", stdout="\nTASK [Check] ***\nok: [deployhost]"))
        on_event(Event(kind="output", stdout="PLAY RECAP ***"))
        return RunResult(status="successful", rc=0, artifacts=request.artifact_dir / request.ident)

    use(monkeypatch, chatty)
    quiet = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert "kaas | gate_host: Check" in quiet.output
    assert "TASK [Check]" not in quiet.output
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "TASK [Check] ***\nok: [deployhost]\nPLAY RECAP ***\n" in result.output
    assert "kaas | gate_host: Check" not in result.output
    assert "phase kaas ok" in result.output


def test_converge_records_follow_the_phase_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A successful phase records what its roles left; the next run expects it; --full runs
    every role again; a failed phase is forgotten; --check writes none."""
    directory = offline_region(tmp_path)
    settings_seen: list[dict[str, object]] = []
    outcome = {"status": "successful", "rc": 0}

    def run(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
        settings = json.loads(request.extra_var_files[-1].read_text())["scs_converge"]
        settings_seen.append(settings)
        assert settings["manifest"] == str(request.converge_manifest)
        assert request.converge_manifest is not None
        request.converge_manifest.parent.mkdir(parents=True, exist_ok=True)
        request.converge_manifest.write_text(
            json.dumps(
                {
                    "hosts": {
                        host: {
                            "ran": ["os_external_network", "gate_host"],
                            "managed": {"os_external_network": ["path:/etc/x"]},
                            "observed": {"os_external_network": {"path:/etc/x": "absent"}},
                        }
                        for host in settings["hosts"]
                    }
                }
            )
        )
        return RunResult(
            status=str(outcome["status"]),
            rc=int(outcome["rc"]),
            artifacts=request.artifact_dir / request.ident,
        )

    use(monkeypatch, run)

    def deploy(*flags: str) -> dict[str, object]:
        result = runner.invoke(app, ["deploy", str(directory), "--phase", "post-deploy", *flags])
        assert "Traceback" not in result.output
        records = json.loads((directory / "converge.json").read_text())["phases"]
        assert isinstance(records, dict)
        return records

    records = deploy()
    (host,) = records["post-deploy"]  # type: ignore[call-overload]
    role = records["post-deploy"][host]["os_external_network"]  # type: ignore[index]
    assert role["observed"] == {"path:/etc/x": "absent"}
    assert settings_seen[-1]["hosts"] == {  # nothing recorded yet: every role pending
        host: {"pending": ["os_external_network"], "expected": {}}
    }
    deploy()
    assert settings_seen[-1]["hosts"] == {
        host: {"pending": [], "expected": {"os_external_network": {"path:/etc/x": "absent"}}}
    }
    deploy("--full")
    assert settings_seen[-1]["hosts"][host]["pending"] == ["os_external_network"]  # type: ignore[index]
    # Inputs are what is rendered: a comment in region.yml is none.
    region = directory / "region.yml"
    region.write_text(region.read_text() + "\n# a comment changes nothing rendered\n")
    deploy()
    assert settings_seen[-1]["hosts"][host]["pending"] == []  # type: ignore[index]
    outcome.update(status="failed", rc=2)
    assert "post-deploy" not in deploy()
    outcome.update(status="successful", rc=0)
    assert "post-deploy" not in deploy("--check")
    assert settings_seen[-1]["hosts"][host]["pending"] == ["os_external_network"]  # type: ignore[index]
