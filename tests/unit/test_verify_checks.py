"""The checks of `scs-deploy verify`, each fed plain data shaped as scs_deploy/verify/cloud.py
shapes it: what passes, and that every rule fails with a reason naming what broke it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from openstack.exceptions import ForbiddenException, NotFoundException

from scs_deploy.model.scs import ScsSettings
from scs_deploy.scs.flavor_names import MANDATORY_FLAVORS
from scs_deploy.verify import (
    backup,
    flavors,
    images,
    key_manager,
    security_groups,
    services,
    volume_types,
)
from scs_deploy.verify.core import Outcome, all_of, failed, passed, skipped

# The moment every check runs at: recency is measured from here.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def statuses(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {test_id: outcome.status for test_id, outcome in outcomes.items()}


def failing(outcomes: dict[str, Outcome]) -> set[str]:
    return {test_id for test_id, outcome in outcomes.items() if outcome.status != "PASS"}


# --- core helpers ----------------------------------------------------------------------------


def test_outcome_constructors_set_status_and_reason() -> None:
    """passed/failed/skipped build the three statuses, keeping the reason."""
    assert passed() == Outcome("PASS", "")
    assert passed("fine") == Outcome("PASS", "fine")
    assert failed("broken") == Outcome("FAIL", "broken")
    assert skipped("not here") == Outcome("SKIP", "not here")


def test_all_of_passes_without_problems_and_names_the_first_three() -> None:
    """all_of: PASS with the clean text; FAIL showing three problems and counting the rest."""
    assert all_of([], when_clean="4 things") == passed("4 things")
    assert all_of(["a"]) == failed("a")
    assert all_of(["a", "b", "c"]) == failed("a; b; c")
    assert all_of(["a", "b", "c", "d", "e"]) == failed("a; b; c (and 2 more)")


# --- scs-0100 / scs-0103: flavors --------------------------------------------------------------


def standard_flavor_list(level: str = "recommended") -> list[dict[str, Any]]:
    """The flavors the post-deploy phase creates, as a member lists them."""
    return ScsSettings.model_validate({"standard_flavors": level}).all_flavors


def by_name(flavor_list: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(f for f in flavor_list if f["name"] == name)


@pytest.mark.parametrize("level", ["mandatory", "recommended"])
def test_flavors_of_the_post_deploy_phase_pass_every_flavor_id(level: str) -> None:
    """What ScsSettings creates passes scs-0100 syntax and semantics and every scs-0103 id."""
    flavor_list = standard_flavor_list(level)
    naming = flavors.naming(flavor_list)
    standard = flavors.standard(flavor_list)
    assert set(naming) == set(flavors.NAMING_IDS)
    assert set(standard) == set(flavors.STANDARD_IDS)
    assert statuses(naming) == dict.fromkeys(flavors.NAMING_IDS, "PASS")
    assert statuses(standard) == dict.fromkeys(flavors.STANDARD_IDS, "PASS")
    assert naming["scs-0100-syntax-check"].reason == f"{len(flavor_list)} SCS flavors"


def test_standard_flavor_ids_follow_the_certificate_names() -> None:
    """An scs-0103 id is the standard name without SCS-, lower case; one per mandatory flavor."""
    assert flavors.standard_flavor_id("SCS-2V-4-20s") == "scs-0103-flavor-2v-4-20s"
    assert flavors.standard_flavor_id("SCS-1L-1") == "scs-0103-flavor-1l-1"
    assert len(flavors.STANDARD_IDS) == 15
    assert flavors.STANDARD_IDS[-1] == "scs-0103-flavor-4v-16-100s"


@pytest.mark.parametrize("missing", MANDATORY_FLAVORS)
def test_a_missing_mandatory_flavor_fails_exactly_its_id(missing: str) -> None:
    """Without one mandatory flavor, only its scs-0103 id fails, naming the flavor."""
    flavor_list = [f for f in standard_flavor_list() if f["name"] != missing]
    outcomes = flavors.standard(flavor_list)
    missing_id = flavors.standard_flavor_id(missing)
    assert failing(outcomes) == {missing_id}
    assert outcomes[missing_id] == failed(f"no flavor {missing}")
    assert statuses(flavors.naming(flavor_list)) == dict.fromkeys(flavors.NAMING_IDS, "PASS")


def test_a_standard_flavor_bigger_than_its_name_fails_scs_0103_only() -> None:
    """scs-0100 lets a flavor give more than its name says; scs-0103 wants the exact size."""
    flavor_list = copy.deepcopy(standard_flavor_list())
    by_name(flavor_list, "SCS-2V-4")["vcpus"] = 4
    outcomes = flavors.standard(flavor_list)
    assert failing(outcomes) == {"scs-0103-flavor-2v-4"}
    assert outcomes["scs-0103-flavor-2v-4"] == failed("SCS-2V-4: vcpus 4, not 2")
    assert statuses(flavors.naming(flavor_list)) == dict.fromkeys(flavors.NAMING_IDS, "PASS")


@pytest.mark.parametrize(
    ("name", "key", "value", "reason"),
    [
        ("SCS-4V-16", "ram", 16000, "SCS-4V-16: ram 16000, not 16384"),
        ("SCS-1V-2", "disk", 20, "SCS-1V-2: disk 20, not 0"),
        ("SCS-2V-4-20s", "disk", 30, "SCS-2V-4-20s: disk 30, not 20"),
    ],
)
def test_a_standard_flavor_of_another_size_fails(
    name: str, key: str, value: int, reason: str
) -> None:
    """vcpus, ram (MiB) and disk (0 for a diskless name) must equal the standard's."""
    flavor_list = copy.deepcopy(standard_flavor_list())
    by_name(flavor_list, name)[key] = value
    outcomes = flavors.standard(flavor_list)
    assert failing(outcomes) == {flavors.standard_flavor_id(name)}
    assert outcomes[flavors.standard_flavor_id(name)] == failed(reason)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("scs:cpu-type", None),
        ("scs:cpu-type", "dedicated-core"),
        ("scs:disk0-type", None),
        ("scs:name-v1", "SCS-2V-4-20s"),
    ],
)
def test_a_standard_flavor_without_its_extra_spec_fails(key: str, value: str | None) -> None:
    """Every scs:* extra spec of the standard must be there with exactly its value."""
    flavor_list = copy.deepcopy(standard_flavor_list())
    specs = by_name(flavor_list, "SCS-2V-4-20s")["extra_specs"]
    expected = specs[key]
    if value is None:
        del specs[key]
    else:
        specs[key] = value
    outcome = flavors.standard(flavor_list)["scs-0103-flavor-2v-4-20s"]
    assert outcome == failed(f"SCS-2V-4-20s: extra spec {key}={value!r}, not {expected!r}")


