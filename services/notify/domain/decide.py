"""Which message each event sends to whom, and which reminders it sets or cancels: the request's
(refund.events, seller.events), the reminders, a user's inbox; a case's are in cases.py. Pure: the
recipients' languages come in through `ctx.extra`."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision, actor_of
from services.notify.domain.cases import (
    COMPLAINT_HANDLERS, account_sanction_lifted, account_sanctioned, case_awaiting_ruling, case_closed, case_opened, case_ruling_overdue,
    evidence_requested, evidence_submitted, funds_moved, ruling_appealed, ruling_issued,
)
from services.notify.domain.collector import REMIND_STATES, NotifyCollector, forget, learn, out, remind
from services.notify.domain.model import NotifyOrder, UserPrefs


# ---- refund.events -------------------------------------------------------------------------


def refund_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    learn(agg, d)
    agg.kinds[d.refund_id] = d.kind
    c = out(agg, msg, ctx)
    if d.late_shipment:  # not shipped by its ship_by: cancelled at once, and it counts against the shop
        c.send("seller", "cancelled_late_shipment", amount_fen=d.amount_fen)
    elif d.auto_approved:
        c.send("seller", "refund_unshipped", amount_fen=d.amount_fen)  # do not ship: the order is cancelled
    else:
        c.send("seller", "refund_requested", kind=d.kind, reason=d.reason, amount_fen=d.amount_fen, due=d.seller_due_at)
    return c.decision()


def refund_state_changed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    learn(agg, d)
    agg.kinds[d.refund_id] = d.kind
    c = out(agg, msg, ctx)
    forget(agg, d.refund_id)  # whoever had to act either did, or the deadline changed
    if d.state in REMIND_STATES and d.awaiting in ("buyer", "seller") and d.due_at:
        remind(agg, d.refund_id, d.awaiting, d.state, d.due_at, ctx)
    if d.state == "return_pending" and d.previous_state != "return_pending":
        address = d.return_address.model_dump() if d.return_address else None
        c.send("buyer", "return_requested", due=d.due_at, return_address=address)
    elif d.state == "return_in_transit" and d.previous_state == "return_pending":
        c.send("seller", "return_shipped", carrier=d.return_carrier or "-", tracking_no=d.return_tracking_no or "-")
    elif d.seller_timeout_taken:
        c.send("buyer", "seller_timed_out")  # the refund service took the timeout: no withdrawal came first
    elif d.state == "rejected" and d.cause == "seller.rejected":
        c.send("buyer", "seller_rejected", reason=agg.rejection_reasons.get(d.refund_id, "other"), due=d.due_at)
    elif d.previous_state == "return_in_transit" and d.return_received_by == "auto":
        c.send("buyer", "return_received", receiver="auto")
    if d.state == "replacement_pending" and d.previous_state != "replacement_pending":
        c.send("seller", "replacement_requested", due=d.due_at)  # the goods are back: ship the replacement
    elif d.state == "payout_failed" and d.previous_state != "payout_failed":
        c.send("buyer", "payout_delayed")  # parked for an operator: the buyer hears why the money is late
    return c.decision()


def offer_lapsed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "offer_lapsed", due=msg.data.due_at)
    return c.decision()


def payout_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """The refund is ordered: the buyer hears by when it arrives (once; retries say nothing)."""
    d = msg.data
    if d.attempt != 1 or d.promised_by is None:
        return Decision.ignore()
    c = out(agg, msg, ctx)
    c.send("buyer", "refund_on_its_way", amount_fen=d.amount_fen, due=d.promised_by)
    return c.decision()


def refund_completed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.send("buyer", "refund_paid", amount_fen=d.amount_fen, refund_to=d.refund_to)
    return c.decision()


def shipped_late(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.to_user(msg.data.seller_id, "shipped_late", due=msg.data.ship_by)
    return c.decision()


def postage_repaid(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.send("buyer", "postage_repaid", amount_fen=msg.data.amount_fen)
    return c.decision()


def seller_compensated(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.to_user(msg.data.seller_id, "seller_compensated", amount_fen=msg.data.amount_fen)
    return c.decision()


def compensation_awarded(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """The seller hears what its deposit does: what an appeal gives back, what is drawn."""
    d = msg.data
    c = out(agg, msg, ctx)
    if d.previous_fen:
        c.to_user(d.seller_id, "compensation_lifted", case_id=d.case_id, amount_fen=d.previous_fen)
    if d.amount_fen:
        c.to_user(d.seller_id, "compensation_charged", case_id=d.case_id, amount_fen=d.amount_fen)
    return c.decision()


def compensation_paid(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.to_user(msg.data.buyer_id, "compensation_received", case_id=msg.data.case_id, amount_fen=msg.data.amount_fen)
    return c.decision()


def refund_closed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    forget(agg, d.refund_id)
    c = out(agg, msg, ctx)
    if d.why == "cancelled":
        c.send("seller", "refund_withdrawn")
    elif d.why in ("expired", "rejected_final"):
        c.send("buyer", "request_closed", why=d.why)
    return c.decision()


def offer_answered(template: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = out(agg, msg, ctx)
        c.send("seller", template, offer=d.offer.model_dump() if d.offer else None,
                 message=getattr(d, "message", None) or "-")
        return c.decision()
    return handle


def conversation_posted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    learn(agg, d)
    c = out(agg, msg, ctx)
    other = "seller" if d.author_role == "buyer" else "buyer"
    c.send(other, "conversation_post", party=d.author_role, text=d.text, attachments=len(d.attachments))
    return c.decision()


# ---- seller.events -------------------------------------------------------------------------


def seller_approved(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.send("buyer", "seller_approved", kind=agg.kinds.get(msg.data.refund_id, "refund_only"))
    return c.decision()


def seller_offered(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    # A newer offer moves the buyer's deadline within offer_pending (no state change says so).
    remind(agg, d.refund_id, "buyer", "offer_pending", d.buyer_due_at, ctx)
    c = out(agg, msg, ctx)
    c.send("buyer", "offer_received", offer=d.offer.model_dump(), message=d.message or "-", due=d.buyer_due_at)
    return c.decision()


def seller_rejected(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    agg.rejection_reasons[msg.data.refund_id] = msg.data.reason  # said with the buyer's new deadline
    return NotifyCollector(agg, ctx, msg.event_id).decision()


def seller_return_received(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.send("buyer", "return_received", receiver="seller")
    return c.decision()


def seller_replacement_shipped(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = out(agg, msg, ctx)
    c.send("buyer", "replacement_shipped", carrier=msg.data.carrier, tracking_no=msg.data.tracking_no)
    return c.decision()


def to_seller(template: str, **fields: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    """A message to the shop's seller (the event names it), its words from the event's fields:
    template parameter = data field."""
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = out(agg, msg, ctx)
        c.to_user(d.seller_id, template, **{param: getattr(d, field) for param, field in fields.items()})
        return c.decision()
    return handle


# ---- reminders -------------------------------------------------------------------------


def on_reminder(agg: NotifyOrder, name: str, due: datetime, ctx: Context) -> Decision:
    r = agg.reminders.get(name)
    if r is None or r.fire_at != due:
        return Decision.ignore()  # the party acted, or the deadline moved
    del agg.reminders[name]
    c = NotifyCollector(agg, ctx, f"{name}|{r.due_at.isoformat()}")
    c.send(r.party, "deadline_near", task=r.task, due=r.due_at)
    return c.decision()


# ---- notify.commands (keyed by user) ----------------------------------------------------------


def message_sent(prefs: UserPrefs, msg: ParsedMessage, ctx: Context) -> Decision:
    """The user's inbox learns of a message (notify reads its own notify.events, keyed by user)."""
    d = msg.data
    if d.message_id in prefs.messages:
        return Decision.ignore()
    prefs.remember(d.message_id, d.order_id)
    return Collector(prefs, ctx).decision()


