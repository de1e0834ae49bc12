"""Fines (罚款) from a seller's deposit (保证金), on the shop's aggregate. A ruling that fines the
seller has the payment system deduct it once (a stable `deduction_id` per case and round); a
later ruling on appeal that lifts it gives the deduction back once. Pure."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Emit


class Fine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    order_id: str
    case_id: str
    amount_fen: int
    deduction_id: str
    reason: str
    at: datetime
    refunded_at: datetime | None = None


def on_ruling(fines: dict[str, Fine], seller_id: str, msg: ParsedMessage, ctx: Context) -> list[Emit]:
    """What a ruling does to the shop's fines: the events it emits (and `fines` changed in place)."""
    d = msg.data
    fine = fines.get(d.case_id)
    if d.penalty_fen > 0 and d.seller_at_fault:
        if fine is not None and fine.refunded_at is None:
            return []  # one fine per case; it stands until lifted
        reason = "misconduct" if d.misconduct == "seller" else "at_fault"
        fine = Fine(order_id=d.order_id, case_id=d.case_id, amount_fen=d.penalty_fen, reason=reason, at=ctx.now,
                    deduction_id=f"deduct:{d.case_id}:r{d.round}")
        fines[d.case_id] = fine
        data = {"order_id": d.order_id, "seller_id": seller_id, "case_id": d.case_id, "amount_fen": fine.amount_fen,
                "reason": reason, "deduction_id": fine.deduction_id}
        return [Emit("deposit.deduct", data), Emit("seller.penalized", data)]
    if fine is not None and fine.refunded_at is None and d.round > 1 and d.penalty_fen == 0:
        fine.refunded_at = ctx.now  # the appeal lifted it
        data = {"order_id": d.order_id, "seller_id": seller_id, "case_id": d.case_id, "amount_fen": fine.amount_fen,
                "deduction_id": fine.deduction_id}
        return [Emit("deposit.refund", {**data, "reason": "lifted_on_appeal"}), Emit("seller.penalty_refunded", data)]
    return []