def test_a_flavor_stands_for_a_standard_name_by_its_name_v2_extra_spec() -> None:
    """scs:name-v2 matches first: an operator's own name for a standard flavor counts."""
    flavor_list = copy.deepcopy(standard_flavor_list())
    tagged = by_name(flavor_list, "SCS-2V-4")
    tagged["name"] = "small"
    assert statuses(flavors.standard(flavor_list))["scs-0103-flavor-2v-4"] == "PASS"
    # The tag wins over a flavor that merely carries the name, even a wrong one.
    impostor = dict(tagged, name="SCS-2V-4", vcpus=3, extra_specs={})
    assert statuses(flavors.standard([impostor, *flavor_list]))["scs-0103-flavor-2v-4"] == "PASS"
    # And a wrong tagged flavor is named in the failure by its own name.
    tagged["ram"] = 2048
    assert flavors.standard(flavor_list)["scs-0103-flavor-2v-4"] == failed(
        "small: ram 2048, not 4096"
    )


def test_naming_fails_a_flavor_whose_scs_name_does_not_parse() -> None:
    """scs-0100 syntax: an SCS- name that breaks the grammar fails, naming it; others are
    neither syntax- nor semantics-checked."""
    flavor_list = [
        *standard_flavor_list(),
        {"name": "SCS-2X-4", "vcpus": 2, "ram": 4096, "disk": 0, "extra_specs": {}},
        {"name": "m1.tiny", "vcpus": 1, "ram": 1, "disk": 0, "extra_specs": {}},
    ]
    outcomes = flavors.naming(flavor_list)
    assert outcomes["scs-0100-syntax-check"].status == "FAIL"
    assert outcomes["scs-0100-syntax-check"].reason.startswith("SCS-2X-4: ")
    assert outcomes["scs-0100-semantics-check"].status == "PASS"


@pytest.mark.parametrize(
    ("flavor", "named"),
    [
        ({"name": "SCS-4V-16", "vcpus": 2, "ram": 16384, "disk": 0}, "2 vCPUs"),
        ({"name": "SCS-4V-16", "vcpus": 4, "ram": 8192, "disk": 0}, "8192 MiB RAM"),
        ({"name": "SCS-4V-16-100", "vcpus": 4, "ram": 16384, "disk": 50}, "50 GB"),
        (
            {
                "name": "SCS-4V-16-100s",
                "vcpus": 4,
                "ram": 16384,
                "disk": 100,
                "extra_specs": {"scs:disk0-type": "network"},
            },
            "scs:disk0-type",
        ),
        (
            {
                "name": "SCS-4C-16",
                "vcpus": 4,
                "ram": 16384,
                "disk": 0,
                "extra_specs": {"scs:cpu-type": "shared-core"},
            },
            "scs:cpu-type",
        ),
    ],
)
def test_naming_fails_a_flavor_that_is_less_than_its_name(
    flavor: dict[str, Any], named: str
) -> None:
    """scs-0100 semantics: fewer vCPUs, RAM or disk than named, or weaker extra specs, fail
    with the flavor's name and what is short."""
    outcomes = flavors.naming([*standard_flavor_list(), flavor])
    reason = outcomes["scs-0100-semantics-check"].reason
    assert outcomes["scs-0100-semantics-check"].status == "FAIL"
    assert reason.startswith(f"{flavor['name']}: ")
    assert named in reason
    assert outcomes["scs-0100-syntax-check"].status == "PASS"


def test_naming_passes_without_scs_flavors() -> None:
    """Flavors outside scs-0100 (no SCS- prefix) are not its business."""
    outcomes = flavors.naming([{"name": "m1.small", "vcpus": 1, "ram": 1, "disk": 0}])
    assert outcomes == {
        "scs-0100-syntax-check": passed("0 SCS flavors"),
        "scs-0100-semantics-check": passed("0 SCS flavors"),
    }


# --- scs-0102: image metadata ------------------------------------------------------------------


def good_image(**changes: Any) -> dict[str, Any]:
    """An Ubuntu 24.04 image with every property scs-0102 asks for, built 9 days before NOW."""
    image: dict[str, Any] = {
        "id": "5f0c7d5e-0f1b-4b0a-9d39-000000002404",
        "name": "Ubuntu 24.04",
        "visibility": "public",
        "architecture": "x86_64",
        "min_disk": 8,
        "min_ram": 512,
        "size": 600 * 2**20,
        "os_distro": "ubuntu",
        "os_version": "24.04",
        "hw_disk_bus": "scsi",
        "created_at": "2026-02-21T08:00:00Z",
        "image_build_date": "2026-02-20",
        "image_original_user": "ubuntu",
        "image_source": "https://cloud-images.ubuntu.com/releases/noble/release-20260220/"
        "ubuntu-24.04-server-cloudimg-amd64.img",
        "image_description": "https://ubuntu.com/server",
        "replace_frequency": "monthly",
        "provided_until": "2029-04-30",
        "uuid_validity": "last-3",
    }
    for key, value in changes.items():
        if value is None:
            image.pop(key, None)
        else:
            image[key] = value
    return image


def built(age: timedelta) -> str:
    return (NOW - age).strftime("%Y-%m-%d %H:%M")


def test_a_complete_image_passes_every_metadata_id() -> None:
    """An image with every property passes all 14 scs-0102 ids, saying how many it read."""
    outcomes = images.metadata([good_image()], NOW)
    assert list(outcomes) == list(images.METADATA_IDS)
    assert len(images.METADATA_IDS) == 14
    assert outcomes == dict.fromkeys(images.METADATA_IDS, passed("1 public images"))


def test_no_images_pass_every_metadata_id() -> None:
    """With no public image, no image breaks a rule."""
    outcomes = images.metadata([], NOW)
    assert outcomes == dict.fromkeys(images.METADATA_IDS, passed("0 public images"))


