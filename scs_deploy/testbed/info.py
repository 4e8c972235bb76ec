"""What ``up`` and ``status`` report about a testbed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scs_deploy.testbed.hosts import ssh_argv


@dataclass(frozen=True)
class DiskInfo:
    guest_path: str
    image: str
    loop: str | None


@dataclass(frozen=True)
class HostInfo:
    name: str
    address: str
    roles: tuple[str, ...]
    running: bool
    answers_ssh: bool
    pid: int | None
    cgroup: str | None
    memory_max: int | None
    memory_current: int | None
    disks: tuple[DiskInfo, ...] = ()

    @property
    def state(self) -> str:
        if not self.running:
            return "stopped"
        return "running" if self.answers_ssh else "running (no SSH)"


@dataclass(frozen=True)
class TestbedInfo:
    __test__ = False  # not a pytest test class, despite the name

    directory: Path
    complete: bool
    hosts: tuple[HostInfo, ...] = field(default_factory=tuple)

    @property
    def private_key(self) -> Path:
        return self.directory / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "ssh" / "known_hosts"

    @property
    def region_file(self) -> Path:
        return self.directory / "region.yml"

    def host(self, name: str) -> HostInfo:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def ssh(self, name: str) -> list[str]:
        """The ``ssh`` command line for root on host ``name``; append the remote command."""
        return ssh_argv(self.host(name).address, self.private_key, self.known_hosts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["directory"] = str(self.directory)
        for host, info in zip(data["hosts"], self.hosts, strict=True):
            host["state"] = info.state
        return data
