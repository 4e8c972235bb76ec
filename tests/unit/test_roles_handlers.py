"""Handlers restart a service one host at a time (``throttle: 1``), so that with several hosts
the others keep serving while one restarts; the exceptions are named with their reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.modules import ROOT

ROLES = ROOT / "roles"
# Roles whose restart handlers may run on every host at once, and why.
AT_ONCE = {
    "host_chrony": "each host's own clock daemon; nothing is served to clients",
    "host_journald": "each host's own journal",
    "infra_haproxy": "scs-vip runs on a lone control host only; HAProxy and keepalived reload",
    "infra_mariadb": "the Galera tasks restart the nodes one at a time themselves (galera.yml)",
    "infra_rabbitmq": "the epmd rebind stops and starts RabbitMQ in a chain of handlers",
    "infra_ovn_controller": "ovs-vswitchd of each chassis: its own guests' data path only",
    "os_nova_compute": "libvirt and nova-compute serve the guests of their own host only",
}


def restart_handlers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(ROLES.glob("*/handlers/main.yml")):
        role = path.parent.parent.name
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            module = task.get("ansible.builtin.systemd_service") or {}
            if module.get("state") == "restarted":
                found.append((role, task))
    return found


def test_there_are_restart_handlers() -> None:
    assert len({role for role, _ in restart_handlers()}) >= 10


@pytest.mark.parametrize(
    ("role", "task"),
    [pytest.param(r, t, id=f"{r}: {t['name']}") for r, t in restart_handlers()],
)
def test_a_restart_handler_restarts_one_host_at_a_time(role: str, task: dict[str, Any]) -> None:
    if role in AT_ONCE:
        assert "throttle" not in task
        return
    assert task.get("throttle") == 1, f"roles/{role}/handlers/main.yml: {task['name']}"


def test_the_exceptions_are_roles_with_restart_handlers() -> None:
    assert set(AT_ONCE) <= {role for role, _ in restart_handlers()}


def test_handlers_files_are_yaml_lists() -> None:
    for path in ROLES.glob("*/handlers/main.yml"):
        assert isinstance(yaml.safe_load(Path(path).read_text(encoding="utf-8")), list), path