@pytest.mark.parametrize(
    ("test_id", "changes", "reason"),
    [
        ("scs-0102-prop-architecture", {"architecture": None}, "architecture missing"),
        ("scs-0102-prop-architecture", {"architecture": "amd64"}, "architecture amd64"),
        ("scs-0102-prop-min_disk", {"min_disk": None}, "min_disk missing"),
        ("scs-0102-prop-min_disk", {"min_disk": 0}, "min_disk missing"),
        ("scs-0102-prop-min_disk", {"min_disk": 1, "size": 2**30 + 1}, "smaller than the image"),
        ("scs-0102-prop-min_ram", {"min_ram": None}, "min_ram missing"),
        ("scs-0102-prop-os_version", {"os_version": None}, "os_version missing"),
        ("scs-0102-prop-os_distro", {"os_distro": None}, "os_distro missing"),
        ("scs-0102-prop-os_distro", {"os_distro": "  "}, "os_distro missing"),
        ("scs-0102-prop-hw_disk_bus", {"hw_disk_bus": "ide"}, "hw_disk_bus ide"),
        (
            "scs-0102-prop-image_build_date",
            {"image_build_date": None},
            "image_build_date missing or not a date",
        ),
        (
            "scs-0102-prop-image_build_date",
            {"image_build_date": "20.02.2026"},
            "image_build_date missing or not a date",
        ),
        (
            "scs-0102-prop-image_build_date",
            {"image_build_date": "2026-02-22"},
            "image_build_date after the upload",
        ),
        (
            "scs-0102-prop-image_original_user",
            {"image_original_user": None},
            "image_original_user missing",
        ),
        ("scs-0102-prop-image_source", {"image_source": None}, "image_source missing"),
        (
            "scs-0102-prop-image_source",
            {"image_source": "cloud-images.ubuntu.com/noble"},
            "neither a URL nor 'private'",
        ),
        (
            "scs-0102-prop-image_description",
            {"image_description": None},
            "image_description missing",
        ),
        (
            "scs-0102-prop-replace_frequency",
            {"replace_frequency": None},
            "replace_frequency missing",
        ),
        (
            "scs-0102-prop-replace_frequency",
            {"replace_frequency": "fortnightly"},
            "replace_frequency fortnightly",
        ),
        ("scs-0102-prop-provided_until", {"provided_until": None}, "provided_until missing"),
        ("scs-0102-prop-uuid_validity", {"uuid_validity": "sometimes"}, "'sometimes'"),
        ("scs-0102-prop-uuid_validity", {"uuid_validity": "last-x"}, "'last-x'"),
    ],
)
def test_one_broken_property_fails_exactly_its_id(
    test_id: str, changes: dict[str, Any], reason: str
) -> None:
    """Breaking one property fails only its id, naming the image (and not hiding the
    other, compliant image beside it)."""
    outcomes = images.metadata([good_image(name="Debian 13"), good_image(**changes)], NOW)
    assert failing(outcomes) == {test_id}
    assert outcomes[test_id].reason.startswith("Ubuntu 24.04: ")
    assert reason in outcomes[test_id].reason
    assert "Debian 13" not in outcomes[test_id].reason


def test_a_build_date_in_the_future_fails() -> None:
    """An image cannot have been built after now (nor after its upload)."""
    outcome = images.metadata(
        [good_image(image_build_date="2026-03-02", created_at="2026-03-03T00:00:00Z")], NOW
    )["scs-0102-prop-image_build_date"]
    assert outcome == failed("Ubuntu 24.04: image_build_date in the future")


@pytest.mark.parametrize("key", ["hw_disk_bus", "uuid_validity"])
def test_properties_the_test_lets_be_unset(key: str) -> None:
    """hw_disk_bus and uuid_validity may be unset (as in the official test)."""
    assert failing(images.metadata([good_image(**{key: None})], NOW)) == set()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("architecture", "aarch64"),
        ("architecture", "risc-v"),
        ("hw_disk_bus", "virtio"),
        ("image_source", "private"),
        ("image_source", "ftp://mirror.example/debian.qcow2"),
        ("image_source", "ftps://mirror.example/debian.qcow2"),
        ("image_source", "http://mirror.example/debian.qcow2"),
        ("image_original_user", "none"),
        ("provided_until", "notice"),
        ("uuid_validity", "none"),
        ("uuid_validity", "notice"),
        ("uuid_validity", "forever"),
        ("uuid_validity", "2027-01-01"),
        ("uuid_validity", "2027-01-01T00:00:00Z"),
        ("replace_frequency", "critical_bug"),
        ("image_build_date", "2026-02-20T10:00:00Z"),
        ("image_build_date", "2026-02-20 10:00:00"),
        ("image_build_date", "2026-02-20 10:00"),
        ("min_disk", "8"),
    ],
)
def test_other_allowed_values_pass(key: str, value: str) -> None:
    """The other values scs-0102 allows pass every id."""
    assert failing(images.metadata([good_image(**{key: value})], NOW)) == set()


