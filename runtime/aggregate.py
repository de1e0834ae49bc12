"""One document per aggregate holds its state, the event ids it has applied (inbox), the events
it still has to publish (outbox) and its pending deadlines (timers).

Keeping all four in one document makes "dedupe + state change + outgoing events + timers" a
single atomic write, which is all the atomicity the database guarantees (FerretDB has no
multi-document transactions). Writes are optimistic: `v` must not have moved since the read.
"""
from __future__ import annotations

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
    def __init__(self, collection: AsyncCollection, processed_window: int = 256,
                 partition: Callable[[str], int] = partition_of) -> None:
        self.col = collection
        self.window = processed_window
        self.partition = partition  # the Kafka partition whose consumer owns an aggregate key

    async def ensure_indexes(self) -> None:
        await self.col.create_index([("next_due_at", ASCENDING)])
        await self.col.create_index([("outbox_since", ASCENDING)])
        await self.col.create_index([("p", ASCENDING)])

    async def load(self, key: str) -> Aggregate:
        doc = await self.col.find_one({"_id": key})
        return Aggregate.from_doc(doc) if doc else Aggregate(key=key)

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
        """Apply one decision atomically, or raise VersionConflict. Returns the records as stored."""
        new_timers = agg.timers if timers is None else timers
        next_due = min(new_timers.values()) if new_timers else None
        base_seq = agg.version * 1000  # records of later versions sort after earlier ones
        records = [OutboxRecord(r.id, r.topic, r.key, r.value, r.type, base_seq + i) for i, r in enumerate(outbox)]
        fields: dict[str, Any] = {
            "v": agg.version + 1,
            "p": self.partition(agg.key),  # which consumer owns (and alone writes) this aggregate
            "timers": new_timers,
            "next_due_at": next_due,
            "updated_at": now,
        }
        if state is not None:
            fields["state"] = state
        if records and not agg.outbox:
            fields["outbox_since"] = now  # the relay looks for outboxes left waiting too long
        if agg.version == 0:
            doc = {"_id": agg.key, **fields, "state": state, "processed": [processed_id],
                   "outbox": {r.id: r.to_doc() for r in records}, "lease_until": None,
                   "outbox_since": now if records else None}
            try:
                await self.col.insert_one(doc)
            except DuplicateKeyError:
                raise VersionConflict(agg.key) from None
            return records
        for r in records:
            fields[f"outbox.{r.id}"] = r.to_doc()
        # The whole bounded list is written: the version check makes that safe, and FerretDB
        # ignores $push's $slice.
        fields["processed"] = (agg.processed + [processed_id])[-self.window:]
        res = await self.col.update_one({"_id": agg.key, "v": agg.version}, {"$set": fields})
        if res.matched_count == 0:
            raise VersionConflict(agg.key)
        return records

    async def clear_outbox(self, key: str, ids: list[str]) -> None:
        if not ids:
            return
        await self.col.update_one({"_id": key}, {"$unset": {f"outbox.{i}": "" for i in ids}})
        # Only an empty outbox stops being watched by the relay.
        await self.col.update_one({"_id": key, "outbox": {}}, {"$set": {"outbox_since": None}})

    async def stale_outbox_keys(self, older_than: datetime, partitions: set[int], limit: int = 100) -> list[str]:
        if not partitions:
            return []
        cursor = self.col.find({"outbox_since": {"$ne": None, "$lte": older_than}, "p": {"$in": sorted(partitions)}},
                               {"_id": 1}).limit(limit)
        return [d["_id"] async for d in cursor]

    async def due_keys(self, now: datetime, partitions: set[int], limit: int = 100) -> list[str]:
        """Aggregates of these partitions with a timer due and no live lease (read only)."""
        if not partitions:
            return []
        cursor = self.col.find(
            {"next_due_at": {"$ne": None, "$lte": now}, "p": {"$in": sorted(partitions)},
             "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]},
            {"_id": 1},
        ).sort("next_due_at", ASCENDING).limit(limit)
        return [d["_id"] async for d in cursor]

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
