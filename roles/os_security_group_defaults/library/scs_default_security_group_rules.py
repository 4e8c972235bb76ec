#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: Neutron's default security group rules (the template of every new group)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_default_security_group_rules
short_description: Make Neutron's default security group rules exactly the listed ones
description:
  - Neutron copies its default security group rules into every security group it makes
    (the default group of a project, and the groups users create). This module creates the
    listed rules that are missing and deletes the ingress rules that are not listed, so
    that no new group lets traffic in that the region did not declare. Egress rules that
    are not listed are left alone.
  - Runs where openstacksdk is importable; the credentials come from clouds.yaml
    (OS_CLIENT_CONFIG_FILE) by cloud name.
options:
  cloud:
    description: Name of the (admin) cloud in clouds.yaml.
    type: str
    required: true
  rules:
    description: Rules with direction, ethertype, protocol, port_range_min, port_range_max,
      remote_ip_prefix, remote_group_id ("PARENT" is the group itself), used_in_default_sg
      and used_in_non_default_sg.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Default rules of scs-0115
  scs_default_security_group_rules:
    cloud: testbed-admin
    rules:
      - {direction: egress, ethertype: IPv4, used_in_default_sg: true, used_in_non_default_sg: true}
      - {direction: ingress, ethertype: IPv4, remote_group_id: PARENT,
         used_in_default_sg: true, used_in_non_default_sg: false}
"""

RETURN = r"""
changes:
  description: Rules created and deleted.
  type: list
  elements: str
  returned: always
"""

# Ansible modules put DOCUMENTATION before the imports (ansible-test layout).
import traceback  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402

try:
    import openstack

    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_ERROR = None
except ImportError:
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_ERROR = traceback.format_exc()

FIELDS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
    "used_in_default_sg",
    "used_in_non_default_sg",
)


def as_api(rule):
    """A rule as the API names its fields (openstacksdk says ether_type for ethertype)."""
    found = rule.to_dict(computed=False)
    found["ethertype"] = found.pop("ether_type", None)
    return found


def key(rule):
    """What makes two rules the same rule ('' and None alike: Neutron answers either)."""
    return tuple(
        (field, rule.get(field) if rule.get(field) not in ("", None) else None) for field in FIELDS
    )


def describe(rule):
    where = rule.get("remote_ip_prefix") or rule.get("remote_group_id") or "anywhere"
    groups = [
        name
        for name, field in (("default", "used_in_default_sg"), ("other", "used_in_non_default_sg"))
        if rule.get(field)
    ]
    return (
        f"{rule['direction']} {rule['ethertype']} {rule.get('protocol') or 'any'} "
        f"{'from' if rule['direction'] == 'ingress' else 'to'} {where} ({'+'.join(groups)} groups)"
    )


def main():
    module = AnsibleModule(
        argument_spec={
            "cloud": {"type": "str", "required": True},
            "rules": {"type": "list", "elements": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)
    changes = []
    try:
        conn = openstack.connect(cloud=module.params["cloud"])
        wanted = {key(rule): rule for rule in module.params["rules"]}
        present = {}
        for rule in conn.network.default_security_group_rules():
            present[key(as_api(rule))] = rule
        for identity, rule in present.items():
            if identity not in wanted and rule.direction == "ingress":
                changes.append(f"deleted {describe(as_api(rule))}")
                if not module.check_mode:
                    conn.network.delete_default_security_group_rule(rule, ignore_missing=True)
        for identity, rule in wanted.items():
            if identity not in present:
                changes.append(f"created {describe(rule)}")
                if not module.check_mode:
                    attributes = {k: v for k, v in rule.items() if v not in ("", None)}
                    attributes["ether_type"] = attributes.pop("ethertype")
                    conn.network.create_default_security_group_rule(**attributes)
    except openstack.exceptions.SDKException as error:
        module.fail_json(msg=f"Neutron: {error}", changes=changes)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
