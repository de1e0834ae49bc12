"""The view writer's gather: the shortest while the database keeps up easily, longer as its writes
keep taking longer, never past the most."""
from __future__ import annotations

from runtime.views.pace import ViewPace


def paced(*writes_s: float, **terms: float) -> tuple[ViewPace, list[float]]:
    pace = ViewPace(least_s=0.2, most_s=1.0, **terms)
    return pace, [round(pace.gather_s(w), 3) for w in writes_s]


def test_quick_writes_keep_the_views_close_behind() -> None:
    _, gathers = paced(0.02, 0.05, 0.03, 0.1)
    assert gathers == [0.2] * 4  # never below the least


def test_one_slow_write_barely_lengthens_the_gather() -> None:
    _, gathers = paced(0.05, 0.05, 0.8, 0.05)
    assert gathers[2] < 0.4 and gathers[3] < gathers[2]


def test_writes_that_keep_taking_longer_gather_more_changes_into_each() -> None:
    _, gathers = paced(*[0.3] * 12, write_share=1 / 3)
    assert gathers == sorted(gathers) and gathers[-1] > 0.55  # towards twice the write: 0.6 s
    assert gathers[-1] <= 0.6


def test_a_database_far_behind_or_away_never_holds_the_views_past_the_most() -> None:
    _, gathers = paced(*[2.0] * 10, 30.0)  # the last retried through an outage
    assert gathers[-1] == 1.0 and max(gathers) == 1.0
