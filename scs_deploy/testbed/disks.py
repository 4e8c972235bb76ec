"""Sparse image files on loop devices, one per OSD disk."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from scs_deploy.errors import TestbedError
from scs_deploy.testbed._run import output, run


@dataclass(frozen=True)
class LoopDevice:
    device: str
    backing_file: str


def parse_losetup(losetup_json: str) -> list[LoopDevice]:
    """Loop devices in the output of ``losetup -J`` (empty output: none attached)."""
    text = losetup_json.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TestbedError(f"cannot parse the output of 'losetup -J': {exc}") from exc
    devices = []
    for entry in data.get("loopdevices", []):
        backing = entry.get("back-file") or ""
        # losetup marks a backing file that was removed while attached.
        backing = backing.removesuffix(" (deleted)")
        devices.append(LoopDevice(device=str(entry["name"]), backing_file=backing))
    return devices


def loops_under(devices: list[LoopDevice], directory: Path) -> list[LoopDevice]:
    """The loop devices whose backing file lies under ``directory``."""
    prefix = str(directory).rstrip("/") + "/"
    return [d for d in devices if d.backing_file.startswith(prefix)]


def attached() -> list[LoopDevice]:
    return parse_losetup(output(["losetup", "-J", "--list"]))


def create_image(path: Path, size: int) -> None:
    """A sparse file of ``size`` bytes (replaces an older one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with path.open("wb") as handle:
        os.truncate(handle.fileno(), size)


def attach(path: Path) -> str:
    """Put ``path`` on the next free loop device and return the device (``/dev/loopN``)."""
    device = output(["losetup", "-f", "--show", str(path)]).strip()
    if not device.startswith("/dev/loop"):
        raise TestbedError(f"losetup gave no device for {path}: {device!r}")
    return device


def detach(device: str) -> None:
    run(["losetup", "-d", device])
