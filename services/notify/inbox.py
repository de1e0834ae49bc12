"""The inbox (站内信) in the notify service's query model: one document per message, one read
receipt per message read. The view writer inserts them from notify.events; the app's message
centre (`GET /inbox`) and the tests read them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from runtime.api.domain import ViewDoc

MESSAGES, READS = "inbox", "reads"


def inbox_views(envelope: dict[str, Any]) -> list[ViewDoc]:
    d = envelope.get("data") or {}
    at = datetime.fromisoformat(envelope["occurred_at"].replace("Z", "+00:00"))
    if envelope.get("type") == "message.sent":
        return [ViewDoc(MESSAGES, {
            "_id": d["message_id"], "user_id": d["user_id"], "order_id": d["order_id"],
            "template": d["template"], "title": d["title"], "body": d["body"], "locale": d["locale"],
            "event_id": envelope["event_id"], "caused_by": envelope.get("causation_id"), "created_at": at})]
    if envelope.get("type") == "message.marked_read":
        return [ViewDoc(READS, {"_id": d["message_id"], "user_id": d["user_id"], "at": at})]
    return []


class Inbox:
    def __init__(self, db: AsyncDatabase) -> None:
        self.messages = db[MESSAGES]
        self.reads = db[READS]

    async def ensure_indexes(self) -> None:
        await self.messages.create_index([("user_id", ASCENDING), ("created_at", DESCENDING)])
        await self.reads.create_index([("user_id", ASCENDING)])

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
