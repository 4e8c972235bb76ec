"""Names, addresses, roles and disks of a testbed (scs_deploy/testbed/plan.py)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from scs_deploy.errors import UsageError
from scs_deploy.testbed.plan import (
    ALL_ROLES,
    WORKER_ROLES,
    ceph_replicas,
    guest_disk_path,
    parse_size,
    plan,
    roles_for,
)


def test_one_host_carries_every_role() -> None:
    assert roles_for(0, 1) == ("control", "network", "compute", "storage")


def test_two_hosts_first_is_everything_second_a_worker() -> None:
    assert [roles_for(i, 2) for i in range(2)] == [ALL_ROLES, ("compute", "storage")]


@pytest.mark.parametrize("count", [3, 4, 7])
def test_three_or_more_hosts_control_plane_on_first_three(count: int) -> None:
    roles = [roles_for(i, count) for i in range(count)]
    assert roles[:3] == [ALL_ROLES] * 3
    assert roles[3:] == [WORKER_ROLES] * (count - 3)
    assert all({"compute", "storage"} <= set(r) for r in roles)


def test_addresses_names_and_disks() -> None:
    hosts = plan(3, 2)
    assert [h.name for h in hosts] == ["tb1", "tb2", "tb3"]
    assert [h.address for h in hosts] == [IPv4Address(f"10.231.0.{n}") for n in (11, 12, 13)]
    assert [d.guest_path for d in hosts[1].disks] == ["/dev/vdb", "/dev/vdc"]
    assert [d.image_name for d in hosts[1].disks] == ["tb2-1.img", "tb2-2.img"]


def test_guest_disk_paths_skip_vda() -> None:
    assert [guest_disk_path(i) for i in range(3)] == ["/dev/vdb", "/dev/vdc", "/dev/vdd"]


@pytest.mark.parametrize(("hosts", "replicas"), [(1, 1), (2, 2), (3, 3), (5, 3)])
def test_ceph_replicas_follow_storage_hosts(hosts: int, replicas: int) -> None:
    assert ceph_replicas(plan(hosts, 1)) == replicas


@pytest.mark.parametrize(("hosts", "disks"), [(0, 1), (51, 1), (1, -1), (1, 25)])
def test_out_of_range_counts_are_usage_errors(hosts: int, disks: int) -> None:
    with pytest.raises(UsageError):
        plan(hosts, disks)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20G", 20 * 2**30),
        ("512M", 512 * 2**20),
        ("6GiB", 6 * 2**30),
        ("1t", 2**40),
        ("4096", 4096),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0G", "G", "1.5G", "20X", "-1G"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="is not a size"):
        parse_size(text)
