"""What the view writer remembers of the documents it wrote: content, not versions; bounded; and
nothing of a write that started before the writer's partitions moved."""
from __future__ import annotations

from runtime.views.memo import WrittenDocs, digest


def test_the_content_is_what_counts_not_the_version_nor_the_order_of_fields() -> None:
    assert digest({"_id": "C1", "status": "open", "v": 3}) == digest({"status": "open", "_id": "C1", "v": 9})
    assert digest({"_id": "C1", "status": "open"}) != digest({"_id": "C1", "status": "ruled"})


def test_the_least_recently_written_documents_are_forgotten_first() -> None:
    memo = WrittenDocs(size=2)
    for _id in ("C1", "C2", "C1", "C3"):  # C1 written again after C2: C2 is the oldest
        memo.remember("queue", _id, digest({"_id": _id}), memo.epoch)
    assert len(memo) == 2 and ("queue", "C2") not in memo
    assert memo.holds("queue", "C1", digest({"_id": "C1"})) and memo.holds("queue", "C3", digest({"_id": "C3"}))


def test_a_write_that_started_before_the_partitions_moved_is_not_remembered() -> None:
    memo = WrittenDocs(size=10)
    started = memo.epoch
    memo.clear()  # a rebalance while the write was in flight
    memo.remember("queue", "C1", digest({"_id": "C1"}), started)
    assert ("queue", "C1") not in memo
    memo.remember("queue", "C1", digest({"_id": "C1"}), memo.epoch)
    memo.forget("queue", "C1")
    assert not memo.holds("queue", "C1", digest({"_id": "C1"}))
