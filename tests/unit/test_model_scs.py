"""The SCS settings of a region: flavors named after scs-0100 and the standard flavors of
scs-0103 the post-deploy phase creates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from scs_deploy.model.scs import RNG_EXTRA_SPECS, Flavor, Image, ScsSettings
from scs_deploy.scs.flavor_names import MANDATORY_FLAVORS, RECOMMENDED_FLAVORS
from scs_deploy.verify import flavors as verify_flavors


def test_an_scs_name_alone_gives_the_sizes_and_extra_specs() -> None:
    """A valid SCS name without sizes resolves to the sizes it names, its scs:* extra specs
    and hw_rng:allowed."""
    flavor = Flavor(name="SCS-2V-4-20s")
    assert flavor.resolved() == {
        "name": "SCS-2V-4-20s",
        "vcpus": 2,
        "ram": 4096,
        "disk": 20,
        "is_public": True,
        "extra_specs": {
            "hw_rng:allowed": "True",
            "scs:cpu-type": "shared-core",
            "scs:disk0-type": "ssd",
            "scs:name-v1": "SCS-2V:4:20s",
            "scs:name-v2": "SCS-2V-4-20s",
        },
    }


def test_a_diskless_scs_name_has_disk_0_and_no_disk_type() -> None:
    """No disk part: boot from volume (disk 0), no scs:disk0-type; half GiB RAM in MiB."""
    resolved = Flavor(name="SCS-1L-1.5").resolved()
    assert (resolved["vcpus"], resolved["ram"], resolved["disk"]) == (1, 1536, 0)
    assert resolved["extra_specs"]["scs:cpu-type"] == "crowded-core"
    assert "scs:disk0-type" not in resolved["extra_specs"]


def test_given_sizes_and_extra_specs_are_kept() -> None:
    """Sizes that agree with the name, and the operator's extra specs, end up in the flavor."""
    flavor = Flavor(
        name="SCS-2V-4",
        vcpus=2,
        ram=4096,
        disk=0,
        is_public=False,
        extra_specs={"hw:cpu_policy": "shared"},
    )
    resolved = flavor.resolved()
    assert resolved["is_public"] is False
    assert resolved["extra_specs"]["hw:cpu_policy"] == "shared"
    assert resolved["extra_specs"]["scs:name-v2"] == "SCS-2V-4"
    assert resolved["extra_specs"]["hw_rng:allowed"] == "True"


def test_a_name_outside_scs_0100_needs_scs_exempt() -> None:
    """A non-SCS name without scs_exempt is refused, naming the rule and the way out."""
    with pytest.raises(ValidationError) as error:
        Flavor(name="m1.small", vcpus=1, ram=2048, disk=20)
    message = str(error.value)
    assert "'m1.small' is not an SCS flavor name" in message
    assert "scs-0100" in message
    assert "scs_exempt" in message


def test_an_exempt_flavor_with_sizes_is_accepted() -> None:
    """scs_exempt with vcpus, ram and disk is taken as given, with only hw_rng:allowed."""
    flavor = Flavor(name="m1.small", vcpus=1, ram=2048, disk=20, scs_exempt=True)
    assert flavor.resolved() == {
        "name": "m1.small",
        "vcpus": 1,
        "ram": 2048,
        "disk": 20,
        "is_public": True,
        "extra_specs": dict(RNG_EXTRA_SPECS),
    }


@pytest.mark.parametrize(
    "sizes",
    [{}, {"vcpus": 1, "ram": 2048}, {"ram": 2048, "disk": 0}, {"vcpus": 1, "disk": 0}],
)
def test_an_exempt_flavor_needs_every_size(sizes: dict[str, int]) -> None:
    """Without a name to read them from, an exempt flavor must give vcpus, ram and disk."""
    with pytest.raises(ValidationError, match="an exempt flavor needs vcpus, ram and disk"):
        Flavor(name="m1.small", scs_exempt=True, **sizes)


