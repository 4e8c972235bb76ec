"""The test guest image: a small bootable raw disk built from Debian 13 packages.

No image site is reachable, so the guests the testbed's Nova boots come from
here. The disk holds an MBR (syslinux's mbr.bin) and one active FAT16
partition with syslinux, Debian's cloud kernel and an initramfs that is the
whole system: busybox, dropbear, the drivers in ``MODULES`` and the scripts in
``guest/`` (DHCP with option 121, host name and SSH key from a config drive or
the metadata service, address lines on the serial console). It boots from a
virtio-blk volume like any BIOS disk: no direct kernel boot.

The tools run in a chroot of an overlay on the testbed's cached Debian 13 root
(``rootfs.ensure``), which stays untouched: the host needs nothing new. The
image is cached under a hash of the recipe (everything below that goes into
it); it is built in a temporary directory and renamed into place when complete.

In Glance: ``disk_format=raw``, ``hw_disk_bus=virtio``, ``hw_vif_model=virtio``,
``os_type=linux``, ``min_ram=128`` (a flavor with 256 MiB is plenty).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gzip
import hashlib
import lzma
import math
import os
import re
import shutil
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from scs_deploy.errors import TestbedError, TestbedPrerequisiteError
from scs_deploy.testbed import rootfs
from scs_deploy.testbed._run import Say, run

NAME = "scs-test-guest"
#: Bump when the build changes in a way the recipe text does not show.
FORMAT = 1
SYSTEM_CACHE_DIR = Path("/var/cache/scs-deploy/images")

KERNEL_PACKAGE = "linux-image-cloud-amd64"
#: Installed into the overlay: the tools that make the disk, and what the guest takes binaries from.
TOOL_PACKAGES = ("syslinux", "syslinux-common", "mtools", "dosfstools")
GUEST_PACKAGES = ("busybox-static", "dropbear-bin")
#: Dynamically linked guest programs; their libraries come along (found with ldd).
GUEST_PROGRAMS = ("/usr/sbin/dropbear", "/usr/bin/dropbearkey")
BUSYBOX = "/bin/busybox"

#: Kernel modules loaded at boot (their dependencies come along). virtio_pci,
#: af_packet (udhcpc), devtmpfs and PCI hotplug are built into the cloud kernel.
MODULES = (
    "virtio_blk",
    "virtio_net",
    "virtio_rng",
    "virtio_balloon",
    # config drive: iso9660 or vfat, on a virtio disk or an IDE/SATA cdrom
    "isofs",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "ata_piix",
    "ahci",
    "sr_mod",
    # ACPI power button -> acpid -> poweroff (Nova's clean shutdown)
    "button",
    "evdev",
)

#: console=ttyS0 last: /dev/console, and so init's own output, is the serial port.
KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200 panic=10"

SECTOR = 512
#: The partition starts at 1 MiB, as partitioning tools do.
PARTITION_START = 2048
#: MBR partition type: FAT16 with LBA addressing.
PARTITION_TYPE = 0x0E
DISK_SIGNATURE = 0x5C5DE5E5
FAT_VOLUME_ID = "5c5de5e5"
FAT_LABEL = "SCSGUEST"

_MIB = 2**20

#: The guest's scripts (package data) and where they go in the initramfs.
SCRIPTS = {
    "init": "init",
    "boot": "usr/bin/scs-boot",
    "say": "usr/bin/scs-say",
    "metadata": "usr/bin/scs-metadata",
    "udhcpc.script": "usr/share/udhcpc/default.script",
}

#: Small files of the guest: path -> text.
STATIC_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/shadow": "root:*:20000:0:99999:7:::\n",
    "etc/group": "root:x:0:\ntty:x:5:\n",
    "etc/shells": "/bin/sh\n",
    "etc/hostname": f"{NAME}\n",
    "etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {NAME}\n",
    "etc/profile": 'export PATH=/usr/bin\nPS1="$(hostname):\\w\\$ "\n',
    # No shells on any console: root logs in by SSH key only.
    "etc/inittab": (
        "::once:/usr/bin/scs-boot\n"
        "::ctrlaltdel:/usr/bin/reboot\n"
        "::shutdown:/usr/bin/scs-say powering off\n"
        "::shutdown:/usr/bin/umount -a -r\n"
    ),
    # The power button: busybox acpid runs this.
    "etc/acpi/PWRF/00000080": "#!/bin/sh\nexec poweroff\n",
}
EXECUTABLE_FILES = frozenset({"etc/acpi/PWRF/00000080"})

DIRECTORIES = (
    "dev",
    "etc",
    "etc/acpi",
    "etc/acpi/PWRF",
    "etc/dropbear",
    "etc/scs-test-guest",
    "mnt",
    "proc",
    "root",
    "run",
    "sys",
    "tmp",
    "usr",
    "usr/bin",
    "usr/lib",
    "usr/lib/modules",
    "usr/lib64",
    "usr/share",
    "usr/share/udhcpc",
    "var",
    "var/log",
)
#: One bin directory: whatever PATH a program sets, it finds every command.
SYMLINKS = {
    "bin": "usr/bin",
    "sbin": "usr/bin",
    "usr/sbin": "bin",
    "lib": "usr/lib",
    "lib64": "usr/lib64",
}
MODULE_LIST = "etc/scs-test-guest/modules"


# --- the recipe and the cache --------------------------------------------------------


def script_texts() -> dict[str, str]:
    """The guest's scripts from the package data, by their name in ``guest/``."""
    folder = resources.files("scs_deploy.testbed").joinpath("guest")
    return {name: folder.joinpath(name).read_text() for name in SCRIPTS}


