#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: observe what roles manage on a host, in one call, to tell drift from convergence."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_converge
short_description: Observe files, units, packages and accounts that roles manage, in one call
description:
  - Keys name what a role manages, as the scs_converge callback recorded them from its tasks
    (C(path:/etc/x), C(exists:/var/lib/x), C(unit:x.service), C(package:x), C(user:x), C(group:x)).
  - O(mode=observe) returns, per role, each key's current value (a file's SHA-1, mode and owner;
    a unit's active and enablement state; a package's version; an account's ids).
  - O(mode=check) compares those values with the ones a successful run recorded and returns the
    roles whose inputs or host state differ, with the first difference of each.
  - Never changes anything; costs one module execution for a whole phase on a host.
options:
  mode:
    description: observe or check.
    type: str
    choices: [observe, check]
    required: true
  keys:
    description: For O(mode=observe), role name to the keys to observe.
    type: dict
    default: {}
  expected:
    description: For O(mode=check), role name to the key-to-value map a successful run recorded.
    type: dict
    default: {}
  pending:
    description: For O(mode=check), roles already known to need a run (no record, other inputs).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Find the roles whose managed state drifted
  scs_converge:
    mode: check
    expected: {host_chrony: {"path:/etc/chrony/chrony.conf": "file 1f0e... 0644 0 0"}}
    pending: []
"""

RETURN = r"""
observed:
  description: For O(mode=observe), role name to key to value.
  type: dict
  returned: when mode is observe
pending:
  description: For O(mode=check), the roles that need a run, sorted.
  type: list
  returned: when mode is check
reasons:
  description: For O(mode=check), role name to what differs.
  type: dict
  returned: when mode is check
"""

import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

_UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "UnitFileState")


def _sha1(path):
    digest = hashlib.sha1()  # noqa: S324 - what Ansible's own checksums use; not for security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _path(path):
    """A path's kind, content digest, mode and owner, as one comparable string."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "absent"
    except OSError as exc:
        return "unreadable %s" % exc.strerror
    owner = "%o %d %d" % (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        return "link %s %s" % (target, "ok" if os.path.exists(path) else "dangling")
    if stat.S_ISDIR(info.st_mode):
        return "directory " + owner
    if stat.S_ISREG(info.st_mode):
        try:
            return "file %s %s" % (_sha1(path), owner)
        except OSError as exc:
            return "unreadable %s" % exc.strerror
    return "special " + owner


def _exists(path):
    return "present" if os.path.lexists(path) else "absent"


def _user(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return "absent"
    return "%d %d %s %s" % (entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell)


def _group(name):
    try:
        return str(grp.getgrnam(name).gr_gid)
    except KeyError:
        return "absent"


def _units(module, names):
    """Every unit's load, active and enablement state, from one systemctl call."""
    if not names:
        return {}
    rc, out, err = module.run_command(
        ["systemctl", "show", "--property=" + ",".join(_UNIT_PROPERTIES), "--", *names]
    )
    if rc != 0:
        module.fail_json(msg="systemctl show failed: %s" % (err or out).strip())
    found = {}
    for block, name in zip(out.strip().split("\n\n"), names):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        active = fields.get("ActiveState", "")
        # A reload keeps the service up: not a state of its own.
        active = "active" if active == "reloading" else active
        found[name] = "%s %s %s" % (fields.get("LoadState", ""), active, fields.get("UnitFileState", ""))
    return found


def _packages(module, names):
    """Installed version per package ("absent" when not installed), from one dpkg-query call."""
    if not names:
        return {}
    _, out, _ = module.run_command(
        ["dpkg-query", "--show", "--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n", "--", *names]
    )
    versions = {}
    for line in out.splitlines():
        parts = line.split("\t")
        # The second letter is the package's state ("hi ": held, still installed).
        if len(parts) == 3 and parts[2][1:2] == "i":
            versions[parts[0]] = parts[1]
    return {name: versions.get(name.split(":", 1)[0], versions.get(name, "absent")) for name in names}


def observe(module, keys_by_role):
    """role -> key -> current value; each unit and package asked for once."""
    all_keys = sorted({key for keys in keys_by_role.values() for key in keys})
    units = _units(module, [k.split(":", 1)[1] for k in all_keys if k.startswith("unit:")])
    packages = _packages(module, [k.split(":", 1)[1] for k in all_keys if k.startswith("package:")])
    values = {}
    for key in all_keys:
        kind, _, name = key.partition(":")
        if kind == "path":
            values[key] = _path(name)
        elif kind == "exists":
            values[key] = _exists(name)
        elif kind == "unit":
            values[key] = units[name]
        elif kind == "package":
            values[key] = packages[name]
        elif kind == "user":
            values[key] = _user(name)
        elif kind == "group":
            values[key] = _group(name)
        else:
            module.fail_json(msg="unknown kind of key: %s" % key)
    return {role: {key: values[key] for key in keys} for role, keys in keys_by_role.items()}


def check(module, expected, pending):
    """The roles that need a run: those already pending, and those whose host state differs."""
    current = observe(module, {role: list(values) for role, values in expected.items()})
    reasons = {role: "no record of a successful run with these inputs" for role in pending}
    for role, values in sorted(expected.items()):
        for key, value in sorted(values.items()):
            now = current[role][key]
            if now != value:
                reasons[role] = "%s: was %s, is %s" % (key, value, now)
                break
    return sorted(reasons), reasons


def main():
    module = AnsibleModule(
        argument_spec={
            "mode": {"type": "str", "choices": ["observe", "check"], "required": True},
            "keys": {"type": "dict", "default": {}},
            "expected": {"type": "dict", "default": {}},
            "pending": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    if module.params["mode"] == "observe":
        module.exit_json(changed=False, observed=observe(module, module.params["keys"]))
    pending, reasons = check(module, module.params["expected"], module.params["pending"])
    module.exit_json(changed=False, pending=pending, reasons=reasons)


if __name__ == "__main__":
    main()
