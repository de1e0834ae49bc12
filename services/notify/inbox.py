"""The inbox (站内信) in the notify service's query model: one document per message, one read
receipt per message read. The view writer inserts them from notify.events; they are read through
services/notify/queries.py."""
from __future__ import annotations

from datetime import datetime
from typing import Any

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
