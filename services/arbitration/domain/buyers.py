"""A buyer's record (信誉度), one aggregate per buyer (`buyer:<id>`, on the buyer id's partition):
orders, after-sale requests, refunds and cases of the last 90 days, and the cases where a ruling
found the buyer in misconduct. Arbitrators see it beside the shop's record; sellers never do. A
finding of misconduct is published to a global table, so the automatic rules of every order can
see it. Pure."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from contracts.parsing import ParsedMessage
from contracts import ladder
from contracts.topics import ARBITRATION_EVENTS
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision

BUYER = "buyer:"


class Misconduct(BaseModel):
    model_config = ConfigDict(extra="ignore")
    case_id: str
    order_id: str
    at: datetime


class BuyerRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    buyer_id: str
    # counts per day (YYYY-MM-DD) in the window
    orders: dict[str, int] = Field(default_factory=dict)
    requests: dict[str, int] = Field(default_factory=dict)
    refunds: dict[str, int] = Field(default_factory=dict)
    # the cases the buyer was party to: case id -> the day it opened
    cases: dict[str, str] = Field(default_factory=dict)
    misconduct: list[Misconduct] = Field(default_factory=list)
    sanction: ladder.Standing | None = None  # the ladder (contracts/ladder.py): the latest ruling's

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "BuyerRecord":
        return cls.model_validate(state) if state else cls(buyer_id=key.removeprefix(BUYER))

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    def summary(self) -> dict[str, Any]:
        orders, refunds = sum(self.orders.values()), sum(self.refunds.values())
        return {"orders": orders, "requests": sum(self.requests.values()), "refunds": refunds,
                "refund_rate": round(refunds / orders, 4) if orders else None, "cases": len(self.cases),
                "misconduct": [m.model_dump(mode="python") for m in self.misconduct]}

    def read_by_arbitrators(self) -> bool:
        """Arbitrators read a buyer's record beside a case of theirs. Most buyers are never in
        one, and their records (one write or more per order) stay out of the query model."""
        return bool(self.cases or self.misconduct or self.sanction)


def _count(record: BuyerRecord, field: str, ctx: Context) -> Decision:
    counts: dict[str, int] = getattr(record, field)
    day = ctx.now.date().isoformat()
    counts[day] = counts.get(day, 0) + 1
    return _within_window(record, ctx)


def _within_window(record: BuyerRecord, ctx: Context) -> Decision:
    oldest = (ctx.now - timedelta(seconds=ctx.settings.buyer_window_s)).date().isoformat()
    for counted in (record.orders, record.requests, record.refunds):
        for d in [d for d in counted if d < oldest]:
            del counted[d]
    for case_id in [c for c, day in record.cases.items() if day < oldest]:
        del record.cases[case_id]
    return Collector(record, ctx).decision()


def case_opened(record: BuyerRecord, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    if d.case_id in record.cases:
        return Decision.ignore()
    record.cases[d.case_id] = ctx.now.date().isoformat()
    return _within_window(record, ctx)


def ruling_issued(record: BuyerRecord, msg: ParsedMessage, ctx: Context) -> Decision:
    """A finding of misconduct flags the buyer; a later ruling of the same case without it (an appeal
    the buyer won) lifts that finding. A sanction of the buyer moves it on the ladder."""
    d = msg.data
    found = any(m.case_id == d.case_id for m in record.misconduct)
    record.sanction, said = ladder.on_ruling(record.sanction, "buyer", record.buyer_id, d, ctx.now)
    if (d.misconduct == "buyer") == found and not said:
        return Decision.ignore()
    window = timedelta(seconds=ctx.settings.misconduct_window_s)
    record.misconduct = [m for m in record.misconduct if m.at + window > ctx.now and m.case_id != d.case_id]
    if d.misconduct == "buyer":
        record.misconduct.append(Misconduct(case_id=d.case_id, order_id=d.order_id, at=ctx.now))
    until = max((m.at + window for m in record.misconduct), default=None)
    c = Collector(record, ctx)
    for type_, data in said:
        c.emit(type_, data, topic=ARBITRATION_EVENTS)  # the buyer's side of the ladder (seller.events has the shops')
    s = record.sanction
    c.emit("buyer.flagged", {"buyer_id": record.buyer_id, "misconduct_cases": len(record.misconduct),
                             "last_case_id": d.case_id, "flagged_until": until,
                             "sanction": s.level if s else None, "sanction_until": s.until if s else None})
    return c.decision()


HANDLERS: dict[str, Callable[[BuyerRecord, ParsedMessage, Context], Decision]] = {
    "order.paid": lambda r, m, c: _count(r, "orders", c),
    "refund.requested": lambda r, m, c: _count(r, "requests", c) if m.data.attempt == 1 else Decision.ignore(),
    "refund.completed": lambda r, m, c: _count(r, "refunds", c),
    "case.opened": case_opened,
    "ruling.issued": ruling_issued,
}


def buyer_of(msg: ParsedMessage) -> str | None:
    """The buyer a message adds to the record of, if any."""
    if msg.type not in HANDLERS or (msg.type == "ruling.issued" and msg.data.misconduct != "buyer"
                                    and msg.data.round == 1 and msg.data.sanction is None):
        return None  # a later round may lift a finding of the first
    if msg.type == "case.opened" and msg.data.opened_by == "platform":
        return None  # the platform's own investigation of the shop is not the buyer's dispute
    return getattr(msg.data, "buyer_id", None)
