"""The OpenStack control plane on the shared one-host testbed, used from outside through
the clouds.yaml the deploy wrote: tokens, the catalog, an image in RBD, a volume cloned
from it, a backup of it; then a re-run that changes and restarts nothing, and a venv
whose build was cut short rebuilt."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scs_deploy import smoke
from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import changed_tasks, deploy, run_events, ssh

pytestmark = pytest.mark.e2e

CATALOG_TYPES = {
    "identity",
    "image",
    "placement",
    "block-storage",
    "compute",
    "network",
    "key-manager",
    "load-balancer",
}
OPENSTACK_UNITS = (
    "mariadb",
    "rabbitmq-server",
    "memcached",
    "haproxy",
    "keystone-api",
    "glance-api",
    "placement-api",
    "cinder-api",
    "cinder-scheduler",
    "cinder-volume",
    "cinder-backup",
    "barbican-api",
    "barbican-worker",
    "barbican-keystone-listener",
    "octavia-api",
    "octavia-driver-agent",
)


@pytest.fixture(scope="module")
def cloud(openstack_cloud: TestbedInfo) -> TestbedInfo:
    return openstack_cloud


def connect(testbed: TestbedInfo, which: str) -> Any:
    return smoke.connect(testbed.directory / "clouds.yaml", f"testbed-{which}")


@pytest.fixture(scope="module")
def admin(cloud: TestbedInfo) -> Iterator[Any]:
    connection = connect(cloud, "admin")
    yield connection
    connection.close()


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(3)


def rbd(testbed: TestbedInfo, command: str, check: bool = True) -> str:
    return ssh(testbed, "tb1", f"rbd {command}", check=check).stdout


def test_clouds_yaml_gives_tokens_for_admin_and_member(cloud: TestbedInfo) -> None:
    clouds = cloud.directory / "clouds.yaml"
    assert clouds.stat().st_mode & 0o777 == 0o600
    assert (cloud.directory / "ca.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    for which in ("admin", "member"):
        connection = connect(cloud, which)
        assert connection.auth_token
        project = connection.current_project
        assert project.name == which, project
        connection.close()


def test_catalog_has_the_control_plane(admin: Any) -> None:
    services = {s.type: s for s in admin.identity.services()}
    assert set(services) >= CATALOG_TYPES, services
    for service in CATALOG_TYPES:
        endpoints = list(admin.identity.endpoints(service_id=services[service].id))
        interfaces = {e.interface for e in endpoints}
        assert interfaces >= {"public", "internal"}, (service, endpoints)
        assert all(e.url.startswith("https://10.231.0.10:") for e in endpoints), endpoints
    roles = {r.name for r in admin.identity.roles()}
    assert {"admin", "member", "reader", "manager", "service"} <= roles


def test_image_volume_backup_live_in_ceph(cloud: TestbedInfo, admin: Any) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    created: list[tuple[str, Any]] = []
    try:
        image = admin.image.create_image(
            name="e2e-image", data=payload, disk_format="raw", container_format="bare", wait=True
        )
        created.append(("image", image))
        image = admin.image.get_image(image.id)
        assert image.status == "active", image
        info = json.loads(rbd(cloud, f"info images/{image.id} --format json"))
        assert info["size"] == len(payload)

        volume = admin.block_storage.create_volume(name="e2e-volume", size=1, image_id=image.id)
        created.append(("volume", volume))
        volume = admin.block_storage.wait_for_status(volume, "available", wait=300)
        clone = json.loads(rbd(cloud, f"info volumes/volume-{volume.id} --format json"))
        assert clone["parent"]["pool"] == "images", clone
        assert clone["parent"]["image"] == image.id, clone

        backup = admin.block_storage.create_backup(volume_id=volume.id, name="e2e-backup")
        created.append(("backup", backup))
        backup = admin.block_storage.wait_for_status(backup, "available", wait=300)
        assert json.loads(rbd(cloud, "ls backups --format json")), "no backup image in pool"
    finally:
        delete_all(admin, created)
    assert image.id not in rbd(cloud, "ls images")
    assert f"volume-{volume.id}" not in rbd(cloud, "ls volumes")
    assert json.loads(rbd(cloud, "ls backups --format json")) == []


def delete_all(admin: Any, created: list[tuple[str, Any]]) -> None:
    """Delete what a test made, newest first, waiting for each to go."""
    storage = admin.block_storage
    for kind, resource in reversed(created):
        if kind == "backup":
            # The Ceph backup driver does not support force delete.
            storage.delete_backup(resource, ignore_missing=True)
            wait_for("the backup to go", lambda r=resource: not storage.find_backup(r.id))
        elif kind == "volume":
            storage.delete_volume(resource, ignore_missing=True)
            wait_for("the volume to go", lambda r=resource: not storage.find_volume(r.id))
        else:
            admin.image.delete_image(resource, ignore_missing=True)


def unit_starts(testbed: TestbedInfo) -> dict[str, str]:
    """Every running unit's last start (monotonic), to see that a re-run restarted none."""
    listing = ssh(
        testbed, "tb1", "systemctl list-units --type=service --state=running --plain --no-legend"
    ).stdout
    # user@0.service comes and goes with the SSH logins this function makes (logind
    # arrives with libvirt): it is not a service of the region.
    units = [
        line.split()[0]
        for line in listing.splitlines()
        if line.strip() and not line.startswith("user@")
    ]
    shown = ssh(
        testbed,
        "tb1",
        "systemctl show --property=Id,ActiveEnterTimestampMonotonic " + " ".join(units),
    ).stdout
    starts: dict[str, str] = {}
    for block in shown.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines())
        starts[fields["Id"]] = fields["ActiveEnterTimestampMonotonic"]
    return starts


def test_every_service_unit_runs(cloud: TestbedInfo) -> None:
    starts = unit_starts(cloud)
    missing = [u for u in OPENSTACK_UNITS if f"{u}.service" not in starts]
    assert not missing, f"not running: {missing}"


def test_rerun_changes_nothing_and_restarts_nothing(cloud: TestbedInfo) -> None:
    before = unit_starts(cloud)
    deploy(cloud.directory, "openstack")
    assert changed_tasks(run_events(cloud.directory, "openstack")) == []
    after = unit_starts(cloud)
    assert sorted(unit for unit in before if after.get(unit) != before[unit]) == []


def test_interrupted_venv_build_is_rebuilt(cloud: TestbedInfo) -> None:
    venv = "/opt/scs/venvs/placement-2026.1"
    real = ssh(cloud, "tb1", f"readlink -f {venv}").stdout.strip()
    assert real != venv and real.startswith(venv + "-"), real
    # What a build killed half-way leaves: files, but no completion marker.
    ssh(cloud, "tb1", f"rm {real}/.scs-complete && touch {real}/half-built")
    deploy(cloud.directory, "openstack")
    assert (
        ssh(
            cloud,
            "tb1",
            f"test -f {real}/.scs-complete && test ! -e {real}/half-built",
            check=False,
        ).returncode
        == 0
    )
    changed = changed_tasks(run_events(cloud.directory, "openstack"))
    assert changed and all("tb1" in task for task in changed)
    answer = ssh(cloud, "tb1", "curl -s -o /dev/null -w '%{http_code}' https://10.231.0.10:8778/")
    assert answer.stdout == "200"
