"""``up``, ``down`` and ``status``: the order in which the other modules are used."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import time
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from scs_deploy.errors import TestbedError
from scs_deploy.lock import region_lock
from scs_deploy.testbed import cgroup, disks, hosts, network, plan, rootfs
from scs_deploy.testbed._run import Say, output
from scs_deploy.testbed.info import DiskInfo, HostInfo, TestbedInfo
from scs_deploy.testbed.prereq import check_prerequisites
from scs_deploy.testbed.region_file import TEST_IMAGE_FILE, render
from scs_deploy.testbed.registry import (
    DiskRecord,
    HostRecord,
    Registry,
    RegistryFile,
    TestbedRecord,
)

if TYPE_CHECKING:
    from rich.console import Console

SSH_TIMEOUT = 120.0


def _sink(console: Console | None) -> Say:
    if console is None:
        return lambda _line: None
    return lambda line: console.print(line, markup=False, highlight=False)


def _copy_test_image(directory: Path, say: Say) -> str:
    """The test guest beside region.yml, which registers it in Glance; its build date."""
    from datetime import UTC, datetime

    from scs_deploy.testbed import image

    built = image.ensure(say)
    target = directory / TEST_IMAGE_FILE
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(built, target)
    return datetime.fromtimestamp(built.stat().st_mtime, UTC).strftime("%Y-%m-%d")


def up(
    directory: Path,
    hosts: int = 1,
    disks: int = 2,
    disk_size: str = "20G",
    memory_max: str = "10G",
    console: Console | None = None,
    *,
    registry_file: RegistryFile | None = None,
) -> TestbedInfo:
    """Create the testbed in ``directory`` and return when every host answers SSH."""
    say = _sink(console)
    layout = plan.plan(hosts, disks)
    disk_bytes = plan.parse_size(disk_size)
    memory_bytes = plan.parse_size(memory_max)
    check_prerequisites()
    directory = directory.resolve()
    registry_file = registry_file or RegistryFile()
    started = time.monotonic()
    with registry_file.locked():
        registry = registry_file.load()
        _refuse_running(registry)
        _clean(registry, [*registry.testbeds, str(directory)], say)
        registry_file.save(registry)

        lower = rootfs.ensure(say)
        directory.mkdir(parents=True, exist_ok=True)
        public_key = _ensure_ssh_key(directory)
        ca_files = _copy_ca_certificates(directory)
        record = TestbedRecord(
            directory=str(directory),
            hosts=[
                HostRecord(
                    name=h.name,
                    address=str(h.address),
                    roles=list(h.roles),
                    root=str(directory / "hosts" / h.name / "root"),
                    disks=[
                        DiskRecord(str(directory / "disks" / d.image_name), d.guest_path)
                        for d in h.disks
                    ],
                )
                for h in layout
            ],
        )
        registry.testbeds[str(directory)] = record
        registry_file.save(registry)
        try:
            _create(
                registry, record, lower, public_key, disk_bytes, memory_bytes, say, registry_file
            )
            attached = tuple(
                replace(
                    planned,
                    disks=tuple(
                        replace(d, guest_path=r.guest_path)
                        for d, r in zip(planned.disks, made.disks, strict=True)
                    ),
                )
                for planned, made in zip(layout, record.hosts, strict=True)
            )
            built = _copy_test_image(directory, say)
            (directory / "region.yml").write_text(
                render(attached, _release(), public_key, ca_files, built)
            )
            _ensure_secrets(directory, say)
            record.complete = True
            registry_file.save(registry)
        except BaseException:
            say("up failed: removing what it made…")
            try:
                _clean(registry, [str(directory)], say)
            finally:
                registry_file.save(registry)
            raise
    say(
        f"testbed of {_count(hosts, 'host')} up in "
        f"{time.monotonic() - started:.0f} s: {directory / 'region.yml'}"
    )
    return status(directory, registry_file=registry_file)


def down(
    directory: Path, console: Console | None = None, *, registry_file: RegistryFile | None = None
) -> None:
    """Remove every container, mount, loop device, bridge, rule and cgroup ``up`` made.

    Refused (RegionLocked) while a deploy, init or rotate works on the directory.
    """
    say = _sink(console)
    check_prerequisites()
    directory = directory.resolve()
    with _region_locked(directory, f"scs-deploy testbed down --dir {shlex.quote(str(directory))}"):
        registry_file = registry_file or RegistryFile()
        with registry_file.locked():
            registry = registry_file.load()
            try:
                _clean(registry, [str(directory)], say)
            finally:
                registry_file.save(registry)
    say(f"testbed in {directory} removed")


def _region_locked(directory: Path, command: str) -> contextlib.AbstractContextManager[None]:
    """The region lock of the testbed's directory; none to take when it does not exist."""
    if not directory.is_dir():
        return contextlib.nullcontext()
    return region_lock(directory, command)