def test_parse_date_reads_the_four_formats_in_utc() -> None:
    """parse_date reads the formats of scs-0102 as UTC and nothing else."""
    assert images.parse_date("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert images.parse_date("2026-01-02 03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert images.parse_date("2026-01-02 03:04") == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert images.parse_date("2026-01-02") == datetime(2026, 1, 2, tzinfo=UTC)
    assert images.parse_date("2026/01/02") is None
    assert images.parse_date("") is None
    assert images.parse_date("none") is None


# --- scs-0102-image-recency --------------------------------------------------------------------

RECENCY = images.RECENCY_ID


def recency(image_list: list[dict[str, Any]]) -> Outcome:
    return images.metadata(image_list, NOW)[RECENCY]


@pytest.mark.parametrize(
    ("frequency", "fresh", "stale"),
    [
        # 1.1 x the period: monthly 34.1 days, weekly 192.5 hours, daily 27.5 hours.
        ("monthly", timedelta(days=34), timedelta(days=34, hours=3)),
        ("weekly", timedelta(hours=192), timedelta(hours=193)),
        ("daily", timedelta(hours=27), timedelta(hours=28)),
        ("quarterly", timedelta(days=101), timedelta(days=102)),
        ("yearly", timedelta(days=401), timedelta(days=402)),
    ],
)
def test_recency_allows_1_1_times_the_replace_frequency(
    frequency: str, fresh: timedelta, stale: timedelta
) -> None:
    """An image is current until 1.1 x its replace_frequency has passed since its build."""
    ok = good_image(replace_frequency=frequency, image_build_date=built(fresh), created_at=None)
    old = good_image(replace_frequency=frequency, image_build_date=built(stale), created_at=None)
    assert recency([ok]) == passed("1 public images")
    assert recency([old]) == failed(
        f"Ubuntu 24.04: outdated (replace_frequency {frequency}) and no current image replaces it"
    )


@pytest.mark.parametrize("frequency", ["never", "critical_bug", "fortnightly"])
def test_recency_ignores_images_without_a_period(frequency: str) -> None:
    """never, critical_bug (and an unknown value) set no deadline."""
    image = good_image(replace_frequency=frequency, image_build_date="2020-01-01")
    assert recency([image]).status == "PASS"


@pytest.mark.parametrize("until", ["none", "notice", "2026-02-28"])
def test_recency_exempts_images_no_longer_promised(until: str) -> None:
    """provided_until none or notice, or a date already past, lets an old image be."""
    image = good_image(image_build_date="2025-06-01", provided_until=until)
    assert recency([image]).status == "PASS"


@pytest.mark.parametrize("until", ["2026-12-31", "soon", None])
def test_recency_fails_old_images_still_promised(until: str | None) -> None:
    """An outdated image with a future, unreadable or missing provided_until fails."""
    image = good_image(image_build_date="2025-06-01", provided_until=until)
    assert recency([image]) == failed(
        "Ubuntu 24.04: outdated (replace_frequency monthly) and no current image replaces it"
    )


def test_recency_reads_created_at_without_a_build_date() -> None:
    """Without a readable image_build_date, the upload time is the image's age."""
    image = good_image(image_build_date=None, created_at="2025-06-01T00:00:00Z")
    assert recency([image]).status == "FAIL"
    image = good_image(image_build_date=None, created_at="2026-02-27T00:00:00Z")
    assert recency([image]).status == "PASS"


@pytest.mark.parametrize("suffix", ["old", "prev", "2025-06-01", "20250601"])
def test_an_old_marked_image_next_to_a_current_one_passes(suffix: str) -> None:
    """'Ubuntu 24.04 <old|prev|date>' may be outdated while 'Ubuntu 24.04' is current."""
    old = good_image(name=f"Ubuntu 24.04 {suffix}", image_build_date="2025-06-01")
    assert recency([old, good_image()]) == passed("2 public images")


def test_an_old_marked_image_without_a_current_one_fails() -> None:
    """The old image's replacement must exist and be current itself."""
    old = good_image(name="Ubuntu 24.04 old", image_build_date="2025-06-01")
    assert recency([old]) == failed(
        "Ubuntu 24.04 old: outdated (replace_frequency monthly) and no current image replaces it"
    )
    stale = good_image(image_build_date="2025-07-01")
    outcome = recency([old, stale])
    assert outcome.status == "FAIL"
    assert "Ubuntu 24.04 old: outdated" in outcome.reason
    assert "Ubuntu 24.04: outdated" in outcome.reason


def test_an_unmarked_old_image_next_to_a_current_one_passes_as_officially() -> None:
    """The official test accepts an outdated, unmarked image if its replacement is current."""
    unmarked = good_image(name="Ubuntu 24.04 minimal", image_build_date="2025-06-01")
    current = good_image(name="Ubuntu 24.04")
    assert recency([unmarked, current]).status == "PASS"


# --- scs-0104: standard images -----------------------------------------------------------------

NOBLE = "https://cloud-images.ubuntu.com/releases/noble/release-20260220/noble.img"
BOOKWORM = "https://cdimage.debian.org/cdimage/cloud/bookworm/latest/debian-12.qcow2"
CAPI = (
    "https://swift.services.a.regiocloud.tech/swift/v1/AUTH_b182637428444b9aa302bb8d5a5a418c/"
    "openstack-k8s-capi-images/ubuntu-2404-kube-v1.32/ubuntu-2404-kube-v1.32.4.qcow2"
)
STANDARD_IMAGE_IDS = set(images.SOURCE_IDS + images.PRESENCE_IDS)


def offered(name: str, source: str | None) -> dict[str, Any]:
    return good_image(name=name, image_source=source)


def standard_images() -> list[dict[str, Any]]:
    return [
        offered("Ubuntu 24.04", NOBLE),
        offered("Debian 12", BOOKWORM),
        offered("ubuntu-capi-image-v1.32.4", CAPI),
        offered("openSUSE Leap 15.6", "https://download.opensuse.org/leap.qcow2"),
    ]


def test_standard_images_from_their_sources_pass() -> None:
    """Images from their upstream sources pass; standard images not offered pass vacuously."""
    outcomes = images.standard(standard_images())
    assert set(outcomes) == STANDARD_IMAGE_IDS
    assert failing(outcomes) == set()
    assert outcomes["scs-0104-image-ubuntu-2404"] == passed("Ubuntu 24.04")
    assert outcomes["scs-0104-source-ubuntu-2404"] == passed("1 Ubuntu 24.04 images")
    assert outcomes["scs-0104-source-debian-11"] == passed("none offered")


def test_the_v5_1_standard_image_ids() -> None:
    """Eight source ids and the one presence id of scs-0104-v1-2 (Ubuntu 24.04)."""
    assert images.PRESENCE_IDS == ("scs-0104-image-ubuntu-2404",)
    assert len(images.SOURCE_IDS) == 8


def test_no_images_pass_the_source_ids_and_fail_ubuntu_2404() -> None:
    """Zero matches pass every source id; the mandatory Ubuntu 24.04 must be there."""
    outcomes = images.standard([])
    assert failing(outcomes) == {"scs-0104-image-ubuntu-2404"}
    assert outcomes["scs-0104-image-ubuntu-2404"] == failed("no public image Ubuntu 24.04")
    assert all(outcomes[i] == passed("none offered") for i in images.SOURCE_IDS)


def test_an_absent_ubuntu_2404_the_region_could_not_get_is_skipped() -> None:
    """Listed in `unavailable`, the missing Ubuntu 24.04 is a SKIP with the given reason."""
    image_list = [i for i in standard_images() if i["name"] != "Ubuntu 24.04"]
    outcomes = images.standard(image_list, {"Ubuntu 24.04": "cloud-images.ubuntu.com unreachable"})
    assert outcomes["scs-0104-image-ubuntu-2404"] == skipped("cloud-images.ubuntu.com unreachable")
    assert failing(outcomes) == {"scs-0104-image-ubuntu-2404"}
    # Only the name it is about counts: another unavailable image does not excuse it.
    outcomes = images.standard(image_list, {"Debian 12": "unreachable"})
    assert outcomes["scs-0104-image-ubuntu-2404"].status == "FAIL"
    # And a present image passes whatever `unavailable` says.
    outcomes = images.standard(standard_images(), {"Ubuntu 24.04": "unreachable"})
    assert outcomes["scs-0104-image-ubuntu-2404"].status == "PASS"


@pytest.mark.parametrize(
    ("name", "source", "test_id"),
    [
        ("Ubuntu 24.04", "https://cloud-images.ubuntu.com/releases/jammy/x.img", "ubuntu-2404"),
        ("Ubuntu 24.04", None, "ubuntu-2404"),
        ("Debian 12", "https://cloud.debian.org/images/cloud/trixie/x.qcow2", "debian-12"),
        ("Debian 13", "https://example.com/debian-13.qcow2", "debian-13"),
        ("ubuntu-capi-image-v1.32.4", "https://example.com/capi.qcow2", "capi-2"),
        ("ubuntu-capi-image v1.30.2", "https://example.com/capi.qcow2", "capi-1"),
        ("ubuntu-capi-image-v1.31 extra", "private", "capi-2"),
    ],
)
def test_a_standard_image_from_elsewhere_fails_exactly_its_source_id(
    name: str, source: str | None, test_id: str
) -> None:
    """An image matching a standard name but from another source fails only that id,
    naming the image."""
    image_list = [*standard_images(), offered(name, source)]
    outcomes = images.standard(image_list)
    assert failing(outcomes) == {f"scs-0104-source-{test_id}"}
    reason = outcomes[f"scs-0104-source-{test_id}"].reason
    assert reason == f"{name}: image_source {source or 'missing'}"


def test_names_close_to_a_standard_name_do_not_match() -> None:
    """Exact names for Ubuntu and Debian: 'Ubuntu 24.04 Minimal' is not Ubuntu 24.04."""
    image_list = [offered("Ubuntu 24.04 Minimal", "https://example.com/x.img")]
    outcomes = images.standard(image_list)
    assert failing(outcomes) == {"scs-0104-image-ubuntu-2404"}


@pytest.mark.parametrize(
    ("name", "matches"),
    [
        ("ubuntu-capi-image v1.30.2", "capi-1"),
        ("ubuntu-capi-image v1.30", "capi-1"),
        ("ubuntu-capi-image-v1.30.2", "capi-2"),
        ("ubuntu-capi-image-v1.30.2-20260101", "capi-2"),
        ("ubuntu-capi-image-1.30.2", None),
        ("my ubuntu-capi-image-v1.30.2", None),
    ],
)
def test_capi_name_schemes(name: str, matches: str | None) -> None:
    """The two CAPI name schemes, anchored at the start only."""
    specs = {s.key: s for s in images.STANDARD_IMAGES}
    assert {key for key, spec in specs.items() if spec.matches(name)} == (
        {matches} if matches else set()
    )


# --- scs-0114: volume types --------------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        "[scs:encrypted] LUKS on the host",
        "[scs:replicated] three copies",
        "[scs:encrypted, replicated] both",
        "[scs:encrypted,replicated]",
        "[scs:]",
        "[scs: ]",
        "Ceph RBD, 3 replicas",
        "",
        # Not at the very start: not an aspect list, so not checked.
        " [scs:replicated, encrypted]",
        "Fast [scs:nonsense]",
    ],
)
def test_aspect_lists_the_standard_allows(description: str) -> None:
    """A sorted list of known aspects, an empty one, or none at all is fine."""
    assert volume_types.aspect_problems(description) == []


