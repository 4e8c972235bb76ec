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


def health(testbed: TestbedInfo, host: str = "tb1") -> dict:  # type: ignore[type-arg]
    return json.loads(ssh(testbed, host, "ceph health detail --format json").stdout)


def wait_for(testbed: TestbedInfo, wanted: str, seconds: int = 300) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while True:
        current = health(testbed)
        if current["status"] == wanted or time.monotonic() > deadline:
            return current
        time.sleep(5)


def test_three_hosts_deploy(testbed: TestbedInfo) -> None:
    result = runner.invoke(
        app, ["deploy", str(testbed.directory), "--phase", "bootstrap", "--phase", "ceph"]
    )
    assert result.exit_code == 0, result.output
    quorum = json.loads(ssh(testbed, "tb1", "ceph quorum_status --format json").stdout)
    assert sorted(quorum["quorum_names"]) == ["tb1", "tb2", "tb3"]
    assert health(testbed)["status"] == "HEALTH_OK"
    rerun = runner.invoke(app, ["deploy", str(testbed.directory), "--phase", "ceph"])
    assert rerun.exit_code == 0, rerun.output
    assert changed_tasks(run_events(testbed.directory, "ceph")) == []


def test_one_osd_host_down_keeps_pools_readable(testbed: TestbedInfo) -> None:
    ssh(testbed, "tb1", "echo ha-payload > /tmp/ha && rados --id glance -p images put ha /tmp/ha")
    ssh(testbed, "tb3", "systemctl stop ceph-osd.target")
    try:
        degraded = wait_for(testbed, "HEALTH_WARN", 120)
        assert degraded["status"] == "HEALTH_WARN"
        assert "OSD_DOWN" in degraded["checks"] or "OSD_HOST_DOWN" in degraded["checks"]
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
    assert wait_for(testbed, "HEALTH_OK", 300)["status"] == "HEALTH_OK"
