#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: an Open vSwitch bridge with its datapath type and ports (ovs-vsctl)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_ovs_bridge
short_description: Make sure an Open vSwitch bridge exists with a datapath type and ports
description:
  - Creates the bridge when it is missing, sets its datapath type when it differs and adds
    the listed ports that are missing, in one ovs-vsctl transaction. Ports that are not listed
    (e.g. the patch ports ovn-controller adds) are left alone; a listed port that belongs to
    another bridge is an error. Never deletes a bridge or a port.
  - The openvswitch.openvswitch collection (openvswitch_bridge, openvswitch_port) is not part of
    the ansible package this project installs.
options:
  name:
    description: Bridge name.
    type: str
    required: true
  datapath_type:
    description: Datapath type (system or netdev).
    type: str
    required: true
  ports:
    description: Ports (existing network interfaces) the bridge must have.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Put the external interface into br-ex
  scs_ovs_bridge:
    name: br-ex
    datapath_type: netdev
    ports: [ext0]
"""

RETURN = r"""
changes:
  description: What was created or changed.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def unquote(atom: str) -> str:
    """A string as `ovs-vsctl get` prints it: bare, or quoted when empty or special."""
    atom = atom.strip()
    if len(atom) >= 2 and atom[0] == '"' and atom[-1] == '"':
        return atom[1:-1].encode().decode("unicode_escape")
    return atom


def plan(
    name: str, exists: bool, datapath_type: str, current_type: str, ports: list[str], current_ports: list[str]
) -> tuple[list[str], list[str]]:
    """The ovs-vsctl arguments of one transaction, and the changes they make."""
    args: list[str] = []
    changes: list[str] = []
    if not exists:
        args += ["--may-exist", "add-br", name]
        changes.append(f"bridge {name} created")
    if not exists or current_type != datapath_type:
        args += ["--", "set", "Bridge", name, f"datapath_type={datapath_type}"]
        if exists:
            changes.append(f"bridge {name}: datapath_type {current_type or '(empty)'} -> {datapath_type}")
    for port in ports:
        if port not in current_ports:
            args += ["--", "--may-exist", "add-port", name, port]
            changes.append(f"port {port} added to {name}")
    if args and args[0] == "--":
        args = args[1:]
    return args, changes


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "datapath_type": {"type": "str", "required": True},
            "ports": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    name = module.params["name"]
    ports = module.params["ports"]
    vsctl = module.get_bin_path("ovs-vsctl", required=True)

    def run(*args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
        rc, out, err = module.run_command([vsctl, *args])
        if rc not in ok:
            module.fail_json(msg=f"ovs-vsctl {' '.join(args)}: {err.strip()}")
        return rc, out

    rc, _ = run("br-exists", name, ok=(0, 2))
    exists = rc == 0
    current_type = unquote(run("get", "Bridge", name, "datapath_type")[1]) if exists else ""
    current_ports = run("list-ports", name)[1].split() if exists else []
    for port in ports:
        if port in current_ports:
            continue
        rc, out = run("port-to-br", port, ok=(0, 1))
        if rc == 0 and out.strip() != name:
            module.fail_json(msg=f"port {port} belongs to bridge {out.strip()}, not {name}")

    args, changes = plan(name, exists, module.params["datapath_type"], current_type, ports, current_ports)
    if args and not module.check_mode:
        run(*args)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
