"""Where the shipped playbook templates and roles are, installed or in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """``playbooks`` or ``roles``: inside the wheel (``_data/``) or beside the package."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"scs-deploy is installed without its {name}/ directory")


def callback_plugins_dir() -> Path:
    """Ansible callback plugins of scs-deploy (scs_converge)."""
    return data_dir("playbooks") / "plugins" / "callback"
