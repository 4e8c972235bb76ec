"""Time from `server create` to ACTIVE, to the address on the console and to the first
ping over a floating IP, on a deployed region (the smoke test's steps, repeated).

    python benchmarks/guest_boot.py testbed [--runs 3]

Prints each run's step timings and, with more than one run, the median per step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from scs_deploy.smoke import SmokeResult, describe, smoke_region


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("region", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results: list[SmokeResult] = []
    for run in range(args.runs):
        print(f"run {run + 1} of {args.runs}", flush=True)
        result = smoke_region(args.region, None, lambda line: print(f"  {line}", flush=True))
        print("\n".join(f"  {line}" for line in describe(result)[:2]))
        results.append(result)
    if args.runs > 1:
        print("median:")
        for step in results[0].timings:
            print(f"  {step}: {statistics.median(r.timings[step] for r in results):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
