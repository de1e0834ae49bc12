"""The notify service's business counters (Prometheus), counted from its committed events
(`Domain.count`). `COUNTED` is every event type they read."""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter

COUNTED = frozenset({'message.sent'})

MESSAGES_SENT = Counter("aftersale_inbox_messages_total", "In-app messages sent", ["template", "locale"])


def count(type_: str, data: dict[str, Any]) -> None:
    if type_ == "message.sent":
        MESSAGES_SENT.labels(data.get("template", "?"), data.get("locale", "?")).inc()
