"""On demand (make e2e-ha): three hosts, three monitors, size 3; one OSD host down
leaves the pools readable (degraded, not down); HEALTH_OK returns when it is back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from scs_deploy import testbed as testbed_api
from scs_deploy.cli import app
from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import changed_tasks, run_events, ssh

pytestmark = pytest.mark.e2e_ha
runner = CliRunner()


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestbedInfo]:
    directory = tmp_path_factory.mktemp("ceph-ha") / "testbed"
    info = testbed_api.up(directory, hosts=3, disks=1, disk_size="8G")
    assert "replicas: 3" in info.region_file.read_text()
    try:
        yield info
    finally:
        testbed_api.down(directory)


# The testbed region allows this one: the monitors' data shares the machine's disk.
ALLOWED = {"MON_DISK_LOW"}


def checks(testbed: TestbedInfo) -> set[str]:
    """The health checks that are raised now (the allowed ones left out)."""
    done = ssh(testbed, "tb1", "timeout 30 ceph health detail --format json", check=False)
    if done.returncode != 0:
        return {"UNREACHABLE"}
    return set(json.loads(done.stdout).get("checks", {})) - ALLOWED


def wait_for(testbed: TestbedInfo, healthy: bool, seconds: int = 300) -> set[str]:
    """Wait until the cluster is healthy (or, with ``healthy=False``, until it is not)."""
    deadline = time.monotonic() + seconds
    while True:
        current = checks(testbed)
        if (not current) == healthy or time.monotonic() > deadline:
            return current
        time.sleep(5)


def test_three_hosts_deploy(testbed: TestbedInfo) -> None:
    result = runner.invoke(
        app, ["deploy", str(testbed.directory), "--phase", "bootstrap", "--phase", "ceph"]
    )
    assert result.exit_code == 0, result.output
    quorum = json.loads(ssh(testbed, "tb1", "ceph quorum_status --format json").stdout)
    assert sorted(quorum["quorum_names"]) == ["tb1", "tb2", "tb3"]
    assert checks(testbed) == set()
    rerun = runner.invoke(app, ["deploy", str(testbed.directory), "--phase", "ceph"])
    assert rerun.exit_code == 0, rerun.output
    assert changed_tasks(run_events(testbed.directory, "ceph")) == []


def test_one_osd_host_down_keeps_pools_readable(testbed: TestbedInfo) -> None:
    ssh(testbed, "tb1", "echo ha-payload > /tmp/ha && rados --id glance -p images put ha /tmp/ha")
    ssh(testbed, "tb3", "systemctl stop ceph-osd.target")
    try:
        degraded = wait_for(testbed, healthy=False, seconds=120)
        assert degraded & {"OSD_DOWN", "OSD_HOST_DOWN"}, degraded
        read = ssh(testbed, "tb1", "timeout 60 rados --id glance -p images get ha -")
        assert read.stdout.strip() == "ha-payload"
        write = ssh(
            testbed,
            "tb2",
            "echo more > /tmp/m && timeout 60 rados --id glance -p images put ha2 /tmp/m",
        )
        assert write.returncode == 0
    finally:
        ssh(testbed, "tb3", "systemctl start ceph-osd.target")
    assert wait_for(testbed, healthy=True, seconds=300) == set()
