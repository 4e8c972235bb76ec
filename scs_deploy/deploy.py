"""Run phases in order and record each one's result in state.json."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from scs_deploy.clouds import write_clouds
from scs_deploy.errors import PhaseFailed, UsageError
from scs_deploy.phases import PHASE_NAMES, Phase, hosts_matching, select_phases
from scs_deploy.regiondir import RegionDir
from scs_deploy.runner import Event, RunRequest, RunResult, run_playbook
from scs_deploy.state import HostCounts, PhaseRecord, load_state, save_state


class DeployObserver(Protocol):
    """What the CLI shows while phases run."""

    def phase_started(self, phase: Phase, hosts: int) -> None: ...
    def event(self, event: Event) -> None: ...
    def phase_finished(self, record: PhaseRecord) -> None: ...


@dataclass(frozen=True)
class DeployOptions:
    phases: tuple[str, ...] = ()
    start: str | None = None
    limit: str | None = None
    check: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def check_phase_names(options: DeployOptions) -> None:
    for name in (*options.phases, *([options.start] if options.start else [])):
        if name not in PHASE_NAMES:
            raise UsageError(f"unknown phase '{name}'; phases are: {', '.join(PHASE_NAMES)}")


def check_limit(limit: str | None, groups: dict[str, list[str]], hosts: list[str]) -> None:
    """A --limit that matches nothing would make every phase succeed doing nothing."""
    if limit is None:
        return
    known = set(groups) | set(hosts) | {"all"}
    for term in re.split(r"[,:]", limit):
        name = term.lstrip("!&")
        if name and not any(c in name for c in "*?[~") and name not in known:
            raise UsageError(
                f"--limit: '{name}' is neither a host nor a group of this region "
                f"(groups: {', '.join(sorted(groups))})"
            )


def deploy(
    region_dir: RegionDir,
    options: DeployOptions,
    observer: DeployObserver,
    runner: Callable[[RunRequest, Callable[[Event], None]], RunResult] = run_playbook,
) -> list[PhaseRecord]:
    """Validate, render, then run the selected phases; stop at the first failure."""
    from scs_deploy.render import render, write_build
    from scs_deploy.secrets import ensure_secrets, read_secrets
    from scs_deploy.tls import ensure_tls_secrets
    from scs_deploy.validate import load_region

    check_phase_names(options)
    region = load_region(region_dir)
    check_limit(options.limit, region.groups, [h.name for h in region.hosts])
    state = load_state(region_dir.state_file, region.name)
    # Reading the secrets first turns a wrong vault password into a clear error
    # before anything is written.
    if region_dir.secrets_file.exists():
        read_secrets(region_dir)
    ensure_secrets(region_dir, region.release)
    ensure_tls_secrets(region_dir, region)
    result = render(region, region_dir)
    write_build(result, region_dir.build_dir)
    region_dir.known_hosts_file.parent.mkdir(mode=0o700, exist_ok=True)
    records: list[PhaseRecord] = []
    for phase in select_phases(list(options.phases), options.start):
        hosts = {h for play in phase.plays for h in hosts_matching(region.groups, play.hosts)}
        observer.phase_started(phase, len(hosts))
        started = _now()
        run_id = f"{started.strftime('%Y%m%dT%H%M%S.%fZ')}-{phase.name}"
        outcome = runner(
            RunRequest(
                playbook=region_dir.build_dir / phase.playbook,
                inventory=region_dir.build_dir / "inventory" / "hosts.yml",
                ansible_cfg=region_dir.build_dir / "ansible.cfg",
                artifact_dir=region_dir.artifacts_dir,
                ident=run_id,
                extra_var_files=(region_dir.secrets_file,),
                vault_password_file=region_dir.vault_pass_file,
                limit=options.limit,
                check=options.check,
            ),
            observer.event,
        )
        failure = outcome.failures[0] if outcome.failures else None
        record = PhaseRecord(
            phase=phase.name,
            result="ok" if outcome.succeeded else "failed",
            release=region.release,
            render_hash=result.hash,
            run_id=run_id,
            started=started,
            finished=_now(),
            check=options.check,
            limit=options.limit,
            hosts={
                host: HostCounts(
                    ok=s.ok,
                    changed=s.changed,
                    failed=s.failed,
                    unreachable=s.unreachable,
                    skipped=s.skipped,
                )
                for host, s in sorted(outcome.hosts.items())
            },
            failure=(
                f"{failure.host}: {failure.role or '-'}: {failure.task}: {failure.message}"
                if failure
                else (None if outcome.succeeded else f"ansible-playbook ended {outcome.status}")
            ),
        )
        state.record(record)
        save_state(region_dir.state_file, state)
        if outcome.succeeded and phase.name == "openstack" and not options.check:
            write_clouds(region, region_dir)
        observer.phase_finished(record)
        records.append(record)
        if not outcome.succeeded:
            raise PhaseFailed(
                phase=phase.name,
                host=failure.host if failure else "-",
                role=failure.role if failure else "",
                task=failure.task if failure else "-",
                message=failure.message if failure else f"ansible-playbook ended {outcome.status}",
                artifacts=outcome.artifacts,
                failures=[(f.host, f.role, f.task, f.message) for f in outcome.failures],
            )
    if not options.check and records:
        snapshot = region_dir.deployed_render_dir
        shutil.rmtree(snapshot, ignore_errors=True)
        shutil.copytree(region_dir.build_dir, snapshot, ignore=shutil.ignore_patterns(".cache"))
    return records
