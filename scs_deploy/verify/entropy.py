"""scs-0101: a guest has entropy: the kernel reports a full pool, and what /dev/random gives
passes the FIPS 140-2 tests (the ones rngtest runs) in all but a few of 1000 blocks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

AVAIL_ID = "scs-0101-entropy-avail"
FIPS_ID = "scs-0101-fips-test"
TEST_IDS: tuple[str, ...] = (AVAIL_ID, FIPS_ID)

#: Since Linux 5.18 the pool always reports 256 bits once initialised.
FULL_POOL = 256
BLOCK_BYTES = 2500  # 20000 bits, the FIPS 140-2 block
BLOCKS = 1000
#: rngtest counts a few failing blocks in 1000 as chance; the standard's test accepts 5.
MAX_FAILED_BLOCKS = 5
MONOBIT = (9725, 10275)
POKER = (2.16, 46.17)
#: run length (6: six or more) -> the accepted count, for runs of zeros and of ones alike.
RUNS: dict[int, tuple[int, int]] = {
    1: (2315, 2685),
    2: (1114, 1386),
    3: (527, 723),
    4: (240, 384),
    5: (103, 209),
    6: (103, 209),
}
LONG_RUN = 26


def _run_lengths(bits: str, of: str) -> Counter[int]:
    other = "1" if of == "0" else "0"
    return Counter(min(len(run), 6) for run in bits.split(other) if run)


def block_passes(block: bytes) -> bool:
    """The four FIPS 140-2 tests on one 20000-bit block."""
    bits = format(int.from_bytes(block, "big"), f"0{len(block) * 8}b")
    ones = bits.count("1")
    if not MONOBIT[0] < ones < MONOBIT[1]:
        return False
    nibbles = Counter(b >> 4 for b in block) + Counter(b & 15 for b in block)
    poker = 16 / 5000 * sum(n * n for n in nibbles.values()) - 5000
    if not POKER[0] < poker < POKER[1]:
        return False
    if "0" * LONG_RUN in bits or "1" * LONG_RUN in bits:
        return False
    for of in ("0", "1"):
        lengths = _run_lengths(bits, of)
        if any(not low <= lengths[n] <= high for n, (low, high) in RUNS.items()):
            return False
    return True


def failed_blocks(data: bytes) -> int:
    return sum(
        not block_passes(data[i : i + BLOCK_BYTES])
        for i in range(0, len(data) - BLOCK_BYTES + 1, BLOCK_BYTES)
    )


def outcomes_from_guest(run: Callable[[str], bytes]) -> dict[str, Outcome]:
    avail = run("cat /proc/sys/kernel/random/entropy_avail").decode().strip()
    data = run(f"head -c {BLOCK_BYTES * BLOCKS} /dev/random")
    outcomes = {
        AVAIL_ID: passed(f"entropy_avail {avail}")
        if avail == str(FULL_POOL)
        else failed(f"entropy_avail {avail}, not {FULL_POOL}")
    }
    if len(data) < BLOCK_BYTES * BLOCKS:
        outcomes[FIPS_ID] = failed(f"the guest gave {len(data)} bytes of /dev/random")
        return outcomes
    bad = failed_blocks(data)
    verdict = passed if bad <= MAX_FAILED_BLOCKS else failed
    outcomes[FIPS_ID] = verdict(f"{bad} of {BLOCKS} blocks fail FIPS 140-2")
    return outcomes


def check(cloud: Any) -> dict[str, Outcome]:
    """Read in the guest of the smoke workload, which a member boots."""
    return dict(cloud.workload.entropy)
