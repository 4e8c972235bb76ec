"""``scs-deploy plan``: render build/ and describe what each phase does where."""

from __future__ import annotations

import difflib
from pathlib import Path

from scs_deploy.deploy import DeployOptions, check_phase_names
from scs_deploy.phases import hosts_matching, select_phases
from scs_deploy.regiondir import RegionDir

_SHOW_HOSTS = 8


def _hosts_text(hosts: list[str]) -> str:
    if len(hosts) <= _SHOW_HOSTS:
        return ", ".join(hosts) or "(no hosts)"
    return f"{', '.join(hosts[:_SHOW_HOSTS])} and {len(hosts) - _SHOW_HOSTS} more"


def plan_region(path: Path, phases: tuple[str, ...] = (), diff: bool = False) -> list[str]:
    from scs_deploy.render import read_tree, render, write_build
    from scs_deploy.validate import load_region

    check_phase_names(DeployOptions(phases=phases))
    region_dir = RegionDir.existing(path)
    region = load_region(region_dir)
    result = render(region, region_dir)
    write_build(result, region_dir.build_dir)
    lines = [f"rendered {len(result.files)} files into {region_dir.build_dir} ({result.hash[:12]})"]
    for phase in select_phases(list(phases), None):
        lines.append(f"phase {phase.name}: {phase.description}")
        for play in phase.plays:
            hosts = sorted(hosts_matching(region.groups, play.hosts))
            lines.append(f"  {play.name}: {', '.join(play.roles)}")
            lines.append(f"    on {len(hosts)} hosts: {_hosts_text(hosts)}")
    if diff:
        before = read_tree(region_dir.deployed_render_dir)
        if not before:
            lines.append("no successful deploy recorded yet: nothing to compare with")
        else:
            changes: list[str] = []
            for name in sorted(set(before) | set(result.files)):
                old, new = before.get(name, ""), result.files.get(name, "")
                if old != new:
                    changes.extend(
                        difflib.unified_diff(
                            old.splitlines(),
                            new.splitlines(),
                            f"deployed/{name}",
                            f"build/{name}",
                            lineterm="",
                        )
                    )
            lines.extend(changes or ["no changes against the last deployed render"])
    return lines
