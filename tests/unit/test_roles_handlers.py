"""Handlers restart a service one host at a time, so that with several hosts the others keep
serving while one restarts: either the restart itself has ``throttle: 1``, or the handler
includes a file once per play host and each host restarts on its own turn, waiting for its
cluster; the APIs' handlers mark a restart that deploy.yml then applies through os_restart,
one host at a time, out of HAProxy. The exceptions are named with their reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.modules import ROOT

ROLES = ROOT / "roles"
# Roles (or "role: handler") whose restart handlers may run on every host at once, and why.
AT_ONCE = {
    "host_chrony": "each host's own clock daemon; nothing is served to clients",
    "host_journald": "each host's own journal",
    "infra_haproxy": "scs-vip runs on a lone control host only; HAProxy and keepalived reload",
    "infra_mariadb": "the Galera tasks restart the nodes one at a time themselves (galera.yml)",
    "infra_rabbitmq: Restart the epmd socket": "each host's own port mapper, its node stopped",
    "infra_ovn_controller": "ovs-vswitchd of each chassis: its own guests' data path only",
    "os_nova_compute": "libvirt and nova-compute serve the guests of their own host only",
}


def restarts(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks that restart a systemd unit, also inside blocks."""
    found = []
    for task in tasks:
        found += restarts(task.get("block", []))
        module = task.get("ansible.builtin.systemd_service") or {}
        if module.get("state") == "restarted":
            found.append(task)
    return found


def read_tasks(path: Path) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return tasks


def restart_handlers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(ROLES.glob("*/handlers/main.yml")):
        role = path.parent.parent.name
        found += [(role, task) for task in restarts(read_tasks(path))]
    return found


def rolling_handlers() -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """Handlers that include a task file which restarts a unit, with those restarts."""
    found = []
    for path in sorted(ROLES.glob("*/handlers/main.yml")):
        role = path.parent.parent.name
        for task in read_tasks(path):
            included = task.get("ansible.builtin.include_tasks")
            if included:
                inner = restarts(read_tasks(ROLES / role / "tasks" / included))
                if inner:
                    found.append((role, task, inner))
    return found


def test_there_are_restart_handlers() -> None:
    assert len({role for role, _ in restart_handlers()}) >= 10


@pytest.mark.parametrize(
    ("role", "task"),
    [pytest.param(r, t, id=f"{r}: {t['name']}") for r, t in restart_handlers()],
)
def test_a_restart_handler_restarts_one_host_at_a_time(role: str, task: dict[str, Any]) -> None:
    if role in AT_ONCE or f"{role}: {task['name']}" in AT_ONCE:
        assert "throttle" not in task
        return
    assert task.get("throttle") == 1, f"roles/{role}/handlers/main.yml: {task['name']}"


@pytest.mark.parametrize(
    ("role", "handler", "inner"),
    [pytest.param(r, h, i, id=f"{r}: {h['name']}") for r, h, i in rolling_handlers()],
)
def test_an_included_restart_goes_one_host_at_a_time(
    role: str, handler: dict[str, Any], inner: list[dict[str, Any]]
) -> None:
    included = read_tasks(ROLES / role / "tasks" / handler["ansible.builtin.include_tasks"])
    turn = (handler.get("loop_control") or {}).get("loop_var")
    if turn:
        # Each host on its own turn: the file's tasks run only where the host is the turn's.
        assert handler["loop"] == "{{ ansible_play_hosts }}"
        guard = f"inventory_hostname == {turn}"
        assert all(task.get("when") == guard for task in included), included
    else:
        assert all(task.get("throttle") == 1 for task in inner), f"roles/{role}: {inner}"


def os_restart_includes() -> list[tuple[str, dict[str, Any]]]:
    """The tasks that include os_restart (a handler cannot include a role: the role's
    restart handler marks the restart pending, deploy.yml applies it after the flush)."""
    found = []
    for path in sorted(ROLES.glob("*/tasks/*.yml")):
        role = path.parent.parent.name
        for task in read_tasks(path):
            if (task.get("ansible.builtin.include_role") or {}).get("name") == "os_restart":
                found.append((role, task))
    return found


def test_every_api_restarts_through_os_restart() -> None:
    assert {role for role, _ in os_restart_includes()} == {
        "os_keystone",
        "os_glance",
        "os_placement",
        "os_cinder",
        "os_nova",
        "os_neutron",
        "os_barbican",
        "os_octavia",
    }


