"""Which message each event sends to whom, and which reminders it sets or cancels. Pure: the
recipients' languages come in through `ctx.extra`."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context, derived_uuid
from runtime.api.decision import Collector, Decision, actor_of
from services.notify.domain.model import NotifyOrder, Reminder, UserPrefs
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


def _learn(agg: NotifyOrder, d: Any) -> None:
    agg.buyer_id = getattr(d, "buyer_id", None) or agg.buyer_id
    agg.seller_id = getattr(d, "seller_id", None) or agg.seller_id


def _remind(agg: NotifyOrder, ref: str, party: str, task: str, due: datetime | None, ctx: Context) -> None:
    name = f"{REMINDER}:{ref}:{party}"
    agg.reminders.pop(name, None)
    if due is None:
        return
    fire_at = due - timedelta(seconds=ctx.settings.reminder_lead_s)
    if fire_at > ctx.now:
        agg.reminders[name] = Reminder(party=party, task=task, due_at=due, fire_at=fire_at)


def _forget(agg: NotifyOrder, ref: str, party: str | None = None) -> None:
    for name in [n for n in agg.reminders if n.startswith(f"{REMINDER}:{ref}:") and (party is None or n.endswith(f":{party}"))]:
        del agg.reminders[name]


def _out(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> NotifyCollector:
    _learn(agg, msg.data)  # every event that names the parties tells us who they are, whatever came first
    return NotifyCollector(agg, ctx, msg.event_id)


# ---- refund.events -------------------------------------------------------------------------


def refund_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _learn(agg, d)
    agg.kinds[d.refund_id] = d.kind
    c = _out(agg, msg, ctx)
    if d.late_shipment:  # not shipped by its ship_by: cancelled at once, and it counts against the shop
        c.send("seller", "cancelled_late_shipment", amount_fen=d.amount_fen)
    elif d.auto_approved:
        c.send("seller", "refund_unshipped", amount_fen=d.amount_fen)  # do not ship: the order is cancelled
    else:
        c.send("seller", "refund_requested", kind=d.kind, reason=d.reason, amount_fen=d.amount_fen, due=d.seller_due_at)
    return c.decision()


def refund_state_changed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _learn(agg, d)
    agg.kinds[d.refund_id] = d.kind
    c = _out(agg, msg, ctx)
    _forget(agg, d.refund_id)  # whoever had to act either did, or the deadline changed
    if d.state in REMIND_STATES and d.awaiting in ("buyer", "seller") and d.due_at:
        _remind(agg, d.refund_id, d.awaiting, d.state, d.due_at, ctx)
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
    c = _out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "offer_lapsed", due=msg.data.due_at)
    return c.decision()


def payout_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """The refund is ordered: the buyer hears by when it arrives (once; retries say nothing)."""
    d = msg.data
    if d.attempt != 1 or d.promised_by is None:
        return Decision.ignore()
    c = _out(agg, msg, ctx)
    c.send("buyer", "refund_on_its_way", amount_fen=d.amount_fen, due=d.promised_by)
    return c.decision()


def refund_completed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = _out(agg, msg, ctx)
    c.send("buyer", "refund_paid", amount_fen=d.amount_fen, refund_to=d.refund_to)
    return c.decision()


def shipped_late(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.to_user(msg.data.seller_id, "shipped_late", due=msg.data.ship_by)
    return c.decision()


def postage_repaid(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.send("buyer", "postage_repaid", amount_fen=msg.data.amount_fen)
    return c.decision()


def seller_compensated(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.to_user(msg.data.seller_id, "seller_compensated", amount_fen=msg.data.amount_fen)
    return c.decision()


def compensation_awarded(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """The seller hears what its deposit does: what an appeal gives back, what is drawn."""
    d = msg.data
    c = _out(agg, msg, ctx)
    if d.previous_fen:
        c.to_user(d.seller_id, "compensation_lifted", case_id=d.case_id, amount_fen=d.previous_fen)
    if d.amount_fen:
        c.to_user(d.seller_id, "compensation_charged", case_id=d.case_id, amount_fen=d.amount_fen)
    return c.decision()


def compensation_paid(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.to_user(msg.data.buyer_id, "compensation_received", case_id=msg.data.case_id, amount_fen=msg.data.amount_fen)
    return c.decision()


def refund_closed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _forget(agg, d.refund_id)
    c = _out(agg, msg, ctx)
    if d.why == "cancelled":
        c.send("seller", "refund_withdrawn")
    elif d.why in ("expired", "rejected_final"):
        c.send("buyer", "request_closed", why=d.why)
    return c.decision()


def offer_answered(template: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = _out(agg, msg, ctx)
        c.send("seller", template, offer=d.offer.model_dump() if d.offer else None,
                 message=getattr(d, "message", None) or "-")
        return c.decision()
    return handle


def conversation_posted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _learn(agg, d)
    c = _out(agg, msg, ctx)
    other = "seller" if d.author_role == "buyer" else "buyer"
    c.send(other, "conversation_post", party=d.author_role, text=d.text, attachments=len(d.attachments))
    return c.decision()


# ---- seller.events -------------------------------------------------------------------------


def seller_approved(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.send("buyer", "seller_approved", kind=agg.kinds.get(msg.data.refund_id, "refund_only"))
    return c.decision()


def seller_offered(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    # A newer offer moves the buyer's deadline within offer_pending (no state change says so).
    _remind(agg, d.refund_id, "buyer", "offer_pending", d.buyer_due_at, ctx)
    c = _out(agg, msg, ctx)
    c.send("buyer", "offer_received", offer=d.offer.model_dump(), message=d.message or "-", due=d.buyer_due_at)
    return c.decision()


def seller_rejected(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    agg.rejection_reasons[msg.data.refund_id] = msg.data.reason  # said with the buyer's new deadline
    return NotifyCollector(agg, ctx, msg.event_id).decision()


def seller_return_received(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.send("buyer", "return_received", receiver="seller")
    return c.decision()


def seller_replacement_shipped(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    c = _out(agg, msg, ctx)
    c.send("buyer", "replacement_shipped", carrier=msg.data.carrier, tracking_no=msg.data.tracking_no)
    return c.decision()


def to_seller(template: str, **fields: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    """A message to the shop's seller (the event names it), its words from the event's fields:
    template parameter = data field."""
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = _out(agg, msg, ctx)
        c.to_user(d.seller_id, template, **{param: getattr(d, field) for param, field in fields.items()})
        return c.decision()
    return handle


# ---- arbitration.events -------------------------------------------------------------------------


def case_opened(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _learn(agg, d)
    c = _out(agg, msg, ctx)
    if d.asks_evidence:  # a case an automatic rule decides asks nobody for evidence (ruled at once, or queued)
        for party in ("buyer", "seller"):
            if d.opened_by == "platform":  # the platform's own investigation says why
                c.send(party, "platform_case_opened", case_id=d.case_id, reason=d.reason, due=d.evidence_due_at)
            else:
                c.send(party, "case_opened", case_id=d.case_id, due=d.evidence_due_at)
            if party != d.opened_by:  # the opener's filing is its evidence already
                _remind(agg, d.case_id, party, "evidence", d.evidence_due_at, ctx)
    return c.decision()


def evidence_submitted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _forget(agg, d.case_id, d.party)
    c = _out(agg, msg, ctx)
    if d.evidence_count:
        other = "seller" if d.party == "buyer" else "buyer"
        c.send(other, "evidence_added", case_id=d.case_id, party=d.party, count=d.evidence_count)
    return c.decision()


def evidence_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = _out(agg, msg, ctx)
    c.to_user(d.user_id, "evidence_requested", case_id=d.case_id, due=d.due_at)
    _remind(agg, d.case_id, d.party, "evidence", d.due_at, ctx)
    return c.decision()


def case_awaiting_ruling(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _forget(agg, d.case_id)
    c = _out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "case_in_queue", case_id=d.case_id, due=d.ruling_due_at)
    return c.decision()


def case_ruling_overdue(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = _out(agg, msg, ctx)
    c.to_user(ctx.settings.arbitration_desk, "ruling_overdue", case_id=d.case_id, due=d.ruling_due_at)
    return c.decision()


def ruling_issued(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _learn(agg, d)
    _forget(agg, d.case_id)
    c = _out(agg, msg, ctx)
    finding = "fined" if d.penalty_fen else "at_fault" if d.seller_at_fault else "no_breach"
    for party in ("buyer", "seller"):
        if d.refund_id is None:  # no request to refund or reject: what the platform found is the news
            c.send(party, "case_ruled", case_id=d.case_id, finding=finding, penalty_fen=d.penalty_fen,
                   reasoning=d.reasoning, round=str(d.round), appeal_until=d.appealable_until)
        else:
            c.send(party, "ruling_issued", case_id=d.case_id, outcome=d.outcome, amount_fen=d.refund_fen,
                   shipping=d.return_shipping_paid_by, reasoning=d.reasoning, round=str(d.round),
                   appeal_until=d.appealable_until)
        if d.appealable_until:  # each party may appeal once: remind both before the window closes
            _remind(agg, d.case_id, party, "appeal", d.appealable_until, ctx)
    return c.decision()


def funds_moved(template: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    """A hold begins or ends: both parties hear whose settlement it is."""
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = _out(agg, msg, ctx)
        for party in ("buyer", "seller"):
            c.send(party, template, case_id=d.case_id, party=d.party, note=d.reason.strip().rstrip("。."))
        return c.decision()
    return handle


def account_sanctioned(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = _out(agg, msg, ctx)
    c.to_user(d.party_id, "account_sanctioned", level=d.level, case_id=d.case_id or "-",
              until=d.until if d.until else None)
    return c.decision()


def account_sanction_lifted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = _out(agg, msg, ctx)
    c.to_user(d.party_id, "account_sanction_lifted", level=d.level, case_id=d.case_id or "-")
    return c.decision()


def ruling_appealed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _forget(agg, d.case_id)  # the appeal reminders: one was used, the other party's turns into evidence
    c = _out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "ruling_appealed", case_id=d.case_id, party=d.party, due=d.evidence_due_at)
        if party != d.party:  # the appeal carries the appellant's evidence
            _remind(agg, d.case_id, party, "evidence", d.evidence_due_at, ctx)
    return c.decision()


def case_closed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    _forget(agg, d.case_id)
    c = _out(agg, msg, ctx)
    if d.why in ("request_closed", "request_settled"):  # the case will not rule, or its ruling not be carried out
        for party in ("buyer", "seller"):
            c.send(party, "case_ended", case_id=d.case_id)
    return c.decision()


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
}
USER_HANDLERS: dict[str, Callable[[UserPrefs, ParsedMessage, Context], Decision]] = {
    "message.sent": message_sent,
    "message.read": message_read,
    "locale.set": locale_set,
}
