"""The typed region model."""

from scs_deploy.model.region import (
    DEFAULT_RELEASE,
    NETWORK_NAMES,
    CephSettings,
    Disk,
    Host,
    HostEnvironment,
    Network,
    Networks,
    Region,
)

__all__ = [
    "DEFAULT_RELEASE",
    "NETWORK_NAMES",
    "CephSettings",
    "Disk",
    "Host",
    "HostEnvironment",
    "Network",
    "Networks",
    "Region",
]
