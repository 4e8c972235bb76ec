"""A memory cap per host without systemd: a cgroup written by hand.

cgroup v2 (``memory`` in /sys/fs/cgroup/cgroup.controllers) gets
/sys/fs/cgroup/scs-testbed/<host>/memory.max. Hybrid machines whose memory
controller is still on v1 (as the build machines are: /sys/fs/cgroup/memory)
get /sys/fs/cgroup/memory/scs-testbed/<host>/memory.limit_in_bytes.

The host's cgroup holds its systemd-nspawn and every process of the container
(on v1 the container sees its memory hierarchy read-only and cannot leave it),
so it is also how a host is killed at once.

On a hybrid machine the container's systemd tracks its units in the name=systemd
(v1) and unified (v2) hierarchies, where systemd-nspawn puts the container beside
its own cgroup. Without a cgroup of its own there, every host's systemd would share
/payload: a unit (keystone-api.service on three control hosts) would never be empty
for one host while another runs it, so each stop would wait for its timeout. Each
host's nspawn therefore also joins scs-testbed/<host> in those hierarchies.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from scs_deploy.errors import TestbedError

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "scs-testbed"


@dataclass(frozen=True)
class MemoryHierarchy:
    """Where memory cgroups are made and which files hold the limit and the usage."""

    root: Path
    limit_file: str
    usage_file: str

    @property
    def parent(self) -> Path:
        return self.root / PARENT

    def host_path(self, host: str) -> Path:
        return self.parent / host


def memory_hierarchy(cgroup_root: Path = CGROUP_ROOT) -> MemoryHierarchy:
    controllers = cgroup_root / "cgroup.controllers"
    if controllers.is_file() and "memory" in controllers.read_text().split():
        return MemoryHierarchy(cgroup_root, "memory.max", "memory.current")
    v1 = cgroup_root / "memory"
    if (v1 / "memory.limit_in_bytes").is_file():
        return MemoryHierarchy(v1, "memory.limit_in_bytes", "memory.usage_in_bytes")
    raise TestbedError(
        f"no memory cgroup controller under {cgroup_root} (neither cgroup v2 nor v1): "
        "cannot cap the hosts' memory"
    )


def create(hierarchy: MemoryHierarchy, host: str, memory_max: int) -> Path:
    """Make the host's cgroup and set its memory limit; returns its directory."""
    path = hierarchy.host_path(host)
    try:
        hierarchy.parent.mkdir(exist_ok=True)
        if hierarchy.limit_file == "memory.max":
            _enable(hierarchy.root, "memory")
            _enable(hierarchy.parent, "memory")
            # cgroup v2: each host gets cpu.weight 100, an equal share (see JOINED_HIERARCHIES).
            with contextlib.suppress(OSError):
                _enable(hierarchy.root, "cpu")
                _enable(hierarchy.parent, "cpu")
        path.mkdir(exist_ok=True)
        (path / hierarchy.limit_file).write_text(f"{memory_max}\n")
    except OSError as exc:
        raise TestbedError(f"cannot set up the memory cgroup {path}: {exc}") from exc
    return path


def _enable(path: Path, controller: str) -> None:
    control = path / "cgroup.subtree_control"
    if controller not in control.read_text().split():
        control.write_text(f"+{controller}\n")


#: Hierarchies of a hybrid machine that each host joins besides the memory one: those where
#: systemd (the container's) tracks its units, and v1's cpu, where each host's cgroup has
#: the same cpu.shares. Without that, the scheduler shares the cores per process: a host
#: that boots (thirty services starting) took most of the machine from the hosts serving,
#: which real machines do not do to each other.
JOINED_HIERARCHIES = ("unified", "systemd", "cpu")


def joined_cgroups(host: str, cgroup_root: Path = CGROUP_ROOT) -> list[Path]:
    """The host's cgroups in the other hierarchies it joins (on a cgroup v2 machine the
    memory cgroup is all of them: none)."""
    return [
        cgroup_root / name / PARENT / host
        for name in JOINED_HIERARCHIES
        if (cgroup_root / name / "cgroup.procs").is_file()
    ]


def joined_parents(cgroup_root: Path = CGROUP_ROOT) -> list[Path]:
    """scs-testbed in each joined hierarchy (removed with the last testbed)."""
    return [path.parent for path in joined_cgroups("-", cgroup_root)]


def join(path: Path) -> None:
    """Move the calling process into the cgroup (runs in the child before exec)."""
    (path / "cgroup.procs").write_text(f"{os.getpid()}\n")


def read_int(path: Path, name: str) -> int | None:
    try:
        value = (path / name).read_text().strip()
    except OSError:
        return None
    return None if value == "max" else int(value)


def pids(path: Path) -> list[int]:
    """The processes in the cgroup and its children (none when it does not exist)."""
    found: list[int] = []
    for group in [path, *(p for p in path.rglob("*") if p.is_dir())]:
        try:
            listed = (group / "cgroup.procs").read_text().split()
        except OSError:
            continue
        # v2 lists a process outside the reader's PID namespace as 0; kill(0) would
        # hit the caller's own process group.
        found += [pid for pid in map(int, listed) if pid > 0]
    return found


def kill_all(path: Path) -> int:
    """SIGKILL every process left in the cgroup and its children; returns how many.

    A container's init lives in a PID namespace of its own: killing systemd-nspawn
    does not end it, and a host whose services take long to stop (nova-compute
    waits up to 180 s) may still run when nspawn is gone.
    """
    killed = 0
    for pid in pids(path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def kill(path: Path) -> None:
    """SIGKILL everything in the cgroup and its children at once.

    cgroup v2 has ``cgroup.kill``, which the kernel applies to the whole subtree,
    forks in flight included. A v1 memory cgroup has none: each process gets its
    SIGKILL in turn (call again until :func:`pids` finds none; what forked meanwhile
    is in the cgroup too).
    """
    control = path / "cgroup.kill"
    if control.is_file():
        with contextlib.suppress(FileNotFoundError):  # the cgroup went in between
            control.write_text("1\n")
        return
    kill_all(path)


def remove(path: Path, timeout: float = 10.0) -> bool:
    """Kill what is left in the cgroup, then rmdir it (children first); waits while the
    last processes exit."""
    if not path.is_dir():
        return False
    kill_all(path)
    deadline = time.monotonic() + timeout
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), reverse=True):
        _rmdir(child, deadline)
    _rmdir(path, deadline)
    return True


def _rmdir(path: Path, deadline: float) -> None:
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise TestbedError(f"cannot remove the cgroup {path}: {exc}") from exc
            time.sleep(0.2)
