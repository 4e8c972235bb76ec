"""SCS flavor names: syntax, canonical form, semantics and the standard flavor lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from scs_deploy.scs.flavor_names import (
    CPU_TYPES,
    DISK_TYPES,
    MANDATORY_FLAVORS,
    RECOMMENDED_FLAVORS,
    FlavorName,
    FlavorNameError,
    is_scs_name,
    parse,
    semantic_problems,
    standard_flavors,
)

SHARED_STANDARDS = Path(__file__).resolve().parents[3] / "shared" / "scs-standards"
REFERENCE_FLAVORS = SHARED_STANDARDS / "SCS-Spec.MandatoryFlavors.verbose.yaml"
COMPATIBLE_IAAS = SHARED_STANDARDS / "scs-compatible-iaas.yaml"
FLAVOR_TESTCASE_PREFIX = "scs-0103-flavor-"

# Names the text of scs-0100 v3 (and its implementation notes) shows as valid,
# plus a few more to cover every letter of the grammar.
VALID_NAMES = [
    "SCS-2C-4-10n",
    "SCS-2T-4-10n",
    "SCS-2V-4-10n",
    "SCS-2L-4-10n",
    "SCS-2Li-4-10n",
    "SCS-2C-3.5-10n",
    "SCS-2C-4u-10n",
    "SCS-2C-4o-10n",
    "SCS-2C-4uo-10n",
    "SCS-2C-4-10s",
    "SCS-2C-4-10h",
    "SCS-2C-4-10p",
    "SCS-2C-4-10s_bms_z3",
    "SCS-2C-4-3x10s",
    "SCS-2C-4-3x10s_bms_z3",
    "SCS-2C-4-10",
    "SCS-2C-4-10_bms_z3",
    "SCS-2C-4-n",
    "SCS-2C-4-",
    "SCS-2C-4-_bms_z3",
    "SCS-2C-4-_bms_z3h_GNa-64_ib",
    "SCS-2C-4-_ib",
    "SCS-2C-4",
    "SCS-2C-4_bms_z3",
    "SCS-2C-4-3x10",
    "SCS-2C-4-10n_bms",
    "SCS-2C-4-10n_bms_z3h",
    "SCS-2C-4-10_kvm_hwv",
    "SCS-2C-4-10_hwv",
    "SCS-2C-4-10_bms_hwv",
    "SCS-2C-4-10n_z",
    "SCS-2C-4-10n_z3",
    "SCS-2C-4-10n_z3hh",
    "SCS-2C-4-10n_bms_z3hh",
    "SCS-2C-4-10n_chy",
    "SCS-2C-4-10n_xen",
    "SCS-2C-4-10n_vmw",
    "SCS-2C-4-10n_hyv_i2",
    "SCS-2C-4-10n_zh",
    "SCS-2C-4-10n_i6hhh",
    "SCS-2C-4-10n_r",
    "SCS-4C-16-2x200p_a1",
    "SCS-4C-16-2x200p_a5",
    "SCS-8Ti-32-50p_i1",
    "SCS-1L-1u-5",
    "SCS-16T-64-200s_GNa-72-24_ib",
    "SCS-16V-64-500s_GNa-14-6h",
    "SCS-16T-64-3x10s_bms_hwv_i3h_GNa-64_ib",
    "SCS-8T-16-50n_i2",
    "SCS-8T-16-50n_z2",
    "SCS-1V-0.5",
    "SCS-1C-1.5-8s",
    "SCS-1T-1-5n",
    "SCS-1V-1-5",
    "SCS-2V-4-20p",
    "SCS-4V-16-50",
    "SCS-8V-32-100",
    "SCS-8C-32_GNa-108h-80h",
    "SCS-8C-32_GNl-142hh-48",
    "SCS-8C-32_GNu-160-288h",
    "SCS-8C-32_gNa",
    "SCS-8C-32_gN",
    "SCS-8C-32_GA3.1-96-48",
    "SCS-8C-32_GA4-256h-288h",
    "SCS-8C-32_GI3-56-48h",
    "SCS-8C-32_GI0.9",
    "SCS-8C-32-100p_kvm_hwv_z4h_GNg-132-80h_ib",
]

# (name, what the message must quote to point at the bad part)
INVALID_NAMES = [
    ("SCS-2X-4", "'X' is not a CPU type (L, V, T or C)"),
    ("SCS-2-4-10n", "lacks the CPU type"),
    ("SCS-2iT-4-10n", "'i' goes after the CPU type"),
    ("SCS-2Cx-4", "'x' after the CPU type"),
    ("SCS-2c-4", "'c' is not a CPU type"),
    ("SCS-V-4", "'V'"),
    ("SCS-2.5V-4", "'2.5V'"),
    ("SCS-0V-4", "0 vCPUs"),
    ("SCS-2V", "no RAM part"),
    ("SCS-", "number of vCPUs"),
    ("SCS-2V-GB", "'GB'"),
    ("SCS-2V-0", "0 GiB RAM"),
    ("SCS-2V-3.7", "'3.7'"),
    ("SCS-2C-4ou-10n", "'ou'"),
    ("SCS-2C-4uu", "'uu'"),
    ("SCS-2C-4x", "'x' after the RAM"),
    ("SCS-2C-4-1.5n", "'1.5'"),
    ("SCS-2C-4-10q", "'q' is not a disk type"),
    ("SCS-2C-4-10S", "'S' is not a disk type"),
    ("SCS-2C-4-10ss", "'10ss'"),
    ("SCS-2C-4-3x", "'3x'"),
    ("SCS-2C-4-3xn", "'3xn'"),
    ("SCS-2C-4-0s", "'0'"),
    ("SCS-2C-4-10-20", "'-20'"),
    ("SCS-2V:4:10", "':'"),
    ("SCS-2C-4-10_hwv_xen", "'_xen' (hypervisor) must come before '_hwv'"),
    ("SCS-2C-4-10_ib_kvm", "'_kvm'"),
    ("SCS-2C-4-10_GNa_z3", "'_z3'"),
    ("SCS-2C-4-10_kvm_kvm", "repeats"),
    ("SCS-2C-4-10_kvm_bms", "'_bms'"),
    ("SCS-2C-4-10_foo", "'foo' is not an extension"),
    ("SCS-2C-4-10_KVM", "'KVM'"),
    ("SCS-2C-4-10__kvm", "empty extension"),
    ("SCS-2C-4-10_", "empty extension"),
    # The standard's own example `SCS-2C-4-n_bms_3` omits the CPU vendor letter.
    ("SCS-2C-4-n_bms_3", "'3'"),
    ("SCS-2C-4-10_z9", "'9'"),
    ("SCS-2C-4-10_a6", "'6'"),
    ("SCS-2C-4-10_i12", "'12'"),
    ("SCS-2C-4-10_z3hhhh", "'hhhh'"),
    ("SCS-2C-4-10_zx", "'zx'"),
    ("SCS-2C-4-10_GXa", "'X'"),
    ("SCS-2C-4-10_G", "GPU vendor"),
    ("SCS-2C-4-10_GNx", "'x'"),
    ("SCS-2C-4-10_GAa", "'a'"),
    ("SCS-2C-4-10_GNa-", "'GNa-'"),
    ("SCS-2C-4-10_GNa-64-80hh", "'GNa-64-80hh'"),
    ("scs-2V-4", "'SCS-'"),
    ("", "'SCS-'"),
]


def flavor(name: str, **changes: Any) -> FlavorName:
    return dataclasses.replace(parse(name), **changes)


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_names_parse_and_write_back_unchanged(name: str) -> None:
    parsed = parse(name)

    assert parsed.name == name
    assert parse(parsed.name) == parsed


@pytest.mark.parametrize(("name", "fragment"), INVALID_NAMES)
def test_invalid_names_say_which_part_breaks_which_rule(name: str, fragment: str) -> None:
    with pytest.raises(FlavorNameError) as caught:
        parse(name)

    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert fragment in message


def test_flavor_name_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="is not a CPU type"):
        parse("SCS-2X-4")


def test_parse_gives_every_part() -> None:
    assert parse("SCS-16Ti-64.5uo-3x10s_bms_hwv_i3h_GNa-64_ib") == FlavorName(
        cpus=16,
        cpu_type="T",
        insecure=True,
        ram_gib=64.5,
        ram_no_ecc=True,
        ram_oversubscribed=True,
        disk_gib=10,
        disk_count=3,
        disk_type="s",
        extensions=("bms", "hwv", "i3h", "GNa-64", "ib"),
    )


def test_short_name_has_defaults() -> None:
    parsed = parse("SCS-1L-1")

    assert (parsed.cpus, parsed.cpu_type, parsed.ram_gib) == (1, "L", 1)
    assert not (parsed.insecure or parsed.ram_no_ecc or parsed.ram_oversubscribed)
    assert (parsed.disk_gib, parsed.disk_count, parsed.disk_type) == (None, 1, None)
    assert parsed.extensions == ()


@pytest.mark.parametrize(
    ("name", "disk"),
    [
        ("SCS-2C-4", (None, 1, None)),
        ("SCS-2C-4-", (0, 1, None)),
        ("SCS-2C-4-n", (0, 1, "n")),
        ("SCS-2C-4-10", (10, 1, None)),
        ("SCS-2C-4-3x10p", (10, 3, "p")),
    ],
)
def test_disk_part_tells_no_disk_from_a_disk_the_cloud_sizes(
    name: str, disk: tuple[int | None, int, str | None]
) -> None:
    parsed = parse(name)

    assert (parsed.disk_gib, parsed.disk_count, parsed.disk_type) == disk


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("SCS-02V-4", "SCS-2V-4"),
        ("SCS-2V-4.0", "SCS-2V-4"),
        ("SCS-2V-3.50", "SCS-2V-3.5"),
        ("SCS-2V-4-1x10", "SCS-2V-4-10"),
        ("SCS-2V-4-010s", "SCS-2V-4-10s"),
    ],
)
def test_uncommon_spellings_are_accepted_and_written_canonically(name: str, canonical: str) -> None:
    assert parse(name).name == canonical


def test_constructed_name_validates_itself() -> None:
    with pytest.raises(FlavorNameError, match="'X' is not a CPU type"):
        flavor("SCS-2V-4", cpu_type="X")
    with pytest.raises(FlavorNameError, match="half GiB"):
        flavor("SCS-2V-4", ram_gib=1.2)
    with pytest.raises(FlavorNameError, match="needs a disk part"):
        flavor("SCS-2V-4", disk_type="s")
    with pytest.raises(FlavorNameError, match="needs a disk size"):
        flavor("SCS-2V-4-", disk_count=2)
    with pytest.raises(FlavorNameError, match="must come before"):
        flavor("SCS-2V-4", extensions=("ib", "kvm"))


def test_constructed_name_writes_ram_as_integer_when_whole() -> None:
    assert flavor("SCS-2V-4", ram_gib=8).name == "SCS-2V-8"
    assert flavor("SCS-2V-4", ram_gib=1.5).name == "SCS-2V-1.5"


@pytest.mark.parametrize(
    ("name", "name_v1"),
    [
        ("SCS-2V-4", "SCS-2V:4"),
        ("SCS-2V-4-20s", "SCS-2V:4:20s"),
        ("SCS-2C-4-", "SCS-2C:4:"),
        ("SCS-16T-64-200s_GNa-72-24_ib", "SCS-16T:64:200s-GNa:72:24-ib"),
        ("SCS-4C-16-2x200p_kvm_a1", "SCS-4C:16:2x200p-kvm-a1"),
    ],
)
def test_name_v1_uses_the_old_separators(name: str, name_v1: str) -> None:
    assert parse(name).name_v1 == name_v1


@pytest.mark.parametrize(
    ("name", "ram_mib"),
    [("SCS-1V-0.5", 512), ("SCS-1C-1.5-8s", 1536), ("SCS-16V-128", 131072)],
)
def test_ram_mib(name: str, ram_mib: int) -> None:
    assert parse(name).ram_mib == ram_mib


def test_extra_specs_of_a_flavor_without_disk() -> None:
    assert parse("SCS-1L-1").extra_specs() == {
        "scs:cpu-type": "crowded-core",
        "scs:name-v1": "SCS-1L:1",
        "scs:name-v2": "SCS-1L-1",
    }


@pytest.mark.parametrize(
    ("name", "disk_type"),
    [
        ("SCS-2V-4-20s", "ssd"),
        ("SCS-2V-4-20p", "nvme"),
        ("SCS-2V-4-20h", "hdd"),
        ("SCS-2V-4-20n", "network"),
        ("SCS-2V-4-20", "network"),
        ("SCS-2V-4-", "network"),
    ],
)
def test_extra_specs_name_the_disk_type_when_there_is_a_disk(name: str, disk_type: str) -> None:
    specs = parse(name).extra_specs()

    assert specs["scs:disk0-type"] == disk_type
    assert set(specs) == {"scs:cpu-type", "scs:disk0-type", "scs:name-v1", "scs:name-v2"}


def test_type_tables() -> None:
    assert CPU_TYPES == {
        "L": "crowded-core",
        "V": "shared-core",
        "T": "dedicated-thread",
        "C": "dedicated-core",
    }
    assert DISK_TYPES == {"n": "network", "h": "hdd", "s": "ssd", "p": "nvme"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("SCS-2V-4", True), ("SCS-anything", True), ("scs-2V-4", False), ("m1.small", False)],
)
def test_is_scs_name(name: str, expected: bool) -> None:
    assert is_scs_name(name) is expected


def test_exact_fit_has_no_semantic_problems() -> None:
    name = parse("SCS-2V-4-20s")

    assert semantic_problems(name, 2, 4096, 20, name.extra_specs()) == []


def test_more_than_the_name_promises_is_fine() -> None:
    specs = {"scs:cpu-type": "dedicated-core", "scs:disk0-type": "nvme"}

    assert semantic_problems(parse("SCS-2V-4-20s"), 4, 8192, 50, specs) == []


@pytest.mark.parametrize("name", ["SCS-1C-1.5-8s", "SCS-1T-1-5n", "SCS-1V-1-5"])
def test_the_standards_understating_example_holds(name: str) -> None:
    # scs-0100: a flavor fitting SCS-1C-1.5-8s may also carry the two weaker names.
    assert semantic_problems(parse(name), 1, 1536, 8, {"scs:cpu-type": "dedicated-core"}) == []


@pytest.mark.parametrize(
    ("vcpus", "ram_mib", "disk_gib", "fragment"),
    [
        (1, 4096, 20, "1 vCPUs, but the name promises 2"),
        (2, 4095, 20, "4095 MiB RAM, but the name promises 4096 MiB (4 GiB)"),
        (2, 4096, 10, "root disk of 10 GB, but the name promises 20 GB"),
        (2, 4096, 0, "root disk of 0 GB"),
    ],
)
def test_less_than_the_name_promises_is_a_problem(
    vcpus: int, ram_mib: int, disk_gib: int, fragment: str
) -> None:
    problems = semantic_problems(parse("SCS-2V-4-20s"), vcpus, ram_mib, disk_gib, {})

    assert len(problems) == 1
    assert problems[0].startswith("SCS-2V-4-20s: ")
    assert fragment in problems[0]


def test_every_shortfall_is_reported() -> None:
    assert len(semantic_problems(parse("SCS-4V-16-100s"), 2, 8192, 50, {})) == 3


@pytest.mark.parametrize("disk_gib", [0, 5, 100])
@pytest.mark.parametrize("name", ["SCS-2V-4", "SCS-2V-4-", "SCS-2V-4-n"])
def test_disk_size_binds_only_when_named(name: str, disk_gib: int) -> None:
    assert semantic_problems(parse(name), 2, 4096, disk_gib, {}) == []


@pytest.mark.parametrize(
    ("name", "cpu_type", "fine"),
    [
        ("SCS-2V-4", "shared-core", True),
        ("SCS-2V-4", "dedicated-thread", True),
        ("SCS-2L-4", "shared-core", True),
        ("SCS-2V-4", "crowded-core", False),
        ("SCS-2C-4", "dedicated-thread", False),
        ("SCS-2T-4", "shared-core", False),
    ],
)
def test_cpu_type_extra_spec_must_not_be_weaker_than_the_name(
    name: str, cpu_type: str, fine: bool
) -> None:
    problems = semantic_problems(parse(name), 2, 4096, 0, {"scs:cpu-type": cpu_type})

    assert (problems == []) is fine
    if not fine:
        assert f"scs:cpu-type is {cpu_type!r}" in problems[0]


@pytest.mark.parametrize(
    ("name", "disk_type", "fine"),
    [
        ("SCS-2V-4-20s", "ssd", True),
        ("SCS-2V-4-20s", "nvme", True),
        ("SCS-2V-4-20h", "ssd", True),
        ("SCS-2V-4-20n", "network", True),
        ("SCS-2V-4-20", "hdd", True),
        ("SCS-2V-4-20", "network", True),
        ("SCS-2V-4", "ssd", True),
        ("SCS-2V-4-20s", "hdd", False),
        ("SCS-2V-4-20p", "ssd", False),
        ("SCS-2V-4-20s", "network", False),
        ("SCS-2V-4-20n", "ssd", False),
        ("SCS-2V-4-20n", "hdd", False),
    ],
)
def test_disk_type_extra_spec_must_keep_the_names_promise(
    name: str, disk_type: str, fine: bool
) -> None:
    problems = semantic_problems(parse(name), 2, 4096, 20, {"scs:disk0-type": disk_type})

    assert (problems == []) is fine
    if not fine:
        assert f"scs:disk0-type is {disk_type!r}" in problems[0]


@pytest.mark.parametrize(
    ("specs", "fragment"),
    [
        ({"scs:cpu-type": "dedicated"}, "scs:cpu-type 'dedicated' is none of"),
        ({"scs:disk0-type": "SSD"}, "scs:disk0-type 'SSD' is none of"),
    ],
)
def test_unknown_extra_spec_values_are_problems(specs: dict[str, str], fragment: str) -> None:
    problems = semantic_problems(parse("SCS-2V-4-20s"), 2, 4096, 20, specs)

    assert len(problems) == 1
    assert fragment in problems[0]


def test_other_extra_specs_are_no_concern() -> None:
    specs = {"hw_rng:allowed": "True", "scs:name-v3": "SCS-2V-4-20s_kvm"}

    assert semantic_problems(parse("SCS-2V-4-20s"), 2, 4096, 20, specs) == []


def test_standard_flavors_have_no_semantic_problems_with_their_own_figures() -> None:
    for name in standard_flavors():
        problems = semantic_problems(
            name, name.cpus, name.ram_mib, name.disk_gib or 0, name.extra_specs()
        )
        assert problems == [], name.name


def test_standard_flavors_helper() -> None:
    mandatory = standard_flavors(recommended=False)
    everything = standard_flavors()

    assert tuple(f.name for f in mandatory) == MANDATORY_FLAVORS
    assert tuple(f.name for f in everything) == MANDATORY_FLAVORS + RECOMMENDED_FLAVORS
    assert len(set(MANDATORY_FLAVORS + RECOMMENDED_FLAVORS)) == 15 + 16


def test_standard_flavors_are_shared_or_crowded_and_disks_absent_untyped_or_ssd() -> None:
    # scs-0103: all standard vCPUs are oversubscribed; only the two SSD flavors name a type.
    for name in standard_flavors():
        assert name.cpu_type in ("V", "L")
        assert name.disk_type in (None, "s")
        assert not (name.insecure or name.ram_no_ecc or name.ram_oversubscribed)
        assert name.extensions == ()


def load_shared(path: Path) -> Any:
    if not path.is_file():
        pytest.skip(f"reference data {path} is not there")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("section", "names"),
    [("mandatory", MANDATORY_FLAVORS), ("recommended", RECOMMENDED_FLAVORS)],
)
def test_standard_flavors_match_the_reference_data(section: str, names: tuple[str, ...]) -> None:
    entries = load_shared(REFERENCE_FLAVORS)[section]

    assert [entry["name"] for entry in entries] == list(names)
    for entry in entries:
        parsed = parse(entry["name"])
        assert parsed.cpus == entry["cpus"], entry["name"]
        assert parsed.ram_mib == entry["ram"], entry["name"]
        assert (parsed.disk_gib or 0) == entry.get("disk", 0), entry["name"]
        reference_specs = {key: value for key, value in entry.items() if key.startswith("scs:")}
        assert parsed.extra_specs() == reference_specs, entry["name"]


def flavor_testcase_ids(document: Any) -> list[str]:
    return [
        testcase["id"]
        for script in document["scripts"]
        for testcase in script.get("testcases", [])
        if testcase["id"].startswith(FLAVOR_TESTCASE_PREFIX)
    ]


def certification_id(name: str) -> str:
    return FLAVOR_TESTCASE_PREFIX + name[len("SCS-") :].lower()


def test_certification_testcases_cover_exactly_the_standard_flavors() -> None:
    ids = flavor_testcase_ids(load_shared(COMPATIBLE_IAAS))
    expected = [certification_id(name) for name in MANDATORY_FLAVORS + RECOMMENDED_FLAVORS]

    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected)


def test_certification_modules_split_mandatory_from_recommended() -> None:
    modules = {module["id"]: module for module in load_shared(COMPATIBLE_IAAS)["modules"]}

    assert modules["scs-0103-v1"]["targets"]["main"] == [
        certification_id(name) for name in MANDATORY_FLAVORS
    ]
    assert modules["scs-0103-v1-rec"]["targets"]["recommended"] == [
        certification_id(name) for name in RECOMMENDED_FLAVORS
    ]
