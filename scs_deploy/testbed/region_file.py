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
    TUNNEL_INTERFACE,
    TUNNEL_SUBNET,
    VIP,
    HostPlan,
    ceph_replicas,
    tunnel_address,
)

PRIVATE_KEY = "ssh/id_ed25519"


def _flow(items: Sequence[str]) -> str:
    """A YAML flow list; JSON strings are valid YAML scalars and quote what needs it."""
    return "[" + ", ".join(_scalar(i) for i in items) + "]"


def _scalar(text: str) -> str:
    plain = text.replace("/", "").replace("-", "").replace(".", "").replace("_", "")
    return text if plain.isalnum() else json.dumps(text)


#: Where `testbed up` puts the test guest image, relative to the testbed directory.
TEST_IMAGE_FILE = "images/scs-test-guest.raw"
TEST_IMAGE_NAME = "scs-test-guest"


def test_image_lines(built: str) -> list[str]:
    """The test guest in Glance, with the metadata scs-0102 asks of every public image;
    ``built``: its build date (YYYY-MM-DD)."""
    properties = {
        "architecture": "x86_64",
        "os_distro": "debian",
        "os_version": "13",
        "hw_disk_bus": "virtio",
        "hw_vif_model": "virtio",
        "hw_rng_model": "virtio",
        "os_type": "linux",
        "image_build_date": built,
        "image_original_user": "root",
        "image_source": "private",
        "image_description": "The scs-deploy test guest: busybox and dropbear on Debian 13's "
        "cloud kernel, built by `scs-deploy testbed image`",
        "replace_frequency": "never",
        "provided_until": "none",
        "uuid_validity": "none",
    }
    return [
        "scs:",
        "  images:                # the test guest, with the metadata of scs-0102",
        f"    - name: {TEST_IMAGE_NAME}",
        f"      file: {TEST_IMAGE_FILE}",
        "      disk_format: raw",
        "      min_disk: 1",
        "      min_ram: 128",
        "      properties:",
        *(f"        {key}: {json.dumps(value)}" for key, value in properties.items()),
    ]


def render(
    hosts: Sequence[HostPlan],
    release: str,
    ssh_public_key: str,
    ca_certificates: Sequence[str],
    test_image_built: str | None = None,
) -> str:
    """region.yml for ``hosts``; ``ca_certificates`` are paths relative to the directory;
    ``test_image_built``: the build date of the test guest at TEST_IMAGE_FILE (None: none)."""
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
        "  tunnel:                  # Geneve between the hosts: the testbed's third bridge",
        f"    cidr: {TUNNEL_SUBNET}",
        "hosts:",
    ]
    for host in hosts:
        interfaces = f"management: {GUEST_INTERFACE}, tunnel: {TUNNEL_INTERFACE}"
        if "network" in host.roles:
            interfaces += f", external: {EXTERNAL_INTERFACE}"
        lines += [
            f"  - name: {host.name}",
            f"    address: {host.address}",
            f"    roles: {_flow(host.roles)}",
            f"    ssh: {{user: root, private_key: {PRIVATE_KEY}}}",
            f"    interfaces: {{{interfaces}}}",
            f"    addresses: {{tunnel: {tunnel_address(host.address)}}}",
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
    if test_image_built is not None:
        lines += test_image_lines(test_image_built)
    return "\n".join(lines) + "\n"
