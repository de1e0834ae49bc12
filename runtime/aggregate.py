"""One document per aggregate holds its state, the event ids it has applied (inbox), the events
it still has to publish (outbox) and its pending deadlines (timers).

Keeping all four in one document makes "dedupe + state change + outgoing events + timers" a
single atomic write, which is all the atomicity the database guarantees (FerretDB has no
multi-document transactions). Writes are optimistic: `v` must not have moved since the read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


@dataclass(frozen=True)
class OutboxRecord:
    id: str  # the event_id of the envelope inside
    topic: str
    key: str
    value: str  # the encoded envelope (JSON text)
    type: str

    def to_doc(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "key": self.key, "value": self.value, "type": self.type}

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> "OutboxRecord":
        return cls(d["id"], d["topic"], d["key"], d["value"], d.get("type", ""))


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
            outbox=[OutboxRecord.from_doc(r) for r in doc.get("outbox") or []],
            timers=dict(doc.get("timers") or {}),
        )

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed


class VersionConflict(Exception):
    """Someone else wrote the aggregate between our read and our write; re-read and decide again."""


class AggregateStore:
    def __init__(self, collection: AsyncCollection, processed_window: int = 256) -> None:
        self.col = collection
        self.window = processed_window

    async def ensure_indexes(self) -> None:
        await self.col.create_index([("next_due_at", ASCENDING)])
        await self.col.create_index([("outbox_since", ASCENDING)])

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
    ) -> None:
        """Apply one decision atomically, or raise VersionConflict."""
        new_timers = agg.timers if timers is None else timers
        next_due = min(new_timers.values()) if new_timers else None
        fields: dict[str, Any] = {
            "v": agg.version + 1,
            "timers": new_timers,
            "next_due_at": next_due,
            "updated_at": now,
        }
        if state is not None:
            fields["state"] = state
        if agg.version == 0:
            doc = {"_id": agg.key, **fields, "state": state, "processed": [processed_id],
                   "outbox": [r.to_doc() for r in outbox], "lease_until": None,
                   "outbox_since": now if outbox else None}
            try:
                await self.col.insert_one(doc)
            except DuplicateKeyError:
                raise VersionConflict(agg.key) from None
            return
        update: dict[str, Any] = {
            "$set": fields,
            "$push": {"processed": {"$each": [processed_id], "$slice": -self.window}},
        }
        if outbox:
            update["$push"]["outbox"] = {"$each": [r.to_doc() for r in outbox]}
            update["$min"] = {"outbox_since": now}
        res = await self.col.update_one({"_id": agg.key, "v": agg.version}, update)
        if res.matched_count == 0:
            raise VersionConflict(agg.key)

    async def mark_processed(self, agg: Aggregate, processed_id: str, now: datetime) -> None:
        """Remember an event that changed nothing, so a replay is recognised cheaply."""
        await self.commit(agg, state=None, processed_id=processed_id, outbox=[], timers=None, now=now)

    async def clear_outbox(self, key: str, ids: list[str]) -> None:
        if not ids:
            return
        await self.col.update_one({"_id": key}, {"$pull": {"outbox": {"id": {"$in": ids}}}})
        # Only an empty outbox stops being watched by the relay.
        await self.col.update_one({"_id": key, "outbox": {"$size": 0}}, {"$set": {"outbox_since": None}})

    async def with_stale_outbox(self, older_than: datetime, limit: int = 100) -> list[Aggregate]:
        cursor = self.col.find({"outbox_since": {"$ne": None, "$lte": older_than}}).limit(limit)
        return [Aggregate.from_doc(d) async for d in cursor]

    async def claim_due(self, now: datetime, lease: timedelta) -> Aggregate | None:
        """Take one aggregate with a due timer, for `lease`; another replica skips it meanwhile."""
        doc = await self.col.find_one_and_update(
            {"next_due_at": {"$ne": None, "$lte": now},
             "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]},
            {"$set": {"lease_until": now + lease}},
            return_document=ReturnDocument.AFTER,
        )
        return Aggregate.from_doc(doc) if doc else None

    async def release(self, key: str) -> None:
        await self.col.update_one({"_id": key}, {"$set": {"lease_until": None}})
