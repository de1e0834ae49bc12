"""The refund service's business counters (Prometheus), counted from its committed events
(`Domain.count`). `COUNTED` is every event type they read."""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter

COUNTED = frozenset({'refund.closed', 'refund.completed', 'payout.request', 'refund.postage_repaid'})

REFUNDS_CLOSED = Counter("aftersale_refunds_closed_total", "After-sale requests closed", ["why"])
REFUNDED_FEN = Counter("aftersale_refunded_fen_total", "Money that reached buyers, in fen")
PAYOUTS_REQUESTED = Counter("aftersale_payouts_requested_total", "payout.request sent (retries included)")
POSTAGE_REPAID_FEN = Counter("aftersale_postage_repaid_fen_total", "Return postage repaid to buyers, in fen")


def count(type_: str, data: dict[str, Any]) -> None:
    if type_ == "refund.closed":
        REFUNDS_CLOSED.labels(data.get("why", "?")).inc()
    elif type_ == "refund.completed":
        REFUNDED_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ == "payout.request":
        PAYOUTS_REQUESTED.inc()
    elif type_ == "refund.postage_repaid":
        POSTAGE_REPAID_FEN.inc(int(data.get("amount_fen", 0)))