def status(directory: Path, *, registry_file: RegistryFile | None = None) -> TestbedInfo:
    """The recorded hosts of the testbed in ``directory``, probed now."""
    directory = directory.resolve()
    registry = (registry_file or RegistryFile()).load()
    record = registry.testbeds.get(str(directory))
    if record is None:
        raise TestbedError(
            f"no testbed in {directory} (start one with 'scs-deploy testbed up --dir {directory}')"
        )
    try:
        usage_file: str | None = cgroup.memory_hierarchy().usage_file
    except TestbedError:
        usage_file = None
    infos = []
    for host in record.hosts:
        running = host.pid is not None and hosts.is_nspawn(host.pid, Path(host.root))
        cg = Path(host.cgroup) if host.cgroup else None
        infos.append(
            HostInfo(
                name=host.name,
                address=host.address,
                roles=tuple(host.roles),
                running=running,
                answers_ssh=running and hosts.ssh_banner(host.address),
                pid=host.pid if running else None,
                cgroup=host.cgroup,
                memory_max=host.memory_max,
                memory_current=(
                    cgroup.read_int(cg, usage_file) if cg and usage_file and running else None
                ),
                disks=tuple(DiskInfo(d.guest_path, d.image, d.loop) for d in host.disks),
            )
        )
    return TestbedInfo(directory=directory, complete=record.complete, hosts=tuple(infos))


# ---- up, step by step --------------------------------------------------------------------


def _refuse_running(registry: Registry) -> None:
    for record in registry.testbeds.values():
        live = [h.name for h in record.hosts if h.pid and hosts.is_nspawn(h.pid, Path(h.root))]
        if record.complete and live:
            raise TestbedError(
                f"a testbed is running in {record.directory} (hosts {', '.join(live)}); "
                f"remove it first: scs-deploy testbed down --dir {record.directory}"
            )


def _create(
    registry: Registry,
    record: TestbedRecord,
    lower: Path,
    public_key: str,
    disk_bytes: int,
    memory_bytes: int,
    say: Say,
    registry_file: RegistryFile,
) -> None:
    directory = Path(record.directory)
    say(
        f"network: bridge {plan.BRIDGE} {plan.GATEWAY}/{plan.SUBNET.prefixlen} with NAT, "
        f"external bridge {plan.EXTERNAL_BRIDGE} {plan.EXTERNAL_GATEWAY}/"
        f"{plan.EXTERNAL_SUBNET.prefixlen}"
    )
    forward = network.read_ip_forward()
    if forward != "1":
        if registry.ip_forward_before is None:
            registry.ip_forward_before = forward
            registry_file.save(registry)
        network.write_ip_forward("1")
    network.create()
    hierarchy = cgroup.memory_hierarchy()
    certificates = hosts.machine_ca_certificates()
    started: dict[str, float] = {}
    for host in record.hosts:
        binds = []
        for disk in host.disks:
            disks.create_image(Path(disk.image), disk_bytes)
            disk.loop = disks.attach(Path(disk.image))
            # Bound under its own name: ceph-volume finds raw OSDs through lsblk,
            # which lists the kernel's names (sysfs is the machine's), so a disk
            # bound as /dev/vdb is prepared but never found again to activate.
            disk.guest_path = disk.loop
            registry_file.save(registry)
            binds.append((disk.loop, disk.guest_path))
        host.cgroup = str(cgroup.create(hierarchy, host.name, memory_bytes))
        host.memory_max = memory_bytes
        registry_file.save(registry)
        dirs = hosts.HostDirs(Path(host.root).parent)
        hosts.mount_overlay(lower, dirs)
        hosts.write_identity(dirs.root, host.name, IPv4Address(host.address), public_key)
        hosts.install_ca_certificates(dirs.root, certificates)
        say(
            f"starting {host.name} ({host.address}, {_count(len(host.disks), 'disk')}, "
            f"memory max {memory_bytes // 2**20} MiB)…"
        )
        log = directory / "logs" / f"{host.name}.console.log"
        started[host.name] = time.monotonic()
        host.pid = hosts.start(host.name, dirs.root, binds, Path(host.cgroup), log)
        registry_file.save(registry)
    _write_known_hosts(record)
    key = directory / "ssh" / "id_ed25519"
    known = directory / "ssh" / "known_hosts"
    for host in record.hosts:
        assert host.pid is not None
        log = directory / "logs" / f"{host.name}.console.log"
        remaining = SSH_TIMEOUT - (time.monotonic() - started[host.name])
        hosts.wait_for_ssh(
            host.name, hosts.ssh_argv(host.address, key, known), host.pid, log, remaining
        )
        say(f"{host.name} answers SSH ({time.monotonic() - started[host.name]:.1f} s)")
        network.attach_external(plan.external_veth(host.name))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _ensure_ssh_key(directory: Path) -> str:
    key = directory / "ssh" / "id_ed25519"
    if not key.exists():
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        output(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "scs-testbed", "-f", str(key)])
    return key.with_suffix(".pub").read_text().strip()


