"""The view writer against an in-memory database: an aggregate's first documents are inserted many
at a time, later ones replaced, and nothing ever moves back, whichever batch is read again."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition

from contracts.build import encode, envelope
from pymongo.errors import BulkWriteError, DuplicateKeyError

from runtime.api.domain import Domain, ViewDoc
from runtime.service.settings import ServiceSettings
from runtime.stream.aggregate import Aggregate, is_new
from runtime.stream.batch import Batch
from runtime.stream.records import changelog_topic
from runtime.stream.store import StateStore
from runtime.views.refusals import MemoryViewDeadLetters
from runtime.views.writer import ForgetOnRebalance, ViewWriter

SETTINGS = ServiceSettings()
CHANGELOG = changelog_topic(SETTINGS.group_id("shop"))


class ShopDomain(Domain):
    service = "shop"
    consumes = ()

    def views(self, key: str, state: dict[str, Any]) -> list[ViewDoc]:
        return [ViewDoc("orders", {"_id": key, "state": state}),
                ViewDoc("sellers", {"_id": state["seller"], "orders": state["n"]})]

    @property
    def history_topics(self) -> tuple[str, ...]:
        return ()


class Collection:
    """Just what the view writer asks of a collection, with MongoDB's answers to duplicates."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.calls = {"insert_many": 0, "replace_one": 0}

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        self.calls["insert_many"] += 1
        errors = []
        for i, d in enumerate(docs):
            if d["_id"] in self.docs:
                errors.append({"index": i, "code": 11000})
            else:
                self.docs[d["_id"]] = d
        if errors:
            raise BulkWriteError({"writeErrors": errors})

    async def replace_one(self, flt: dict[str, Any], doc: dict[str, Any], upsert: bool = False) -> None:
        self.calls["replace_one"] += 1
        there = self.docs.get(flt["_id"])
        if there is None or "v" not in flt:
            self.docs[flt["_id"]] = {**doc, "_id": flt["_id"]}
        elif there["v"] < flt["v"]["$lt"]:
            self.docs[flt["_id"]] = {**doc, "_id": flt["_id"]}
        else:  # no match, and the upsert's insert meets the _id that is there
            raise DuplicateKeyError("E11000 duplicate key")


class Database(dict):
    def __missing__(self, name: str) -> Collection:
        self[name] = Collection()
        return self[name]


@dataclass
class Record:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    offset: int = 0
    timestamp: int = 0
    topic: str = CHANGELOG
    partition: int = 0


def changes(key: str, *states: dict[str, Any], since: int = 0) -> list[Record]:
    """The changelog records a task writes for successive changes of one aggregate, one batch each."""
    store, out = StateStore(), []
    agg = Aggregate(key=key, version=since)
    if since:
        store.put_all({key: agg})
    for state in states:
        batch = Batch(store, 0)
        agg = agg.changed(state=state, timers=None, event_id=f"e{agg.version}", window=8)
        batch.put(agg)
        r = batch.changelog(CHANGELOG)[0]
        out.append(Record(r.key, r.value, r.headers, offset=agg.version))
        batch.committed()
    return out


def writer() -> tuple[ViewWriter, Database]:
    db = Database()
    return ViewWriter(ShopDomain(), SETTINGS, db, {}, MemoryViewDeadLetters()), db


def batch_of(records: list[Record]) -> dict[TopicPartition, list[Record]]:
    return {TopicPartition(CHANGELOG, 0): records}


def test_only_an_aggregates_first_changelog_record_says_it_is_new() -> None:
    first, second, third = changes("O-1", {"seller": "S-1", "n": 1}, {"seller": "S-1", "n": 2},
                                   {"seller": "S-1", "n": 3})
    assert [is_new(r.headers) for r in (first, second, third)] == [True, False, False]
    # A task that restored the aggregate never calls it new.
    assert not is_new(changes("O-2", {"seller": "S-1", "n": 9}, since=4)[0].headers)


