"""The state store: restored records kept compressed until first used, then the aggregate itself."""
from __future__ import annotations

import tracemalloc

from runtime.stream.aggregate import Aggregate
from runtime.stream.store import StateStore


def test_a_restored_aggregate_is_kept_small_and_comes_back_whole_on_first_use():
    store = StateStore()
    agg = Aggregate("O-1", 3, {"requests": {f"R{i}": {"state": "closed", "reason": "quality"} for i in range(40)}})
    store.restore("O-1", agg.encode())
    assert len(store._raw["O-1"]) < len(agg.encode()) / 3  # noqa: SLF001 - what the store holds is the point
    assert store.get("O-1") == agg
    assert "O-1" not in store._raw and len(store) == 1  # noqa: SLF001


def test_a_tombstone_removes_and_a_later_record_replaces():
    store = StateStore()
    store.restore("O-1", Aggregate("O-1", 1, {"a": 1}).encode())
    store.restore("O-1", Aggregate("O-1", 2, {"a": 2}).encode())
    assert store.get("O-1").state == {"a": 2}
    store.restore("O-2", Aggregate("O-2", 1, {"b": 1}).encode())
    store.restore("O-2", None)
    assert store.get("O-2").version == 0 and list(store.keys()) == ["O-1"]


def test_what_the_store_holds_for_restored_records_is_their_compressed_size_not_their_own():
    """Counted by what Python allocated, not by len(): a compressor's result can keep a block
    as large as its input, and a hundred thousand of them took four times the memory."""
    records = [Aggregate(f"O-{i}", 3, {"requests": {f"R{j}": {"state": "closed", "reason": "quality", "n": i * j}
                                                    for j in range(20)}}).encode() for i in range(2000)]
    store = StateStore()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i, value in enumerate(records):
            store.restore(f"O-{i}", value)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < sum(map(len, records)) / 2  # about a third with its keys; more than all of it uncopied
