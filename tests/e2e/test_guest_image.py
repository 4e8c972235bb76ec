"""The test guest image boots under QEMU (TCG, no KVM) as Nova boots it from a volume.

A BIOS disk on virtio-blk (no direct kernel boot), virtio-net, the serial console
in a file. The metadata service is QEMU's user network forwarding 169.254.169.254:80
to a small HTTP responder; the config drive is an ISO 9660 cdrom labelled config-2,
as Nova makes it. A volume is hot-plugged through the QEMU monitor, as Nova attaches.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

pytestmark = pytest.mark.e2e

#: The brief: the address line within 60 s under TCG.
ADDRESS_TIMEOUT = 60
ADDRESS = re.compile(r"^scs-test-guest: eth0 address (\S+)$", re.MULTILINE)

#: Answers one HTTP request on stdin/stdout (QEMU's guestfwd runs it per connection)
#: with the EC2-style metadata paths the guest reads.
METADATA_SERVER = """\
import sys
request = sys.stdin.buffer.readline().decode()
while sys.stdin.buffer.readline() not in (b"\\r\\n", b"\\n", b""):
    pass
pages = {
    "/latest/meta-data/hostname": HOSTNAME,
    "/latest/meta-data/public-keys/0/openssh-key": KEY,
}
path = request.split()[1] if len(request.split()) > 1 else ""
body = pages.get(path)
status = "200 OK" if body is not None else "404 Not Found"
body = (body if body is not None else "not found\\n").encode()
head = f"HTTP/1.0 {status}\\r\\nContent-Type: text/plain\\r\\nContent-Length: {len(body)}\\r\\n"
sys.stdout.buffer.write(head.encode() + b"Connection: close\\r\\n\\r\\n" + body)
sys.stdout.flush()
"""


@pytest.fixture(scope="module")
def guest_image() -> Path:
    for tool in ("qemu-system-x86_64", "genisoimage", "ssh-keygen"):
        if shutil.which(tool) is None:
            reason = f"{tool} is missing: make system-deps"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
            pytest.skip(reason)
    from scs_deploy.testbed import image

    return image.ensure(Console(stderr=True).print)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(path)], check=True
    )
    return path


@dataclass
class Guest:
    process: subprocess.Popen[bytes]
    console: Path
    monitor: Path
    ssh_port: int
    key: Path
    started: float
    #: device_add options that put a hot-plugged PCI device where it can go.
    hotplug_bus: str

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.console_text()
            found = pattern.search(text)
            if found:
                return found
            assert self.process.poll() is None, f"qemu exited:\n{text[-3000:]}"
            time.sleep(0.5)
        pytest.fail(
            f"no {pattern.pattern!r} in {timeout} s; console:\n{self.console_text()[-3000:]}"
        )

    def console_text(self) -> str:
        return self.console.read_text(errors="replace").replace("\r", "")

    def ssh(self, command: str) -> str:
        argv = ["ssh", "-i", str(self.key), "-p", str(self.ssh_port)]
        for option in (
            "BatchMode=yes",
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "ConnectTimeout=20",
        ):
            argv += ["-o", option]
        done = subprocess.run(
            [*argv, "root@127.0.0.1", command], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"ssh {command}: {done.stderr}"
        return done.stdout

    def monitor_command(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(self.monitor))
            sock.sendall(command.encode() + b"\n")
            time.sleep(1)
            return sock.recv(65536).decode(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: boot(netdev options, extra QEMU arguments) -> the started guest.
Boot = Callable[[str, Sequence[str]], Guest]


@pytest.fixture(params=["pc", "q35"])
def machine(request: pytest.FixtureRequest) -> str:
    """Both machine types Nova uses: pc (IDE, ACPI hot-plug) and q35 (AHCI, PCIe ports)."""
    return str(request.param)


@pytest.fixture
def boot(tmp_path: Path, guest_image: Path, key: Path, machine: str) -> Iterator[Boot]:
    """Start the guest image in QEMU; stopped after the test."""
    processes: list[subprocess.Popen[bytes]] = []
    # On q35 a device is hot-plugged into a free PCIe root port, as libvirt leaves for Nova.
    ports = ["-device", "pcie-root-port,id=port1,bus=pcie.0,chassis=1"]
    hotplug_bus = ",bus=port1" if machine == "q35" else ""

    def start(netdev: str, extra: Sequence[str]) -> Guest:
        port = _free_port()
        console = tmp_path / "console.log"
        monitor = tmp_path / "monitor.sock"
        argv = [
            "qemu-system-x86_64",
            "-machine", f"{machine},accel=tcg",
            "-m", "256",
            "-display", "none",
            "-no-reboot",
            "-serial", f"file:{console}",
            "-monitor", f"unix:{monitor},server=on,wait=off",
            # The guest writes nothing to its disk; snapshot keeps the cached image pristine.
            "-drive", f"file={guest_image},format=raw,if=virtio,snapshot=on",
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22{netdev}",
            "-device", "virtio-net-pci,netdev=n0",
            *(ports if machine == "q35" else []),
            *extra,
        ]  # fmt: skip
        console.touch()
        processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL))
        return Guest(processes[-1], console, monitor, port, key, time.monotonic(), hotplug_bus)

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=30)


def test_boots_reads_metadata_service_and_sees_a_hotplugged_volume(
    boot: Boot, key: Path, tmp_path: Path
) -> None:
    public = key.with_suffix(".pub").read_text().strip()
    server = tmp_path / "metadata.py"
    constants = f"HOSTNAME = {'md-guest.novalocal'!r}\nKEY = {public + chr(10)!r}\n"
    server.write_text(constants + METADATA_SERVER)
    # The guest's network is 169.254.169.0/24 so that QEMU forwards 169.254.169.254.
    netdev = (
        ",net=169.254.169.0/24,host=169.254.169.2,dhcpstart=169.254.169.15"
        f",guestfwd=tcp:169.254.169.254:80-cmd:{sys.executable} {server}"
    )
    guest = boot(netdev, ())

    address = guest.wait_for(ADDRESS, ADDRESS_TIMEOUT).group(1)
    Console(stderr=True).print(f"address line after {time.monotonic() - guest.started:.1f} s")
    assert address == "169.254.169.15/24"
    guest.wait_for(re.compile(r"^scs-test-guest: ready$", re.MULTILINE), 60)
    text = guest.console_text()
    assert "scs-test-guest: metadata from metadata service" in text
    assert "scs-test-guest: hostname md-guest" in text
    assert "scs-test-guest: ssh host key ssh-ed25519 " in text

    assert guest.ssh("hostname").strip() == "md-guest"
    assert "vdb" not in guest.ssh("cat /proc/partitions")

    volume = tmp_path / "volume.raw"
    volume.write_bytes(b"\0" * 2**20)
    guest.monitor_command(f"drive_add 0 if=none,id=vol1,file={volume},format=raw")
    guest.monitor_command(f"device_add virtio-blk-pci,drive=vol1,id=vol1dev{guest.hotplug_bus}")
    deadline = time.monotonic() + 30
    while "/dev/vdb" not in guest.ssh("ls /dev/vd* || true"):
        assert time.monotonic() < deadline, "no /dev/vdb 30 s after the hot-plug"
        time.sleep(1)
    assert re.search(r"\bvdb$", guest.ssh("cat /proc/partitions"), re.MULTILINE)


def test_takes_name_and_key_from_a_config_drive(boot: Boot, key: Path, tmp_path: Path) -> None:
    public = key.with_suffix(".pub").read_text().strip()
    latest = tmp_path / "config" / "openstack" / "latest"
    latest.mkdir(parents=True)
    (latest / "meta_data.json").write_text(
        '{"uuid": "0c8e3f39", "name": "cd-guest", "hostname": "cd-guest.novalocal",'
        f' "public_keys": {{"e2e": "{public}\\n"}}, "keys": [{{"name": "e2e",'
        f' "type": "ssh", "data": "{public}\\n"}}], "launch_index": 0}}'
    )
    iso = tmp_path / "config-drive.iso"
    subprocess.run(
        ["genisoimage", "-quiet", "-o", str(iso), "-V", "config-2", "-r", "-J",
         str(tmp_path / "config")],
        check=True,
    )  # fmt: skip
    # As Nova attaches it: a cdrom on the IDE bus (pc) or the AHCI controller (q35).
    guest = boot("", ["-drive", f"file={iso},format=raw,media=cdrom,if=ide,readonly=on"])

    guest.wait_for(ADDRESS, ADDRESS_TIMEOUT)
    guest.wait_for(re.compile(r"^scs-test-guest: ready$", re.MULTILINE), 30)
    text = guest.console_text()
    assert re.search(r"^scs-test-guest: metadata from config drive /dev/sr0$", text, re.M)
    assert guest.ssh("hostname").strip() == "cd-guest"
    assert guest.ssh("cat /root/.ssh/authorized_keys").strip() == public

    # Nova's clean shutdown: the ACPI power button.
    guest.monitor_command("system_powerdown")
    assert guest.process.wait(timeout=30) == 0
    assert "scs-test-guest: powering off" in guest.console_text()
