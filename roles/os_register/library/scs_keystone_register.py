#!/usr/bin/python
# Copyright scs-deploy contributors
# SPDX-License-Identifier: Apache-2.0
"""Ansible module: a service, its endpoints and its users in Keystone."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_keystone_register
short_description: Ensure a Keystone service, its endpoints and its users
description:
  - Ensures one service of a type and name, its endpoints in one region, and
    users of the domain Default with roles on their projects, in one call.
  - Creates a missing project; fails before changing anything when a role is
    missing (roles come from keystone-manage bootstrap or the service role).
  - Sets a user's password only when the user is new or the password does not
    authenticate; never revokes roles or removes users.
  - Extra endpoints of the service for the same interface and region are
    deleted, so that the catalog has one URL per interface.
  - Runs with openstacksdk (the utility venv's interpreter).
options:
  auth:
    description: Credentials of the admin (password authentication, project scope).
    type: dict
    required: true
    suboptions:
      auth_url: {description: Keystone URL (v3)., type: str, required: true}
      username: {description: Admin user., type: str, required: true}
      password: {description: Admin password., type: str, required: true}
      project_name: {description: Project the admin token is scoped to., type: str, required: true}
      user_domain_name: {description: Domain of the admin user., type: str, default: Default}
      project_domain_name: {description: Domain of the admin project., type: str, default: Default}
  cacert:
    description: CA bundle to verify Keystone's certificate with; empty for the system default.
    type: path
  interface:
    description: Catalog interface the module talks to.
    type: str
    default: internal
    choices: [public, internal, admin]
  region:
    description: Region of the endpoints (created when missing).
    type: str
    required: true
  service:
    description: The service.
    type: dict
    required: true
    suboptions:
      name: {description: Service name, e.g. glance., type: str, required: true}
      type: {description: Service type, e.g. image., type: str, required: true}
      description: {description: Service description., type: str, default: ""}
  endpoints:
    description: Endpoint URL per interface; an interface left out is not touched.
    type: dict
    required: true
    suboptions:
      public: {description: Public URL., type: str}
      internal: {description: Internal URL., type: str}
      admin: {description: Admin URL., type: str}
  users:
    description: Users of the service.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: User name., type: str, required: true}
      password:
        description: Password (set on creation or when it does not authenticate).
        type: str
        required: true
      project:
        description: Project the roles are granted on (created when missing).
        type: str
        required: true
      roles:
        description: Roles on the project (must exist).
        type: list
        elements: str
        default: []
      domain: {description: Domain of the user and the project., type: str, default: Default}
requirements: [openstacksdk, keystoneauth1]
author: scs-deploy contributors
"""

EXAMPLES = r"""
- name: Register glance
  scs_keystone_register:
    auth:
      auth_url: https://10.231.0.10:5000/v3
      username: admin
      password: "{{ scs_secret_keystone_admin_password }}"
      project_name: admin
    cacert: /etc/ssl/certs/ca-certificates.crt
    region: RegionOne
    service: {name: glance, type: image, description: OpenStack Image}
    endpoints: {public: "https://10.231.0.10:9292", internal: "https://10.231.0.10:9292"}
    users:
      - name: glance
        password: "{{ scs_secret_glance_keystone_password }}"
        project: service
        roles: [admin, service]
  no_log: true
"""

RETURN = r"""
service_id:
  description: Id of the service (empty in check mode when it would be created).
  type: str
  returned: always
endpoint_ids:
  description: Endpoint id per interface.
  type: dict
  returned: always
user_ids:
  description: User id per user name.
  type: dict
  returned: always
changes:
  description: What was changed (or would be, in check mode), one line each, without secrets.
  type: list
  elements: str
  returned: always
"""

import traceback  # noqa: E402  (Ansible modules document themselves first)

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402

try:
    import openstack
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3 as ks_v3
    from openstack import exceptions as sdk_exceptions

    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError:
    HAS_SDK = False
    SDK_IMPORT_ERROR = traceback.format_exc()

INTERFACES = ("public", "internal", "admin")


class RegisterError(Exception):
    """An input that Keystone cannot satisfy (e.g. a missing role)."""


