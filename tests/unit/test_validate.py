"""One region per rule, each breaking only that rule; the reported place is asserted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scs_deploy.errors import ConfigError
from scs_deploy.init import profile_text
from scs_deploy.regiondir import RegionDir
from scs_deploy.validate import load_region
from tests.conftest import BASE_REGION


def problems_of(make: Callable[[str], Path], text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_region(RegionDir(make(text)))
    return [str(p) for p in caught.value.problems]


def edit(old: str, new: str) -> str:
    assert old in BASE_REGION, old
    return BASE_REGION.replace(old, new, 1)


def test_base_region_is_valid(region_dir: Callable[[str], Path]) -> None:
    region = load_region(RegionDir(region_dir(BASE_REGION)))
    assert [h.name for h in region.hosts] == ["node1", "node2"]
    assert region.groups["ceph_mon"] == ["node1"]


@pytest.mark.parametrize("profile", ["aio", "ha"])
def test_init_profiles_are_valid(region_dir: Callable[[str], Path], profile: str) -> None:
    region = load_region(RegionDir(region_dir(profile_text(profile))))
    assert region.hosts


CASES = [
    pytest.param(
        edit("  osd_backend: raw\n", "  osd_bakend: raw\n"),
        "region.yml:24:3 ceph.osd_bakend: unknown key 'osd_bakend'; did you mean 'osd_backend'?",
        id="unknown-key",
    ),
    pytest.param(
        edit("  replicas: 2\n", "  replicas: two\n"),
        "region.yml:23:13 ceph.replicas: Input should be a valid integer",
        id="wrong-type",
    ),
    pytest.param(
        edit("    vip: 10.0.0.10\n", "    vip: [10.0.0.10\n"),
        "region.yml:8:",
        id="yaml-syntax",
    ),
    pytest.param(
        edit("  - name: node2\n", "  - name: Node_2\n"),
        "region.yml:17:11 hosts[1].name: 'Node_2' is not a valid host name",
        id="hostname",
    ),
    pytest.param(
        edit("  - name: node2\n", "  - name: node1\n"),
        "region.yml:17:11 hosts[1].name: host name 'node1' is used more than once",
        id="duplicate-name",
    ),
    pytest.param(
        edit("    address: 10.0.0.12\n", "    address: 10.0.0.11\n"),
        "region.yml:18:14 hosts[1].address: 10.0.0.11 is already the address of node1",
        id="duplicate-address",
    ),
    pytest.param(
        edit("    address: 10.0.0.12\n", "    address: 10.9.0.12\n"),
        "region.yml:18:14 hosts[1].address: 10.9.0.12 is outside the management network",
        id="address-outside-network",
    ),
    pytest.param(
        edit("    vip: 10.0.0.10\n", "    vip: 10.0.0.11\n"),
        "region.yml:7:10 networks.management.vip: 10.0.0.11 is a host address",
        id="vip-is-host-address",
    ),
    pytest.param(
        edit("    vip: 10.0.0.10\n", "    vip: 10.5.0.10\n"),
        "region.yml:7:10 networks.management.vip: 10.5.0.10 is outside the management network",
        id="vip-outside-network",
    ),
    pytest.param(
        edit("    cidr: 10.1.0.0/24\n", "    cidr: 10.0.0.128/25\n")
        .replace("{storage: 10.1.0.11}", "{storage: 10.0.0.131}")
        .replace("{storage: 10.1.0.12}", "{storage: 10.0.0.132}"),
        "region.yml:9:11 networks.storage.cidr: 10.0.0.128/25 overlaps the management network",
        id="overlapping-networks",
    ),
    pytest.param(
        edit("roles: [control, network, compute, storage]", "roles: [network, compute, storage]"),
        "region.yml:11:3 hosts: no host has the role 'control'",
        id="no-control",
    ),
    pytest.param(
        edit(
            "roles: [control, network, compute, storage]", "roles: [control, network, storage]"
        ).replace("roles: [compute, storage]", "roles: [storage]"),
        "region.yml:11:3 hosts: no host has the role 'compute'",
        id="no-compute",
    ),
    pytest.param(
        edit("roles: [compute, storage]", "roles: [control, compute, storage]"),
        "region.yml:11:3 hosts: 2 control hosts cannot keep a quorum",
        id="even-control",
    ),
    pytest.param(
        edit("  replicas: 2\n", "  replicas: 3\n"),
        "region.yml:23:13 ceph.replicas: 3 replicas need at least 3 storage hosts",
        id="replicas-above-storage-hosts",
    ),
    pytest.param(
        edit("    disks: [/dev/sdb]\n", "    disks: [/dev/sdb, /dev/sdb]\n"),
        "region.yml:21:23 hosts[1].disks[1]: disk /dev/sdb is listed more than once on node2",
        id="same-disk-twice",
    ),
    pytest.param(
        edit('release: "2026.1"\n', 'release: "2031.1"\n'),
        "region.yml:2:10 release: unknown release '2031.1'; available: 2026.1, 2026.2",
        id="unknown-release",
    ),
    pytest.param(
        edit("roles: [compute, storage]\n", "roles: [compute]\n").replace(
            "replicas: 2", "replicas: 1"
        ),
        "region.yml:21:12 hosts[1].disks: node2 lists disks but is not a storage host",
        id="disk-on-non-storage-host",
    ),
    pytest.param(
        edit("  osd_backend: raw\n", "  osd_backend: raw\n  mons: [node1, node2]\n"),
        "region.yml:25:9 ceph.mons: 2 monitors cannot keep a quorum",
        id="even-mons",
    ),
    pytest.param(
        edit("    addresses: {storage: 10.1.0.12}\n", ""),
        "region.yml:17:5 hosts[1].addresses: node2 runs Ceph and the region declares a storage",
        id="storage-address-missing",
    ),
    pytest.param(
        edit("    cidr: 10.1.0.0/24\n", "    cidr: 10.1.0.0/24\n  tunnel:\n    cidr: 10.2.0.0/24\n")
        .replace("{storage: 10.1.0.11}", "{storage: 10.1.0.11, tunnel: 10.2.0.11}")
        .replace(
            "interfaces: {management: eth0, storage: eth1}",
            "interfaces: {management: eth0, storage: eth1, tunnel: eth2}",
        ),
        "region.yml:21:16 hosts[1].addresses: node2 is an OVN chassis and the region declares a "
        "tunnel network",
        id="tunnel-address-missing",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rule_reports_its_place(
    region_dir: Callable[[str], Path], text: str, expected: str
) -> None:
    problems = problems_of(region_dir, text)
    assert any(p.startswith(expected) for p in problems), problems
    assert len(problems) == 1, problems


def test_every_problem_at_once(region_dir: Callable[[str], Path]) -> None:
    text = edit("    address: 10.0.0.12\n", "    adress: 10.0.0.12\n").replace(
        "  replicas: 2\n", "  replicas: two\n"
    )
    problems = problems_of(region_dir, text)
    assert len(problems) == 3, problems  # the typo, the missing address, the type


def test_duplicate_key_is_a_syntax_error(region_dir: Callable[[str], Path]) -> None:
    text = edit("  replicas: 2\n", "  replicas: 2\n  replicas: 1\n")
    problems = problems_of(region_dir, text)
    assert problems[0].startswith("region.yml:24:3 "), problems
    assert "appears twice" in problems[0]


def test_missing_region_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_region(RegionDir(tmp_path))


def test_scs_rules_are_reported_where_the_flavor_or_image_is(
    region_dir: Callable[[str], Path],
) -> None:
    """A non-standard flavor name and an image without scs-0102 metadata: exit-2 problems at
    their lines in region.yml, naming the rule and the way out (scs_exempt); a missing image
    file is one too."""
    text = (
        BASE_REGION
        + "scs:\n"
        + "  flavors:\n"
        + "    - {name: m1.small, vcpus: 1, ram: 2048, disk: 10}\n"
        + "  images:\n"
        + "    - {name: cirros, file: cirros.img, min_disk: 1, min_ram: 64,\n"
        + "       properties: {architecture: x86_64}}\n"
    )
    problems = problems_of(region_dir, text)
    lines = len(BASE_REGION.splitlines())
    flavor = next(p for p in problems if "scs.flavors[0]" in p)
    assert f"region.yml:{lines + 3}:" in flavor
    assert "scs-0100" in flavor and "scs_exempt: true" in flavor
    image = next(p for p in problems if "scs.images[0]" in p)
    assert f"region.yml:{lines + 5}:" in image
    assert "scs-0102-prop-os_distro" in image and "scs_exempt: true" in image
    exempt = text.replace("disk: 10}", "disk: 10, scs_exempt: true}").replace(
        "min_ram: 64,", "min_ram: 64, scs_exempt: true,"
    )
    assert problems_of(region_dir, exempt) == [
        next(p for p in problems_of(region_dir, exempt) if "cirros.img is not a file" in p)
    ]
