"""What each message does to an order's cases. Pure: state in, Decision out. Rulings and appeals
(rulings.py), the negotiation's record (negotiation.py) and what every decision shares (collector.py) have
modules of their own."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from contracts.common import REVIEWED_REASONS, REVIEWED_RESTRICTION
from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from runtime.api.payloads import payload_key
from contracts import ladder
from services.arbitration.domain.claims import case_assign, case_claim, case_release, held_by_other
from services.arbitration.domain.holds import funds_hold, funds_release
from services.arbitration.domain.limits import EVIDENCE_PER_PARTY, SUBMISSIONS_PER_PARTY
from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts, Submission
from services.arbitration.domain.payloads import submission_ref
from services.arbitration.domain.collector import (
    APPEAL_TIMER, EVIDENCE_TIMER, RULING_TIMER, ArbitrationCollector, case_for_party, case_of, evidence_of, open_case,
    timers_of, to_the_arbitrators,
)
from services.arbitration.domain.negotiation import file_in, negotiated
from services.arbitration.domain.platform_cases import case_open
from services.arbitration.domain.rules import ALREADY_DECIDED, SELLER_TIMEOUT, SHOP_RESTRICTED, matching_rule
from services.arbitration.domain.rulings import auto_rule, ruling_appeal, ruling_decide
from services.arbitration.domain.transitions import can

# The refund service's states in which a request is being carried out (goods or money on their way).
CARRIED_OUT = frozenset({"return_pending", "return_in_transit", "replacement_pending", "payout_pending", "payout_failed"})
SELLER_REASONS = frozenset({"malicious_complaint", "ip_infringement", "system_fault", "dispute"})


# ---- facts from other services ----------------------------------------------------------------


def order_paid(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.buyer_id:
        return Decision.ignore()
    d = msg.data
    agg.buyer_id, agg.seller_id, agg.paid_fen = d.buyer_id, d.seller_id, d.amount_fen
    agg.items = [i.model_dump() for i in d.items or []]
    agg.ship_by = d.ship_by
    return ArbitrationCollector(agg, ctx).decision()


def order_shipped(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    if agg.shipped is not None:
        return Decision.ignore()
    agg.shipped = {"carrier": d.carrier, "tracking_no": d.tracking_no, "shipped_at": d.shipped_at}
    return ArbitrationCollector(agg, ctx).decision()


def order_delivered(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    if agg.delivered_at is not None:
        return Decision.ignore()
    agg.delivered_at = msg.data.delivered_at
    return ArbitrationCollector(agg, ctx).decision()


def refund_requested(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    agg.buyer_id, agg.seller_id = d.buyer_id, d.seller_id
    prior = agg.requests.get(d.refund_id)
    if prior and prior.attempt >= d.attempt:
        return Decision.ignore()
    agg.requests[d.refund_id] = RequestFacts(
        refund_id=d.refund_id, kind=d.kind, reason=d.reason, amount_fen=d.amount_fen, refundable_fen=d.refundable_fen,
        attempt=d.attempt, description=d.description or "", evidence=[e.model_dump() for e in d.evidence],
        due_at=d.seller_due_at, requested_at=ctx.now,
        # A resubmission adds to the file: the negotiation so far, and a full-value offer declined.
        negotiation=prior.negotiation if prior else [], declined_full_offer=bool(prior and prior.declined_full_offer),
    )
    if (early := agg.early_negotiation.pop(d.refund_id, None)) is not None:
        agg.requests[d.refund_id].negotiation.extend(early)
        file_in(agg.requests[d.refund_id], early)
    if prior is None and agg.final_no is not None:
        # Asked again after a withdrawn 'reject', taken by a refund service that did not yet wait for
        # withdrawal.noted (a request of an older version): the platform closes it.
        c = ArbitrationCollector(agg, ctx)
        auto_rule(c, open_case(c, d.refund_id, "system", ALREADY_DECIDED.name, ctx, by_rule=True),
                  agg.requests[d.refund_id], ALREADY_DECIDED, final=True)
        return c.decision()
    return ArbitrationCollector(agg, ctx).decision()


def refund_state_changed(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    req = agg.requests.get(d.refund_id)
    withdrawn = d.state == "closed" and d.closed_why == "cancelled"
    if req is None or (req.state, req.due_at, req.kind) == (d.state, d.due_at, d.kind):
        if req is None and withdrawn:  # nothing known of it here, so no 'no' stands on it
            c = ArbitrationCollector(agg, ctx)
            note_withdrawal(c, d.refund_id, None)
            return c.decision()
        return Decision.ignore()
    req.state, req.due_at, req.kind = d.state, d.due_at, d.kind
    if d.seller_timeout_taken:
        return seller_timed_out(agg, req, ctx)
    if d.state == "rejected" and reviewed(req, ctx) and agg.open_case_for(d.refund_id) is None:
        # A restricted shop's 'no' (a rejection, an offer declined or left to lapse) goes to the platform.
        c = ArbitrationCollector(agg, ctx)
        open_case(c, d.refund_id, "system", SHOP_RESTRICTED, ctx)
        return c.decision()
    c = ArbitrationCollector(agg, ctx)
    case = agg.open_case_for(d.refund_id)
    if d.state == "closed":
        undone(c, d.refund_id, d.closed_why)
    if case is not None and d.state in CARRIED_OUT and d.cause != "ruling.issued" and can(case.status, "request_settled"):
        c.move(case, "request_settled")  # settled between the parties before the case could rule
    if withdrawn:
        ruled = agg.last_ruled_on(d.refund_id)
        if ruled is not None and withdrawn_from_a_reject(ruled, msg.envelope.occurred_at):
            agg.final_no = ruled.case_id
        note_withdrawal(c, d.refund_id, ruled)
    if d.state == "closed" and case is not None:
        if d.closed_why == "cancelled" and can(case.status, "withdrawn"):
            c.move(case, "withdrawn")
        elif not (d.closed_why == "completed" and case.status == "ruled"):
            # The refund service owns the request and ended it first: the case ends with it. (A ruling
            # carried out to completion keeps its appeal window: an appeal settles the difference.)
            c.move(case, "request_closed")
    return c.decision()


def note_withdrawal(c: ArbitrationCollector, refund_id: str, ruled: Case | None) -> None:
    """Tell the refund service whether a 'no' stands on the order now that the buyer withdrew: it
    takes no new request on the order before it hears this, since a ruling it has not heard yet may
    have made the withdrawn claim final. `ruled`: the case that ruled on the request, if one did."""
    c.emit("withdrawal.noted", {"refund_id": refund_id, "case_id": ruled.case_id if ruled else None,
                                   "final_no": c.agg.final_no is not None})


def withdrawn_from_a_reject(case: Case, withdrawn_at: datetime) -> bool:
    """Whether the ruling that stood when the buyer withdrew was a 'reject' (by the events' times).
    A ruling issued at the very moment of the withdrawal may have come before it or after it (the
    services heard them in their own order): either reading that leaves a 'reject' standing does."""
    before = [r for r in case.rulings if r.at < withdrawn_at]
    until = [r for r in case.rulings if r.at <= withdrawn_at]
    return any(rs and rs[-1].outcome == "reject" for rs in (before, until))


def seller_rejected(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    req = agg.requests.get(d.refund_id)
    if req is None:
        return Decision.ignore()
    req.seller_rejection = {"reason": d.reason, "message": d.message, "evidence": evidence_of(msg), "at": ctx.now}
    return ArbitrationCollector(agg, ctx).decision()


def reviewed(req: RequestFacts, ctx: Context) -> bool:
    return REVIEWED_RESTRICTION in (ctx.extra or {}).get("restrictions", []) and req.reason in REVIEWED_REASONS


def undone(c: ArbitrationCollector, refund_id: str, closed_why: str | None) -> None:
    """A case that closed with its ruling standing, for a request the refund service had ended
    before that ruling reached it (the buyer withdrew it, or a deadline of ours won the race): the
    ruling was never carried out, and the case's record says so."""
    for case in c.agg.cases.values():
        last = case.last_ruling
        if case.refund_id != refund_id or case.closed_why not in ("ruling_final", "final_ruling") or last is None:
            continue
        goods_back = last.outcome in ("return_and_refund", "exchange")  # the buyer never sent them: carried out as far as it could be
        if closed_why == "cancelled" or (closed_why == "rejected_final" and last.outcome != "reject") \
                or (closed_why == "expired" and not goods_back):
            case.closed_why = "request_closed"
            c.emit("case.closed", {"case_id": case.case_id, "why": case.closed_why}, case)


def seller_timed_out(agg: ArbitrationOrder, req: RequestFacts, ctx: Context) -> Decision:
    """The seller let the answer deadline pass: a case opens and is ruled at once for the buyer.

    Only once the refund service took the timeout (the request moved to in_arbitration because of
    it): a buyer's withdrawal that reached it first wins the race, and no case opens."""
    if agg.open_case_for(req.refund_id) is not None or agg.last_ruled_on(req.refund_id) is not None:
        return ArbitrationCollector(agg, ctx).decision()  # its case is open, or ruled already
    c = ArbitrationCollector(agg, ctx)
    case = open_case(c, req.refund_id, "system", SELLER_TIMEOUT.name, ctx, by_rule=True)
    if ladder.held_back((ctx.extra or {}).get("buyer"), ctx.now):
        # A ruling found this buyer in misconduct within the year, or the buyer is sanctioned
        # (restricted and up): an arbitrator decides, not the rule.
        to_the_arbitrators(c, case)
        return c.decision()
    auto_rule(c, case, req, SELLER_TIMEOUT)
    return c.decision()


# ---- arbitration.commands (rulings and appeals: rulings.py) ----------------------------------------


# A seller may not open a case on a request it has still to answer (its 48 h clock keeps running:
# approve, reject or offer first), nor while the goods or the money are on their way.
SELLER_CASE_REFUSED = {
    "requested": ("answer_first", "answer the request first (approve, reject or offer); a case does not stop "
                                  "the deadline to answer"),
    **{state: ("refund_in_progress", "the request is being carried out (goods or money on their way); "
                                     "a case cannot stop it") for state in CARRIED_OUT},
}


def intervention_request(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    role, actor_id = actor_of(msg)
    if agg.buyer_id is None:
        return Decision.refuse("unknown_order", f"order {agg.order_id} is not known")
    party = agg.party_of(role, actor_id)
    if party is None:
        return Decision.refuse("not_a_party", "only the order's buyer or seller may ask the platform to step in")
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
    if d.refund_id and agg.last_ruled_on(d.refund_id) is not None:
        # Its case ruled and is over: the appeals were the way to another look, not a second case.
        return Decision.refuse("already_ruled", f"request {d.refund_id} was ruled on; a ruling is appealed, "
                                                f"not brought again")
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    case = open_case(c, d.refund_id, party, d.reason, ctx)
    case.submissions.append(Submission(party=party, at=ctx.now, description=d.description, evidence=evidence_of(msg),
                                       kind="filing"))
    case.submitted[party] = True
    if d.demands:
        case.demands[party] = list(dict.fromkeys(d.demands))
    return c.decision()


def evidence_submit(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    case, party, refused = case_for_party(agg, msg)
    if refused:
        return refused
    assert case and party
    due = case.evidence_due.get(party)
    if case.status != "collecting_evidence" or due is None or ctx.now > due:
        when = f"closed at {due.isoformat()}" if due else "is closed"
        return Decision.refuse("evidence_late", f"evidence for case {case.case_id} from the {party} {when}")
    if not msg.data.evidence and not msg.data.description.strip() and not msg.data.done:
        return Decision.refuse("nothing_submitted", "a submission needs evidence, a description, or done: true")
    submitted = case.filed.get(party, 0) + sum(1 for s in case.submissions if s.party == party and s.kind == "evidence")
    if (r := EVIDENCE_PER_PARTY.check(case.evidence_count(party), len(msg.data.evidence))) \
            or (r := SUBMISSIONS_PER_PARTY.check(submitted)):
        return Decision(reject=r)
    ref = submission_ref(case.case_id, sum(case.filed.values()))
    case.filed[party] = case.filed.get(party, 0) + 1
    case.filed_items[party] = case.filed_items.get(party, 0) + len(msg.data.evidence)
    case.submitted[party] = True
    case.done[party] = case.done.get(party, False) or msg.data.done
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    c.payloads[payload_key(agg.order_id, ref)] = {
        "order_id": agg.order_id, "case_id": case.case_id, "party": party, "at": ctx.now, "round": case.round,
        "kind": "evidence", "description": msg.data.description, "evidence": evidence_of(msg)}
    c.emit("evidence.submitted", {"case_id": case.case_id, "party": party, "evidence_count": len(msg.data.evidence),
                                     "total_evidence": case.evidence_count(party), "done": msg.data.done},
              case, by_actor=True)
    if all(case.done.get(p) and case.submitted.get(p) for p in ("buyer", "seller")):
        to_the_arbitrators(c, case)  # both said all they have: rule early, no window to wait out
    return c.decision()


def evidence_request(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = case_of(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    if not can(case.status, "evidence.request"):
        return Decision.refuse("case_not_open_for_evidence", f"case {case.case_id} is {case.status}")
    if (refused := held_by_other(case, actor_of(msg)[1], ctx)) is not None:
        return refused
    due = ctx.after(d.due_in_seconds or ctx.settings.evidence_window_s)
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    c.move(case, "evidence.request")
    case.evidence_due[d.party] = due
    case.submitted[d.party] = False
    case.done[d.party] = False
    case.submissions.append(Submission(party=d.party, at=ctx.now, description=d.message, kind="request", round=case.round))
    c.emit("evidence.requested", {"case_id": case.case_id, "party": d.party, "user_id": agg.user_of(d.party) or "?",
                                     "due_at": due}, case, by_actor=True)
    return c.decision()


# ---- deadlines ----------------------------------------------------------------------------------


def on_evidence_window(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    case = agg.cases.get(case_id)
    if case is None or case.status != "collecting_evidence" or max(case.evidence_due.values()) != due_at:
        return Decision.ignore()
    c = ArbitrationCollector(agg, ctx)
    req = agg.requests.get(case.refund_id) if case.refund_id else None
    rule = matching_rule(case.submitted.get("buyer", False), case.submitted.get("seller", False))
    if rule is not None and rule.winner == "buyer" and req is not None and req.declined_full_offer:
        rule = None  # the buyer turned down what it asked for: an arbitrator weighs that, not a rule
    if any(s.kind == "request" and s.round == case.round for s in case.submissions):
        rule = None  # an arbitrator asked for more: the case waits for the arbitrator, never a rule
    if rule is not None and req is not None and req.state != "in_arbitration":
        # The refund service has not taken the case yet as far as we have heard (it never will for a
        # request it closed first). Its events of an order come in order, so until its in_arbitration
        # arrives we may not know all that came before - an offer the buyer declined, a withdrawal:
        # an arbitrator rules, not a rule on a partial file.
        rule = None
    if case.round == 1 and req is not None and rule is not None:
        auto_rule(c, case, req, rule)
        return c.decision()
    to_the_arbitrators(c, case)
    return c.decision()


def on_appeal_window(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    case = agg.cases.get(case_id)
    if case is None or case.status != "ruled":
        return Decision.ignore()
    c = ArbitrationCollector(agg, ctx)
    c.move(case, "appeal_window_closed")
    return c.decision()


def on_ruling_due(agg: ArbitrationOrder, case_id: str, due_at: datetime, ctx: Context) -> Decision:
    """A deadline nobody watches does not exist: an unruled case past its target is flagged (first
    in the queue, a metric) and the arbitrators are told."""
    case = agg.cases.get(case_id)
    if case is None or case.status != "awaiting_ruling" or case.ruling_due_at != due_at or case.overdue:
        return Decision.ignore()
    case.overdue = True
    c = ArbitrationCollector(agg, ctx)
    c.emit("case.ruling_overdue", {"case_id": case.case_id, "ruling_due_at": due_at, "round": case.round}, case)
    return c.decision()


HANDLERS: dict[str, Callable[[ArbitrationOrder, ParsedMessage, Context], Decision]] = {
    "order.paid": order_paid,
    "order.shipped": order_shipped,
    "order.delivered": order_delivered,
    "refund.requested": refund_requested,
    "refund.state_changed": refund_state_changed,
    "seller.rejected": seller_rejected,
    "seller.offered": negotiated("offer"),
    "refund.offer_accepted": negotiated("offer_accepted"),
    "refund.offer_declined": negotiated("offer_declined"),
    "refund.offer_lapsed": negotiated("offer_lapsed"),
    "conversation.posted": negotiated("post"),
    "intervention.request": intervention_request,
    "case.open": case_open,
    "evidence.submit": evidence_submit,
    "evidence.request": evidence_request,
    "funds.hold": funds_hold,
    "funds.release": funds_release,
    "ruling.decide": ruling_decide,
    "ruling.appeal": ruling_appeal,
    "case.claim": case_claim,
    "case.release": case_release,
    "case.assign": case_assign,
}
TIMERS = {EVIDENCE_TIMER: on_evidence_window, APPEAL_TIMER: on_appeal_window, RULING_TIMER: on_ruling_due}
