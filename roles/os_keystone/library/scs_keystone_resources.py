#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: Keystone projects and roles exist (openstacksdk)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_keystone_resources
short_description: Make sure Keystone projects and global roles exist
description:
  - Creates the listed projects (in their domain) and global roles when they are missing,
    and sets a project's description when it differs. Never deletes anything.
  - Runs where openstacksdk is importable (the utility venv).
options:
  auth:
    description: Password credentials (auth_url, username, password, project_name,
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
  projects:
    description: Projects as {name, description, domain}.
    type: list
    elements: dict
    default: []
  roles:
    description: Names of global roles.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Create the service project and the reader role
  scs_keystone_resources:
    auth: {auth_url: https://10.231.0.10:5000/v3, username: admin, password: secret,
           project_name: admin, user_domain_name: Default, project_domain_name: Default}
    cacert: /etc/ssl/certs/ca-certificates.crt
    projects: [{name: service, description: Service users, domain: Default}]
    roles: [reader]
"""

RETURN = r"""
created:
  description: >-
    What was created or updated, as "project NAME", "role NAME",
    "project NAME description".
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


def ensure_projects(module, conn, projects, done):
    domains = {}
    for spec in projects:
        domain_name = spec.get("domain") or "Default"
        if domain_name not in domains:
            domain = conn.identity.find_domain(domain_name, ignore_missing=True)
            if domain is None:
                module.fail_json(msg=f"domain {domain_name} does not exist", created=done)
            domains[domain_name] = domain.id
        domain_id = domains[domain_name]
        description = spec.get("description") or ""
        project = conn.identity.find_project(spec["name"], ignore_missing=True, domain_id=domain_id)
        if project is None:
            done.append(f"project {spec['name']}")
            if not module.check_mode:
                conn.identity.create_project(
                    name=spec["name"], domain_id=domain_id, description=description, is_enabled=True
                )
        elif (project.description or "") != description:
            done.append(f"project {spec['name']} description")
            if not module.check_mode:
                conn.identity.update_project(project, description=description)


def ensure_roles(module, conn, roles, done):
    for name in roles:
        # global roles only: domain-specific roles cannot be assigned on projects
        # across domains and are not what bootstrap makes
        existing = [role for role in conn.identity.roles(name=name) if not role.domain_id]
        if not existing:
            done.append(f"role {name}")
            if not module.check_mode:
                conn.identity.create_role(name=name)


def main():
    module = AnsibleModule(
        argument_spec={
            "auth": {"type": "dict", "required": True, "no_log": True},
            "region_name": {"type": "str", "required": False},
            "interface": {"type": "str", "default": "internal"},
            "cacert": {"type": "path", "required": False},
            "projects": {"type": "list", "elements": "dict", "default": []},
            "roles": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    if not HAS_OPENSTACKSDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_ERROR)

    done = []
    try:
        conn = connect(module.params)
        ensure_projects(module, conn, module.params["projects"], done)
        ensure_roles(module, conn, module.params["roles"], done)
    except (openstack.exceptions.SDKException, ksa_exceptions.ClientException) as error:
        module.fail_json(msg=f"Keystone: {error}", created=done)
    module.exit_json(changed=bool(done), created=done)


if __name__ == "__main__":
    main()
