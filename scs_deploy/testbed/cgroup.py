"""A memory cap per host without systemd: a cgroup written by hand.

cgroup v2 (``memory`` in /sys/fs/cgroup/cgroup.controllers) gets
/sys/fs/cgroup/scs-testbed/<host>/memory.max. Hybrid machines whose memory
controller is still on v1 (as the build machines are: /sys/fs/cgroup/memory)
get /sys/fs/cgroup/memory/scs-testbed/<host>/memory.limit_in_bytes.
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
            _enable_memory(hierarchy.root)
            _enable_memory(hierarchy.parent)
        path.mkdir(exist_ok=True)
        (path / hierarchy.limit_file).write_text(f"{memory_max}\n")
    except OSError as exc:
        raise TestbedError(f"cannot set up the memory cgroup {path}: {exc}") from exc
    return path


def _enable_memory(path: Path) -> None:
    control = path / "cgroup.subtree_control"
    if "memory" not in control.read_text().split():
        control.write_text("+memory\n")


def join(path: Path) -> None:
    """Move the calling process into the cgroup (runs in the child before exec)."""
    (path / "cgroup.procs").write_text(f"{os.getpid()}\n")


def read_int(path: Path, name: str) -> int | None:
    try:
        value = (path / name).read_text().strip()
    except OSError:
        return None
    return None if value == "max" else int(value)


def kill_all(path: Path) -> int:
    """SIGKILL every process left in the cgroup and its children; returns how many.

    A container's init lives in a PID namespace of its own: killing systemd-nspawn
    does not end it, and a host whose services take long to stop (nova-compute
    waits up to 180 s) may still run when nspawn is gone.
    """
    killed = 0
    for group in [path, *(p for p in path.rglob("*") if p.is_dir())]:
        try:
            pids = (group / "cgroup.procs").read_text().split()
        except OSError:
            continue
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed


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
