"""The interface a service's domain offers the runtime. Pure: no I/O in any of these."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision


class Domain(Protocol):
    service: str  # "refund", "seller", ...
    collection: str  # where its aggregates live
    consumes: tuple[str, ...]  # topics

    def route(self, msg: ParsedMessage) -> list[str]:
        """The aggregate keys a message concerns, in the order they are to be applied."""

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        """Apply one message to one aggregate."""

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        """A deadline of this aggregate passed."""


class WithContext(Protocol):
    """Optional: a domain that needs read-only facts from other documents before it decides
    (the notify service reads recipients' language). The decision itself stays pure."""

    async def load_context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None) -> Any: ...


class WithOutboxEffects(Protocol):
    """Optional: side effects in the service's own database that must happen for each outgoing
    event before it is published, and again if a crash makes the relay publish it (idempotent)."""

    async def before_publish(self, records: list[Any]) -> None: ...


class WithDatabase(Protocol):
    def bind(self, database: Any) -> None: ...
