"""The machine-wide record of what ``testbed up`` made (scs_deploy/testbed/registry.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scs_deploy import errors
from scs_deploy.testbed.registry import (
    DiskRecord,
    HostRecord,
    Registry,
    RegistryFile,
    TestbedRecord,
)


def test_round_trip(tmp_path: Path) -> None:
    registry = Registry(ip_forward_before="0")
    registry.testbeds["/srv/tb"] = TestbedRecord(
        directory="/srv/tb",
        complete=True,
        hosts=[
            HostRecord(
                name="tb1",
                address="10.231.0.11",
                roles=["control"],
                root="/srv/tb/hosts/tb1/root",
                cgroup="/sys/fs/cgroup/scs-testbed/tb1",
                memory_max=2**30,
                pid=42,
                disks=[DiskRecord("/srv/tb/disks/tb1-1.img", "/dev/vdb", "/dev/loop3")],
            )
        ],
    )
    store = RegistryFile(tmp_path)
    with store.locked():
        store.save(registry)
    assert store.load() == registry
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert RegistryFile(tmp_path / "nothing").load() == Registry()


def test_unreadable_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{")
    with pytest.raises(errors.TestbedError, match=r"state\.json cannot be read"):
        RegistryFile(tmp_path).load()
