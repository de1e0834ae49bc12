"""The arbitration service's domain as the runtime sees it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from runtime.context import Context
from runtime.decision import Decision
from runtime.domain import Domain, ViewDoc
from services.arbitration.domain.decide import HANDLERS, TIMERS
from services.arbitration.domain.model import ArbitrationOrder


CASES = "cases"  # the query model's collection of cases


class ArbitrationDomain(Domain):
    service = "arbitration"
    # The query model keeps the cases (views), which hold what an arbitrator reads of the order;
    # the order aggregates themselves are behind GET /state?key=.
    collection = None
    consumes = CONSUMES["arbitration"]

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type not in HANDLERS:
            return []
        return [msg.data.order_id]

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        return HANDLERS[msg.type](ArbitrationOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        kind, _, case_id = name.partition(":")
        handler = TIMERS.get(kind)
        return handler(ArbitrationOrder.load(key, state), case_id, due_at, ctx) if handler else Decision.ignore()

    def views(self, key: str, state: dict[str, Any]) -> list[ViewDoc]:
        """One document per case for the arbitrators' queue and case pages (`aftersale cases`, `case`)."""
        order = ArbitrationOrder.load(key, state)
        out = []
        for c in order.cases.values():
            request = order.requests.get(c.refund_id or "")
            out.append(ViewDoc(CASES, {
                "_id": c.case_id, "order_id": order.order_id, "buyer_id": order.buyer_id,
                "seller_id": order.seller_id, "paid_fen": order.paid_fen, "status": c.status, "round": c.round,
                "opened_by": c.opened_by, "reason": c.reason, "opened_at": c.opened_at,
                "ruling_due_at": c.ruling_due_at, "overdue": c.overdue, "case": c.model_dump(mode="python"),
                "request": request.model_dump(mode="python") if request else None}))
        return out
