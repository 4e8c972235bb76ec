"""Run phases in order and record each one's result in state.json."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from scs_deploy import converge
from scs_deploy.clouds import write_clouds
from scs_deploy.errors import DeployInterrupted, PhaseFailed, RegionLocked, UsageError
from scs_deploy.lock import region_lock
from scs_deploy.phases import PHASE_NAMES, Phase, hosts_matching, select_phases
from scs_deploy.regiondir import RegionDir
from scs_deploy.render import CACHE_DIR
from scs_deploy.runner import Event, RunRequest, RunResult, playbook_processes, run_playbook
from scs_deploy.state import HostCounts, PhaseRecord, Result, load_state, save_state

Runner = Callable[[RunRequest, Callable[[Event], None]], RunResult]


class DeployObserver(Protocol):
    """What the CLI shows while phases run."""

    def phase_started(self, phase: Phase, hosts: int) -> None: ...
    def phase_skipped(self, phase: Phase, message: str) -> None: ...
    def event(self, event: Event) -> None: ...
    def phase_finished(self, record: PhaseRecord) -> None: ...


@dataclass(frozen=True)
class DeployOptions:
    phases: tuple[str, ...] = ()
    start: str | None = None
    limit: str | None = None
    check: bool = False
    full: bool = False


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


def deploy_command(region_dir: RegionDir, options: DeployOptions) -> str:
    """The command line that runs this deploy again: named in the lock and the resume hint."""
    words = ["scs-deploy", "deploy", str(region_dir.path)]
    for name in options.phases:
        words += ["--phase", name]
    if options.start:
        words += ["--from", options.start]
    if options.limit:
        words += ["--limit", options.limit]
    if options.check:
        words.append("--check")
    if options.full:
        words.append("--full")
    return shlex.join(words)


def resume_options(options: DeployOptions, phase: str) -> DeployOptions:
    """The deploy that picks up at ``phase``: the same selection from there on."""
    if options.phases:
        rest = [p.name for p in select_phases(list(options.phases), phase)]
        return replace(options, phases=tuple(rest), start=None)
    return replace(options, start=phase)


def deploy(
    region_dir: RegionDir,
    options: DeployOptions,
    observer: DeployObserver,
    runner: Runner | None = None,
) -> list[PhaseRecord]:
    """Validate, render, then run the selected phases; stop at the first failure.

    Holds the region's lock throughout (RegionLocked when another command has it).
    """
    check_phase_names(options)
    with region_lock(region_dir.path, deploy_command(region_dir, options)):
        # A deploy killed with SIGKILL cannot take its ansible-playbook along
        # (ansible-runner starts it in a session of its own): until that ends,
        # the region is still busy.
        stray = playbook_processes(region_dir.build_dir)
        if stray:
            raise RegionLocked(
                f"ansible-playbook of an earlier deploy still runs on {region_dir.path} "
                f"(PID {', '.join(map(str, stray))}); wait for it to end or stop it "
                f"(kill -INT {stray[0]})"
            )
        return _deploy(region_dir, options, observer, runner or run_playbook)


def _deploy(
    region_dir: RegionDir, options: DeployOptions, observer: DeployObserver, runner: Runner
) -> list[PhaseRecord]:
    from scs_deploy.render import render, write_build
    from scs_deploy.secrets import ensure_secrets, read_secrets
    from scs_deploy.tls import ensure_tls_secrets
    from scs_deploy.validate import load_region

    region = load_region(region_dir)
    check_limit(options.limit, region.groups, [h.name for h in region.hosts])
    state = load_state(region_dir.state_file, region.name)
    # Reading the secrets first turns a wrong vault password into a clear error
    # before anything is written.
    if region_dir.secrets_file.exists():
        read_secrets(region_dir)
    # A "running" record left by a deploy that died: we hold the lock, so it is gone.
    if state.close_stale():
        save_state(region_dir.state_file, state)
    ensure_secrets(region_dir, region.release)
    ensure_tls_secrets(region_dir, region)
    result = render(region, region_dir)
    write_build(result, region_dir.build_dir)
    inputs = converge.RoleInputs(result, region_dir.secrets_file)
    converged = converge.load_records(region_dir.converge_file)
    host_groups = region.host_groups
    region_dir.known_hosts_file.parent.mkdir(mode=0o700, exist_ok=True)
    records: list[PhaseRecord] = []
    for phase in select_phases(list(options.phases), options.start):
        hosts = {h for play in phase.plays for h in hosts_matching(region.groups, play.hosts)}
        if not hosts:
            # Not run and not recorded: state.json keeps what ran. Recording "ok"
            # would claim a phase deployed that put nothing anywhere.
            groups = phase.groups
            observer.phase_skipped(
                phase,
                f"phase {phase.name}: nothing to deploy "
                f"(no host in group{'s' if len(groups) > 1 else ''} {', '.join(groups)})",
            )
            continue
        if phase.uses_clouds_file and not options.check:
            # From the current secrets: a rotated admin password reaches the deploy host's
            # API calls without another openstack phase run.
            write_clouds(region, region_dir)
        observer.phase_started(phase, len(hosts))
        started = _now()
        run_id = f"{started.strftime('%Y%m%dT%H%M%S.%fZ')}-{phase.name}"
        running = PhaseRecord(
            phase=phase.name,
            result="running",
            release=region.release,
            render_hash=result.hash,
            run_id=run_id,
            started=started,
            pid=os.getpid(),
            check=options.check,
            limit=options.limit,
        )
        # Recorded before ansible starts, so a deploy killed mid-phase leaves a trace.
        state.record(running)
        save_state(region_dir.state_file, state)
        artifacts = region_dir.artifacts_dir / run_id
        manifest = artifacts / "converge.json"
        settings_file = region_dir.build_dir / CACHE_DIR / "converge" / f"{phase.name}.json"
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(
            json.dumps(
                converge.phase_settings(
                    phase, host_groups, converged, inputs, manifest, full=options.full
                )
            ),
            encoding="utf-8",
        )
        try:
            outcome = runner(
                RunRequest(
                    playbook=region_dir.build_dir / phase.playbook,
                    inventory=region_dir.build_dir / "inventory" / "hosts.yml",
                    ansible_cfg=region_dir.build_dir / "ansible.cfg",
                    artifact_dir=region_dir.artifacts_dir,
                    ident=run_id,
                    extra_var_files=(region_dir.secrets_file, settings_file),
                    vault_password_file=region_dir.vault_pass_file,
                    limit=options.limit,
                    check=options.check,
                    converge_manifest=manifest,
                ),
                observer.event,
            )
        except KeyboardInterrupt:
            # Ctrl-C outside the run itself (run_playbook turns one during it into a result).
            outcome = RunResult(
                status="canceled", rc=130, artifacts=artifacts, interrupted_by=signal.SIGINT
            )
        failure = outcome.failures[0] if outcome.failures else None
        if outcome.interrupted_by is not None:
            verdict: Result = "interrupted"
            summary: str | None = (
                f"interrupted by {signal.Signals(outcome.interrupted_by).name}; "
                "ansible-playbook was stopped"
            )
        else:
            verdict = "ok" if outcome.succeeded else "failed"
            summary = (
                f"{failure.host}: {failure.role or '-'}: {failure.task}: {failure.message}"
                if failure
                else (None if outcome.succeeded else f"ansible-playbook ended {outcome.status}")
            )
        record = running.model_copy(
            update={
                "result": verdict,
                "finished": _now(),
                "hosts": {
                    host: HostCounts(
                        ok=s.ok,
                        changed=s.changed,
                        failed=s.failed,
                        unreachable=s.unreachable,
                        skipped=s.skipped,
                    )
                    for host, s in sorted(outcome.hosts.items())
                },
                "failure": summary,
            }
        )
        state.record(record)
        save_state(region_dir.state_file, state)
        if not options.check:
            converged = (
                converge.record_run(converged, phase, host_groups, manifest, inputs)
                if outcome.succeeded
                else converge.forget_phase(converged, phase)
            )
            converge.save_records(region_dir.converge_file, converged)
        if outcome.succeeded and phase.name == "openstack" and not options.check:
            write_clouds(region, region_dir)
        observer.phase_finished(record)
        records.append(record)
        if outcome.interrupted_by is not None:
            raise DeployInterrupted(
                phase=phase.name,
                resume=deploy_command(region_dir, resume_options(options, phase.name)),
                artifacts=outcome.artifacts,
                signal_number=outcome.interrupted_by,
            )
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
