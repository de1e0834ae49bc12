"""What each message does to an order's after-sale requests. Pure: state in, Decision out.
Negotiation and the money's side have modules of their own; the table's moves are in move.py."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from contracts import ladder
from services.refund.domain import compensation, rules, settlement
from services.refund.domain.model import OrderFacts, OrderRefunds, Parcel, Refund, Ruling
from services.refund.domain.move import RefundCollector, find_refund, timers_of
from services.refund.domain.negotiation import (
    conversation_post, offer_accept, offer_data, offer_decline, seller_offered,
)
from services.refund.domain.payments import payout_failed, payout_retry, payout_succeeded
from services.refund.domain.transitions import AWAITING, can


# ---- orders.events ----------------------------------------------------------------------------


def order_paid(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is not None:
        return Decision.ignore()  # the first word on an order's payment stands
    d = msg.data
    agg.order = OrderFacts(buyer_id=d.buyer_id, seller_id=d.seller_id, paid_fen=d.amount_fen,
                           currency=d.currency, paid_at=d.paid_at, ship_by=d.ship_by)
    return RefundCollector(agg, ctx).decision()


def order_shipped(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is None:
        return Decision.ignore()
    d = msg.data
    first = agg.order.shipped is None
    agg.order.shipped = Parcel(carrier=d.carrier, tracking_no=d.tracking_no, at=d.shipped_at)
    c = RefundCollector(agg, ctx)
    if first and agg.order.ship_by is not None and d.shipped_at > agg.order.ship_by:
        c.emit("order.shipped_late", {"order_id": agg.order_id, "seller_id": agg.order.seller_id,
                                      "ship_by": agg.order.ship_by, "shipped_at": d.shipped_at})
    return c.decision()


def order_delivered(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.order is None:
        return Decision.ignore()
    agg.order.delivered_at = msg.data.delivered_at
    return RefundCollector(agg, ctx).decision()


# ---- refund.commands ----------------------------------------------------------------------------


def refund_request(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.order_and_buyer(agg, msg)) is not None:
        return Decision(reject=r)
    if (level := ladder.held_back((ctx.extra or {}).get("buyer"), ctx.now)) in ("suspended", "banned"):
        return Decision.refuse(f"account_{level}", f"the platform {level} this buyer's account (a ruling's sanction): "
                                                   f"no new after-sale requests")
    d = msg.data
    c = RefundCollector(agg, ctx, actor_of(msg))
    existing = agg.open_refund
    if existing is not None:
        if existing.state != "rejected":
            return Decision.refuse("open_request_exists",
                                   f"request {existing.refund_id} is still open ({existing.state}); "
                                   f"withdraw it or wait for it to close")
        if (r := rules.resubmission(agg, ctx.settings.max_resubmissions)) or (r := rules.amount(agg, d.amount_fen)):
            return Decision(reject=r)
        refund = existing
        refund.attempt += 1
        refund.kind, refund.reason, refund.amount_fen, refund.refund_to = d.kind, d.reason, d.amount_fen, d.refund_to
        refund.description = d.description
        refund.evidence = [e.model_dump() for e in d.evidence]
        refund.seller_rejection = None
        previous = refund.state
        c.go(refund, "refund.request", msg.type)
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
    refund.timer, refund.due_at = None, ctx.after(ctx.settings.seller_timeout_s)
    assert agg.order is not None
    # 未发货仅退款: the whole order back before it shipped cancels it; a part of it is the seller's to answer.
    # Past its ship_by, any refund of an unshipped order cancels the whole order at once: late shipment.
    refundable = agg.refundable_fen()
    money_before_shipment = refund.kind == "refund_only" and agg.order.shipped is None
    late = (money_before_shipment and agg.order.ship_by is not None and ctx.now > agg.order.ship_by
            and refundable > 0)
    if late:
        refund.amount_fen = refundable
    unshipped = money_before_shipment and refund.amount_fen >= refundable
    c.emit("refund.requested", {
        "order_id": agg.order_id, "refund_id": refund.refund_id, "kind": refund.kind, "reason": refund.reason,
        "amount_fen": refund.amount_fen, "seller_id": agg.order.seller_id, "buyer_id": agg.order.buyer_id,
        "seller_due_at": refund.due_at, "refund_to": refund.refund_to, "attempt": refund.attempt,
        "evidence_count": len(refund.evidence), "description": refund.description, "evidence": refund.evidence,
        "refundable_fen": refundable, "auto_approved": unshipped, "late_shipment": late,
    }, refund, by_actor=True)
    c.changed(refund, previous, msg.type)
    if unshipped:
        c.emit("refund.order_cancel_requested", {
            "order_id": agg.order_id, "refund_id": refund.refund_id, "amount_fen": refund.amount_fen,
            "seller_id": agg.order.seller_id, "buyer_id": agg.order.buyer_id}, refund)
        c.transition(refund, "unshipped_refund", "unshipped_refund")
    return c.decision()


def refund_cancel(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund, r = rules.buyers_request(agg, msg)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    if not can(refund.state, "refund.cancel"):
        return Decision.refuse("not_cancellable", f"request {refund.refund_id} cannot be withdrawn while {refund.state}")
    refund.cancelled_while = refund.state
    refund.withdrawal_noted = False  # until the arbitration service says what stood on it
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.transition(refund, "refund.cancel", msg.type)
    return c.decision()


def return_shipped(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund, r = rules.buyers_request(agg, msg)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None
    if not can(refund.state, "return.shipped"):
        return Decision.refuse("not_awaiting_return", f"request {refund.refund_id} is {refund.state}, not waiting for a return")
    # The goods are on their way whatever the postage: a claim above the cap is repaid up to the cap.
    refund.postage_fen = min(msg.data.postage_fen or 0, ctx.settings.max_postage_fen)
    refund.returned = Parcel(carrier=msg.data.carrier, tracking_no=msg.data.tracking_no, at=ctx.now)
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.transition(refund, "return.shipped", msg.type)
    return c.decision()


# ---- seller.events ----------------------------------------------------------------------------


def _on_seller_event(trigger: str, prepare: Callable[[Refund, ParsedMessage, Context], None] | None = None):
    def handle(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
        refund = find_refund(agg, msg.data.refund_id)
        if refund is None or not can(refund.state, trigger) or stale(refund, msg):
            return Decision.ignore()  # stale or out of order: the state already moved on
        if prepare:
            prepare(refund, msg, ctx)
        c = RefundCollector(agg, ctx, actor_of(msg))
        c.transition(refund, trigger, msg.type)
        return c.decision()
    handle.__name__ = trigger.replace(".", "_")
    return handle


def stale(refund: Refund, msg: ParsedMessage) -> bool:
    """A seller's answer to an earlier submission of a request that was resubmitted since."""
    attempt = getattr(msg.data, "attempt", None)
    return attempt is not None and attempt < refund.attempt


