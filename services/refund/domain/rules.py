"""Checks on buyer and operator commands, each failure a stable code and a sentence."""
from __future__ import annotations

from contracts.parsing import ParsedMessage
from runtime.decision import Reject
from services.refund.domain.model import OrderRefunds, Refund


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


def resubmission(refund: Refund, max_resubmissions: int) -> Reject | None:
    if refund.attempt - 1 >= max_resubmissions:
        return Reject("resubmission_limit",
                      f"request {refund.refund_id} was already submitted {refund.attempt} times; "
                      f"ask the platform to step in instead")
    return None
