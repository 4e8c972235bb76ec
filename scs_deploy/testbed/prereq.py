"""Root and the host tools the testbed needs, checked before anything is touched."""

from __future__ import annotations

import os
import shutil

from scs_deploy.errors import TestbedPrerequisiteError

#: Tool -> the Debian package that provides it.
TOOLS: dict[str, str] = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "iptables": "iptables",
    "iptables-save": "iptables",
    "losetup": "mount",
    "ip": "iproute2",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}


def check_prerequisites() -> None:
    """Raise TestbedPrerequisiteError naming what is missing (not root, tools)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    problems = []
    if os.geteuid() != 0:
        problems.append("the testbed needs root (run it with sudo)")
    if missing:
        packages = sorted({TOOLS[t] for t in missing})
        problems.append(f"missing {', '.join(missing)}: apt-get install {' '.join(packages)}")
    if problems:
        raise TestbedPrerequisiteError("; ".join(problems))
