"""What a role's variables become on one host of a rendered region, without running Ansible.

Ansible's own templating (ansible-core's Templar) evaluates the role's defaults and vars
over the rendered group_vars and host_vars, fixed stand-ins for the secrets and the few
facts the OpenStack roles read. Precedence as Ansible's: role defaults, then group_vars,
then host_vars, then role vars. Not a playbook run: tasks, registered results and
handlers are not involved, so only variables that do not depend on them can be read.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scs_deploy.model import Region
from scs_deploy.regiondir import RegionDir
from scs_deploy.releases import load_release
from scs_deploy.render import render
from scs_deploy.validate import load_region
from tests.unit.modules import ROOT

INVENTORIES = ROOT / "inventories"
ROLES = ROOT / "roles"
# The facts the roles' defaults read (worker counts).
FACTS = {"processor_vcpus": 4, "memtotal_mb": 16384}


def _secret(name: str, kind: str) -> str:
    """A fixed stand-in of the secret's kind, so that two evaluations compare equal."""
    if kind == "fernet_repository":
        return json.dumps({str(i): chr(ord("A") + i) * 43 + "=" for i in range(3)})
    if kind == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    return f"{name.replace('_', '-')}-0123456789"


@dataclass(frozen=True)
class RoleVars:
    """One host's variables with the given roles' defaults and vars."""

    variables: dict[str, Any]

    def value(self, expression: str, **extra: Any) -> Any:
        """A Jinja expression (e.g. a variable name) evaluated as the role would."""
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar, trust_as_template

        _init_plugins()
        templar = Templar(loader=DataLoader(), variables={**self.variables, **extra})
        return templar.template(trust_as_template("{{ " + expression + " }}"))

    def template(self, role: str, name: str, **extra: Any) -> str:
        """roles/<role>/templates/<name>, rendered as the template module would."""
        path = ROLES / role / "templates" / name
        return str(self.value(f"lookup('ansible.builtin.template', {str(path)!r})", **extra))


_PLUGINS: list[bool] = []


def _init_plugins() -> None:
    """Ansible's plugin loader, once per process (lookups such as template need it)."""
    if not _PLUGINS:
        from ansible.plugins.loader import init_plugin_loader

        init_plugin_loader()
        _PLUGINS.append(True)


def _load(path: Path) -> dict[str, Any]:
    from ansible.parsing.dataloader import DataLoader

    if not path.is_file():
        return {}
    data = DataLoader().load_from_file(str(path), trusted_as_template=True)
    return dict(data or {})


def example_dir(name: str, tmp_path: Path) -> RegionDir:
    """A copy of inventories/<name> (region.yml only: render reads no other file of it)."""
    target = tmp_path / name
    target.mkdir()
    shutil.copy(INVENTORIES / name / "region.yml", target / "region.yml")
    return RegionDir(target)


@functools.cache
def _rendered(path: Path) -> tuple[Region, dict[str, Any]]:
    """The region of a directory and its render's variables (the same bytes every time)."""
    directory = RegionDir(path)
    region = load_region(directory)
    files = render(region, directory).files
    found = {
        name: yaml.safe_load(text)
        for name, text in files.items()
        if name.startswith("inventory/") and name.endswith(".yml")
    }
    return region, found


def role_vars(directory: RegionDir, host: str, roles: list[str]) -> RoleVars:
    region, files = _rendered(directory.path)
    group_vars = files["inventory/group_vars/all.yml"]
    host_vars = files[f"inventory/host_vars/{host}.yml"]
    release = load_release(region.release)
    secrets = {f"scs_secret_{name}": _secret(name, kind) for name, kind in release.secrets.items()}
    groups = {name: list(members) for name, members in region.groups.items()}
    groups["all"] = [h.name for h in region.hosts]
    variables: dict[str, Any] = {}
    for role in roles:
        variables.update(_load(ROLES / role / "defaults" / "main.yml"))
    variables.update(copy.deepcopy(group_vars))
    variables.update(secrets)
    variables.update(copy.deepcopy(host_vars))
    variables.update(
        {
            "inventory_hostname": host,
            "groups": groups,
            "group_names": sorted(region.host_groups[host]),
            "ansible_facts": dict(FACTS),
            "scs_action": "deploy",
        }
    )
    for role in roles:
        variables.update(_load(ROLES / role / "vars" / "main.yml"))
    return RoleVars(variables)


def assertion(role: str, tasks: str, name: str) -> tuple[list[str], dict[str, Any], str]:
    """The conditions (``that``), task vars and ``when`` of an assert task of a role."""
    for task in _load_list(ROLES / role / "tasks" / tasks):
        if task.get("name") == name:
            that = task["ansible.builtin.assert"]["that"]
            return list(that), dict(task.get("vars", {})), str(task.get("when", "true"))
    raise KeyError(name)


def _load_list(path: Path) -> list[dict[str, Any]]:
    from ansible.parsing.dataloader import DataLoader

    return list(DataLoader().load_from_file(str(path), trusted_as_template=True))