@pytest.mark.parametrize(
    ("role", "task"),
    [pytest.param(r, t, id=f"{r}: {t['name']}") for r, t in os_restart_includes()],
)
def test_os_restart_goes_one_host_at_a_time_out_of_haproxy(role: str, task: dict[str, Any]) -> None:
    assert task["loop"] == "{{ ansible_play_hosts }}"
    assert task["loop_control"] == {"loop_var": "os_restart_turn"}
    assert task["vars"]["os_restart_backends"] == f"{{{{ {role}_haproxy_backends }}}}"
    assert "os_restart_units" in task["vars"]
    # Only where the role's restart handler ran; the mark is cleared after.
    pending = f"__{role}_restart_pending"
    assert task["when"] == f"{pending} | default(false)"
    handler = next(
        h
        for h in read_tasks(ROLES / role / "handlers" / "main.yml")
        if "ansible.builtin.set_fact" in h
    )
    assert handler["ansible.builtin.set_fact"] == {pending: True}
    deploy = read_tasks(ROLES / role / "tasks" / "deploy.yml")
    assert {pending: False} in [t.get("ansible.builtin.set_fact") for t in deploy]


def test_os_restart_acts_only_on_the_turn_of_its_host() -> None:
    tasks = read_tasks(ROLES / "os_restart" / "tasks" / "main.yml")
    assert [task.get("when") for task in tasks] == ["inventory_hostname == os_restart_turn"]
    turn = tasks[0]["block"]
    assert [task["name"] for task in turn] == [
        "Read which of the units run",
        "Restart the running units, out of HAProxy",
    ]
    # A host whose units do not run yet leaves HAProxy alone: its servers are not up anyway,
    # and waiting for them to come back would wait for the role's later start task.
    assert turn[1]["when"] == "__os_restart_running_units | length > 0"
    assert [task["name"] for task in turn[1]["block"]] == [
        "Take the host's servers out of HAProxy",
        "Restart the units",
        "Wait for the restarted servers to answer HAProxy's check",
    ]
    assert turn[1]["block"][1]["loop"] == "{{ __os_restart_running_units }}"
    # Back into HAProxy also when the restart failed.
    assert [task["name"] for task in turn[1]["always"]] == [
        "Put the host's servers back into HAProxy and wait for their checks to pass"
    ]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({}, []),
        ({"keystone-api": "stopped", "nova-api": "failed"}, []),
        ({"keystone-api": "running", "nova-api": "stopped"}, ["keystone-api"]),
        ({"nova-api": "running", "keystone-api": "running"}, ["keystone-api", "nova-api"]),
    ],
)
def test_os_restart_restarts_only_what_runs(states: dict[str, str], expected: list[str]) -> None:
    # A new host's units start in the role's start task, all hosts at once, not one turn at
    # a time: on a fresh three-host region that was 228.5 s of the openstack phase.
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    from tests.unit.role_vars import _init_plugins

    _init_plugins()
    expression = yaml.safe_load((ROLES / "os_restart" / "vars" / "main.yml").read_text())
    services = {
        f"{unit}.service": {"name": f"{unit}.service", "state": state}
        for unit, state in states.items()
    }
    found = Templar(
        loader=DataLoader(),
        variables={
            "os_restart_units": ["keystone-api", "nova-api"],
            "ansible_facts": {"services": services},
        },
    ).template(trust_as_template(expression["__os_restart_running_units"]))
    assert found == expected


def test_the_rolling_restarts_wait_for_their_cluster() -> None:
    waits = {}
    for role, handler, _ in rolling_handlers():
        if "loop" in handler:
            included = read_tasks(ROLES / role / "tasks" / handler["ansible.builtin.include_tasks"])
            waits[role] = [
                task["ansible.builtin.include_tasks"]
                for task in included[0]["block"]
                if "ansible.builtin.include_tasks" in task
            ]
    assert waits == {
        "infra_ovn_central": ["cluster_status.yml"],
        "infra_rabbitmq": ["running.yml"],
    }


def test_the_exceptions_are_roles_with_restart_handlers() -> None:
    found = restart_handlers()
    assert set(AT_ONCE) <= {role for role, _ in found} | {f"{r}: {t['name']}" for r, t in found}


def test_handlers_files_are_yaml_lists() -> None:
    for path in ROLES.glob("*/handlers/main.yml"):
        assert isinstance(yaml.safe_load(Path(path).read_text(encoding="utf-8")), list), path
