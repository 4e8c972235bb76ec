#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache-2.0
"""Resolve host names the way services on the host will (getaddrinfo, nsswitch)."""

from __future__ import annotations

import ipaddress
import socket

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: scs_name_probe
short_description: Check how the region's host names resolve on a host
description:
  - Resolves each name with getaddrinfo (so /etc/hosts, DNS and nsswitch all count).
  - A name is fine when it resolves to its expected address, or does not resolve yet
    (bootstrap writes it into /etc/hosts). It is a problem when it resolves only to
    other addresses, because services would reach the wrong host.
  - Loopback answers (127.0.1.1 for the host's own name, from the installer) are
    reported but are no problem; bootstrap removes them.
  - Read-only; always reports C(changed=false).
options:
  hosts:
    description: The region's hosts; each name (and FQDN when I(domain) is set) is checked.
    type: list
    elements: dict
    required: true
    suboptions:
      name: {description: Host name, type: str, required: true}
      address: {description: Expected (management) address, type: str, required: true}
      roles: {description: Roles of the host (ignored), type: list, elements: str}
  domain:
    description: DNS domain; when not empty, C(name.domain) is checked too.
    type: str
    default: ""
author: scs-deploy contributors
"""

RETURN = r"""
names:
  description: One entry per name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: The name, type: str}
    address: {description: The expected address, type: str}
    resolved: {description: Addresses it resolves to, type: list}
    problem: {description: What is wrong, empty when nothing, type: str}
"""


def resolve(name: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


def judge(name: str, address: str, resolved: list[str]) -> str:
    usable = [a for a in resolved if not ipaddress.ip_address(a).is_loopback]
    if not usable or address in usable:
        return ""
    return "resolves to {}, not to its management address {}; fix DNS or /etc/hosts".format(
        ", ".join(usable), address
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "hosts": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "address": {"type": "str", "required": True},
                    "roles": {"type": "list", "elements": "str"},
                },
            },
            "domain": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    domain = module.params["domain"].strip(".")
    results = []
    for host in module.params["hosts"]:
        names = [host["name"]] + (["{}.{}".format(host["name"], domain)] if domain else [])
        for name in names:
            resolved = resolve(name)
            results.append(
                {
                    "name": name,
                    "address": host["address"],
                    "resolved": resolved,
                    "problem": judge(name, host["address"], resolved),
                }
            )
    module.exit_json(changed=False, names=results)


if __name__ == "__main__":
    main()
