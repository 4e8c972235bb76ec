#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: a list of Nova flavors with their extra specs, in one connection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_flavors
short_description: Make sure Nova flavors exist as listed
description:
  - For each listed flavor, creates it when missing, recreates it when its vCPUs, RAM, disk
    or visibility differ (flavors cannot be changed in place; running servers keep a copy
    of theirs), and sets the listed extra specs that differ. Extra specs that are not listed,
    and flavors that are not listed, are left alone.
  - One connection and one flavor list for all of them (the standard set has 31).
  - Runs where openstacksdk is importable; the credentials come from clouds.yaml
    (OS_CLIENT_CONFIG_FILE) by cloud name, so no password passes through Ansible.
options:
  cloud:
    description: Name of the cloud in clouds.yaml.
    type: str
    required: true
  flavors:
    description: Flavors with name, vcpus, ram (MiB), disk (GiB), is_public and extra_specs.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Create the SCS standard flavors
  scs_flavors:
    cloud: testbed-admin
    flavors:
      - {name: SCS-1V-4, vcpus: 1, ram: 4096, disk: 0, is_public: true,
         extra_specs: {"scs:cpu-type": shared-core, "hw_rng:allowed": "True"}}
"""

RETURN = r"""
changes:
  description: What was created, recreated or updated.
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

SIZES = ("vcpus", "ram", "disk", "is_public")


def differences(flavor, wanted):
    return [key for key in SIZES if getattr(flavor, key) != wanted[key]]


def create(conn, wanted):
    flavor = conn.compute.create_flavor(
        name=wanted["name"],
        vcpus=wanted["vcpus"],
        ram=wanted["ram"],
        disk=wanted["disk"],
        is_public=wanted["is_public"],
    )
    if wanted["extra_specs"]:
        conn.compute.create_flavor_extra_specs(flavor, wanted["extra_specs"])
    return flavor


def ensure(module, conn, existing, wanted):
    """The changes one flavor needs, made unless in check mode."""
    name = wanted["name"]
    specs = {key: str(value) for key, value in (wanted.get("extra_specs") or {}).items()}
    wanted = dict(wanted, extra_specs=specs)
    flavor = existing.get(name)
    if flavor is None:
        if not module.check_mode:
            create(conn, wanted)
        return [f"{name} created"]
    changed = differences(flavor, wanted)
    if changed:
        if not module.check_mode:
            conn.compute.delete_flavor(flavor)
            create(conn, wanted)
        return [f"{name} recreated ({', '.join(changed)})"]
    current = conn.compute.fetch_flavor_extra_specs(flavor).extra_specs or {}
    different = {key: value for key, value in specs.items() if current.get(key) != value}
    if not different:
        return []
    if not module.check_mode:
        for key, value in different.items():
            conn.compute.update_flavor_extra_specs_property(flavor, key, value)
    return [f"{name} extra specs {', '.join(sorted(different))}"]


def main():
    module = AnsibleModule(
        argument_spec={
            "cloud": {"type": "str", "required": True},
            "flavors": {"type": "list", "elements": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)
    changes = []
    try:
        conn = openstack.connect(cloud=module.params["cloud"])
        # is_public None: private flavors too, which an admin sees
        existing = {f.name: f for f in conn.compute.flavors(details=True, is_public=None)}
        for wanted in module.params["flavors"]:
            changes += ensure(module, conn, existing, wanted)
    except openstack.exceptions.SDKException as error:
        module.fail_json(msg=f"Nova: {error}", changes=changes)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
