"""One document per aggregate holds its state, the event ids it has applied (inbox), the events
it still has to publish (outbox) and its pending deadlines (timers).

Keeping all four in one document makes "dedupe + state change + outgoing events + timers" a
single atomic write, which is all the atomicity the database guarantees (FerretDB has no
multi-document transactions). Writes are optimistic: `v` must not have moved since the read.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from runtime.ownership import partition_of


@dataclass(frozen=True)
class OutboxRecord:
    id: str  # the event_id of the envelope inside
    topic: str
    key: str
    value: str  # the encoded envelope (JSON text)
    type: str
    seq: int = 0  # publishing order within the aggregate

    def to_doc(self) -> dict[str, Any]:
        return {"topic": self.topic, "key": self.key, "value": self.value, "type": self.type, "seq": self.seq}

    @classmethod
    def from_doc(cls, id_: str, d: dict[str, Any]) -> "OutboxRecord":
        return cls(id_, d["topic"], d["key"], d["value"], d.get("type", ""), d.get("seq", 0))


def _outbox(doc: dict[str, Any]) -> list[OutboxRecord]:
    # Stored as {event_id: record}: adding and clearing are plain $set / $unset of fields,
    # which every MongoDB-compatible server does atomically (FerretDB's $pull cannot match by $in).
    records = [OutboxRecord.from_doc(k, v) for k, v in (doc.get("outbox") or {}).items()]
    return sorted(records, key=lambda r: r.seq)


@dataclass
class Aggregate:
    key: str
    version: int = 0  # 0: not stored yet
    state: dict[str, Any] | None = None
    processed: list[str] = field(default_factory=list)
    outbox: list[OutboxRecord] = field(default_factory=list)
    timers: dict[str, datetime] = field(default_factory=dict)
    # Outbox records this process already published; they are removed from the document with
    # its next write (or by the relay when the aggregate goes quiet), not by a write of their own.
    published: set[str] = field(default_factory=set)

    @property
    def unpublished(self) -> list[OutboxRecord]:
        return [r for r in self.outbox if r.id not in self.published]

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Aggregate":
        return cls(
            key=doc["_id"], version=doc.get("v", 0), state=doc.get("state"),
            processed=list(doc.get("processed") or []),
            outbox=_outbox(doc),
            timers=dict(doc.get("timers") or {}),
        )

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed


class VersionConflict(Exception):
    """Someone else wrote the aggregate between our read and our write; re-read and decide again."""


class AggregateStore:
    """Loads and writes aggregates. Because each aggregate has a single writer (runtime.ownership),
    the writer keeps the aggregates it works on in memory: a read of the database per message is
    saved, and the version check still catches a stale copy (evicted and read again)."""

    def __init__(self, collection: AsyncCollection, processed_window: int = 64,
                 partition: Callable[[str], int] = partition_of, cache_size: int = 20000,
                 horizon_s: float = 600.0) -> None:
        self.col = collection
        self.window = processed_window
        self.partition = partition  # the Kafka partition whose consumer owns an aggregate key
        self._cache: OrderedDict[str, Aggregate] = OrderedDict()
        self._cache_size = cache_size
        # What this process must do without a message arriving, known from its own writes (and
        # from a scan of the database when partitions move): timers, and outboxes to clear.
        self.due: dict[str, datetime] = {}  # key -> earliest timer
        self.dirty: dict[str, datetime] = {}  # key -> since when its outbox holds records
        self.horizon = timedelta(seconds=horizon_s)  # timers further out wait for a rescan

    def _track(self, key: str, timers: dict[str, datetime], outbox: bool, now: datetime) -> None:
        soonest = min(timers.values()) if timers else None
        if soonest is not None and soonest <= now + self.horizon:
            self.due[key] = soonest
        else:
            self.due.pop(key, None)
        if outbox:
            self.dirty.setdefault(key, now)
        else:
            self.dirty.pop(key, None)

    def _remember(self, agg: Aggregate) -> None:
        self._cache[agg.key] = agg
        self._cache.move_to_end(agg.key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, key: str | None = None) -> None:
        """Drop cached aggregates (all of them when partitions move to or from this process)."""
        if key is None:
            self._cache.clear()
            self.due.clear()
            self.dirty.clear()
        else:
            self._cache.pop(key, None)

    async def ensure_indexes(self) -> None:
        await self.col.create_index([("next_due_at", ASCENDING)])
        await self.col.create_index([("outbox_since", ASCENDING)])
        await self.col.create_index([("p", ASCENDING)])

    async def load(self, key: str) -> Aggregate:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        doc = await self.col.find_one({"_id": key})
        agg = Aggregate.from_doc(doc) if doc else Aggregate(key=key)
        self._remember(agg)
        return agg

    async def commit(
        self,
        agg: Aggregate,
        *,
        state: dict[str, Any] | None,
        processed_id: str,
        outbox: list[OutboxRecord],
        timers: dict[str, datetime] | None,
        now: datetime,
    ) -> list[OutboxRecord]:
        """Apply one decision atomically, or raise VersionConflict. Returns the new records as stored."""
        new_timers = agg.timers if timers is None else timers
        next_due = min(new_timers.values()) if new_timers else None
        base_seq = agg.version * 1000  # records of later versions sort after earlier ones
        records = [OutboxRecord(r.id, r.topic, r.key, r.value, r.type, base_seq + i) for i, r in enumerate(outbox)]
        remaining = agg.unpublished + records
        processed = (agg.processed + [processed_id])[-self.window:]
        fields: dict[str, Any] = {
            "v": agg.version + 1,
            "p": self.partition(agg.key),  # which consumer owns (and alone writes) this aggregate
            "timers": new_timers,
            "next_due_at": next_due,
            "updated_at": now,
            # The whole bounded list is written: the version check makes that safe, and FerretDB
            # ignores $push's $slice.
            "processed": processed,
        }
        if state is not None:
            fields["state"] = state
        if not remaining:
            fields["outbox_since"] = None
        elif not agg.unpublished:
            fields["outbox_since"] = now  # the relay looks for outboxes left waiting too long
        if agg.version == 0:
            doc = {"_id": agg.key, **fields, "state": state, "outbox": {r.id: r.to_doc() for r in records},
                   "lease_until": None, "outbox_since": now if records else None}
            try:
                await self.col.insert_one(doc)
            except DuplicateKeyError:
                self.forget(agg.key)
                raise VersionConflict(agg.key) from None
        else:
            for r in records:
                fields[f"outbox.{r.id}"] = r.to_doc()
            update: dict[str, Any] = {"$set": fields}
            cleared = [r.id for r in agg.outbox if r.id in agg.published]
            if cleared:
                update["$unset"] = {f"outbox.{i}": "" for i in cleared}
            res = await self.col.update_one({"_id": agg.key, "v": agg.version}, update)
            if res.matched_count == 0:
                self.forget(agg.key)
                raise VersionConflict(agg.key)
        self._remember(Aggregate(agg.key, agg.version + 1, state if state is not None else agg.state, processed,
                                 remaining, dict(new_timers)))
        self._track(agg.key, new_timers, bool(remaining), now)
        return records

    def mark_published(self, key: str, ids: list[str]) -> None:
        cached = self._cache.get(key)
        if cached is not None:
            cached.published.update(ids)

    async def clear_outbox(self, key: str, ids: list[str]) -> None:
        """Remove published records now (the relay does this for aggregates that went quiet)."""
        if not ids:
            return
        cached = self._cache.get(key)
        left = [r for r in cached.outbox if r.id not in ids] if cached else None
        update: dict[str, Any] = {"$unset": {f"outbox.{i}": "" for i in ids}}
        if left == []:
            update["$set"] = {"outbox_since": None}
        await self.col.update_one({"_id": key}, update)
        if left is None:  # not cached: only an empty outbox stops being watched by the relay
            await self.col.update_one({"_id": key, "outbox": {}}, {"$set": {"outbox_since": None}})
        elif cached is not None:
            cached.outbox, cached.published = left, cached.published - set(ids)
        if not left:
            self.dirty.pop(key, None)

    async def rescan(self, partitions: set[int], horizon: datetime) -> None:
        """Learn the owned aggregates' timers (due before `horizon`) and waiting outboxes from the
        database: after partitions move here, and now and then as a safety net."""
        if not partitions:
            return
        owned = {"p": {"$in": sorted(partitions)}}
        async for d in self.col.find({**owned, "next_due_at": {"$ne": None, "$lte": horizon}}, {"next_due_at": 1}):
            self.due[d["_id"]] = d["next_due_at"]
        async for d in self.col.find({**owned, "outbox_since": {"$ne": None}}, {"outbox_since": 1}):
            self.dirty.setdefault(d["_id"], d["outbox_since"])

    def due_now(self, now: datetime) -> list[str]:
        return [k for k, t in sorted(self.due.items(), key=lambda kv: kv[1]) if t <= now]

    def waiting_outboxes(self, older_than: datetime) -> list[str]:
        return [k for k, t in self.dirty.items() if t <= older_than]

    async def claim(self, key: str, now: datetime, lease: timedelta) -> Aggregate | None:
        """Lease one aggregate's due timers. The caller holds the key's lock (see runtime.ownership)."""
        doc = await self.col.find_one_and_update(
            {"_id": key, "next_due_at": {"$ne": None, "$lte": now},
             "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]},
            {"$set": {"lease_until": now + lease}},
            return_document=ReturnDocument.AFTER,
        )
        return Aggregate.from_doc(doc) if doc else None

    async def release(self, key: str) -> None:
        await self.col.update_one({"_id": key}, {"$set": {"lease_until": None}})
