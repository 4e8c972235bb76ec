"""A converged re-run of the whole deploy, in task-equivalents.

    python benchmarks/converge.py testbed [--full] [--floor-tasks 40]

Runs `scs-deploy deploy DIR` (every phase, no flags: the converge fast path) on a
deployed region and divides its wall time by the wall time per task of a playbook of
trivial `command: true` tasks, run in the same minute against the same hosts with the
region's ansible.cfg and ansible-core's stock linear strategy. The time per task is the
slope between a playbook of N tasks and one of none, so ansible-playbook's start-up
counts against the deploy, not for it. Prints the figure, each phase's wall time, task
results (ok + changed + skipped per host) and changed count, and the roles that ran.
With --full, also the same deploy with `--full` (every role runs), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from scs_deploy.phases import get_phase

BIN = Path(sys.executable).parent


def floor_playbook(tasks: int) -> str:
    lines = ["- hosts: all", "  gather_facts: false", "  tasks:"]
    for number in range(tasks):
        lines += [
            f"    - name: Trivial task {number}",
            "      ansible.builtin.command: 'true'",
            "      changed_when: false",
        ]
    if not tasks:
        lines[-1] = "  tasks: []"
    return "\n".join(lines) + "\n"


def run_floor(region: Path, tasks: int) -> float:
    build = region / "build"
    environment = dict(os.environ, ANSIBLE_CONFIG=str(build / "ansible.cfg"))
    environment.pop("SCS_CONVERGE_MANIFEST", None)
    with tempfile.TemporaryDirectory() as scratch:
        playbook = Path(scratch) / "floor.yml"
        playbook.write_text(floor_playbook(tasks))
        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "-i",
                str(build / "inventory" / "hosts.yml"),
                str(playbook),
            ],
            check=True,
            capture_output=True,
            env=environment,
        )
        return time.monotonic() - started


def seconds_per_task(region: Path, tasks: int) -> tuple[float, float]:
    """(slope, mean): per task between N and 0 tasks; and N tasks' wall time over N."""
    empty = min(run_floor(region, 0) for _ in range(2))
    full = min(run_floor(region, tasks) for _ in range(2))
    return (full - empty) / tasks, full / tasks


def deploy(region: Path, *flags: str) -> tuple[float, list[dict[str, Any]]]:
    before = {r["run_id"] for r in json.loads((region / "state.json").read_text())["history"]}
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "scs-deploy"), "deploy", str(region), *flags],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.monotonic() - started
    history = json.loads((region / "state.json").read_text())["history"]
    return wall, [r for r in history if r["run_id"] not in before]


def roles_that_ran(region: Path, run_id: str) -> list[str]:
    manifest = region / "artifacts" / run_id / "converge.json"
    if not manifest.exists():
        return []
    hosts = json.loads(manifest.read_text()).get("hosts", {})
    converging = set(get_phase(run_id.split("-", 1)[1]).converging_roles)
    return sorted({role for entry in hosts.values() for role in entry.get("ran", [])} & converging)


def report(
    region: Path, label: str, wall: float, runs: list[dict[str, Any]], per_task: float
) -> None:
    print(f"{label}: {wall:6.1f} s = {wall / per_task:6.0f} task-equivalents")
    for run in runs:
        took = (
            datetime.fromisoformat(run["finished"]) - datetime.fromisoformat(run["started"])
        ).total_seconds()
        hosts = run.get("hosts", {}).values()
        results = sum(h["ok"] + h["changed"] + h["skipped"] for h in hosts)
        changed = sum(h["changed"] for h in run.get("hosts", {}).values())
        ran = roles_that_ran(region, run["run_id"])
        print(
            f"  {run['phase']:<12} {took:6.1f} s  {results:4d} task results  changed={changed}"
            f"  roles run (gates aside): {', '.join(ran) if ran else 'none'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("region", type=Path)
    parser.add_argument("--full", action="store_true", help="also time `deploy --full`")
    parser.add_argument("--floor-tasks", type=int, default=40)
    args = parser.parse_args()
    region: Path = args.region.resolve()
    # A first deploy makes sure the records match the region as it is now.
    deploy(region)
    slope, mean = seconds_per_task(region, args.floor_tasks)
    print(
        f"floor: {slope * 1000:.0f} ms per trivial task (slope of {args.floor_tasks} tasks;"
        f" {mean * 1000:.0f} ms with start-up)"
    )
    wall, runs = deploy(region)
    report(region, "converged deploy", wall, runs, slope)
    if args.full:
        wall, runs = deploy(region, "--full")
        report(region, "converged deploy --full", wall, runs, slope)
    # The floor again: the figure is only fair when the machine did not change pace.
    again, _ = seconds_per_task(region, args.floor_tasks)
    print(f"floor again: {again * 1000:.0f} ms per trivial task")
    return 0


if __name__ == "__main__":
    sys.exit(main())