def syslinux_cfg(cmdline: str = KERNEL_CMDLINE) -> str:
    """Boot the one kernel at once; syslinux itself also talks on the serial port."""
    return (
        "SERIAL 0 115200\n"
        "DEFAULT linux\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        "LABEL linux\n"
        "  KERNEL /vmlinuz\n"
        f"  APPEND initrd=/initrd.img {cmdline}\n"
    )


def recipe(scripts: Mapping[str, str]) -> str:
    """Everything the image is made of, as one text: its hash names the cached image."""
    parts = [
        f"format {FORMAT}",
        f"suite {rootfs.SUITE}",
        f"kernel {KERNEL_PACKAGE}",
        f"tools {' '.join(TOOL_PACKAGES)}",
        f"packages {' '.join(GUEST_PACKAGES)}",
        f"programs {' '.join(GUEST_PROGRAMS)}",
        f"modules {' '.join(MODULES)}",
        f"partition {PARTITION_START} {PARTITION_TYPE:#x} {FAT_LABEL}",
        syslinux_cfg(),
    ]
    parts += [f"--- {path}\n{text}" for path, text in sorted(STATIC_FILES.items())]
    parts += [f"--- {name}\n{scripts[name]}" for name in sorted(scripts)]
    return "\n".join(parts)


def cache_key(recipe_text: str) -> str:
    return hashlib.sha256(recipe_text.encode()).hexdigest()[:12]


def image_name(key: str) -> str:
    return f"{NAME}-{key}.raw"


def default_cache_dir(euid: int, environ: Mapping[str, str], home: Path) -> Path:
    """/var/cache/scs-deploy/images for root, else the user's cache directory."""
    if euid == 0:
        return SYSTEM_CACHE_DIR
    base = environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    return Path(base) / "scs-deploy" / "images"


# --- pure pieces of the build --------------------------------------------------------


def kernel_image_package(apt_cache_show: str) -> str:
    """The versioned image package the ``linux-image-cloud-amd64`` metapackage depends on."""
    for line in apt_cache_show.splitlines():
        if line.startswith("Depends:"):
            for alternative in line.removeprefix("Depends:").split(","):
                name = alternative.split("|")[0].split("(")[0].strip()
                if name.startswith("linux-image-"):
                    return name
    raise TestbedError(f"{KERNEL_PACKAGE} depends on no linux-image package")


