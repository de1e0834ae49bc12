"""`python -m sim.platform`: play random worlds until N disputes were played or an invariant broke."""
from __future__ import annotations

import argparse
import sys
import time

from sim.platform.simulation import play, report, shrink


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.platform", description=__doc__)
    p.add_argument("--seed", type=int, default=1, help="the first world's seed; world i uses seed + i")
    p.add_argument("--disputes", type=int, default=1000, help="how many disputes (orders) to play in all")
    p.add_argument("--per-world", type=int, default=3, help="disputes played together in one world")
    p.add_argument("--no-shrink", action="store_true", help="report a failure as found, without shrinking it")
    p.add_argument("--survey", action="store_true",
                   help="go on after a failure: count each invariant's failures and the first seed of each")
    args = p.parse_args(argv)
    if args.survey:
        return survey(args.seed, args.disputes, args.per_world)
    started, played, worlds = time.perf_counter(), 0, 0
    seed = args.seed
    while played < args.disputes:
        outcome = play(seed, args.per_world)
        worlds += 1
        played += outcome.disputes
        if outcome.violations:
            if not args.no_shrink:
                outcome = shrink(seed, args.per_world, outcome)
            print(report(seed, outcome))
            print(f"found after {played} disputes ({worlds} worlds) in {time.perf_counter() - started:.1f} s")
            return 1
        seed += 1
    took = time.perf_counter() - started
    print(f"{played} disputes in {worlds} worlds from seed {args.seed}: no invariant broken "
          f"({took:.1f} s, {played / took:.0f} disputes/s)")
    return 0


def survey(seed: int, disputes: int, per_world: int) -> int:
    started, played = time.perf_counter(), 0
    found: dict[str, tuple[int, int, str]] = {}  # invariant -> (count, after how many disputes, first seed)
    while played < disputes:
        outcome = play(seed, per_world, to_the_end=True)
        played += outcome.disputes
        for v in {v.invariant: v for v in outcome.violations}.values():
            count, first, first_seed = found.get(v.invariant, (0, played, f"{seed}: {v.message}"))
            found[v.invariant] = (count + 1, first, first_seed)
        seed += 1
    took = time.perf_counter() - started
    print(f"{played} disputes in {took:.1f} s ({played / took:.0f} disputes/s)")
    for name, (count, first, example) in sorted(found.items(), key=lambda kv: kv[1][1]):
        print(f"{name}: {count} worlds, first after {first} disputes, seed {example}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
