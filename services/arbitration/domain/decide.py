"""What each message does to an order's cases. Pure: state in, Decision out."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from contracts.common import MAX_EVIDENCE_ITEMS
from contracts.parsing import ParsedMessage
from runtime.context import Context
from runtime.decision import Decision, Emit
from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts, RulingRecord, Submission
from services.arbitration.domain.rules import BUYER_WINS_OUTCOME, SELLER_TIMEOUT, Rule, default_fine, full_value, matching_rule
from services.arbitration.domain.ruling_checks import check_ruling, refund_amount
from services.arbitration.domain.statuses import CLOSED_WHY, can, next_status

SELLER_REASONS = frozenset({"malicious_complaint", "ip_infringement", "system_fault", "dispute"})
MAX_CASE_EVIDENCE = 3 * MAX_EVIDENCE_ITEMS  # per party per case
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


class Step:
    """Collects the events of one decision and builds it."""

    def __init__(self, agg: ArbitrationOrder, ctx: Context, actor: tuple[str, str] | None = None) -> None:
        self.agg, self.ctx, self.actor = agg, ctx, actor
        self.emits: list[Emit] = []

    def emit(self, type_: str, data: dict[str, Any], case: Case | None = None, *, by_actor: bool = False) -> None:
        role, aid = self.actor if (by_actor and self.actor) else ("system", None)
        corr = (case.refund_id or case.case_id) if case else None
        self.emits.append(Emit(type_, {"order_id": self.agg.order_id, **data}, actor_role=role, actor_id=aid,
                               correlation_id=corr))

    def move(self, case: Case, trigger: str) -> None:
        target = next_status(case.status, trigger)
        assert target is not None, f"illegal {case.status} --{trigger}-->"
        case.status = target  # type: ignore[assignment]
        if target == "closed":
            case.closed_why = CLOSED_WHY.get(trigger, trigger)
            self.emit("case.closed", {"case_id": case.case_id, "why": case.closed_why}, case)

    def decision(self) -> Decision:
        self.agg.refresh_queue()
        return Decision(state=self.agg.dump(), emits=self.emits, timers=timers_of(self.agg))


def _actor(msg: ParsedMessage) -> tuple[str, str]:
    return msg.envelope.actor.role, msg.envelope.actor.id


def _evidence(msg: ParsedMessage) -> list[dict[str, Any]]:
    return [e.model_dump() for e in getattr(msg.data, "evidence", [])]


# ---- facts from other services ----------------------------------------------------------------


def order_paid(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.buyer_id:
        return Decision.ignore()
    d = msg.data
    agg.buyer_id, agg.seller_id, agg.paid_fen = d.buyer_id, d.seller_id, d.amount_fen
    return Decision(state=agg.dump(), timers=timers_of(agg))


def refund_requested(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    agg.buyer_id, agg.seller_id = d.buyer_id, d.seller_id
    prior = agg.requests.get(d.refund_id)
    if prior and prior.attempt >= d.attempt:
        return Decision.ignore()
    agg.requests[d.refund_id] = RequestFacts(
        refund_id=d.refund_id, kind=d.kind, reason=d.reason, amount_fen=d.amount_fen, refundable_fen=d.refundable_fen,
        attempt=d.attempt, description=d.description or "", evidence=[e.model_dump() for e in d.evidence],
        due_at=d.seller_due_at,
    )
    return Decision(state=agg.dump(), timers=timers_of(agg))


def refund_state_changed(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    req = agg.requests.get(d.refund_id)
    if req is None or (req.state, req.due_at, req.kind) == (d.state, d.due_at, d.kind):
        return Decision.ignore()
    req.state, req.due_at, req.kind = d.state, d.due_at, d.kind
    step = Step(agg, ctx)
    case = agg.open_case_for(d.refund_id)
    if d.state == "closed" and d.closed_why == "cancelled" and case and can(case.status, "withdrawn"):
        step.move(case, "withdrawn")
    return step.decision()


def seller_rejected(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    req = agg.requests.get(d.refund_id)
    if req is None:
        return Decision.ignore()
    req.seller_rejection = {"reason": d.reason, "message": d.message, "evidence": _evidence(msg), "at": ctx.now}
    if d.reviewed and agg.open_case_for(d.refund_id) is None:
        # The shop is restricted: its rejection goes to the platform instead of the buyer.
        step = Step(agg, ctx)
        _open_case(step, d.refund_id, "system", "shop_restricted", ctx)
        return step.decision()
    return Decision(state=agg.dump(), timers=timers_of(agg))


def seller_timed_out(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """The seller let the answer deadline pass: a case opens and is ruled at once for the buyer."""
    d = msg.data
    req = agg.requests.get(d.refund_id)
    if req is None:
        raise LookupError(f"seller.timed_out for {d.refund_id} before its refund.requested; retried")
    if agg.open_case_for(d.refund_id) is not None:
        return Decision.ignore()
    step = Step(agg, ctx)
    case = _open_case(step, req.refund_id, "system", "seller_timeout", ctx)
    flagged_until = (ctx.extra or {}).get("buyer_flagged_until")
    if flagged_until and datetime.fromisoformat(str(flagged_until).replace("Z", "+00:00")) > ctx.now:
        # A ruling found this buyer in misconduct within the year: an arbitrator decides, not the rule.
        _to_the_arbitrators(step, case)
        return step.decision()
    _auto_rule(step, case, req, SELLER_TIMEOUT)
    return step.decision()


def negotiated(entry: str) -> Callable[[ArbitrationOrder, ParsedMessage, Context], Decision]:
    """The negotiation is part of the case file: each offer, answer and post, in order."""
    def handle(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        req = agg.requests.get(d.refund_id)
        if req is None or any(n.get("event_id") == msg.event_id for n in req.negotiation):
            return Decision.ignore()
        record: dict[str, Any] = {"entry": entry, "at": ctx.now, "by": msg.envelope.actor.role, "event_id": msg.event_id}
        if getattr(d, "offer_id", None):
            record["offer_id"] = d.offer_id
        if getattr(d, "offer", None) is not None:
            record["offer"] = d.offer.model_dump()
        if entry == "offer":
            record.update(message=d.message, buyer_due_at=d.buyer_due_at)
        elif entry == "offer_declined":
            record["message"] = d.message
            offer = record.get("offer") or {}
            req.declined_full_offer = req.declined_full_offer or full_value(offer, req.kind, req.amount_fen)
        elif entry == "post":
            record.update(post_id=d.post_id, by=d.author_role, text=d.text,
                          attachments=[e.model_dump() for e in d.attachments])
        req.negotiation.append(record)
        return Decision(state=agg.dump(), timers=timers_of(agg))
    handle.__name__ = f"negotiation_{entry}"
    return handle


# ---- arbitration.commands ----------------------------------------------------------------


def _open_case(step: Step, refund_id: str | None, opened_by: str, reason: str, ctx: Context) -> Case:
    agg = step.agg
    due = ctx.after(ctx.settings.evidence_window_s)
    case = Case(case_id=ctx.new_id("CS"), refund_id=refund_id, opened_by=opened_by, reason=reason,  # type: ignore[arg-type]
                opened_at=ctx.now, evidence_due={"buyer": due, "seller": due}, submitted={"buyer": False, "seller": False})
    agg.cases[case.case_id] = case
    req = agg.requests.get(refund_id) if refund_id else None
    _earlier_filings(case, req)
    step.emit("case.opened", {
        "case_id": case.case_id, "refund_id": refund_id, "opened_by": opened_by, "evidence_due_at": due,
        "buyer_id": agg.buyer_id, "seller_id": agg.seller_id, "reason": reason,
        "refund_kind": req.kind if req else None, "amount_fen": req.amount_fen if req else None,
    }, case, by_actor=opened_by != "system")
    return case


def _earlier_filings(case: Case, req: RequestFacts | None) -> None:
    """Evidence filed before the case is part of it from the start: the buyer's with the request,
    the seller's with its rejection. A party that filed some counts as having submitted."""
    if req is None:
        return
    if req.evidence:
        case.submissions.append(Submission(party="buyer", at=case.opened_at, description=req.description,
                                           evidence=req.evidence, kind="with_request"))
        case.submitted["buyer"] = True
    rejection = req.seller_rejection or {}
    if rejection.get("evidence"):
        case.submissions.append(Submission(party="seller", at=rejection.get("at") or case.opened_at,
                                           description=rejection.get("message", ""), evidence=rejection["evidence"],
                                           kind="rejection"))
        case.submitted["seller"] = True


