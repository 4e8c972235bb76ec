"""The systemd unit every OpenStack service runs under (roles/os_systemd)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.role_vars import example_dir, role_vars


def test_a_service_that_exits_is_started_again_whatever_its_status(tmp_path: Path) -> None:
    # cinder-backup gave up at start with status 0 after its database went away while it
    # waited; Restart=on-failure left it dead and the deploy's gate failed.
    found = role_vars(example_dir("testbed-ha", tmp_path), "tb1", ["os_systemd"])
    unit = found.template(
        "os_systemd",
        "service.j2",
        ansible_managed="managed",
        os_systemd_name="cinder-backup",
        os_systemd_description="OpenStack Block Storage backup service",
        os_systemd_exec_start="/opt/scs/venvs/cinder-2026.1/bin/cinder-backup",
        os_systemd_user="cinder",
        os_systemd_group="cinder",
    )
    service = unit.split("[Service]", 1)[1].split("[Install]", 1)[0]
    assert "\nRestart=always\n" in service
    assert "\nRestartSec=2\n" in service
    assert "ExecStart=/opt/scs/venvs/cinder-2026.1/bin/cinder-backup\n" in service
