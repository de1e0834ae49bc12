"""The money's side of a request: the payment system's answers, retries with the same payout id,
an operator's re-trigger, and the payouts of their own (postage, appeal settlements). Pure."""
from __future__ import annotations

from datetime import timedelta

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.refund.domain import compensation, settlement
from services.refund.domain.model import OrderRefunds, Refund, Settlement
from services.refund.domain.move import RefundCollector, find_refund, retry_or_park, with_error
from services.refund.domain.transitions import can


def payout_retry(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    refund = find_refund(agg, msg.data.refund_id)
    if refund is None:
        return Decision.refuse("unknown_refund", f"order {agg.order_id} has no after-sale request {msg.data.refund_id}")
    if not can(refund.state, "payout.retry"):
        return Decision.refuse("not_parked", f"request {refund.refund_id} is {refund.state}, not payout_failed")
    c = RefundCollector(agg, ctx, actor_of(msg))
    previous = refund.state
    refund.payout_attempts = 0
    c.go(refund, "payout.retry", msg.type)
    c.changed(refund, previous, msg.type)
    return c.decision()


def _refund_by_payout(agg: OrderRefunds, payout_id: str) -> Refund | None:
    return next((r for r in agg.refunds.values() if r.payout_id == payout_id), None)


def settlement_paid(agg: OrderRefunds, refund: Refund, owed: Settlement, msg: ParsedMessage, ctx: Context) -> Decision:
    if owed.status == "paid":
        return Decision.ignore()
    owed.status = "paid"
    c = RefundCollector(agg, ctx, actor_of(msg))
    if owed.purpose == "return_shipping":
        c.emit("refund.postage_repaid", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                         "payout_id": owed.payout_id, "amount_fen": owed.amount_fen}, refund)
    if owed.purpose == "seller_compensation":
        c.emit("refund.seller_compensated", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                             "payout_id": owed.payout_id, "amount_fen": owed.amount_fen,
                                             "seller_id": owed.payee_id}, refund)
    if owed.purpose == "appeal_top_up":
        refund.paid_fen += owed.amount_fen
        agg.refunded_fen += owed.amount_fen
        c.emit("refund.completed", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                    "amount_fen": owed.amount_fen, "refund_to": refund.refund_to,
                                    "buyer_id": owed.payee_id}, refund)
    return c.decision()


def settlement_failed(agg: OrderRefunds, refund: Refund, owed: Settlement, msg: ParsedMessage,
                      ctx: Context) -> Decision:
    if owed.status != "requested":
        return Decision.ignore()
    c = RefundCollector(agg, ctx, actor_of(msg))
    retry_or_park(owed, refund.notes, msg, ctx.settings.payout_max_attempts, lambda: c.request_settlement(refund, owed))
    return c.decision()


def payout_succeeded(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (found := settlement.find(agg, msg.data.payout_id)) is not None:
        return settlement_paid(agg, *found, msg, ctx)
    if (owed := compensation.find(agg, msg.data.payout_id)) is not None:
        return compensation.paid(agg, *owed, msg, ctx)
    refund = _refund_by_payout(agg, msg.data.payout_id)
    if refund is None or not can(refund.state, "payout.succeeded"):
        return Decision.ignore()
    refund.paid_fen += msg.data.amount_fen
    agg.refunded_fen += msg.data.amount_fen
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.emit("refund.completed", {"order_id": agg.order_id, "refund_id": refund.refund_id,
                                "amount_fen": msg.data.amount_fen, "refund_to": refund.refund_to,
                                "buyer_id": agg.order.buyer_id if agg.order else None}, refund)
    c.transition(refund, "payout.succeeded", msg.type)
    return c.decision()


def payout_failed(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (found := settlement.find(agg, msg.data.payout_id)) is not None:
        return settlement_failed(agg, *found, msg, ctx)
    if (owed := compensation.find(agg, msg.data.payout_id)) is not None:
        return compensation.failed(agg, *owed, msg, ctx)
    refund = _refund_by_payout(agg, msg.data.payout_id)
    if refund is None or refund.state != "payout_pending":
        return Decision.ignore()
    s = ctx.settings
    refund.payout_errors = with_error(refund.payout_errors, msg)
    c = RefundCollector(agg, ctx, actor_of(msg))
    previous = refund.state
    if refund.payout_attempts >= s.payout_max_attempts:
        c.go(refund, "payout.exhausted", msg.type)
    else:
        c.go(refund, "payout.failed", msg.type)
        # Exponential backoff between attempts; the same payout_id every time.
        refund.timer = "payout_retry_due"
        refund.due_at = ctx.now + timedelta(seconds=s.payout_retry_base_s * 2 ** (refund.payout_attempts - 1))
    c.changed(refund, previous, msg.type)
    return c.decision()