@pytest.mark.parametrize(
    ("description", "problems"),
    [
        ("[scs:replicated, encrypted] both", ["aspects not in alphabetical order"]),
        ("[scs:encrypted replicated]", ["unknown aspect 'encrypted replicated'"]),
        ("[scs:encrypted, encrypted]", ["an aspect listed twice"]),
        ("[scs:fast]", ["unknown aspect 'fast'"]),
        ("[scs:Encrypted]", ["unknown aspect 'Encrypted'"]),
        ("[scs:encrypted,]", ["unknown aspect ''", "aspects not in alphabetical order"]),
    ],
)
def test_aspect_lists_the_standard_forbids(description: str, problems: list[str]) -> None:
    """Unsorted, doubled or unknown aspects are each named."""
    assert volume_types.aspect_problems(description) == problems


def test_volume_types_syntax_outcome_names_the_type() -> None:
    """scs-0114-syntax-check passes compliant types and fails naming the broken one."""
    types = [
        {"name": "__DEFAULT__", "description": "Default Volume Type"},
        {"name": "encrypted", "description": "[scs:encrypted] LUKS"},
        {"name": "plain", "description": None},
    ]
    assert volume_types.syntax_outcome(types) == passed("3 volume types")
    types.append({"name": "fast", "description": "[scs:replicated, encrypted] fast"})
    assert volume_types.syntax_outcome(types) == failed("fast: aspects not in alphabetical order")
    cloud = SimpleNamespace(volume_types=types)
    assert volume_types.check(cloud)[volume_types.TEST_ID].status == "FAIL"


# --- scs-0115: default security group rules ----------------------------------------------------


def sg_rule(direction: str, ethertype: str, **fields: Any) -> dict[str, Any]:
    """A default security group rule as Neutron lists it."""
    rule = {
        "id": f"rule-{direction}-{ethertype}-{len(fields)}",
        "direction": direction,
        "ethertype": ethertype,
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
        "remote_address_group_id": None,
        "used_in_default_sg": True,
        "used_in_non_default_sg": True,
    }
    return rule | fields


def neutron_defaults() -> list[dict[str, Any]]:
    """Neutron's own default rules: egress anywhere everywhere, ingress from the group
    itself in the default group only."""
    return [
        sg_rule("egress", "IPv4"),
        sg_rule("egress", "IPv6"),
        sg_rule("ingress", "IPv4", remote_group_id="PARENT", used_in_non_default_sg=False),
        sg_rule("ingress", "IPv6", remote_group_id="PARENT", used_in_non_default_sg=False),
    ]


