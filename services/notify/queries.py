"""The notify service's read side: a user's inbox (站内信) and unread count, for the app's message
centre (`GET /inbox`), the operator's tools and tests, never read by collection name elsewhere."""
from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.inbox import MESSAGES, READS


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
