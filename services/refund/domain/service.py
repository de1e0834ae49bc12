"""The refund service's domain as the runtime sees it: routing, decisions and deadlines."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts import topics
from contracts.registry import CONSUMES
from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision
from runtime.domain import Domain
from services.refund.domain.decide import HANDLERS, on_deadline
from services.refund.domain.model import OrderRefunds


class RefundDomain(Domain):
    service = "refund"
    collection = "orders"
    consumes = CONSUMES["refund"]
    # Timelines start with the order and follow the money: the outside systems' topics too.
    history_topics = (topics.REFUND_COMMANDS, topics.REFUND_EVENTS, topics.ORDERS_EVENTS, topics.PAYMENTS_COMMANDS,
                      topics.PAYMENTS_EVENTS)

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type not in HANDLERS:
            return []  # e.g. shop credit events on seller.events: not ours
        return [msg.data.order_id]

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        return HANDLERS[msg.type](OrderRefunds.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        trigger, _, refund_id = name.partition(":")
        return on_deadline(OrderRefunds.load(key, state), trigger, refund_id, due_at, ctx)
