"""The refund service's read side: what other parts (the operator's CLI, tests, tools) may read of
its query model, through these functions only, never by collection name."""
from __future__ import annotations

import json
from typing import Any

from services.refund.domain.service import ORDERS, POSTS


def order_file(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """An order document as the query model holds it, with its aggregate read back into a dict
    (a document written before it became JSON text has it as a dict already)."""
    if doc is None:
        return None
    return {**doc, "state": json.loads(doc["state"])} if isinstance(doc.get("state"), str) else dict(doc)


async def read_order(db: Any, order_id: str) -> dict[str, Any] | None:
    """An order from the query model, whole: its document, its aggregate read back, and each
    conversation post's text and attachments from its own document (`posts`)."""
    file = order_file(await db[ORDERS].find_one({"_id": order_id}))
    if file is None:
        return None
    posts = [p for r in (file["state"].get("refunds") or {}).values() for p in r.get("posts") or []]
    ids = [p["post_id"] for p in posts if not p.get("text")]
    docs = {d["_id"]: d async for d in db[POSTS].find({"_id": {"$in": ids}})} if ids else {}
    for p in posts:
        if p["post_id"] in docs:
            p.update(text=docs[p["post_id"]].get("text", ""), attachments=docs[p["post_id"]].get("attachments", []))
    return file
