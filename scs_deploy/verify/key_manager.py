"""scs-0116: where a key manager is offered, a member stores and deletes a secret of its own
project (the standard asks for a key manager but does not make it mandatory)."""

from __future__ import annotations

from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

TEST_ID = "scs-0116-permissions"
SECRET_NAME = "scs-verify-member-secret"
PAYLOAD = "scs-verify"


def _uuid(secret: Any) -> str:
    """A secret's UUID, which the proxy's calls take.

    openstacksdk's ``Secret.id`` is the whole href (``secret_ref``): given the object, the
    proxy asks for ``/v1/secrets/https://...`` and gets a 404, which ``ignore_missing`` hides.
    """
    return str(secret.secret_id)


def _listed(key_manager: Any, uuid: str) -> bool:
    return any(_uuid(s) == uuid for s in key_manager.secrets(name=SECRET_NAME))


def _use(key_manager: Any, uuid: str) -> Outcome | None:
    """What the member cannot do with its new secret; None: it lists and reads it."""
    if not _listed(key_manager, uuid):
        return failed("the member's new secret is not in its list")
    payload = key_manager.get_secret(uuid).payload
    if payload != PAYLOAD:
        return failed(f"the member's secret reads back as {payload!r}, not {PAYLOAD!r}")
    return None


def member_secret_round_trip(key_manager: Any) -> Outcome:
    for secret in list(key_manager.secrets(name=SECRET_NAME)):
        key_manager.delete_secret(_uuid(secret), ignore_missing=True)
    uuid = _uuid(
        key_manager.create_secret(
            name=SECRET_NAME,
            payload=PAYLOAD,
            payload_content_type="text/plain",
            secret_type="opaque",
        )
    )
    try:
        problem = _use(key_manager, uuid)
    finally:
        key_manager.delete_secret(uuid, ignore_missing=True)
    if problem is not None:
        return problem
    if _listed(key_manager, uuid):
        return failed("the member's secret is still listed after its deletion")
    return passed("a member stored, listed, read and deleted a secret")


def check(cloud: Any) -> dict[str, Outcome]:
    if not any(entry.get("type") == "key-manager" for entry in cloud.catalog):
        return {TEST_ID: passed("no key manager in the catalog: nothing a member could be denied")}
    from openstack.exceptions import ForbiddenException

    try:
        return {TEST_ID: member_secret_round_trip(cloud.member.key_manager)}
    except ForbiddenException as exc:
        return {TEST_ID: failed(f"a member may not manage secrets: {exc}")}
