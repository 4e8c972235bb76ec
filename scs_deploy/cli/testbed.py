"""``scs-deploy testbed up|down|status|stop|start|image``: local test hosts and their guest image.

Parse, call one function, print.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scs_deploy.cli.common import console, err_console, reported

if TYPE_CHECKING:
    from scs_deploy.testbed import TestbedInfo

app = typer.Typer(
    help="Local test hosts: Debian 13 systemd-nspawn containers on a bridge with NAT (needs root).",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path, typer.Option("--dir", help="Directory of the testbed and its region.yml.")
]


@app.command()
def up(
    hosts: Annotated[int, typer.Option(min=1, max=50, help="Number of hosts.")] = 1,
    disks: Annotated[int, typer.Option(min=0, max=24, help="Loop-device disks per host.")] = 2,
    disk_size: Annotated[str, typer.Option(help="Size of each sparse disk file.")] = "20G",
    memory_max: Annotated[
        str,
        typer.Option(help="Memory cap per host (cgroup); an all-in-one host runs a guest too."),
    ] = "10G",
    directory: DirOption = Path("testbed"),
) -> None:
    """Start the hosts and write DIR/region.yml for them; cleans an earlier run's leftovers."""
    from scs_deploy import testbed

    with reported():
        info = testbed.up(
            directory,
            hosts=hosts,
            disks=disks,
            disk_size=disk_size,
            memory_max=memory_max,
            console=err_console,
        )
    _print_table(info)
    console.print(f"next: scs-deploy deploy {info.directory}", markup=False)


@app.command()
def down(directory: DirOption = Path("testbed")) -> None:
    """Remove every container, mount, loop device, bridge and rule the testbed made."""
    from scs_deploy import testbed

    with reported():
        testbed.down(directory, console=err_console)


@app.command()
def status(
    directory: DirOption = Path("testbed"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hosts, their addresses, disks and state."""
    from scs_deploy import testbed

    with reported():
        info = testbed.status(directory)
    if as_json:
        console.print_json(json.dumps(info.to_json()))
    else:
        _print_table(info)


HostArgument = Annotated[str, typer.Argument(metavar="HOST", help="Host name, e.g. tb2.")]


@app.command()
def stop(host: HostArgument, directory: DirOption = Path("testbed")) -> None:
    """Cut a host's power: SIGKILL to all its processes, no shutdown; its root and disks stay."""
    from scs_deploy import testbed

    with reported():
        testbed.stop_host(directory, host, console=err_console)
    console.print(f"{host}: stopped", markup=False)


@app.command()
def start(host: HostArgument, directory: DirOption = Path("testbed")) -> None:
    """Boot a stopped host again on the root and disks it had; returns when SSH answers."""
    from scs_deploy import testbed

    with reported():
        info = testbed.start_host(directory, host, console=err_console)
    console.print(f"{info.name} ({info.address}): {info.state}", markup=False)


@app.command()
def image(
    out: Annotated[
        Path | None, typer.Option("--out", help="Also copy the image to this file.")
    ] = None,
) -> None:
    """Build (once, then cached) the small Debian 13 test guest image; print its path last."""
    from scs_deploy.testbed import image as guest_image

    with reported():
        path = guest_image.ensure(functools.partial(err_console.print, markup=False))
        if out is not None:
            path = guest_image.export(path, out)
    console.print(str(path), markup=False)


def _print_table(info: TestbedInfo) -> None:
    from rich.table import Table

    table = Table(title=f"testbed {info.directory}" + ("" if info.complete else " (incomplete)"))
    for column in ("host", "address", "roles", "disks", "state", "memory"):
        table.add_column(column)
    for host in info.hosts:
        memory = "-"
        if host.memory_current is not None and host.memory_max is not None:
            memory = f"{host.memory_current / 2**20:.0f} / {host.memory_max / 2**20:.0f} MiB"
        table.add_row(
            host.name,
            host.address,
            ",".join(host.roles),
            " ".join(f"{d.guest_path}={d.loop or '-'}" for d in host.disks) or "-",
            host.state,
            memory,
        )
    console.print(table)
