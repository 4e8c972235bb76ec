"""The certificate's manual checks that an API can decide: scs-0121 (availability zones)
and scs-0302 (the domain manager persona of Keystone)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

AZ_ID = "availability-zones-check"
DOMAIN_MANAGER_ID = "domain-manager-check"
TEST_IDS: tuple[str, ...] = (AZ_ID, DOMAIN_MANAGER_ID)


def zones_outcome(zones: Mapping[str, Sequence[str]]) -> Outcome:
    """Every service has an available zone, and compute, network and storage name the same
    zones: a server, its network and its volumes can be placed together."""
    missing = [service for service, names in zones.items() if not names]
    if missing:
        return failed(f"no available zone for {', '.join(missing)}")
    distinct = {frozenset(names) for names in zones.values()}
    if len(distinct) > 1:
        listed = "; ".join(f"{s}: {', '.join(sorted(n))}" for s, n in zones.items())
        return failed(f"the services name different zones ({listed})")
    return passed(f"zones {', '.join(sorted(next(iter(distinct))))} in {', '.join(zones)}")


def check_zones(cloud: Any) -> Outcome:
    member = cloud.member
    zones = {
        "compute": [z.name for z in member.compute.availability_zones() if z.state["available"]],
        "storage": [
            z.name for z in member.block_storage.availability_zones() if z.state["available"]
        ],
        "network": sorted(
            {z.name for z in cloud.admin.network.availability_zones() if z.state == "available"}
        ),
    }
    return zones_outcome(zones)


def check_domain_manager(cloud: Any) -> Outcome:
    """A user with the manager role on a domain manages users and projects there and
    grants it member, but reaches no other domain and cannot grant admin."""
    import openstack
    from openstack.exceptions import ForbiddenException, NotFoundException

    identity = cloud.admin.identity
    tag = uuid.uuid4().hex[:8]
    domains = [identity.create_domain(name=f"scs-verify-dm-{tag}-{n}") for n in ("a", "b")]
    try:
        own, other = domains
        password = uuid.uuid4().hex
        manager = identity.create_user(name="manager", domain_id=own.id, password=password)
        role = {r.name: r for r in identity.roles()}
        identity.assign_domain_role_to_user(own, manager, role["manager"])
        auth = cloud.admin.config.config["auth"]
        as_manager: Any = openstack.connect(
            auth_url=auth["auth_url"],
            username="manager",
            password=password,
            user_domain_id=own.id,
            domain_id=own.id,
            cacert=cloud.admin.session.verify,
            region_name=cloud.admin.config.region_name,
        )
        try:
            mine = as_manager.identity
            project = mine.create_project(name="p", domain_id=own.id)
            user = mine.create_user(name="u", domain_id=own.id, password=uuid.uuid4().hex)
            mine.assign_project_role_to_user(project, user, role["member"])
            # openstacksdk answers a refused grant with nothing: read what was granted.
            mine.assign_project_role_to_user(project, user, role["admin"])
            granted = {
                a.role["id"]
                for a in identity.role_assignments(user_id=user.id, scope_project_id=project.id)
            }
            if role["member"].id not in granted:
                return failed("a domain manager could not grant member in its domain")
            if role["admin"].id in granted:
                return failed("a domain manager granted the admin role")
            try:
                mine.create_user(name="x", domain_id=other.id, password=uuid.uuid4().hex)
            except (ForbiddenException, NotFoundException):
                pass
            else:
                return failed("a domain manager made a user in another domain")
        finally:
            as_manager.close()
    finally:
        for domain in domains:
            identity.update_domain(domain, is_enabled=False)
            identity.delete_domain(domain, ignore_missing=True)
    return passed(
        "a domain manager made a project and a user and granted member in its domain; "
        "granting admin and making a user in another domain were refused"
    )


def check(cloud: Any) -> dict[str, Outcome]:
    return {AZ_ID: check_zones(cloud), DOMAIN_MANAGER_ID: check_domain_manager(cloud)}