def test_neutrons_default_rules_pass() -> None:
    """The Neutron defaults are what scs-0115 asks for."""
    assert security_groups.default_rules_outcome(neutron_defaults()) == passed("4 rules")
    cloud = SimpleNamespace(default_security_group_rules=neutron_defaults())
    assert security_groups.check(cloud) == {"scs-0115-default-rules": passed("4 rules")}


def test_egress_split_by_group_kind_passes() -> None:
    """Separate egress rules for default and other groups fill the same buckets."""
    rules = [
        sg_rule("egress", ethertype, used_in_default_sg=default, used_in_non_default_sg=not default)
        for ethertype in ("IPv4", "IPv6")
        for default in (True, False)
    ]
    assert security_groups.default_rules_outcome(rules).status == "PASS"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (
            sg_rule("ingress", "IPv4", protocol="tcp", remote_ip_prefix="0.0.0.0/0"),
            "ingress IPv4 tcp from 0.0.0.0/0",
        ),
        (sg_rule("ingress", "IPv6", protocol="icmp"), "ingress IPv6 icmp from anywhere"),
        (
            sg_rule("ingress", "IPv4", remote_group_id="PARENT", used_in_non_default_sg=True),
            "ingress IPv4 any from PARENT",
        ),
        (
            sg_rule("ingress", "IPv4", remote_group_id="0b6ad2e3-another-group"),
            "ingress IPv4 any from 0b6ad2e3-another-group",
        ),
    ],
)
def test_ingress_beyond_the_groups_own_members_fails(rule: dict[str, Any], reason: str) -> None:
    """Any ingress rule but 'from PARENT in the default group only' fails, described."""
    outcome = security_groups.default_rules_outcome([*neutron_defaults(), rule])
    assert outcome == failed(reason)


@pytest.mark.parametrize(
    ("ethertype", "prefix"),
    [("IPv4", "0.0.0.0/0"), ("IPv6", "::/0")],
)
def test_an_explicit_anywhere_prefix_does_not_count_as_egress(ethertype: str, prefix: str) -> None:
    """Egress must be a rule without a remote prefix; an explicit 0.0.0.0/0 (::/0) does not
    count, as in the official test."""
    rules = [
        r for r in neutron_defaults() if r["ethertype"] != ethertype or r["direction"] != "egress"
    ]
    rules.append(sg_rule("egress", ethertype, remote_ip_prefix=prefix))
    assert security_groups.default_rules_outcome(rules) == failed(
        f"no {ethertype} egress to anywhere in default security groups; "
        f"no {ethertype} egress to anywhere in other security groups"
    )


def test_egress_missing_for_other_groups_fails() -> None:
    """Egress in the default group alone leaves the groups a project makes closed."""
    rules = neutron_defaults()
    rules[0]["used_in_non_default_sg"] = False
    assert security_groups.default_rules_outcome(rules) == failed(
        "no IPv4 egress to anywhere in other security groups"
    )


def test_no_rules_fail_every_egress_bucket() -> None:
    """Without rules, all four egress buckets are missing (shown: three, and one more)."""
    outcome = security_groups.default_rules_outcome([])
    assert outcome.status == "FAIL"
    assert outcome.reason.endswith("(and 1 more)")
    assert "no IPv4 egress to anywhere in default security groups" in outcome.reason


# --- scs-0123: services ------------------------------------------------------------------------


def entry(service_type: str, *interfaces: str, url: str = "") -> dict[str, Any]:
    """A catalog entry as keystoneauth's v3 access info lists it."""
    return {
        "type": service_type,
        "name": service_type,
        "id": f"id-{service_type}",
        "endpoints": [
            {
                "interface": interface,
                "region": "RegionOne",
                "url": url or f"https://{service_type}.example:443/v1",
            }
            for interface in interfaces or ("public", "internal")
        ],
    }


def full_catalog() -> list[dict[str, Any]]:
    return [
        entry(t)
        for t in (
            "compute",
            "identity",
            "image",
            "network",
            "load-balancer",
            "placement",
            "block-storage",
            "volumev3",
        )
    ] + [entry("object-store", url="https://rgw.example:8080/swift/v1/AUTH_abc")]


def test_a_full_catalog_passes_every_catalog_id() -> None:
    """Every mandatory service type present passes, the reason naming the type found."""
    outcomes = services.catalog_outcomes(full_catalog())
    assert set(outcomes) == set(services.CATALOG_TYPES)
    assert outcomes["scs-0123-service-compute"] == passed("compute")
    assert outcomes["scs-0123-storage-apis"] == passed("volumev3")
    assert failing(outcomes) == set()


@pytest.mark.parametrize("storage", ["volume", "volumev3", "block-storage"])
def test_any_block_storage_type_serves_storage_apis(storage: str) -> None:
    """storage-apis passes with any one of its three catalog types."""
    catalog = [e for e in full_catalog() if e["type"] not in ("volumev3", "block-storage")]
    outcomes = services.catalog_outcomes([*catalog, entry(storage)])
    assert outcomes["scs-0123-storage-apis"] == passed(storage)


@pytest.mark.parametrize(
    ("test_id", "types", "reason"),
    [
        ("scs-0123-service-load-balancer", ("load-balancer",), "no load-balancer in the catalog"),
        ("scs-0123-service-placement", ("placement",), "no placement in the catalog"),
        (
            "scs-0123-storage-apis",
            ("block-storage", "volumev3"),
            "no volume or volumev3 or block-storage in the catalog",
        ),
    ],
)
def test_a_missing_service_fails_exactly_its_id(
    test_id: str, types: tuple[str, ...], reason: str
) -> None:
    """Without a mandatory type, only its id fails, naming the type."""
    catalog = [e for e in full_catalog() if e["type"] not in types]
    outcomes = services.catalog_outcomes(catalog)
    assert failing(outcomes) == {test_id}
    assert outcomes[test_id] == failed(reason)


def test_a_catalog_entry_without_endpoints_does_not_count() -> None:
    """A service with no endpoint cannot be found through the catalog."""
    catalog = [e for e in full_catalog() if e["type"] != "network"]
    catalog.append({"type": "network", "name": "neutron", "endpoints": []})
    assert services.catalog_outcomes(catalog)["scs-0123-service-network"].status == "FAIL"


