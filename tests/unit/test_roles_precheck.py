"""roles/host_precheck/library: the read-only probes behind the bootstrap prechecks."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.unit.modules import load_role_module


def load(name: str) -> ModuleType:
    return load_role_module("host_precheck", name)


disk_probe = load("scs_disk_probe")
ntp_probe = load("scs_ntp_probe")
name_probe = load("scs_name_probe")

HEAD = 0x20000


def image(*writes: tuple[int, bytes], size: int = HEAD) -> bytearray:
    data = bytearray(size)
    for offset, payload in writes:
        data[offset : offset + len(payload)] = payload
    return data


def types(head: bytes, tail: bytes = b"") -> list[str]:
    return [s["type"] for s in disk_probe.probe_bytes(bytes(head), tail)]


def mbr(*part_types: int) -> bytearray:
    data = image((510, b"\x55\xaa"))
    for i, ptype in enumerate(part_types):
        data[446 + 16 * i + 4] = ptype
    return data


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ([], []),
        ([(0x438, b"\x53\xef")], ["ext4"]),
        ([(0, b"XFSB")], ["xfs"]),
        ([(0x10040, b"_BHRfS_M")], ["btrfs"]),
        ([(512, b"LABELONE" + bytes(16) + b"LVM2 001")], ["LVM2_member"]),
        ([(0, b"bluestore block device\n")], ["ceph_bluestore"]),
        ([(4086, b"SWAPSPACE2")], ["swap"]),
        ([(0, b"LUKS\xba\xbe")], ["crypto_LUKS"]),
    ],
)
def test_signatures(writes: list[tuple[int, bytes]], expected: list[str]) -> None:
    assert types(image(*writes)) == expected


def test_gpt_primary_and_protective_mbr() -> None:
    data = mbr(0xEE)
    data[512:520] = b"EFI PART"
    assert types(data) == ["gpt"]


def test_gpt_backup_header_alone_is_found() -> None:
    tail = bytearray(4096)
    tail[-512:-504] = b"EFI PART"
    assert types(image(), bytes(tail)) == ["gpt"]


def test_dos_partition_table() -> None:
    assert types(mbr(0x83)) == ["dos"]


def test_boot_signature_without_partitions_is_no_table() -> None:
    assert types(mbr()) == []


def disk(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "path": "/dev/vdb",
        "wipe": False,
        "exists": True,
        "block": True,
        "signatures": [],
        "partitions": [],
        "holders": [],
        "mounts": [],
    }
    base.update(fields)
    return base


def test_problem_names_the_signature_and_the_way_out() -> None:
    problem = disk_probe.describe_problem(disk(signatures=[{"type": "ext4", "kind": "filesystem"}]))
    assert problem == (
        "holds a filesystem (ext4); mark it wipe: true in region.yml to allow wiping it"
    )


def test_wipe_allows_signatures_but_not_mounts() -> None:
    sig = [{"type": "gpt", "kind": "partition table"}]
    assert disk_probe.describe_problem(disk(signatures=sig, wipe=True)) == ""
    assert disk_probe.describe_problem(disk(wipe=True, mounts=["/srv"])) == "is mounted at /srv"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"exists": False, "block": False}, "does not exist"),
        ({"block": False}, "is not a block device"),
        ({"holders": ["dm-0"]}, "is in use by dm-0"),
        ({}, ""),
    ],
)
def test_other_problems(fields: dict[str, Any], expected: str) -> None:
    assert disk_probe.describe_problem(disk(**fields)) == expected


FSID = "0f3bcd5e-1111-4222-8333-444455556666"


def bluestore_label(fsid: str) -> bytes:
    """The start of a BlueStore label as ceph-volume writes it: the meta map follows the
    header, each string u32-length-prefixed; osd_key sits in the same map."""

    def string(text: str) -> bytes:
        return struct.pack("<I", len(text)) + text.encode()

    meta = [
        ("ceph_fsid", fsid),
        ("osd_key", "AQB1c2VjcmV0a2V5LXNob3VsZC1zdGF5LXB1dA=="),
        ("whoami", "0"),
    ]
    body = struct.pack("<I", len(meta)) + b"".join(string(k) + string(v) for k, v in meta)
    return (
        b"bluestore block device\n" + b"7d6c7e10-0000-4000-8000-000000000000\n" + b"\x02\x01" + body
    )


def test_bluestore_fsid_is_read_and_the_key_is_not() -> None:
    head = bluestore_label(FSID) + bytes(4096)
    assert disk_probe.bluestore_fsid(head) == FSID
    assert disk_probe.bluestore_fsid(b"XFSB" + bytes(100)) == ""


def test_own_osd_passes_foreign_osd_does_not() -> None:
    sig = [{"type": "ceph_bluestore", "kind": "Ceph BlueStore OSD"}]
    own = disk(signatures=sig, ceph_fsid=FSID)
    assert disk_probe.describe_problem(own, FSID) == ""
    foreign = disk(signatures=sig, ceph_fsid="99999999-1111-4222-8333-444455556666")
    assert "holds a Ceph BlueStore OSD" in disk_probe.describe_problem(foreign, FSID)
    # without the region's fsid (a region before its first Ceph phase) any OSD is foreign
    assert disk_probe.describe_problem(own, "") != ""
    # an own OSD under a partition table is not a plain OSD disk
    mixed = disk(signatures=[*sig, {"type": "gpt", "kind": "partition table"}], ceph_fsid=FSID)
    assert disk_probe.describe_problem(mixed, FSID) != ""


def test_probe_of_a_regular_file_says_not_a_block_device(tmp_path: Path) -> None:
    path = tmp_path / "disk.img"
    path.write_bytes(bytes(image((0x438, b"\x53\xef"))))
    result = disk_probe.probe_disk(str(path), False)
    assert result["problem"] == "is not a block device"


class FakeNtpServer:
    """Answers SNTP requests on 127.0.0.1 with a fixed stratum and leap indicator."""

    def __init__(self, stratum: int = 2, leap: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stratum, self.leap = stratum, leap
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        request, peer = self.sock.recvfrom(512)
        now = time.time() + ntp_probe.NTP_EPOCH_OFFSET
        stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
        reply = bytearray(48)
        reply[0] = (self.leap << 6) | (4 << 3) | 4
        reply[1] = self.stratum
        reply[24:32] = request[40:48]
        reply[32:40] = stamp
        reply[40:48] = stamp
        self.sock.sendto(bytes(reply), peer)

    def close(self) -> None:
        self.thread.join(timeout=2)
        self.sock.close()


def test_ntp_server_that_answers_is_usable() -> None:
    server = FakeNtpServer()
    result = ntp_probe.query("127.0.0.1", server.port, 2.0)
    server.close()
    assert result["usable"] is True
    assert result["stratum"] == 2
    assert abs(float(result["offset"])) < 1.0


def test_unsynchronised_ntp_server_is_not_usable() -> None:
    server = FakeNtpServer(stratum=16, leap=3)
    result = ntp_probe.query("127.0.0.1", server.port, 2.0)
    server.close()
    assert result["usable"] is False
    assert result["error"] == "server is not synchronised"


def test_silent_ntp_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        result = ntp_probe.query("127.0.0.1", sink.getsockname()[1], 0.2)
    assert result["usable"] is False
    assert str(result["error"]).startswith("no answer on udp/")


def test_reply_to_another_request_is_rejected() -> None:
    request = ntp_probe.build_request(time.time())
    reply = bytearray(48)
    reply[0] = (4 << 3) | 4
    reply[1] = 2
    parsed = ntp_probe.parse_reply(bytes(reply), request, time.time(), time.time())
    assert parsed["error"] == "answer does not match the request"


@pytest.mark.parametrize(
    ("resolved", "problem"),
    [
        ([], ""),
        (["10.0.0.11"], ""),
        (["127.0.1.1"], ""),
        (["127.0.1.1", "10.0.0.11"], ""),
        (
            ["10.9.9.9"],
            "resolves to 10.9.9.9, not to its management address 10.0.0.11; fix DNS or /etc/hosts",
        ),
    ],
)
def test_name_judgement(resolved: list[str], problem: str) -> None:
    assert name_probe.judge("tb1", "10.0.0.11", resolved) == problem
