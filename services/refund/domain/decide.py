"""What each message does to an order's after-sale requests. Pure: state in, Decision out."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision, Emit
from services.refund.domain import rules, settlement
from contracts.common import REFUND_OFFERS
from services.refund.domain.model import OfferRecord, OrderFacts, OrderRefunds, Parcel, Post, Refund, Ruling
from services.refund.domain.transitions import AWAITING, CLOSED_WHY, DEADLINE, can, next_state

# ---- moving a request through the table ------------------------------------------------------


def payout_id_of(refund: Refund, round_: int = 1) -> str:
    """Stable: every retry of the same payout carries the same id, so it is paid once."""
    return f"payout:{refund.refund_id}" if round_ <= 1 else f"payout:{refund.refund_id}:r{round_}"


def timers_of(agg: OrderRefunds) -> dict[str, datetime]:
    """Pending deadlines are derived from the requests, never stored apart from them."""
    out = {}
    for r in agg.refunds.values():
        if r.is_open and r.timer and r.due_at:
            out[f"{r.timer}:{r.refund_id}"] = r.due_at
    return out


class Move:
    """Collects what one message does, then turns it into a Decision."""

    def __init__(self, agg: OrderRefunds, msg_actor: tuple[str, str] | None, ctx: Context) -> None:
        self.agg = agg
        self.ctx = ctx
        self.actor = msg_actor
        self.emits: list[Emit] = []

    def emit(self, type_: str, data: dict[str, Any], refund: Refund | None = None, *, by_actor: bool = False) -> None:
        role, aid = self.actor if (by_actor and self.actor) else ("system", None)
        self.emits.append(Emit(type_, data, actor_role=role, actor_id=aid,
                               correlation_id=refund.refund_id if refund else None))

    def go(self, refund: Refund, trigger: str, cause: str, arg: str | None = None) -> str:
        """Apply `trigger` to `refund` through the table; the caller has checked it is legal."""
        previous = refund.state
        target = next_state(previous, trigger, arg if arg is not None else refund.kind)
        assert target is not None, f"illegal {previous} --{trigger}-->"
        refund.state = target  # type: ignore[assignment]
        refund.awaiting = AWAITING[target]
        refund.updated_at = self.ctx.now
        refund.timer, refund.due_at = None, None
        if target in DEADLINE:
            name, setting = DEADLINE[target]
            refund.timer, refund.due_at = name, self.ctx.after(getattr(self.ctx.settings, setting))
        if target == "closed":
            refund.closed_why = CLOSED_WHY[trigger]
            if self.agg.open_refund_id == refund.refund_id:
                self.agg.open_refund_id = None
        if target == "payout_pending" and previous != "payout_pending":
            self._order_payout(refund, fresh=previous != "payout_failed")
        if previous == "return_in_transit" and target != "closed":
            self._repay_postage(refund)  # the goods are back
        return target

    def _repay_postage(self, refund: Refund) -> None:
        owed = settlement.postage_for(self.agg, refund, self.ctx.settings.max_postage_fen)
        if owed is not None:
            refund.settlements.append(owed)
            self.emit("payout.request", settlement.payout_request(self.agg, refund, owed), refund)

    def _order_payout(self, refund: Refund, *, fresh: bool) -> None:
        if fresh or not refund.payout_id:
            refund.payout_id = refund.payout_id or payout_id_of(refund)
            refund.payout_fen = refund.payout_fen or min(refund.amount_fen, self.agg.refundable_fen())
            refund.awarded_fen = refund.awarded_fen or refund.payout_fen
        refund.payout_attempts = 0 if fresh else refund.payout_attempts
        self.request_payout(refund)

    def request_payout(self, refund: Refund) -> None:
        refund.payout_attempts += 1
        assert refund.payout_id
        self.emit("payout.request", {
            "payout_id": refund.payout_id, "order_id": self.agg.order_id, "refund_id": refund.refund_id,
            "amount_fen": refund.payout_fen, "refund_to": refund.refund_to, "purpose": "refund",
            "payee_id": self.agg.order.buyer_id if self.agg.order else "",
        }, refund)
        self.emit("refund.payout_requested", {
            "order_id": self.agg.order_id, "refund_id": refund.refund_id, "payout_id": refund.payout_id,
            "amount_fen": refund.payout_fen, "attempt": refund.payout_attempts,
        }, refund)

    def changed(self, refund: Refund, previous: str | None, cause: str) -> None:
        """Publish the transition. Only a change of state is one: whose move it is and until when
        travel with it, and the events that moved a deadline within a state say so themselves."""
        o = self.agg.order
        assert o is not None
        if refund.state == previous:
            return
        self.emit("refund.state_changed", {
            "order_id": self.agg.order_id, "refund_id": refund.refund_id, "state": refund.state,
            "previous_state": previous, "awaiting": refund.awaiting, "due_at": refund.due_at,
            "kind": refund.kind, "amount_fen": refund.amount_fen, "buyer_id": o.buyer_id, "seller_id": o.seller_id,
            "cause": cause,
            "return_carrier": refund.returned.carrier if refund.returned else None,
            "return_tracking_no": refund.returned.tracking_no if refund.returned else None,
            "payout_id": refund.payout_id, "payout_attempts": refund.payout_attempts,
            "closed_why": refund.closed_why,
        }, refund)
        if refund.state == "closed" and previous != "closed":
            self.emit("refund.closed", {"order_id": self.agg.order_id, "refund_id": refund.refund_id,
                                        "why": refund.closed_why}, refund)

    def transition(self, refund: Refund, trigger: str, cause: str, arg: str | None = None) -> None:
        previous = refund.state
        self.go(refund, trigger, cause, arg)
        self.changed(refund, previous, cause)

    def decision(self) -> Decision:
        return Decision(state=self.agg.dump(), emits=self.emits, timers=timers_of(self.agg))


def _actor(msg: ParsedMessage) -> tuple[str, str]:
    return msg.envelope.actor.role, msg.envelope.actor.id


def _find_refund(agg: OrderRefunds, refund_id: str | None) -> Refund | None:
    return agg.refunds.get(refund_id) if refund_id else None


# ---- orders.events ----------------------------------------------------------------------------


def order_paid(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is not None:
        return Decision.ignore()  # the first word on an order's payment stands
    d = msg.data
    agg.order = OrderFacts(buyer_id=d.buyer_id, seller_id=d.seller_id, paid_fen=d.amount_fen,
                           currency=d.currency, paid_at=d.paid_at)
    return Decision(state=agg.dump(), timers=timers_of(agg))


def order_shipped(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is None:
        return Decision.ignore()
    d = msg.data
    agg.order.shipped = Parcel(carrier=d.carrier, tracking_no=d.tracking_no, at=d.shipped_at)
    return Decision(state=agg.dump(), timers=timers_of(agg))


def order_delivered(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is None:
        return Decision.ignore()
    agg.order.delivered_at = msg.data.delivered_at
    return Decision(state=agg.dump(), timers=timers_of(agg))


# ---- refund.commands ----------------------------------------------------------------------------


def refund_request(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    d = msg.data
    m = Move(agg, _actor(msg), ctx)
    existing = agg.open_refund
    if existing is not None:
        if existing.state != "rejected":
            return Decision.refuse("open_request_exists",
                                   f"request {existing.refund_id} is still open ({existing.state}); "
                                   f"withdraw it or wait for it to close")
        if (r := rules.resubmission(existing, ctx.settings.max_resubmissions)) or (r := rules.amount(agg, d.amount_fen)):
            return Decision(reject=r)
        refund = existing
        refund.attempt += 1
        refund.kind, refund.reason, refund.amount_fen, refund.refund_to = d.kind, d.reason, d.amount_fen, d.refund_to
        refund.description = d.description
        refund.evidence = [e.model_dump() for e in d.evidence]
        refund.seller_rejection = None
        previous = refund.state
        m.go(refund, "refund.request", msg.type)
    else:
        s = ctx.settings
        attempt, r = rules.fresh_request(agg, ctx.now, s.after_sale_window_s, s.max_resubmissions)
        if r is not None or (r := rules.amount(agg, d.amount_fen)) is not None:
            return Decision(reject=r)
        refund = Refund(
            refund_id=ctx.new_id("RF"), kind=d.kind, reason=d.reason, amount_fen=d.amount_fen, refund_to=d.refund_to,
            description=d.description, evidence=[e.model_dump() for e in d.evidence],
            created_at=ctx.now, updated_at=ctx.now, attempt=attempt,
        )
        agg.refunds[refund.refund_id] = refund
        agg.open_refund_id = refund.refund_id
        previous = None
    # The seller's answer deadline: the seller service keeps the timer, we state the time.
    refund.state, refund.awaiting = "requested", AWAITING["requested"]
    refund.timer, refund.due_at = None, ctx.after(ctx.settings.seller_response_s)
    assert agg.order is not None
    unshipped = refund.kind == "refund_only" and agg.order.shipped is None
    m.emit("refund.requested", {
        "order_id": agg.order_id, "refund_id": refund.refund_id, "kind": refund.kind, "reason": refund.reason,
        "amount_fen": refund.amount_fen, "seller_id": agg.order.seller_id, "buyer_id": agg.order.buyer_id,
        "seller_due_at": refund.due_at, "refund_to": refund.refund_to, "attempt": refund.attempt,
        "evidence_count": len(refund.evidence), "description": refund.description, "evidence": refund.evidence,
        "refundable_fen": agg.refundable_fen(), "auto_approved": unshipped,
    }, refund, by_actor=True)
    m.changed(refund, previous, msg.type)
    if unshipped:
        m.emit("refund.order_cancel_requested", {
            "order_id": agg.order_id, "refund_id": refund.refund_id, "amount_fen": refund.amount_fen,
            "seller_id": agg.order.seller_id, "buyer_id": agg.order.buyer_id}, refund)
        m.transition(refund, "unshipped_refund", "unshipped_refund")
    return m.decision()


def refund_cancel(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    if not can(refund.state, "refund.cancel"):
        return Decision.refuse("not_cancellable", f"request {refund.refund_id} cannot be withdrawn while {refund.state}")
    refund.cancelled_while = refund.state
    m = Move(agg, _actor(msg), ctx)
    m.transition(refund, "refund.cancel", msg.type)
    return m.decision()


def return_shipped(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    if not can(refund.state, "return.shipped"):
        return Decision.refuse("not_awaiting_return", f"request {refund.refund_id} is {refund.state}, not waiting for a return")
    cap = ctx.settings.max_postage_fen
    if (msg.data.postage_fen or 0) > cap:
        return Decision.refuse("postage_exceeds_cap", f"return postage of at most {cap} fen is repaid; "
                                                      f"{msg.data.postage_fen} fen was stated")
    refund.postage_fen = msg.data.postage_fen or 0
    refund.returned = Parcel(carrier=msg.data.carrier, tracking_no=msg.data.tracking_no, at=ctx.now)
    m = Move(agg, _actor(msg), ctx)
    m.transition(refund, "return.shipped", msg.type)
    return m.decision()


def _offer_data(agg: OrderRefunds, refund: Refund, offer: OfferRecord) -> dict[str, Any]:
    return {"order_id": agg.order_id, "refund_id": refund.refund_id, "offer_id": offer.offer_id,
            "offer": {"kind": offer.kind, "amount_fen": offer.amount_fen}}


def offer_accept(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The request goes on as the offered remedy, as if the seller had approved it."""
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    offer, r = rules.open_offer(refund, msg.data.offer_id)
    if r is not None:
        return Decision(reject=r)
    assert offer is not None
    offer.status, offer.answered_at = "accepted", ctx.now
    refund.remedy = offer.kind
    if offer.kind in REFUND_OFFERS and offer.amount_fen:
        refund.payout_fen = min(offer.amount_fen, agg.refundable_fen())  # what was agreed, not what was asked
    if offer.kind in ("return_and_refund", "exchange"):
        refund.kind = offer.kind
    m = Move(agg, _actor(msg), ctx)
    m.emit("refund.offer_accepted", _offer_data(agg, refund, offer), refund, by_actor=True)
    m.transition(refund, "offer.accept", msg.type, arg=offer.kind)
    return m.decision()


