"""The seller service's domain as the runtime sees it: orders (answers) and shops (credit)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from contracts.topics import SELLER_RESTRICTIONS
from runtime.api.context import Context
from runtime.api.decision import Decision
from runtime.api.domain import Domain, ViewDoc
from services.seller import metrics
from services.seller.domain import credit
from services.seller.domain.decide import HANDLERS, TIMERS
from services.seller.domain.model import SellerOrder

SHOP = "shop:"
SHOPS = "shops"  # the query model's shop credit, one document per seller
# A timeout weighs on the shop once the refund service took it (a withdrawal may have won the race).
CREDIT_HANDLERS = {"refund.state_changed": credit.seller_timed_out, "ruling.issued": credit.ruling_issued,
                   "refund.compensation_awarded": credit.compensation_awarded,
                   "complaint.ruled": credit.complaint_ruled,
                   "seller.approved": credit.return_address_given, "seller.offered": credit.return_address_given,
                   "order.paid": credit.order_paid, "refund.requested": credit.shipped_late,
                   "order.shipped_late": credit.shipped_late}


class SellerDomain(Domain):
    service = "seller"
    consumes = CONSUMES["seller"]
    timers = (*TIMERS, credit.EXPIRY_TIMER)  # answer, replacement; a shop's defects expire
    counted = metrics.COUNTED  # its business counters (services/seller/metrics.py)

    def count(self, type_: str, data: dict[str, Any]) -> None:
        metrics.count(type_, data)

    # Each shop's restrictions, for the orders' side to enforce (a shop is another aggregate).
    global_tables = (SELLER_RESTRICTIONS,)

    def route(self, msg: ParsedMessage) -> list[str]:
        keys = [msg.data.order_id] if msg.type in HANDLERS else []
        if msg.type in CREDIT_HANDLERS and getattr(msg.data, "seller_id", None) and credit.concerns_shop(msg):
            keys.append(SHOP + msg.data.seller_id)
        return keys

    def context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None,
                tables: Mapping[str, Mapping[str, Any]]) -> Any:
        if key.startswith(SHOP) or msg is None or msg.type not in ("seller.reject", "refund.requested"):
            return None
        seller_id = (msg.data.seller_id if msg.type == "refund.requested" else SellerOrder.load(key, state).seller_id) or ""
        shop = tables.get(SELLER_RESTRICTIONS, {}).get(seller_id) or {}
        return {"restrictions": shop.get("restrictions", []), "return_address": shop.get("return_address")}

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        if key.startswith(SHOP):
            return CREDIT_HANDLERS[msg.type](credit.Shop.load(key, state), msg, ctx)
        return HANDLERS[msg.type](SellerOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        if key.startswith(SHOP):
            return credit.on_expiry(credit.Shop.load(key, state), due_at, ctx)
        kind, _, refund_id = name.partition(":")
        handler = TIMERS.get(kind)
        return handler(SellerOrder.load(key, state), refund_id, due_at, ctx) if handler else Decision.ignore()

    # The query model keeps shop credit (views); the orders' answer deadlines are nobody's lookup
    # (GET /state?key= shows what the service holds).
    def views(self, key: str, state: dict[str, Any]) -> list[ViewDoc]:
        if not key.startswith(SHOP):
            return []
        shop = credit.Shop.load(key, state)
        return [ViewDoc(SHOPS, {"_id": shop.seller_id, "score": shop.score, "restrictions": shop.restrictions,
                                "orders_in_window": shop.orders_in_window, "defect_rate": round(shop.defect_rate, 4),
                                "defects": {k: d.model_dump(mode="python") for k, d in shop.defects.items()},
                                "fines": {k: f.model_dump(mode="python") for k, f in shop.fines.items()},
                                "compensations": {k: f.model_dump(mode="python")
                                                  for k, f in shop.compensations.items()},
                                "sanction": shop.sanction.model_dump(mode="python") if shop.sanction else None,
                                "return_address": shop.return_address})]
