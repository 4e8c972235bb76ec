"""The modules of `scs-deploy verify`: how a selection of test ids is run and reported, and
that MODULES is the certificate SCS-compatible IaaS v5.1."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from scs_deploy.verify import images, security_groups, services
from scs_deploy.verify.core import (
    Module,
    Outcome,
    Result,
    exit_code,
    failed,
    passed,
    run_modules,
    skipped,
    unknown_ids,
)
from scs_deploy.verify.entropy import TEST_IDS as ENTROPY_IDS
from scs_deploy.verify.modules import MODULES

COMPATIBLE_IAAS = (
    Path(__file__).resolve().parents[3] / "shared" / "scs-standards" / "scs-compatible-iaas.yaml"
)
VERSION = "v5.1"


def all_ids(modules: tuple[Module, ...] = MODULES) -> list[str]:
    return [test_id for module in modules for test_id in module.test_ids]


class Recorder:
    """A module check that counts its calls and answers fixed outcomes (or raises)."""

    def __init__(self, outcomes: dict[str, Outcome], raises: Exception | None = None) -> None:
        self.outcomes = outcomes
        self.raises = raises
        self.clouds: list[Any] = []

    def __call__(self, cloud: Any) -> dict[str, Outcome]:
        self.clouds.append(cloud)
        if self.raises is not None:
            raise self.raises
        return self.outcomes


def fake_modules(
    first_raises: Exception | None = None,
) -> tuple[tuple[Module, ...], Recorder, Recorder]:
    first = Recorder({"a-1": passed("one"), "a-2": failed("two")}, first_raises)
    second = Recorder({"b-1": passed(), "b-2": skipped("not offered")})
    modules = (
        Module("mod-a", "Module A", ("a-1", "a-2"), first),
        Module("mod-b", "Module B", ("b-1", "b-2"), second),
    )
    return modules, first, second


# --- MODULES -----------------------------------------------------------------------------------


def test_module_and_test_ids_are_unique() -> None:
    """No test id belongs to two modules (nor twice to one); no module id repeats."""
    ids = all_ids()
    assert len(ids) == len(set(ids))
    module_ids = [m.id for m in MODULES]
    assert len(module_ids) == len(set(module_ids))


def test_modules_follow_the_certificates_order() -> None:
    """MODULES lists scs-0100 to scs-0123 in the order of the certificate."""
    assert [m.id for m in MODULES] == [
        "scs-0100-v3.1",
        "scs-0101-v1",
        "scs-0102-v1",
        "scs-0103-v1",
        "scs-0104-v1-2",
        "scs-0114-v1",
        "scs-0115-v1",
        "scs-0116-v1",
        "scs-0117-v1",
        "scs-0123-v1",
    ]


class Unreachable:
    """A region none of whose resources can be read."""

    def __getattr__(self, name: str) -> Any:
        raise ConnectionError(f"{name}: no route to host")


def test_run_modules_keeps_the_order_of_modules() -> None:
    """Every id is reported once, in MODULES order, each under its own module; a region
    that cannot be read fails every id, saying why."""
    results = run_modules(MODULES, Unreachable())
    assert [r.test_id for r in results] == all_ids()
    owner = {t: m.id for m in MODULES for t in m.test_ids}
    assert all(r.module == owner[r.test_id] for r in results)
    assert {r.outcome.status for r in results} == {"FAIL"}
    flavor_result = results[0]
    assert flavor_result.outcome == failed(
        "the check raised ConnectionError: flavors: no route to host"
    )
    assert exit_code(results) == 1


def test_entropy_is_not_claimed_to_pass_without_a_guest() -> None:
    """scs-0101 needs the workload's guest; when it cannot boot, its ids fail, saying why."""
    results = run_modules(MODULES, Unreachable(), only=list(ENTROPY_IDS))
    assert [r.test_id for r in results] == list(ENTROPY_IDS)
    assert all(r.outcome.status == "FAIL" for r in results)
    assert all("the check raised" in r.outcome.reason for r in results)


def test_run_modules_on_a_few_compliant_resources() -> None:
    """With data for the pure checks, --only runs just those ids, and they pass."""

    region = SimpleNamespace(
        public_images=[],
        reachable=lambda url: False,
        standard_images=images.STANDARD_IMAGES,
        default_security_group_rules=[
            {
                "direction": "egress",
                "ethertype": ethertype,
                "used_in_default_sg": True,
                "used_in_non_default_sg": True,
            }
            for ethertype in ("IPv4", "IPv6")
        ],
    )

    only = [security_groups.TEST_ID, *images.SOURCE_IDS, *images.PRESENCE_IDS]
    results = run_modules(MODULES, region, only)
    assert [r.test_id for r in results] == [
        *images.SOURCE_IDS,
        *images.PRESENCE_IDS,
        security_groups.TEST_ID,
    ]
    by_id = {r.test_id: r.outcome for r in results}
    assert by_id["scs-0104-image-ubuntu-2404"] == skipped(
        "no image Ubuntu 24.04, and its source https://cloud-images.ubuntu.com/releases/noble/ "
        "does not answer here"
    )
    assert by_id[security_groups.TEST_ID] == passed("2 rules")
    assert exit_code(results) == 0


# --- run_modules -------------------------------------------------------------------------------


