#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache-2.0
"""Read-only probe of disks for signatures that mean "this disk is in use"."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
---
module: scs_disk_probe
short_description: Probe block devices for partition tables, filesystems and volume labels
description:
  - Opens each disk read-only and looks for the signatures that mark a disk as in use
    (GPT, MBR, ext2/3/4, XFS, Btrfs, LVM2 physical volume, Ceph BlueStore, swap, LUKS).
  - Adds what C(blkid -p) reports when blkid is installed, and whether the disk has
    partitions, holders or is mounted.
  - Never writes to a disk; always reports C(changed=false).
options:
  disks:
    description: Disks to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Device path.
        type: str
        required: true
      wipe:
        description: Whether the region allows wiping the disk (signatures are then no problem).
        type: bool
        default: false
  ceph_fsid:
    description:
      - The fsid of the region's Ceph cluster. A disk that holds a BlueStore OSD of this
        cluster is the expected state of a deployed region, not a problem; an OSD of any
        other cluster still is.
    type: str
    default: ""
author: scs-deploy contributors
"""

RETURN = r"""
disks:
  description: One entry per disk, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: Device path, type: str}
    exists: {description: Whether the path exists, type: bool}
    block: {description: Whether the path is a block device, type: bool}
    signatures: {description: Signatures found, each {type, kind}, type: list}
    partitions: {description: Names of partitions of the disk, type: list}
    holders: {description: Devices holding the disk (device-mapper, md), type: list}
    mounts: {description: Mount points of the disk, type: list}
    ceph_fsid: {description: Cluster fsid in the disk's BlueStore label, empty if none, type: str}
    problem: {description: Why the disk cannot be used as given, empty when it can, type: str}
"""

# (offset, magic, type, kind); kind words go into the failure message
_MAGICS: list[tuple[int, bytes, str, str]] = [
    (0x438, b"\x53\xef", "ext4", "filesystem"),  # ext2/3/4 superblock magic at 1024+56
    (0, b"XFSB", "xfs", "filesystem"),
    (0x10040, b"_BHRfS_M", "btrfs", "filesystem"),
    (0, b"LUKS\xba\xbe", "crypto_LUKS", "LUKS encrypted volume"),
    (0, b"bluestore block device", "ceph_bluestore", "Ceph BlueStore OSD"),
    (4086, b"SWAPSPACE2", "swap", "swap area"),
    (4086, b"SWAP-SPACE", "swap", "swap area"),
]
_LVM_LABEL = b"LABELONE"
_GPT = b"EFI PART"
_KINDS = {
    "gpt": "partition table",
    "dos": "partition table",
    "LVM2_member": "LVM physical volume",
}


def probe_bytes(head: bytes, tail: bytes, sector: int = 512) -> list[dict[str, str]]:
    """Return signatures found in the first bytes (head) and last bytes (tail) of a disk."""
    found: list[dict[str, str]] = []

    def add(sig_type: str, kind: str) -> None:
        if not any(s["type"] == sig_type for s in found):
            found.append({"type": sig_type, "kind": kind})

    for offset, magic, sig_type, kind in _MAGICS:
        if head[offset : offset + len(magic)] == magic:
            add(sig_type, kind)
    # GPT header in LBA 1 (primary) or in the last sector (backup, when the primary is gone)
    if head[sector : sector + 8] == _GPT or (len(tail) >= sector and tail[-sector:][:8] == _GPT):
        add("gpt", "partition table")
    # LVM2 label in one of the first four sectors
    for i in range(4):
        block = head[i * sector : (i + 1) * sector]
        if block[:8] == _LVM_LABEL and block[24:32] == b"LVM2 001":
            add("LVM2_member", "LVM physical volume")
    # MBR: boot signature plus at least one partition entry with a type; a protective MBR
    # (type 0xee) belongs to GPT and is reported as such
    if head[510:512] == b"\x55\xaa" and not any(s["kind"] == "filesystem" for s in found):
        types = [head[446 + 16 * i + 4] for i in range(4)]
        if 0xEE in types:
            add("gpt", "partition table")
        elif any(types):
            add("dos", "partition table")
    return found


def _read(path: str, head_size: int = 0x20000, tail_size: int = 4096) -> tuple[bytes, bytes]:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        head = os.pread(fd, head_size, 0)
        size = os.lseek(fd, 0, os.SEEK_END)
        tail = os.pread(fd, tail_size, max(0, size - tail_size)) if size > head_size else b""
    finally:
        os.close(fd)
    return head, tail


