"""Claims: an arbitrator takes a case so that two people do not work on the same one. Pure.

A claim lasts `claim_ttl_s` (taking it again renews it), ends with a ruling or a release, and a
supervisor may give a case to someone else at any time. While a claim holds, nobody else may rule
on the case or ask for evidence on it. An appeal goes to an arbitrator who has not ruled on the
case: one who has may not claim it, nor be given it."""
from __future__ import annotations

from typing import Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.arbitration.domain.collector import CLAIMABLE, ArbitrationCollector, case_of
from services.arbitration.domain.model import ArbitrationOrder, Case
def held_by_other(case: Case, arbitrator: str, ctx: Context) -> Decision | None:
    """Refuses an arbitrator's action on a case someone else holds."""
    holder = case.holder(ctx.now)
    if holder is not None and holder != arbitrator:
        assert case.claimed_until is not None
        return Decision.refuse("claimed_by_other", f"case {case.case_id} is being worked on by {holder} until "
                                                   f"{case.claimed_until.isoformat()}")
    return None


def _claimable(case: Case, arbitrator: str) -> Decision | None:
    if case.status not in CLAIMABLE:
        return Decision.refuse("not_claimable", f"case {case.case_id} is {case.status}; only a case being prepared or "
                                                f"awaiting a ruling can be claimed")
    if arbitrator in case.ruled_by():
        return Decision.refuse("same_arbitrator", f"{arbitrator} ruled on case {case.case_id} before; its appeal goes "
                                                  f"to someone else")
    return None


def _hold(c: ArbitrationCollector, case: Case, arbitrator: str, assigned_by: str | None = None) -> Decision:
    ctx = c.ctx
    case.claimed_by, case.claimed_until = arbitrator, ctx.after(ctx.settings.claim_ttl_s)
    c.emit("case.claimed", {"case_id": case.case_id, "arbitrator_id": arbitrator,
                               "claimed_until": case.claimed_until, "assigned_by": assigned_by}, case, by_actor=True)
    return c.decision()


ClaimHandler = Callable[[ArbitrationOrder, Case, str, ParsedMessage, Context], Decision]


def on_case(handler: ClaimHandler) -> Callable[[ArbitrationOrder, ParsedMessage, Context], Decision]:
    """A claim command names a case of the order; the handler gets it and the sending arbitrator."""
    def handle(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        case, refused = case_of(agg, msg.data.case_id)
        if refused:
            return refused
        assert case is not None
        return handler(agg, case, actor_of(msg)[1], msg, ctx)
    handle.__name__ = handler.__name__
    return handle


@on_case
def case_claim(agg: ArbitrationOrder, case: Case, arbitrator: str, msg: ParsedMessage, ctx: Context) -> Decision:
    refused = _claimable(case, arbitrator) or held_by_other(case, arbitrator, ctx)
    if refused:
        return refused
    return _hold(ArbitrationCollector(agg, ctx, actor_of(msg)), case, arbitrator)


@on_case
def case_assign(agg: ArbitrationOrder, case: Case, supervisor: str, msg: ParsedMessage, ctx: Context) -> Decision:
    if supervisor not in ctx.settings.supervisor_ids:
        return Decision.refuse("not_a_supervisor", f"{supervisor} may not give cases to others: only the "
                                                   f"supervisors the arbitration service lists may")
    if (refused := _claimable(case, msg.data.arbitrator_id)) is not None:
        return refused
    return _hold(ArbitrationCollector(agg, ctx, actor_of(msg)), case, msg.data.arbitrator_id, assigned_by=supervisor)


@on_case
def case_release(agg: ArbitrationOrder, case: Case, arbitrator: str, msg: ParsedMessage, ctx: Context) -> Decision:
    if case.holder(ctx.now) != arbitrator:
        return Decision.refuse("not_your_claim", f"{arbitrator} does not hold case {case.case_id}")
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    c.release(case)
    return c.decision()