# A seller may not open a case on a request it has still to answer (its 48 h clock keeps running:
# approve, reject or offer first), nor while the goods or the money are on their way.
SELLER_CASE_REFUSED = {
    "requested": ("answer_first", "answer the request first (approve, reject or offer); a case does not stop "
                                  "the deadline to answer"),
    **{state: ("refund_in_progress", "the request is being carried out (goods or money on their way); "
                                     "a case cannot stop it") for state in
       ("return_pending", "return_in_transit", "replacement_pending", "payout_pending", "payout_failed")},
}


def intervention_request(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    role, actor_id = _actor(msg)
    if agg.buyer_id is None:
        return Decision.refuse("unknown_order", f"order {agg.order_id} is not known")
    party = agg.party_of(role, actor_id)
    if party is None:
        return Decision.refuse("not_a_party", f"only the order's buyer or seller may ask the platform to step in")
    req = agg.requests.get(d.refund_id) if d.refund_id else None
    if party == "buyer":
        if req is None:
            return Decision.refuse("unknown_refund", "a buyer's intervention names the after-sale request (refund_id)")
        if req.state != "rejected":
            return Decision.refuse("not_escalatable", f"request {req.refund_id} is {req.state}; the buyer may escalate "
                                                      f"once the seller has rejected it")
        if req.due_at and ctx.now > req.due_at:
            return Decision.refuse("escalation_window_closed", f"the window to escalate closed at {req.due_at.isoformat()}")
    else:
        if d.reason not in SELLER_REASONS:
            return Decision.refuse("unknown_reason", f"a seller asks for intervention for one of: {', '.join(sorted(SELLER_REASONS))}")
        if d.refund_id and req is None:
            return Decision.refuse("unknown_refund", f"order {agg.order_id} has no request {d.refund_id}")
        if req is not None and req.state == "closed":
            return Decision.refuse("refund_closed", f"request {req.refund_id} is closed")
        if req is not None and req.state in SELLER_CASE_REFUSED:
            code, why = SELLER_CASE_REFUSED[req.state]
            return Decision.refuse(code, f"request {req.refund_id} is {req.state}: {why}")
    if agg.open_case_for(d.refund_id) is not None:
        return Decision.refuse("case_already_open", f"a case is already open for {d.refund_id or 'this order'}")
    step = Step(agg, ctx, _actor(msg))
    case = _open_case(step, d.refund_id, party, d.reason, ctx)
    case.submissions.append(Submission(party=party, at=ctx.now, description=d.description, evidence=_evidence(msg),
                                       kind="filing"))
    case.submitted[party] = True
    return step.decision()


def _case(agg: ArbitrationOrder, case_id: str) -> tuple[Case | None, Decision | None]:
    case = agg.cases.get(case_id)
    if case is None:
        return None, Decision.refuse("unknown_case", f"order {agg.order_id} has no case {case_id}")
    return case, None


def _case_for_party(agg: ArbitrationOrder, msg: ParsedMessage) -> tuple[Case | None, str | None, Decision | None]:
    role, actor_id = _actor(msg)
    case, refused = _case(agg, msg.data.case_id)
    if refused:
        return None, None, refused
    party = agg.party_of(role, actor_id)
    if party is None:
        return case, None, Decision.refuse("not_a_party", f"only the buyer or the seller of order {agg.order_id} may do this")
    return case, party, None


def evidence_submit(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    case, party, refused = _case_for_party(agg, msg)
    if refused:
        return refused
    assert case and party
    due = case.evidence_due.get(party)
    if case.status != "collecting_evidence" or due is None or ctx.now > due:
        when = f"closed at {due.isoformat()}" if due else "is closed"
        return Decision.refuse("evidence_late", f"evidence for case {case.case_id} from the {party} {when}")
    if not msg.data.evidence and not msg.data.description.strip() and not msg.data.done:
        return Decision.refuse("nothing_submitted", "a submission needs evidence, a description, or done: true")
    if case.evidence_count(party) + len(msg.data.evidence) > MAX_CASE_EVIDENCE:
        return Decision.refuse("too_much_evidence", f"at most {MAX_CASE_EVIDENCE} items per party per case")
    case.submissions.append(Submission(party=party, at=ctx.now, description=msg.data.description, evidence=_evidence(msg),
                                       round=case.round))  # type: ignore[arg-type]
    case.submitted[party] = True
    case.done[party] = case.done.get(party, False) or msg.data.done
    step = Step(agg, ctx, _actor(msg))
    step.emit("evidence.submitted", {"case_id": case.case_id, "party": party, "evidence_count": len(msg.data.evidence),
                                     "total_evidence": case.evidence_count(party), "done": msg.data.done},
              case, by_actor=True)
    if all(case.done.get(p) and case.submitted.get(p) for p in ("buyer", "seller")):
        _to_the_arbitrators(step, case)  # both said all they have: rule early, no window to wait out
    return step.decision()


def evidence_request(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = _case(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    if not can(case.status, "evidence.request"):
        return Decision.refuse("case_not_open_for_evidence", f"case {case.case_id} is {case.status}")
    due = ctx.after(d.due_in_seconds or ctx.settings.evidence_window_s)
    step = Step(agg, ctx, _actor(msg))
    step.move(case, "evidence.request")
    case.evidence_due[d.party] = due
    case.submitted[d.party] = False
    case.done[d.party] = False
    case.submissions.append(Submission(party=d.party, at=ctx.now, description=d.message, kind="request", round=case.round))
    step.emit("evidence.requested", {"case_id": case.case_id, "party": d.party, "user_id": agg.user_of(d.party) or "?",
                                     "due_at": due}, case, by_actor=True)
    return step.decision()


def ruling_decide(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = _case(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    if case.status != "awaiting_ruling":
        return Decision.refuse("not_awaiting_ruling", f"case {case.case_id} is {case.status}, not awaiting a ruling")
    req = agg.requests.get(case.refund_id) if case.refund_id else None
    arbitrator = msg.envelope.actor.id
    if (r := check_ruling(case, req, d.outcome, arbitrator)) is not None:
        return Decision(reject=r)
    amount, r = refund_amount(d.outcome, d.refund_fen, req)
    if r is not None:
        return Decision(reject=r)
    if (d.return_shipping_fen or 0) > ctx.settings.max_postage_fen:
        return Decision.refuse("postage_exceeds_cap", f"return postage of at most {ctx.settings.max_postage_fen} fen "
                                                      f"is repaid; the ruling states {d.return_shipping_fen}")
    step = Step(agg, ctx, _actor(msg))
    penalty = d.penalty_fen or default_fine(d.seller_at_fault, d.misconduct, ctx.settings)
    if penalty and not d.seller_at_fault:
        return Decision.refuse("penalty_without_fault", "only a seller found at fault can be fined")
    _issue(step, case, outcome=d.outcome, refund_fen=amount, shipping=d.return_shipping_paid_by,
           at_fault=d.seller_at_fault, reasoning=d.reasoning, decided_by=arbitrator,
           costs={"return_shipping_fen": d.return_shipping_fen or 0, "misconduct": d.misconduct,
                  "penalty_fen": penalty})
    return step.decision()


def ruling_appeal(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    case, party, refused = _case_for_party(agg, msg)
    if refused:
        return refused
    assert case and party
    if party in case.appeals:
        return Decision.refuse("already_appealed", f"the {party} already appealed case {case.case_id}; each party "
                                                   f"appeals once")
    last = case.last_ruling
    if case.status != "ruled" or last is None or last.appealable_until is None:
        return Decision.refuse("not_appealable", f"case {case.case_id} is {case.status}; its last ruling is final")
    if ctx.now > last.appealable_until:
        return Decision.refuse("appeal_window_closed", f"the appeal window closed at {last.appealable_until.isoformat()}")
    step = Step(agg, ctx, _actor(msg))
    step.move(case, "ruling.appeal")
    case.round += 1
    case.appeals.append(party)  # type: ignore[arg-type]
    due = ctx.after(ctx.settings.evidence_window_s)
    case.evidence_due = {"buyer": due, "seller": due}
    case.submitted = {"buyer": False, "seller": False}
    case.done = {}
    case.submissions.append(Submission(party=party, at=ctx.now, description=msg.data.description,
                                       evidence=_evidence(msg), kind="appeal", round=case.round))
    case.submitted[party] = True
    step.emit("ruling.appealed", {"case_id": case.case_id, "party": party, "refund_id": case.refund_id,
                                  "evidence_due_at": due}, case, by_actor=True)
    return step.decision()


# ---- rulings ----------------------------------------------------------------------------------


NO_COSTS = {"return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 0}


def _issue(step: Step, case: Case, *, outcome: str, refund_fen: int, shipping: str, at_fault: bool, reasoning: str,
           decided_by: str, costs: dict[str, Any] = NO_COSTS) -> None:
    ctx = step.ctx
    # Each party has one appeal of its own: a ruling is final once both have used theirs (the
    # winner of a round cannot use up the loser's appeal).
    final = set(case.appeals) >= {"buyer", "seller"}
    appealable_until = None if final else ctx.after(ctx.settings.appeal_window_s)
    previous = case.last_ruling
    reverses = bool(previous) and ((previous.outcome == "reject") != (outcome == "reject")
                                   or previous.seller_at_fault != at_fault)
    case.rulings.append(RulingRecord(round=case.round, outcome=outcome, refund_fen=refund_fen,
                                     return_shipping_paid_by=shipping, seller_at_fault=at_fault, reasoning=reasoning,
                                     decided_by=decided_by, at=ctx.now, appealable_until=appealable_until, final=final,
                                     **costs))
    case.ruling_due_at = None
    step.emit("ruling.issued", {
        "case_id": case.case_id, "outcome": outcome, "refund_fen": refund_fen, "return_shipping_paid_by": shipping,
        "seller_at_fault": at_fault, "reasoning": reasoning, "decided_by": decided_by,
        "appealable_until": appealable_until, **costs,
        "refund_id": case.refund_id, "round": case.round, "final": final,
        "reverses_previous": reverses, "buyer_id": step.agg.buyer_id, "seller_id": step.agg.seller_id,
    }, case, by_actor=not decided_by.startswith("auto:"))
    if final:
        step.move(case, "final_ruling")
    elif case.status == "collecting_evidence":
        step.move(case, "auto_ruling")
    else:
        step.move(case, "ruling.decide")


def _auto_rule(step: Step, case: Case, req: RequestFacts, rule: Rule) -> None:
    if rule.winner == "buyer":
        outcome = BUYER_WINS_OUTCOME[req.kind]
        amount = 0 if outcome == "exchange" else min(req.amount_fen, req.refundable_fen or req.amount_fen)
        shipping = "seller"
    else:
        outcome, amount, shipping = "reject", 0, "buyer"
    _issue(step, case, outcome=outcome, refund_fen=amount, shipping=shipping, at_fault=rule.seller_at_fault,
           reasoning=rule.reasoning, decided_by=f"auto:{rule.name}")


# ---- deadlines ----------------------------------------------------------------------------------


def on_evidence_window(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    case = agg.cases.get(case_id)
    if case is None or case.status != "collecting_evidence" or max(case.evidence_due.values()) != due_at:
        return Decision.ignore()
    step = Step(agg, ctx)
    req = agg.requests.get(case.refund_id) if case.refund_id else None
    rule = matching_rule(case.submitted.get("buyer", False), case.submitted.get("seller", False))
    if rule is not None and rule.winner == "buyer" and req is not None and req.declined_full_offer:
        rule = None  # the buyer turned down what it asked for: an arbitrator weighs that, not a rule
    if any(s.kind == "request" and s.round == case.round for s in case.submissions):
        rule = None  # an arbitrator asked for more: the case waits for the arbitrator, never a rule
    if case.round == 1 and req is not None and rule is not None:
        _auto_rule(step, case, req, rule)
        return step.decision()
    _to_the_arbitrators(step, case)
    return step.decision()


def _to_the_arbitrators(step: Step, case: Case) -> None:
    step.move(case, "evidence_window_closed")
    case.ruling_due_at = step.ctx.after(step.ctx.settings.ruling_target_s)
    case.overdue = False
    step.emit("case.awaiting_ruling", {"case_id": case.case_id, "ruling_due_at": case.ruling_due_at,
                                       "round": case.round}, case)


def on_appeal_window(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    case = agg.cases.get(case_id)
    if case is None or case.status != "ruled":
        return Decision.ignore()
    step = Step(agg, ctx)
    step.move(case, "appeal_window_closed")
    return step.decision()


def on_ruling_due(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    """A deadline nobody watches does not exist: an unruled case past its target is flagged (first
    in the queue, a metric) and the arbitrators are told."""
    case = agg.cases.get(case_id)
    if case is None or case.status != "awaiting_ruling" or case.ruling_due_at != due_at or case.overdue:
        return Decision.ignore()
    case.overdue = True
    step = Step(agg, ctx)
    step.emit("case.ruling_overdue", {"case_id": case.case_id, "ruling_due_at": due_at, "round": case.round}, case)
    return step.decision()


HANDLERS: dict[str, Callable[[ArbitrationOrder, ParsedMessage, Context], Decision]] = {
    "order.paid": order_paid,
    "refund.requested": refund_requested,
    "refund.state_changed": refund_state_changed,
    "seller.rejected": seller_rejected,
    "seller.timed_out": seller_timed_out,
    "seller.offered": negotiated("offer"),
    "refund.offer_accepted": negotiated("offer_accepted"),
    "refund.offer_declined": negotiated("offer_declined"),
    "refund.offer_lapsed": negotiated("offer_lapsed"),
    "conversation.posted": negotiated("post"),
    "intervention.request": intervention_request,
    "evidence.submit": evidence_submit,
    "evidence.request": evidence_request,
    "ruling.decide": ruling_decide,
    "ruling.appeal": ruling_appeal,
}
TIMERS = {EVIDENCE_TIMER: on_evidence_window, APPEAL_TIMER: on_appeal_window, RULING_TIMER: on_ruling_due}
