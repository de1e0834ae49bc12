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
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision, Emit
from contracts import ladder
from services.seller.domain import deposit

BASE_SCORE = 100
EXPIRY_TIMER = "defect_expiry"


class Defect(BaseModel):
    model_config = ConfigDict(extra="ignore")
    order_id: str
    why: str  # "timeout", "ruling" or "late_shipment"
    penalty: int
    at: datetime


class Shop(BaseModel):
    model_config = ConfigDict(extra="ignore")
    seller_id: str
    defects: dict[str, Defect] = Field(default_factory=dict)  # key: refund_id (or case_id)
    restrictions: list[str] = Field(default_factory=list)
    # What rulings drew from the deposit, by case_id; kept for the credit window.
    fines: dict[str, deposit.Deduction] = Field(default_factory=dict)
    compensations: dict[str, deposit.Deduction] = Field(default_factory=dict)
    orders: dict[str, int] = Field(default_factory=dict)  # orders paid per day (YYYY-MM-DD) in the window
    sanction: ladder.Standing | None = None  # the ladder (contracts/ladder.py): the latest ruling's
    return_address: dict[str, Any] | None = None  # the last the shop gave (退货地址), for rulings

    def published(self) -> list[str]:
        """What every seller instance enforces: the restrictions, and a sanction past a warning."""
        level = self.sanction.level if self.sanction and self.sanction.level != "warning" else None
        return self.restrictions + ([level] if level else [])

    @property
    def orders_in_window(self) -> int:
        return sum(self.orders.values())

    @property
    def defect_rate(self) -> float:
        return len(self.defects) / self.orders_in_window if self.orders_in_window else 0.0

    @property
    def score(self) -> int:
        return max(0, BASE_SCORE - sum(d.penalty for d in self.defects.values()))

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "Shop":
        return cls.model_validate(state) if state else cls(seller_id=key.removeprefix("shop:"))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")


def timers_of(shop: Shop, window_s: float) -> dict[str, datetime]:
    since = ([d.at for d in shop.defects.values()] + [f.at for f in shop.fines.values()]
             + [f.at for f in shop.compensations.values()])
    due = [min(since) + timedelta(seconds=window_s)] if since else []
    if shop.sanction is not None and shop.sanction.until is not None:
        due.append(shop.sanction.until)  # a suspension ends by itself
    return {EXPIRY_TIMER: min(due)} if due else {}


class ShopCollector(Collector[Shop]):
    """What one message does to a shop's standing; the defects' expiry is its deadline."""

    def timers(self) -> dict[str, datetime]:
        return timers_of(self.agg, self.ctx.settings.credit_window_s)


def _settle(shop: Shop, before_score: int, key: str, order_id: str, why: str, ctx: Context) -> Decision:
    """Recompute restrictions after a change and say what changed."""
    c = ShopCollector(shop, ctx)
    delta = shop.score - before_score
    if delta:
        c.emit("shop.credit_changed", {
            "seller_id": shop.seller_id, "order_id": order_id, "refund_id": key, "score": shop.score, "delta": delta,
            "defects_in_window": len(shop.defects), "why": why})
    count, orders, rate = len(shop.defects), shop.orders_in_window, shop.defect_rate
    before = shop.published()
    figures = {"defects_in_window": count, "orders_in_window": orders, "defect_rate": round(rate, 4)}
    for name, threshold, rate_threshold in ctx.settings.restriction_levels():
        active = name in shop.restrictions
        by_rate = rate_threshold is not None and orders >= ctx.settings.rate_min_orders and rate >= rate_threshold
        reached = count >= threshold or by_rate
        if reached and not active:
            shop.restrictions.append(name)
            c.emit("shop.restricted", {"seller_id": shop.seller_id, "order_id": order_id, "restriction": name, **figures})
        elif not reached and active:
            shop.restrictions.remove(name)
            c.emit("shop.restored", {"seller_id": shop.seller_id, "order_id": order_id, "restriction": name, **figures})
    if shop.published() != before:  # every seller instance keeps them (the order's side enforces them)
        c.emit("shop.restrictions_changed", _table_entry(shop))
    return c.decision()


def _table_entry(shop: Shop) -> dict[str, Any]:
    """The shop's entry of seller.restrictions: what every instance of every service needs of it."""
    return {"seller_id": shop.seller_id, "restrictions": shop.published(), "return_address": shop.return_address}


def _sanctioned(shop: Shop, moved: tuple[ladder.Standing | None, list[ladder.Said]], ctx: Context) -> list[Emit]:
    """The shop's standing after a ruling or the clock, and its events (the table follows)."""
    before = shop.published()
    shop.sanction, said = moved
    c = ShopCollector(shop, ctx)
    for type_, data in said:
        c.emit(type_, data, by_actor=False)
    if shop.published() != before:
        c.emit("shop.restrictions_changed", _table_entry(shop))
    return c.emits


