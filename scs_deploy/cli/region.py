"""Commands on a region directory: init, validate, plan, deploy, status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scs_deploy.cli.common import console, reported

RegionPath = Annotated[Path, typer.Argument(help="The region directory (holds region.yml).")]


def init(
    directory: RegionPath,
    profile: Annotated[
        str, typer.Option(help="aio: one host; ha: 3 control, 2 compute, 3 storage")
    ] = "aio",
    force: Annotated[
        bool, typer.Option(help="Replace an existing region.yml (secrets are kept).")
    ] = False,
    merge: Annotated[
        bool, typer.Option(help="Only add the secrets the region's release lacks.")
    ] = False,
) -> None:
    """Write a commented region.yml, vault-encrypted secrets.yml and .vault-pass."""
    from scs_deploy.init import init_region, merge_secrets

    with reported():
        if merge:
            added = merge_secrets(directory)
            console.print(
                f"added {len(added)} secrets" + (f": {', '.join(added)}" if added else "")
            )
            return
        added = init_region(directory, profile, force=force)
    console.print(f"wrote {directory / 'region.yml'} (profile {profile}); {len(added)} new secrets")
    console.print(f"next: edit it, then 'scs-deploy validate {directory}'")


def validate(directory: RegionPath) -> None:
    """Check region.yml and print every problem at once (exit 2 if any)."""
    from scs_deploy.regiondir import RegionDir
    from scs_deploy.validate import load_region

    with reported():
        region = load_region(RegionDir.existing(directory))
    console.print(
        f"region {region.name}: valid ({len(region.hosts)} hosts, release {region.release})"
    )


def plan(
    directory: RegionPath,
    phase: Annotated[
        list[str] | None, typer.Option(help="Show only this phase (repeatable).")
    ] = None,
    diff: Annotated[
        bool, typer.Option(help="Show changes against the last deployed render.")
    ] = False,
) -> None:
    """Render build/ and show, per phase, which hosts get which roles."""
    from scs_deploy.plan import plan_region

    with reported():
        summary = plan_region(directory, phases=tuple(phase or ()), diff=diff)
    for line in summary:
        console.print(line, markup=False)


def deploy(
    directory: RegionPath,
    phase: Annotated[
        list[str] | None, typer.Option(help="Run only this phase (repeatable).")
    ] = None,
    limit: Annotated[
        str | None, typer.Option(help="Ansible host pattern to limit the run to.")
    ] = None,
    from_phase: Annotated[str | None, typer.Option("--from", help="Start at this phase.")] = None,
    check: Annotated[bool, typer.Option(help="Dry run: report what would change.")] = False,
    full: Annotated[
        bool,
        typer.Option(help="Run every role, also those whose inputs and host state are unchanged."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show ansible's own output instead of progress."),
    ] = False,
) -> None:
    """Run the phases in order and record each one in state.json.

    One deploy at a time per region; Ctrl-C stops ansible and exits 130.
    """
    from scs_deploy.cli.progress import PhaseProgress
    from scs_deploy.deploy import DeployOptions
    from scs_deploy.deploy import deploy as run_deploy
    from scs_deploy.regiondir import RegionDir

    options = DeployOptions(
        phases=tuple(phase or ()), start=from_phase, limit=limit, check=check, full=full
    )
    with reported():
        run_deploy(RegionDir.existing(directory), options, PhaseProgress(console, verbose=verbose))


def status(
    directory: RegionPath,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Phases done, when, with which release; hosts and their roles."""
    from scs_deploy.status import region_status

    with reported():
        report = region_status(directory)
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    console.print(f"region {report['region']} (release {report['release']})")
    for name, entry in report["phases"].items():
        if entry is None:
            console.print(f"  {name:12} not deployed")
        else:
            console.print(
                f"  {name:12} {entry['result']:11} {entry['finished'] or '-'} "
                f"release {entry['release']} changed={entry['changed']}"
            )
    for host in report["hosts"]:
        console.print(f"  host {host['name']:16} {host['address']:15} {', '.join(host['roles'])}")
        if host["services"]:
            console.print(f"       services: {', '.join(host['services'])}")


def rotate(
    directory: RegionPath,
    keys: Annotated[str, typer.Argument(help="keystone-fernet or keystone-credential")],
) -> None:
    """Rotate a key repository in secrets.yml; `deploy --phase openstack` hands it out."""
    from scs_deploy.regiondir import RegionDir
    from scs_deploy.secrets import rotate as rotate_keys

    with reported():
        name = rotate_keys(RegionDir.existing(directory), keys)
    console.print(f"rotated {name}; next: 'scs-deploy deploy {directory} --phase openstack'")


def smoke(
    directory: RegionPath,
    image: Annotated[
        Path | None,
        typer.Option(help="Guest image (raw); default: the one `scs-deploy testbed image` builds."),
    ] = None,
    keep: Annotated[
        bool, typer.Option(help="Leave the server and what it needs in place.")
    ] = False,
) -> None:
    """Boot a guest as the member user, reach it over a floating IP and SSH, attach a volume."""
    from scs_deploy.cli.common import err_console
    from scs_deploy.smoke import describe, smoke_region

    def say(line: str) -> None:
        err_console.print(line, markup=False, highlight=False)

    with reported():
        result = smoke_region(directory, image, say, keep=keep)
    for line in describe(result):
        console.print(line, markup=False, highlight=False)


def verify(
    directory: RegionPath,
    only: Annotated[
        list[str] | None, typer.Option(help="Check only this test id (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check the region against the SCS-compatible IaaS certificate (v5.1): one line per test
    id, PASS, FAIL or SKIP with the reason; then the smoke workload (a member's server,
    reached over a floating IP). Exit 1 when any of them fails."""
    from scs_deploy.cli.common import err_console
    from scs_deploy.verify.core import exit_code
    from scs_deploy.verify.run import verify_region

    def say(line: str) -> None:
        err_console.print(line, markup=False, highlight=False)

    with reported():
        results = verify_region(directory, tuple(only or ()), say)
    if as_json:
        document = [
            {
                "module": r.module,
                "id": r.test_id,
                "status": r.outcome.status,
                "reason": r.outcome.reason,
            }
            for r in results
        ]
        console.print_json(json.dumps(document))
    else:
        for result in results:
            console.print(result.line, markup=False)
        counts = {s: sum(r.outcome.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
        console.print(", ".join(f"{n} {status}" for status, n in counts.items()))
    raise typer.Exit(exit_code(results))


def register(app: typer.Typer) -> None:
    for command in (init, validate, plan, deploy, status, rotate, smoke, verify):
        app.command()(command)
