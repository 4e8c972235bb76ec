"""scs-0114: volume type descriptions that list their aspects list them as the standard says."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from scs_deploy.verify.core import Outcome, all_of

TEST_ID = "scs-0114-syntax-check"
ASPECTS: tuple[str, ...] = ("encrypted", "replicated")
_ASPECT_LIST = re.compile(r"^\[scs:([^\[\]]*)\]")


def aspect_problems(description: str) -> list[str]:
    """What is wrong with the ``[scs:...]`` aspect list a description starts with, if any."""
    match = _ASPECT_LIST.match(description)
    if match is None:
        return []
    listed = [a.strip() for a in match.group(1).split(",")] if match.group(1).strip() else []
    problems = [f"unknown aspect {a!r}" for a in listed if a not in ASPECTS]
    if len(set(listed)) != len(listed):
        problems.append("an aspect listed twice")
    if listed != sorted(listed):
        problems.append("aspects not in alphabetical order")
    return problems


def syntax_outcome(types: Sequence[Mapping[str, Any]]) -> Outcome:
    problems = [
        f"{t['name']}: {problem}"
        for t in types
        for problem in aspect_problems(str(t.get("description") or ""))
    ]
    return all_of(problems, when_clean=f"{len(types)} volume types")


def check(cloud: Any) -> dict[str, Outcome]:
    return {TEST_ID: syntax_outcome(cloud.volume_types)}