def _add(shop: Shop, key: str, order_id: str, why: str, penalty: int, ctx: Context) -> Decision:
    before = shop.score
    existing = shop.defects.get(key)
    if existing and existing.penalty >= penalty:
        return Decision.ignore()
    shop.defects[key] = Defect(order_id=order_id, why=why, penalty=penalty, at=existing.at if existing else ctx.now)
    return _settle(shop, before, key, order_id, why, ctx)


def concerns_shop(msg: ParsedMessage) -> bool:
    """Of the refund service's state changes, only a timeout it took is the shop's; of its new
    requests, only a cancellation for late shipment; of its own answers, those that give an address."""
    if msg.type == "refund.state_changed":
        return msg.data.seller_timeout_taken
    if msg.type == "refund.requested":
        return msg.data.late_shipment
    if msg.type == "seller.approved":
        return msg.data.return_address is not None
    if msg.type == "seller.offered":
        return msg.data.offer.return_address is not None
    return True


def shipped_late(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """Not shipped by the order's ship_by: shipped late, or cancelled for it. One defect per order."""
    d = msg.data
    return _add(shop, f"late:{d.order_id}", d.order_id, "late_shipment", ctx.settings.credit_penalty_late_shipment, ctx)


def seller_timed_out(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    return _add(shop, d.refund_id, d.order_id, "timeout", ctx.settings.credit_penalty_timeout, ctx)


def ruling_issued(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """A ruling weighs on the shop twice: its credit (a defect) and its deposit (a fine)."""
    fined = deposit.on_ruling(shop.fines, shop.seller_id, msg, ctx)
    sanctioned = _sanctioned(shop, ladder.on_ruling(shop.sanction, "seller", shop.seller_id, msg.data, ctx.now), ctx)
    credit = _credit_of_ruling(shop, msg, ctx)
    if not fined and not sanctioned:
        return credit
    c = ShopCollector(shop, ctx)
    c.emits.extend(credit.emits + fined + sanctioned)  # the fine's events are the deposit module's own
    return c.decision()


def return_address_given(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """The shop's last return address (an approval's or an offer's) goes into the table, so that a
    ruling that orders goods back, or the platform answering for a suspended shop, can name it."""
    d = msg.data
    given = d.return_address if msg.type == "seller.approved" else d.offer.return_address
    if given is None or given.model_dump() == shop.return_address:
        return Decision.ignore()
    shop.return_address = given.model_dump()
    c = ShopCollector(shop, ctx)
    c.emit("shop.restrictions_changed", _table_entry(shop))
    return c.decision()


def complaint_ruled(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """An upheld complaint against the shop may put it on the ladder."""
    moved = _sanctioned(shop, ladder.on_complaint(shop.sanction, shop.seller_id, msg.data, ctx.now), ctx)
    if not moved:
        return Decision.ignore()
    c = ShopCollector(shop, ctx)
    c.emits.extend(moved)
    return c.decision()


def compensation_awarded(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """The buyer's compensation on a case changed: the deposit follows it."""
    c = ShopCollector(shop, ctx)
    c.emits.extend(deposit.on_compensation(shop.compensations, shop.seller_id, msg, ctx))
    return c.decision() if c.emits else Decision.ignore()


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


def order_paid(shop: Shop, msg: ParsedMessage, ctx: Context) -> Decision:
    """Another order for the shop: the denominator of its defect rate."""
    day = ctx.now.date().isoformat()
    shop.orders[day] = shop.orders.get(day, 0) + 1
    _forget_old_orders(shop, ctx)
    return _settle(shop, shop.score, "", msg.data.order_id, "order", ctx)


def _forget_old_orders(shop: Shop, ctx: Context) -> None:
    oldest = (ctx.now - timedelta(seconds=ctx.settings.credit_window_s)).date().isoformat()
    for day in [d for d in shop.orders if d < oldest]:
        del shop.orders[day]


def on_expiry(shop: Shop, due_at: datetime, ctx: Context) -> Decision:
    lifted = _sanctioned(shop, ladder.on_clock(shop.sanction, "seller", shop.seller_id, ctx.now), ctx)
    if lifted:
        c = ShopCollector(shop, ctx)
        c.emits.extend(lifted)
        return c.decision()
    _forget_old_orders(shop, ctx)
    window = timedelta(seconds=ctx.settings.credit_window_s)
    for held in (shop.fines, shop.compensations):  # the shop shows those of the window
        for case_id in [k for k, f in held.items() if f.at + window <= ctx.now]:
            del held[case_id]
    expired = [k for k, d in shop.defects.items() if d.at + window <= ctx.now]
    if not expired:
        return ShopCollector(shop, ctx).decision()
    before = shop.score
    last = shop.defects[expired[-1]]
    for k in expired:
        del shop.defects[k]
    return _settle(shop, before, expired[-1], last.order_id, "expired", ctx)
