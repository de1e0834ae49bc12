"""The seller service's domain as the runtime sees it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.registry import CONSUMES
from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision
from services.seller.domain.decide import ANSWER_TIMER, HANDLERS, on_answer_deadline
from services.seller.domain.model import SellerOrder


class SellerDomain:
    service = "seller"
    collection = "orders"
    consumes = CONSUMES["seller"]

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type not in HANDLERS:
            return []
        return [msg.data.order_id]

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        return HANDLERS[msg.type](SellerOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        kind, _, refund_id = name.partition(":")
        if kind != ANSWER_TIMER:
            return Decision.ignore()
        return on_answer_deadline(SellerOrder.load(key, state), refund_id, due_at, ctx)
