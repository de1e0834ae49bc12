"""The notify service's domain as the runtime sees it: orders (messages and reminders) and users
(language, which messages they have and have read)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from contracts.topics import NOTIFY_EVENTS, NOTIFY_LOCALES
from runtime.api.context import Context
from runtime.api.decision import Decision
from runtime.api.domain import Domain, ViewDoc
from runtime.stream.ownership import partition_of
from services.notify import metrics
from services.notify.domain.collector import REMINDER
from services.notify.domain.cases import COMPLAINT_HANDLERS
from services.notify.domain.decide import ORDER_HANDLERS, USER_HANDLERS, on_reminder
from services.notify.domain.model import USER, NotifyOrder, UserPrefs
from services.notify.domain.templates import DEFAULT_LOCALE
from services.notify.inbox import inbox_views


class NotifyDomain(Domain):
    service = "notify"
    consumes = CONSUMES["notify"]
    timers = (REMINDER,)  # a reminder before a party's deadline
    counted = metrics.COUNTED  # its business counters (services/notify/metrics.py)

    def count(self, type_: str, data: dict[str, Any]) -> None:
        metrics.count(type_, data)

    global_tables = (NOTIFY_LOCALES,)

    def partition_of(self, key: str) -> int:
        # A user's aggregate lives where their messages' key (the user id) puts it.
        return partition_of(key.removeprefix(USER))

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type in USER_HANDLERS:
            return [USER + msg.data.user_id]
        if msg.type in COMPLAINT_HANDLERS:  # a complaint belongs to no order: its messages name it instead
            return ["complaint:" + msg.data.complaint_id]
        if msg.type in ORDER_HANDLERS and msg.data.order_id:  # a sanction may come of no order's case
            return [msg.data.order_id]
        return []

    def context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None,
                tables: Mapping[str, Mapping[str, Any]]) -> Any:
        """The recipients' languages, from the global table every instance keeps."""
        if key.startswith(USER):
            return None
        order = NotifyOrder.load(key, state)
        mentioned = [getattr(msg.data, f, None) for f in ("buyer_id", "seller_id", "user_id", "party_id", "complainant_id",
                                                                    "against_seller_id")] if msg else []
        locales = tables.get(NOTIFY_LOCALES, {})
        users = {u for u in (order.buyer_id, order.seller_id, *mentioned) if u}
        return {"locales": {u: (locales.get(u) or {}).get("locale", DEFAULT_LOCALE) for u in users}}

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        if key.startswith(USER):
            return USER_HANDLERS[msg.type](UserPrefs.load(key, state), msg, ctx)
        return ORDER_HANDLERS[msg.type](NotifyOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        if key.startswith(USER):
            return Decision.ignore()
        return on_reminder(NotifyOrder.load(key, state), name, due_at, ctx)

    # Its aggregates (reminders per order, message ids per user) are nobody's lookup: the inbox
    # and the read receipts are projected from its events instead.
    def project(self, topic: str, envelope: dict[str, Any]) -> list[ViewDoc]:
        return inbox_views(envelope) if topic == NOTIFY_EVENTS else []
