"""Container hosts: overlay root, identity and network files, systemd-nspawn, SSH."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from scs_deploy.errors import TestbedError
from scs_deploy.testbed import cgroup
from scs_deploy.testbed._run import run
from scs_deploy.testbed.plan import (
    BRIDGE,
    EXTERNAL_INTERFACE,
    GATEWAY,
    GUEST_INTERFACE,
    SUBNET,
    TUNNEL_INTERFACE,
    external_veth,
    tunnel_veth,
)

MACHINE_CA_DIR = Path("/usr/local/share/ca-certificates")


@dataclass(frozen=True)
class HostDirs:
    """A host's directories under DIR/hosts/<name>: the overlay's upper, work and mount."""

    base: Path

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def root(self) -> Path:
        return self.base / "root"


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    fstype: str


# ---- overlay mounts ---------------------------------------------------------------------


def parse_mounts(proc_mounts: str) -> list[Mount]:
    """Entries of /proc/mounts (octal escapes such as ``\\040`` decoded)."""
    mounts = []
    for line in proc_mounts.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
    return mounts


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape") if "\\" in text else text


def overlays_under(mounts: list[Mount], directory: Path) -> list[str]:
    """Mount points of overlay file systems under ``directory``, deepest first."""
    prefix = str(directory).rstrip("/") + "/"
    found = [m.target for m in mounts if m.fstype == "overlay" and m.target.startswith(prefix)]
    return sorted(found, key=len, reverse=True)


def current_mounts() -> list[Mount]:
    return parse_mounts(Path("/proc/mounts").read_text())


def mount_overlay(lower: Path, dirs: HostDirs) -> None:
    for path in (dirs.upper, dirs.work, dirs.root):
        path.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={lower},upperdir={dirs.upper},workdir={dirs.work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(dirs.root)])


def unmount(target: str) -> None:
    result = run(["umount", target], check=False)
    if result.returncode != 0:
        # Still busy a moment after the container died: detach it now, it goes when free.
        run(["umount", "--lazy", target])


# ---- what goes into a host before it boots -------------------------------------------------


def write_identity(root: Path, name: str, address: IPv4Address, authorized_key: str) -> None:
    """Hostname, machine id, static address on host0, resolver, root's SSH key, host keys."""
    etc = root / "etc"
    (etc / "hostname").write_text(f"{name}\n")
    (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
    (etc / "hosts").write_text(
        f"127.0.0.1\tlocalhost\n{address}\t{name}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
    (etc / "network/interfaces").write_text(
        "# Written by scs-deploy testbed\n"
        "auto lo\niface lo inet loopback\n\n"
        "source /etc/network/interfaces.d/*\n"
    )
    (etc / "network/interfaces.d").mkdir(parents=True, exist_ok=True)
    (etc / f"network/interfaces.d/{GUEST_INTERFACE}").write_text(
        f"auto {GUEST_INTERFACE}\n"
        f"iface {GUEST_INTERFACE} inet static\n"
        f"    address {address}/{SUBNET.prefixlen}\n"
        f"    gateway {GATEWAY}\n"
    )
    resolv = etc / "resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    shutil.copyfile("/etc/resolv.conf", resolv)
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(authorized_key.strip() + "\n")
    keys.chmod(0o600)
    for old in (etc / "ssh").glob("ssh_host_*"):
        old.unlink()
    run(["ssh-keygen", "-A", "-f", str(root)])


def host_public_keys(root: Path) -> list[str]:
    """The host's SSH host public keys (``type base64``), for known_hosts."""
    keys = []
    for pub in sorted((root / "etc/ssh").glob("ssh_host_*_key.pub")):
        key_type, blob, *_ = pub.read_text().split()
        keys.append(f"{key_type} {blob}")
    return keys


def machine_ca_certificates() -> list[Path]:
    """The extra CA certificates this machine trusts (``/usr/local/share/ca-certificates``)."""
    if not MACHINE_CA_DIR.is_dir():
        return []
    return sorted(p for p in MACHINE_CA_DIR.rglob("*.crt") if p.is_file())


def install_ca_certificates(root: Path, certificates: list[Path]) -> None:
    """Make the host trust the machine's extra CAs (without them pip fails here)."""
    if not certificates:
        return
    target = root / "usr/local/share/ca-certificates"
    target.mkdir(parents=True, exist_ok=True)
    for cert in certificates:
        shutil.copyfile(cert, target / cert.name)
    run(["chroot", str(root), "update-ca-certificates", "--fresh"])


# ---- systemd-nspawn ------------------------------------------------------------------------


def nspawn_argv(name: str, root: Path, binds: list[tuple[str, str]]) -> list[str]:
    argv = [
        "systemd-nspawn",
        f"--directory={root}",
        f"--machine={name}",
        "--register=no",  # the machine runs no systemd-machined
        "--keep-unit",
        "--boot",
        f"--network-bridge={BRIDGE}",
        # A second interface, put on the external bridge once the host runs.
        f"--network-veth-extra={external_veth(name)}:{EXTERNAL_INTERFACE}",
        # A third, put on the tunnel bridge once the host runs.
        f"--network-veth-extra={tunnel_veth(name)}:{TUNNEL_INTERFACE}",
        "--console=read-only",  # boot messages to the console log, no input
    ]
    argv += [f"--bind={source}:{target}" for source, target in binds]
    return argv


def start(
    name: str, root: Path, binds: list[tuple[str, str]], cgroup_path: Path | None, log: Path
) -> int:
    """Start the host detached (own session, console to ``log``); returns nspawn's PID."""
    log.parent.mkdir(parents=True, exist_ok=True)
    joined = cgroup.joined_cgroups(name)
    for path in joined:
        path.mkdir(parents=True, exist_ok=True)

    def enter_cgroup() -> None:
        if cgroup_path is not None:
            cgroup.join(cgroup_path)
        for path in joined:
            cgroup.join(path)

    with log.open("ab") as console:
        process = subprocess.Popen(
            nspawn_argv(name, root, binds),
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=enter_cgroup,  # joins the cgroup before exec, so no child escapes it
            close_fds=True,
        )
    return process.pid


def nspawn_pids_under(directory: Path) -> list[int]:
    """PIDs of systemd-nspawn processes whose root directory lies under ``directory``."""
    prefix = f"--directory={str(directory).rstrip('/')}/"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            argv
            and argv[0].endswith(b"systemd-nspawn")
            and any(a.decode(errors="replace").startswith(prefix) for a in argv)
        ):
            pids.append(int(entry.name))
    return pids


def is_nspawn(pid: int, root: Path) -> bool:
    """True while ``pid`` is the systemd-nspawn of this host (not a reused PID)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        bool(argv)
        and argv[0].endswith(b"systemd-nspawn")
        and (f"--directory={root}".encode() in argv)
    )


def container_init(pid: int) -> int | None:
    """The container's PID 1 as seen from the machine: nspawn's child."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def stop(pids: list[int], grace: float = 20.0) -> None:
    """Power the containers off (SIGRTMIN+4 to their init), then SIGTERM, then SIGKILL."""
    for pid in pids:
        init = container_init(pid)
        if init is not None:
            _signal(init, signal.SIGRTMIN + 4)
    live = _wait_gone(pids, grace)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        if not live:
            return
        for pid in live:
            _signal(pid, sig)
        live = _wait_gone(live, wait)
    if live:
        raise TestbedError(f"systemd-nspawn processes {live} did not exit after SIGKILL")


def power_off(pid: int | None, cgroup_path: Path | None, timeout: float = 30.0) -> None:
    """Kill a host at once, as a power cut would: SIGKILL, no shutdown inside.

    SIGKILL goes to the container's init, which takes its whole PID namespace
    along (a process entered with nsenter too), to systemd-nspawn ``pid``, and to
    all in the host's cgroup (see :func:`cgroup.kill`). Returns when none of them
    is left.
    """
    named: list[int] = []
    if pid is not None and pid > 0:
        init = container_init(pid)
        named = [pid] if init is None else [init, pid]
    for target in named:
        _signal(target, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while True:
        if cgroup_path is not None:
            cgroup.kill(cgroup_path)
        left = [p for p in named if _alive(p)]
        if cgroup_path is not None:
            left += [p for p in cgroup.pids(cgroup_path) if p not in left and _alive(p)]
        if not left:
            return
        if time.monotonic() > deadline:
            raise TestbedError(
                f"processes {sorted(left)} of the host were sent SIGKILL and still live "
                f"after {timeout:.0f} s (in uninterruptible sleep? see /proc/PID/stack)"
            )
        time.sleep(0.1)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    live = [p for p in pids if _alive(p)]
    while live and time.monotonic() < deadline:
        time.sleep(0.2)
        live = [p for p in live if _alive(p)]
    return live


# ---- SSH -------------------------------------------------------------------------------------


def ssh_argv(address: str, private_key: Path, known_hosts: Path) -> list[str]:
    """``ssh`` to root on a testbed host, checking its host key against ``known_hosts``."""
    return [
        "ssh",
        "-i",
        str(private_key),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=3",
        "-o",
        "LogLevel=ERROR",
        f"root@{address}",
    ]


def ssh_banner(address: str, timeout: float = 2.0) -> bool:
    """True if something speaking SSH answers on port 22."""
    try:
        with socket.create_connection((address, 22), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(name: str, base_argv: list[str], pid: int, log: Path, timeout: float) -> float:
    """Poll until ``ssh host true`` works; returns the seconds waited."""
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < timeout:
        if not _alive(pid):
            raise TestbedError(
                f"host {name} stopped while booting; its console log {log} ends with:\n"
                + _tail(log)
            )
        try:
            result = subprocess.run(
                [*base_argv, "true"], capture_output=True, text=True, timeout=30, check=False
            )
        except subprocess.TimeoutExpired:
            # sshd took the connection but the login did not finish: still booting.
            last = "ssh took the connection but did not log in within 30 s"
            continue
        if result.returncode == 0:
            return time.monotonic() - started
        last = result.stderr.strip()
        time.sleep(1)
    raise TestbedError(
        f"host {name} does not answer SSH after {timeout:.0f} s ({last or 'no answer'}); "
        f"console log: {log}"
    )


def _tail(log: Path, lines: int = 10) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no console log)"
