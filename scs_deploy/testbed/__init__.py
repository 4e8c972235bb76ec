"""Local test hosts: Debian 13 systemd-nspawn containers on a bridge with NAT.

``up`` builds (once) a cached root, starts the hosts on overlays, gives them
loop-device disks and a memory cap, and writes a region.yml that points at them;
``down`` removes all of it; ``status`` reports what runs. ``stop_host`` cuts one
host's power (SIGKILL to all its processes) and ``start_host`` boots it again on
the root and disks it had, for failover tests. Needs root.
"""

from __future__ import annotations

from scs_deploy.testbed.info import DiskInfo, HostInfo, TestbedInfo
from scs_deploy.testbed.lifecycle import down, start_host, status, stop_host, up

__all__ = [
    "DiskInfo",
    "HostInfo",
    "TestbedInfo",
    "down",
    "start_host",
    "status",
    "stop_host",
    "up",
]
