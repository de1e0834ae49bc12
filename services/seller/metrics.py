"""The seller service's business counters (Prometheus), counted from its committed events
(`Domain.count`). `COUNTED` is every event type they read."""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter

COUNTED = frozenset({'seller.penalized', 'seller.penalty_refunded', 'shop.restricted', 'shop.restored'})

FINES_FEN = Counter("aftersale_fines_fen_total", "Fines deducted from sellers' deposits, in fen")
FINES_REFUNDED_FEN = Counter("aftersale_fines_refunded_fen_total", "Fines given back after an appeal, in fen")
RESTRICTIONS = Counter("aftersale_shop_restrictions_total", "Shops restricted or restored, by level", ["level", "change"])


def count(type_: str, data: dict[str, Any]) -> None:
    if type_ == "seller.penalized":
        FINES_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ == "seller.penalty_refunded":
        FINES_REFUNDED_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ in ("shop.restricted", "shop.restored"):
        RESTRICTIONS.labels(data.get("restriction", "?"), type_.removeprefix("shop.")).inc()