def modinfo_depends(module: bytes) -> tuple[str, ...]:
    """The ``depends=`` of a kernel module's .modinfo section."""
    found = re.search(rb"\0depends=([^\0]*)\0", module)
    if found is None or not found.group(1):
        return ()
    return tuple(found.group(1).decode().split(","))


def module_name(path: str) -> str:
    """``kernel/fs/fat/vfat.ko.xz`` -> ``vfat`` (dashes and underscores are one)."""
    return PurePosixPath(path).name.split(".ko")[0].replace("-", "_")


def module_load_order(wanted: Iterable[str], depends: Callable[[str], Sequence[str]]) -> list[str]:
    """``wanted`` and everything they depend on, each after its dependencies."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise TestbedError(f"kernel module dependency cycle at {name}")
        visiting.add(name)
        for dep in depends(name):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def ldd_libraries(ldd_output: str) -> list[str]:
    """Absolute paths of the libraries in ``ldd`` output (of one or more programs), the
    dynamic loader included, each once."""
    paths: list[str] = []
    for line in ldd_output.splitlines():
        words = line.split()
        if not words or words[0].endswith(":"):  # "/usr/sbin/dropbear:" heads a program
            continue
        path = words[0]
        if "=>" in words:
            path = words[words.index("=>") + 1]
            if path == "not":
                raise TestbedError(f"ldd: library not found: {line.strip()}")
        if path.startswith("/") and path not in paths:
            paths.append(path)
    return paths


#: Top directories of the build root -> the guest's, which has one bin directory.
_GUEST_DIRS = {"bin": "usr/bin", "sbin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64"}


def guest_path(path: str) -> str:
    """Where a file of the build root goes in the guest: /lib/x/y and /usr/lib/x/y are
    usr/lib/x/y, /sbin/x and /usr/sbin/x are usr/bin/x."""
    parts = PurePosixPath(path.lstrip("/")).parts
    if parts[0] == "usr":
        parts = parts[1:]
    if len(parts) < 2 or parts[0] not in _GUEST_DIRS:
        raise TestbedError(f"{path}: not a program or library path")
    return "/".join((_GUEST_DIRS[parts[0]], *parts[1:]))


@dataclass(frozen=True)
class Entry:
    """One file, directory, symlink or device node of the initramfs."""

    path: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def directory(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, 0o040000 | perm)


def regular(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, 0o100000 | perm, data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, 0o120777, target.encode())


def char_device(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, 0o020000 | perm, rdev=(major, minor))


def cpio_newc(entries: Iterable[Entry]) -> bytes:
    """A ``newc`` cpio archive, as the kernel unpacks an initramfs: owner root, time 0."""
    out = bytearray()

    def record(number: int, entry: Entry) -> None:
        name = entry.path.encode() + b"\0"
        fields = (
            number,
            entry.mode,
            0,  # uid
            0,  # gid
            2 if entry.mode & 0o170000 == 0o040000 else 1,
            0,  # mtime
            len(entry.data),
            0,
            0,
            entry.rdev[0],
            entry.rdev[1],
            len(name),
            0,
        )
        out.extend(b"070701" + b"".join(b"%08X" % field for field in fields) + name)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(entry.data)
        out.extend(b"\0" * (-len(out) % 4))

    number = 0
    for number, entry in enumerate(entries, start=1):
        record(number, entry)
    record(number + 1, Entry("TRAILER!!!", 0))
    return bytes(out)


def initramfs_entries(
    *,
    busybox: bytes,
    applets: Iterable[str],
    programs: Mapping[str, bytes],
    libraries: Mapping[str, bytes],
    modules: Mapping[str, bytes],
    module_order: Sequence[str],
    scripts: Mapping[str, str],
) -> list[Entry]:
    """The whole guest system; ``programs`` and ``libraries`` are keyed by guest path."""
    entries = [directory(d) for d in DIRECTORIES]
    entries[DIRECTORIES.index("root")] = directory("root", 0o700)
    entries[DIRECTORIES.index("tmp")] = directory("tmp", 0o1777)
    entries += [symlink(link, target) for link, target in SYMLINKS.items()]
    entries.append(char_device("dev/console", 5, 1))
    entries.append(regular("usr/bin/busybox", busybox, 0o755))
    own = (*programs, *SCRIPTS.values())
    taken = {"busybox", *(p.removeprefix("usr/bin/") for p in own if p.startswith("usr/bin/"))}
    entries += [symlink(f"usr/bin/{applet}", "busybox") for applet in sorted(set(applets) - taken)]
    entries += [regular(path, data, 0o755) for path, data in sorted(programs.items())]
    libdirs = sorted({str(PurePosixPath(p).parent) for p in libraries} - set(DIRECTORIES))
    entries += [directory(d) for d in libdirs]
    entries += [regular(path, data, 0o755) for path, data in sorted(libraries.items())]
    entries += [regular(f"usr/lib/modules/{name}.ko", modules[name]) for name in module_order]
    entries.append(regular(MODULE_LIST, "".join(f"{n}.ko\n" for n in module_order).encode()))
    for path, text in sorted(STATIC_FILES.items()):
        perm = 0o755 if path in EXECUTABLE_FILES else 0o600 if path == "etc/shadow" else 0o644
        entries.append(regular(path, text.encode(), perm))
    entries += [regular(SCRIPTS[name], scripts[name].encode(), 0o755) for name in sorted(scripts)]
    return entries


def partition_sectors(payload_bytes: int) -> int:
    """The FAT partition for ``payload_bytes`` of files: 10 % and 2 MiB spare, whole MiB."""
    return math.ceil(payload_bytes * 1.1 / _MIB + 2) * _MIB // SECTOR


def _chs(lba: int) -> bytes:
    """Cylinder/head/sector of ``lba`` in the usual 255-head, 63-sector geometry."""
    cylinder, rest = divmod(lba, 255 * 63)
    if cylinder > 1023:
        return bytes((254, 0xFF, 0xFF))
    head, sector = divmod(rest, 63)
    return bytes((head, (sector + 1) | ((cylinder >> 2) & 0xC0), cylinder & 0xFF))


def mbr(boot_code: bytes, start: int, sectors: int, signature: int = DISK_SIGNATURE) -> bytes:
    """The first sector: boot code, disk signature, one active partition, 0x55AA."""
    if len(boot_code) > 440:
        raise TestbedError(f"MBR boot code of {len(boot_code)} bytes does not fit in 440")
    entry = (
        b"\x80"
        + _chs(start)
        + bytes((PARTITION_TYPE,))
        + _chs(start + sectors - 1)
        + struct.pack("<II", start, sectors)
    )
    sector = boot_code.ljust(440, b"\0") + struct.pack("<I", signature) + b"\0\0"
    sector += entry + b"\0" * 48 + b"\x55\xaa"
    assert len(sector) == SECTOR
    return sector


# --- I/O -----------------------------------------------------------------------------


def ensure(say: Say, cache_dir: Path | None = None) -> Path:
    """The cached image, built first if absent (as root: it needs a chroot)."""
    if cache_dir is None:
        cache_dir = default_cache_dir(os.geteuid(), os.environ, Path.home())
    key = cache_key(recipe(script_texts()))
    target = cache_dir / image_name(key)
    if target.exists():
        return target
    _check_can_build()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _lock(cache_dir):
        if target.exists():  # another run built it while we waited
            return target
        for stale in cache_dir.glob(".build-*"):
            _unmount_under(stale)
            shutil.rmtree(stale, ignore_errors=True)
        root = rootfs.ensure(say)
        work = cache_dir / f".build-{os.getpid()}"
        work.mkdir()
        say(f"building the test guest image from Debian {rootfs.SUITE} packages…")
        started = time.monotonic()
        try:
            manifest = _build(root, work, say)
            target.with_suffix(".packages").write_text(manifest)
            (work / "disk.raw").rename(target)
        finally:
            _unmount_under(work)
            shutil.rmtree(work, ignore_errors=True)
        size = target.stat().st_size / _MIB
        say(f"test guest image built in {time.monotonic() - started:.0f} s: {size:.0f} MiB")
        for older in cache_dir.glob(f"{NAME}-*.raw"):  # from earlier recipes
            if older != target:
                older.unlink()
                older.with_suffix(".packages").unlink(missing_ok=True)
    return target


def export(image: Path, out: Path) -> Path:
    """Copy the cached image to ``out`` (through a temporary name: never a partial file)."""
    out = out.absolute()
    partial = out.with_name(f".{out.name}.partial")
    try:
        shutil.copyfile(image, partial)
        partial.rename(out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TestbedError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out


def _check_can_build() -> None:
    problems = []
    if os.geteuid() != 0:
        problems.append("building the test guest image needs root (it works in a chroot)")
    tools = ["mount", "umount", "chroot"]
    if not rootfs.cache_path().exists():
        tools.append("debootstrap")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if problems:
        raise TestbedPrerequisiteError("; ".join(problems))


def _build(root: Path, work: Path, say: Say) -> str:
    """Make ``work/disk.raw``; return the manifest of package versions."""
    merged = work / "root"
    with _overlay(root, work, merged):
        chroot = _chroot_runner(merged)
        host_resolv = Path("/etc/resolv.conf")
        if host_resolv.exists():
            (merged / "etc/resolv.conf").unlink(missing_ok=True)
            shutil.copyfile(host_resolv, merged / "etc/resolv.conf")
        build = merged / "build"
        build.mkdir()

        say("  packages: apt-get update, install, download")
        packages = (*TOOL_PACKAGES, *GUEST_PACKAGES)
        chroot("apt-get", *_APT, "update")
        chroot("apt-get", *_APT, "install", "-y", "--no-install-recommends", *packages)
        show = chroot("apt-cache", "show", "--no-all-versions", KERNEL_PACKAGE)
        kernel = kernel_image_package(show)
        chroot("sh", "-c", 'cd /build && exec apt-get "$@"', "-", *_APT, "download", kernel)
        deb = _only(build.glob("linux-image-*.deb"), "the downloaded kernel package")
        chroot("dpkg-deb", "-x", f"/build/{deb.name}", "/build/kernel")
        versions = "${Package} ${Version}\n"
        manifest = chroot("dpkg-query", "-W", "-f", versions, *packages)
        manifest += chroot("dpkg-deb", f"--showformat={versions}", "--show", f"/build/{deb.name}")

        say("  initramfs: busybox, dropbear, libraries, kernel modules, scripts")
        read_module = _module_reader(build / "kernel/usr/lib/modules")
        order = module_load_order(MODULES, lambda name: modinfo_depends(read_module(name)))
        libraries = ldd_libraries(chroot("ldd", *GUEST_PROGRAMS))
        wanted = (*GUEST_PROGRAMS, *libraries)
        real = chroot("readlink", "-f", *wanted).split()
        files = {
            guest_path(path): (merged / target.lstrip("/")).read_bytes()
            for path, target in zip(wanted, real, strict=True)
        }
        entries = initramfs_entries(
            busybox=(merged / BUSYBOX.lstrip("/")).read_bytes(),
            applets=chroot(BUSYBOX, "--list").split(),
            programs={guest_path(p): files.pop(guest_path(p)) for p in GUEST_PROGRAMS},
            libraries=files,
            modules={name: read_module(name) for name in order},
            module_order=order,
            scripts=script_texts(),
        )
        boot = build / "boot"
        boot.mkdir()
        (boot / "initrd.img").write_bytes(gzip.compress(cpio_newc(entries), 9, mtime=0))
        vmlinuz = _only((build / "kernel/boot").glob("vmlinuz-*"), "the kernel")
        shutil.copyfile(vmlinuz, boot / "vmlinuz")
        (boot / "syslinux.cfg").write_text(syslinux_cfg())

        say("  disk: FAT partition, syslinux, MBR")
        boot_files = sorted(boot.iterdir())
        sectors = partition_sectors(sum(f.stat().st_size for f in boot_files))
        part = "/build/part.img"
        kib = str(sectors * SECTOR // 1024)
        hidden = str(PARTITION_START)
        chroot(
            "mkfs.vfat",
            "-C",
            "-F",
            "16",
            "-h",
            hidden,
            "-n",
            FAT_LABEL,
            "-i",
            FAT_VOLUME_ID,
            part,
            kib,
        )
        chroot("syslinux", "--install", part)
        chroot("mcopy", "-i", part, *(f"/build/boot/{f.name}" for f in boot_files), "::/")
        boot_code = (merged / "usr/lib/syslinux/mbr/mbr.bin").read_bytes()
        with (work / "disk.raw").open("wb") as disk:
            disk.write(mbr(boot_code, PARTITION_START, sectors))
            disk.seek(PARTITION_START * SECTOR)
            with (build / "part.img").open("rb") as fat:
                shutil.copyfileobj(fat, disk)
    return manifest


#: apt-get inside the chroot runs as root: its _apt user cannot write to /build.
_APT = ("-q", "-o", "APT::Sandbox::User=root")


def _chroot_runner(root: Path) -> Callable[..., str]:
    """Run a command in ``root`` with a clean environment; return its standard output."""
    env = (
        "env",
        "-i",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LC_ALL=C",
        "DEBIAN_FRONTEND=noninteractive",
        "MTOOLS_SKIP_CHECK=1",
    )

    def chroot(*argv: str) -> str:
        return run(["chroot", str(root), *env, *argv]).stdout

    return chroot


def _only(paths: Iterable[Path], what: str) -> Path:
    found = list(paths)
    if len(found) != 1:
        raise TestbedError(f"expected one file for {what}, found {len(found)}: {found}")
    return found[0]


def _module_reader(modules_dir: Path) -> Callable[[str], bytes]:
    """Module name -> the uncompressed module from the kernel package."""
    paths = {module_name(p.name): p for p in modules_dir.rglob("*.ko*")}

    @functools.cache
    def read(name: str) -> bytes:
        if name not in paths:
            raise TestbedError(f"kernel module {name} is not in {KERNEL_PACKAGE}")
        data = paths[name].read_bytes()
        return lzma.decompress(data) if paths[name].suffix == ".xz" else data

    return read


@contextlib.contextmanager
def _overlay(lower: Path, work: Path, merged: Path) -> Iterator[None]:
    """``lower`` writable at ``merged`` (the writes land in ``work/upper``), with /proc:
    syslinux's installer hands the image to mtools as /proc/PID/fd/N."""
    for sub in ("upper", "overlay-work"):
        (work / sub).mkdir()
    merged.mkdir()
    options = f"lowerdir={lower},upperdir={work / 'upper'},workdir={work / 'overlay-work'}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)])
    try:
        run(["mount", "-t", "proc", "proc", str(merged / "proc")])
        try:
            yield
        finally:
            run(["umount", str(merged / "proc")], check=False)
    finally:
        run(["umount", str(merged)], check=False)


def _unmount_under(directory: Path) -> None:
    """Unmount what a killed build left mounted below ``directory``."""
    prefix = str(directory.resolve()) + "/"
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    for line in reversed(mounts):
        point = line.split()[1].replace("\\040", " ")
        if point.startswith(prefix):
            run(["umount", "-l", point], check=False)


@contextlib.contextmanager
def _lock(cache_dir: Path) -> Iterator[None]:
    with (cache_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
