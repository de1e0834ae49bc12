"""Topics made for another partition count are named, not waited on."""
from __future__ import annotations

from runtime.stream.admin import PARTITIONS, internal_topics, partition_mismatches


def described(name: str, partitions: int) -> dict:
    return {"topic": name, "error_code": 0, "partitions": [{"partition": p, "leader": 1} for p in range(partitions)]}


def test_a_topic_with_another_partition_count_is_named() -> None:
    wanted = internal_topics("aftersale-seller")
    changelog, repartition, _ = (t.name for t in wanted)

    wrong = partition_mismatches([described(changelog, PARTITIONS + 3), described(repartition, PARTITIONS)], wanted)

    assert wrong == [f"{changelog}: has {PARTITIONS + 3}, wants {PARTITIONS}"]


def test_a_topic_still_being_created_is_not_a_mismatch() -> None:
    wanted = internal_topics("aftersale-seller")
    creating = {"topic": wanted[0].name, "error_code": 3, "partitions": []}

    assert partition_mismatches([creating, described(wanted[1].name, PARTITIONS)], wanted) == []