class S3Answer:
    """Stands in for the S3 probe: records where it was sent, answers a fixed body."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.asked: list[str] = []

    def __call__(self, url: str) -> str:
        self.asked.append(url)
        return self.body


UNKNOWN_KEY = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>'
    "<RequestId>tx000</RequestId></Error>"
)


def test_s3_answering_on_the_object_store_host_passes() -> None:
    """The probe goes to scheme://host:port/ of the object store's public URL; S3's
    'unknown key' answer passes."""
    ask = S3Answer(UNKNOWN_KEY)
    assert services.s3_outcome(full_catalog(), ask) == passed(
        "S3 answers at https://rgw.example:8080"
    )
    assert ask.asked == ["https://rgw.example:8080/"]


def test_s3_probe_uses_the_public_endpoint() -> None:
    """Of the object store's endpoints, the public one is probed."""
    object_store = {
        "type": "object-store",
        "endpoints": [
            {"interface": "internal", "url": "http://10.0.0.5:8080/swift/v1"},
            {"interface": "public", "url": "https://objects.example/swift/v1"},
        ],
    }
    ask = S3Answer("<Code>NoSuchKey</Code>")
    assert services.s3_outcome([object_store], ask).status == "PASS"
    assert ask.asked == ["https://objects.example/"]


def test_anything_but_an_s3_answer_fails_naming_the_host() -> None:
    """A Swift 404, or S3 refusing differently, is no S3 with an unknown key."""
    outcome = services.s3_outcome(full_catalog(), S3Answer("<html>404 Not Found</html>"))
    assert outcome.status == "FAIL"
    assert "https://rgw.example:8080" in outcome.reason
    assert "404 Not Found" in outcome.reason


def test_s3_without_an_object_store_fails() -> None:
    """Without an object-store entry there is no S3 to find (scs-0123 v1 lists S3 as
    mandatory; the official test passes this case vacuously), and nothing is asked."""
    ask = S3Answer(UNKNOWN_KEY)
    catalog = [e for e in full_catalog() if e["type"] != "object-store"]
    outcome = services.s3_outcome(catalog, ask)
    assert outcome.status == "FAIL"
    assert "object-store" in outcome.reason
    assert ask.asked == []


def test_s3_without_a_public_object_store_url_fails() -> None:
    """An object store with only an internal endpoint offers members no S3."""
    ask = S3Answer(UNKNOWN_KEY)
    catalog = [entry("object-store", "internal")]
    outcome = services.s3_outcome(catalog, ask)
    assert outcome == failed("the object-store has no public endpoint URL ('')")
    assert ask.asked == []


def test_services_check_decides_every_id() -> None:
    """services.check reads the catalog and the S3 probe of the cloud, deciding all 8 ids."""
    cloud = SimpleNamespace(catalog=full_catalog(), s3_probe=S3Answer(UNKNOWN_KEY))
    outcomes = services.check(cloud)
    assert list(outcomes) == list(services.TEST_IDS)
    assert failing(outcomes) == set()


# --- scs-0116: key manager (fake proxy) --------------------------------------------------------


class FakeKeyManager:
    """The few key manager proxy calls the check makes, on a list of secrets.

    Like openstacksdk's, a secret's ``id`` is its href and its UUID is ``secret_id``: the
    calls that name one secret find it by the UUID only.
    """

    def __init__(
        self,
        *,
        lists_new_secrets: bool = True,
        forbidden: bool = False,
        deletes: bool = True,
        payload: str | None = None,
    ) -> None:
        self.stored: list[SimpleNamespace] = []
        self.lists_new_secrets = lists_new_secrets
        self.forbidden = forbidden
        self.deletes = deletes
        self.payload = payload
        self.created = 0
        self.made = 0

    def secret(self, name: str, *, old: bool, payload: str = "") -> SimpleNamespace:
        self.made += 1
        uuid = f"00000000-0000-4000-8000-{self.made:012d}"
        href = f"https://vip:9311/v1/secrets/{uuid}"
        return SimpleNamespace(
            id=href, secret_ref=href, secret_id=uuid, name=name, old=old, payload=payload
        )

    def secrets(self, name: str) -> Iterator[SimpleNamespace]:
        return iter(
            [s for s in self.stored if s.name == name and (self.lists_new_secrets or s.old)]
        )

    def create_secret(self, **fields: Any) -> SimpleNamespace:
        if self.forbidden:
            raise ForbiddenException("Forbidden: secret creation attempt not allowed")
        self.created += 1
        secret = self.secret(fields["name"], old=False, payload=fields["payload"])
        self.stored.append(secret)
        return secret

    def _find(self, uuid: str) -> SimpleNamespace:
        for secret in self.stored:
            if secret.secret_id == uuid:
                return secret
        raise NotFoundException(f"404: /v1/secrets/{uuid}")

    def get_secret(self, uuid: str) -> SimpleNamespace:
        secret = self._find(uuid)
        if self.payload is None:
            return secret
        return SimpleNamespace(**{**vars(secret), "payload": self.payload})

    def delete_secret(self, uuid: str, ignore_missing: bool = True) -> None:
        try:
            secret = self._find(uuid)
        except NotFoundException:
            if ignore_missing:
                return
            raise
        if self.deletes:
            self.stored.remove(secret)


def key_manager_cloud(proxy: FakeKeyManager, with_key_manager: bool = True) -> SimpleNamespace:
    catalog = full_catalog() + ([entry("key-manager")] if with_key_manager else [])
    return SimpleNamespace(catalog=catalog, member=SimpleNamespace(key_manager=proxy))


def test_a_member_stores_lists_and_deletes_a_secret() -> None:
    """PASS when a member's secret round-trips; a leftover of an earlier run goes first,
    and nothing stays behind."""
    proxy = FakeKeyManager()
    proxy.stored.append(proxy.secret(key_manager.SECRET_NAME, old=True))
    outcomes = key_manager.check(key_manager_cloud(proxy))
    assert outcomes[key_manager.TEST_ID].status == "PASS"
    assert "secret" in outcomes[key_manager.TEST_ID].reason
    assert proxy.created == 1
    assert proxy.stored == []


def test_a_secret_the_member_cannot_list_fails_and_is_deleted() -> None:
    """A stored secret missing from the member's list fails; it is deleted anyway."""
    proxy = FakeKeyManager(lists_new_secrets=False)
    outcome = key_manager.check(key_manager_cloud(proxy))[key_manager.TEST_ID]
    assert outcome == failed("the member's new secret is not in its list")
    assert proxy.stored == []


