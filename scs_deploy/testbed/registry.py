"""The machine-wide record of what ``testbed up`` created, so ``down`` and a later
``up`` can remove it even after a crash. One JSON file, written atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scs_deploy.errors import TestbedError

STATE_DIR = Path("/var/lib/scs-deploy/testbed")
VERSION = 1


@dataclass
class DiskRecord:
    image: str
    guest_path: str
    loop: str | None = None


@dataclass
class HostRecord:
    name: str
    address: str
    roles: list[str]
    root: str
    cgroup: str | None = None
    memory_max: int | None = None
    pid: int | None = None
    disks: list[DiskRecord] = field(default_factory=list)


@dataclass
class TestbedRecord:
    __test__ = False  # not a pytest test class, despite the name

    directory: str
    complete: bool = False
    hosts: list[HostRecord] = field(default_factory=list)

    def host(self, name: str) -> HostRecord:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


@dataclass
class Registry:
    """Everything recorded; ``ip_forward_before`` is set only when up changed the sysctl."""

    testbeds: dict[str, TestbedRecord] = field(default_factory=dict)
    ip_forward_before: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "ip_forward_before": self.ip_forward_before,
            "testbeds": {k: asdict(v) for k, v in self.testbeds.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registry:
        testbeds = {}
        for key, raw in data.get("testbeds", {}).items():
            hosts = [
                HostRecord(
                    **{k: v for k, v in h.items() if k != "disks"},
                    disks=[DiskRecord(**d) for d in h.get("disks", [])],
                )
                for h in raw.get("hosts", [])
            ]
            testbeds[key] = TestbedRecord(
                directory=raw["directory"], complete=raw.get("complete", False), hosts=hosts
            )
        return cls(testbeds=testbeds, ip_forward_before=data.get("ip_forward_before"))


class RegistryFile:
    """Load and save ``state.json`` in ``state_dir`` (``STATE_DIR`` by default)."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir if state_dir is not None else STATE_DIR
        self.path = self.state_dir / "state.json"

    def load(self) -> Registry:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return Registry()
        try:
            return Registry.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise TestbedError(
                f"{self.path} cannot be read ({exc}); move it away and run "
                "'scs-deploy testbed up' again"
            ) from exc

    def save(self, registry: Registry) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(registry.to_json(), indent=2) + "\n")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the machine-wide testbed lock; a second ``up``/``down`` waits."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / "lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
