"""Each service's history: every event of its topics, kept for good in its query model (timelines
outlive the topics' retention). The view writer writes it; `history_of` is the one way to read it."""
from __future__ import annotations

from typing import Any

HISTORY = "history"


async def history_of(db: Any, order_id: str) -> list[dict[str, Any]]:
    """An order's events as one service's query model keeps them (`history`, for good), unordered.
    `aftersale timeline` merges every service's."""
    return [d async for d in db[HISTORY].find({"order_id": order_id})]


def history_doc(topic: str, partition: int, offset: int, timestamp: int, env: dict[str, Any],
                text: str) -> dict[str, Any]:
    """An event as it was sent (`text`, the record's JSON), with what it is looked up and sorted by."""
    data = env.get("data") if isinstance(env.get("data"), dict) else {}
    return {"_id": f"{topic}:{partition}:{offset}", "order_id": data.get("order_id"), "topic": topic,
            "type": env.get("type"), "event_id": env.get("event_id"), "occurred_at": env.get("occurred_at"),
            "ts": timestamp, "value": text}
