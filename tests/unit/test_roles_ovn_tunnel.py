"""infra_ovn_controller's tunnel bridge: with OVS's userspace datapath the Geneve tunnels leave
only through an OVS bridge that holds the tunnel address, so a region with a tunnel network
puts its interface into br-tunnel and moves the address there; the kernel datapath leaves the
interface alone; and the precheck refuses several userspace chassis without a tunnel network.
Evaluated by Ansible's templating over the rendered example regions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scs_deploy.regiondir import RegionDir
from tests.unit.role_vars import INVENTORIES, RoleVars, assertion, example_dir, role_vars

ROLE = "infra_ovn_controller"
PRECHECK = "Check that the userspace datapath has a tunnel interface of its own"


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RegionDir]]:
    base = tmp_path_factory.mktemp("regions")
    found = {name: example_dir(name, base) for name in ("testbed-aio", "testbed-ha")}
    found["no-tunnel"] = _without_tunnel_network(base / "no-tunnel")
    yield found


def _without_tunnel_network(target: Path) -> RegionDir:
    """testbed-ha without networks.tunnel and the hosts' tunnel interfaces and addresses."""
    lines = (INVENTORIES / "testbed-ha" / "region.yml").read_text(encoding="utf-8").splitlines()
    kept = []
    skip = False
    for line in lines:
        if line.startswith("  tunnel:"):
            skip = True
            continue
        if skip and line.startswith("    "):
            continue
        skip = False
        if line.startswith("    addresses: {tunnel:"):
            continue
        kept.append(line.replace("tunnel: tun0, ", ""))
    target.mkdir()
    (target / "region.yml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return RegionDir(target)


def chassis(directory: RegionDir, host: str, kernel_module: bool) -> RoleVars:
    found = role_vars(directory, host, [ROLE])
    found.variables["__infra_ovn_controller_module"] = {"stat": {"exists": kernel_module}}
    return found


def test_the_userspace_datapath_puts_the_tunnel_address_on_the_bridge(
    regions: dict[str, RegionDir],
) -> None:
    found = chassis(regions["testbed-ha"], "tb2", kernel_module=False)
    assert found.value("__infra_ovn_controller_datapath") == "netdev"
    assert found.value("__infra_ovn_controller_tunnel_on_bridge") is True
    assert found.value("infra_ovn_controller_encap_ip") == "10.231.2.12"
    unit = found.template(ROLE, "scs-ovn-tunnel-address.service.j2")
    assert "ExecStart=/usr/sbin/ip address flush dev tun0 scope global" in unit
    assert "ExecStart=/usr/sbin/ip address replace 10.231.2.12/24 dev br-tunnel" in unit
    # Before ovn-controller, which starts the tunnels, and after ifupdown, which puts the
    # address on tun0 at boot.
    assert "Before=ovn-controller.service" in unit
    assert "After=network.target openvswitch-switch.service" in unit


def test_the_kernel_datapath_leaves_the_tunnel_interface_alone(
    regions: dict[str, RegionDir],
) -> None:
    found = chassis(regions["testbed-ha"], "tb2", kernel_module=True)
    assert found.value("__infra_ovn_controller_datapath") == "system"
    assert found.value("__infra_ovn_controller_tunnel_on_bridge") is False
    assert found.value("infra_ovn_controller_encap_ip") == "10.231.2.12"


def test_without_a_tunnel_network_the_tunnels_leave_from_the_management_address(
    regions: dict[str, RegionDir],
) -> None:
    found = chassis(regions["no-tunnel"], "tb2", kernel_module=False)
    assert found.value("infra_ovn_controller_tunnel_interface") == ""
    assert found.value("infra_ovn_controller_encap_ip") == "10.231.0.12"
    assert found.value("__infra_ovn_controller_tunnel_on_bridge") is False


def precheck(directory: RegionDir, kernel_module: bool) -> bool:
    that, task_vars, when = assertion(ROLE, "precheck.yml", PRECHECK)
    found = chassis(directory, "tb1", kernel_module)
    found.variables.update(task_vars)
    assert found.value(when) is True
    return all(found.value(condition) for condition in that)


def test_precheck_refuses_userspace_chassis_without_a_tunnel_network(
    regions: dict[str, RegionDir],
) -> None:
    assert precheck(regions["no-tunnel"], kernel_module=False) is False
    # The kernel datapath routes tunnels through the kernel; one chassis sends none.
    assert precheck(regions["no-tunnel"], kernel_module=True) is True
    assert precheck(regions["testbed-aio"], kernel_module=False) is True
    assert precheck(regions["testbed-ha"], kernel_module=False) is True
