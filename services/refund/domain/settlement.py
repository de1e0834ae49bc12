"""Payouts of their own, beside a request's refund: the return postage, and what an appeal moves.

Money follows the final word. A ruling on appeal that arrives after an earlier ruling was
carried out (or while its money or goods are on their way) settles the difference with payouts of
their own: a top-up at once when the buyer is awarded more; compensation from the platform to the
seller when less, paid once the case is over and the request closed, for what the buyer actually
received. Buyers are never clawed back. Pure."""
from __future__ import annotations

from typing import Any

from services.refund.domain.model import OrderRefunds, Refund, Settlement

MONEY_OUTCOMES = frozenset({"full_refund", "partial_refund", "return_and_refund", "cancel_order"})


def award(outcome: str, refund_fen: int, goods_fen: int = 0) -> int:
    """What a ruling gives the buyer, in money or in goods: an exchange is worth what was asked."""
    if outcome == "exchange":
        return goods_fen
    return refund_fen if outcome in MONEY_OUTCOMES else 0


def settlement_for(agg: OrderRefunds, refund: Refund, outcome: str, refund_fen: int, round_: int) -> Settlement | None:
    """The payout that makes a later ruling's award true, or None when nothing changes hands."""
    assert agg.order is not None
    before, after = refund.promised_fen(), award(outcome, refund_fen, refund.amount_fen)
    if after > before:
        # Never more than the order can still give back, with every request's promises counted.
        amount = min(after - before, agg.refundable_fen())
        if amount <= 0:
            return None
        refund.awarded_fen = before + amount
        return Settlement(payout_id=f"payout:{refund.refund_id}:top_up:r{round_}", purpose="appeal_top_up",
                          amount_fen=amount, payee_id=agg.order.buyer_id, round=round_)
    if after < before:
        # The buyer keeps what it has; the seller is compensated once the case is over and the money
        # has reached the buyer (compensation_for), never for money a later appeal restores.
        refund.awarded_fen = after
    return None


def compensation_for(agg: OrderRefunds, refund: Refund) -> Settlement | None:
    """What the platform owes the seller once the case is final and the request closed: what the
    buyer received beyond the final ruling's award (buyers are never clawed back)."""
    assert agg.order is not None
    if not (refund.case_final and refund.state == "closed" and refund.rulings):
        return None
    last = refund.rulings[-1]
    owed = refund.paid_fen - award(last.outcome, last.refund_fen, refund.amount_fen)
    payout_id = f"payout:{refund.refund_id}:compensation"
    if owed <= 0 or any(s.payout_id == payout_id for s in refund.settlements):
        return None
    return Settlement(payout_id=payout_id, purpose="seller_compensation", amount_fen=owed,
                      payee_id=agg.order.seller_id, round=last.round)


def payout_request(agg: OrderRefunds, refund: Refund, s: Settlement) -> dict[str, Any]:
    return {"payout_id": s.payout_id, "order_id": agg.order_id, "refund_id": refund.refund_id, "amount_fen": s.amount_fen,
            "refund_to": refund.refund_to, "purpose": s.purpose, "payee_id": s.payee_id}


def find(agg: OrderRefunds, payout_id: str) -> tuple[Refund, Settlement] | None:
    for r in agg.refunds.values():
        for s in r.settlements:
            if s.payout_id == payout_id:
                return r, s
    return None


# Reasons that are the seller's fault: after an approval, the seller bears the return postage
# (运费由商家承担); for "no longer wanted" and "other" the buyer does (七天无理由退货).
SELLER_FAULT_REASONS = frozenset({"quality", "not_as_described", "wrong_item", "damaged", "not_received"})


def postage_payer_on_approval(reason: str) -> str:
    return "seller" if reason in SELLER_FAULT_REASONS else "buyer"


def postage_for(agg: OrderRefunds, refund: Refund, cap_fen: int) -> Settlement | None:
    """Once the goods are back: the buyer's return postage as a payout of its own, when the seller
    or the platform bears it. The ruling's figure if it stated one, else the buyer's, capped."""
    assert agg.order is not None
    if refund.postage_paid_by not in ("seller", "platform"):
        return None
    amount = min(refund.postage_ruled_fen or refund.postage_fen, cap_fen)
    payout_id = f"payout:{refund.refund_id}:postage"
    if amount <= 0 or any(s.payout_id == payout_id for s in refund.settlements):
        return None
    return Settlement(payout_id=payout_id, purpose="return_shipping", amount_fen=amount, payee_id=agg.order.buyer_id,
                      round=len(refund.rulings))
