"""``scs-deploy status``: what state.json says, next to the region's hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scs_deploy.lock import holder
from scs_deploy.phases import PHASE_NAMES, get_phase, hosts_matching
from scs_deploy.regiondir import RegionDir


def region_status(path: Path) -> dict[str, Any]:
    """Read-only, and without the region's lock: it works while a deploy runs."""
    from scs_deploy.state import load_state, stale_as_interrupted
    from scs_deploy.validate import load_region

    region_dir = RegionDir.existing(path)
    region = load_region(region_dir)
    state = load_state(region_dir.state_file, region.name)
    services = deployed_services(
        region.groups, [n for n, r in state.phases.items() if r.result == "ok"]
    )
    locker = holder(region_dir.path)
    phases: dict[str, Any] = {}
    for name in PHASE_NAMES:
        record = state.phases.get(name)
        # "running" only while the deploy that wrote it holds the lock; a deploy
        # that was killed left it behind, and then the phase was interrupted.
        if record is not None and (locker is None or record.pid != locker.pid):
            record = stale_as_interrupted(record)
        phases[name] = (
            None
            if record is None
            else {
                "result": record.result,
                "release": record.release,
                "started": record.started.isoformat(),
                "finished": record.finished.isoformat() if record.finished else None,
                "pid": record.pid,
                "run_id": record.run_id,
                "render_hash": record.render_hash,
                "changed": record.changed,
                "limit": record.limit,
                "failure": record.failure,
            }
        )
    return {
        "region": region.name,
        "release": region.release,
        "phases": phases,
        "hosts": [
            {
                "name": h.name,
                "address": str(h.address),
                "roles": list(h.roles),
                "services": services.get(h.name, []),
            }
            for h in region.hosts
        ],
    }


def deployed_services(groups: dict[str, list[str]], phases: list[str]) -> dict[str, list[str]]:
    """Host -> the roles the deployed phases put on it (gates left out)."""
    found: dict[str, list[str]] = {}
    for name in PHASE_NAMES:
        if name not in phases:
            continue
        for play in get_phase(name).plays:
            if play.action != "deploy":
                continue
            for host in hosts_matching(groups, play.hosts):
                for role in play.roles:
                    if not role.startswith("gate_") and role not in found.setdefault(host, []):
                        found[host].append(role)
    return found
