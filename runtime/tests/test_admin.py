"""Topics laid out as the settings say; those made for another partition count, or refused by
the broker, are named, not waited on."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from ops.topics import wanted
from runtime.stream.admin import PARTITIONS, PartitionCountMismatch, creation_refusals, internal_topics, partition_mismatches
from runtime.stream.layout import Layout, layout


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


def test_the_mismatch_says_how_to_migrate() -> None:
    message = str(PartitionCountMismatch(["refund.events: has 6, wants 3"]))
    assert "AFTERSALE_PARTITIONS=3" in message and "migrate" in message and "refund.events: has 6" in message


def test_a_refused_creation_is_named_and_an_existing_topic_is_not_a_refusal() -> None:
    answer = SimpleNamespace(topic_errors=[("refund.events", 38, "Replication factor: 3 larger than available brokers: 1."),
                                           ("seller.events", 36, "Topic 'seller.events' already exists."),
                                           ("notify.events", 0, None)])
    assert creation_refusals(answer) == ["refund.events: error 38 Replication factor: 3 larger than available brokers: 1."]


def test_the_layout_comes_from_the_environment_and_refuses_more_in_sync_than_replicas(monkeypatch) -> None:
    monkeypatch.setenv("AFTERSALE_PARTITIONS", "6")
    monkeypatch.setenv("AFTERSALE_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("AFTERSALE_MIN_INSYNC_REPLICAS", "2")
    production = Layout()
    assert (production.partitions, production.replication_factor, production.min_insync_replicas) == (6, 3, 2)
    assert production.configs({"cleanup.policy": "compact"}) == {"cleanup.policy": "compact", "min.insync.replicas": "2"}
    monkeypatch.setenv("AFTERSALE_MIN_INSYNC_REPLICAS", "4")
    with pytest.raises(ValidationError, match="cannot exceed"):
        Layout()


def test_every_topic_is_laid_out_alike() -> None:
    here = layout()
    for t in [*wanted(), *internal_topics("aftersale-refund")]:
        assert t.replication_factor == here.replication_factor
        assert t.topic_configs["min.insync.replicas"] == str(here.min_insync_replicas)
        assert t.num_partitions == (1 if t.name.endswith(".dlq") else here.partitions), t.name


def client_calls(pattern: str) -> list[tuple[str, str]]:
    """Every call of the Kafka clients `pattern` names in the project's code, with its arguments."""
    root = Path(__file__).resolve().parents[2]
    calls = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text()
        for m in re.finditer(rf"({pattern})\(", text):
            depth, end = 0, m.end() - 1
            for end in range(m.end() - 1, len(text)):  # the call's whole argument list
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            calls.append((f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}", text[m.start():end]))
    return calls


def test_every_producer_waits_for_the_in_sync_replicas() -> None:
    """min.insync.replicas means nothing to a producer that does not ask for acks=all."""
    calls = client_calls("AIOKafkaProducer|KafkaBroker")
    assert len(calls) >= 8, calls  # the tasks', dead letters', workbench's, CLI's, simulators', bench's
    assert [where for where, call in calls if 'acks="all"' not in call] == []


def test_no_faststream_broker_creates_the_topics_it_reads() -> None:
    """FastStream creates a subscriber's missing topic with one partition unless told not to: the
    payment simulator, started on a broker before `aftersale topics ensure`, made payments.commands
    so, and the platform's partition count could not be set after it."""
    calls = client_calls("KafkaBroker")
    assert calls, "the payment simulator's broker"
    assert [where for where, call in calls if "allow_auto_create_topics=False" not in call] == []
