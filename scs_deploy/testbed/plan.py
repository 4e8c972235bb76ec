"""What a testbed of N hosts looks like: names, addresses, roles, disks. Pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from scs_deploy.errors import UsageError

BRIDGE = "scstb0"
SUBNET = IPv4Network("10.231.0.0/24")
GATEWAY = IPv4Address("10.231.0.1")
VIP = IPv4Address("10.231.0.10")
FIRST_HOST = IPv4Address("10.231.0.11")
MAX_HOSTS = 50
MAX_DISKS = 24
#: The region's external network (floating IPs): a bridge of its own that the
#: network hosts' second interface sits on; this machine is its gateway.
EXTERNAL_BRIDGE = "scstb1"
EXTERNAL_SUBNET = IPv4Network("10.231.1.0/24")
EXTERNAL_GATEWAY = IPv4Address("10.231.1.1")
EXTERNAL_POOL = (IPv4Address("10.231.1.100"), IPv4Address("10.231.1.199"))
#: The host's interface on the external bridge (a veth; OVN's br-ex takes it).
EXTERNAL_INTERFACE = "ext0"
#: The tunnel network (Geneve between OVN chassis): a bridge of its own, without
#: routing, so that OVS's userspace datapath can hold the tunnel address on a bridge
#: of its own (its tunnels do not leave through an interface outside OVS).
TUNNEL_BRIDGE = "scstb2"
TUNNEL_SUBNET = IPv4Network("10.231.2.0/24")
#: The host's interface on the tunnel bridge (a veth).
TUNNEL_INTERFACE = "tun0"
#: Marks every iptables rule the testbed adds, so leftovers can be found by name.
RULE_COMMENT = "scs-testbed"
#: The interface systemd-nspawn gives a container on ``--network-bridge``.
GUEST_INTERFACE = "host0"

ALL_ROLES: tuple[str, ...] = ("control", "network", "compute", "storage")
WORKER_ROLES: tuple[str, ...] = ("compute", "storage")

_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(i?B?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


@dataclass(frozen=True)
class DiskPlan:
    """One loop-device disk of a host: its image file name and its path inside the host."""

    image_name: str
    guest_path: str


@dataclass(frozen=True)
class HostPlan:
    """One container host as it will be created."""

    name: str
    address: IPv4Address
    roles: tuple[str, ...]
    disks: tuple[DiskPlan, ...]


def parse_size(text: str) -> int:
    """Bytes in a size such as ``20G``, ``512M``, ``6GiB`` (powers of 1024)."""
    match = _SIZE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"'{text}' is not a size: use e.g. 20G, 512M")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def external_veth(name: str) -> str:
    """The machine's end of a host's external veth (interface names are 15 characters at most)."""
    return f"vx-{name}"[:15]


def tunnel_veth(name: str) -> str:
    """The machine's end of a host's tunnel veth."""
    return f"vt-{name}"[:15]


def tunnel_address(address: IPv4Address) -> IPv4Address:
    """The host's tunnel address: its management address's host part in TUNNEL_SUBNET."""
    return TUNNEL_SUBNET.network_address + (int(address) - int(SUBNET.network_address))


def host_name(index: int) -> str:
    """``tb1`` for index 0."""
    return f"tb{index + 1}"


def host_address(index: int) -> IPv4Address:
    """10.231.0.11 for index 0, then upwards."""
    address = FIRST_HOST + index
    if address not in SUBNET or address == SUBNET.broadcast_address:
        raise UsageError(f"no address left in {SUBNET} for host {index + 1}")
    return address


def roles_for(index: int, count: int) -> tuple[str, ...]:
    """Roles of host ``index`` in a testbed of ``count`` hosts.

    One host carries everything; with two the second is a worker; with three or
    more the first three form the control plane (odd quorum) and all are workers.
    """
    if count <= 2:
        return ALL_ROLES if index == 0 else WORKER_ROLES
    return ALL_ROLES if index < 3 else WORKER_ROLES


def guest_disk_path(index: int) -> str:
    """/dev/vdb, /dev/vdc, ...: the planned name; ``up`` binds each disk under its
    loop device's own name instead (see lifecycle._create)."""
    return f"/dev/vd{chr(ord('b') + index)}"


def plan(hosts: int, disks: int) -> tuple[HostPlan, ...]:
    """Every host of a testbed with ``hosts`` hosts of ``disks`` disks each."""
    if not 1 <= hosts <= MAX_HOSTS:
        raise UsageError(f"--hosts must be between 1 and {MAX_HOSTS}, not {hosts}")
    if not 0 <= disks <= MAX_DISKS:
        raise UsageError(f"--disks must be between 0 and {MAX_DISKS}, not {disks}")
    return tuple(
        HostPlan(
            name=host_name(i),
            address=host_address(i),
            roles=roles_for(i, hosts),
            disks=tuple(
                DiskPlan(image_name=f"{host_name(i)}-{d + 1}.img", guest_path=guest_disk_path(d))
                for d in range(disks)
            ),
        )
        for i in range(hosts)
    )


def ceph_replicas(hosts: tuple[HostPlan, ...]) -> int:
    """min(3, number of storage hosts), at least 1."""
    return max(1, min(3, sum(1 for h in hosts if "storage" in h.roles)))
