"""``up``, ``down``, ``status``, and ``stop_host``/``start_host`` of one host: the order
in which the other modules are used."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import time
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from scs_deploy.errors import TestbedError, UsageError
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
#: How long a stopped host's veths may take to vanish with its network namespace.
LINK_TIMEOUT = 10.0


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
        running = _running(host)
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


def stop_host(
    directory: Path,
    name: str,
    console: Console | None = None,
    *,
    registry_file: RegistryFile | None = None,
    link_timeout: float = LINK_TIMEOUT,
) -> None:
    """Cut the power of host ``name``: its veths down, then SIGKILL to all its processes
    at once, no shutdown.

    Returns when none of its processes is left and its veths are gone. Its overlay
    root, disks (loop devices attached), cgroup and registry entry stay, for
    :func:`start_host`. Takes no region lock: a failover test cuts a host while the
    region works.
    """
    say = _sink(console)
    check_prerequisites()
    directory = directory.resolve()
    registry_file = registry_file or RegistryFile()
    with registry_file.locked():
        registry = registry_file.load()
        host = _recorded_host(registry, directory, name, running=True)
        assert host.pid is not None
        say(f"cutting the power of {name} (its links down, SIGKILL to all its processes)…")
        network.cut_host_links(name)
        hosts.power_off(host.pid, Path(host.cgroup) if host.cgroup else None)
        host.pid = None
        registry_file.save(registry)
        _drop_links(name, link_timeout, say)
    say(f"{name} stopped; its root, disks and cgroup are kept")


def start_host(
    directory: Path,
    name: str,
    console: Console | None = None,
    *,
    registry_file: RegistryFile | None = None,
    ssh_timeout: float = SSH_TIMEOUT,
) -> HostInfo:
    """Boot the stopped host ``name`` again as ``up`` booted it, on the root and disks it
    had; returns when it answers SSH."""
    say = _sink(console)
    check_prerequisites()
    directory = directory.resolve()
    registry_file = registry_file or RegistryFile()
    with registry_file.locked():
        registry = registry_file.load()
        host = _recorded_host(registry, directory, name, running=False)
        _check_kept(directory, host)
        # What a host that died by itself may have left: processes outside nspawn's
        # PID namespace in its cgroup, veths of a namespace not freed yet.
        if host.cgroup and cgroup.pids(Path(host.cgroup)):
            say(f"killing what is left of {name} in {host.cgroup}")
            hosts.power_off(None, Path(host.cgroup))
        for item in network.remove_host_links(name):
            say(f"removed {item}")
        assert host.memory_max is not None
        host.cgroup = str(cgroup.create(cgroup.memory_hierarchy(), name, host.memory_max))
        started = _boot(directory, host, say)
        registry_file.save(registry)
        _await_ssh(directory, host, started, ssh_timeout, say)
    return status(directory, registry_file=registry_file).host(name)


def _recorded_host(registry: Registry, directory: Path, name: str, *, running: bool) -> HostRecord:
    """The host ``name`` of the complete testbed in ``directory``, which must be
    ``running`` or not; UsageError otherwise."""
    quoted = shlex.quote(str(directory))
    record = registry.testbeds.get(str(directory))
    if record is None:
        raise UsageError(
            f"no testbed in {directory} (start one with 'scs-deploy testbed up --dir {quoted}')"
        )
    if not record.complete:
        raise UsageError(
            f"the testbed in {directory} is not up: its 'up' failed or still runs "
            f"(see 'scs-deploy testbed status --dir {quoted}')"
        )
    try:
        host = record.host(name)
    except KeyError:
        names = ", ".join(h.name for h in record.hosts)
        raise UsageError(
            f"no host {name!r} in the testbed in {directory} (its hosts: {names})"
        ) from None
    if _running(host) != running:
        if running:
            raise UsageError(
                f"host {name} is already stopped; start it with: "
                f"scs-deploy testbed start {name} --dir {quoted}"
            )
        raise UsageError(
            f"host {name} is already running; stop it first: "
            f"scs-deploy testbed stop {name} --dir {quoted}"
        )
    return host


def _running(host: HostRecord) -> bool:
    """True while the host's recorded systemd-nspawn runs."""
    return host.pid is not None and hosts.is_nspawn(host.pid, Path(host.root))


def _check_kept(directory: Path, host: HostRecord) -> None:
    """Refuse to boot a host whose root or disks are no longer there (the machine
    rebooted, or someone unmounted them): it would boot on an empty directory."""
    missing = []
    if host.root not in {m.target for m in hosts.current_mounts() if m.fstype == "overlay"}:
        missing.append(f"its root {host.root} is not mounted")
    backing = {d.device: d.backing_file for d in disks.attached()}
    for disk in host.disks:
        if disk.loop is None or backing.get(disk.loop) != disk.image:
            missing.append(f"{disk.image} is not attached as {disk.loop}")
    if missing:
        raise TestbedError(
            f"host {host.name} cannot be started: {'; '.join(missing)}; make the testbed "
            f"again: scs-deploy testbed down --dir {shlex.quote(str(directory))}, then up"
        )


