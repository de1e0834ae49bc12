"""`python -m sim.platform`: play random worlds until N disputes were played or an invariant broke
(then print the seed and the shortest steps that show it). `--survey` goes on, and counts."""
from __future__ import annotations

import argparse
import sys
import time

from sim.platform.runs import report, run_many, shrink, survey
from sim.platform.simulation import uncounted


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.platform", description=__doc__)
    p.add_argument("--seed", type=int, default=1, help="the first world's seed; world i uses seed + i")
    p.add_argument("--disputes", type=int, default=1000, help="how many disputes (orders) to play in all")
    p.add_argument("--per-world", type=int, default=3, help="disputes played together in one world")
    p.add_argument("--jobs", type=int, default=1, help="processes to play in (worlds are split between them)")
    p.add_argument("--long-share", type=float, default=0.1,
                   help="the share of worlds three times longer and patient (deeper disputes, about 3x the cost each)")
    p.add_argument("--no-shrink", action="store_true", help="report a failure as found, without shrinking it")
    p.add_argument("--survey", action="store_true",
                   help="go on after a failure: count each invariant's failures and the first seed of each")
    args = p.parse_args(argv)
    uncounted()
    started = time.perf_counter()
    if args.survey:
        played, found = survey(args.seed, args.disputes, args.per_world, args.jobs, args.long_share)
        took = time.perf_counter() - started
        print(f"{played} disputes in {took:.1f} s ({played / took:.0f} disputes/s)")
        for name, (count, first, example) in sorted(found.items(), key=lambda kv: kv[1][1]):
            print(f"{name}: {count} worlds, first after about {first} disputes, seed {example}")
        return 1 if found else 0
    result = run_many(args.seed, args.disputes, args.per_world, args.jobs, args.long_share)
    took = time.perf_counter() - started
    if result.failed is not None:
        seed, outcome = result.failed
        if not args.no_shrink:
            outcome = shrink(seed, args.per_world, outcome, long_share=args.long_share)
        print(report(seed, outcome))
        print(f"found after about {result.played} disputes in {took:.1f} s")
        return 1
    print(f"{result.played} disputes in {result.worlds} worlds from seed {args.seed}: no invariant broken "
          f"({took:.1f} s, {result.played / took:.0f} disputes/s with {args.jobs} process(es))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