def _blkid(path: str) -> list[dict[str, str]]:
    """Signatures blkid sees with low-level probing (read-only, bypasses the cache)."""
    blkid = shutil.which("blkid") or ("/sbin/blkid" if os.path.exists("/sbin/blkid") else None)
    if not blkid:
        return []
    res = subprocess.run(
        [blkid, "-p", "-o", "export", path], capture_output=True, text=True, check=False
    )
    if res.returncode != 0:  # 2: nothing found; other codes: probing not possible
        return []
    values = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
    found = []
    if values.get("PTTYPE"):
        found.append({"type": values["PTTYPE"], "kind": "partition table"})
    if values.get("TYPE"):
        sig = values["TYPE"]
        found.append({"type": sig, "kind": _KINDS.get(sig, "filesystem")})
    return found


def _sysfs_list(name: str, sub: str) -> list[str]:
    base = os.path.join("/sys/class/block", name)
    if sub == "partitions":
        try:
            return sorted(e for e in os.listdir(base) if e.startswith(name))
        except OSError:
            return []
    try:
        return sorted(os.listdir(os.path.join(base, sub)))
    except OSError:
        return []


def _mounts(path: str) -> list[str]:
    real = os.path.realpath(path)
    found = []
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            for line in fh:
                dev, mnt = line.split()[:2]
                if dev == real or (dev.startswith(real) and dev[len(real) :].lstrip("p").isdigit()):
                    found.append(mnt)
    except OSError:
        pass
    return found


_FSID_KEY = b"ceph_fsid"


def bluestore_fsid(head: bytes) -> str:
    """The cluster fsid in a BlueStore label ("" if none).

    The label's meta map is encoded as length-prefixed strings (u32 little
    endian): ``ceph_fsid`` is followed by the 36 characters of the fsid. Only
    that value is read: the same map holds the OSD's key.
    """
    if not head.startswith(b"bluestore block device"):
        return ""
    at = head.find(_FSID_KEY, 0, 4096)
    if at < 0:
        return ""
    start = at + len(_FSID_KEY)
    length = int.from_bytes(head[start : start + 4], "little")
    value = head[start + 4 : start + 4 + length]
    if length != 36 or len(value) != 36:
        return ""
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return ""


def describe_problem(disk: dict[str, object], cluster_fsid: str = "") -> str:
    """The reason a disk cannot be used, in words for the operator; "" when it can."""
    if not disk["exists"]:
        return "does not exist"
    if not disk["block"]:
        return "is not a block device"
    if disk["mounts"]:
        return "is mounted at " + ", ".join(disk["mounts"])  # type: ignore[arg-type]
    if disk["holders"]:
        return "is in use by " + ", ".join(disk["holders"])  # type: ignore[arg-type]
    if disk["wipe"]:
        return ""
    sigs = disk["signatures"]
    own_osd = bool(cluster_fsid) and disk.get("ceph_fsid") == cluster_fsid
    if own_osd and all(s["type"] == "ceph_bluestore" for s in sigs):  # type: ignore[attr-defined, index]
        return ""
    if sigs:
        first = sigs[0]  # type: ignore[index]
        what = "holds a {} ({})".format(first["kind"], first["type"])
        others = sorted({s["type"] for s in sigs[1:] if s["type"] != first["type"]})  # type: ignore[index]
        if others:
            what += " and " + ", ".join(others)
        return what + "; mark it wipe: true in region.yml to allow wiping it"
    if disk["partitions"]:
        return "has partitions ({}); mark it wipe: true in region.yml to allow wiping it".format(
            ", ".join(disk["partitions"])
        )
    return ""


def probe_disk(path: str, wipe: bool, cluster_fsid: str = "") -> dict[str, object]:
    result: dict[str, object] = {
        "path": path,
        "wipe": wipe,
        "exists": os.path.exists(path),
        "block": False,
        "signatures": [],
        "partitions": [],
        "holders": [],
        "mounts": [],
        "ceph_fsid": "",
    }
    if result["exists"]:
        result["block"] = stat.S_ISBLK(os.stat(path).st_mode)
    if result["block"]:
        head, tail = _read(path)
        sigs = probe_bytes(head, tail)
        result["ceph_fsid"] = bluestore_fsid(head)
        for sig in _blkid(path):
            if not any(s["type"] == sig["type"] for s in sigs):
                sigs.append(sig)
        result["signatures"] = sigs
        name = os.path.basename(os.path.realpath(path))
        result["partitions"] = _sysfs_list(name, "partitions")
        result["holders"] = _sysfs_list(name, "holders")
        result["mounts"] = _mounts(path)
    result["problem"] = describe_problem(result, cluster_fsid)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "disks": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "str", "required": True},
                    "wipe": {"type": "bool", "default": False},
                },
            },
            "ceph_fsid": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    disks = []
    for disk in module.params["disks"]:
        try:
            disks.append(probe_disk(disk["path"], disk["wipe"], module.params["ceph_fsid"]))
        except OSError as exc:
            module.fail_json(msg="cannot probe {}: {}".format(disk["path"], exc))
    module.exit_json(changed=False, disks=disks)


if __name__ == "__main__":
    main()
