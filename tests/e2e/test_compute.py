"""Nova and Neutron/OVN on the shared one-host testbed, from outside: compute services,
OVN chassis and agents up; then a real guest booted from a volume, found on its console,
reached over a floating IP by ping and SSH, with a second volume seen inside it."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pytest

from scs_deploy import smoke
from scs_deploy.testbed import TestbedInfo
from scs_deploy.testbed import image as test_image
from tests.e2e.helpers import ssh

pytestmark = pytest.mark.e2e

EXTERNAL = IPv4Network("10.231.1.0/24")


@pytest.fixture(scope="module")
def admin(openstack_cloud: TestbedInfo) -> Iterator[Any]:
    connection = smoke.connect(openstack_cloud.directory / "clouds.yaml", "testbed-admin")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def member(openstack_cloud: TestbedInfo) -> Iterator[Any]:
    connection = smoke.connect(openstack_cloud.directory / "clouds.yaml", "testbed-member")
    yield connection
    connection.close()


def test_compute_services_are_up(admin: Any) -> None:
    services = {(s.binary, s.host): s for s in admin.compute.services()}
    for binary in ("nova-conductor", "nova-scheduler", "nova-compute"):
        assert (binary, "tb1") in services, services
        assert services[(binary, "tb1")].state == "up", services[(binary, "tb1")]
        assert services[(binary, "tb1")].status == "enabled"
    hypervisors = list(admin.compute.hypervisors(details=True))
    assert [h.name for h in hypervisors] == ["tb1"], hypervisors
    assert hypervisors[0].hypervisor_type == "QEMU"


def test_ovn_chassis_and_agents_are_alive(openstack_cloud: TestbedInfo, admin: Any) -> None:
    chassis = ssh(
        openstack_cloud,
        "tb1",
        "ovn-sbctl --db=tcp:10.231.0.11:6642 --bare --columns=hostname,other_config list Chassis",
    ).stdout
    assert "tb1" in chassis and "enable-chassis-as-gw" in chassis, chassis
    agents = list(admin.network.agents(host="tb1"))
    kinds = {a.agent_type: a for a in agents}
    assert "OVN Controller Gateway agent" in kinds, kinds
    assert "OVN Metadata agent" in kinds, kinds
    assert all(a.is_alive for a in agents), [(a.agent_type, a.is_alive) for a in agents]
    external = admin.network.find_network("external")
    assert external is not None and external.is_router_external
    assert external.provider_network_type == "flat"


def test_guest_boots_and_answers_over_a_floating_ip(
    openstack_cloud: TestbedInfo, admin: Any, member: Any
) -> None:
    image = test_image.ensure(print)
    result = smoke.run(admin, member, smoke.SmokeSettings(image=image), print)
    print("\n".join(smoke.describe(result)))
    assert IPv4Address(result.guest_address) in IPv4Network(smoke.PRIVATE_CIDR)
    assert IPv4Address(result.floating_ip) in EXTERNAL
    assert result.hostname == result.server_name
    assert {"vda", "vdb"} <= set(result.disks), result.disks
    # Everything it made is gone again.
    assert not list(member.compute.servers())
    assert not [v for v in member.block_storage.volumes() if v.name.startswith("scs-smoke")]
    assert not list(member.network.ips())
    assert member.network.find_network("scs-smoke-net") is None