def message_read(prefs: UserPrefs, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    actor = msg.envelope.actor
    if actor.id != d.user_id:
        return Decision.refuse("not_recipient", "only the recipient may mark a message read")
    found = prefs.messages.get(d.message_id)
    if found is None:
        return Decision.refuse("unknown_message", f"no message {d.message_id} for this user")
    if found.read:
        return Decision.ignore()
    found.read = True
    c = Collector(prefs, ctx, actor_of(msg))
    c.emit("message.marked_read", {"message_id": d.message_id, "user_id": d.user_id, "order_id": found.order_id},
           by_actor=True)
    return c.decision()


def locale_set(prefs: UserPrefs, msg: ParsedMessage, ctx: Context) -> Decision:
    if msg.envelope.actor.id != msg.data.user_id:
        return Decision.refuse("not_owner", "users set their own language")
    prefs.locale = msg.data.locale
    # Every notify instance keeps users' languages (a global table): messages about any order read it.
    c = Collector(prefs, ctx)
    c.emit("locale.changed", {"user_id": prefs.user_id, "locale": prefs.locale})
    return c.decision()


ORDER_HANDLERS: dict[str, Callable[[NotifyOrder, ParsedMessage, Context], Decision]] = {
    "refund.requested": refund_requested,
    "refund.state_changed": refund_state_changed,
    "refund.completed": refund_completed,
    "order.shipped_late": shipped_late,
    "refund.closed": refund_closed,
    "refund.postage_repaid": postage_repaid,
    "refund.seller_compensated": seller_compensated,
    "refund.compensation_awarded": compensation_awarded,
    "refund.payout_requested": payout_requested,
    "funds.held": funds_moved("funds_held"),
    "account.sanctioned": account_sanctioned,
    "account.sanction_lifted": account_sanction_lifted,
    "funds.released": funds_moved("funds_released"),
    "refund.compensation_paid": compensation_paid,
    "refund.offer_accepted": offer_answered("offer_accepted"),
    "refund.offer_declined": offer_answered("offer_declined"),
    "refund.offer_lapsed": offer_lapsed,
    "conversation.posted": conversation_posted,
    "seller.offered": seller_offered,
    "seller.penalized": to_seller("seller_penalized", case_id="case_id", amount_fen="amount_fen"),
    "seller.penalty_refunded": to_seller("penalty_refunded", case_id="case_id", amount_fen="amount_fen"),
    "seller.approved": seller_approved,
    "seller.rejected": seller_rejected,
    "seller.return_received": seller_return_received,
    "seller.replacement_shipped": seller_replacement_shipped,
    "shop.restricted": to_seller("shop_restricted", restriction="restriction", defects="defects_in_window"),
    "shop.restored": to_seller("shop_restored", restriction="restriction", defects="defects_in_window"),
    "case.opened": case_opened,
    "evidence.submitted": evidence_submitted,
    "evidence.requested": evidence_requested,
    "case.awaiting_ruling": case_awaiting_ruling,
    "case.ruling_overdue": case_ruling_overdue,
    "ruling.issued": ruling_issued,
    "ruling.appealed": ruling_appealed,
    "case.closed": case_closed,
    **COMPLAINT_HANDLERS,
}
USER_HANDLERS: dict[str, Callable[[UserPrefs, ParsedMessage, Context], Decision]] = {
    "message.sent": message_sent,
    "message.read": message_read,
    "locale.set": locale_set,
}
