"""The view writer's gather: the shortest while the database keeps up easily, longer as its writes
take longer, never past the most."""
from __future__ import annotations

from runtime.view_pace import ViewPace


def test_quick_writes_keep_the_views_close_behind() -> None:
    pace = ViewPace(least_s=0.3, most_s=1.0, write_share=1 / 3)
    assert pace.gather_s(write_s=0.02) == 0.3
    assert pace.gather_s(write_s=0.12) == 0.3  # 0.24 s would do; never below the least


def test_slower_writes_gather_longer_so_more_changes_share_a_write() -> None:
    pace = ViewPace(least_s=0.3, most_s=1.0, write_share=0.2)
    assert pace.gather_s(write_s=0.15) == 0.6  # writing a fifth of the time
    assert pace.gather_s(write_s=0.2) > pace.gather_s(write_s=0.15)


def test_a_database_far_behind_or_away_never_holds_the_views_past_the_most() -> None:
    pace = ViewPace(least_s=0.3, most_s=1.0)
    assert pace.gather_s(write_s=0.6) == 1.0
    assert pace.gather_s(write_s=30.0) == 1.0  # retried through an outage
