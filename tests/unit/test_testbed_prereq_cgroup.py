"""Prerequisite messages and the choice of memory cgroup hierarchy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scs_deploy import errors
from scs_deploy.testbed import cgroup, prereq


def test_not_root_and_missing_tools_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prereq.os, "geteuid", lambda: 1000)
    present = {"ip", "losetup", "ssh", "ssh-keygen"}
    monkeypatch.setattr(
        shutil, "which", lambda tool: f"/usr/bin/{tool}" if tool in present else None
    )
    with pytest.raises(errors.TestbedPrerequisiteError) as caught:
        prereq.check_prerequisites()
    message = str(caught.value)
    assert "needs root" in message
    assert "apt-get install debootstrap iptables systemd-container" in message
    assert caught.value.exit_code == 2


def test_all_present_as_root_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prereq.os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    prereq.check_prerequisites()


def test_cgroup_v2_preferred(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    hierarchy = cgroup.memory_hierarchy(tmp_path)
    assert hierarchy.host_path("tb1") == tmp_path / "scs-testbed" / "tb1"
    assert (hierarchy.limit_file, hierarchy.usage_file) == ("memory.max", "memory.current")


def test_hybrid_machine_uses_v1_memory(tmp_path: Path) -> None:
    (tmp_path / "unified").mkdir()
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    hierarchy = cgroup.memory_hierarchy(tmp_path)
    assert hierarchy.host_path("tb2") == tmp_path / "memory" / "scs-testbed" / "tb2"
    assert hierarchy.limit_file == "memory.limit_in_bytes"


def test_no_memory_controller_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(errors.TestbedError, match="no memory cgroup controller"):
        cgroup.memory_hierarchy(tmp_path)