async def test_a_new_order_is_inserted_and_its_later_changes_replace_it() -> None:
    views, db = writer()
    first, second, third = changes("O-1", {"seller": "S-1", "n": 1}, {"seller": "S-1", "n": 2},
                                   {"seller": "S-1", "n": 3})

    await views.write(batch_of([first, second]))  # both changes in one poll: one document each
    assert db["orders"].calls == {"insert_many": 1, "replace_one": 0}
    assert db["sellers"].calls == {"insert_many": 1, "replace_one": 0}
    assert db["orders"].docs["O-1"]["v"] == 2 and db["sellers"].docs["S-1"] == {"_id": "S-1", "orders": 2, "v": 2}

    await views.write(batch_of([third]))
    assert db["orders"].calls == {"insert_many": 1, "replace_one": 1}
    assert db["orders"].docs["O-1"]["state"] == {"seller": "S-1", "n": 3}
    assert db["sellers"].docs["S-1"] == {"_id": "S-1", "orders": 3, "v": 3}


async def test_a_batch_read_again_after_a_crash_never_moves_a_view_back() -> None:
    views, db = writer()
    first, second = changes("O-1", {"seller": "S-1", "n": 1}, {"seller": "S-1", "n": 2})
    await views.write(batch_of([first]))
    await views.write(batch_of([second]))

    # The writer died before committing its offsets: the first batch comes again. Its insert
    # meets the document and becomes a replace, which only ever moves forward.
    await views.write(batch_of([first]))
    assert db["orders"].docs["O-1"]["v"] == 2
    assert db["sellers"].docs["S-1"] == {"_id": "S-1", "orders": 2, "v": 2}


async def test_new_and_known_aggregates_of_one_poll_take_their_own_form() -> None:
    views, db = writer()
    await views.write(batch_of(changes("O-1", {"seller": "S-1", "n": 1})))
    known = changes("O-1", {"seller": "S-1", "n": 2}, since=1)
    fresh = changes("O-2", {"seller": "S-2", "n": 1}) + changes("O-3", {"seller": "S-3", "n": 1})

    await views.write(batch_of([*known, *fresh]))
    assert db["orders"].calls == {"insert_many": 2, "replace_one": 1}  # O-2 and O-3 in one insert
    assert {k: d["v"] for k, d in db["orders"].docs.items()} == {"O-1": 2, "O-2": 1, "O-3": 1}


def test_the_gather_of_the_next_fetch_follows_the_time_the_writes_took() -> None:
    views, _ = writer()
    views.consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_min_bytes=0, _fetch_max_wait_ms=0))
    for _ in range(20):
        views._pace(write_s=2.0)  # the database keeps being slow: gather longer
        views._fetch_terms(records=50)
    assert views.consumer._fetcher._fetch_max_wait_ms == int(SETTINGS.view_gather_max_s * 1000)
    assert views.health()["gather_s"] == SETTINGS.view_gather_max_s
    for _ in range(20):
        views._pace(write_s=0.01)  # quick again: the views close behind
        views._fetch_terms(records=50)
    assert views.consumer._fetcher._fetch_max_wait_ms == int(SETTINGS.view_gather_s * 1000)
    assert views.consumer._fetcher._fetch_min_bytes > 1  # gathering: the wait decides


def test_a_quiet_writer_fetches_seldom_and_its_fetch_returns_at_the_first_change() -> None:
    views, _ = writer()
    views.consumer = SimpleNamespace(_fetcher=SimpleNamespace(_fetch_min_bytes=0, _fetch_max_wait_ms=0))
    views._fetch_terms(records=3)
    views.fetch_pace.last_record_at = time.monotonic() - 1.5  # nothing since
    views._fetch_terms(records=0)
    assert (views.consumer._fetcher._fetch_min_bytes, views.consumer._fetcher._fetch_max_wait_ms) == (
        1, SETTINGS.fetch_idle_wait_ms)
    views._fetch_terms(records=1)  # changes again: gather them
    assert views.consumer._fetcher._fetch_max_wait_ms == int(SETTINGS.view_gather_s * 1000)


async def test_an_event_is_kept_in_the_history_as_it_was_sent_and_a_record_the_contract_refuses_is_not() -> None:
    views, db = writer()
    env = envelope("refund.requested", {
        "order_id": "O-1", "refund_id": "RF-1", "kind": "refund_only", "reason": "quality", "amount_fen": 500,
        "seller_id": "S-1", "buyer_id": "B-1", "seller_due_at": "2026-11-29T08:00:00Z", "备注": "左耳无声"},
        actor={"role": "buyer", "id": "B-1"}, event_id="E1", occurred_at=datetime(2026, 11, 27, 8, tzinfo=timezone.utc))
    sent = encode(env).decode()
    overflowing = sent.replace('"event_id":"E1"', '"event_id":9223372036854775808')  # JSON, but no event
    events = TopicPartition("refund.events", 2)
    await views.write({events: [Record(b"O-1", sent.encode(), (), offset=7, timestamp=5),
                                Record(b"O-1", b"\xff not json", (), offset=8),
                                Record(b"O-1", overflowing.encode(), (), offset=9)]})
    assert db["history"].docs == {"refund.events:2:7": {
        "_id": "refund.events:2:7", "order_id": "O-1", "topic": "refund.events", "type": "refund.requested",
        "event_id": "E1", "occurred_at": env["occurred_at"], "ts": 5, "value": sent}}


