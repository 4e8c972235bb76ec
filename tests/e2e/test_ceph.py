"""Ceph on a one-host testbed with two disks, checked from outside; converged re-run;
a third disk added to the model becomes exactly one new OSD."""

from __future__ import annotations

import json

import pytest

from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import changed_tasks, deploy, disk_list, run_events, ssh

pytestmark = pytest.mark.e2e


@pytest.fixture
def testbed(shared_testbed: TestbedInfo) -> TestbedInfo:
    return shared_testbed


def ceph_json(testbed: TestbedInfo, command: str) -> dict:  # type: ignore[type-arg]
    return json.loads(ssh(testbed, "tb1", f"ceph {command} --format json").stdout)


def test_bootstrap_and_ceph_deploy(testbed: TestbedInfo) -> None:
    # The shared fixture deployed both phases.
    health = ceph_json(testbed, "health detail")
    # the two warnings the testbed region allows: one replica, and the machine's disk
    assert set(health.get("checks", {})) <= {"POOL_NO_REDUNDANCY", "MON_DISK_LOW"}, health
    assert "MGR_MODULE_DEPENDENCY" not in json.dumps(health)
    osds = ceph_json(testbed, "osd stat")
    assert (osds["num_osds"], osds["num_up_osds"], osds["num_in_osds"]) == (2, 2, 2)
    quorum = ceph_json(testbed, "quorum_status")
    assert quorum["quorum_names"] == ["tb1"]
    autoscale = ssh(testbed, "tb1", "ceph osd pool autoscale-status --format json").stdout
    assert {p["pool_name"] for p in json.loads(autoscale)} >= {"images", "volumes", "vms"}


@pytest.mark.parametrize(
    ("client", "own_pool", "forbidden_pool"),
    [
        ("glance", "images", "volumes"),
        ("cinder", "volumes", "backups"),
        ("cinder-backup", "backups", "images"),
        ("nova", "vms", "volumes"),
    ],
)
def test_each_key_writes_only_its_pool(
    testbed: TestbedInfo, client: str, own_pool: str, forbidden_pool: str
) -> None:
    obj = f"e2e-{client}"
    ssh(testbed, "tb1", f"echo {client}-payload > /tmp/{obj}")
    ssh(testbed, "tb1", f"rados --id {client} -p {own_pool} put {obj} /tmp/{obj}")
    read = ssh(testbed, "tb1", f"rados --id {client} -p {own_pool} get {obj} -")
    assert read.stdout.strip() == f"{client}-payload"
    refused = ssh(
        testbed, "tb1", f"rados --id {client} -p {forbidden_pool} put {obj} /tmp/{obj}", check=False
    )
    assert refused.returncode != 0
    assert "Operation not permitted" in refused.stderr or "EPERM" in refused.stderr


def test_rerun_changes_nothing(testbed: TestbedInfo) -> None:
    deploy(testbed.directory, "ceph")
    assert changed_tasks(run_events(testbed.directory, "ceph")) == []


def test_added_disk_becomes_one_new_osd(testbed: TestbedInfo) -> None:
    region = testbed.region_file.read_text()
    testbed.region_file.write_text(region.replace(disk_list(testbed, 2), disk_list(testbed, 3)))
    deploy(testbed.directory, "ceph")
    changed = changed_tasks(run_events(testbed.directory, "ceph"))
    assert changed, "the new disk should have changed something"
    assert all(": ceph_osd: " in task for task in changed), changed
    osds = ceph_json(testbed, "osd stat")
    assert (osds["num_osds"], osds["num_up_osds"], osds["num_in_osds"]) == (3, 3, 3)
