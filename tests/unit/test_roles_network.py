"""roles/host_network: the interfaces (ifupdown) and netplan templates render the model's stanzas.

The kernel of the build machines has no 8021q, so VLANs are checked here, by rendering.
The templates are plain Jinja (no Ansible filters); they are rendered with the settings
Ansible's template module uses (trim_blocks, undefined variables are errors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

TEMPLATES = Path(__file__).resolve().parents[2] / "roles" / "host_network" / "templates"


def stanza(name: str, kind: str, **fields: Any) -> dict[str, Any]:
    """An interface stanza with every field of the render contract."""
    base: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "method": "manual",
        "address": "",
        "gateway": "",
        "mtu": 0,
        "bond_slaves": [],
        "bond_mode": "",
        "bridge_ports": [],
        "vlan_raw_device": "",
        "vlan_id": 0,
    }
    base.update(fields)
    return base


# two NICs in an LACP bond, a tagged VLAN on the bond, a bridge on the VLAN with the
# management address, and an untagged bridge without address for the provider network
EXAMPLE = [
    stanza("eno1", "ethernet", mtu=9000),
    stanza("eno2", "ethernet", mtu=9000),
    stanza("bond0", "bond", bond_slaves=["eno1", "eno2"], bond_mode="802.3ad", mtu=9000),
    stanza("bond0.100", "vlan", vlan_raw_device="bond0", vlan_id=100),
    stanza(
        "storage",
        "vlan",
        vlan_raw_device="bond0",
        vlan_id=200,
        method="static",
        address="10.20.0.11/24",
        mtu=9000,
    ),
    stanza(
        "br-mgmt",
        "bridge",
        bridge_ports=["bond0.100"],
        method="static",
        address="10.231.0.11/24",
        gateway="10.231.0.1",
    ),
    stanza("br-ex", "bridge", bridge_ports=[]),
]


def render(template: str, interfaces: list[dict[str, Any]]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(template).render(
        host_network_interfaces=interfaces, host_network_bond_miimon=100
    )


def stanzas(text: str) -> dict[str, list[str]]:
    """iface name -> its lines (the iface line first, then the options, stripped)."""
    result: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("iface "):
            current = result.setdefault(line.split()[1], [line])
        elif line.startswith("    ") and current is not None:
            current.append(line.strip())
        else:
            current = None
    return result


@pytest.fixture(scope="module")
def interfaces() -> str:
    return render("interfaces.j2", EXAMPLE)


def test_every_interface_is_auto_in_ifup_order(interfaces: str) -> None:
    autos = [line.split()[1] for line in interfaces.splitlines() if line.startswith("auto ")]
    assert autos == ["lo"] + [s["name"] for s in EXAMPLE]
    assert "source /etc/network/interfaces.d/*" in interfaces


def test_bond_members_are_manual_with_mtu(interfaces: str) -> None:
    assert stanzas(interfaces)["eno1"] == ["iface eno1 inet manual", "mtu 9000"]


def test_bond_stanza(interfaces: str) -> None:
    assert stanzas(interfaces)["bond0"] == [
        "iface bond0 inet manual",
        "mtu 9000",
        "bond-slaves eno1 eno2",
        "bond-mode 802.3ad",
        "bond-miimon 100",
        "bond-lacp-rate fast",
        "bond-xmit-hash-policy layer3+4",
    ]


def test_vlan_stanza_creates_the_link_with_its_id(interfaces: str) -> None:
    lines = stanzas(interfaces)["bond0.100"]
    assert lines[0] == "iface bond0.100 inet manual"
    assert "vlan-raw-device bond0" in lines
    assert (
        "pre-up [ -e /sys/class/net/bond0.100 ] || "
        "ip link add link bond0 name bond0.100 type vlan id 100" in lines
    )
    assert "post-down ip link delete bond0.100 || true" in lines


def test_vlan_with_a_free_name_gets_its_id_and_address(interfaces: str) -> None:
    lines = stanzas(interfaces)["storage"]
    assert lines[:3] == ["iface storage inet static", "address 10.20.0.11/24", "mtu 9000"]
    assert "gateway" not in " ".join(lines)
    assert any("type vlan id 200" in line and "link bond0 name storage" in line for line in lines)


def test_bridge_stanza(interfaces: str) -> None:
    assert stanzas(interfaces)["br-mgmt"] == [
        "iface br-mgmt inet static",
        "address 10.231.0.11/24",
        "gateway 10.231.0.1",
        "bridge-ports bond0.100",
        "bridge-stp off",
        "bridge-fd 0",
    ]


def test_bridge_without_ports(interfaces: str) -> None:
    assert "bridge-ports none" in stanzas(interfaces)["br-ex"]


def test_ipv6_address_uses_inet6() -> None:
    text = render(
        "interfaces.j2",
        [stanza("eth0", "ethernet", method="static", address="fd00::11/64", gateway="fd00::1")],
    )
    assert stanzas(text)["eth0"][:3] == [
        "iface eth0 inet6 static",
        "address fd00::11/64",
        "gateway fd00::1",
    ]


def test_netplan_is_valid_yaml_with_every_kind() -> None:
    doc = yaml.safe_load(render("netplan.yaml.j2", EXAMPLE))
    net = doc["network"]
    assert net["version"] == 2
    assert net["ethernets"]["eno1"] == {
        "mtu": 9000,
        "dhcp4": False,
        "dhcp6": False,
        "accept-ra": False,
    }
    assert net["bonds"]["bond0"]["interfaces"] == ["eno1", "eno2"]
    assert net["bonds"]["bond0"]["parameters"]["mode"] == "802.3ad"
    assert net["vlans"]["bond0.100"]["id"] == 100
    assert net["vlans"]["bond0.100"]["link"] == "bond0"
    assert net["vlans"]["storage"]["addresses"] == ["10.20.0.11/24"]
    assert net["bridges"]["br-mgmt"]["interfaces"] == ["bond0.100"]
    assert net["bridges"]["br-mgmt"]["routes"] == [{"to": "default", "via": "10.231.0.1"}]
    assert net["bridges"]["br-ex"]["interfaces"] == []


def test_model_stanzas_render_into_the_template() -> None:
    """What Region.host_interfaces computes is exactly what the template consumes."""
    from scs_deploy.model import Region

    region = Region.model_validate(
        {
            "name": "net",
            "networks": {
                "management": {"cidr": "10.231.0.0/24", "gateway": "10.231.0.1", "vlan": 100},
                "storage": {"cidr": "10.20.0.0/24", "vlan": 200, "mtu": 9000},
            },
            "hosts": [
                {
                    "name": "n1",
                    "address": "10.231.0.11",
                    "addresses": {"storage": "10.20.0.11"},
                    "roles": ["control", "compute"],
                    "bonds": [{"name": "bond0", "members": ["eno1", "eno2"]}],
                    "interfaces": {"management": "bond0", "storage": "bond0"},
                }
            ],
        }
    )
    text = render("interfaces.j2", region.host_interfaces(region.hosts[0]))
    found = stanzas(text)
    assert found["bond0.100"][0] == "iface bond0.100 inet static"
    assert "address 10.231.0.11/24" in found["bond0.100"]
    assert "gateway 10.231.0.1" in found["bond0.100"]
    assert "address 10.20.0.11/24" in found["bond0.200"]
    assert "mtu 9000" in found["bond0.200"]
    assert "bond-slaves eno1 eno2" in found["bond0"]
