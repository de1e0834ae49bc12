"""The notify service's domain as the runtime sees it: orders (messages and reminders) and users
(language, read receipts)."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from runtime.context import Context
from runtime.decision import Decision
from runtime.ownership import partition_of
from services.notify.domain.decide import ORDER_HANDLERS, USER_HANDLERS, on_reminder
from services.notify.domain.model import USER, NotifyOrder, UserPrefs
from services.notify.inbox import Inbox, parse_records


LOCALE_TTL_S = 3.0


class NotifyDomain:
    service = "notify"
    collection = "aggregates"  # "order id" and "user:<id>" keys
    consumes = CONSUMES["notify"]

    def __init__(self) -> None:
        self.inbox: Inbox | None = None
        self.aggregates: Any = None
        # user -> (valid until, locale): a language choice reaches messages within a few seconds
        self._locales: dict[str, tuple[float, str]] = {}

    def bind(self, database: Any) -> None:
        self.inbox = Inbox(database)
        self.aggregates = database[self.collection]

    async def ensure_indexes(self) -> None:
        assert self.inbox is not None
        await self.inbox.ensure_indexes()

    def partition_of(self, key: str) -> int:
        # A user aggregate lives with the partition of its messages' key: the user id.
        return partition_of(key.removeprefix(USER))

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type in USER_HANDLERS:
            return [USER + msg.data.user_id]
        if msg.type in ORDER_HANDLERS:
            return [msg.data.order_id]
        return []

    async def load_context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None) -> Any:
        """Read-only: recipients' languages, or the message a read receipt is about."""
        assert self.inbox is not None
        if key.startswith(USER):
            if msg is not None and msg.type == "locale.set" and msg.envelope.actor.id == msg.data.user_id:
                self._locales[msg.data.user_id] = (time.monotonic() + LOCALE_TTL_S, msg.data.locale)
            if msg is None or msg.type != "message.read":
                return {}
            found = await self.inbox.message(msg.data.message_id)
            return {"message": found, "already_read": bool(found) and await self.inbox.is_read(msg.data.message_id)}
        order = NotifyOrder.load(key, state)
        mentioned = [getattr(msg.data, f, None) for f in ("buyer_id", "seller_id", "user_id")] if msg else []
        users = {u for u in (order.buyer_id, order.seller_id, *mentioned) if u}
        now = time.monotonic()
        unknown = [u for u in users if self._locales.get(u, (0.0, ""))[0] < now]
        if unknown:
            found = {u: "zh-CN" for u in unknown}
            async for doc in self.aggregates.find({"_id": {"$in": [USER + u for u in unknown]}}, {"state": 1}):
                if doc.get("state"):
                    found[doc["_id"].removeprefix(USER)] = doc["state"].get("locale", "zh-CN")
            for u, loc in found.items():
                self._locales[u] = (now + LOCALE_TTL_S, loc)
            if len(self._locales) > 50000:
                self._locales.clear()
        return {"locales": {u: self._locales[u][1] for u in users}}

    async def before_publish(self, records: list[Any]) -> None:
        assert self.inbox is not None
        for env in parse_records(records):
            await self.inbox.store(env)

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        if key.startswith(USER):
            return USER_HANDLERS[msg.type](UserPrefs.load(key, state), msg, ctx)
        return ORDER_HANDLERS[msg.type](NotifyOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        if key.startswith(USER):
            return Decision.ignore()
        return on_reminder(NotifyOrder.load(key, state), name, due_at, ctx)
