"""Holds during an investigation (冻结对方账户直至调查结束): an arbitrator holds a party's settlement
of the order until the case ends, and may release it sooner. The payment system keeps the money
(`settlement.hold` / `settlement.release`, a stable `hold_id`); a case's end releases every hold
still standing, however it ends, once (ArbitrationCollector.move). Pure."""
from __future__ import annotations

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.arbitration.domain.claims import held_by_other
from services.arbitration.domain.collector import ArbitrationCollector, case_of
from services.arbitration.domain.model import ArbitrationOrder, Hold


def funds_hold(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = case_of(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    if not case.open:
        return Decision.refuse("case_closed", f"case {case.case_id} is closed: nothing is held after it ends")
    if (refused := held_by_other(case, actor_of(msg)[1], ctx)) is not None:
        return refused
    if case.held(d.party) is not None:
        return Decision.refuse("already_held", f"the {d.party}'s settlement of order {agg.order_id} is held already")
    hold = Hold(hold_id=f"hold:{case.case_id}:{d.party}:{len(case.holds) + 1}", party=d.party, reason=d.reason,
                at=ctx.now)
    case.holds.append(hold)
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    data = {"case_id": case.case_id, "hold_id": hold.hold_id, "party": d.party,
            "party_id": agg.user_of(d.party) or "?", "reason": d.reason}
    c.emit("settlement.hold", data, case, by_actor=True)
    c.emit("funds.held", data, case, by_actor=True)
    return c.decision()


def funds_release(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = case_of(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    hold = case.held(d.party)
    if hold is None:
        return Decision.refuse("not_held", f"nothing of the {d.party}'s is held on case {case.case_id}")
    if (refused := held_by_other(case, actor_of(msg)[1], ctx)) is not None:
        return refused
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    c.release_hold(case, hold, "arbitrator")
    return c.decision()