def _record_rejection(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    d = msg.data
    refund.seller_rejection = {"reason": d.reason, "message": d.message, "evidence": [e.model_dump() for e in d.evidence],
                               "at": ctx.now}


def _record_approval(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    """The reason decides who bears the return postage, unless the seller promised to repay it."""
    promised = msg.data.return_shipping_fen
    if msg.data.return_address is not None:
        refund.return_address = msg.data.return_address.model_dump()
    refund.postage_paid_by = "seller" if promised else settlement.postage_payer_on_approval(refund.reason)
    refund.postage_ruled_fen = promised or 0


def _record_receipt(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    refund.return_received_by = "seller"


def _record_replacement(refund: Refund, msg: ParsedMessage, ctx: Context) -> None:
    refund.replacement = Parcel(carrier=msg.data.carrier, tracking_no=msg.data.tracking_no, at=ctx.now)


seller_approved = _on_seller_event("seller.approved", _record_approval)
seller_rejected = _on_seller_event("seller.rejected", _record_rejection)
seller_timed_out = _on_seller_event("seller.timed_out")
seller_return_received = _on_seller_event("seller.return_received", _record_receipt)
seller_replacement_shipped = _on_seller_event("seller.replacement_shipped", _record_replacement)
seller_replacement_expired = _on_seller_event("seller.replacement_expired")


# ---- arbitration.events ----------------------------------------------------------------------------


def case_opened(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = find_refund(agg, msg.data.refund_id)
    if refund is None or not can(refund.state, "case.opened"):
        return Decision.ignore()
    refund.case_id = msg.data.case_id
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.transition(refund, "case.opened", msg.type)
    return c.decision()


def ruling_issued(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    refund = find_refund(agg, d.refund_id) or next(
        (r for r in agg.refunds.values() if r.case_id == d.case_id), None)
    if refund is None and d.refund_id is None:
        # A case with no request (the platform's own, a seller's complaint): only compensation moves.
        c = RefundCollector(agg, ctx, actor_of(msg))
        compensation.follow(c, d)
        return c.decision()
    if refund is None or any(x.case_id == d.case_id and x.round == d.round for x in refund.rulings):
        return Decision.ignore()
    ruling = Ruling(case_id=d.case_id, outcome=d.outcome, refund_fen=d.refund_fen, decided_by=d.decided_by,
                    round=d.round, final=d.final, appealable_until=d.appealable_until,
                    return_shipping_paid_by=d.return_shipping_paid_by, seller_at_fault=d.seller_at_fault)
    refund.rulings.append(ruling)
    refund.case_id = d.case_id
    c = RefundCollector(agg, ctx, actor_of(msg))
    if refund.state == "closed" and refund.closed_why != "completed":
        # The request ended before this ruling reached it (withdrawn, expired, or a deadline that won
        # the race): nothing is carried out, and the arbitration service closes the case on hearing it.
        refund.notes.append(f"round {d.round} ruling {d.outcome} arrived after the request closed "
                            f"({refund.closed_why}); not carried out")
        compensation.follow(c, d, first=False)  # an earlier ruling's award, which an appeal changes
        return c.decision()
    if refund.state not in FOLLOWS_RULINGS:
        appealed = any(x.case_id == d.case_id and x.round < d.round for x in refund.rulings[:-1])
        if not appealed:  # no case may rule on a request being carried out (the arbitration service refuses it)
            refund.notes.append(f"round {d.round} ruling {d.outcome} arrived while {refund.state}, with no earlier "
                                f"ruling to appeal; operators to review")
            return c.decision()
        # A ruling on appeal after an earlier one was carried out (or while it is): the earlier one
        # runs its course, and the platform settles the difference.
        if (owed := settlement.settlement_for(agg, refund, d.outcome, d.refund_fen, d.round)) is not None:
            c.request_settlement(refund, owed)
        compensation.follow(c, d)
        refund.updated_at = ctx.now
        return c.decision()
    compensation.follow(c, d)
    if d.outcome == "reject":
        refund.awarded_fen = refund.payout_fen = 0  # replaces an earlier ruling whose money has not moved
        if d.final or d.appealable_until is None:
            c.transition(refund, "ruling.final_reject", msg.type)
        else:  # in_arbitration until the case closes
            if refund.state != "in_arbitration":
                c.transition(refund, "ruling.issued", msg.type, arg=d.outcome)
            refund.awaiting, refund.timer, refund.due_at = "buyer", None, d.appealable_until
            refund.updated_at = ctx.now
        return c.decision()
    refundable = agg.refundable_fen(refund.refund_id)
    if d.outcome == "cancel_order":
        refund.payout_fen = refundable
    elif d.outcome in ("full_refund", "partial_refund", "return_and_refund"):
        refund.payout_fen = min(d.refund_fen or refund.amount_fen, refundable)
    if d.outcome in ("return_and_refund", "exchange"):
        refund.kind = "exchange" if d.outcome == "exchange" else "return_and_refund"
    refund.awarded_fen = settlement.award(d.outcome, refund.payout_fen, refund.amount_fen)
    refund.postage_paid_by, refund.postage_ruled_fen = d.return_shipping_paid_by, d.return_shipping_fen
    if d.return_address is not None:
        refund.return_address = d.return_address.model_dump()
    c.transition(refund, "ruling.issued", msg.type, arg=d.outcome)
    return c.decision()


def case_closed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The case is over: its last ruling stands."""
    refund = next((r for r in agg.refunds.values() if r.case_id == msg.data.case_id), None)
    if refund is None or refund.case_final:
        return Decision.ignore()
    refund.case_final = True
    c = RefundCollector(agg, ctx)
    last = refund.rulings[-1] if refund.rulings else None
    if refund.state == "in_arbitration" and last is not None and last.outcome == "reject" \
            and msg.data.why in ("ruling_final", "final_ruling"):
        c.transition(refund, "case.closed", msg.type)  # the 'no' stands: nobody appealed in time
    else:
        c.compensate(refund)
    return c.decision()


def withdrawal_noted(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The arbitration service's word on a withdrawn request: a new request may follow, unless a 'no'
    stood on it."""
    refund = find_refund(agg, msg.data.refund_id)
    if refund is None or refund.withdrawal_noted:
        return Decision.ignore()
    refund.withdrawal_noted, refund.final_no = True, msg.data.final_no
    if msg.data.final_no:
        refund.notes.append(f"withdrawn while case {msg.data.case_id}'s 'reject' stood: a final no")
    refund.updated_at = ctx.now
    return RefundCollector(agg, ctx).decision()


# A ruling is carried out from these states as if it were the first: the goods have not left the
# buyer yet, so an appeal's ruling replaces the earlier one rather than settling the difference.
FOLLOWS_RULINGS = frozenset({"in_arbitration", "return_pending"})


def ruling_appealed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = find_refund(agg, msg.data.refund_id)
    if refund is None or not can(refund.state, "ruling.appealed"):
        return Decision.ignore()  # a ruling already carried out stays as it is; the second one will say
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.transition(refund, "ruling.appealed", msg.type)
    return c.decision()


# ---- deadlines ----------------------------------------------------------------------------


def on_deadline(agg: OrderRefunds, trigger: str, refund_id: str, due_at: datetime, ctx: Context) -> Decision:
    refund = agg.refunds.get(refund_id)
    if refund is None or not refund.is_open or refund.timer != trigger or (refund.fires_at or refund.due_at) != due_at:
        return Decision.ignore()  # the party acted in time, or the deadline moved
    if not can(refund.state, trigger):
        return Decision.ignore()
    c = RefundCollector(agg, ctx)
    if trigger == "payout_retry_due":  # still payout_pending: the payout.request says it all
        refund.timer, refund.due_at = None, None
        c.request_payout(refund)
        return c.decision()
    if trigger == "return_confirm_expired":
        refund.return_received_by = "auto"
    lapsed = refund.open_offer if trigger == "offer_lapsed" else None
    if lapsed is not None:
        lapsed.status, lapsed.answered_at = "lapsed", ctx.now
    c.transition(refund, trigger, f"timer.{trigger}")
    if lapsed is not None:  # said with the buyer's new deadline, which the transition set
        c.emit("refund.offer_lapsed", {**offer_data(agg, refund, lapsed), "due_at": refund.due_at}, refund)
    return c.decision()


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
    "seller.replacement_expired": seller_replacement_expired,
    "case.opened": case_opened,
    "ruling.issued": ruling_issued,
    "ruling.appealed": ruling_appealed,
    "case.closed": case_closed,
    "withdrawal.noted": withdrawal_noted,
    "payout.succeeded": payout_succeeded,
    "payout.failed": payout_failed,
}
