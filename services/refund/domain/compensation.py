"""Compensation (赔偿, 补偿差价): what a case's rulings award the buyer beyond any refund, taken from
the seller's deposit. One record per case, on the order.

The buyer is paid what the rulings award and is never clawed back: a higher award on appeal pays
the difference at once; a lower one takes nothing back. The seller's deposit follows the latest
ruling: `refund.compensation_awarded` says the new figure and the seller service deducts it, or
gives back what an appeal lifted (the platform then bears what the buyer keeps). A ruling moves
compensation only when this service carries it out, so a request withdrawn before its ruling
arrived costs the seller nothing. Pure."""
from __future__ import annotations

from typing import Any

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.refund.domain.model import CaseCompensation, OrderRefunds, Settlement
from services.refund.domain.move import RefundCollector, retry_or_park


def follow(c: RefundCollector, d: Any, *, first: bool = True) -> None:
    """Carry out a ruling's `compensation_fen`. `first`: the ruling may start a case's record (it is
    carried out); otherwise it only changes a record an earlier ruling started."""
    agg = c.agg
    rec = agg.compensations.get(d.case_id)
    if rec is None:
        if not first or not d.compensation_fen or not (d.buyer_id and d.seller_id):
            return
        rec = agg.compensations[d.case_id] = CaseCompensation(case_id=d.case_id, refund_id=d.refund_id,
                                                              buyer_id=d.buyer_id, seller_id=d.seller_id)
    if d.round <= rec.round:
        return  # heard before
    previous, rec.awarded_fen, rec.round = rec.awarded_fen, d.compensation_fen, d.round
    owed = rec.awarded_fen - rec.requested_fen
    if owed > 0:
        s = Settlement(payout_id=f"payout:{rec.case_id}:compensation:r{d.round}", purpose="compensation",
                       amount_fen=owed, payee_id=rec.buyer_id, round=d.round)
        rec.payouts.append(s)
        _request(c, rec, s)
    if rec.awarded_fen != previous:
        c.emit("refund.compensation_awarded", {
            "order_id": agg.order_id, "case_id": rec.case_id, "refund_id": rec.refund_id,
            "amount_fen": rec.awarded_fen, "previous_fen": previous, "round": d.round, "buyer_id": rec.buyer_id,
            "seller_id": rec.seller_id}, correlation_id=rec.refund_id or rec.case_id)


def _request(c: RefundCollector, rec: CaseCompensation, s: Settlement) -> None:
    # Compensation is not a reversal of the order's payment: it goes to the buyer's balance (余额).
    c.emit("payout.request", {"payout_id": s.payout_id, "order_id": c.agg.order_id,
                              "refund_id": rec.refund_id or rec.case_id, "amount_fen": s.amount_fen,
                              "refund_to": "balance", "purpose": "compensation", "payee_id": s.payee_id},
           correlation_id=rec.refund_id or rec.case_id)


def find(agg: OrderRefunds, payout_id: str) -> tuple[CaseCompensation, Settlement] | None:
    for rec in agg.compensations.values():
        for s in rec.payouts:
            if s.payout_id == payout_id:
                return rec, s
    return None


def paid(agg: OrderRefunds, rec: CaseCompensation, s: Settlement, msg: ParsedMessage, ctx: Context) -> Decision:
    if s.status == "paid":
        return Decision.ignore()
    s.status = "paid"
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.emit("refund.compensation_paid", {"order_id": agg.order_id, "case_id": rec.case_id, "refund_id": rec.refund_id,
                                        "payout_id": s.payout_id, "amount_fen": s.amount_fen,
                                        "buyer_id": rec.buyer_id}, correlation_id=rec.refund_id or rec.case_id)
    return c.decision()


def failed(agg: OrderRefunds, rec: CaseCompensation, s: Settlement, msg: ParsedMessage, ctx: Context) -> Decision:
    """As other payouts of their own: asked again, then parked for operators (move.retry_or_park)."""
    if s.status != "requested":
        return Decision.ignore()
    c = RefundCollector(agg, ctx, actor_of(msg))
    retry_or_park(s, rec.notes, msg, ctx.settings.payout_max_attempts, lambda: _request(c, rec, s))
    return c.decision()
