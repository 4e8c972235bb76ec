"""Validation rules of the openstack layer: VIP, service placement, TLS files, release pins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scs_deploy import releases
from scs_deploy.errors import ConfigError
from scs_deploy.regiondir import RegionDir
from scs_deploy.tls import new_ca, new_server_certificate, subject_names
from scs_deploy.validate import load_region
from tests.conftest import BASE_REGION
from tests.unit.test_validate import edit, problems_of


def test_vip_required_with_control_hosts(region_dir: Callable[[str], Path]) -> None:
    problems = problems_of(region_dir, edit("    vip: 10.0.0.10\n", ""))
    assert problems == [
        "region.yml:5:5 networks.management: a vip is required: HAProxy publishes the APIs "
        "on it (a free address of the management network, e.g. vip: 10.0.0.2)"
    ]


def test_service_on_a_host_without_the_control_role(region_dir: Callable[[str], Path]) -> None:
    text = BASE_REGION + "openstack:\n  services:\n    cinder: [node1, node2]\n"
    problems = problems_of(region_dir, text)
    assert problems == [
        "region.yml:27:21 openstack.services.cinder[1]: node2 has no control role "
        "(compute, storage); cinder runs on control hosts"
    ]


def test_unknown_service_and_host(region_dir: Callable[[str], Path]) -> None:
    text = BASE_REGION + "openstack:\n  services:\n    glance: [node9]\n    nova2: [node1]\n"
    problems = problems_of(region_dir, text)
    assert problems == [
        "region.yml:28:12 openstack.services.nova2: Input should be 'keystone', 'glance', "
        "'placement', 'cinder', 'nova', 'neutron', 'barbican' or 'octavia'"
    ]


EXTERNAL = "  external:\n    cidr: 192.0.2.0/24\n    gateway: 192.0.2.1\n"


def test_external_network_without_a_gateway_host(region_dir: Callable[[str], Path]) -> None:
    text = edit("hosts:\n", EXTERNAL + "hosts:\n")
    assert problems_of(region_dir, text) == [
        "region.yml:11:5 networks.external: no network host names an interface on the external "
        "network: give one (hosts[].interfaces: {external: <device>}) or leave the network out"
    ]


def test_external_interface_rules(region_dir: Callable[[str], Path]) -> None:
    text = edit("hosts:\n", EXTERNAL + "    vip: 192.0.2.5\nhosts:\n")
    text = text.replace(
        "interfaces: {management: eth0, storage: eth1}",
        "interfaces: {management: eth0, storage: eth1, external: eth1}",
    )
    text = text.replace(
        "    roles: [compute, storage]\n",
        "    roles: [compute, storage]\n    interfaces: {external: eth2}\n",
    )
    text = text.replace(
        "addresses: {storage: 10.1.0.12}", "addresses: {storage: 10.1.0.12, external: 192.0.2.7}"
    )
    problems = problems_of(region_dir, text)
    assert any("networks.external.vip: the external network has no VIP" in p for p in problems), (
        problems
    )
    assert any(
        "hosts[0].interfaces.external: eth1 carries the storage network too" in p for p in problems
    ), problems
    assert any("hosts[1].interfaces.external: node2 has no network role" in p for p in problems)
    assert any("hosts[1].addresses.external: hosts have no address" in p for p in problems)


def test_external_network_renders_for_neutron_and_ovn(region_dir: Callable[[str], Path]) -> None:
    text = edit(
        "hosts:\n",
        EXTERNAL + "    allocation_pool: {start: 192.0.2.100, end: 192.0.2.199}\nhosts:\n",
    )
    text = text.replace(
        "interfaces: {management: eth0, storage: eth1}",
        "interfaces: {management: eth0, storage: eth1, external: eth2}",
    )
    region = load_region(RegionDir(region_dir(text)))
    assert region.groups["ovn_gateway"] == ["node1"]
    assert region.groups["ovn_controller"] == ["node1", "node2"]
    assert region.groups["nova_compute"] == ["node1", "node2"]
    assert region.neutron_external == {
        "name": "external",
        "physnet": "physnet1",
        "bridge": "br-ex",
        "network_type": "flat",
        "segmentation_id": None,
        "cidr": "192.0.2.0/24",
        "gateway": "192.0.2.1",
        "allocation_pool": {"start": "192.0.2.100", "end": "192.0.2.199"},
        "mtu": 1500,
    }
    eth2 = [s for s in region.host_interfaces(region.host("node1")) if s["name"] == "eth2"]
    assert eth2 and eth2[0]["method"] == "manual" and eth2[0]["address"] == ""
    assert region.ovn_sb_connection == "tcp:10.0.0.11:6642"


def test_service_placement_makes_the_groups(region_dir: Callable[[str], Path]) -> None:
    text = BASE_REGION + "openstack:\n  services:\n    cinder: [node1]\n"
    region = load_region(RegionDir(region_dir(text)))
    assert region.groups["cinder"] == ["node1"]
    assert region.groups["keystone"] == ["node1"]
    assert region.groups["openstack_wheels"] == ["node1"]


def tls_region(directory: Path, certificate: str, key: str, ca: str) -> str:
    return BASE_REGION + (
        f"openstack:\n  tls: {{certificate: {certificate}, key: {key}, ca: {ca}}}\n"
    )


@pytest.fixture
def operator_tls(tmp_path: Path) -> Path:
    folder = tmp_path / "tls"
    folder.mkdir()
    ca_cert, ca_key = new_ca("lab")
    names = subject_names(load_region(RegionDir(_plain(tmp_path))))
    cert, key = new_server_certificate(ca_cert, ca_key, names)
    (folder / "api.pem").write_text(cert)
    (folder / "api.key").write_text(key)
    (folder / "ca.pem").write_text(ca_cert)
    _other_cert, other_key = new_server_certificate(ca_cert, ca_key, names)
    (folder / "other.key").write_text(other_key)
    return folder


def _plain(tmp_path: Path) -> Path:
    directory = tmp_path / "plain"
    directory.mkdir(exist_ok=True)
    (directory / "region.yml").write_text(BASE_REGION)
    return directory


def test_operator_certificate_is_accepted(
    region_dir: Callable[[str], Path], operator_tls: Path
) -> None:
    text = tls_region(
        operator_tls, f"{operator_tls}/api.pem", f"{operator_tls}/api.key", f"{operator_tls}/ca.pem"
    )
    region = load_region(RegionDir(region_dir(text)))
    assert region.openstack.tls is not None


def test_missing_certificate_file(region_dir: Callable[[str], Path], operator_tls: Path) -> None:
    text = tls_region(
        operator_tls, "tls/missing.pem", f"{operator_tls}/api.key", f"{operator_tls}/ca.pem"
    )
    problems = problems_of(region_dir, text)
    assert len(problems) == 1, problems
    assert problems[0].startswith("region.yml:26:22 openstack.tls.certificate: cannot read ")
    assert "missing.pem" in problems[0]


def test_key_of_another_certificate(region_dir: Callable[[str], Path], operator_tls: Path) -> None:
    text = tls_region(
        operator_tls,
        f"{operator_tls}/api.pem",
        f"{operator_tls}/other.key",
        f"{operator_tls}/ca.pem",
    )
    problems = problems_of(region_dir, text)
    assert len(problems) == 1, problems
    # the column of the key's flow entry depends on the length of the tmp path before it
    assert problems[0].startswith("region.yml:26:"), problems
    assert " openstack.tls.key: " in problems[0]
    assert "is not the key of the certificate" in problems[0]


def test_certificate_that_is_no_pem(region_dir: Callable[[str], Path], operator_tls: Path) -> None:
    (operator_tls / "junk.pem").write_text("not a certificate\n")
    text = tls_region(
        operator_tls,
        f"{operator_tls}/junk.pem",
        f"{operator_tls}/api.key",
        f"{operator_tls}/ca.pem",
    )
    problems = problems_of(region_dir, text)
    assert any("holds no PEM certificate" in p for p in problems), problems


def test_certificate_without_the_vip(region_dir: Callable[[str], Path], operator_tls: Path) -> None:
    text = tls_region(
        operator_tls, f"{operator_tls}/api.pem", f"{operator_tls}/api.key", f"{operator_tls}/ca.pem"
    ).replace("vip: 10.0.0.10", "vip: 10.0.0.20")
    problems = problems_of(region_dir, text)
    assert len(problems) == 1, problems
    assert "does not name 10.0.0.20 in its subjectAltName" in problems[0]


def test_release_without_a_service_pin(
    region_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = releases.load_release("2026.1")
    services = {k: v for k, v in real.openstack.services.items() if k != "glance"}
    crippled = real.model_copy(
        update={"openstack": real.openstack.model_copy(update={"services": services})}
    )
    monkeypatch.setattr(releases, "load_release", lambda release_id: crippled)
    with pytest.raises(ConfigError) as caught:
        load_region(RegionDir(region_dir(BASE_REGION)))
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "region.yml:2:10 release: release 2026.1 pins no version of glance "
        "(scs_deploy/releases/2026.1.yaml: openstack.services.glance is missing)"
    ]


def test_release_with_an_unpinned_extra(
    region_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = releases.load_release("2026.1")
    keystone = real.openstack.services["keystone"]
    services = dict(real.openstack.services)
    services["keystone"] = keystone.model_copy(update={"extras": [*keystone.extras, "floaty"]})
    crippled = real.model_copy(
        update={"openstack": real.openstack.model_copy(update={"services": services})}
    )
    monkeypatch.setattr(releases, "load_release", lambda release_id: crippled)
    with pytest.raises(ConfigError) as caught:
        load_region(RegionDir(region_dir(BASE_REGION)))
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1 and "keystone needs floaty" in problems[0], problems
