"""Declared limits: how many of a thing one aggregate may hold. Each service states its own in
one table (its domain's limits.py); a command that would cross one is refused with
`limit_reached`, naming the limit, and changes nothing. Together with the aggregate's byte budget
(ServiceSettings.aggregate_budget_bytes, checked by the processor) they keep every aggregate small
enough to commit, whatever one party sends."""
from __future__ import annotations

from dataclasses import dataclass

from runtime.api.decision import Reject

LIMIT_REACHED = "limit_reached"


@dataclass(frozen=True)
class Limit:
    name: str  # named in the refusal and in the metric
    most: int
    counts: str  # what it counts, in words

    def check(self, count: int, adding: int = 1) -> Reject | None:
        """The refusal if `count` things already held, plus `adding`, would be more than allowed."""
        if count + adding <= self.most:
            return None
        return Reject(LIMIT_REACHED, f"{self.name}: at most {self.most} {self.counts}; {count} already")


def table(*limits: Limit) -> dict[str, Limit]:
    return {limit.name: limit for limit in limits}
