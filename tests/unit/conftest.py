"""Fixtures of the unit tests that need another process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scs_deploy.lock import LOCK_NAME
from scs_deploy.secrets import ensure_secrets
from tests.conftest import LOCAL_REGION

# TEST-NET-3 (RFC 5737): routed nowhere, so a real ansible run could touch no host.
OFFLINE_ADDRESS = "203.0.113.10"

# Another process holding the lock: flock, say what it is (or not), sleep.
HOLDER = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
if sys.argv[2]:
    os.write(fd, json.dumps({"pid": os.getpid(), "command": sys.argv[2]}).encode())
print("locked", flush=True)
time.sleep(600)
"""
HELD_BY = "scs-deploy deploy /elsewhere --phase ceph"


@pytest.fixture
def hold() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(directory: Path, command: str = HELD_BY) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(directory / LOCK_NAME), command],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def offline_region(tmp_path: Path) -> Path:
    """A region with secrets, its one host (every role) out of reach over SSH.

    For tests that stand in for ansible: had the stand-in not been used, the
    run would fail to connect instead of changing this machine.
    """
    directory = tmp_path / "offline"
    directory.mkdir()
    text = LOCAL_REGION.format(address=OFFLINE_ADDRESS, vip="203.0.113.5")
    text = text.replace("127.0.0.0/8", "203.0.113.0/24")
    text = text.replace("    ssh: {connection: local}\n", "")
    assert "connection" not in text
    (directory / "region.yml").write_text(text)
    ensure_secrets(directory, "2026.1")
    return directory
