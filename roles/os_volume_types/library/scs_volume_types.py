#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: a Cinder volume type with its description and extra specs (openstacksdk)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_volume_type
short_description: Make sure a Cinder volume type exists
description:
  - Creates the volume type when it is missing; sets its description and the listed extra
    specs when they differ. Extra specs that are not listed are left alone.
    Never deletes a type.
  - Runs where openstacksdk is importable (the utility venv).
options:
  auth:
    description: Password credentials of an admin (auth_url, username, password, project_name,
      user_domain_name, project_domain_name).
    type: dict
    required: true
  region_name:
    description: Region of the endpoints to use.
    type: str
    required: false
  interface:
    description: Endpoint interface.
    type: str
    default: internal
  cacert:
    description: CA bundle for TLS verification.
    type: path
    required: false
  name:
    description: Name of the volume type.
    type: str
    required: true
  description:
    description: Description of the volume type.
    type: str
    default: ""
  is_public:
    description: Whether every project may use the type (applied when the type is created).
    type: bool
    default: true
  extra_specs:
    description: Extra specs that must be set (values are compared as strings).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Create the rbd volume type
  scs_volume_type:
    auth: {auth_url: https://10.231.0.10:5000/v3, username: admin, password: secret,
           project_name: admin, user_domain_name: Default, project_domain_name: Default}
    cacert: /etc/ssl/certs/ca-certificates.crt
    name: rbd
    description: Volumes in the Ceph pool volumes
    extra_specs: {volume_backend_name: rbd-1}
"""

RETURN = r"""
id:
  description: ID of the volume type (empty in check mode when it would be created).
  type: str
  returned: always
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
    from keystoneauth1 import exceptions as ksa_exceptions

    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_ERROR = None
except ImportError:
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_ERROR = traceback.format_exc()


def connect(params):
    kwargs = {
        "load_yaml_config": False,
        "load_envvars": False,
        "auth_type": "password",
        "auth": params["auth"],
        "interface": params["interface"],
    }
    if params["region_name"]:
        kwargs["region_name"] = params["region_name"]
    if params["cacert"]:
        kwargs["cacert"] = params["cacert"]
    return openstack.connect(**kwargs)


def find_type(conn, name):
    # list with is_public=None: private types too (an admin sees all of them)
    for volume_type in conn.block_storage.types(is_public="None"):
        if volume_type.name == name:
            return volume_type
    return None


def ensure_type(module, conn):
    params = module.params
    specs = {key: str(value) for key, value in params["extra_specs"].items()}
    changes = []
    volume_type = find_type(conn, params["name"])
    if volume_type is None:
        changes.append(f"volume type {params['name']} created")
        if module.check_mode:
            return "", changes
        volume_type = conn.block_storage.create_type(
            name=params["name"],
            description=params["description"],
            is_public=params["is_public"],
            extra_specs=specs,
        )
        return volume_type.id, changes

    update = {}
    if (volume_type.description or "") != params["description"]:
        update["description"] = params["description"]
    if update:
        changes.append(f"volume type {params['name']}: {', '.join(sorted(update))}")
        if not module.check_mode:
            conn.block_storage.update_type(volume_type, **update)

    current = volume_type.extra_specs or {}
    missing = {key: value for key, value in specs.items() if current.get(key) != value}
    if missing:
        changes.append(f"volume type {params['name']} extra specs: {', '.join(sorted(missing))}")
        if not module.check_mode:
            conn.block_storage.update_type_extra_specs(volume_type, **missing)
    return volume_type.id, changes


def main():
    module = AnsibleModule(
        argument_spec={
            "auth": {"type": "dict", "required": True, "no_log": True},
            "region_name": {"type": "str", "required": False},
            "interface": {"type": "str", "default": "internal"},
            "cacert": {"type": "path", "required": False},
            "name": {"type": "str", "required": True},
            "description": {"type": "str", "default": ""},
            "is_public": {"type": "bool", "default": True},
            "extra_specs": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)

    try:
        conn = connect(module.params)
        type_id, changes = ensure_type(module, conn)
    except (openstack.exceptions.SDKException, ksa_exceptions.ClientException) as error:
        module.fail_json(msg=f"Cinder: {error}")
    module.exit_json(changed=bool(changes), id=type_id, changes=changes)


if __name__ == "__main__":
    main()
