"""The seller service's read side: what other parts (the workbench, the operator's CLI) may read
of its query model, through these functions only, never by collection name."""
from __future__ import annotations

from typing import Any

from services.seller.domain.service import SHOPS


async def shop_record(db: Any, seller_id: str | None) -> dict[str, Any] | None:
    return await db[SHOPS].find_one({"_id": seller_id}) if seller_id else None