def offer_decline(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """Back as a rejection would be: the buyer may resubmit or escalate within the window."""
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    offer, r = rules.open_offer(refund, msg.data.offer_id)
    if r is not None:
        return Decision(reject=r)
    assert offer is not None
    offer.status, offer.answered_at, offer.answer = "declined", ctx.now, msg.data.message
    m = Move(agg, _actor(msg), ctx)
    m.emit("refund.offer_declined", {**_offer_data(agg, refund, offer), "message": msg.data.message}, refund,
           by_actor=True)
    m.transition(refund, "offer.decline", msg.type)
    return m.decision()


def conversation_post(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.party(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None and agg.order is not None
    role, author = _actor(msg)
    if (r := rules.post_rate(refund, role, ctx.now - timedelta(days=1), ctx.settings.max_posts_per_day)) is not None:
        return Decision(reject=r)
    d = msg.data
    post = Post(post_id=ctx.new_id("PS"), author_role=role, author_id=author, text=d.text,
                attachments=[e.model_dump() for e in d.attachments], at=ctx.now)
    refund.posts.append(post)
    refund.updated_at = ctx.now
    m = Move(agg, _actor(msg), ctx)
    m.emit("conversation.posted", {
        "order_id": agg.order_id, "refund_id": refund.refund_id, "post_id": post.post_id, "author_role": role,
        "text": post.text, "attachments": post.attachments, "author_id": author,
        "buyer_id": agg.order.buyer_id, "seller_id": agg.order.seller_id,
    }, refund, by_actor=True)
    return m.decision()


def payout_retry(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = _find_refund(agg, msg.data.refund_id)
    if refund is None:
        return Decision.refuse("unknown_refund", f"order {agg.order_id} has no after-sale request {msg.data.refund_id}")
    if not can(refund.state, "payout.retry"):
        return Decision.refuse("not_parked", f"request {refund.refund_id} is {refund.state}, not payout_failed")
    m = Move(agg, _actor(msg), ctx)
    previous = refund.state
    refund.payout_attempts = 0
    m.go(refund, "payout.retry", msg.type)
    m.changed(refund, previous, msg.type)
    return m.decision()


# ---- seller.events ----------------------------------------------------------------------------


def _on_seller_event(trigger: str, prepare: Callable[[Refund, ParsedMessage, Context], None] | None = None):
    def handle(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
        refund = _find_refund(agg, msg.data.refund_id)
        if refund is None or not can(refund.state, trigger):
            return Decision.ignore()  # stale or out of order: the state already moved on
        if prepare:
            prepare(refund, msg, ctx)
        m = Move(agg, _actor(msg), ctx)
        m.transition(refund, trigger, msg.type)
        return m.decision()
    handle.__name__ = trigger.replace(".", "_")
    return handle


def _record_rejection(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    d = msg.data
    refund.seller_rejection = {"reason": d.reason, "message": d.message, "evidence": [e.model_dump() for e in d.evidence],
                               "at": ctx.now}


def _record_approval(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    """The reason decides who bears the return postage, unless the seller promised to repay it."""
    promised = msg.data.return_shipping_fen
    refund.postage_paid_by = "seller" if promised else settlement.postage_payer_on_approval(refund.reason)
    refund.postage_ruled_fen = promised or 0


def _record_receipt(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    refund.return_received_by = "seller"


def _record_replacement(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    refund.replacement = Parcel(carrier=msg.data.carrier, tracking_no=msg.data.tracking_no, at=ctx.now)


def seller_offered(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The seller's counter-offer is its answer: the buyer's move now, until `buyer_due_at`."""
    d = msg.data
    refund = _find_refund(agg, d.refund_id)
    if refund is None or not can(refund.state, "seller.offered") or any(o.offer_id == d.offer_id for o in refund.offers):
        return Decision.ignore()  # stale (already accepted, declined or closed) or repeated
    m = Move(agg, _actor(msg), ctx)
    previous = refund.state
    if (replaced := refund.open_offer) is not None:
        replaced.status, replaced.answered_at = "replaced", ctx.now
    refund.offers.append(OfferRecord(offer_id=d.offer_id, kind=d.offer.kind, amount_fen=d.offer.amount_fen,
                                     message=d.message, at=ctx.now, buyer_due_at=d.buyer_due_at))
    m.go(refund, "seller.offered", msg.type)
    refund.timer, refund.due_at = "offer_lapsed", d.buyer_due_at
    m.changed(refund, previous, msg.type)
    return m.decision()


seller_approved = _on_seller_event("seller.approved", _record_approval)
seller_rejected = _on_seller_event("seller.rejected", _record_rejection)
seller_timed_out = _on_seller_event("seller.timed_out")
seller_return_received = _on_seller_event("seller.return_received", _record_receipt)
seller_replacement_shipped = _on_seller_event("seller.replacement_shipped", _record_replacement)


# ---- arbitration.events ----------------------------------------------------------------------------


def case_opened(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = _find_refund(agg, msg.data.refund_id)
    if refund is None or not can(refund.state, "case.opened"):
        return Decision.ignore()
    refund.case_id = msg.data.case_id
    m = Move(agg, _actor(msg), ctx)
    m.transition(refund, "case.opened", msg.type)
    return m.decision()


def ruling_issued(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    refund = _find_refund(agg, d.refund_id) or next(
        (r for r in agg.refunds.values() if r.case_id == d.case_id), None)
    if refund is None or any(x.case_id == d.case_id and x.round == d.round for x in refund.rulings):
        return Decision.ignore()
    ruling = Ruling(case_id=d.case_id, outcome=d.outcome, refund_fen=d.refund_fen, decided_by=d.decided_by,
                    round=d.round, final=d.final, appealable_until=d.appealable_until,
                    return_shipping_paid_by=d.return_shipping_paid_by, seller_at_fault=d.seller_at_fault)
    refund.rulings.append(ruling)
    refund.case_id = d.case_id
    m = Move(agg, _actor(msg), ctx)
    previous = refund.state
    if refund.state != "in_arbitration":
        appealed = any(x.case_id == d.case_id and x.round < d.round for x in refund.rulings[:-1])
        if not appealed:  # no case may rule on a request being carried out (the arbitration service refuses it)
            refund.notes.append(f"round {d.round} ruling {d.outcome} arrived while {refund.state}, with no earlier "
                                f"ruling to appeal; operators to review")
            return m.decision()
        # A ruling on appeal after an earlier one was carried out (or while it is): the earlier one
        # runs its course, and the platform settles the difference.
        if (owed := settlement.settlement_for(agg, refund, d.outcome, d.refund_fen, d.round)) is not None:
            refund.settlements.append(owed)
            m.emit("payout.request", settlement.payout_request(agg, refund, owed), refund)
        refund.updated_at = ctx.now
        return m.decision()
    if d.outcome == "reject":
        if d.final or d.appealable_until is None:
            m.transition(refund, "ruling.final_reject", msg.type)
        else:
            refund.awaiting, refund.timer, refund.due_at = "buyer", "appeal_expired", d.appealable_until
            refund.updated_at = ctx.now
            m.changed(refund, previous, msg.type)
        return m.decision()
    refundable = agg.refundable_fen()
    if d.outcome == "cancel_order":
        refund.payout_fen = refundable
    elif d.outcome in ("full_refund", "partial_refund", "return_and_refund"):
        refund.payout_fen = min(d.refund_fen or refund.amount_fen, refundable)
    if d.outcome in ("return_and_refund", "exchange"):
        refund.kind = "exchange" if d.outcome == "exchange" else "return_and_refund"
    refund.awarded_fen = settlement.award(d.outcome, refund.payout_fen)
    refund.postage_paid_by, refund.postage_ruled_fen = d.return_shipping_paid_by, d.return_shipping_fen
    m.transition(refund, "ruling.issued", msg.type, arg=d.outcome)
    return m.decision()


def ruling_appealed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = _find_refund(agg, msg.data.refund_id)
    if refund is None or not can(refund.state, "ruling.appealed"):
        return Decision.ignore()  # a ruling already carried out stays as it is; the second one will say
    m = Move(agg, _actor(msg), ctx)
    m.transition(refund, "ruling.appealed", msg.type)
    return m.decision()


# ---- payments.events ----------------------------------------------------------------------------


def _refund_by_payout(agg: OrderRefunds, payout_id: str) -> Refund | None:
    return next((r for r in agg.refunds.values() if r.payout_id == payout_id), None)


def settlement_paid(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    found = settlement.find(agg, msg.data.payout_id)
    assert found is not None
    refund, owed = found
    if owed.status == "paid":
        return Decision.ignore()
    owed.status = "paid"
    m = Move(agg, _actor(msg), ctx)
    if owed.purpose == "return_shipping":
        m.emit("refund.postage_repaid", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                         "payout_id": owed.payout_id, "amount_fen": owed.amount_fen}, refund)
    if owed.purpose == "appeal_top_up":
        refund.paid_fen += owed.amount_fen
        agg.refunded_fen += owed.amount_fen
        m.emit("refund.completed", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                    "amount_fen": owed.amount_fen, "refund_to": refund.refund_to,
                                    "buyer_id": owed.payee_id}, refund)
    return m.decision()


def settlement_failed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    found = settlement.find(agg, msg.data.payout_id)
    assert found is not None
    refund, owed = found
    if owed.status != "requested":
        return Decision.ignore()
    owed.errors = (owed.errors + [f"{msg.data.code}: {msg.data.message}"[:200]])[-10:]
    m = Move(agg, _actor(msg), ctx)
    if owed.attempts >= ctx.settings.payout_max_attempts:
        owed.status = "failed"
        refund.notes.append(f"{owed.purpose} {owed.payout_id} ({owed.amount_fen} fen) failed {owed.attempts} times; "
                            f"operators to pay it")
    else:
        owed.attempts += 1
        m.emit("payout.request", settlement.payout_request(agg, refund, owed), refund)  # the same payout_id
    return m.decision()


def payout_succeeded(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if settlement.find(agg, msg.data.payout_id) is not None:
        return settlement_paid(agg, msg, ctx)
    refund = _refund_by_payout(agg, msg.data.payout_id)
    if refund is None or not can(refund.state, "payout.succeeded"):
        return Decision.ignore()
    refund.paid_fen += msg.data.amount_fen
    agg.refunded_fen += msg.data.amount_fen
    m = Move(agg, _actor(msg), ctx)
    m.emit("refund.completed", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                "amount_fen": msg.data.amount_fen, "refund_to": refund.refund_to,
                                "buyer_id": agg.order.buyer_id if agg.order else None}, refund)
    m.transition(refund, "payout.succeeded", msg.type)
    return m.decision()


def payout_failed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if settlement.find(agg, msg.data.payout_id) is not None:
        return settlement_failed(agg, msg, ctx)
    refund = _refund_by_payout(agg, msg.data.payout_id)
    if refund is None or refund.state != "payout_pending":
        return Decision.ignore()
    s = ctx.settings
    refund.payout_errors = (refund.payout_errors + [f"{msg.data.code}: {msg.data.message}"[:200]])[-10:]
    m = Move(agg, _actor(msg), ctx)
    previous = refund.state
    if refund.payout_attempts >= s.payout_max_attempts:
        m.go(refund, "payout.exhausted", msg.type)
    else:
        m.go(refund, "payout.failed", msg.type)
        # Exponential backoff between attempts; the same payout_id every time.
        refund.timer = "payout_retry_due"
        refund.due_at = ctx.now + timedelta(seconds=s.payout_retry_base_s * 2 ** (refund.payout_attempts - 1))
    m.changed(refund, previous, msg.type)
    return m.decision()


# ---- deadlines ----------------------------------------------------------------------------


def on_deadline(agg: OrderRefunds, trigger: str, refund_id: str, due_at: datetime, ctx: Context) -> Decision:
    refund = agg.refunds.get(refund_id)
    if refund is None or not refund.is_open or refund.timer != trigger or refund.due_at != due_at:
        return Decision.ignore()  # the party acted in time, or the deadline moved
    if not can(refund.state, trigger):
        return Decision.ignore()
    m = Move(agg, None, ctx)
    previous = refund.state
    if trigger == "payout_retry_due":
        refund.timer, refund.due_at = None, None
        m.request_payout(refund)
        m.changed(refund, previous, f"timer.{trigger}")
        return m.decision()
    if trigger == "return_confirm_expired":
        refund.return_received_by = "auto"
    if trigger == "offer_lapsed" and (offer := refund.open_offer) is not None:
        offer.status, offer.answered_at = "lapsed", ctx.now
        m.emit("refund.offer_lapsed", _offer_data(agg, refund, offer), refund)
    m.transition(refund, trigger, f"timer.{trigger}")
    return m.decision()


HANDLERS: dict[str, Callable[[OrderRefunds, ParsedMessage, Context], Decision]] = {
    "order.paid": order_paid,
    "order.shipped": order_shipped,
    "order.delivered": order_delivered,
    "refund.request": refund_request,
    "refund.cancel": refund_cancel,
    "return.shipped": return_shipped,
    "offer.accept": offer_accept,
    "offer.decline": offer_decline,
    "conversation.post": conversation_post,
    "payout.retry": payout_retry,
    "seller.approved": seller_approved,
    "seller.offered": seller_offered,
    "seller.rejected": seller_rejected,
    "seller.timed_out": seller_timed_out,
    "seller.return_received": seller_return_received,
    "seller.replacement_shipped": seller_replacement_shipped,
    "case.opened": case_opened,
    "ruling.issued": ruling_issued,
    "ruling.appealed": ruling_appealed,
    "payout.succeeded": payout_succeeded,
    "payout.failed": payout_failed,
}