@pytest.mark.parametrize(
    ("sizes", "named"),
    [
        ({"vcpus": 1}, "1 vCPUs, but the name promises 2"),
        ({"ram": 2048}, "2048 MiB RAM, but the name promises 4096 MiB"),
        ({"disk": 10}, "root disk of 10 GB, but the name promises 20 GB"),
    ],
)
def test_sizes_contradicting_the_scs_name_are_refused(sizes: dict[str, int], named: str) -> None:
    """vcpus, ram or disk below what the name states break scs-0100."""
    with pytest.raises(ValidationError) as error:
        Flavor(name="SCS-2V-4-20s", **sizes)
    message = str(error.value)
    assert "scs-0100: SCS-2V-4-20s" in message
    assert named in message


@pytest.mark.parametrize(
    ("extra_specs", "named"),
    [
        ({"scs:cpu-type": "crowded-core"}, "scs:cpu-type"),
        ({"scs:disk0-type": "network"}, "scs:disk0-type"),
    ],
)
def test_extra_specs_contradicting_the_scs_name_are_refused(
    extra_specs: dict[str, str], named: str
) -> None:
    """scs:* extra specs weaker than the name are refused too."""
    with pytest.raises(ValidationError, match=named):
        Flavor(name="SCS-2V-4-20s", extra_specs=extra_specs)


@pytest.mark.parametrize("name", ["SCS-2X-4", "SCS-2V:4", "SCS-2V-4-20s-extra", "SCS-"])
def test_a_malformed_scs_name_is_refused(name: str) -> None:
    """An SCS- name that does not parse is refused with the parser's reason."""
    with pytest.raises(ValidationError) as error:
        Flavor(name=name)
    assert f"scs-0100: {name}: " in str(error.value)


def test_duplicate_flavor_names_are_refused() -> None:
    """Two entries of one name are refused, naming it."""
    with pytest.raises(ValidationError, match="flavor names must be unique: SCS-2V-4"):
        ScsSettings(flavors=[Flavor(name="SCS-2V-4"), Flavor(name="SCS-2V-4", is_public=False)])


def test_all_flavors_mandatory_are_the_15_of_the_certificate() -> None:
    """standard_flavors mandatory: the 15 mandatory flavors, in the standard's order."""
    names = [f["name"] for f in ScsSettings(standard_flavors="mandatory").all_flavors]
    assert names == list(MANDATORY_FLAVORS)
    assert len(names) == 15


def test_all_flavors_recommended_by_default() -> None:
    """By default, the 15 mandatory then the 16 recommended flavors: 31."""
    settings = ScsSettings()
    assert settings.standard_flavors == "recommended"
    names = [f["name"] for f in settings.all_flavors]
    assert names == [*MANDATORY_FLAVORS, *RECOMMENDED_FLAVORS]
    assert len(names) == 31


def test_the_operators_flavors_follow_the_standard_ones() -> None:
    """The operator's own flavors come after the standard ones, in the order given."""
    settings = ScsSettings(
        standard_flavors="mandatory",
        flavors=[
            Flavor(name="SCS-8C-32-100s"),
            Flavor(name="gpu.large", vcpus=16, ram=65536, disk=200, scs_exempt=True),
        ],
    )
    names = [f["name"] for f in settings.all_flavors]
    assert names == [*MANDATORY_FLAVORS, "SCS-8C-32-100s", "gpu.large"]


def test_an_operator_entry_with_a_standard_name_replaces_the_standard_one() -> None:
    """An entry for a standard name takes the standard flavor's place (once), keeping what
    the operator changed and the standard's sizes and extra specs."""
    settings = ScsSettings(
        flavors=[Flavor(name="SCS-2V-4", is_public=False, extra_specs={"hw:watchdog": "none"})]
    )
    resolved = settings.all_flavors
    names = [f["name"] for f in resolved]
    assert names == [*MANDATORY_FLAVORS, *RECOMMENDED_FLAVORS]
    replaced = resolved[MANDATORY_FLAVORS.index("SCS-2V-4")]
    assert replaced["is_public"] is False
    assert replaced["extra_specs"]["hw:watchdog"] == "none"
    assert (replaced["vcpus"], replaced["ram"], replaced["disk"]) == (2, 4096, 0)
    standard = Flavor(name="SCS-2V-4").resolved()
    assert replaced["extra_specs"] == standard["extra_specs"] | {"hw:watchdog": "none"}
    assert replaced | {"is_public": True, "extra_specs": standard["extra_specs"]} == standard
    # The result still passes every scs-0103 id: a private flavor counts.
    outcomes = verify_flavors.standard(resolved)
    assert {o.status for o in outcomes.values()} == {"PASS"}


