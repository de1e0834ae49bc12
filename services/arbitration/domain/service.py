"""The arbitration service's domain as the runtime sees it (first step: it listens and logs)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.registry import CONSUMES
from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision


class ArbitrationDomain:
    service = "arbitration"
    collection = "orders"
    consumes = CONSUMES["arbitration"]

    def route(self, msg: ParsedMessage) -> list[str]:
        return []

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        return Decision.ignore()

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        return Decision.ignore()
