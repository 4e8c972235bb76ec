"""scs-0115: the default security group rules let nothing in but the group's own members, and
let everything out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scs_deploy.verify.core import Outcome, all_of

TEST_ID = "scs-0115-default-rules"


def _is_parent_rule(rule: Mapping[str, Any]) -> bool:
    """Ingress from the same group, in the default security group only."""
    return rule.get("remote_group_id") == "PARENT" and not rule.get("used_in_non_default_sg")


def default_rules_outcome(rules: Sequence[Mapping[str, Any]]) -> Outcome:
    problems = [
        f"ingress {rule.get('ethertype')} {rule.get('protocol') or 'any'} from "
        f"{rule.get('remote_ip_prefix') or rule.get('remote_group_id') or 'anywhere'}"
        for rule in rules
        if rule.get("direction") == "ingress" and not _is_parent_rule(rule)
    ]
    # Egress "to anywhere" is a rule without a remote prefix, for each address family,
    # in both the default group and groups a project makes.
    open_egress = [
        rule
        for rule in rules
        if rule.get("direction") == "egress"
        and not rule.get("remote_ip_prefix")
        and not rule.get("remote_group_id")
    ]
    for ethertype in ("IPv4", "IPv6"):
        for where, key in (("default", "used_in_default_sg"), ("other", "used_in_non_default_sg")):
            if not any(r.get("ethertype") == ethertype and r.get(key) for r in open_egress):
                problems.append(f"no {ethertype} egress to anywhere in {where} security groups")
    return all_of(problems, when_clean=f"{len(rules)} rules")


def check(cloud: Any) -> dict[str, Outcome]:
    return {TEST_ID: default_rules_outcome(cloud.default_security_group_rules)}
