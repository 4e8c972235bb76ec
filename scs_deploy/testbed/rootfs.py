"""The Debian 13 root every host boots from, built once with debootstrap and cached.

The build goes into a temporary directory next to the cache and is renamed into
place only when complete, so a killed build never leaves a half cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from scs_deploy.errors import TestbedError
from scs_deploy.testbed._run import Say, run

CACHE_DIR = Path("/var/cache/scs-deploy/testbed")
SUITE = "trixie"
VARIANT = "minbase"
PACKAGES = (
    "systemd-sysv",
    "openssh-server",
    "iproute2",
    "python3",
    "ifupdown",
    "udev",
    "ca-certificates",
    "iputils-ping",
)
BUILD_TIMEOUT = 1800


def cache_path(cache_dir: Path = CACHE_DIR) -> Path:
    """The cached root for the current suite and package list (a new list, a new cache)."""
    key = hashlib.sha256(f"{SUITE} {VARIANT} {' '.join(PACKAGES)}".encode()).hexdigest()[:10]
    return cache_dir / f"debian-{SUITE}-{key}"


def ensure(say: Say, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached root, built first if absent."""
    target = cache_path(cache_dir)
    if _complete(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _lock(cache_dir):
        if _complete(target):  # another run built it while we waited
            return target
        for stale in cache_dir.glob(".build-*"):
            shutil.rmtree(stale, ignore_errors=True)
        build = cache_dir / f".build-{os.getpid()}"
        say("building the Debian 13 root (once, a few minutes)…")
        started = time.monotonic()
        log = cache_dir / "debootstrap.log"
        try:
            with log.open("w") as handle:
                argv = [
                    "debootstrap",
                    f"--variant={VARIANT}",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(build),
                ]
                result = _run_logged(argv, handle)
            if result != 0:
                tail = "\n".join(log.read_text().splitlines()[-5:])
                raise TestbedError(f"debootstrap failed (log: {log}):\n{tail}")
            _prepare(build)
            build.rename(target)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        say(f"Debian 13 root built in {time.monotonic() - started:.0f} s: {target}")
    return target


def _complete(target: Path) -> bool:
    return (target / "usr/lib/systemd/systemd").exists()


def _run_logged(argv: list[str], handle: IO[str]) -> int:
    try:
        return subprocess.run(
            argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=BUILD_TIMEOUT,
            check=False,
        ).returncode
    except subprocess.TimeoutExpired as exc:
        raise TestbedError(f"debootstrap took longer than {BUILD_TIMEOUT} s") from exc


def _prepare(root: Path) -> None:
    """Make the root a template: no host identity, no package cache."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    run(["chroot", str(root), "apt-get", "clean"])


@contextlib.contextmanager
def _lock(cache_dir: Path) -> Iterator[None]:
    with (cache_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