async def test_a_document_the_change_left_as_it_was_is_not_written_again_until_the_partitions_move() -> None:
    views, db = writer()
    first, noted, noted_again = changes("O-1", {"seller": "S-1", "n": 1}, {"seller": "S-1", "n": 1, "note": "x"},
                                        {"seller": "S-1", "n": 1, "note": "y"})
    await views.write(batch_of([first]))
    await views.write(batch_of([noted]))  # the order changed, the seller's figure did not
    assert db["orders"].calls["replace_one"] == 1 and db["sellers"].calls["replace_one"] == 0
    assert db["sellers"].docs["S-1"]["v"] == 1  # left as it was, an older version: later ones still move it

    # While its partitions were away, another writer may have written the seller's document.
    await ForgetOnRebalance(views.memo).on_partitions_assigned(set())
    await views.write(batch_of([noted_again]))
    assert db["sellers"].calls["replace_one"] == 1 and db["sellers"].docs["S-1"]["v"] == 3


async def test_a_write_refused_for_a_newer_version_leaves_nothing_remembered() -> None:
    views, db = writer()
    first, second = changes("O-1", {"seller": "S-1", "n": 1}, {"seller": "S-1", "n": 2})
    await views.write(batch_of([first]))
    db["sellers"].docs["S-1"] = {"_id": "S-1", "orders": 7, "v": 9}  # a writer that got further
    await views.write(batch_of([second]))
    assert db["sellers"].docs["S-1"]["orders"] == 7
    assert ("sellers", "S-1") not in views.memo and ("orders", "O-1") in views.memo


class HungCollection(Collection):
    """A database that takes the write and never answers (FerretDB stopped), until released."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        await self.answer.wait()
        await super().insert_many(docs, ordered)


class OneBatchConsumer:
    """Hands the writer one poll, then nothing; meanwhile the topic keeps growing."""

    def __init__(self, records: list[Record]) -> None:
        self.tp = TopicPartition(CHANGELOG, 0)
        self.polls = [{self.tp: records}]
        self.end = len(records)
        self._fetcher = SimpleNamespace()  # where the writer sets how long the broker gathers

    async def getmany(self, timeout_ms: int = 0, max_records: int = 0) -> dict[TopicPartition, list[Record]]:
        if self.polls:
            return self.polls.pop()
        await asyncio.sleep(timeout_ms / 1000)
        return {}

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    async def end_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {self.tp: self.end}

    def last_stable_offset(self, tp: TopicPartition) -> int:
        return 1  # as the one poll saw it: the growth since is only the broker's to tell

    async def position(self, tp: TopicPartition) -> int:
        return 1  # past the poll being written

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        pass


async def test_while_the_database_hangs_health_shows_the_records_piling_up_behind_the_write() -> None:
    db = Database()
    db["orders"] = HungCollection()
    views = ViewWriter(ShopDomain(), SETTINGS, db, {}, MemoryViewDeadLetters())
    views.consumer = OneBatchConsumer(changes("O-1", {"seller": "S-1", "n": 1}))
    views._started_at_positions = True  # noqa: SLF001 - started by hand, without a broker
    stop = asyncio.Event()
    running = [asyncio.create_task(views.run(stop)), asyncio.create_task(views.measure_behind(stop))]
    try:
        await asyncio.sleep(0.3)
        views.consumer.end += 40  # the services go on committing while the database hangs
        await asyncio.sleep(1.2)
        hung = views.health()
        assert hung["records_behind"] == 40 and hung["writing_s"] >= 1.0, hung

        db["orders"].answer.set()
        await asyncio.sleep(0.1)
        assert views.health()["writing_s"] == 0.0 and db["orders"].docs["O-1"]["v"] == 1
    finally:
        stop.set()
        db["orders"].answer.set()
        await asyncio.wait_for(asyncio.gather(*running), 2)