def test_a_standard_flavor_cannot_be_resized_by_an_operator_entry() -> None:
    """An entry for a standard name with other sizes is refused, or the deployed flavors
    would fail scs-0103."""
    try:
        settings = ScsSettings(flavors=[Flavor(name="SCS-2V-4", vcpus=4, disk=20)])
    except ValidationError:
        return
    outcomes = verify_flavors.standard(settings.all_flavors)
    assert outcomes["scs-0103-flavor-2v-4"].status == "PASS"


def test_an_exempt_flavor_may_not_carry_an_scs_name() -> None:
    """scs_exempt is for names outside scs-0100: an SCS- name always has to tell the truth."""
    with pytest.raises(ValidationError, match="without the SCS- prefix"):
        Flavor(name="SCS-2V-4", vcpus=1, ram=4096, disk=0, scs_exempt=True)


def test_extra_specs_may_not_contradict_the_name() -> None:
    """An operator's scs:name-v2 for another flavor would make verify match the wrong one."""
    with pytest.raises(ValidationError, match="scs:name-v2"):
        Flavor(name="SCS-2V-4", extra_specs={"scs:name-v2": "SCS-4V-16"})
    kept = Flavor(name="SCS-2V-4", extra_specs={"quota:cpu_shares": "1024"}).resolved()
    assert kept["extra_specs"]["quota:cpu_shares"] == "1024"
    assert kept["extra_specs"]["scs:name-v2"] == "SCS-2V-4"


def _image(**changes: object) -> dict[str, object]:
    from scs_deploy.testbed.region_file import test_image_lines

    entry = yaml.safe_load("\n".join(test_image_lines("2026-11-01")))["scs"]["images"][0]
    entry.update(changes)
    return dict(entry)


def test_the_testbed_image_has_complete_scs_0102_metadata() -> None:
    """What `testbed up` writes into region.yml passes the model's scs-0102 rules."""
    image = Image.model_validate(_image())
    assert image.properties["image_source"] == "private"
    resolved = image.resolved(Path("/abs/scs-test-guest.raw"), Path("/cache"))
    assert resolved["file"] == "/abs/scs-test-guest.raw"


@pytest.mark.parametrize(
    ("remove", "rule"),
    [
        ("architecture", "scs-0102-prop-architecture"),
        ("image_build_date", "scs-0102-prop-image_build_date"),
        ("replace_frequency", "scs-0102-prop-replace_frequency"),
        ("image_source", "scs-0102-prop-image_source"),
    ],
)
def test_an_image_without_scs_metadata_is_refused_unless_exempt(remove: str, rule: str) -> None:
    """The error names the rule the image breaks and the way to offer it anyway."""
    entry = _image()
    properties = dict(entry["properties"])  # type: ignore[call-overload]
    del properties[remove]
    with pytest.raises(ValidationError) as raised:
        Image.model_validate({**entry, "properties": properties})
    assert rule in str(raised.value) and "scs_exempt" in str(raised.value)
    Image.model_validate({**entry, "properties": properties, "scs_exempt": True})


def test_an_image_needs_one_source_and_a_url_its_checksum() -> None:
    with pytest.raises(ValidationError, match="exactly one of file"):
        Image.model_validate(_image(url="https://example.org/x.qcow2"))
    with pytest.raises(ValidationError, match="needs its checksum"):
        Image.model_validate(_image(file=None, url="https://example.org/x.qcow2"))
    Image.model_validate(
        _image(file=None, url="https://example.org/x.qcow2", checksum="sha256:" + "a" * 64)
    )
