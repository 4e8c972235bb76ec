"""SCS flavor names (scs-0100 v3) and the standard flavors (scs-0103 v1).

A name such as ``SCS-4V-16-100s_kvm`` states what a flavor provides at least:
the number and kind of its vCPUs, its RAM, optionally a root disk, and
optional extensions (hypervisor, nested virtualization, CPU architecture,
GPU, Infiniband). ``parse`` reads a name into a ``FlavorName``, whose
``name`` writes it back in canonical form; ``semantic_problems`` tells
whether an existing flavor lives up to the name it carries, and
``FlavorName.extra_specs`` gives the ``scs:`` properties scs-0103 asks for.

Written from the text of the standards; the standard library suffices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "SCS-"

# Weakest first: a flavor may deliver a stronger kind than its name states, never a weaker one.
CPU_TYPES: dict[str, str] = {
    "L": "crowded-core",
    "V": "shared-core",
    "T": "dedicated-thread",
    "C": "dedicated-core",
}

DISK_TYPES: dict[str, str] = {"n": "network", "h": "hdd", "s": "ssd", "p": "nvme"}

# A disk without a type letter promises no type, yet the standard flavors' reference
# data labels such disks "network", the type a cloud picks unless told otherwise.
UNTYPED_DISK_LETTER = "n"

# Network storage survives the loss of a node and allows live migration, which no
# local disk does, yet is slower than any local one: neither may stand in for the other.
_NETWORK_DISK_LETTER = "n"
# Slowest first: a faster local disk may stand in for a slower one.
_LOCAL_DISK_LETTERS = ("h", "s", "p")

# The order of scs-0103-v1's certification test cases and reference data. The
# standard's table lists the two SSD flavors among the others, but everything that
# reports on compliance lists them last, so reports line up with this order.
MANDATORY_FLAVORS: tuple[str, ...] = (
    "SCS-1V-4",
    "SCS-2V-8",
    "SCS-4V-16",
    "SCS-8V-32",
    "SCS-1V-2",
    "SCS-2V-4",
    "SCS-4V-8",
    "SCS-8V-16",
    "SCS-16V-32",
    "SCS-1V-8",
    "SCS-2V-16",
    "SCS-4V-32",
    "SCS-1L-1",
    "SCS-2V-4-20s",
    "SCS-4V-16-100s",
)

RECOMMENDED_FLAVORS: tuple[str, ...] = (
    "SCS-1V-4-10",
    "SCS-2V-8-20",
    "SCS-4V-16-50",
    "SCS-8V-32-100",
    "SCS-1V-2-5",
    "SCS-2V-4-10",
    "SCS-4V-8-20",
    "SCS-8V-16-50",
    "SCS-16V-32-100",
    "SCS-1V-8-20",
    "SCS-2V-16-50",
    "SCS-4V-32-100",
    "SCS-1L-1-5",
    # Added in scs-0103 v1.2 for clouds that offer more RAM per vCPU.
    "SCS-16V-64",
    "SCS-8V-64",
    "SCS-16V-128",
)

_HYPERVISORS = ("kvm", "chy", "xen", "vmw", "hyv", "bms")
_CPU_GENERATIONS: dict[str, str] = {"i": "0123456", "z": "0123456", "a": "012345", "r": "0"}
_MAX_CPU_FREQUENCY_MARKS = 3
_NVIDIA_GENERATIONS = "fkmpvtalgbu"

# Extensions must appear in this order, each at most once.
_EXTENSION_KINDS = (
    "hypervisor",
    "hardware virtualization",
    "CPU architecture",
    "GPU",
    "Infiniband",
)
_HYPERVISOR, _HW_VIRT, _CPU_ARCH, _GPU, _INFINIBAND = range(len(_EXTENSION_KINDS))

_CPU_ARCH_PATTERN = re.compile(r"(?P<vendor>[izar])(?P<generation>[0-9]*)(?P<frequency>h*)")
_GPU_PATTERN = re.compile(
    r"(?P<kind>[Gg])(?P<vendor>[NAI])(?P<generation>[a-z]|[0-9]+(?:\.[0-9]+)?)?"
    r"(?:-(?P<units>[0-9]+)(?P<fast>h*)(?:-(?P<vram>[0-9]+)(?P<hbm>h?))?)?"
)
_LEADING_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DISK_PATTERN = re.compile(r"(?:(?P<count>[0-9]+)x)?(?P<size>[0-9]*)(?P<type>[A-Za-z]?)")


class FlavorNameError(ValueError):
    """A flavor name, or the parts of one, break a rule of scs-0100."""


@dataclass(frozen=True)
class FlavorName:
    """The parts of an SCS flavor name.

    ``disk_gib`` is None when the name has no disk part (boot from a volume),
    and 0 when it has one without a size (``SCS-2C-4-n``, ``SCS-2C-4-``): the
    cloud then sizes the root disk to fit the image, as Nova does for disk 0.
    """

    cpus: int
    cpu_type: str
    insecure: bool
    ram_gib: float
    ram_no_ecc: bool
    ram_oversubscribed: bool
    disk_gib: int | None
    disk_count: int
    disk_type: str | None
    extensions: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.cpus < 1:
            raise FlavorNameError(f"{self.cpus} vCPUs: a flavor has at least 1")
        if self.cpu_type not in CPU_TYPES:
            raise FlavorNameError(f"{self.cpu_type!r} is not a CPU type (L, V, T or C)")
        if self.ram_gib <= 0 or not float(self.ram_gib * 2).is_integer():
            raise FlavorNameError(
                f"{_format_gib(self.ram_gib)} GiB RAM: must be a positive whole or half GiB"
            )
        self._check_disk()
        _check_extensions(self.extensions)

    def _check_disk(self) -> None:
        if self.disk_gib is None:
            if self.disk_count != 1 or self.disk_type is not None:
                raise FlavorNameError("a disk count or type needs a disk part")
            return
        if self.disk_gib < 0:
            raise FlavorNameError(f"disk size {self.disk_gib}: must not be negative")
        if self.disk_count < 1:
            raise FlavorNameError(f"disk count {self.disk_count}: must be at least 1")
        if self.disk_count != 1 and self.disk_gib == 0:
            raise FlavorNameError(f"{self.disk_count}x: a disk count needs a disk size")
        if self.disk_type is not None and self.disk_type not in DISK_TYPES:
            raise FlavorNameError(f"{self.disk_type!r} is not a disk type (n, h, s or p)")

    @property
    def name(self) -> str:
        """The canonical name, valid for scs-0100 v2 and v3."""
        cpu = f"{self.cpus}{self.cpu_type}{'i' if self.insecure else ''}"
        ram = (
            _format_gib(self.ram_gib)
            + ("u" if self.ram_no_ecc else "")
            + ("o" if self.ram_oversubscribed else "")
        )
        disk = ""
        if self.disk_gib is not None:
            count = f"{self.disk_count}x" if self.disk_count != 1 else ""
            size = str(self.disk_gib) if self.disk_gib else ""
            disk = f"-{count}{size}{self.disk_type or ''}"
        extensions = "".join(f"_{extension}" for extension in self.extensions)
        return f"{PREFIX}{cpu}-{ram}{disk}{extensions}"

    @property
    def name_v1(self) -> str:
        """The same name in scs-0100 v1 spelling: ':' between parts, '-' before extensions."""
        body = self.name[len(PREFIX) :]
        return PREFIX + body.replace("-", ":").replace("_", "-")

    @property
    def ram_mib(self) -> int:
        return round(self.ram_gib * 1024)

    def extra_specs(self) -> dict[str, str]:
        """The ``scs:`` extra specs scs-0103 sets on its standard flavors."""
        specs = {"scs:cpu-type": CPU_TYPES[self.cpu_type]}
        if self.disk_gib is not None:
            specs["scs:disk0-type"] = DISK_TYPES[self.disk_type or UNTYPED_DISK_LETTER]
        specs["scs:name-v1"] = self.name_v1
        specs["scs:name-v2"] = self.name
        return specs


def is_scs_name(name: str) -> bool:
    """Whether the name claims to follow scs-0100, and so must."""
    return name.startswith(PREFIX)


def parse(name: str) -> FlavorName:
    """Read an SCS flavor name; FlavorNameError says which part breaks which rule.

    Spellings the syntax allows but the canonical form avoids (``02V``,
    ``4.0``, ``1x10``) are accepted; ``FlavorName.name`` writes them the
    canonical way.
    """
    try:
        return _parse(name)
    except FlavorNameError as error:
        raise FlavorNameError(f"{name}: {error}") from None


def semantic_problems(
    name: FlavorName, vcpus: int, ram_mib: int, disk_gib: int, extra_specs: dict[str, str]
) -> list[str]:
    """What keeps a flavor with these attributes from living up to this name.

    A flavor must provide at least what its name states and may provide more
    (scs-0100 allows understating), so vCPUs, RAM and a named disk size are
    lower bounds. The ``scs:`` extra specs are claims about the flavor, too,
    so the name must not promise more than they state.
    """
    label = name.name
    problems = []
    if vcpus < name.cpus:
        problems.append(f"{label}: {vcpus} vCPUs, but the name promises {name.cpus}")
    if ram_mib < name.ram_mib:
        problems.append(
            f"{label}: {ram_mib} MiB RAM, but the name promises {name.ram_mib} MiB"
            f" ({_format_gib(name.ram_gib)} GiB)"
        )
    # A disk part without a size leaves the size to the cloud, so only a named size binds.
    if name.disk_gib and disk_gib < name.disk_gib:
        problems.append(
            f"{label}: root disk of {disk_gib} GB, but the name promises {name.disk_gib} GB"
        )
    cpu_type = extra_specs.get("scs:cpu-type")
    if cpu_type is not None:
        problems.extend(_cpu_type_problems(label, name.cpu_type, cpu_type))
    disk_type = extra_specs.get("scs:disk0-type")
    if disk_type is not None:
        problems.extend(_disk_type_problems(label, name.disk_type, disk_type))
    return problems


def standard_flavors(recommended: bool = True) -> tuple[FlavorName, ...]:
    """The scs-0103 v1 standard flavors: the mandatory ones, then the recommended ones."""
    names = MANDATORY_FLAVORS + (RECOMMENDED_FLAVORS if recommended else ())
    return tuple(parse(name) for name in names)


def _parse(name: str) -> FlavorName:
    if not is_scs_name(name):
        raise FlavorNameError(f"does not start with {PREFIX!r}")
    body = name[len(PREFIX) :]
    if ":" in body:
        raise FlavorNameError(
            "':' separates parts in v1 names only; v3 uses '-' (and '_' before extensions)"
        )
    head, *extensions = body.split("_")
    parts = head.split("-")
    cpus, cpu_type, insecure = _parse_cpus(parts[0])
    if len(parts) < 2:
        raise FlavorNameError(f"no RAM part after {parts[0]!r}; CPUs and RAM are joined by '-'")
    ram_gib, ram_no_ecc, ram_oversubscribed = _parse_ram(parts[1])
    disk_count, disk_gib, disk_type = 1, None, None
    if len(parts) > 2:
        disk_count, disk_gib, disk_type = _parse_disk(parts[2])
    if len(parts) > 3:
        raise FlavorNameError(
            f"'-{parts[3]}' follows the disk part; extensions are joined by '_' instead"
        )
    return FlavorName(
        cpus=cpus,
        cpu_type=cpu_type,
        insecure=insecure,
        ram_gib=ram_gib,
        ram_no_ecc=ram_no_ecc,
        ram_oversubscribed=ram_oversubscribed,
        disk_gib=disk_gib,
        disk_count=disk_count,
        disk_type=disk_type,
        extensions=tuple(extensions),
    )


def _parse_cpus(text: str) -> tuple[int, str, bool]:
    number = _LEADING_NUMBER.match(text)
    if number is None or "." in number.group():
        raise FlavorNameError(f"CPU part {text!r} must start with a whole number of vCPUs")
    letters = text[number.end() :]
    if not letters:
        raise FlavorNameError(f"{text!r} lacks the CPU type (L, V, T or C) after the number")
    cpu_type, suffix = letters[0], letters[1:]
    if cpu_type not in CPU_TYPES:
        hint = "; 'i' goes after the CPU type" if cpu_type == "i" else ""
        raise FlavorNameError(f"{cpu_type!r} is not a CPU type (L, V, T or C){hint}")
    if suffix not in ("", "i"):
        raise FlavorNameError(f"{suffix!r} after the CPU type: only 'i' (insecure) may follow it")
    return int(number.group()), cpu_type, suffix == "i"


def _parse_ram(text: str) -> tuple[float, bool, bool]:
    number = _LEADING_NUMBER.match(text)
    if number is None:
        raise FlavorNameError(f"RAM part {text!r} must start with the amount of RAM in GiB")
    amount = float(number.group())
    if not (amount * 2).is_integer():
        raise FlavorNameError(f"RAM of {number.group()!r} GiB: only whole or half GiB may be named")
    flags = text[number.end() :]
    if flags == "ou":
        raise FlavorNameError("'ou' after the RAM: 'u' (no ECC) goes before 'o' (oversubscribed)")
    if flags not in ("", "u", "o", "uo"):
        raise FlavorNameError(
            f"{flags!r} after the RAM: only 'u' (no ECC), 'o' (oversubscribed)"
            " or 'uo' may follow it"
        )
    return amount, "u" in flags, "o" in flags


def _parse_disk(text: str) -> tuple[int, int, str | None]:
    fraction = re.search(r"[0-9]*\.[0-9]*", text)
    if fraction is not None:
        raise FlavorNameError(f"disk size {fraction.group()!r}: only whole GB may be named")
    match = _DISK_PATTERN.fullmatch(text)
    if match is None:
        raise FlavorNameError(f"disk part {text!r} does not read [Mx]N[n/h/s/p]")
    count, size, letter = match["count"], match["size"], match["type"]
    if count is not None and not size:
        raise FlavorNameError(f"disk part {text!r}: a disk count 'Mx' needs a size after it")
    if size and int(size) == 0:
        raise FlavorNameError(f"disk size {size!r}: leave the size out to let the cloud choose it")
    if letter and letter not in DISK_TYPES:
        raise FlavorNameError(f"{letter!r} is not a disk type (n, h, s or p)")
    return int(count) if count else 1, int(size) if size else 0, letter or None


def _check_extensions(extensions: tuple[str, ...]) -> None:
    previous_kind, previous = -1, ""
    for extension in extensions:
        kind = _extension_kind(extension)
        if kind == previous_kind:
            raise FlavorNameError(
                f"'_{extension}' repeats the {_EXTENSION_KINDS[kind]} extension '_{previous}'"
            )
        if kind < previous_kind:
            raise FlavorNameError(
                f"'_{extension}' ({_EXTENSION_KINDS[kind]}) must come before"
                f" '_{previous}' ({_EXTENSION_KINDS[previous_kind]})"
            )
        previous_kind, previous = kind, extension


def _extension_kind(extension: str) -> int:
    if not extension:
        raise FlavorNameError("empty extension: '_' doubled or at the end")
    if extension in _HYPERVISORS:
        return _HYPERVISOR
    if extension == "hwv":
        return _HW_VIRT
    if extension == "ib":
        return _INFINIBAND
    if extension[0] in _CPU_GENERATIONS:
        _check_cpu_arch(extension)
        return _CPU_ARCH
    if extension[0] in "Gg":
        _check_gpu(extension)
        return _GPU
    hint = "; a CPU generation follows its vendor letter" if extension[0].isdigit() else ""
    raise FlavorNameError(
        f"{extension!r} is not an extension (hypervisor {', '.join(_HYPERVISORS)};"
        f" hwv; CPU architecture i/z/a/r; GPU G/g; ib){hint}"
    )


def _check_cpu_arch(extension: str) -> None:
    match = _CPU_ARCH_PATTERN.fullmatch(extension)
    if match is None:
        raise FlavorNameError(
            f"{extension!r} is not a CPU architecture: vendor i/z/a/r, generation, then h's"
        )
    vendor, generation, frequency = match["vendor"], match["generation"], match["frequency"]
    known = _CPU_GENERATIONS[vendor]
    if generation and (len(generation) != 1 or generation not in known):
        raise FlavorNameError(
            f"{generation!r} in {extension!r} is not a generation of CPU vendor {vendor!r}"
            f" ({', '.join(known)})"
        )
    if len(frequency) > _MAX_CPU_FREQUENCY_MARKS:
        raise FlavorNameError(
            f"{frequency!r} in {extension!r}: at most 'hhh' marks the CPU frequency"
        )


def _check_gpu(extension: str) -> None:
    match = _GPU_PATTERN.fullmatch(extension)
    if match is None:
        if len(extension) < 2 or extension[1] not in "NAI":
            vendor = extension[1:2]
            raise FlavorNameError(f"{vendor!r} in {extension!r} is not a GPU vendor (N, A or I)")
        raise FlavorNameError(
            f"{extension!r} is not a GPU: G/g, vendor, generation, then -units[h][-VRAM[h]]"
        )
    vendor, generation = match["vendor"], match["generation"]
    if generation is None:
        return
    if vendor == "N" and generation not in _NVIDIA_GENERATIONS:
        raise FlavorNameError(
            f"{generation!r} in {extension!r} is not an nVidia generation"
            f" ({', '.join(_NVIDIA_GENERATIONS)})"
        )
    if vendor != "N" and not generation[0].isdigit():
        raise FlavorNameError(
            f"{generation!r} in {extension!r}: AMD and Intel generations are numbers"
            " such as 3 or 3.1"
        )


def _cpu_type_problems(label: str, letter: str, spec: str) -> list[str]:
    strengths = list(CPU_TYPES.values())
    if spec not in strengths:
        return [f"{label}: scs:cpu-type {spec!r} is none of {', '.join(strengths)}"]
    if strengths.index(spec) < strengths.index(CPU_TYPES[letter]):
        return [f"{label}: scs:cpu-type is {spec!r}, but the name promises {CPU_TYPES[letter]!r}"]
    return []


def _disk_type_problems(label: str, letter: str | None, spec: str) -> list[str]:
    letters = {value: key for key, value in DISK_TYPES.items()}
    if spec not in letters:
        return [f"{label}: scs:disk0-type {spec!r} is none of {', '.join(letters)}"]
    if letter is None or _disk_keeps_promise(letter, letters[spec]):
        return []
    return [f"{label}: scs:disk0-type is {spec!r}, but the name promises {DISK_TYPES[letter]!r}"]


def _disk_keeps_promise(named: str, actual: str) -> bool:
    if _NETWORK_DISK_LETTER in (named, actual):
        return named == actual
    return _LOCAL_DISK_LETTERS.index(actual) >= _LOCAL_DISK_LETTERS.index(named)


def _format_gib(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else str(amount)
