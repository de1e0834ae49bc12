"""What one notify decision shares: the collector that sends messages in the recipients' languages
and keeps the reminders, and how a party is learnt, reminded and forgotten. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts.parsing import ParsedMessage
from runtime.api.context import Context, derived_uuid
from runtime.api.decision import Collector
from services.notify.domain.model import NotifyOrder, Reminder
from services.notify.domain.templates import DEFAULT_LOCALE, render

REMINDER = "remind"  # the one deadline notify keeps: "remind:<request or case>:<party>"
# Refund states in which a party has a deadline worth a reminder, and whose it is.
REMIND_STATES = {"requested", "offer_pending", "rejected", "return_pending", "return_in_transit", "replacement_pending"}


class NotifyCollector(Collector[NotifyOrder]):
    """What one event (or reminder) sends: messages in the recipients' languages, and the reminders
    left pending."""

    def __init__(self, agg: NotifyOrder, ctx: Context, cause: str) -> None:
        super().__init__(agg, ctx)
        self.cause = cause  # what the message ids derive from: the event's id, or the reminder's

    def send(self, to: str, template: str, **params: Any) -> None:
        """To the buyer or the seller (`to`); the params may name a party of their own."""
        user_id = self.agg.user(to)
        if not user_id:
            return  # we do not know who that is yet; nothing to address
        self.to_user(user_id, template, **params)

    def to_user(self, user_id: str, template: str, **params: Any) -> None:
        locales = (self.ctx.extra or {}).get("locales", {})
        locale = locales.get(user_id, DEFAULT_LOCALE)
        title, body = render(template, locale, {"order_id": self.agg.order_id, **params})
        # One message per (event, recipient, template): a replayed event produces the same id.
        message_id = derived_uuid("message", self.cause, user_id, template)
        self.emit("message.sent", {
            "message_id": message_id, "user_id": user_id, "order_id": self.agg.order_id, "template": template,
            "title": title, "body": body, "locale": locale,
        })
        self.agg.sent += 1

    def timers(self) -> dict[str, datetime]:
        return {name: r.fire_at for name, r in self.agg.reminders.items()}


def learn(agg: NotifyOrder, d: Any) -> None:
    agg.buyer_id = getattr(d, "buyer_id", None) or agg.buyer_id
    agg.seller_id = getattr(d, "seller_id", None) or agg.seller_id


def remind(agg: NotifyOrder, ref: str, party: str, task: str, due: datetime | None, ctx: Context) -> None:
    name = f"{REMINDER}:{ref}:{party}"
    agg.reminders.pop(name, None)
    if due is None:
        return
    fire_at = due - timedelta(seconds=ctx.settings.reminder_lead_s)
    if fire_at > ctx.now:
        agg.reminders[name] = Reminder(party=party, task=task, due_at=due, fire_at=fire_at)


def forget(agg: NotifyOrder, ref: str, party: str | None = None) -> None:
    for name in [n for n in agg.reminders if n.startswith(f"{REMINDER}:{ref}:") and (party is None or n.endswith(f":{party}"))]:
        del agg.reminders[name]


def out(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> NotifyCollector:
    learn(agg, msg.data)  # every event that names the parties tells us who they are, whatever came first
    return NotifyCollector(agg, ctx, msg.event_id)
