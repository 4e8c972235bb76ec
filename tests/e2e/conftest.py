"""End-to-end tests run on testbed hosts: they need root and the host tools.

Without them an e2e test is skipped with the reason, except under CI=true, where
a skipped end-to-end suite would pass unnoticed: there it fails instead. The
check runs before any fixture, so a module-scoped testbed fixture never starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scs_deploy.testbed import TestbedInfo

#: A deployed one-host testbed directory to run the shared-deployment tests on, instead of
#: bringing one up (and down): `SCS_E2E_TESTBED=testbed pytest tests/e2e/test_scs.py`.
EXISTING_TESTBED_ENV = "SCS_E2E_TESTBED"
#: Disks of the shared testbed's host; region.yml starts with the first two
#: (test_ceph adds the third).
SHARED_DISKS = 3


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("e2e") is None and item.get_closest_marker("e2e_ha") is None:
        return
    from scs_deploy.errors import TestbedPrerequisiteError
    from scs_deploy.testbed.prereq import check_prerequisites

    try:
        check_prerequisites()
    except TestbedPrerequisiteError as exc:
        reason = f"end-to-end tests need the testbed: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
        pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the shared deployment run last, in file order: the other e2e modules bring
    up testbeds of their own, and one testbed runs per machine at a time."""
    items.sort(key=lambda item: "shared_testbed" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def shared_testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestbedInfo]:
    """The one-host testbed every test of a deployed region shares, with bootstrap and
    Ceph deployed; later phases are deployed by the first test that needs them."""
    from scs_deploy import testbed as testbed_api
    from tests.e2e.helpers import deploy, disk_list

    existing = os.environ.get(EXISTING_TESTBED_ENV)
    if existing:
        # A developer's deployed one-host testbed: used as it is, and left up.
        yield testbed_api.status(Path(existing))
        return
    directory = tmp_path_factory.mktemp("region") / "testbed"
    info = testbed_api.up(directory, hosts=1, disks=SHARED_DISKS, disk_size="8G")
    try:
        region = info.region_file.read_text()
        assert disk_list(info, SHARED_DISKS) in region
        info.region_file.write_text(
            region.replace(disk_list(info, SHARED_DISKS), disk_list(info, SHARED_DISKS - 1))
        )
        deploy(info.directory, "bootstrap", "ceph")
        yield info
    finally:
        testbed_api.down(directory)


@pytest.fixture(scope="session")
def openstack_cloud(shared_testbed: TestbedInfo) -> TestbedInfo:
    """The shared testbed with the cloud deployed: the openstack and post-deploy phases."""
    from tests.e2e.helpers import deploy

    deploy(shared_testbed.directory, "openstack", "post-deploy")
    return shared_testbed
