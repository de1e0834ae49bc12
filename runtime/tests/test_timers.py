"""The deadline schedule and the state store, alone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from runtime.stream.aggregate import Aggregate
from runtime.stream.store import StateStore
from runtime.stream.timers import TimerSchedule

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def test_due_keys_come_earliest_first_and_leave_the_schedule() -> None:
    s = TimerSchedule()
    s.schedule("late", T0 + timedelta(minutes=5))
    s.schedule("early", T0 + timedelta(minutes=1))
    s.schedule("never", None)

    assert s.due(T0) == []
    assert s.due(T0 + timedelta(minutes=10)) == ["early", "late"]
    assert s.due(T0 + timedelta(minutes=10)) == [] and len(s) == 0


def test_a_deadline_moved_earlier_wins_and_the_old_entry_is_skipped() -> None:
    s = TimerSchedule()
    s.schedule("k", T0 + timedelta(minutes=5))
    s.schedule("k", T0 + timedelta(minutes=1))

    assert s.due(T0 + timedelta(minutes=2)) == ["k"]
    assert s.due(T0 + timedelta(minutes=6)) == []  # the stale later entry fires nothing


def test_a_restored_aggregate_is_decoded_on_first_use_and_keeps_its_deadlines() -> None:
    agg = Aggregate("O-1", 3, {"refunds": {"RF-1": {"state": "requested"}}}, {"answer": T0}, ("e1", "e2"))
    store = StateStore()
    store.restore("O-1", Aggregate("O-1", 1, {"old": True}).encode())
    store.restore("O-1", agg.encode())  # a later record replaces an earlier one

    assert len(store) == 1
    got = store.get("O-1")
    assert got == agg and got.next_due == T0 and got.has_processed("e2")
    assert store.get("O-2") == Aggregate("O-2")  # never stored: version 0, no state


def test_the_dedupe_window_keeps_the_newest_ids() -> None:
    agg = Aggregate("O-1")
    for i in range(5):
        agg = agg.changed(state={"n": i}, timers=None, event_id=f"e{i}", window=3)
    assert agg.processed == ("e2", "e3", "e4") and agg.version == 5 and agg.state == {"n": 4}
