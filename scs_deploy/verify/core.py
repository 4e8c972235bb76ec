"""Outcomes, modules and the run of a selection of test ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["PASS", "FAIL", "SKIP"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str = ""


def passed(reason: str = "") -> Outcome:
    return Outcome("PASS", reason)


def failed(reason: str) -> Outcome:
    return Outcome("FAIL", reason)


def skipped(reason: str) -> Outcome:
    return Outcome("SKIP", reason)


def all_of(problems: Sequence[str], *, when_clean: str = "") -> Outcome:
    """PASS without problems; FAIL naming the first few."""
    if not problems:
        return passed(when_clean)
    shown = "; ".join(problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return failed(shown + more)


@dataclass(frozen=True)
class Module:
    """One module of the certificate: its test ids and the check that decides them all.

    One check per module, not per id: the ids of a module read the same resources
    (every image for the 14 image metadata ids), which are fetched once.
    """

    id: str
    name: str
    test_ids: tuple[str, ...]
    check: Callable[[Any], Mapping[str, Outcome]]


@dataclass(frozen=True)
class Result:
    module: str
    test_id: str
    outcome: Outcome

    @property
    def line(self) -> str:
        reason = f" {self.outcome.reason}" if self.outcome.reason else ""
        return f"{self.test_id}: {self.outcome.status}{reason}"


def unknown_ids(modules: Sequence[Module], only: Sequence[str]) -> list[str]:
    known = {test_id for module in modules for test_id in module.test_ids}
    return [test_id for test_id in only if test_id not in known]


def run_modules(modules: Sequence[Module], cloud: Any, only: Sequence[str] = ()) -> list[Result]:
    """Every selected test id's outcome, in the certificate's order.

    A check that raises fails its module's ids with what was raised: one unreachable
    service must not hide the state of the others.
    """
    results: list[Result] = []
    for module in modules:
        wanted = [t for t in module.test_ids if not only or t in only]
        if not wanted:
            continue
        try:
            outcomes = module.check(cloud)
        # The check's error is the finding; it goes into the report, not a traceback.
        except Exception as exc:
            reason = f"the check raised {type(exc).__name__}: {exc}".splitlines()[0]
            outcomes = {t: failed(reason) for t in wanted}
        for test_id in wanted:
            outcome = outcomes.get(test_id, failed("the check decided nothing for this id"))
            results.append(Result(module.id, test_id, outcome))
    return results


def exit_code(results: Sequence[Result]) -> int:
    return 1 if any(r.outcome.status == "FAIL" for r in results) else 0