def _drop_links(name: str, timeout: float, say: Say) -> None:
    """Wait until the dead host's veths are gone; delete those the kernel keeps longer."""
    if network.wait_host_links_gone(name, timeout):
        for item in network.remove_host_links(name):
            say(f"removed {item}")


# ---- up, step by step --------------------------------------------------------------------


def _refuse_running(registry: Registry) -> None:
    for record in registry.testbeds.values():
        live = [h.name for h in record.hosts if _running(h)]
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
        f"{plan.EXTERNAL_SUBNET.prefixlen}, tunnel bridge {plan.TUNNEL_BRIDGE} "
        f"{plan.TUNNEL_SUBNET}"
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
        for disk in host.disks:
            disks.create_image(Path(disk.image), disk_bytes)
            disk.loop = disks.attach(Path(disk.image))
            # Bound under its own name: ceph-volume finds raw OSDs through lsblk,
            # which lists the kernel's names (sysfs is the machine's), so a disk
            # bound as /dev/vdb is prepared but never found again to activate.
            disk.guest_path = disk.loop
            registry_file.save(registry)
        host.cgroup = str(cgroup.create(hierarchy, host.name, memory_bytes))
        host.memory_max = memory_bytes
        registry_file.save(registry)
        dirs = hosts.HostDirs(Path(host.root).parent)
        hosts.mount_overlay(lower, dirs)
        hosts.write_identity(dirs.root, host.name, IPv4Address(host.address), public_key)
        hosts.install_ca_certificates(dirs.root, certificates)
        started[host.name] = _boot(directory, host, say)
        registry_file.save(registry)
    _write_known_hosts(record)
    for host in record.hosts:
        _await_ssh(directory, host, started[host.name], SSH_TIMEOUT, say)


# ---- what up and start_host do alike: boot a prepared host, wait for its SSH ----------------


def _boot(directory: Path, host: HostRecord, say: Say) -> float:
    """Start the host's nspawn on its overlay root, with its disks bound and in its
    cgroup; records its PID and returns when it started (time.monotonic)."""
    assert host.memory_max is not None
    say(
        f"starting {host.name} ({host.address}, {_count(len(host.disks), 'disk')}, "
        f"memory max {host.memory_max // 2**20} MiB)…"
    )
    binds = []
    for disk in host.disks:
        assert disk.loop is not None
        binds.append((disk.loop, disk.guest_path))
    started = time.monotonic()
    host.pid = hosts.start(
        host.name,
        Path(host.root),
        binds,
        Path(host.cgroup) if host.cgroup else None,
        _console_log(directory, host.name),
    )
    return started


def _await_ssh(directory: Path, host: HostRecord, started: float, timeout: float, say: Say) -> None:
    """Wait until the host answers SSH (``timeout`` counts from ``started``), then put
    its external and tunnel veths, which nspawn made, on their bridges."""
    assert host.pid is not None
    key = directory / "ssh" / "id_ed25519"
    known = directory / "ssh" / "known_hosts"
    hosts.wait_for_ssh(
        host.name,
        hosts.ssh_argv(host.address, key, known),
        host.pid,
        _console_log(directory, host.name),
        timeout - (time.monotonic() - started),
    )
    say(f"{host.name} answers SSH ({time.monotonic() - started:.1f} s)")
    network.attach_extra_veths(host.name)


def _console_log(directory: Path, name: str) -> Path:
    return directory / "logs" / f"{name}.console.log"


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
    for path in [parent, *cgroup.joined_parents()]:
        if path is not None and cgroup.remove(path):
            say(f"removed cgroup {path}")
    if registry.ip_forward_before is not None:
        network.write_ip_forward(registry.ip_forward_before)
        say(f"net.ipv4.ip_forward back to {registry.ip_forward_before}")
        registry.ip_forward_before = None


def _remove_testbed(registry: Registry, directory: Path, say: Say) -> None:
    record = registry.testbeds.get(str(directory))
    recorded = record.hosts if record else []
    pids = set(hosts.nspawn_pids_under(directory / "hosts"))
    pids |= {h.pid for h in recorded if h.pid is not None and _running(h)}
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
        for path in [Path(host.cgroup)] if host.cgroup else []:
            cgroup.remove(path)
        for path in cgroup.joined_cgroups(host.name):
            cgroup.remove(path)
    registry.testbeds.pop(str(directory), None)
