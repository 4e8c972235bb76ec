"""scs-0100 (flavor names) and scs-0103 (standard flavors), from the flavors a member sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scs_deploy.scs import flavor_names
from scs_deploy.verify.core import Outcome, all_of, failed, passed

NAMING_IDS: tuple[str, ...] = ("scs-0100-syntax-check", "scs-0100-semantics-check")


def standard_flavor_id(name: str) -> str:
    """``SCS-2V-4-20s`` -> ``scs-0103-flavor-2v-4-20s``."""
    return "scs-0103-flavor-" + name.removeprefix("SCS-").lower()


STANDARD_IDS: tuple[str, ...] = tuple(
    standard_flavor_id(name) for name in flavor_names.MANDATORY_FLAVORS
)


def naming(flavors: Sequence[Mapping[str, Any]]) -> dict[str, Outcome]:
    """Every flavor named ``SCS-...`` parses (syntax) and is what its name says (semantics)."""
    scs = [f for f in flavors if flavor_names.is_scs_name(f["name"])]
    syntax: list[str] = []
    semantics: list[str] = []
    for flavor in scs:
        try:
            parsed = flavor_names.parse(flavor["name"])
        except flavor_names.FlavorNameError as exc:
            syntax.append(str(exc))
            continue
        semantics += [
            f"{flavor['name']}: {problem}"
            for problem in flavor_names.semantic_problems(
                parsed,
                flavor["vcpus"],
                flavor["ram"],
                flavor["disk"],
                flavor.get("extra_specs") or {},
            )
        ]
    checked = f"{len(scs)} SCS flavors"
    return {
        "scs-0100-syntax-check": all_of(syntax, when_clean=checked),
        "scs-0100-semantics-check": all_of(semantics, when_clean=checked),
    }


def standard(flavors: Sequence[Mapping[str, Any]]) -> dict[str, Outcome]:
    """Each mandatory flavor of scs-0103 is there, of the standard's size and with its extra
    specs. A flavor stands for a standard name by its ``scs:name-v2`` extra spec, or else by
    its own name (an operator may call the flavor differently and tag it)."""
    by_standard_name: dict[str, Mapping[str, Any]] = {}
    for flavor in flavors:
        if flavor_names.is_scs_name(flavor["name"]):
            by_standard_name.setdefault(flavor["name"], flavor)
    for flavor in flavors:
        tagged = (flavor.get("extra_specs") or {}).get("scs:name-v2")
        if tagged:
            by_standard_name[tagged] = flavor
    outcomes: dict[str, Outcome] = {}
    for parsed in flavor_names.standard_flavors(recommended=False):
        test_id = standard_flavor_id(parsed.name)
        found = by_standard_name.get(parsed.name)
        if found is None:
            outcomes[test_id] = failed(f"no flavor {parsed.name}")
            continue
        flavor = found
        wanted = {"vcpus": parsed.cpus, "ram": parsed.ram_mib, "disk": parsed.disk_gib or 0}
        problems = [
            f"{key} {flavor[key]}, not {value}"
            for key, value in wanted.items()
            if flavor[key] != value
        ]
        specs = flavor.get("extra_specs") or {}
        problems += [
            f"extra spec {key}={specs.get(key)!r}, not {value!r}"
            for key, value in parsed.extra_specs().items()
            if specs.get(key) != value
        ]
        outcomes[test_id] = (
            failed(f"{flavor['name']}: {', '.join(problems)}") if problems else passed()
        )
    return outcomes