def test_a_secret_that_reads_back_wrong_fails_and_is_deleted() -> None:
    proxy = FakeKeyManager(payload="something else")
    outcome = key_manager.check(key_manager_cloud(proxy))[key_manager.TEST_ID]
    assert outcome == failed("the member's secret reads back as 'something else', not 'scs-verify'")
    assert proxy.stored == []


def test_a_secret_still_listed_after_its_deletion_fails() -> None:
    """A deletion the key manager ignores is no deletion."""
    proxy = FakeKeyManager(deletes=False)
    outcome = key_manager.check(key_manager_cloud(proxy))[key_manager.TEST_ID]
    assert outcome == failed("the member's secret is still listed after its deletion")


def test_a_member_forbidden_to_store_secrets_fails() -> None:
    """Forbidden for a member is the failure scs-0116 is about."""
    proxy = FakeKeyManager(forbidden=True)
    outcome = key_manager.check(key_manager_cloud(proxy))[key_manager.TEST_ID]
    assert outcome.status == "FAIL"
    assert outcome.reason.startswith("a member may not manage secrets")


def test_no_key_manager_passes_without_asking() -> None:
    """No key-manager in the catalog: nothing a member could be denied, nothing called."""
    proxy = FakeKeyManager(forbidden=True)
    outcome = key_manager.check(key_manager_cloud(proxy, with_key_manager=False))
    assert outcome[key_manager.TEST_ID].status == "PASS"
    assert "no key manager" in outcome[key_manager.TEST_ID].reason
    assert proxy.created == 0


# --- scs-0117: volume backup (fake proxy) ------------------------------------------------------


class FakeBlockStorage:
    """The block storage proxy calls of the backup check, on in-memory volumes and backups."""

    def __init__(self, *, backup_after_restore: str = "available", fail_on: str = "") -> None:
        self.volumes_: list[SimpleNamespace] = []
        self.backups_: list[SimpleNamespace] = []
        self.backup_after_restore = backup_after_restore
        self.fail_on = fail_on
        self.calls: list[str] = []
        self._next = 0

    def _id(self) -> str:
        self._next += 1
        return f"id-{self._next}"

    def volumes(self) -> list[SimpleNamespace]:
        return list(self.volumes_)

    def backups(self) -> list[SimpleNamespace]:
        return list(self.backups_)

    def create_volume(self, name: str, size: int) -> SimpleNamespace:
        self.calls.append(f"create_volume {name}")
        volume = SimpleNamespace(id=self._id(), name=name, size=size, status="available")
        self.volumes_.append(volume)
        return volume

    def create_backup(self, volume_id: str, name: str) -> SimpleNamespace:
        self.calls.append(f"create_backup {name}")
        item = SimpleNamespace(id=self._id(), name=name, volume_id=volume_id, status="available")
        self.backups_.append(item)
        return item

    def restore_backup(self, item: SimpleNamespace, name: str) -> SimpleNamespace:
        self.calls.append(f"restore_backup {name}")
        restored = self.create_volume(name, 1)
        item.volume_id = restored.id
        item.status = self.backup_after_restore
        return item

    def get_volume(self, volume_id: str) -> SimpleNamespace:
        return next(v for v in self.volumes_ if v.id == volume_id)

    def get_backup(self, backup_id: str) -> SimpleNamespace:
        return next(b for b in self.backups_ if b.id == backup_id)

    def wait_for_status(self, res: SimpleNamespace, status: str, **_: Any) -> SimpleNamespace:
        if self.fail_on and res.name.endswith(self.fail_on):
            raise RuntimeError(f"{res.name} went to error")
        return res

    def delete_backup(self, item: SimpleNamespace, ignore_missing: bool = True) -> None:
        self.calls.append(f"delete_backup {item.name}")
        self.backups_ = [b for b in self.backups_ if b is not item]

    def delete_volume(self, volume: SimpleNamespace, ignore_missing: bool = True) -> None:
        self.calls.append(f"delete_volume {volume.name}")
        self.volumes_ = [v for v in self.volumes_ if v is not volume]

    def wait_for_delete(self, res: SimpleNamespace, **_: Any) -> None:
        return None


def backup_cloud(storage: FakeBlockStorage) -> SimpleNamespace:
    return SimpleNamespace(member=SimpleNamespace(block_storage=storage))


def test_a_volume_is_backed_up_and_restored() -> None:
    """PASS after backup and restore; leftovers of earlier runs go first, our resources
    after, and a customer's volume stays."""
    storage = FakeBlockStorage()
    storage.volumes_.append(SimpleNamespace(id="keep", name="customer-data", status="in-use"))
    storage.volumes_.append(
        SimpleNamespace(id="old-v", name=f"{backup.PREFIX}-volume", status="available")
    )
    storage.backups_.append(
        SimpleNamespace(id="old-b", name=f"{backup.PREFIX}-backup", status="error")
    )
    outcome = backup.check(backup_cloud(storage))[backup.TEST_ID]
    assert outcome == passed("volume backed up and restored")
    assert [v.name for v in storage.volumes_] == ["customer-data"]
    assert storage.backups_ == []
    assert storage.calls.index(f"delete_volume {backup.PREFIX}-volume") < storage.calls.index(
        f"create_volume {backup.PREFIX}-volume"
    )
    assert f"restore_backup {backup.PREFIX}-restored" in storage.calls


def test_a_backup_broken_by_the_restore_fails() -> None:
    """The backup must still be available after the restore; cleanup happens anyway."""
    storage = FakeBlockStorage(backup_after_restore="error")
    outcome = backup.check(backup_cloud(storage))[backup.TEST_ID]
    assert outcome.status == "FAIL"
    assert "is error after the restore" in outcome.reason
    assert storage.volumes_ == []
    assert storage.backups_ == []


def test_a_failing_wait_raises_and_still_cleans_up() -> None:
    """A resource going to error raises out of the check (run_modules makes it a FAIL),
    after removing what the check created."""
    storage = FakeBlockStorage(fail_on="-backup")
    with pytest.raises(RuntimeError, match="backup went to error"):
        backup.check(backup_cloud(storage))
    assert storage.volumes_ == []
    assert storage.backups_ == []
