"""The arbitration service's domain as the runtime sees it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from runtime.context import Context
from runtime.decision import Decision
from services.arbitration.domain.decide import HANDLERS, TIMERS
from services.arbitration.domain.model import ArbitrationOrder


class ArbitrationDomain:
    service = "arbitration"
    collection = "orders"
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
