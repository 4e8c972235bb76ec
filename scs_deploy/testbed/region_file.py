"""The region.yml a testbed comes with. Plain text so it carries comments; pure."""

from __future__ import annotations

import json
from collections.abc import Sequence

from scs_deploy.testbed.plan import (
    EXTERNAL_GATEWAY,
    EXTERNAL_INTERFACE,
    EXTERNAL_POOL,
    EXTERNAL_SUBNET,
    GATEWAY,
    GUEST_INTERFACE,
    SUBNET,
    VIP,
    HostPlan,
    ceph_replicas,
)

PRIVATE_KEY = "ssh/id_ed25519"


def _flow(items: Sequence[str]) -> str:
    """A YAML flow list; JSON strings are valid YAML scalars and quote what needs it."""
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def _scalar(text: str) -> str:
    plain = text.replace("/", "").replace("-", "").replace(".", "").replace("_", "")
    return text if plain.isalnum() else json.dumps(text)


def render(
    hosts: Sequence[HostPlan],
    release: str,
    ssh_public_key: str,
    ca_certificates: Sequence[str],
) -> str:
    """region.yml for ``hosts``; ``ca_certificates`` are paths relative to the directory."""
    count = len(hosts)
    lines = [
        f"# Written by `scs-deploy testbed up`: {count} container "
        f"host{'s' if count != 1 else ''} on this machine.",
        "name: testbed",
        f"release: {json.dumps(release)}",
        "environment:",
        f"  ca_certificates: {_flow(ca_certificates)}   # relative to this directory",
        "  ntp_servers: []          # the machine keeps the kernel clock; "
        "the control hosts serve it",
        "operator:",
        "  user: scs",
        f"  ssh_public_keys: [{json.dumps(ssh_public_key.strip())}]",
        "networks:",
        "  management:",
        f"    cidr: {SUBNET}",
        f"    gateway: {GATEWAY}",
        f"    vip: {VIP}",
        "  external:                # floating IPs: the testbed's second bridge; "
        "this machine routes to it",
        f"    cidr: {EXTERNAL_SUBNET}",
        f"    gateway: {EXTERNAL_GATEWAY}",
        f"    allocation_pool: {{start: {EXTERNAL_POOL[0]}, end: {EXTERNAL_POOL[1]}}}",
        "hosts:",
    ]
    for host in hosts:
        interfaces = f"management: {GUEST_INTERFACE}"
        if "network" in host.roles:
            interfaces += f", external: {EXTERNAL_INTERFACE}"
        lines += [
            f"  - name: {host.name}",
            f"    address: {host.address}",
            f"    roles: {_flow(host.roles)}",
            f"    ssh: {{user: root, private_key: {PRIVATE_KEY}}}",
            f"    interfaces: {{{interfaces}}}",
            f"    disks: {_flow([d.guest_path for d in host.disks])}"
            "     # loop devices, bound in by the testbed",
        ]
    lines += [
        "ceph:",
        f"  replicas: {ceph_replicas(tuple(hosts))}        # = min(3, number of storage hosts)",
        "  osd_backend: raw   # the testbed kernel has no device-mapper",
        "  # The monitors' data shares this machine's disk, whose free space the",
        "  # testbed does not control: a low-disk warning there is not the cluster's.",
        "  allowed_health_warnings: [MON_DISK_LOW]",
    ]
    return "\n".join(lines) + "\n"
