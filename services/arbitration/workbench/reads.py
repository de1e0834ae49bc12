"""What the workbench reads: the arbitration service's query model (cases, buyers' records) and
the seller service's shops through its read side (services/seller/queries.py), never Kafka replays."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.arbitration import queries
from services.arbitration.domain.service import COMPLAINTS, QUEUE
from services.seller.queries import shop_record

QUEUE_STATUS = queries.AWAITING_RULING


@dataclass(frozen=True)
class QueueFilter:
    reason: str = ""
    opened_by: str = ""
    min_fen: int | None = None
    max_fen: int | None = None
    appeals_only: bool = False

    def query(self) -> dict[str, Any]:
        q: dict[str, Any] = {"status": QUEUE_STATUS}
        if self.reason:
            q["reason"] = self.reason
        if self.opened_by:
            q["opened_by"] = self.opened_by
        amount: dict[str, int] = {}
        if self.min_fen is not None:
            amount["$gte"] = self.min_fen
        if self.max_fen is not None:
            amount["$lte"] = self.max_fen
        if amount:
            q["amount_fen"] = amount
        if self.appeals_only:
            q["appeals"] = {"$gt": 0}
        return q


ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class QueryModel:
    def __init__(self, arbitration: AsyncDatabase, seller: AsyncDatabase) -> None:
        self.db = arbitration  # a case file is its document and those of what it holds by reference
        self.queued = arbitration[QUEUE]  # a few fields a case: a scan of these is cheap
        self.seller = seller  # read through the seller service's read side (services/seller/queries.py)

    async def queue(self, f: QueueFilter, limit: int) -> list[dict[str, Any]]:
        cursor = self.queued.find(f.query()).sort("ruling_due_at", ASCENDING)
        return [doc async for doc in cursor.limit(limit)]

    async def reasons(self) -> list[str]:
        """The reasons of the cases in the queue, for its filter. (Not `distinct`: FerretDB refuses
        it with the client's timeoutMS.)"""
        cursor = self.queued.find({"status": QUEUE_STATUS}, projection={"reason": 1, "_id": 0}).limit(5000)
        return sorted({d["reason"] async for d in cursor if d.get("reason")})

    async def complaints(self, limit: int) -> list[dict[str, Any]]:
        """Complaints against shops not decided yet, oldest first (the queue shows them beside cases)."""
        cursor = self.db[COMPLAINTS].find({"status": {"$ne": "ruled"}}).sort("filed_at", ASCENDING)
        return [doc async for doc in cursor.limit(limit)]

    async def complaint(self, complaint_id: str) -> dict[str, Any] | None:
        if not ID.match(complaint_id):
            return None
        return await self.db[COMPLAINTS].find_one({"_id": complaint_id})

    async def case(self, case_id: str) -> dict[str, Any] | None:
        if not ID.match(case_id):
            return None
        return await queries.case(self.db, case_id)

    async def records(self, doc: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The buyer's record (arbitrators only) and the shop's."""
        buyer = await queries.buyer_record(self.db, doc.get("buyer_id"))
        shop = await shop_record(self.seller, doc.get("seller_id"))
        return buyer, shop
