"""The view writer: keeps the service's MongoDB query model up to date, off the processing path.

It is a consumer of its own (group `<service group>-views`, read_committed) over the service's
changelog and its history topics. Each poll's changes to one aggregate coalesce into one write
of the latest version: an insert (many at a time) when the poll holds the aggregate's first
record, a replace otherwise, and nothing for a document the change left as this writer last
wrote it (view_memo.py). Events become history documents (and whatever the domain projects
from them, such as inbox messages), inserted many at a time. Offsets are committed only after the
writes, so a crash or a database outage delays the views and loses nothing. Processing never
waits for it; its lag is a metric and part of `/health`.
"""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from functools import partial
from typing import Any, Iterable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from pymongo.errors import BulkWriteError, DuplicateKeyError

from contracts.parsing import Invalid, parse_message

from runtime.api.domain import Domain
from runtime.service import metrics
from runtime.service.periodic import every, unless_stopped
from runtime.service.settings import QUIET_WAKE_MS, ServiceSettings
from runtime.stream.aggregate import Aggregate, is_new
from runtime.stream.fetch_pace import FetchPace, set_fetch_terms
from runtime.stream.membership import static_member_id
from runtime.stream.positions import is_positions
from runtime.stream.records import changelog_topic
from runtime.views.history import HISTORY, history_doc
from runtime.views.memo import WrittenDocs, digest
from runtime.views.pace import ViewPace
from runtime.views.refusals import Refusals, ViewDeadLetters, Write, unreachable

log = structlog.get_logger("views")

DUPLICATE_KEY = 11000


def _by_collection(writes: Iterable[Write]) -> list[tuple[str, list[Write]]]:
    out: defaultdict[str, list[Write]] = defaultdict(list)
    for w in writes:
        out[w.collection].append(w)
    return list(out.items())


class ForgetOnRebalance(ConsumerRebalanceListener):
    """While a partition is away, another writer may write its documents: what this one wrote says
    nothing about them anymore."""

    def __init__(self, memo: WrittenDocs) -> None:
        self.memo = memo

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.memo.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.memo.clear()


