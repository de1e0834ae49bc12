"""Many worlds: played until N disputes or a broken invariant (in one process or several), a
survey that plays every world to its end and counts what broke, and a failure shrunk to the
steps that show it, in words."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from sim.platform.simulation import Outcome, play, uncounted


def shrink(seed: int, disputes: int, outcome: Outcome, budget: int = 400, long_share: float = 0.0) -> Outcome:
    """The shortest list of steps that still shows the first violation (greedy delta debugging)."""
    want = outcome.violations[0].invariant
    steps = outcome.steps[:len(outcome.shown)]
    best = outcome
    chunk = max(1, len(steps) // 2)
    tries = 0
    while chunk >= 1 and tries < budget:
        i, removed = 0, False
        while i < len(steps) and tries < budget:
            candidate = steps[:i] + steps[i + chunk:]
            tries += 1
            result = play(seed, disputes, steps=candidate, long_share=long_share)
            if result.violations and result.violations[0].invariant == want:
                steps, best, removed = candidate[:len(result.shown)], result, True
            else:
                i += chunk
        if not removed:
            chunk //= 2
    return best


def report(seed: int, outcome: Outcome) -> str:
    v = outcome.violations[0]
    lines = [f"seed {seed}: invariant '{v.invariant}' broken: {v.message}", f"  order {v.order_id}" if v.order_id else "",
             "  steps that show it:"]
    for step, did in zip(outcome.steps, outcome.shown):
        if did:
            lines.append(f"    {step}: {did}")
    return "\n".join(line for line in lines if line)



@dataclass
class Many:
    played: int = 0
    worlds: int = 0
    failed: tuple[int, Outcome] | None = None  # the first world that broke an invariant
    found: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # survey: name -> count, first, example


def _share(seed: int, disputes: int, per_world: int, job: int, jobs: int, to_the_end: bool,
           long_share: float) -> Many:
    """One process's worlds: seeds seed + job, seed + job + jobs, ... until its share is played."""
    if multiprocessing.parent_process() is not None:
        uncounted()  # a worker of ours
    out = Many()
    s = seed + job
    while out.played < disputes:
        outcome = play(s, per_world, to_the_end=to_the_end, long_share=long_share)
        out.played += outcome.disputes
        out.worlds += 1
        for v in {v.invariant: v for v in outcome.violations}.values():
            count, first, example = out.found.get(v.invariant, (0, out.played * jobs, f"{s}: {v.message}"))
            out.found[v.invariant] = (count + 1, first, example)
        if outcome.violations and not to_the_end:
            out.failed = (s, outcome)
            break
        s += jobs
    return out


def _split(seed: int, disputes: int, per_world: int, jobs: int, to_the_end: bool,
           long_share: float) -> list[Many]:
    share = -(-disputes // jobs)
    if jobs == 1:
        return [_share(seed, disputes, per_world, 0, 1, to_the_end, long_share)]
    with ProcessPoolExecutor(jobs) as pool:
        futures = [pool.submit(_share, seed, share, per_world, j, jobs, to_the_end, long_share) for j in range(jobs)]
        return [f.result() for f in futures]


def run_many(seed: int, disputes: int, per_world: int = 3, jobs: int = 1, long_share: float = 0.0) -> Many:
    """Worlds until `disputes` were played or one broke an invariant (the lowest seed that did)."""
    parts = _split(seed, disputes, per_world, jobs, False, long_share)
    failed = [p.failed for p in parts if p.failed is not None]
    return Many(sum(p.played for p in parts), sum(p.worlds for p in parts), min(failed, key=lambda f: f[0], default=None))


def survey(seed: int, disputes: int, per_world: int = 3, jobs: int = 1,
           long_share: float = 0.0) -> tuple[int, dict[str, tuple[int, int, str]]]:
    """Every world to its end: how many broke each invariant, and the first of each."""
    found: dict[str, tuple[int, int, str]] = {}
    parts = _split(seed, disputes, per_world, jobs, True, long_share)
    for p in parts:
        for name, (count, first, example) in p.found.items():
            c0, f0, e0 = found.get(name, (0, first, example))
            found[name] = (c0 + count, min(f0, first), e0 if f0 <= first else example)
    return sum(p.played for p in parts), found
