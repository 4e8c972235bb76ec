"""scs-0101 in the guest: the FIPS 140-2 block tests and the outcomes from what the guest says;
the smoke workload runs once for all checks that read it, a failure included."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scs_deploy.verify import entropy
from scs_deploy.verify.cloud import RegionCloud, Workload
from scs_deploy.verify.core import failed, passed


def _random_bytes(count: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(count)


def test_random_blocks_pass_and_patterned_ones_fail() -> None:
    """Each of the four tests rejects what it is for: bias, structure, long runs."""
    assert entropy.failed_blocks(_random_bytes(entropy.BLOCK_BYTES * 50)) <= 1
    zeros = bytes(entropy.BLOCK_BYTES)
    alternating = b"\xaa" * entropy.BLOCK_BYTES
    two_nibbles = b"\x5a" * entropy.BLOCK_BYTES  # half ones, but only nibbles 5 and a
    assert not entropy.block_passes(zeros)  # monobit
    assert not entropy.block_passes(alternating)  # runs of length 1 only
    assert not entropy.block_passes(two_nibbles)  # poker
    long_run = bytearray(_random_bytes(entropy.BLOCK_BYTES, seed=3))
    long_run[100:105] = b"\xff" * 5  # 40 ones in a row
    assert not entropy.block_passes(bytes(long_run))


def test_outcomes_from_what_the_guest_answers() -> None:
    good = _random_bytes(entropy.BLOCK_BYTES * entropy.BLOCKS)

    def guest(avail: bytes, data: bytes):  # type: ignore[no-untyped-def]
        return lambda command: avail if "entropy_avail" in command else data

    healthy = entropy.outcomes_from_guest(guest(b"256\n", good))
    assert healthy[entropy.AVAIL_ID] == passed("entropy_avail 256")
    assert healthy[entropy.FIPS_ID].status == "PASS"
    assert healthy[entropy.FIPS_ID].reason.endswith("of 1000 blocks fail FIPS 140-2")
    low = entropy.outcomes_from_guest(guest(b"128\n", good))
    assert low[entropy.AVAIL_ID] == failed("entropy_avail 128, not 256")
    biased = entropy.outcomes_from_guest(guest(b"256\n", bytes(len(good))))
    assert biased[entropy.FIPS_ID] == failed("1000 of 1000 blocks fail FIPS 140-2")
    short = entropy.outcomes_from_guest(guest(b"256\n", good[:100]))
    assert short[entropy.FIPS_ID] == failed("the guest gave 100 bytes of /dev/random")


def test_the_workload_runs_once_and_its_failure_is_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two checks read the workload: one guest boot; a failed boot fails both, once."""
    from datetime import UTC, datetime

    from scs_deploy.verify import workload as workload_module

    runs: list[int] = []

    def boot(_cloud: RegionCloud) -> Workload | Exception:
        runs.append(1)
        return RuntimeError("no external network")

    monkeypatch.setattr(workload_module, "run_workload", boot)
    cloud = RegionCloud(tmp_path / "clouds.yaml", "r", datetime(2026, 11, 1, tzinfo=UTC))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="no external network"):
            _ = cloud.workload
    assert runs == [1]
    assert entropy.TEST_IDS == ("scs-0101-entropy-avail", "scs-0101-fips-test")


def test_zones_must_exist_and_agree_across_services() -> None:
    from scs_deploy.verify.operations import zones_outcome

    assert zones_outcome({"compute": ["nova"], "storage": ["nova"], "network": ["nova"]}) == passed(
        "zones nova in compute, storage, network"
    )
    assert zones_outcome({"compute": ["nova"], "storage": ["nova"], "network": []}) == failed(
        "no available zone for network"
    )
    assert zones_outcome({"compute": ["az1"], "storage": ["nova"]}).status == "FAIL"