def _copy_ca_certificates(directory: Path) -> list[str]:
    """Copy the machine's extra CAs to DIR/ca/; returns their paths relative to DIR."""
    target = directory / "ca"
    shutil.rmtree(target, ignore_errors=True)
    certificates = hosts.machine_ca_certificates()
    if certificates:
        target.mkdir()
    names = []
    for cert in certificates:
        shutil.copyfile(cert, target / cert.name)
        names.append(f"ca/{cert.name}")
    return names


def _write_known_hosts(record: TestbedRecord) -> None:
    lines = []
    for host in record.hosts:
        for key in hosts.host_public_keys(Path(host.root)):
            lines.append(f"{host.address},{host.name} {key}")
    (Path(record.directory) / "ssh" / "known_hosts").write_text("\n".join(lines) + "\n")


def _release() -> str:
    from scs_deploy.model.region import DEFAULT_RELEASE

    return DEFAULT_RELEASE


def _ensure_secrets(directory: Path, say: Say) -> None:
    # The secrets module is being written alongside; until it is complete the testbed
    # still comes up, says so, and leaves secrets.yml to `scs-deploy init`.
    try:
        from scs_deploy.secrets import ensure_secrets

        ensure_secrets(directory, _release())
    except ImportError as exc:
        say(f"secrets.yml not written: scs_deploy.secrets is not usable yet ({exc})")


# ---- removal -----------------------------------------------------------------------------


def _clean(registry: Registry, directories: list[str], say: Say) -> None:
    """Remove the testbeds in ``directories``; then, if none is left, the shared parts.

    Everything is found both from the registry and by name (nspawn processes and
    overlay mounts under the directory, loop devices backed by its disk files, the
    bridge, rules tagged ``scs-testbed``, the cgroups), so what a killed run left
    behind goes too.
    """
    for key in dict.fromkeys(directories):
        _remove_testbed(registry, Path(key), say)
    if registry.testbeds:
        return
    for item in network.remove():
        say(f"removed {item}")
    try:
        parent = cgroup.memory_hierarchy().parent
    except TestbedError:
        parent = None
    if parent is not None and cgroup.remove(parent):
        say(f"removed cgroup {parent}")
    if registry.ip_forward_before is not None:
        network.write_ip_forward(registry.ip_forward_before)
        say(f"net.ipv4.ip_forward back to {registry.ip_forward_before}")
        registry.ip_forward_before = None


def _remove_testbed(registry: Registry, directory: Path, say: Say) -> None:
    record = registry.testbeds.get(str(directory))
    recorded = record.hosts if record else []
    pids = set(hosts.nspawn_pids_under(directory / "hosts"))
    pids |= {h.pid for h in recorded if h.pid and hosts.is_nspawn(h.pid, Path(h.root))}
    if pids:
        say(f"stopping {_count(len(pids), 'host')} in {directory}…")
        hosts.stop(sorted(pids))
    # What outlived its nspawn (a container's init is not nspawn's to take along)
    # must be gone before its root is unmounted.
    for host in recorded:
        if host.cgroup and cgroup.kill_all(Path(host.cgroup)):
            say(f"killed what was left of {host.name}")
            time.sleep(1)
    for host in recorded:
        for item in network.remove_host_links(host.name):
            say(f"removed {item}")
    for target in hosts.overlays_under(hosts.current_mounts(), directory / "hosts"):
        hosts.unmount(target)
        say(f"unmounted {target}")
    for loop in disks.loops_under(disks.attached(), directory / "disks"):
        disks.detach(loop.device)
        say(f"detached {loop.device} ({loop.backing_file})")
    left = hosts.overlays_under(hosts.current_mounts(), directory / "hosts")
    if left:
        raise TestbedError(f"still mounted, not removing {directory / 'hosts'}: {left}")
    for sub in ("hosts", "disks"):
        shutil.rmtree(directory / sub, ignore_errors=True)
    for host in recorded:
        if host.cgroup:
            cgroup.remove(Path(host.cgroup))
    registry.testbeds.pop(str(directory), None)