class Registrar:
    """Brings Keystone to the requested state, recording every change."""

    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.identity = conn.identity
        self.check_mode = module.check_mode
        self.params = module.params
        self.changes = []
        self._domains = {}

    def change(self, text):
        self.changes.append(text)

    # -- lookups ---------------------------------------------------------

    def domain_id(self, name):
        if name not in self._domains:
            domain = self.identity.find_domain(name, ignore_missing=True)
            if domain is None:
                raise RegisterError(f"domain {name} does not exist in Keystone")
            self._domains[name] = domain.id
        return self._domains[name]

    def resolve_roles(self):
        """Every role of every user, by name; fails before any change."""
        names = sorted({role for user in self.params["users"] for role in user["roles"]})
        roles, missing = {}, []
        for name in names:
            role = self.identity.find_role(name, ignore_missing=True)
            if role is None:
                missing.append(name)
            else:
                roles[name] = role
        if missing:
            raise RegisterError(
                f"role(s) {', '.join(missing)} do not exist in Keystone; create them first "
                "(keystone-manage bootstrap creates admin, manager, member, reader and service)"
            )
        return roles

    # -- region, service, endpoints ---------------------------------------

    def ensure_region(self, region):
        if self.identity.find_region(region, ignore_missing=True) is None:
            self.change(f"created region {region}")
            if not self.check_mode:
                self.identity.create_region(id=region)

    def ensure_service(self, spec):
        found = [s for s in self.identity.services(type=spec["type"]) if s.name == spec["name"]]
        if len(found) > 1:
            raise RegisterError(
                f"Keystone has {len(found)} services named {spec['name']} of type "
                f"{spec['type']} ({', '.join(s.id for s in found)}): remove all but one"
            )
        if not found:
            self.change(f"created service {spec['name']} ({spec['type']})")
            if self.check_mode:
                return None
            return self.identity.create_service(
                name=spec["name"],
                type=spec["type"],
                description=spec["description"],
                is_enabled=True,
            )
        service = found[0]
        updates = {}
        if (service.description or "") != spec["description"]:
            updates["description"] = spec["description"]
        if not service.is_enabled:
            updates["is_enabled"] = True
        if updates:
            self.change(f"updated service {spec['name']}: {', '.join(sorted(updates))}")
            if not self.check_mode:
                service = self.identity.update_service(service, **updates)
        return service

    def ensure_endpoints(self, service, region, urls):
        existing = []
        if service is not None:
            existing = list(self.identity.endpoints(service_id=service.id, region_id=region))
        ids = {}
        for interface in INTERFACES:
            url = urls.get(interface)
            if not url:
                continue
            matches = [e for e in existing if e.interface == interface]
            if not matches:
                self.change(f"created {interface} endpoint {url}")
                if not self.check_mode:
                    ids[interface] = self.identity.create_endpoint(
                        service_id=service.id,
                        interface=interface,
                        url=url,
                        region_id=region,
                        is_enabled=True,
                    ).id
                continue
            keep = next((e for e in matches if e.url == url), matches[0])
            updates = {}
            if keep.url != url:
                updates["url"] = url
            if not keep.is_enabled:
                updates["is_enabled"] = True
            if updates:
                self.change(f"updated {interface} endpoint: {', '.join(sorted(updates))}")
                if not self.check_mode:
                    self.identity.update_endpoint(keep, **updates)
            for extra in matches:
                if extra is not keep:
                    self.change(f"deleted extra {interface} endpoint {extra.id} ({extra.url})")
                    if not self.check_mode:
                        self.identity.delete_endpoint(extra, ignore_missing=True)
            ids[interface] = keep.id
        return ids

    # -- users -------------------------------------------------------------

    def ensure_project(self, name, domain_id, domain):
        project = self.identity.find_project(name, domain_id=domain_id, ignore_missing=True)
        if project is None:
            self.change(f"created project {name} (domain {domain})")
            if not self.check_mode:
                project = self.identity.create_project(
                    name=name, domain_id=domain_id, is_enabled=True
                )
        return project

    def password_works(self, user_id, password):
        """Whether the user gets an (unscoped) token with this password."""
        auth = ks_v3.Password(
            auth_url=self.params["auth"]["auth_url"],
            user_id=user_id,
            password=password,
            unscoped=True,
        )
        verify = self.params["cacert"] or True
        try:
            ks_session.Session(auth=auth, verify=verify).get_token()
        except ks_exceptions.Unauthorized:
            return False
        return True

    def ensure_user(self, spec, roles):
        domain_id = self.domain_id(spec["domain"])
        project = self.ensure_project(spec["project"], domain_id, spec["domain"])
        user = self.identity.find_user(spec["name"], domain_id=domain_id, ignore_missing=True)
        new = user is None
        if new:
            self.change(f"created user {spec['name']} (domain {spec['domain']})")
            if not self.check_mode:
                user = self.identity.create_user(
                    name=spec["name"],
                    domain_id=domain_id,
                    password=spec["password"],
                    is_enabled=True,
                )
        else:
            if not user.is_enabled:
                self.change(f"enabled user {spec['name']}")
                if not self.check_mode:
                    user = self.identity.update_user(user, is_enabled=True)
            if not self.password_works(user.id, spec["password"]):
                self.change(f"set the password of user {spec['name']}")
                if not self.check_mode:
                    user = self.identity.update_user(user, password=spec["password"])
        for name in spec["roles"]:
            role = roles[name]
            if not new and project is not None and self.has_role(project, user, role):
                continue
            self.change(f"granted role {name} on project {spec['project']} to user {spec['name']}")
            if not self.check_mode:
                self.identity.assign_project_role_to_user(project, user, role)
        return user.id if user is not None else ""

    def has_role(self, project, user, role):
        try:
            return bool(self.identity.validate_user_has_project_role(project, user, role))
        except sdk_exceptions.NotFoundException:
            return False

    # -- all -----------------------------------------------------------------

    def run(self):
        roles = self.resolve_roles()
        region = self.params["region"]
        self.ensure_region(region)
        service = self.ensure_service(self.params["service"])
        endpoint_ids = self.ensure_endpoints(service, region, self.params["endpoints"])
        user_ids = {spec["name"]: self.ensure_user(spec, roles) for spec in self.params["users"]}
        return {
            "service_id": service.id if service is not None else "",
            "endpoint_ids": endpoint_ids,
            "user_ids": user_ids,
        }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=dict(
                type="dict",
                required=True,
                options=dict(
                    auth_url=dict(type="str", required=True),
                    username=dict(type="str", required=True),
                    password=dict(type="str", required=True, no_log=True),
                    project_name=dict(type="str", required=True),
                    user_domain_name=dict(type="str", default="Default"),
                    project_domain_name=dict(type="str", default="Default"),
                ),
            ),
            cacert=dict(type="path"),
            interface=dict(type="str", default="internal", choices=list(INTERFACES)),
            region=dict(type="str", required=True),
            service=dict(
                type="dict",
                required=True,
                options=dict(
                    name=dict(type="str", required=True),
                    type=dict(type="str", required=True),
                    description=dict(type="str", default=""),
                ),
            ),
            endpoints=dict(
                type="dict",
                required=True,
                options=dict(
                    public=dict(type="str"),
                    internal=dict(type="str"),
                    admin=dict(type="str"),
                ),
            ),
            users=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str", required=True),
                    password=dict(type="str", required=True, no_log=True),
                    project=dict(type="str", required=True),
                    roles=dict(type="list", elements="str", default=[]),
                    domain=dict(type="str", default="Default"),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    if not HAS_SDK:
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=SDK_IMPORT_ERROR)

    auth = module.params["auth"]
    try:
        conn = openstack.connect(
            load_yaml_config=False,
            load_envvars=False,
            app_name="scs-deploy",
            auth_type="password",
            auth=dict(auth),
            region_name=module.params["region"],
            interface=module.params["interface"],
            cacert=module.params["cacert"] or None,
        )
        registrar = Registrar(module, conn)
        result = registrar.run()
    except RegisterError as error:
        module.fail_json(msg=str(error))
    except (sdk_exceptions.SDKException, ks_exceptions.ClientException) as error:
        module.fail_json(msg=f"Keystone: {error}", exception=traceback.format_exc())
    module.exit_json(changed=bool(registrar.changes), changes=registrar.changes, **result)


if __name__ == "__main__":
    main()
