"""What end-to-end tests share: running commands on testbed hosts, reading run events."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.testbed import TestbedInfo


def ssh(
    testbed: TestbedInfo, host: str, command: str, *, user: str = "root", check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on a testbed host over SSH, from outside, as ``user``."""
    address = testbed.host(host).address
    return subprocess.run(
        [
            "ssh",
            "-i",
            str(testbed.private_key),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            f"{user}@{address}",
            command,
        ],
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_events(region_dir: Path, phase: str) -> list[dict[str, Any]]:
    """The ansible-runner events of the last recorded run of ``phase``."""
    state = json.loads((region_dir / "state.json").read_text())
    run_id = state["history"][-1]["run_id"]
    assert run_id.endswith(phase)
    events = []
    for path in (region_dir / "artifacts" / run_id / "job_events").glob("*.json"):
        events.append(json.loads(path.read_text()))
    return events


def changed_tasks(events: list[dict[str, Any]]) -> list[str]:
    """'host: role: task' for every task result that reported a change."""
    found = []
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("res", {}).get("changed"):
            found.append(f"{data.get('host')}: {data.get('role')}: {data.get('task')}")
    return found


def deploy(directory: Path, *phases: str) -> str:
    """``scs-deploy deploy DIR --phase P...`` in-process; asserts success and no traceback."""
    args = ["deploy", str(directory)]
    for phase in phases:
        args += ["--phase", phase]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    return result.output


def disk_list(info: TestbedInfo, count: int) -> str:
    """The region.yml line of tb1's first ``count`` disks."""
    return "disks: [" + ", ".join(d.guest_path for d in info.host("tb1").disks[:count]) + "]"
