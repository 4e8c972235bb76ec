"""One command at a time per region directory: an flock on ``DIR/.scs-deploy.lock``.

The kernel drops an flock when the process holding it ends, however it ends,
so a crashed or killed command never leaves a stale lock behind. The file
names its holder (PID and command) for the message a second command prints;
the holder removes it when it is done. Linux only, like the rest of scs-deploy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scs_deploy.errors import RegionLocked, UsageError

LOCK_NAME = ".scs-deploy.lock"
_PROC = Path("/proc")


@dataclass(frozen=True)
class Holder:
    """The process that holds a region's lock, as far as it can be told."""

    pid: int | None
    command: str | None = None
    since: str | None = None

    def __str__(self) -> str:
        text = f"PID {self.pid}" if self.pid is not None else "another process"
        if self.command:
            text += f" ({self.command}"
            text += f", since {self.since})" if self.since else ")"
        return text


def lock_path(directory: Path) -> Path:
    return directory / LOCK_NAME


@contextlib.contextmanager
def region_lock(directory: Path, command: str) -> Iterator[None]:
    """Hold the region's lock for the block; RegionLocked at once when another process has it."""
    path = lock_path(directory)
    fd = _acquire(path, directory)
    try:
        record = {
            "pid": os.getpid(),
            "command": command,
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        yield
    finally:
        _release(path, fd)


def holder(directory: Path) -> Holder | None:
    """Who holds the region's lock right now; None when nobody does."""
    path = lock_path(directory)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    recorded = _read_record(path)
    try:
        pid = _flock_pid(stat.st_dev, stat.st_ino)
    except OSError:
        # No /proc/locks to ask: trust the file while its PID lives.
        pid = recorded.pid if recorded and recorded.pid and _alive(recorded.pid) else None
    if pid is None:
        return None
    if recorded is not None and recorded.pid == pid:
        return recorded
    # The file still names an earlier holder (or nothing yet): the PID is all we know.
    return Holder(pid=pid)


def _acquire(path: Path, directory: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot create the lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RegionLocked(
                f"{directory} is in use by {holder(directory) or 'another process'}; "
                "wait for it to end (one deploy, init or rotate at a time per region)"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(path, fd):
            return fd
        # The previous holder removed the file between our open and our flock:
        # the lock we got is on a file nobody else will open. Take the new one.
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    try:
        # Removed while still locked, so no one can lock the old file after us.
        if _same_file(path, fd):
            path.unlink()
    finally:
        os.close(fd)


def _same_file(path: Path, fd: int) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _read_record(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    command, since = data.get("command"), data.get("since")
    return Holder(
        pid=data["pid"],
        command=command if isinstance(command, str) else None,
        since=since if isinstance(since, str) else None,
    )


def _flock_pid(device: int, inode: int) -> int | None:
    """The PID /proc/locks names for an flock on this file; OSError without /proc/locks."""
    text = (_PROC / "locks").read_text(encoding="ascii", errors="replace")
    exact = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    by_inode: int | None = None
    for line in text.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"; "1: -> FLOCK ..." waits.
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK" or not fields[4].isdigit():
            continue
        pid = int(fields[4])
        if pid <= 0:
            continue
        if fields[5] == exact:
            return pid
        # Some file systems (btrfs subvolumes) report another device number in stat().
        if fields[5].rsplit(":", 1)[-1] == str(inode):
            by_inode = pid
    return by_inode


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
