"""The arbitration service's business counters (Prometheus), counted from its committed events
(`Domain.count`). `COUNTED` is every event type they read."""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter

COUNTED = frozenset({'ruling.issued', 'buyer.flagged', 'case.ruling_overdue'})

RULINGS = Counter("aftersale_rulings_total", "Rulings issued", ["outcome", "decided_by"])
BUYERS_FLAGGED = Counter("aftersale_buyers_flagged_total", "Rulings that found a buyer in misconduct")
RULINGS_OVERDUE = Counter("aftersale_rulings_overdue_total", "Cases still unruled when their ruling was due", ["round"])


def count(type_: str, data: dict[str, Any]) -> None:
    if type_ == "ruling.issued":
        RULINGS.labels(data.get("outcome", "?"), "auto" if str(data.get("decided_by", "")).startswith("auto:") else "human").inc()
    elif type_ == "buyer.flagged" and data.get("flagged_until"):
        BUYERS_FLAGGED.inc()  # a finding, not one lifted on appeal
    elif type_ == "case.ruling_overdue":
        RULINGS_OVERDUE.labels(str(data.get("round", "?"))).inc()
