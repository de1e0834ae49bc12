"""The inbox (站内信) in the notify service's database: one document per message, one read
receipt per message read. Written only as side effects of outgoing events (so a crash before
publishing rewrites them, idempotently); read by the app's message centre and the tests."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError


class Inbox:
    def __init__(self, db: AsyncDatabase) -> None:
        self.messages = db["inbox"]
        self.reads = db["reads"]

    async def ensure_indexes(self) -> None:
        await self.messages.create_index([("user_id", ASCENDING), ("created_at", DESCENDING)])
        await self.reads.create_index([("user_id", ASCENDING)])

    async def _insert(self, col: Any, doc: dict[str, Any]) -> None:
        try:
            await col.insert_one(doc)
        except DuplicateKeyError:
            pass  # already there: the event is being published again

    async def store(self, envelope: dict[str, Any]) -> None:
        d = envelope["data"]
        now = datetime.now(timezone.utc)
        if envelope["type"] == "message.sent":
            await self._insert(self.messages, {
                "_id": d["message_id"], "user_id": d["user_id"], "order_id": d["order_id"],
                "template": d["template"], "title": d["title"], "body": d["body"], "locale": d["locale"],
                "event_id": envelope["event_id"], "caused_by": envelope.get("causation_id"), "created_at": now})
        elif envelope["type"] == "message.marked_read":
            await self._insert(self.reads, {"_id": d["message_id"], "user_id": d["user_id"], "at": now})

    async def message(self, message_id: str) -> dict[str, Any] | None:
        return await self.messages.find_one({"_id": message_id})

    async def is_read(self, message_id: str) -> bool:
        return await self.reads.find_one({"_id": message_id}) is not None

    async def unread_count(self, user_id: str) -> int:
        return await self.messages.count_documents({"user_id": user_id}) - await self.reads.count_documents({"user_id": user_id})

    async def list(self, user_id: str, limit: int = 50) -> list[dict[str, Any]]:
        read = {r["_id"] async for r in self.reads.find({"user_id": user_id}, {"_id": 1})}
        out = []
        async for m in self.messages.find({"user_id": user_id}).sort("created_at", DESCENDING).limit(limit):
            m["message_id"] = m.pop("_id")
            m["read"] = m["message_id"] in read
            m["created_at"] = m["created_at"].isoformat()
            out.append(m)
        return out


def parse_records(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.type in ("message.sent", "message.marked_read")]
