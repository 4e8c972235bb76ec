"""The test guest image's pure parts: recipe and cache, boot config, disk layout,
initramfs, and the guest's scripts run under /bin/sh with stand-in commands."""

from __future__ import annotations

import os
import re
import stat
import struct
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy import errors
from scs_deploy.cli.testbed import app
from scs_deploy.testbed import image
from scs_deploy.testbed._run import Say

runner = CliRunner()


# --- recipe and cache ----------------------------------------------------------------


def test_cache_key_is_stable_and_follows_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    scripts = image.script_texts()
    key = image.cache_key(image.recipe(scripts))
    assert key == image.cache_key(image.recipe(image.script_texts()))
    assert re.fullmatch(r"scs-test-guest-[0-9a-f]{12}\.raw", image.image_name(key))

    changed = dict(scripts, init=scripts["init"] + "# changed\n")
    assert image.cache_key(image.recipe(changed)) != key
    monkeypatch.setattr(image, "MODULES", (*image.MODULES, "virtio_scsi"))
    assert image.cache_key(image.recipe(scripts)) != key


def test_recipe_names_packages_modules_and_boot_config() -> None:
    text = image.recipe(image.script_texts())
    for word in ("linux-image-cloud-amd64", "busybox-static", "dropbear-bin", "virtio_net"):
        assert word in text
    assert image.syslinux_cfg() in text


def test_cache_dir_for_root_and_for_users(tmp_path: Path) -> None:
    assert image.default_cache_dir(0, {}, tmp_path) == Path("/var/cache/scs-deploy/images")
    assert image.default_cache_dir(1000, {}, tmp_path) == tmp_path / ".cache/scs-deploy/images"
    xdg = {"XDG_CACHE_HOME": "/x/cache"}
    assert image.default_cache_dir(1000, xdg, tmp_path) == Path("/x/cache/scs-deploy/images")


