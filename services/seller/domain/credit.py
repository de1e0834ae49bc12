"""Shop credit (信誉度): each seller timeout and each ruling with the seller at fault is a defect
for a rolling window (60 days by default, like an order defect rate). Defects lower the score;
crossing a threshold restricts the shop, falling back below lifts it. A won appeal removes the
defect. One defect per after-sale request at most: a timeout that is then ruled against the
seller counts once, with the heavier penalty. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision, Emit
from services.seller.domain import fines as fining

BASE_SCORE = 100
EXPIRY_TIMER = "defect_expiry"


class Defect(BaseModel):
    model_config = ConfigDict(extra="ignore")
    order_id: str
    why: str  # "timeout" or "ruling"
    penalty: int
    at: datetime


class Shop(BaseModel):
    model_config = ConfigDict(extra="ignore")
    seller_id: str
    defects: dict[str, Defect] = Field(default_factory=dict)  # key: refund_id (or case_id)
    restrictions: list[str] = Field(default_factory=list)
    fines: dict[str, fining.Fine] = Field(default_factory=dict)  # key: case_id; kept for the credit window

    @property
    def score(self) -> int:
        return max(0, BASE_SCORE - sum(d.penalty for d in self.defects.values()))

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "Shop":
        return cls.model_validate(state) if state else cls(seller_id=key.removeprefix("shop:"))


def timers_of(shop: Shop, window_s: float) -> dict[str, datetime]:
    since = [d.at for d in shop.defects.values()] + [f.at for f in shop.fines.values()]
    if not since:
        return {}
    return {EXPIRY_TIMER: min(since) + timedelta(seconds=window_s)}


def _settle(shop: Shop, before_score: int, key: str, order_id: str, why: str, ctx: Context) -> Decision:
    """Recompute restrictions after a change and say what changed."""
    emits: list[Emit] = []
    delta = shop.score - before_score
    if delta:
        emits.append(Emit("shop.credit_changed", {
            "seller_id": shop.seller_id, "order_id": order_id, "refund_id": key, "score": shop.score, "delta": delta,
            "defects_in_window": len(shop.defects), "why": why}))
    count = len(shop.defects)
    for name, threshold in ctx.settings.restriction_thresholds():
        active = name in shop.restrictions
        if count >= threshold and not active:
            shop.restrictions.append(name)
            emits.append(Emit("shop.restricted", {"seller_id": shop.seller_id, "order_id": order_id,
                                                  "restriction": name, "defects_in_window": count}))
        elif count < threshold and active:
            shop.restrictions.remove(name)
            emits.append(Emit("shop.restored", {"seller_id": shop.seller_id, "order_id": order_id,
                                                "restriction": name, "defects_in_window": count}))
    return Decision(state=shop.model_dump(mode="python"), emits=emits,
                    timers=timers_of(shop, ctx.settings.credit_window_s))


def _add(shop: Shop, key: str, order_id: str, why: str, penalty: int, ctx: Context) -> Decision:
    before = shop.score
    existing = shop.defects.get(key)
    if existing and existing.penalty >= penalty:
        return Decision.ignore()
    shop.defects[key] = Defect(order_id=order_id, why=why, penalty=penalty, at=existing.at if existing else ctx.now)
    return _settle(shop, before, key, order_id, why, ctx)


def seller_timed_out(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    return _add(shop, d.refund_id, d.order_id, "timeout", ctx.settings.credit_penalty_timeout, ctx)


def ruling_issued(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """A ruling weighs on the shop twice: its credit (a defect) and its deposit (a fine)."""
    fined = fining.on_ruling(shop.fines, shop.seller_id, msg, ctx)
    credit = _credit_of_ruling(shop, msg, ctx)
    if not fined:
        return credit
    return Decision(state=shop.model_dump(mode="python"), emits=credit.emits + fined,
                    timers=timers_of(shop, ctx.settings.credit_window_s))


def _credit_of_ruling(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    key = d.refund_id or d.case_id
    if d.seller_at_fault:
        return _add(shop, key, d.order_id, "ruling", ctx.settings.credit_penalty_at_fault, ctx)
    if d.round > 1 and key in shop.defects:
        # The appeal went the seller's way: the platform no longer holds the seller at fault.
        before = shop.score
        del shop.defects[key]
        return _settle(shop, before, key, d.order_id, "appeal_won", ctx)
    return Decision.ignore()


def on_expiry(shop: Shop, due_at: datetime, ctx: Context) -> Decision:
    window = timedelta(seconds=ctx.settings.credit_window_s)
    for case_id in [k for k, f in shop.fines.items() if f.at + window <= ctx.now]:
        del shop.fines[case_id]  # the shop shows the fines of the window
    expired = [k for k, d in shop.defects.items() if d.at + window <= ctx.now]
    if not expired:
        return Decision(state=shop.model_dump(mode="python"), timers=timers_of(shop, ctx.settings.credit_window_s))
    before = shop.score
    last = shop.defects[expired[-1]]
    for k in expired:
        del shop.defects[k]
    return _settle(shop, before, expired[-1], last.order_id, "expired", ctx)
