"""scs-0116: where a key manager is offered, a member stores and deletes a secret of its own
project (the standard asks for a key manager but does not make it mandatory)."""

from __future__ import annotations

from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

TEST_ID = "scs-0116-permissions"
SECRET_NAME = "scs-verify-member-secret"


def member_secret_round_trip(key_manager: Any) -> Outcome:
    for secret in list(key_manager.secrets(name=SECRET_NAME)):
        key_manager.delete_secret(secret, ignore_missing=True)
    secret = key_manager.create_secret(
        name=SECRET_NAME,
        payload="scs-verify",
        payload_content_type="text/plain",
        secret_type="opaque",
    )
    try:
        listed = [s for s in key_manager.secrets(name=SECRET_NAME)]
        if not listed:
            return failed("the member's new secret is not in its list")
    finally:
        key_manager.delete_secret(secret, ignore_missing=True)
    return passed("a member stored, listed and deleted a secret")


def check(cloud: Any) -> dict[str, Outcome]:
    if not any(entry.get("type") == "key-manager" for entry in cloud.catalog):
        return {TEST_ID: passed("no key manager in the catalog: nothing a member could be denied")}
    from openstack.exceptions import ForbiddenException

    try:
        return {TEST_ID: member_secret_round_trip(cloud.member.key_manager)}
    except ForbiddenException as exc:
        return {TEST_ID: failed(f"a member may not manage secrets: {exc}")}
