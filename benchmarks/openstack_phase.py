"""Figures of the openstack phase on a deployed testbed region.

    python benchmarks/openstack_phase.py testbed [--rerun]

Prints: the phase's first (cold) run and its latest run from state.json, with
task counts; with --rerun, a converged re-run now; the slowest tasks of the cold
run, among them the wheel build and the venv installs from the cache; the memory
the testbed host uses (its cgroup) and, per service, the resident memory of its
unit's processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any


def seconds(record: dict[str, Any]) -> float:
    started = datetime.fromisoformat(record["started"])
    finished = datetime.fromisoformat(record["finished"])
    return (finished - started).total_seconds()


def counts(record: dict[str, Any]) -> str:
    hosts = record.get("hosts", {})
    ok = sum(h["ok"] for h in hosts.values())
    changed = sum(h["changed"] for h in hosts.values())
    return f"ok={ok} changed={changed}"


def task_durations(region: Path, run_id: str) -> list[tuple[float, str]]:
    durations: list[tuple[float, str]] = []
    for path in (region / "artifacts" / run_id / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        data = event.get("event_data", {})
        if event.get("event") in {"runner_on_ok", "runner_on_skipped"} and "duration" in data:
            durations.append((float(data["duration"]), f"{data.get('role')}: {data.get('task')}"))
    return sorted(durations, reverse=True)


def ssh(region: Path, address: str, command: str) -> str:
    return subprocess.run(
        [
            "ssh",
            "-i",
            str(region / "ssh" / "id_ed25519"),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            f"root@{address}",
            command,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def memory_by_unit(region: Path, address: str) -> dict[str, int]:
    """Resident KiB per systemd unit (processes summed)."""
    usage: dict[str, int] = defaultdict(int)
    for line in ssh(region, address, "ps -eo rss=,unit=").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] != "-":
            usage[parts[1]] += int(parts[0])
    return dict(usage)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("region", type=Path)
    parser.add_argument("--rerun", action="store_true", help="time a converged re-run now")
    args = parser.parse_args()
    region: Path = args.region.resolve()
    state = json.loads((region / "state.json").read_text())
    runs = [r for r in state["history"] if r["phase"] == "openstack" and r["result"] == "ok"]
    if not runs:
        print("no successful openstack run recorded", file=sys.stderr)
        return 1
    print(f"openstack phase, first run:  {seconds(runs[0]):7.1f} s  {counts(runs[0])}")
    print(f"openstack phase, latest run: {seconds(runs[-1]):7.1f} s  {counts(runs[-1])}")
    if args.rerun:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "scs_deploy", "deploy", str(region), "--phase", "openstack"],
            check=True,
            capture_output=True,
        )
        rerun = json.loads((region / "state.json").read_text())["phases"]["openstack"]
        print(f"converged re-run now:        {time.monotonic() - started:7.1f} s  {counts(rerun)}")
    print("slowest tasks of the first run:")
    for duration, task in task_durations(region, runs[0]["run_id"])[:12]:
        print(f"  {duration:7.1f} s  {task}")
    testbed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "scs_deploy", "testbed", "status", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for bed in testbed.get("testbeds", [testbed]):
        for host in bed.get("hosts", []):
            current = host.get("memory_current")
            if current:
                print(f"host {host['name']}: cgroup memory {int(current) / 2**30:.2f} GiB")
            units = memory_by_unit(region, host["address"])
            total = sum(units.values())
            print(f"  resident memory of all units: {total / 2**20:.2f} GiB")
            for unit, kib in sorted(units.items(), key=lambda item: -item[1])[:20]:
                print(f"  {kib / 1024:8.1f} MiB  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
