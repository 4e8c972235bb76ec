#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: keys of a map column of one Open vSwitch database record (ovs-vsctl)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_ovsdb_map
short_description: Set and remove keys of a map column in the local Open vSwitch database
description:
  - Reads the column first and changes only the keys whose value differs, in one ovs-vsctl
    transaction. A key given with a null value is removed; keys not given are left alone.
  - The openvswitch.openvswitch collection (openvswitch_db) is not part of the ansible package
    this project installs.
options:
  table:
    description: Table of the record.
    type: str
    default: Open_vSwitch
  record:
    description: Record name or UUID ("." for the single Open_vSwitch row).
    type: str
    default: "."
  column:
    description: The map column.
    type: str
    default: external_ids
  values:
    description: Key to value (compared as strings); null removes the key.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Point ovn-controller at the Southbound database
  scs_ovsdb_map:
    values:
      ovn-remote: tcp:10.231.0.11:6642
      ovn-cms-options: null
"""

RETURN = r"""
changes:
  description: Keys set (key=value) or removed (-key).
  type: list
  elements: str
  returned: always
"""

import json  # noqa: E402
import re  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

# Keys written bare on the ovs-vsctl command line (COLUMN:KEY=VALUE).
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def parse_map(list_json: str) -> dict[str, str]:
    """The map of `ovs-vsctl --format=json --columns=COLUMN list TABLE RECORD`."""
    data = json.loads(list_json)["data"]
    if len(data) != 1:
        raise ValueError(f"expected one record, got {len(data)}")
    kind, pairs = data[0][0]
    if kind != "map":
        raise ValueError(f"column is a {kind}, not a map")
    return {str(key): str(value) for key, value in pairs}


def plan(current: dict[str, str], wanted: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Keys to set (new value) and keys to remove."""
    to_set = {
        key: str(value)
        for key, value in wanted.items()
        if value is not None and current.get(key) != str(value)
    }
    to_remove = sorted(key for key, value in wanted.items() if value is None and key in current)
    return to_set, to_remove


def vsctl_args(table: str, record: str, column: str, to_set: dict[str, str], to_remove: list[str]) -> list[str]:
    """One ovs-vsctl transaction; values are quoted (JSON string syntax, which ovs-vsctl reads)."""
    args: list[str] = []
    if to_set:
        args += ["set", table, record] + [
            f"{column}:{key}={json.dumps(value)}" for key, value in sorted(to_set.items())
        ]
    for key in to_remove:
        args += (["--"] if args else []) + ["remove", table, record, column, key]
    return args


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "table": {"type": "str", "default": "Open_vSwitch"},
            "record": {"type": "str", "default": "."},
            "column": {"type": "str", "default": "external_ids"},
            "values": {"type": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    bad = [key for key in params["values"] if not KEY.match(key)]
    if bad:
        module.fail_json(msg=f"keys must be plain names: {', '.join(bad)}")
    vsctl = module.get_bin_path("ovs-vsctl", required=True)
    rc, out, err = module.run_command(
        [vsctl, "--format=json", f"--columns={params['column']}", "list", params["table"], params["record"]]
    )
    if rc != 0:
        module.fail_json(msg=f"ovs-vsctl list {params['table']} {params['record']}: {err.strip()}")
    try:
        current = parse_map(out)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        module.fail_json(msg=f"{params['table']} {params['record']} {params['column']}: {error}")
    to_set, to_remove = plan(current, params["values"])
    changes = [f"{key}={value}" for key, value in sorted(to_set.items())] + [f"-{key}" for key in to_remove]
    if changes and not module.check_mode:
        args = vsctl_args(params["table"], params["record"], params["column"], to_set, to_remove)
        rc, out, err = module.run_command([vsctl] + args)
        if rc != 0:
            module.fail_json(msg=f"ovs-vsctl {' '.join(args)}: {err.strip()}")
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
