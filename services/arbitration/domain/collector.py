"""What every decision on an order's cases shares: the deadlines a case runs, the
`ArbitrationCollector` that collects one decision's events, finding a case and its party, opening a case, and sending one to
the arbitrators. Pure."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision, actor_of
from services.arbitration.domain.model import ArbitrationOrder, Case, Hold, RequestFacts, Submission
from services.arbitration.domain.transitions import CLOSED_WHY, next_state

CLAIMABLE = frozenset({"collecting_evidence", "awaiting_ruling"})  # the statuses an arbitrator works on
EVIDENCE_TIMER, APPEAL_TIMER, RULING_TIMER = "evidence_window", "appeal_window", "ruling_due"


def timers_of(agg: ArbitrationOrder) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for c in agg.cases.values():
        if c.status == "collecting_evidence" and c.evidence_due:
            out[f"{EVIDENCE_TIMER}:{c.case_id}"] = max(c.evidence_due.values())
        elif c.status == "awaiting_ruling" and c.ruling_due_at and not c.overdue:
            out[f"{RULING_TIMER}:{c.case_id}"] = c.ruling_due_at
        elif c.status == "ruled" and c.last_ruling and c.last_ruling.appealable_until:
            out[f"{APPEAL_TIMER}:{c.case_id}"] = c.last_ruling.appealable_until
    return out


class ArbitrationCollector(Collector[ArbitrationOrder]):
    """What one decision does to an order's cases; its events carry the order and correlate by the
    request (or the case when there is none)."""

    def emit(self, type_: str, data: dict[str, Any], case: Case | None = None, *,  # type: ignore[override]
             correlation_id: str | None = None, by_actor: bool = False) -> None:
        corr = (case.refund_id or case.case_id) if case else correlation_id
        super().emit(type_, {"order_id": self.agg.order_id, **data}, correlation_id=corr, by_actor=by_actor)

    def move(self, case: Case, trigger: str) -> None:
        target = next_state(case.status, trigger)
        assert target is not None, f"illegal {case.status} --{trigger}-->"
        case.status = target  # type: ignore[assignment]
        if target not in CLAIMABLE:
            self.release(case)  # ruled or closed: nothing left to work on
        if target == "closed":
            case.closed_why = CLOSED_WHY.get(trigger, trigger)
            for hold in [h for h in case.holds if h.released_at is None]:
                self.release_hold(case, hold, "case_closed")  # however it closes, every hold ends with it
            self.emit("case.closed", {"case_id": case.case_id, "why": case.closed_why}, case)

    def release_hold(self, case: Case, hold: Hold, by: str) -> None:
        """End a hold, once: the payment system is told, and so are the parties."""
        hold.released_at = self.ctx.now
        data = {"case_id": case.case_id, "hold_id": hold.hold_id, "party": hold.party,
                "party_id": self.agg.user_of(hold.party) or "?", "reason": hold.reason}
        self.emit("settlement.release", data, case, by_actor=by == "arbitrator")
        self.emit("funds.released", {**data, "released_by": by}, case, by_actor=by == "arbitrator")

    def release(self, case: Case) -> None:
        """The case's claim ends (released, ruled or closed)."""
        if case.claimed_by is None:
            return
        holder, case.claimed_by, case.claimed_until = case.claimed_by, None, None
        self.emit("case.released", {"case_id": case.case_id, "arbitrator_id": holder}, case, by_actor=True)

    def timers(self) -> dict[str, datetime]:
        return timers_of(self.agg)

    def decision(self) -> Decision:
        self.agg.refresh_queue()
        return super().decision()



def evidence_of(msg: ParsedMessage) -> list[dict[str, Any]]:
    return [e.model_dump() for e in getattr(msg.data, "evidence", [])]


def open_case(c: ArbitrationCollector, refund_id: str | None, opened_by: str, reason: str, ctx: Context,
              by_rule: bool = False) -> Case:
    """A new case. `by_rule`: opened for an automatic rule that decides it without asking the parties
    for evidence (case.opened says so, so that nobody is asked)."""
    agg = c.agg
    due = ctx.after(ctx.settings.evidence_window_s)
    case = Case(case_id=ctx.new_id("CS"), refund_id=refund_id, opened_by=opened_by, reason=reason,  # type: ignore[arg-type]
                opened_at=ctx.now, evidence_due={"buyer": due, "seller": due}, submitted={"buyer": False, "seller": False})
    agg.cases[case.case_id] = case
    req = agg.requests.get(refund_id) if refund_id else None
    earlier_filings(case, req)
    c.emit("case.opened", {
        "case_id": case.case_id, "refund_id": refund_id, "opened_by": opened_by, "evidence_due_at": due,
        "buyer_id": agg.buyer_id, "seller_id": agg.seller_id, "reason": reason,
        "refund_kind": req.kind if req else None, "amount_fen": req.amount_fen if req else None,
        "asks_evidence": not by_rule,
    }, case, by_actor=opened_by != "system")
    return case


def earlier_filings(case: Case, req: RequestFacts | None) -> None:
    """Evidence filed before the case is part of it from the start: the buyer's with the request,
    the seller's with its rejection. A party that filed some counts as having submitted."""
    if req is None:
        return
    if req.evidence:
        case.submissions.append(Submission(party="buyer", at=req.requested_at or case.opened_at, description=req.description,
                                           evidence=req.evidence, kind="with_request"))
        case.submitted["buyer"] = True
    rejection = req.seller_rejection or {}
    if rejection.get("evidence"):
        case.submissions.append(Submission(party="seller", at=rejection.get("at") or case.opened_at,
                                           description=rejection.get("message", ""), evidence=rejection["evidence"],
                                           kind="rejection"))
        case.submitted["seller"] = True


def case_of(agg: ArbitrationOrder, case_id: str) -> tuple[Case | None, Decision | None]:
    case = agg.cases.get(case_id)
    if case is None:
        return None, Decision.refuse("unknown_case", f"order {agg.order_id} has no case {case_id}")
    return case, None


def case_for_party(agg: ArbitrationOrder, msg: ParsedMessage) -> tuple[Case | None, str | None, Decision | None]:
    role, actor_id = actor_of(msg)
    case, refused = case_of(agg, msg.data.case_id)
    if refused:
        return None, None, refused
    party = agg.party_of(role, actor_id)
    if party is None:
        return case, None, Decision.refuse("not_a_party", f"only the buyer or the seller of order {agg.order_id} may do this")
    return case, party, None


def to_the_arbitrators(c: ArbitrationCollector, case: Case) -> None:
    c.move(case, "evidence_window_closed")
    case.ruling_due_at = c.ctx.settings.ruling_due(c.ctx.now)
    case.overdue = False
    c.emit("case.awaiting_ruling", {"case_id": case.case_id, "ruling_due_at": case.ruling_due_at,
                                       "round": case.round}, case)
