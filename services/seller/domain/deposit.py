"""What a ruling draws from a seller's deposit (保证金), on the shop's aggregate: a fine (罚款), and
the buyer's compensation (赔偿). Each is deducted once under a stable `deduction_id` and given back
once when an appeal lifts it. Pure."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Emit


class Deduction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    order_id: str
    case_id: str
    amount_fen: int
    deduction_id: str
    reason: Literal["at_fault", "misconduct", "compensation"]
    at: datetime
    round: int = 1  # of the ruling that drew it
    refunded_at: datetime | None = None


def on_ruling(fines: dict[str, Deduction], seller_id: str, msg: ParsedMessage, ctx: Context) -> list[Emit]:
    """What a ruling does to the shop's fines: the events it emits (and `fines` changed in place).
    One fine per case stands until a later round lifts it."""
    d = msg.data
    fine = fines.get(d.case_id)
    if d.penalty_fen > 0 and d.seller_at_fault:
        if fine is not None and fine.refunded_at is None:
            return []
        reason = "misconduct" if d.misconduct == "seller" else "at_fault"
        fine = Deduction(order_id=d.order_id, case_id=d.case_id, amount_fen=d.penalty_fen, reason=reason, at=ctx.now,
                         round=d.round, deduction_id=f"deduct:{d.case_id}:r{d.round}")
        fines[d.case_id] = fine
        data = {"order_id": d.order_id, "seller_id": seller_id, "case_id": d.case_id, "amount_fen": fine.amount_fen,
                "reason": reason, "deduction_id": fine.deduction_id}
        return [Emit("deposit.deduct", data), Emit("seller.penalized", data)]
    if fine is not None and fine.refunded_at is None and d.round > 1 and d.penalty_fen == 0:
        return _give_back(fine, seller_id, ctx) + [Emit("seller.penalty_refunded", {
            "order_id": d.order_id, "seller_id": seller_id, "case_id": d.case_id, "amount_fen": fine.amount_fen,
            "deduction_id": fine.deduction_id})]
    return []


def on_compensation(held: dict[str, Deduction], seller_id: str, msg: ParsedMessage, ctx: Context) -> list[Emit]:
    """The deposit follows what the case now awards the buyer (refund.compensation_awarded): the
    deduction standing is given back when the figure changes, and the new figure deducted."""
    d = msg.data
    standing = held.get(d.case_id)
    if standing is not None and (d.round <= standing.round or
                                 (standing.refunded_at is None and standing.amount_fen == d.amount_fen)):
        return []  # heard before, or nothing to move
    emits = _give_back(standing, seller_id, ctx) if standing is not None and standing.refunded_at is None else []
    if d.amount_fen > 0:
        new = held[d.case_id] = Deduction(order_id=d.order_id, case_id=d.case_id, amount_fen=d.amount_fen,
                                          reason="compensation", at=ctx.now, round=d.round,
                                          deduction_id=f"deduct:{d.case_id}:compensation:r{d.round}")
        emits.append(Emit("deposit.deduct", {"order_id": d.order_id, "seller_id": seller_id, "case_id": d.case_id,
                                             "amount_fen": new.amount_fen, "reason": "compensation",
                                             "deduction_id": new.deduction_id}))
    return emits


def _give_back(deduction: Deduction, seller_id: str, ctx: Context) -> list[Emit]:
    deduction.refunded_at = ctx.now
    return [Emit("deposit.refund", {"order_id": deduction.order_id, "seller_id": seller_id,
                                    "case_id": deduction.case_id, "amount_fen": deduction.amount_fen,
                                    "deduction_id": deduction.deduction_id, "reason": "lifted_on_appeal"})]
