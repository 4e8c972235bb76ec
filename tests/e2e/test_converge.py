"""The converge fast path on the shared region: a plain deploy after drift by hand puts
back exactly what drifted (a service's config file edited, a service stopped, a package
removed, a Ceph keyring deleted), runs only the roles that manage it, and the deploy after
that is converged again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scs_deploy.phases import get_phase
from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import deploy, ssh

pytestmark = pytest.mark.e2e

PHASES = ("bootstrap", "ceph", "openstack", "post-deploy")
KEYSTONE_CONF = "/etc/keystone/keystone.conf"
KEYRING = "/etc/ceph/ceph.client.glance.keyring"
MARK = "# edited by hand"


def latest_runs(directory: Path) -> dict[str, str]:
    phases = json.loads((directory / "state.json").read_text())["phases"]
    return {name: phases[name]["run_id"] for name in PHASES}


def phase_changes(directory: Path) -> dict[str, int]:
    phases = json.loads((directory / "state.json").read_text())["phases"]
    return {
        name: sum(host["changed"] for host in phases[name]["hosts"].values()) for name in PHASES
    }


def changed_roles(directory: Path, run_id: str) -> set[str]:
    """The roles of the task results that reported a change (helpers count as themselves)."""
    found = set()
    for path in (directory / "artifacts" / run_id / "job_events").glob("*.json"):
        event = json.loads(path.read_text())
        data: dict[str, Any] = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("res", {}).get("changed"):
            found.add(str(data.get("role")))
    return found


def roles_run(directory: Path, run_id: str) -> set[str]:
    """The roles the fast path ran (gates run every time: not counted)."""
    manifest = json.loads((directory / "artifacts" / run_id / "converge.json").read_text())
    converging = set(get_phase(run_id.split("-", 1)[1]).converging_roles)
    return {role for entry in manifest["hosts"].values() for role in entry["ran"]} & converging


def test_drift_is_repaired_where_it_is_and_nowhere_else(openstack_cloud: TestbedInfo) -> None:
    directory = openstack_cloud.directory
    # Records at the region as it is now (earlier tests changed region.yml): the deployed
    # region needs no change, whatever roles ran.
    deploy(directory)
    assert set(phase_changes(directory).values()) == {0}

    # tcpdump: a package nothing else needs (lsof would take mariadb-server with it).
    ssh(openstack_cloud, "tb1", f"echo '{MARK}' >> {KEYSTONE_CONF}")
    ssh(openstack_cloud, "tb1", "systemctl stop memcached")
    ssh(openstack_cloud, "tb1", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tcpdump")
    ssh(openstack_cloud, "tb1", f"rm {KEYRING}")

    deploy(directory)
    runs = latest_runs(directory)
    ran = {phase: roles_run(directory, runs[phase]) for phase in PHASES}
    assert ran == {
        "bootstrap": {"host_packages"},
        "ceph": {"ceph_clients"},
        "openstack": {"os_keystone", "infra_memcached"},
        "post-deploy": set(),
    }
    # A no_log task's result hides even whether it changed (the keyring): the phase's
    # count has it; the visible changes are all in roles that ran.
    counts = phase_changes(directory)
    assert {phase: counts[phase] > 0 for phase in PHASES} == {
        "bootstrap": True,
        "ceph": True,
        "openstack": True,
        "post-deploy": False,
    }
    for phase in PHASES:
        # os_restart restarts the units of the role that includes it (os_keystone here).
        assert changed_roles(directory, runs[phase]) - {"os_restart"} <= ran[phase], phase

    conf = ssh(openstack_cloud, "tb1", f"cat {KEYSTONE_CONF}").stdout
    assert MARK not in conf
    assert ssh(openstack_cloud, "tb1", "systemctl is-active memcached").stdout.strip() == "active"
    assert ssh(openstack_cloud, "tb1", "dpkg-query -W -f '${Status}' tcpdump").stdout.endswith(
        "installed"
    )
    assert ssh(openstack_cloud, "tb1", f"test -s {KEYRING}", check=False).returncode == 0

    deploy(directory)
    after = latest_runs(directory)
    assert all(roles_run(directory, run) == set() for run in after.values())
    assert set(phase_changes(directory).values()) == {0}
