"""scs-0117: a member backs a volume up and restores the backup into a new volume."""

from __future__ import annotations

from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

TEST_ID = "scs-0117-test-backup"
PREFIX = "scs-verify-backup"
WAIT_SECONDS = 300


def _cleanup(storage: Any) -> None:
    """What an earlier, interrupted run left; backups first (a volume with backups stays)."""
    for backup in list(storage.backups()):
        if (backup.name or "").startswith(PREFIX):
            if backup.status not in ("available", "error"):
                storage.wait_for_status(backup, "available", failures=["error"], wait=WAIT_SECONDS)
            storage.delete_backup(backup, ignore_missing=True)
            storage.wait_for_delete(backup, wait=WAIT_SECONDS)
    for volume in list(storage.volumes()):
        if (volume.name or "").startswith(PREFIX):
            storage.delete_volume(volume, ignore_missing=True)
            storage.wait_for_delete(volume, wait=WAIT_SECONDS)


def backup_and_restore(storage: Any) -> Outcome:
    _cleanup(storage)
    try:
        volume = storage.create_volume(name=f"{PREFIX}-volume", size=1)
        storage.wait_for_status(volume, "available", failures=["error"], wait=WAIT_SECONDS)
        backup = storage.create_backup(volume_id=volume.id, name=f"{PREFIX}-backup")
        storage.wait_for_status(backup, "available", failures=["error"], wait=WAIT_SECONDS)
        restored = storage.restore_backup(backup, name=f"{PREFIX}-restored")
        # The restore answers with the new volume's id in the backup's volume_id.
        restored_volume = storage.get_volume(restored.volume_id)
        storage.wait_for_status(
            restored_volume, "available", failures=["error", "error_restoring"], wait=WAIT_SECONDS
        )
        backup = storage.get_backup(backup.id)
        if backup.status != "available":
            return failed(f"backup {backup.id} is {backup.status} after the restore")
    finally:
        _cleanup(storage)
    return passed("volume backed up and restored")


def check(cloud: Any) -> dict[str, Outcome]:
    return {TEST_ID: backup_and_restore(cloud.member.block_storage)}
