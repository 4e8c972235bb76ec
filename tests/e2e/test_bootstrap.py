"""Bootstrap on two testbed hosts, checked from outside; converged re-run; clean teardown."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy import testbed as testbed_api
from scs_deploy.cli import app
from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import changed_tasks, run_events, ssh

pytestmark = pytest.mark.e2e
runner = CliRunner()
HOSTS = ("tb1", "tb2")


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestbedInfo]:
    directory = tmp_path_factory.mktemp("bootstrap") / "testbed"
    info = testbed_api.up(directory, hosts=2, disks=1, disk_size="2G")
    try:
        yield info
    finally:
        testbed_api.down(directory)


def deploy(directory: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "bootstrap"])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_precheck_stops_on_a_disk_with_a_filesystem(testbed: TestbedInfo) -> None:
    disk = testbed.host("tb2").disks[0]
    assert disk.loop is not None
    subprocess.run(["mkfs.ext4", "-q", "-F", disk.loop], check=True)
    try:
        code, output = deploy(testbed.directory)
        assert code == 1, output
        assert "phase bootstrap failed on host tb2, role host_precheck" in output
        assert disk.guest_path in output
        assert "filesystem" in output
        assert changed_tasks(run_events(testbed.directory, "bootstrap")) == []
        assert ssh(testbed, "tb1", "id scs", check=False).returncode != 0
    finally:
        subprocess.run(["wipefs", "-q", "-a", disk.loop], check=True)


def test_bootstrap_configures_both_hosts(testbed: TestbedInfo) -> None:
    code, output = deploy(testbed.directory)
    assert code == 0, output
    for host in HOSTS:
        assert ssh(testbed, host, "systemctl is-active chrony").stdout.strip() == "active"
        hosts_file = ssh(testbed, host, "cat /etc/hosts").stdout
        for other in HOSTS:
            address = testbed.host(other).address
            assert any(
                line.split()[:1] == [address] and other in line.split()
                for line in hosts_file.splitlines()
            ), hosts_file
        # the operator logs in with its key and may use sudo
        login = ssh(testbed, host, "sudo -n id -u", user="scs")
        assert login.stdout.strip() == "0"
        # root may not log in with a password: the server offers only keys
        refused = subprocess.run(
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                f"root@{testbed.host(host).address}",
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 255
        assert "Permission denied (publickey)" in refused.stderr
        journal = ssh(testbed, host, "test -d /var/log/journal && echo yes").stdout
        assert journal.strip() == "yes"


def test_second_run_changes_nothing(testbed: TestbedInfo) -> None:
    code, output = deploy(testbed.directory)
    assert code == 0, output
    assert changed_tasks(run_events(testbed.directory, "bootstrap")) == []
    state = json.loads((testbed.directory / "state.json").read_text())
    record = state["phases"]["bootstrap"]
    assert record["result"] == "ok"
    assert all(h["changed"] == 0 for h in record["hosts"].values())


def test_down_leaves_nothing(testbed: TestbedInfo) -> None:
    loops = [d.loop for h in testbed.hosts for d in h.disks]
    testbed_api.down(testbed.directory)
    losetup = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    for loop in loops:
        assert f"{loop}:" not in losetup
    assert str(testbed.directory) not in Path("/proc/mounts").read_text()
    bridges = subprocess.run(
        ["ip", "-br", "link", "show", "type", "bridge"], capture_output=True, text=True
    ).stdout
    assert "scstb0" not in bridges
    nspawn = subprocess.run(["pgrep", "-af", "systemd-nspawn"], capture_output=True, text=True)
    assert str(testbed.directory) not in nspawn.stdout
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "scs-testbed" not in rules
