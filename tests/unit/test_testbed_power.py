"""Stopping one testbed host hard and starting it again (lifecycle.stop_host/start_host).

Every call that would reach the machine (processes, cgroups, mounts, loop devices,
links) goes to a fake that records it; a command that slips through fails the test.
The hosts are named unit1, unit2, so that not even a slip could name a real host.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scs_deploy import errors
from scs_deploy.cli.testbed import app
from scs_deploy.testbed import cgroup, disks, hosts, lifecycle, network
from scs_deploy.testbed.disks import LoopDevice
from scs_deploy.testbed.hosts import Mount
from scs_deploy.testbed.registry import DiskRecord, HostRecord, RegistryFile, TestbedRecord

MEMORY = 3 * 2**30


class Machine:
    """What the fakes know about the machine, and every call they took, in order."""

    def __init__(self, cgroup_root: Path) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.live: set[int] = set()
        self.mounted: set[str] = set()
        self.loops: dict[str, str] = {}
        self.cgroup_pids: dict[str, list[int]] = {}
        self.lingering_links: list[str] = []
        self.hierarchy = cgroup.MemoryHierarchy(cgroup_root, "memory.max", "memory.current")
        self.next_pid = 1000

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == kind]

    # hosts
    def start(
        self, name: str, root: Path, binds: list[tuple[str, str]], cg: Path | None, log: Path
    ) -> int:
        self.next_pid += 1
        self.live.add(self.next_pid)
        self.calls.append(("start", name, root, list(binds), cg, log))
        return self.next_pid

    def power_off(self, pid: int | None, cg: Path | None, timeout: float = 30.0) -> None:
        self.calls.append(("power_off", pid, cg))
        self.live.discard(pid or -1)
        if cg is not None:
            self.cgroup_pids.pop(str(cg), None)

    def mount_overlay(self, lower: Path, dirs: hosts.HostDirs) -> None:
        self.calls.append(("mount_overlay", dirs.root))
        self.mounted.add(str(dirs.root))

    # disks
    def attach(self, image: Path) -> str:
        device = f"/dev/loop{70 + len(self.loops)}"
        self.loops[device] = str(image)
        self.calls.append(("attach", str(image)))
        return device

    # cgroup
    def create_cgroup(self, hierarchy: cgroup.MemoryHierarchy, name: str, memory: int) -> Path:
        self.calls.append(("cgroup_create", name, memory))
        return hierarchy.host_path(name)

    # network
    def remove_host_links(self, name: str) -> list[str]:
        self.calls.append(("remove_host_links", name))
        removed = [f"link {link}" for link in self.lingering_links]
        self.lingering_links = []
        return removed


def _no_real_command(*args: object, **kwargs: object) -> Any:
    raise AssertionError(f"a unit test reached the machine: {args}")


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Machine:
    fake = Machine(tmp_path / "cgroup")
    for module in (network, disks, hosts):
        monkeypatch.setattr(module, "run", _no_real_command)
    for module in (network, disks, lifecycle):
        monkeypatch.setattr(module, "output", _no_real_command)
    monkeypatch.setattr(hosts.subprocess, "Popen", _no_real_command)
    monkeypatch.setattr(hosts.os, "kill", _no_real_command)
    monkeypatch.setattr(cgroup.os, "kill", _no_real_command)

    monkeypatch.setattr(lifecycle, "check_prerequisites", lambda: None)
    monkeypatch.setattr(hosts, "is_nspawn", lambda pid, root: pid in fake.live)
    monkeypatch.setattr(hosts, "start", fake.start)
    monkeypatch.setattr(hosts, "power_off", fake.power_off)
    monkeypatch.setattr(
        hosts, "wait_for_ssh", lambda name, *a: fake.calls.append(("wait_for_ssh", name))
    )
    monkeypatch.setattr(hosts, "ssh_banner", lambda address, timeout=2.0: True)
    monkeypatch.setattr(
        hosts,
        "current_mounts",
        lambda: [Mount("overlay", target, "overlay") for target in sorted(fake.mounted)],
    )
    monkeypatch.setattr(hosts, "mount_overlay", fake.mount_overlay)
    monkeypatch.setattr(
        hosts, "write_identity", lambda root, *a: fake.calls.append(("write_identity", root))
    )
    monkeypatch.setattr(hosts, "install_ca_certificates", lambda root, certs: None)
    monkeypatch.setattr(hosts, "machine_ca_certificates", list)
    monkeypatch.setattr(hosts, "host_public_keys", lambda root: ["ssh-ed25519 AAAAunit"])
    monkeypatch.setattr(
        disks, "create_image", lambda path, size: fake.calls.append(("create_image", str(path)))
    )
    monkeypatch.setattr(disks, "attach", fake.attach)
    monkeypatch.setattr(
        disks, "attached", lambda: [LoopDevice(d, f) for d, f in sorted(fake.loops.items())]
    )
    monkeypatch.setattr(cgroup, "memory_hierarchy", lambda: fake.hierarchy)
    monkeypatch.setattr(cgroup, "create", fake.create_cgroup)
    monkeypatch.setattr(cgroup, "pids", lambda path: list(fake.cgroup_pids.get(str(path), [])))
    monkeypatch.setattr(network, "read_ip_forward", lambda: "1")
    monkeypatch.setattr(network, "create", lambda: None)
    monkeypatch.setattr(
        network,
        "attach_extra_veths",
        lambda name: fake.calls.append(("attach_extra_veths", name)),
    )
    monkeypatch.setattr(network, "remove_host_links", fake.remove_host_links)
    monkeypatch.setattr(
        network, "cut_host_links", lambda name: fake.calls.append(("cut_host_links", name))
    )
    monkeypatch.setattr(
        network, "wait_host_links_gone", lambda name, timeout: list(fake.lingering_links)
    )
    return fake


@pytest.fixture
def store(tmp_path: Path) -> RegistryFile:
    return RegistryFile(tmp_path / "state")


def _up(machine: Machine, store: RegistryFile, directory: Path) -> None:
    """What ``up`` records and boots for two hosts of two disks, through the fakes."""
    directory.mkdir()
    (directory / "ssh").mkdir()
    record = TestbedRecord(
        directory=str(directory),
        hosts=[
            HostRecord(
                name=name,
                address=address,
                roles=["compute"],
                root=str(directory / "hosts" / name / "root"),
                disks=[
                    DiskRecord(str(directory / "disks" / f"{name}-{d}.img"), f"/dev/vd{d}")
                    for d in "bc"
                ],
            )
            for name, address in (("unit1", "10.231.0.11"), ("unit2", "10.231.0.12"))
        ],
    )
    registry = store.load()
    registry.testbeds[str(directory)] = record
    lifecycle._create(
        registry, record, Path("/lower"), "ssh-ed25519 AAAAkey", 2**30, MEMORY, print, store
    )
    record.complete = True
    store.save(registry)


@pytest.fixture
def testbed(machine: Machine, store: RegistryFile, tmp_path: Path) -> Path:
    directory = tmp_path / "tb"
    _up(machine, store, directory)
    return directory


def test_start_boots_the_host_as_up_did_on_the_same_root_and_disks(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    booted_by_up = machine.of("start")[1]
    lifecycle.stop_host(testbed, "unit2", registry_file=store)
    machine.calls.clear()

    info = lifecycle.start_host(testbed, "unit2", registry_file=store)

    assert machine.of("start") == [booted_by_up]
    name, root, binds = booted_by_up[1:4]
    assert hosts.nspawn_argv(name, root, binds)[-2:] == [
        "--bind=/dev/loop72:/dev/loop72",
        "--bind=/dev/loop73:/dev/loop73",
    ]
    # Its data stays: no new disk images, loop devices, overlay or identity (host keys).
    assert not {"create_image", "attach", "mount_overlay", "write_identity"} & {
        c[0] for c in machine.calls
    }
    assert [c[0] for c in machine.calls] == [
        "remove_host_links",
        "cgroup_create",
        "start",
        "wait_for_ssh",
        "attach_extra_veths",
    ]
    assert machine.of("cgroup_create") == [("cgroup_create", "unit2", MEMORY)]
    assert machine.of("attach_extra_veths") == [("attach_extra_veths", "unit2")]
    assert info.state == "running"
    assert info.pid == store.load().testbeds[str(testbed)].host("unit2").pid


def test_stop_kills_the_host_and_keeps_root_disks_cgroup_and_entry(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    before = store.load().testbeds[str(testbed)].host("unit2")
    machine.calls.clear()

    lifecycle.stop_host(testbed, "unit2", registry_file=store)

    assert machine.of("power_off") == [("power_off", before.pid, Path(str(before.cgroup)))]
    # Silent first, as after a power cut: no RST or FIN from a kernel without processes.
    kinds = [c[0] for c in machine.calls]
    assert kinds.index("cut_host_links") < kinds.index("power_off")
    assert machine.of("cut_host_links") == [("cut_host_links", "unit2")]
    after = store.load().testbeds[str(testbed)].host("unit2")
    assert after.pid is None
    assert (after.root, after.cgroup, after.memory_max, after.disks) == (
        before.root,
        before.cgroup,
        before.memory_max,
        before.disks,
    )
    assert before.root in machine.mounted
    assert len(machine.loops) == 4
    info = lifecycle.status(testbed, registry_file=store)
    assert [h.state for h in info.hosts] == ["running", "stopped"]
    assert info.to_json()["hosts"][1]["state"] == "stopped"
    assert [d.loop for d in info.hosts[1].disks] == ["/dev/loop72", "/dev/loop73"]


def test_stop_deletes_veths_the_kernel_keeps_after_the_wait(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    machine.lingering_links = ["vb-unit1"]
    said: list[str] = []
    machine.calls.clear()

    lifecycle.stop_host(testbed, "unit1", registry_file=store, console=_Console(said))

    assert machine.of("remove_host_links") == [("remove_host_links", "unit1")]
    assert "removed link vb-unit1" in said


def test_stop_leaves_veths_to_the_kernel_when_they_go(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    machine.calls.clear()
    lifecycle.stop_host(testbed, "unit1", registry_file=store)
    assert machine.of("remove_host_links") == []


def test_start_kills_what_a_dead_host_left_in_its_cgroup_first(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    host = store.load().testbeds[str(testbed)].host("unit1")
    assert host.pid is not None and host.cgroup is not None
    machine.live.discard(host.pid)  # nspawn died, its init's children did not
    machine.cgroup_pids[host.cgroup] = [4242]
    machine.calls.clear()

    lifecycle.start_host(testbed, "unit1", registry_file=store)

    kinds = [c[0] for c in machine.calls]
    assert machine.of("power_off") == [("power_off", None, Path(host.cgroup))]
    assert kinds.index("power_off") < kinds.index("start")


def test_start_refuses_a_host_whose_root_is_gone(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    lifecycle.stop_host(testbed, "unit1", registry_file=store)
    machine.mounted.clear()
    machine.calls.clear()
    with pytest.raises(errors.TestbedError, match=r"unit1 cannot be started: its root .* mounted"):
        lifecycle.start_host(testbed, "unit1", registry_file=store)
    assert machine.of("start") == []


@pytest.mark.parametrize(
    ("action", "host", "message"),
    [
        ("stop", "unit9", "no host 'unit9' in the testbed in .* \\(its hosts: unit1, unit2\\)"),
        ("start", "unit9", "no host 'unit9'"),
        ("start", "unit1", "host unit1 is already running; stop it first"),
    ],
)
def test_usage_errors(
    machine: Machine, store: RegistryFile, testbed: Path, action: str, host: str, message: str
) -> None:
    function = lifecycle.stop_host if action == "stop" else lifecycle.start_host
    with pytest.raises(errors.UsageError, match=message):
        function(testbed, host, registry_file=store)
    assert machine.of("power_off") == []
    assert len(machine.of("start")) == 2  # up's two boots, no other


def test_stopping_a_stopped_host_is_a_usage_error(
    machine: Machine, store: RegistryFile, testbed: Path
) -> None:
    lifecycle.stop_host(testbed, "unit1", registry_file=store)
    with pytest.raises(errors.UsageError, match="host unit1 is already stopped; start it with"):
        lifecycle.stop_host(testbed, "unit1", registry_file=store)


def test_no_testbed_or_an_incomplete_one_is_a_usage_error(
    machine: Machine, store: RegistryFile, testbed: Path, tmp_path: Path
) -> None:
    with pytest.raises(errors.UsageError, match="no testbed in"):
        lifecycle.stop_host(tmp_path / "elsewhere", "unit1", registry_file=store)
    registry = store.load()
    registry.testbeds[str(testbed)].complete = False
    store.save(registry)
    with pytest.raises(errors.UsageError, match="is not up"):
        lifecycle.start_host(testbed, "unit1", registry_file=store)


class _Console:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def print(self, line: str, **_: object) -> None:
        self.lines.append(line)


# ---- down with a stopped host ---------------------------------------------------------------


def test_down_removes_a_stopped_host_too(
    machine: Machine, store: RegistryFile, testbed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifecycle.stop_host(testbed, "unit2", registry_file=store)
    unit1 = store.load().testbeds[str(testbed)].host("unit1").pid
    machine.calls.clear()
    monkeypatch.setattr(hosts, "nspawn_pids_under", lambda directory: [])
    monkeypatch.setattr(hosts, "stop", lambda pids: machine.calls.append(("stop", sorted(pids))))
    monkeypatch.setattr(cgroup, "kill_all", lambda path: 0)
    monkeypatch.setattr(
        cgroup, "remove", lambda path: machine.calls.append(("cgroup_remove", path)) or True
    )
    monkeypatch.setattr(hosts, "unmount", machine.mounted.discard)
    monkeypatch.setattr(disks, "detach", machine.loops.pop)
    monkeypatch.setattr(network, "remove", list)

    lifecycle.down(testbed, registry_file=store)

    assert machine.of("stop") == [("stop", [unit1])]  # the stopped host has nothing to stop
    assert machine.mounted == set()
    assert machine.loops == {}
    assert {c[1].name for c in machine.of("cgroup_remove")} >= {"unit1", "unit2"}
    assert not (testbed / "hosts").exists()
    assert store.load().testbeds == {}


# ---- the CLI --------------------------------------------------------------------------------


def test_cli_stop_and_start(
    machine: Machine, store: RegistryFile, testbed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scs_deploy.testbed import registry

    monkeypatch.setattr(registry, "STATE_DIR", store.state_dir)
    runner = CliRunner()

    stopped = runner.invoke(app, ["stop", "unit2", "--dir", str(testbed)])
    assert (stopped.exit_code, stopped.stdout.strip()) == (0, "unit2: stopped")
    again = runner.invoke(app, ["stop", "unit2", "--dir", str(testbed)])
    assert again.exit_code == 2
    assert "already stopped" in again.output
    assert "Traceback" not in again.output

    started = runner.invoke(app, ["start", "unit2", "--dir", str(testbed)])
    assert (started.exit_code, started.stdout.strip()) == (0, "unit2 (10.231.0.12): running")
    unknown = runner.invoke(app, ["start", "nohost", "--dir", str(testbed)])
    assert unknown.exit_code == 2
    assert "no host 'nohost'" in unknown.output
    assert "Traceback" not in unknown.output


# ---- how the kill is done ------------------------------------------------------------------


def test_cgroup_kill_writes_cgroup_kill_on_v2(tmp_path: Path) -> None:
    (tmp_path / "cgroup.kill").write_text("")
    (tmp_path / "cgroup.procs").write_text("11\n12\n")
    cgroup.kill(tmp_path)
    assert (tmp_path / "cgroup.kill").read_text() == "1\n"


def test_cgroup_kill_sends_sigkill_to_each_process_on_v1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cgroup.procs").write_text("11\n12\n")
    (tmp_path / "child").mkdir()
    (tmp_path / "child" / "cgroup.procs").write_text("0\n13\n")  # 0: another PID namespace's
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(cgroup.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    cgroup.kill(tmp_path)
    assert sent == [(11, signal.SIGKILL), (12, signal.SIGKILL), (13, signal.SIGKILL)]


def test_power_off_is_sigkill_to_init_nspawn_and_cgroup_and_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive = {100: 2, 101: 3, 555: 2}  # pid -> how many more checks it survives
    sent: list[tuple[int, int]] = []
    killed_groups: list[Path] = []

    def is_alive(pid: int) -> bool:
        alive[pid] -= 1
        return alive[pid] >= 0

    monkeypatch.setattr(hosts, "container_init", lambda pid: 101)
    monkeypatch.setattr(hosts.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(hosts, "_alive", is_alive)
    monkeypatch.setattr(hosts.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(cgroup, "kill", killed_groups.append)
    monkeypatch.setattr(cgroup, "pids", lambda path: [101, 555])

    hosts.power_off(100, tmp_path)

    assert sent == [(101, signal.SIGKILL), (100, signal.SIGKILL)]
    assert killed_groups and set(killed_groups) == {tmp_path}
    assert all(left < 0 for left in alive.values())


def test_power_off_names_what_survives_sigkill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hosts, "container_init", lambda pid: None)
    monkeypatch.setattr(hosts.os, "kill", lambda pid, sig: None)
    monkeypatch.setattr(hosts, "_alive", lambda pid: True)
    monkeypatch.setattr(cgroup, "kill", lambda path: None)
    monkeypatch.setattr(cgroup, "pids", lambda path: [100, 7])
    with pytest.raises(errors.TestbedError, match=r"processes \[7, 100\] .* still live"):
        hosts.power_off(100, tmp_path, timeout=0)


def test_each_host_tracks_its_units_and_shares_the_cpu_in_cgroups_of_its_own(
    tmp_path: Path,
) -> None:
    for name in ("unified", "systemd", "cpu"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cgroup.procs").write_text("")
    assert cgroup.joined_cgroups("tb2", tmp_path) == [
        tmp_path / "unified" / "scs-testbed" / "tb2",
        tmp_path / "systemd" / "scs-testbed" / "tb2",
        tmp_path / "cpu" / "scs-testbed" / "tb2",
    ]
    assert cgroup.joined_parents(tmp_path) == [
        tmp_path / "unified" / "scs-testbed",
        tmp_path / "systemd" / "scs-testbed",
        tmp_path / "cpu" / "scs-testbed",
    ]
    # cgroup v2 only: the memory cgroup is where systemd tracks units already.
    assert cgroup.joined_cgroups("tb2", tmp_path / "unified") == []


def test_cgroup_v2_hosts_get_the_cpu_controller_too(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    (tmp_path / "scs-testbed").mkdir()
    (tmp_path / "scs-testbed" / "cgroup.subtree_control").write_text("")
    path = cgroup.create(cgroup.memory_hierarchy(tmp_path), "tb1", 1 << 30)
    assert (path / "memory.max").read_text() == f"{1 << 30}\n"
    # A plain directory keeps what was written last; the kernel would add the controllers.
    assert (tmp_path / "scs-testbed" / "cgroup.subtree_control").read_text() == "+cpu\n"


def test_wait_for_ssh_counts_a_login_that_hangs_as_still_booting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[Any] = [
        subprocess.TimeoutExpired(["ssh"], 30),
        subprocess.CompletedProcess(["ssh"], 0, "", ""),
    ]

    def run(argv: list[str], **kwargs: Any) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(hosts, "_alive", lambda pid: True)
    monkeypatch.setattr(hosts.subprocess, "run", run)
    monkeypatch.setattr(hosts.time, "sleep", lambda seconds: None)
    assert hosts.wait_for_ssh("tb1", ["ssh"], 100, tmp_path / "log", timeout=60) >= 0
    assert answers == []
