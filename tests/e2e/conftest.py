"""End-to-end tests run on testbed hosts: they need root and the host tools.

Without them an e2e test is skipped with the reason, except under CI=true, where
a skipped end-to-end suite would pass unnoticed: there it fails instead. The
check runs before any fixture, so a module-scoped testbed fixture never starts.
"""

from __future__ import annotations

import os

import pytest


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
