"""The converge fast path: what each role's last successful run left on each host.

A phase's first play asks every host, in one module call, which roles need a run: a
role never recorded there, recorded with other inputs (region, secrets, scs-deploy's
roles or Ansible changed), or whose files, units, packages or accounts differ from what
its last run left. Roles that need none are left out on every host; gates always run.
The phase's last play observes what the roles that ran manage (the scs_converge
callback names it); a successful phase records that here, a failed one forgets the
phase, so the next run is a full one. ``deploy --full`` runs every role.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from scs_deploy.phases import Phase
from scs_deploy.render import Render
from scs_deploy.resources import data_dir

#: 2: inputs are per role (the role's own code), not one digest of all code.
#: 3: and the rendered variables the role names, not the whole render.
#: 4: every record observes the host's machine id.
CONVERGE_VERSION = 4


class RoleRecord(BaseModel):
    """A role's last successful run on a host: with which inputs, leaving what."""

    model_config = ConfigDict(extra="forbid")

    inputs: str
    observed: dict[str, str] = {}


class ConvergeRecords(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = CONVERGE_VERSION
    # phase -> host -> role -> record
    phases: dict[str, dict[str, dict[str, RoleRecord]]] = {}


#: Roles every phase playbook runs around the others: a change there may change what any
#: role's record means.
SHARED_ROLES = ("converge",)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A filter's name in a filter plugin's ``filters()`` mapping.
_FILTER_NAME = re.compile(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']\s*:""")


def _files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )


def _digest_tree(digest: Any, root: Path, label: str) -> None:
    for path in _files(root):
        digest.update(f"{label}/{path.relative_to(root).as_posix()}".encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


@cache
def _own_words(role: str) -> frozenset[str]:
    """Every name the files of one role mention."""
    words: set[str] = set()
    for path in _files(data_dir("roles") / role):
        words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(words)


@cache
def role_dependencies() -> dict[str, frozenset[str]]:
    """Per role, the roles whose code its run uses, itself included, transitively.

    A role uses another when its files name it (include_role, import_role, meta
    dependencies) or name a module or filter the other one ships. Counting every mention
    over-counts (a comment, a task name): that costs a needless run, never a wrong skip.
    """
    root = data_dir("roles")
    roles = sorted(path.name for path in root.iterdir() if path.is_dir())
    provides: dict[str, str] = {role: role for role in roles}
    for role in roles:
        for module in sorted((root / role / "library").glob("*.py")):
            provides.setdefault(module.stem, role)
        for plugin in sorted((root / role / "filter_plugins").glob("*.py")):
            for name in _FILTER_NAME.findall(plugin.read_text(encoding="utf-8")):
                provides.setdefault(name, role)
    direct: dict[str, set[str]] = {}
    for role in roles:
        words = _own_words(role)
        direct[role] = {provides[word] for word in words if word in provides} | {role}
    closed: dict[str, frozenset[str]] = {}
    for role in roles:
        seen, todo = {role}, [role]
        while todo:
            for used in direct[todo.pop()] - seen:
                seen.add(used)
                todo.append(used)
        closed[role] = frozenset(seen)
    return closed


@cache
def _shared_code_digest() -> str:
    """The playbook templates and plugins, the shared roles, and the Ansible that runs them."""
    digest = hashlib.sha256()
    _digest_tree(digest, data_dir("playbooks"), "playbooks")
    for role in SHARED_ROLES:
        _digest_tree(digest, data_dir("roles") / role, f"roles/{role}")
    for package in ("ansible-core", "ansible"):
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()


@cache
def code_digest(role: str) -> str:
    """The code one role's run depends on: its own files, those of the roles it uses, and
    the shared code. A change elsewhere leaves its records valid."""
    digest = hashlib.sha256(_shared_code_digest().encode() + b"\0")
    root = data_dir("roles")
    for used in sorted(role_dependencies().get(role, frozenset({role}))):
        if (root / used).is_dir():
            _digest_tree(digest, root / used, f"roles/{used}")
    return digest.hexdigest()


@cache
def role_words(role: str) -> frozenset[str]:
    """Every name the files of a role, and of the roles it uses, mention: a superset of the
    variables its run reads."""
    root = data_dir("roles")
    used = role_dependencies().get(role, frozenset({role}))
    return frozenset().union(*(_own_words(name) for name in used if (root / name).is_dir()))


def _used_variables(words: set[str], variables: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The variables ``words`` name, and those their values name, transitively."""
    defined = {name for values in variables.values() for name in values}
    used, todo = set(), sorted(words & defined)
    while todo:
        name = todo.pop()
        if name in used:
            continue
        used.add(name)
        for values in variables.values():
            if name in values:
                named = set(_WORD.findall(json.dumps(values[name]))) & defined
                todo.extend(sorted(named - used))
    return used


class RoleInputs:
    """Everything a role's run depends on besides the host, one digest per role: the code of
    that role (``code_digest``), the rendered variables its code (or the playbooks) names,
    the rest of the render (inventory, playbooks, ansible.cfg) and the secrets.

    A change to a variable no role mentions leaves every record valid; one that only
    Neutron's roles read re-runs only those.
    """

    def __init__(self, render: Render, secrets_file: Path) -> None:
        digest = hashlib.sha256()
        common_words: set[str] = set()
        for name in sorted(render.files):
            if name in render.variables:
                continue
            text = render.files[name]
            digest.update(name.encode() + b"\0" + text.encode() + b"\0")
            common_words.update(_WORD.findall(text))
        with contextlib.suppress(FileNotFoundError):
            digest.update(secrets_file.read_bytes())
        for role in SHARED_ROLES:
            common_words |= role_words(role)
        self._common = digest.hexdigest()
        self._common_words = frozenset(common_words)
        self._variables = render.variables
        self._digests: dict[str, str] = {}

    def variables_of(self, role: str) -> set[str]:
        """The rendered variables whose values count for ``role``."""
        return _used_variables(set(role_words(role) | self._common_words), self._variables)

    def __getitem__(self, role: str) -> str:
        if role not in self._digests:
            digest = hashlib.sha256(f"{self._common}\0{code_digest(role)}\0".encode())
            used = self.variables_of(role)
            for file in sorted(self._variables):
                values = self._variables[file]
                for name in sorted(used & values.keys()):
                    digest.update(
                        f"{file}\0{name}\0{json.dumps(values[name], sort_keys=True)}\0".encode()
                    )
            self._digests[role] = digest.hexdigest()
        return self._digests[role]


def load_records(path: Path) -> ConvergeRecords:
    """The records; none when the file is missing, unreadable or of another version.

    Losing them costs one full run, never a wrong skip.
    """
    try:
        records = ConvergeRecords.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError):
        return ConvergeRecords()
    return records if records.version == CONVERGE_VERSION else ConvergeRecords()


def save_records(path: Path, records: ConvergeRecords) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(records.model_dump_json(indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)


def phase_settings(
    phase: Phase,
    host_groups: dict[str, set[str]],
    records: ConvergeRecords,
    inputs: Mapping[str, str] | RoleInputs,
    manifest: Path,
    full: bool = False,
) -> dict[str, Any]:
    """The extra vars ``scs_converge`` of one phase run: per host, what the check compares."""
    kept = records.phases.get(phase.name, {})
    hosts: dict[str, Any] = {}
    for host, groups in sorted(host_groups.items()):
        pending: list[str] = []
        expected: dict[str, dict[str, str]] = {}
        for role in phase.roles_on(groups):
            record = kept.get(host, {}).get(role)
            if full or record is None or record.inputs != inputs[role]:
                pending.append(role)
            else:
                expected[role] = record.observed
        hosts[host] = {"pending": pending, "expected": expected}
    return {"scs_converge": {"manifest": str(manifest), "hosts": hosts}}


def record_run(
    records: ConvergeRecords,
    phase: Phase,
    host_groups: dict[str, set[str]],
    manifest: Path,
    inputs: Mapping[str, str] | RoleInputs,
) -> ConvergeRecords:
    """After a successful phase: the roles that ran, with what the last play observed."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return forget_phase(records, phase)
    kept = {host: dict(roles) for host, roles in records.phases.get(phase.name, {}).items()}
    for host, entry in (data.get("hosts") or {}).items():
        if host not in host_groups:
            continue
        converging = set(phase.roles_on(host_groups[host]))
        managed = entry.get("managed") or {}
        observed = entry.get("observed") or {}
        for role in entry.get("ran") or []:
            if role not in converging:
                continue
            if not managed.get(role):
                kept.setdefault(host, {})[role] = RoleRecord(inputs=inputs[role], observed={})
            elif isinstance(observed.get(role), dict):
                kept.setdefault(host, {})[role] = RoleRecord(
                    inputs=inputs[role], observed=observed[role]
                )
            else:
                # It manages something the last play did not observe: no proof, no record.
                kept.get(host, {}).pop(role, None)
    phases = dict(records.phases)
    phases[phase.name] = kept
    return records.model_copy(update={"phases": phases})


def forget_phase(records: ConvergeRecords, phase: Phase) -> ConvergeRecords:
    """After a failed or interrupted phase: its next run runs every role."""
    phases = {name: hosts for name, hosts in records.phases.items() if name != phase.name}
    return records.model_copy(update={"phases": phases})