def test_cached_image_returned_without_building(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = image.cache_key(image.recipe(image.script_texts()))
    cached = tmp_path / image.image_name(key)
    cached.write_bytes(b"disk")

    def refuse() -> None:
        raise AssertionError("built although cached")

    monkeypatch.setattr(image, "_check_can_build", refuse)
    assert image.ensure(print, tmp_path) == cached


def test_building_needs_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(errors.TestbedPrerequisiteError, match="needs root"):
        image.ensure(print, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_export_copies_the_image(tmp_path: Path) -> None:
    cached = tmp_path / "cached.raw"
    cached.write_bytes(b"\x55\xaa" * 100)
    out = image.export(cached, tmp_path / "out.raw")
    assert out.read_bytes() == cached.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cached.raw", "out.raw"]


def test_export_to_a_missing_directory_is_a_testbed_error(tmp_path: Path) -> None:
    cached = tmp_path / "cached.raw"
    cached.write_bytes(b"x")
    with pytest.raises(errors.TestbedError, match="cannot write"):
        image.export(cached, tmp_path / "nowhere" / "out.raw")


# --- the CLI -------------------------------------------------------------------------


def test_cli_prints_the_path_last(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cached = tmp_path / "scs-test-guest-0123456789ab.raw"
    cached.write_bytes(b"disk")

    def ensure(say: Say) -> Path:
        say("building…")
        return cached

    monkeypatch.setattr(image, "ensure", ensure)
    result = runner.invoke(app, ["image"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(cached)

    out = tmp_path / "copy.raw"
    result = runner.invoke(app, ["image", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(out)
    assert out.read_bytes() == b"disk"


def test_cli_reports_a_failed_build_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def ensure(say: Say) -> Path:
        raise errors.TestbedError("apt-get download failed: no network")

    monkeypatch.setattr(image, "ensure", ensure)
    result = runner.invoke(app, ["image"])
    assert result.exit_code == 1
    assert "apt-get download failed" in result.output
    assert "Traceback" not in result.output


# --- boot configuration and disk layout ----------------------------------------------


def test_syslinux_boots_the_kernel_with_the_serial_console_last() -> None:
    cfg = image.syslinux_cfg()
    (append,) = (line for line in cfg.splitlines() if line.strip().startswith("APPEND"))
    assert "initrd=/initrd.img" in append
    consoles = re.findall(r"console=(\S+)", append)
    assert consoles == ["tty0", "ttyS0,115200"]
    assert "KERNEL /vmlinuz" in cfg
    assert "TIMEOUT 0" in cfg
    assert "DEFAULT linux" in cfg and "LABEL linux" in cfg


def test_mbr_holds_boot_code_and_one_active_partition() -> None:
    code = bytes(range(256)) + b"\xfa" * 184
    sectors = image.partition_sectors(15 * 2**20)
    sector = image.mbr(code, image.PARTITION_START, sectors)
    assert len(sector) == 512
    assert sector[:440] == code
    assert sector[510:] == b"\x55\xaa"
    assert struct.unpack_from("<I", sector, 440)[0] == image.DISK_SIGNATURE
    entry = sector[446:462]
    assert entry[0] == 0x80  # active: syslinux's mbr.bin boots it
    assert entry[4] == image.PARTITION_TYPE == 0x0E
    assert struct.unpack_from("<II", entry, 8) == (2048, sectors)
    assert entry[1:4] == bytes((32, 33, 0))  # CHS of LBA 2048 in 255/63 geometry
    assert sector[462:510] == b"\0" * 48  # no other partition


def test_mbr_refuses_boot_code_longer_than_440_bytes() -> None:
    with pytest.raises(errors.TestbedError, match="440"):
        image.mbr(b"\0" * 446, 2048, 2048)


@pytest.mark.parametrize("payload", [1, 15 * 2**20, 15 * 2**20 + 1, 40 * 2**20])
def test_partition_fits_payload_in_whole_mib(payload: int) -> None:
    sectors = image.partition_sectors(payload)
    assert sectors % 2048 == 0
    assert sectors * 512 >= payload * 1.1 + 2 * 2**20
    assert sectors * 512 < payload * 1.1 + 4 * 2**20


# --- packages, modules, libraries ----------------------------------------------------


def test_kernel_image_package_from_the_metapackage() -> None:
    show = (
        "Package: linux-image-cloud-amd64\n"
        "Version: 6.12.117-1\n"
        "Depends: linux-image-6.12.117+deb13-cloud-amd64 (= 6.12.117-1)\n"
    )
    assert image.kernel_image_package(show) == "linux-image-6.12.117+deb13-cloud-amd64"
    with pytest.raises(errors.TestbedError, match="no linux-image"):
        image.kernel_image_package("Package: x\nDepends: libc6\n")


def test_modinfo_depends_and_module_names() -> None:
    module = b"\x7fELF...\0license=GPL\0depends=scsi_mod,cdrom,scsi_common\0name=sr_mod\0"
    assert image.modinfo_depends(module) == ("scsi_mod", "cdrom", "scsi_common")
    assert image.modinfo_depends(b"\0depends=\0name=fat\0") == ()
    assert image.module_name("kernel/fs/fat/vfat.ko.xz") == "vfat"
    assert image.module_name("nls-cp437.ko") == "nls_cp437"


def test_modules_load_after_their_dependencies() -> None:
    deps = {
        "sr_mod": ("scsi_mod", "cdrom", "scsi_common"),
        "scsi_mod": ("scsi_common",),
        "ata_piix": ("libata",),
        "libata": ("scsi_mod", "scsi_common"),
        "isofs": ("cdrom",),
    }
    order = image.module_load_order(["isofs", "ata_piix", "sr_mod"], lambda m: deps.get(m, ()))
    assert sorted(order) == sorted(set(order))
    for module, needs in deps.items():
        for need in needs:
            assert order.index(need) < order.index(module)
    assert order[0] == "cdrom"


def test_module_dependency_cycle_is_an_error() -> None:
    deps = {"a": ("b",), "b": ("a",)}
    with pytest.raises(errors.TestbedError, match="cycle"):
        image.module_load_order(["a"], lambda m: deps[m])


def test_ldd_output_of_two_programs() -> None:
    output = """/usr/sbin/dropbear:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibtomcrypt.so.1 => /lib/x86_64-linux-gnu/libtomcrypt.so.1 (0x00007fa8)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa8)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fa8)
/usr/bin/dropbearkey:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa8)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fa8)
"""
    assert image.ldd_libraries(output) == [
        "/lib/x86_64-linux-gnu/libtomcrypt.so.1",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]
    with pytest.raises(errors.TestbedError, match="not found"):
        image.ldd_libraries("\tlibgone.so.1 => not found\n")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/usr/sbin/dropbear", "usr/bin/dropbear"),
        ("/usr/bin/dropbearkey", "usr/bin/dropbearkey"),
        ("/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"),
        ("/usr/lib/x86_64-linux-gnu/libz.so.1", "usr/lib/x86_64-linux-gnu/libz.so.1"),
        ("/lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"),
    ],
)
def test_guest_paths_have_one_bin_and_usr_merged(path: str, expected: str) -> None:
    assert image.guest_path(path) == expected


def test_guest_path_outside_bin_and_lib_is_an_error() -> None:
    with pytest.raises(errors.TestbedError):
        image.guest_path("/etc/passwd")


# --- initramfs -----------------------------------------------------------------------


def read_cpio(archive: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    """path -> (mode, data, rdev) of a newc archive; checks magic and alignment."""
    entries: dict[str, tuple[int, bytes, tuple[int, int]]] = {}
    offset = 0
    while True:
        assert offset % 4 == 0
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        mode, size, rmajor, rminor, namesize = (
            fields[1],
            fields[6],
            fields[9],
            fields[10],
            fields[11],
        )
        name = archive[offset + 110 : offset + 110 + namesize - 1].decode()
        offset += 110 + namesize
        offset += -offset % 4
        data = archive[offset : offset + size]
        offset += size
        offset += -offset % 4
        if name == "TRAILER!!!":
            assert offset == len(archive)
            return entries
        assert name not in entries, f"{name} twice"
        entries[name] = (mode, data, (rmajor, rminor))


def sample_entries() -> list[image.Entry]:
    return image.initramfs_entries(
        busybox=b"BUSYBOX",
        applets=["sh", "ip", "init", "udhcpc", "insmod", "busybox"],
        programs={"usr/bin/dropbear": b"DROPBEAR", "usr/bin/dropbearkey": b"KEY"},
        libraries={
            "usr/lib/x86_64-linux-gnu/libc.so.6": b"LIBC",
            "usr/lib64/ld-linux-x86-64.so.2": b"LD",
        },
        modules={"failover": b"F", "net_failover": b"NF", "virtio_net": b"VN"},
        module_order=["failover", "net_failover", "virtio_net"],
        scripts=image.script_texts(),
    )


def test_cpio_round_trip() -> None:
    entries = [
        image.directory("etc"),
        image.regular("etc/hostname", b"guest\n"),
        image.symlink("bin", "usr/bin"),
        image.char_device("dev/console", 5, 1),
    ]
    files = read_cpio(image.cpio_newc(entries))
    assert files["etc/hostname"] == (0o100644, b"guest\n", (0, 0))
    assert files["bin"][1] == b"usr/bin"
    assert stat.S_ISLNK(files["bin"][0])
    assert files["dev/console"] == (0o020600, b"", (5, 1))
    assert stat.S_ISDIR(files["etc"][0])


def test_initramfs_is_a_whole_system() -> None:
    files = read_cpio(image.cpio_newc(sample_entries()))
    mode, data, _ = files["init"]
    assert mode == 0o100755
    assert data.startswith(b"#!/bin/sh")
    assert files["usr/bin/busybox"][:2] == (0o100755, b"BUSYBOX")
    for applet in ("sh", "ip", "init", "udhcpc", "insmod"):
        assert files[f"usr/bin/{applet}"][1] == b"busybox", applet
    assert "usr/bin/busybox" in files and files["usr/bin/busybox"][1] == b"BUSYBOX"
    assert files["usr/bin/dropbear"][1] == b"DROPBEAR"
    assert files["usr/bin/scs-say"][0] == 0o100755
    assert files["usr/bin/scs-boot"][0] == 0o100755
    assert files["usr/share/udhcpc/default.script"][0] == 0o100755
    assert files["usr/lib64/ld-linux-x86-64.so.2"][1] == b"LD"
    assert files["lib64"][1] == b"usr/lib64"
    assert files["sbin"][1] == b"usr/bin"
    assert files["dev/console"][2] == (5, 1)
    assert (
        files["etc/scs-test-guest/modules"][1] == b"failover.ko\nnet_failover.ko\nvirtio_net.ko\n"
    )
    assert files["usr/lib/modules/virtio_net.ko"][1] == b"VN"
    assert files["root"][0] == 0o040700
    assert files["tmp"][0] == 0o041777
    assert files["etc/shadow"][0] == 0o100600
    assert files["etc/passwd"][1].startswith(b"root:x:0:0:root:/root:/bin/sh")
    assert files["etc/acpi/PWRF/00000080"][0] == 0o100755
    # No getty, no shell on any console: SSH by key is the only way in.
    assert b"respawn" not in files["etc/inittab"][1]
    assert b"askfirst" not in files["etc/inittab"][1]


def test_initramfs_parents_come_first() -> None:
    seen: set[str] = set()
    for entry in sample_entries():
        parent = str(Path(entry.path).parent)
        assert parent == "." or parent in seen, f"{entry.path} before {parent}"
        seen.add(entry.path)


# --- the guest's scripts -------------------------------------------------------------

GUEST = Path(image.__file__).parent / "guest"


@pytest.mark.parametrize("name", sorted(image.SCRIPTS))
def test_scripts_parse_under_sh(name: str) -> None:
    subprocess.run(["sh", "-n", str(GUEST / name)], check=True)


def test_init_mounts_and_hands_over_to_busybox_init() -> None:
    init = image.script_texts()["init"]
    for needed in (
        "mount -t proc proc /proc",  # tests read /proc/partitions over SSH
        "mount -t devtmpfs devtmpfs /dev",  # /dev/vdb appears on hot-plug by itself
        "mount -t devpts",
        "exec /usr/bin/init",
    ):
        assert needed in init, needed
    assert "::once:/usr/bin/scs-boot" in image.STATIC_FILES["etc/inittab"]


def test_boot_does_what_the_guest_needs() -> None:
    boot = image.script_texts()["boot"]
    for needed in (
        f"</{image.MODULE_LIST}",
        "insmod",
        "acpid",
        "udhcpc -i",
        "-O staticroutes",
        "-O mtu",
        "dropbearkey -t ed25519",
        "dropbear -s",  # no password logins
        "scs-metadata /run/metadata",
        "${name%%.*}",  # the first label of the host name
        "/root/.ssh/authorized_keys",
        'scs-say "ready"',
    ):
        assert needed in boot, needed


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """``ip``, ``scs-say`` and ``wget`` stand-ins that log their arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("ip", "scs-say", "wget"):
        tool = bin_dir / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >>"$FAKE_LOG"\nexit ${{FAKE_EXIT:-0}}\n')
        tool.chmod(0o755)
    return bin_dir


def udhcpc(fake_bin: Path, event: str, **env: str) -> tuple[list[str], Path]:
    log = fake_bin.parent / "calls.log"
    log.unlink(missing_ok=True)
    resolv = fake_bin.parent / "resolv.conf"
    environ = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "FAKE_LOG": str(log),
        "RESOLV_CONF": str(resolv),
        "interface": "eth0",
        **env,
    }
    script = GUEST / "udhcpc.script"
    subprocess.run(["sh", str(script), event], env=environ, check=True)
    return log.read_text().splitlines(), resolv


LEASE = {
    "ip": "10.0.0.5",
    "mask": "24",
    "subnet": "255.255.255.0",
    "router": "10.0.0.1",
    "dns": "10.0.0.2 10.0.0.3",
    "domain": "openstack.internal",
    "mtu": "1442",
}


def test_dhcp_option_121_routes_the_metadata_address(fake_bin: Path) -> None:
    routes = "169.254.169.254/32 10.0.0.2 0.0.0.0/0 10.0.0.1"
    calls, resolv = udhcpc(fake_bin, "bound", staticroutes=routes, **LEASE)
    assert "ip link set dev eth0 mtu 1442" in calls
    assert "ip -4 addr add 10.0.0.5/24 dev eth0" in calls
    assert "ip -4 route replace 169.254.169.254/32 via 10.0.0.2 dev eth0" in calls
    assert "ip -4 route replace 0.0.0.0/0 via 10.0.0.1 dev eth0" in calls
    assert not any("route replace default" in call for call in calls)
    assert "scs-say eth0 address 10.0.0.5/24" in calls
    assert resolv.read_text() == (
        "search openstack.internal\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
    )


def test_dhcp_router_is_the_default_route_when_option_121_has_none(fake_bin: Path) -> None:
    routes = "169.254.169.254/32 10.0.0.2 192.168.7.0/24 0.0.0.0"
    calls, _ = udhcpc(fake_bin, "bound", staticroutes=routes, **LEASE)
    assert "ip -4 route replace 169.254.169.254/32 via 10.0.0.2 dev eth0" in calls
    assert "ip -4 route replace 192.168.7.0/24 dev eth0" in calls
    assert "ip -4 route replace default via 10.0.0.1 dev eth0" in calls


def test_dhcp_without_option_121_uses_the_router(fake_bin: Path) -> None:
    calls, _ = udhcpc(fake_bin, "bound", **LEASE)
    assert [c for c in calls if "route" in c] == [
        "ip -4 route replace default via 10.0.0.1 dev eth0"
    ]
    assert "scs-say eth0 gateway 10.0.0.1 mtu 1442" in calls


def test_dhcp_renew_says_nothing_and_deconfig_flushes(fake_bin: Path) -> None:
    calls, _ = udhcpc(fake_bin, "renew", **LEASE)
    assert not any(call.startswith("scs-say") for call in calls)
    calls, _ = udhcpc(fake_bin, "deconfig")
    assert calls == ["ip -4 addr flush dev eth0", "ip link set dev eth0 up"]


def parse_metadata(tmp_path: Path, meta_data: str) -> tuple[str, str]:
    source = tmp_path / "meta_data.json"
    source.write_text(meta_data)
    out = tmp_path / "out"
    out.mkdir()
    script = GUEST / "metadata"
    subprocess.run(["sh", str(script), "--parse-json", str(source), str(out)], check=True)
    return (out / "hostname").read_text(), (out / "authorized_keys").read_text()


def test_config_drive_meta_data_as_nova_writes_it(tmp_path: Path) -> None:
    meta_data = (
        '{"uuid": "5d9b", "meta": {}, "public_keys": {"alice": "ssh-ed25519 AAAAC3 alice@x\\n",'
        ' "bob": "ssh-rsa AAAAB3 bob@y\\n"}, "keys": [{"name": "alice", "type": "ssh",'
        ' "data": "ssh-ed25519 AAAAC3 alice@x\\n"}], "hostname": "web-1.novalocal",'
        ' "name": "web-1", "launch_index": 0, "availability_zone": "nova"}'
    )
    hostname, keys = parse_metadata(tmp_path, meta_data)
    assert hostname == "web-1.novalocal\n"
    assert keys == "ssh-ed25519 AAAAC3 alice@x\nssh-rsa AAAAB3 bob@y\n"


def test_config_drive_pretty_printed_without_hostname_or_keys(tmp_path: Path) -> None:
    hostname, keys = parse_metadata(tmp_path, '{\n  "uuid": "5d9b",\n  "name": "db"\n}\n')
    assert hostname == "db\n"
    assert keys == ""


def test_metadata_service_is_asked_until_it_answers(fake_bin: Path, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "FAKE_LOG": str(log),
        "FAKE_EXIT": "1",
        "SCS_METADATA_WAIT": "2",
        "SCS_METADATA_URL": "http://md.test/latest/meta-data",
    }
    script = GUEST / "metadata"
    findfs = fake_bin / "findfs"  # finds no config drive
    findfs.write_text("#!/bin/sh\nexit 1\n")
    findfs.chmod(0o755)
    done = subprocess.run(["sh", str(script), str(tmp_path / "md")], env=env, check=False)
    assert done.returncode == 1
    calls = log.read_text().splitlines()
    assert len(calls) == 2  # asked at 0 s and 2 s, then gave up
    assert all("http://md.test/latest/meta-data/hostname" in call for call in calls)

    log.unlink()
    env["FAKE_EXIT"] = "0"
    done = subprocess.run(["sh", str(script), str(tmp_path / "md")], env=env, check=False)
    assert done.returncode == 0
    assert (tmp_path / "md" / "source").read_text().startswith("metadata service")
    assert "public-keys/0/openssh-key" in log.read_text()


def metadata_with_keys_answer(fake_bin: Path, tmp_path: Path, answers: list[str]) -> list[str]:
    """Runs scs-metadata against a wget that answers the hostname and then the key requests
    in turn: "ok", "timeout" (fails, no message) or "404" (fails with busybox's message)."""
    state = tmp_path / "answers"
    state.write_text("\n".join(answers) + "\n")
    log = tmp_path / "calls.log"
    wget = fake_bin / "wget"
    wget.write_text(
        "#!/bin/sh\n"
        'echo "wget $*" >>"$FAKE_LOG"\n'
        'case "$*" in *hostname*) exit 0 ;; esac\n'
        'answer=$(head -n 1 "$ANSWERS"); sed -i 1d "$ANSWERS"\n'
        'case "$answer" in\n'
        "  ok) exit 0 ;;\n"
        '  404) echo "wget: server returned error: HTTP/1.1 404 Not Found" >&2; exit 1 ;;\n'
        "  *) exit 1 ;;\n"
        "esac\n"
    )
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "FAKE_LOG": str(log),
        "ANSWERS": str(state),
        "SCS_METADATA_WAIT": "4",
        "SCS_METADATA_URL": "http://md.test/latest/meta-data",
    }
    findfs = fake_bin / "findfs"
    findfs.write_text("#!/bin/sh\nexit 1\n")
    findfs.chmod(0o755)
    done = subprocess.run(
        ["sh", str(GUEST / "metadata"), str(tmp_path / "md")], env=env, check=False
    )
    assert done.returncode == 0
    return [line for line in log.read_text().splitlines() if "openssh-key" in line]


def test_a_slow_key_answer_is_asked_again(fake_bin: Path, tmp_path: Path) -> None:
    asked = metadata_with_keys_answer(fake_bin, tmp_path, ["timeout", "ok"])
    assert len(asked) == 2
    assert all("-T 20" in call for call in asked)


def test_no_key_pair_is_not_asked_again(fake_bin: Path, tmp_path: Path) -> None:
    asked = metadata_with_keys_answer(fake_bin, tmp_path, ["404", "ok"])
    assert len(asked) == 1
    assert (tmp_path / "md" / "authorized_keys").read_text() == ""


def test_say_writes_to_every_active_console() -> None:
    say = image.script_texts()["say"]
    assert "/sys/class/tty/console/active" in say
    assert 'line="scs-test-guest: $*"' in say
    assert os.access(GUEST / "say", os.R_OK)
