"""The SCS layer on the shared deployment: `scs-deploy verify` passes what the region can
pass; breaking one module's resource makes exactly its test ids FAIL, and the next deploy
restores them; a member uses the object store through Swift and S3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from scs_deploy import smoke
from scs_deploy.cli import app
from scs_deploy.testbed import TestbedInfo
from scs_deploy.verify import flavors, security_groups, services, volume_types
from scs_deploy.verify.modules import MODULES, OPERATIONS, SMOKE
from tests.e2e.helpers import deploy, ssh

pytestmark = pytest.mark.e2e

#: No image site answers here: the mandatory Ubuntu image cannot be fetched.
SKIPPED_HERE = {"scs-0104-image-ubuntu-2404"}


@pytest.fixture(scope="module")
def cloud(openstack_cloud: TestbedInfo) -> TestbedInfo:
    return openstack_cloud


@pytest.fixture(scope="module")
def admin(cloud: TestbedInfo) -> Iterator[Any]:
    connection = smoke.connect(cloud.directory / "clouds.yaml", "testbed-admin")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def member(cloud: TestbedInfo) -> Iterator[Any]:
    connection = smoke.connect(cloud.directory / "clouds.yaml", "testbed-member")
    yield connection
    connection.close()


def verify(cloud: TestbedInfo, only: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Test id -> {status, reason, module}, from `scs-deploy verify --json`."""
    args = ["verify", str(cloud.directory), "--json"]
    for test_id in only:
        args += ["--only", test_id]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output
    document = json.loads(result.stdout)
    found = {entry["id"]: entry for entry in document}
    failing = any(entry["status"] == "FAIL" for entry in document)
    assert result.exit_code == (1 if failing else 0), result.output
    return found


def test_verify_passes_what_the_region_can_pass(cloud: TestbedInfo) -> None:
    """Every test id of the certificate and the smoke workload: PASS, or SKIP where this
    machine cannot do it, with the reason."""
    outcomes = verify(cloud)
    assert list(outcomes) == [t for m in (*MODULES, OPERATIONS, SMOKE) for t in m.test_ids]
    problems = {
        test_id: entry
        for test_id, entry in outcomes.items()
        if entry["status"] != ("SKIP" if test_id in SKIPPED_HERE else "PASS")
    }
    assert not problems, problems
    assert "does not answer here" in outcomes["scs-0104-image-ubuntu-2404"]["reason"]


def _find_one(items: Any, what: str) -> Any:
    found = list(items)
    assert len(found) == 1, (what, found)
    return found[0]


def _delete_flavor(cloud: TestbedInfo, admin: Any) -> None:
    admin.compute.delete_flavor(admin.compute.find_flavor("SCS-1V-4", ignore_missing=False))


def _drop_image_property(cloud: TestbedInfo, admin: Any) -> None:
    image = admin.image.find_image("scs-test-guest", ignore_missing=False)
    # A JSON patch "remove": openstacksdk sends None as a value, which Glance refuses.
    admin.image.patch(
        f"/images/{image.id}",
        json=[{"op": "remove", "path": "/image_build_date"}],
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
    ).raise_for_status()


def _drop_default_rule(cloud: TestbedInfo, admin: Any) -> None:
    rules = admin.network.default_security_group_rules(direction="egress", ether_type="IPv4")
    admin.network.delete_default_security_group_rule(_find_one(rules, "IPv4 egress rule"))


def _misdescribe_volume_type(cloud: TestbedInfo, admin: Any) -> None:
    volume_type = admin.block_storage.find_type("rbd", ignore_missing=False)
    admin.block_storage.update_type(volume_type, description="[scs:replicated, encrypted] wrong")


def _stop_object_store(cloud: TestbedInfo, admin: Any) -> None:
    ssh(cloud, "tb1", "systemctl stop ceph-radosgw@rgw.tb1")


Breaker = Callable[[TestbedInfo, Any], None]


