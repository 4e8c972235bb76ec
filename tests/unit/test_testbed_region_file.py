"""The region.yml a testbed writes (scs_deploy/testbed/region_file.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from ruamel.yaml import YAML

from scs_deploy.testbed.plan import plan
from scs_deploy.testbed.region_file import render

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPfOpFOpVKnn7ISziKaTnzvvmJHrjbp6w049Bx/bgMU4 scs-testbed"
CAS = ["ca/custom-ca.crt", "ca/sandboxing-egress-ca.crt"]


def _load(text: str) -> Any:
    return YAML(typ="safe").load(io.StringIO(text))


def test_two_hosts_region_parses_with_expected_content() -> None:
    data = _load(render(plan(2, 1), "2026.1", KEY, CAS))
    assert data["name"] == "testbed"
    assert data["release"] == "2026.1"
    assert data["environment"] == {"ca_certificates": CAS, "ntp_servers": []}
    assert data["operator"] == {"user": "scs", "ssh_public_keys": [KEY]}
    assert data["networks"] == {
        "management": {"cidr": "10.231.0.0/24", "gateway": "10.231.0.1", "vip": "10.231.0.10"},
        "external": {
            "cidr": "10.231.1.0/24",
            "gateway": "10.231.1.1",
            "allocation_pool": {"start": "10.231.1.100", "end": "10.231.1.199"},
        },
        "tunnel": {"cidr": "10.231.2.0/24"},
    }
    assert data["hosts"] == [
        {
            "name": "tb1",
            "address": "10.231.0.11",
            "roles": ["control", "network", "compute", "storage"],
            "ssh": {"user": "root", "private_key": "ssh/id_ed25519"},
            "interfaces": {"management": "host0", "tunnel": "tun0", "external": "ext0"},
            "addresses": {"tunnel": "10.231.2.11"},
            "disks": ["/dev/vdb"],
        },
        {
            "name": "tb2",
            "address": "10.231.0.12",
            "roles": ["compute", "storage"],
            "ssh": {"user": "root", "private_key": "ssh/id_ed25519"},
            "interfaces": {"management": "host0", "tunnel": "tun0"},
            "addresses": {"tunnel": "10.231.2.12"},
            "disks": ["/dev/vdb"],
        },
    ]
    assert data["ceph"] == {
        "replicas": 2,
        "osd_backend": "raw",
        "allowed_health_warnings": ["MON_DISK_LOW"],
    }


def test_header_comment_counts_hosts() -> None:
    assert render(plan(1, 2), "2026.1", KEY, []).startswith(
        "# Written by `scs-deploy testbed up`: 1 container host on this machine.\n"
    )
    assert ": 3 container hosts on" in render(plan(3, 2), "2026.1", KEY, []).splitlines()[0]


def test_no_disks_and_no_cas_are_empty_lists() -> None:
    data = _load(render(plan(1, 0), "2026.1", KEY, []))
    assert data["hosts"][0]["disks"] == []
    assert data["environment"]["ca_certificates"] == []


def test_odd_ca_file_names_are_quoted() -> None:
    data = _load(render(plan(1, 1), "2026.1", KEY, ["ca/my ca: #1.crt"]))
    assert data["environment"]["ca_certificates"] == ["ca/my ca: #1.crt"]


def test_render_is_deterministic() -> None:
    assert render(plan(3, 2), "2026.1", KEY, CAS) == render(plan(3, 2), "2026.1", KEY, CAS)


@pytest.mark.parametrize("hosts", [1, 2, 3, 5])
def test_region_model_accepts_it(hosts: int) -> None:
    region_model = pytest.importorskip("scs_deploy.model.region")
    data = _load(render(plan(hosts, 2), "2026.1", KEY, CAS))
    region = region_model.Region.model_validate(data)
    assert [h.name for h in region.hosts] == [f"tb{i + 1}" for i in range(hosts)]
