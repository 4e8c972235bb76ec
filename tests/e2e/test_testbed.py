"""``scs-deploy testbed``: two real container hosts, then nothing left after ``down``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

import scs_deploy
from scs_deploy import testbed
from scs_deploy.testbed import cgroup, disks, hosts, network
from scs_deploy.testbed.info import TestbedInfo
from scs_deploy.testbed.plan import BRIDGE, RULE_COMMENT
from scs_deploy.testbed.registry import RegistryFile

pytestmark = pytest.mark.e2e

console = Console(stderr=True)


def sh(info: TestbedInfo, host: str, command: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [*info.ssh(host), command], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{host}: {command}: {result.stderr}"
    return result.stdout


def assert_nothing_left(directory: Path) -> None:
    directory = directory.resolve()
    assert disks.loops_under(disks.attached(), directory) == []
    assert hosts.overlays_under(hosts.current_mounts(), directory) == []
    assert hosts.nspawn_pids_under(directory) == []
    bridges = network.bridge_names(
        subprocess.run(
            ["ip", "-j", "link", "show", "type", "bridge"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert BRIDGE not in bridges
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    assert network.tagged_rules(rules, RULE_COMMENT) == []
    assert not cgroup.memory_hierarchy().parent.exists()
    assert str(directory) not in RegistryFile().load().testbeds
    assert not (directory / "disks").exists()


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestbedInfo]:
    directory = tmp_path_factory.mktemp("testbed")
    try:
        yield testbed.up(
            directory, hosts=2, disks=1, disk_size="1G", memory_max="2G", console=console
        )
    finally:
        testbed.down(directory, console=console)


def test_hosts_answer_ssh_and_reach_each_other(bed: TestbedInfo) -> None:
    tb1, tb2 = bed.hosts
    assert [h.state for h in testbed.status(bed.directory).hosts] == ["running", "running"]
    assert sh(bed, "tb1", "hostname").strip() == "tb1"
    assert sh(bed, "tb2", "hostname").strip() == "tb2"
    sh(bed, "tb1", f"ping -c 1 -W 3 {tb2.address}")
    sh(bed, "tb2", f"ping -c 1 -W 3 {tb1.address}")


def test_disk_is_a_usable_block_device(bed: TestbedInfo) -> None:
    for host in bed.hosts:
        (disk,) = host.disks
        out = sh(
            bed,
            host.name,
            f"test -b {disk.guest_path} && "
            "dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 status=none && "
            f"dd if=/tmp/pattern of={disk.guest_path} bs=1M oflag=direct status=none && "
            f"dd if={disk.guest_path} bs=1M count=8 iflag=direct status=none | sha256sum && "
            "sha256sum < /tmp/pattern",
        )
        written, read = out.split("\n")[:2]
        assert written == read


def test_memory_is_capped(bed: TestbedInfo) -> None:
    hierarchy = cgroup.memory_hierarchy()
    for host in testbed.status(bed.directory).hosts:
        assert host.cgroup is not None
        assert cgroup.read_int(Path(host.cgroup), hierarchy.limit_file) == 2 * 2**30
        assert host.memory_current is not None and host.memory_current > 0
        # The container's processes are in the cgroup, not only nspawn.
        procs = (Path(host.cgroup) / "cgroup.procs").read_text().split()
        assert len(procs) > 3


def test_https_to_pypi_trusts_the_machine_cas(bed: TestbedInfo) -> None:
    sh(bed, "tb2", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null")
    out = sh(bed, "tb2", "cd /tmp && pip download --no-deps --dest /tmp/dl six")
    assert "Successfully downloaded six" in out


def test_region_file_describes_the_hosts(bed: TestbedInfo) -> None:
    from ruamel.yaml import YAML

    from scs_deploy.model.region import Region

    data = YAML(typ="safe").load(bed.region_file)
    region = Region.model_validate(data)
    assert [(h.name, str(h.address)) for h in region.hosts] == [
        ("tb1", "10.231.0.11"),
        ("tb2", "10.231.0.12"),
    ]
    for ca in region.environment.ca_certificates:
        assert (bed.directory / ca).is_file()
    assert (bed.directory / region.hosts[0].ssh.private_key).is_file()


def test_status_json(bed: TestbedInfo) -> None:
    data = json.loads(json.dumps(testbed.status(bed.directory).to_json()))
    assert [h["state"] for h in data["hosts"]] == ["running", "running"]


def test_down_leaves_nothing(bed: TestbedInfo) -> None:
    testbed.down(bed.directory, console=console)
    assert_nothing_left(bed.directory)


def test_up_after_a_killed_up_cleans_the_leftovers(tmp_path: Path) -> None:
    """kill -9 an ``up`` once its hosts are starting; the next ``up`` must still work."""
    directory = tmp_path / "crashed"
    env = {**os.environ, "PYTHONPATH": str(Path(scs_deploy.__file__).parents[1])}
    argv = [
        sys.executable,
        "-c",
        "from scs_deploy.cli import app; app()",
        "testbed",
        "up",
        "--hosts",
        "2",
        "--disks",
        "1",
        "--disk-size",
        "1G",
        "--dir",
        str(directory),
    ]
    process = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            record = RegistryFile().load().testbeds.get(str(directory))
            if record is not None and record.hosts[-1].pid is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, "up finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert hosts.nspawn_pids_under(directory), "the killed up should have left hosts running"
    try:
        info = testbed.up(directory, hosts=2, disks=1, disk_size="1G", console=console)
        assert sh(info, "tb2", "hostname").strip() == "tb2"
    finally:
        testbed.down(directory, console=console)
    assert_nothing_left(directory)