@pytest.mark.parametrize(
    ("breaker", "checked", "broken"),
    [
        pytest.param(
            _delete_flavor,
            flavors.NAMING_IDS + flavors.STANDARD_IDS,
            {"scs-0103-flavor-1v-4"},
            id="mandatory-flavor",
        ),
        pytest.param(
            _drop_image_property,
            tuple(
                "scs-0102-prop-" + p
                for p in ("architecture", "image_build_date", "image_source", "provided_until")
            ),
            {"scs-0102-prop-image_build_date"},
            id="image-property",
        ),
        pytest.param(
            _drop_default_rule,
            (security_groups.TEST_ID,),
            {security_groups.TEST_ID},
            id="default-rule",
        ),
        pytest.param(
            _misdescribe_volume_type,
            (volume_types.TEST_ID,),
            {volume_types.TEST_ID},
            id="volume-type",
        ),
        pytest.param(
            _stop_object_store,
            services.TEST_IDS,
            {services.S3_ID},
            id="object-store",
        ),
    ],
)
def test_a_broken_module_fails_exactly_its_ids_and_a_deploy_restores_it(
    cloud: TestbedInfo,
    admin: Any,
    breaker: Breaker,
    checked: tuple[str, ...],
    broken: set[str],
) -> None:
    assert {i for i, e in verify(cloud, checked).items() if e["status"] != "PASS"} == set()
    breaker(cloud, admin)
    outcomes = verify(cloud, checked)
    assert {i for i, e in outcomes.items() if e["status"] == "FAIL"} == broken, outcomes
    assert {i for i, e in outcomes.items() if e["status"] == "PASS"} == set(checked) - broken
    # A whole deploy: the post-deploy resources always run, and a stopped gateway is a
    # drifted unit the ceph phase's fast path sees.
    deploy(cloud.directory)
    assert {i for i, e in verify(cloud, checked).items() if e["status"] != "PASS"} == set()


def test_a_member_uses_the_object_store_through_swift_and_s3(
    cloud: TestbedInfo, member: Any
) -> None:
    """A container and an object through Swift; the same project's data through S3 with
    EC2 credentials from Keystone."""
    import boto3
    import botocore.config

    name = f"e2e-{uuid.uuid4().hex[:8]}"
    payload = uuid.uuid4().bytes * 1000
    store = member.object_store
    store.create_container(name=name)
    credential = None
    try:
        store.upload_object(container=name, name="swift-object", data=payload)
        assert store.download_object("swift-object", container=name) == payload
        credential = member.identity.create_credential(
            type="ec2",
            user_id=member.current_user_id,
            project_id=member.current_project_id,
            blob=json.dumps({"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex}),
        )
        keys = json.loads(credential.blob)
        endpoint = store.get_endpoint().split("/swift/")[0]
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=keys["access"],
            aws_secret_access_key=keys["secret"],
            region_name="us-east-1",
            verify=str(cloud.directory / "ca.crt"),
            config=botocore.config.Config(s3={"addressing_style": "path"}),
        )
        assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert s3.get_object(Bucket=name, Key="swift-object")["Body"].read() == payload
        s3.put_object(Bucket=name, Key="s3-object", Body=payload[::-1])
        assert store.download_object("s3-object", container=name) == payload[::-1]
    finally:
        for listed in store.objects(name):
            store.delete_object(listed, container=name, ignore_missing=True)
        store.delete_container(name, ignore_missing=True)
        if credential is not None:
            member.identity.delete_credential(credential, ignore_missing=True)


def test_a_load_balancer_balances_tcp_over_two_servers(
    cloud: TestbedInfo, admin: Any, member: Any
) -> None:
    """Two test guests behind an OVN load balancer: SSH connections through its floating IP
    reach both of them."""
    from scs_deploy.testbed import image as test_image
    from scs_deploy.verify.workload import load_balancer

    prefix = "e2e-lb"
    reached: list[str] = []

    def in_guest(guest: smoke.Guest) -> None:
        compute = member.compute
        image = member.image.find_image(f"{prefix}-image", ignore_missing=False)
        second = compute.create_server(
            name=f"{prefix}-server2",
            flavor_id=compute.find_flavor(f"{prefix}-flavor", ignore_missing=False).id,
            networks=[{"uuid": member.network.find_network(f"{prefix}-net").id}],
            key_name=f"{prefix}-key",
            security_groups=[{"name": f"{prefix}-sg"}],
            block_device_mapping=[
                {
                    "boot_index": 0,
                    "uuid": image.id,
                    "source_type": "image",
                    "destination_type": "volume",
                    "volume_size": 1,
                    "delete_on_termination": True,
                }
            ],
        )
        try:
            compute.wait_for_server(second, status="ACTIVE", wait=600)
            address = smoke.wait_for(
                "the second guest's address on its console",
                lambda: smoke.guest_address(compute.get_server_console_output(second)["output"]),
                600,
            )
            reached.append(
                load_balancer(
                    member,
                    guest,
                    prefix,
                    {guest.result.guest_address: guest.result.server_name, address: second.name},
                )
            )
        finally:
            smoke._delete_server(compute, second)

    settings = smoke.SmokeSettings(image=test_image.ensure(print), prefix=prefix)
    smoke.run(admin, member, settings, print, in_guest=in_guest)
    assert reached and "reached 2 backends" in reached[0], reached