class ViewWriter:
    def __init__(self, domain: Domain, settings: ServiceSettings, database: Any, client: dict[str, Any],
                 dead_letters: ViewDeadLetters) -> None:
        group = settings.group_id(domain.service)
        self.domain = domain
        self.settings = settings
        self.db = database
        self.service = domain.service
        self.changelog = changelog_topic(group)
        self.group = f"{group}-views"
        self.client = client
        self.consumer: Any = None
        self._limit = asyncio.Semaphore(settings.view_concurrency)
        self.memo = WrittenDocs(settings.view_memo_size)
        self.pace = ViewPace(settings.view_gather_s, settings.view_gather_max_s)
        self.fetch_pace = FetchPace(int(settings.view_gather_s * 1000), settings.fetch_idle_wait_ms)
        self.terms = self.fetch_pace.busy  # the consumer starts with these
        self.behind = 0  # committed records not yet written
        self.lag_s = 0.0  # age of the newest change written, when it was written
        self.writing_since: float | None = None  # monotonic time the poll being written began
        self.database_ok = True
        self.written = 0
        self.refusals = Refusals(domain.service, dead_letters)
        self.last_error: str | None = None  # of the write being retried, if one is
        self.indexed = False

    async def start(self) -> None:
        s = self.settings
        topics = [self.changelog, *self.domain.history_topics]
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap, group_id=self.group, enable_auto_commit=False,
            isolation_level="read_committed",
            # The broker gathers changes before answering, so that an aggregate changed several
            # times meanwhile is written once, and the broker answers few fetches (view_pace.py).
            fetch_min_bytes=self.terms.min_bytes, fetch_max_wait_ms=self.terms.max_wait_ms,
            # The changelog is read whole; a new deployment's history starts where the services do.
            auto_offset_reset=s.offset_reset, session_timeout_ms=s.session_timeout_ms,
            # Static membership, like the processing consumer: a restart takes its partitions back at once.
            group_instance_id=static_member_id(self.group, s.instance_id, topics),
            consumer_timeout_ms=QUIET_WAKE_MS, **self.client)
        await self.consumer.start()
        self.consumer.subscribe(topics, listener=ForgetOnRebalance(self.memo))
        self._started_at_positions = False

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        stop_letters = getattr(self.refusals.dead_letters, "stop", None)
        if stop_letters is not None:
            await stop_letters()

    async def run(self, stop: asyncio.Event) -> None:
        """Start (in the background: the service is ready without its views), then write."""
        while self.consumer is None and not stop.is_set():
            try:
                await self.start()
            except Exception as exc:  # noqa: BLE001 - the broker comes back; the views wait for it
                log.warning("view_start_failed", error=repr(exc))
                await self.stop()
                self.consumer = None
                await asyncio.sleep(1)
        while not stop.is_set():
            try:
                batch = await unless_stopped(self.consumer.getmany(
                    timeout_ms=QUIET_WAKE_MS, max_records=self.settings.view_batch_records), stop) or {}
                if not self._started_at_positions and self.consumer.assignment():
                    # Say where it starts, so "caught up" can be told from "never read".
                    await self.consumer.commit({tp: await self.consumer.position(tp)
                                                for tp in self.consumer.assignment()})
                    self._started_at_positions = True
                if batch:
                    started = time.perf_counter()
                    self.writing_since = time.monotonic()
                    try:
                        await self._write_until_done(batch, stop)
                    finally:
                        self.writing_since = None
                    self._pace(time.perf_counter() - started)
                self._fetch_terms(sum(len(records) for records in batch.values()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker comes back; the views wait for it
                log.warning("view_poll_failed", error=repr(exc))
                await asyncio.sleep(1)

    async def measure_behind(self, stop: asyncio.Event, every_s: float = 1.0) -> None:
        """Records not yet written, measured apart from the writes (a task of its own, like the
        stream's `measure_lag`), so that those piling up behind a write the database does not
        answer (hung, not refusing) show in /health while it hangs, not only after."""
        async for _ in every(every_s, stop):
            if self.consumer is None:
                continue
            try:
                await self._measure()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a figure must never stop the writer
                log.debug("view_measure_failed", error=repr(exc))

    async def _write_until_done(self, batch: dict[TopicPartition, list[Any]], stop: asyncio.Event) -> None:
        backoff = self.settings.retry_backoff_s
        while True:
            try:
                await self.write(batch)
                self.database_ok = True
                self.last_error = None
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database is away or hung: wait, lose nothing
                self.database_ok = False
                self.last_error = repr(exc)[:500]
                log.warning("view_write_failed", error=repr(exc), retry_in_s=backoff)
                if stop.is_set():
                    return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
        # The position, not the last offset + 1: it is past the transaction markers too.
        await self.consumer.commit({tp: await self.consumer.position(tp) for tp in batch})

    async def write(self, batch: dict[TopicPartition, list[Any]]) -> None:
        if not self.indexed:  # before the first write; a failure is retried like the write
            for index in self.domain.indexes:
                await self.db[index.collection].create_index(list(index.keys))
            self.indexed = True
        latest: dict[str, Any] = {}
        new: set[str] = set()  # aggregates whose first record is in this batch
        inserts: list[Write] = []  # history and projected documents, many per round trip
        for tp, records in batch.items():
            for r in records:
                if tp.topic == self.changelog:
                    if r.value is not None and not is_positions(r.key):  # where the task read to
                        key = (r.key or b"").decode()
                        latest[key] = r  # later versions replace earlier ones
                        if is_new(r.headers):
                            new.add(key)
                    continue
                inserts += self._history(tp, r)
        # A replace costs FerretDB a lookup and an update each (about 1.3 ms of its CPU); a document
        # of an insert_many a twentieth of that. So an aggregate seen for the first time is inserted,
        # and a document the change left as this writer last wrote it is not written at all.
        first: list[Write] = []
        replaces: list[Write] = []
        for key, r in latest.items():
            try:
                agg = Aggregate.decode(key, r.value)
                docs = self.documents(agg)
            except Exception as exc:  # noqa: BLE001 - a state no document can be made of: a dead letter
                await self.refusals.refused(r, "?", key, exc)
                continue
            for collection, _id, doc in docs:
                content = digest(doc)
                if self.memo.holds(collection, _id, content):
                    metrics.VIEW_UNCHANGED.labels(self.service, collection).inc()
                elif key in new:
                    first.append(self._first_write(collection, {**doc, "_id": _id, "v": agg.version}, content, r))
                else:
                    replaces.append(Write(collection, _id, partial(self._forward, collection, _id, agg.version, doc,
                                                                   content), r))
        try:
            await asyncio.gather(*(self._insert(col, [w.doc for w in ws if w.doc is not None])
                                   for col, ws in _by_collection(inserts)),
                                 *(self._insert_first(col, [(w.doc, w.content) for w in ws if w.doc is not None])
                                   for col, ws in _by_collection(first)),
                                 *(w.run() for w in replaces))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if unreachable(exc):
                raise
            # One document the database refuses fails its whole round trip: each alone, to find it.
            log.warning("view_batch_refused", error=repr(exc))
            await self.refusals.write_each([*inserts, *first, *replaces], self.db)
        now = time.time()
        for r in latest.values():
            self.lag_s = max(0.0, now - r.timestamp / 1000)
            metrics.VIEW_LAG_SECONDS.labels(self.service).observe(self.lag_s)
        self.written += len(latest)

    def _history(self, tp: TopicPartition, r: Any) -> list[Write]:
        """An event's history document and what the domain projects from it. Only from a message the
        contract accepts: what the service refused as invalid it dead-lettered, and shows nowhere."""
        topic = tp.topic
        try:
            env = parse_message(r.value, topic=topic).raw
        except Invalid:
            return []
        assert env is not None
        out = [self._insert_write(HISTORY, history_doc(topic, tp.partition, r.offset, r.timestamp, env,
                                                       r.value.decode()), r)]
        try:
            out += [self._insert_write(v.collection, v.doc, r) for v in self.domain.project(topic, env)]
        except Exception as exc:  # noqa: BLE001 - a malformed event projects nothing
            log.warning("projection_failed", topic=topic, offset=r.offset, error=repr(exc))
        return out

    def _insert_write(self, collection: str, doc: dict[str, Any], source: Any) -> Write:
        return Write(collection, doc.get("_id"), partial(self._insert, collection, [doc]), source, doc)

    def _first_write(self, collection: str, doc: dict[str, Any], content: bytes, source: Any) -> Write:
        return Write(collection, doc["_id"], partial(self._insert_first, collection, [(doc, content)]), source, doc,
                     content)

    def documents(self, agg: Aggregate) -> list[tuple[str, str, dict[str, Any]]]:
        """The query model's documents of one aggregate: (collection, _id, document)."""
        if not agg.state:
            return []
        return [(view.collection, view.doc["_id"], view.doc) for view in self.domain.views(agg.key, agg.state)]

    async def _insert(self, collection: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Documents many per round trip; returns those already there (a re-read after a crash),
        which are left as they are. FerretDB takes this form well: tests/integration/test_view_writes.py."""
        metrics.VIEW_WRITES.labels(self.service, collection, "insert").inc(len(docs))
        try:
            await self.db[collection].insert_many(docs, ordered=False)
        except BulkWriteError as e:
            errors = e.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            # which ones is not said: all of them may be there
            return [docs[err["index"]] for err in errors] if all("index" in err for err in errors) else docs
        return []

    async def _insert_first(self, collection: str, docs: list[tuple[dict[str, Any], bytes]]) -> None:
        """New aggregates' documents. One already there (this batch read again after a crash, or a
        writer that lost the partition got further) is replaced instead, only forward."""
        epoch = self.memo.epoch
        there = {d["_id"] for d in await self._insert(collection, [d for d, _ in docs])}
        await asyncio.gather(*(self._forward(collection, d["_id"], d["v"], d, content)
                               for d, content in docs if d["_id"] in there))
        for d, content in docs:
            if d["_id"] not in there:
                self.memo.remember(collection, d["_id"], content, epoch)

    async def _forward(self, collection: str, _id: str, version: int, doc: dict[str, Any], content: bytes) -> None:
        """Only ever forward: a writer that lost the partition cannot put an older version back."""
        epoch = self.memo.epoch
        async with self._limit:
            metrics.VIEW_WRITES.labels(self.service, collection, "replace").inc()
            try:
                await self.db[collection].replace_one({"_id": _id, "v": {"$lt": version}}, {**doc, "v": version},
                                                      upsert=True)
            except DuplicateKeyError:
                self.memo.forget(collection, _id)  # a newer version is already there, unknown to this writer
                return
            self.memo.remember(collection, _id, content, epoch)

    @property
    def gather_s(self) -> float:
        """How long the broker gathers changes while they come."""
        return self.fetch_pace.busy_wait_ms / 1000

    def _pace(self, write_s: float) -> None:
        gather_s = round(self.pace.gather_s(write_s), 2)  # a new wait only when it moves by 10 ms or more
        self.fetch_pace.busy_wait_ms = int(gather_s * 1000)

    def _fetch_terms(self, records: int) -> None:
        """The gather while changes come; after a quiet second, a fetch that waits long and
        returns at the first change (as the processing consumer's, fetch_pace.py)."""
        terms = self.fetch_pace.terms(records, time.monotonic())
        if terms != self.terms:
            set_fetch_terms(self.consumer, terms)
            self.terms = terms

    async def _measure(self) -> None:
        parts = list(self.consumer.assignment())
        if not parts:
            return
        if self.writing_since is None:
            # Between writes the fetches keep the partitions' ends known here: asking the broker
            # every second would be most of what an idle writer costs it.
            ends = {tp: end for tp in parts if (end := self.consumer.last_stable_offset(tp)) is not None}
        else:  # a write in hand fetches nothing: only the broker knows what piles up meanwhile
            ends = await self.consumer.end_offsets(parts)
        behind = 0
        for tp in parts:
            position = await self.consumer.position(tp)
            behind += max(0, ends.get(tp, 0) - position)
        self.behind = behind
        metrics.VIEW_BEHIND.labels(self.service).set(behind)

    def health(self) -> dict[str, Any]:
        writing_s = time.monotonic() - self.writing_since if self.writing_since is not None else 0.0
        return {"records_behind": self.behind, "lag_s": round(self.lag_s, 3), "database": self.database_ok,
                "refused": {"count": self.refusals.count, "last": self.refusals.last}, "last_error": self.last_error,
                "writing_s": round(writing_s, 1),
                "written": self.written, "gather_s": self.gather_s}
