"""Checks on buyer and operator commands, each failure a stable code and a sentence."""
from __future__ import annotations

from datetime import datetime

from contracts.parsing import ParsedMessage
from runtime.api.decision import Reject
from services.refund.domain.limits import REQUESTS_PER_ORDER
from services.refund.domain.model import OfferRecord, OrderRefunds, Refund


def order_and_buyer(agg: OrderRefunds, msg: ParsedMessage) -> Reject | None:
    if agg.order is None:
        return Reject("unknown_order", f"order {agg.order_id} is not known as paid")
    actor = msg.envelope.actor
    if actor.role != "buyer" or actor.id != agg.order.buyer_id:
        return Reject("not_buyer", f"only the order's buyer may send {msg.type}")
    return None


def amount(agg: OrderRefunds, amount_fen: int) -> Reject | None:
    refundable = agg.refundable_fen()
    if amount_fen > refundable:
        return Reject(
            "amount_exceeds_refundable",
            f"{amount_fen} fen asked, but only {refundable} fen of {agg.order.paid_fen if agg.order else 0} "
            f"paid can still be refunded",
        )
    return None


def refund_of(agg: OrderRefunds, refund_id: str) -> tuple[Refund | None, Reject | None]:
    refund = agg.refunds.get(refund_id)
    if refund is None:
        return None, Reject("unknown_refund", f"order {agg.order_id} has no after-sale request {refund_id}")
    if not refund.is_open:
        return refund, Reject("refund_closed", f"request {refund_id} is closed ({refund.closed_why})")
    return refund, None


def buyers_request(agg: OrderRefunds, msg: ParsedMessage) -> tuple[Refund | None, Reject | None]:
    """The open request a buyer's command names: the order's buyer sent it, and the request is open."""
    if (r := order_and_buyer(agg, msg)) is not None:
        return None, r
    return refund_of(agg, msg.data.refund_id)


def resubmission(agg: OrderRefunds, max_resubmissions: int) -> Reject | None:
    """After each "no" the buyer may ask again, `max_resubmissions` times per order in all."""
    if agg.nos > max_resubmissions:
        return Reject("resubmission_limit",
                      f"this order's requests were already answered 'no' {agg.nos} times; "
                      f"ask the platform to step in instead")
    return None


def party(agg: OrderRefunds, msg: ParsedMessage) -> Reject | None:
    """The order's buyer or its seller, nobody else."""
    if agg.order is None:
        return Reject("unknown_order", f"order {agg.order_id} is not known as paid")
    actor = msg.envelope.actor
    if (actor.role, actor.id) not in (("buyer", agg.order.buyer_id), ("seller", agg.order.seller_id)):
        return Reject("not_a_party", f"only the order's buyer or seller may send {msg.type}")
    return None


def open_offer(refund: Refund, offer_id: str) -> tuple[OfferRecord | None, Reject | None]:
    """The offer the buyer answers must be the one still open: not replaced, not answered."""
    current = refund.open_offer if refund.state == "offer_pending" else None
    if current is None:
        return None, Reject("no_open_offer", f"request {refund.refund_id} is {refund.state}; no offer awaits an answer")
    if current.offer_id != offer_id:
        return None, Reject("offer_not_open", f"offer {offer_id} is not open; the open offer is {current.offer_id}")
    return current, None


def post_rate(refund: Refund, role: str, since: datetime, limit: int) -> Reject | None:
    recent = sum(1 for p in refund.posts if p.author_role == role and p.at > since)
    if recent >= limit:
        return Reject("rate_limited", f"at most {limit} posts per party per request in 24 hours; try again later")
    return None


def fresh_request(agg: OrderRefunds, now: datetime, window_s: float, max_resubmissions: int) -> tuple[int, Reject | None]:
    """A new request on the order: which submission it is, or why it cannot be made. A final
    "no" is final, and the after-sale window counts from delivery."""
    assert agg.order is not None
    # A final "no": the request closed rejected, or withdrawn after its case ruled 'reject'.
    final = next((r for r in agg.refunds.values() if r.closed_why == "rejected_final" or r.final_no
                  or (r.state == "closed" and r.rulings and r.rulings[-1].outcome == "reject")), None)
    if final is not None:
        return 0, Reject("already_decided", f"request {final.refund_id} on this order was finally rejected; "
                                            f"it cannot be asked again")
    undecided = next((r for r in agg.refunds.values() if r.case_id and not r.case_final), None)
    if undecided is not None:
        # A ruling or an appeal may still move this order's money: one claim at a time.
        return 0, Reject("case_undecided", f"case {undecided.case_id} on request {undecided.refund_id} is not over; "
                                           f"a new request waits for it")
    delivered = agg.order.delivered_at
    if delivered is not None and (now - delivered).total_seconds() > window_s:
        return 0, Reject("after_sale_window_closed", f"the after-sale window closed {window_s / 86400:g} days after "
                                                     f"delivery ({delivered.isoformat()})")
    if (r := resubmission(agg, max_resubmissions)) is not None:
        return 0, r
    if (r := REQUESTS_PER_ORDER.check(len(agg.refunds))) is not None:
        return 0, r
    # Last, so that a request refused anyway says why: a case may have ruled 'reject' on the
    # withdrawn request in a message this service has not read yet.
    withdrawn = next((r for r in agg.refunds.values() if not r.withdrawal_noted), None)
    if withdrawn is not None:
        return 0, Reject("withdrawal_pending", f"request {withdrawn.refund_id} was withdrawn a moment ago and the "
                                               f"platform is still closing it; ask again shortly")
    return agg.nos + 1, None
