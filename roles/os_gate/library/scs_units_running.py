#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: assert that systemd units run and start at boot, from one systemctl call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_units_running
short_description: Fail unless every given systemd unit is active and enabled (or static)
description:
  - Reads the load, active, sub and enablement state of all units in one C(systemctl show)
    call; service_facts lists every unit of the host, ten times slower on a cloud host.
  - Never changes anything.
options:
  units:
    description: Unit names (C(.service) is added to names without a suffix).
    type: list
    elements: str
    required: true
  enablement:
    description: Enablement states that count as starting at boot.
    type: list
    elements: str
    default: [enabled, static]
"""

EXAMPLES = r"""
- name: Check that the Keystone units run
  scs_units_running:
    units: [keystone-api]
"""

RETURN = r"""
units:
  description: Unit name to its state (load, active, sub, enablement).
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "UnitFileState")


def _unit(name):
    return name if "." in name else name + ".service"


def main():
    module = AnsibleModule(
        argument_spec={
            "units": {"type": "list", "elements": "str", "required": True},
            "enablement": {"type": "list", "elements": "str", "default": ["enabled", "static"]},
        },
        supports_check_mode=True,
    )
    names = [_unit(name) for name in module.params["units"]]
    if not names:
        module.exit_json(changed=False, units={})
    rc, out, err = module.run_command(
        ["systemctl", "show", "--property=" + ",".join(_PROPERTIES), "--", *names]
    )
    if rc != 0:
        module.fail_json(msg="systemctl show failed: " + (err or out).strip())
    blocks = out.strip().split("\n\n")
    if len(blocks) != len(names):
        module.fail_json(
            msg="systemctl show answered for %d of %d units: %s"
            % (len(blocks), len(names), ", ".join(names))
        )
    states = {}
    for name, block in zip(names, blocks):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states[name] = {
            "load": fields.get("LoadState", ""),
            "active": fields.get("ActiveState", ""),
            "sub": fields.get("SubState", ""),
            "enablement": fields.get("UnitFileState", ""),
        }
    problems = []
    for name, state in states.items():
        if state["load"] != "loaded":
            problems.append("%s is not installed (%s)" % (name, state["load"]))
        elif state["active"] != "active" or state["sub"] != "running":
            problems.append(
                "%s is %s (%s), expected running: see journalctl -u %s"
                % (name, state["active"], state["sub"], name)
            )
        elif state["enablement"] not in module.params["enablement"]:
            problems.append(
                "%s is %s, expected one of %s"
                % (name, state["enablement"], ", ".join(module.params["enablement"]))
            )
    if problems:
        module.fail_json(msg="; ".join(problems), units=states)
    module.exit_json(changed=False, units=states)


if __name__ == "__main__":
    main()