def test_run_modules_reports_every_id_in_order() -> None:
    """Without `only`, every id of every module, in module order, with its module's id."""
    modules, first, second = fake_modules()
    results = run_modules(modules, "the cloud")
    assert results == [
        Result("mod-a", "a-1", passed("one")),
        Result("mod-a", "a-2", failed("two")),
        Result("mod-b", "b-1", passed()),
        Result("mod-b", "b-2", skipped("not offered")),
    ]
    assert first.clouds == ["the cloud"]
    assert second.clouds == ["the cloud"]


def test_run_modules_honours_only() -> None:
    """`only` selects ids (kept in module order, not in the order asked), and a module with
    none selected is not run at all."""
    modules, first, second = fake_modules()
    results = run_modules(modules, None, only=["b-2", "b-1"])
    assert [r.test_id for r in results] == ["b-1", "b-2"]
    assert first.clouds == []
    assert len(second.clouds) == 1


def test_a_raising_check_fails_its_own_ids_only() -> None:
    """A check that raises fails the selected ids of its module with the first line of
    what it raised; the other modules are still decided."""
    modules, _first, second = fake_modules(ValueError("boom\nTraceback detail"))
    results = run_modules(modules, None)
    assert results == [
        Result("mod-a", "a-1", failed("the check raised ValueError: boom")),
        Result("mod-a", "a-2", failed("the check raised ValueError: boom")),
        Result("mod-b", "b-1", passed()),
        Result("mod-b", "b-2", skipped("not offered")),
    ]
    assert len(second.clouds) == 1
    only_a2 = run_modules(modules, None, only=["a-2"])
    assert only_a2 == [Result("mod-a", "a-2", failed("the check raised ValueError: boom"))]


def test_an_id_the_check_does_not_decide_fails() -> None:
    """An id missing from the check's answer is a FAIL, not silently left out."""
    module = Module("mod-c", "Module C", ("c-1", "c-2"), Recorder({"c-1": passed()}))
    results = run_modules((module,), None)
    assert results[1] == Result("mod-c", "c-2", failed("the check decided nothing for this id"))


def test_unknown_ids() -> None:
    """unknown_ids names, in the order given, the asked ids no module has."""
    modules, _first, _second = fake_modules()
    assert unknown_ids(modules, []) == []
    assert unknown_ids(modules, ["b-1", "a-2"]) == []
    assert unknown_ids(modules, ["z-9", "a-1", "scs-0100-v3.1"]) == ["z-9", "scs-0100-v3.1"]
    assert unknown_ids(MODULES, all_ids()) == []
    assert unknown_ids(MODULES, ["scs-0123-service-s3"]) == ["scs-0123-service-s3"]


def test_exit_code() -> None:
    """1 with any FAIL; 0 with PASS and SKIP only (and with nothing run)."""
    ok = Result("m", "t-1", passed())
    skip = Result("m", "t-2", skipped("absent"))
    bad = Result("m", "t-3", failed("broken"))
    assert exit_code([]) == 0
    assert exit_code([ok]) == 0
    assert exit_code([ok, skip]) == 0
    assert exit_code([skip]) == 0
    assert exit_code([ok, skip, bad]) == 1
    assert exit_code([bad]) == 1


def test_result_line() -> None:
    """A result prints as `<id>: <STATUS>[ <reason>]`, like the official test's output."""
    assert Result("m", "scs-0115-default-rules", passed()).line == "scs-0115-default-rules: PASS"
    assert Result("m", "scs-0123-swift-s3", failed("no S3")).line == "scs-0123-swift-s3: FAIL no S3"


# --- MODULES against the certificate ---------------------------------------------------------


def certificate() -> dict[str, Any]:
    if not COMPATIBLE_IAAS.exists():
        pytest.skip(f"{COMPATIBLE_IAAS} is not there")
    document: dict[str, Any] = yaml.safe_load(COMPATIBLE_IAAS.read_text())
    return document


def included_modules(document: dict[str, Any], version: str) -> dict[str, dict[str, Any]]:
    """The modules a version includes (an entry is an id or a dict with `ref`), by id."""
    (entry,) = [v for v in document["versions"] if v["version"] == version]
    refs = [item if isinstance(item, str) else item["ref"] for item in entry["include"]]
    modules = {m["id"]: m for m in document["modules"]}
    return {ref: modules[ref] for ref in refs}


def main_targets(module: dict[str, Any]) -> list[str]:
    return list((module.get("targets") or {}).get("main") or [])


def test_modules_decide_exactly_the_main_targets_of_v5_1() -> None:
    """The ids of MODULES are the union of the main targets of the modules v5.1 includes;
    each of our modules is one of them, with exactly its main targets."""
    included = included_modules(certificate(), VERSION)
    wanted = {test_id for module in included.values() for test_id in main_targets(module)}
    assert set(all_ids()) == wanted
    for module in MODULES:
        assert module.id in included, module.id
        assert list(module.test_ids) == main_targets(included[module.id]), module.id


def test_s3_id_is_that_of_scs_0123_v1() -> None:
    """v5.1 includes scs-0123-v1, whose S3 id is swift-s3 (service-s3 belongs to v2)."""
    included = included_modules(certificate(), VERSION)
    assert "scs-0123-v1" in included
    assert services.S3_ID in main_targets(included["scs-0123-v1"])
    assert "scs-0123-service-s3" not in all_ids()
