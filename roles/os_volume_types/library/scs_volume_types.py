#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: Cinder volume types with their descriptions and extra specs, in one connection."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_volume_types
short_description: Make sure Cinder volume types exist as listed
description:
  - Creates each listed volume type when it is missing; sets its description and the listed
    extra specs when they differ. Extra specs that are not listed, and types that are not
    listed, are left alone. Never deletes a type.
  - Runs where openstacksdk is importable; the credentials come from clouds.yaml
    (OS_CLIENT_CONFIG_FILE) by cloud name.
options:
  cloud:
    description: Name of the (admin) cloud in clouds.yaml.
    type: str
    required: true
  volume_types:
    description: Types with name, description, is_public (applied when the type is created)
      and extra_specs (compared as strings).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Create the RBD volume type
  scs_volume_types:
    cloud: testbed-admin
    volume_types:
      - {name: rbd, description: "[scs:replicated] Ceph RBD volumes, 3 copies", is_public: true,
         extra_specs: {volume_backend_name: rbd-1}}
"""

RETURN = r"""
changes:
  description: What was created or updated.
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


def ensure_type(module, conn, existing, wanted):
    name = wanted["name"]
    description = wanted.get("description") or ""
    specs = {key: str(value) for key, value in (wanted.get("extra_specs") or {}).items()}
    volume_type = existing.get(name)
    if volume_type is None:
        if not module.check_mode:
            conn.block_storage.create_type(
                name=name,
                description=description,
                is_public=wanted.get("is_public", True),
                extra_specs=specs,
            )
        return [f"volume type {name} created"]
    changes = []
    if (volume_type.description or "") != description:
        changes.append(f"volume type {name}: description")
        if not module.check_mode:
            conn.block_storage.update_type(volume_type, description=description)
    current = volume_type.extra_specs or {}
    missing = {key: value for key, value in specs.items() if current.get(key) != value}
    if missing:
        changes.append(f"volume type {name} extra specs: {', '.join(sorted(missing))}")
        if not module.check_mode:
            conn.block_storage.update_type_extra_specs(volume_type, **missing)
    return changes


def main():
    module = AnsibleModule(
        argument_spec={
            "cloud": {"type": "str", "required": True},
            "volume_types": {"type": "list", "elements": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)
    changes = []
    try:
        conn = openstack.connect(cloud=module.params["cloud"])
        # is_public "None": private types too (an admin sees all of them)
        existing = {t.name: t for t in conn.block_storage.types(is_public="None")}
        for wanted in module.params["volume_types"]:
            changes += ensure_type(module, conn, existing, wanted)
    except openstack.exceptions.SDKException as error:
        module.fail_json(msg=f"Cinder: {error}", changes=changes)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
