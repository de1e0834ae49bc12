"""The arbitration service's read side: what other parts (the operator's CLI) may read of its
query model, through these functions only, never by collection name."""
from __future__ import annotations

from typing import Any

from services.arbitration.domain.service import BUYERS, CASES, case_file, read_case

AWAITING_RULING = "awaiting_ruling"


async def awaiting_ruling(db: Any, limit: int) -> list[dict[str, Any]]:
    """Case files awaiting a ruling, the oldest due first."""
    cursor = db[CASES].find({"status": AWAITING_RULING}).sort("ruling_due_at", 1).limit(limit)
    return [file async for doc in cursor if (file := case_file(doc)) is not None]


async def case(db: Any, case_id: str) -> dict[str, Any] | None:
    """A case file, whole (what it holds by reference filled in)."""
    return await read_case(db, case_id)


async def buyer_record(db: Any, buyer_id: str | None) -> dict[str, Any] | None:
    """A buyer's record (orders, requests, refund rate, misconduct): for arbitrators, never sellers."""
    return await db[BUYERS].find_one({"_id": buyer_id}) if buyer_id else None
