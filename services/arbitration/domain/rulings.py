"""Rulings: an arbitrator's, checked against the request; the automatic ones, by the rules
table; and appeals, one per party, each to an arbitrator new to the case. Pure."""
from __future__ import annotations

from typing import Any

from contracts.common import GOODS_BACK
from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.arbitration.domain.claims import held_by_other
from services.arbitration.domain.collector import ArbitrationCollector, case_for_party, case_of, evidence_of
from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts, RulingRecord, Submission
from services.arbitration.domain.rules import BUYER_WINS_OUTCOME, Rule, default_fine
from services.arbitration.domain.ruling_checks import check_ruling, compensation_cap, refund_amount
def ruling_decide(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    case, refused = case_of(agg, d.case_id)
    if refused:
        return refused
    assert case is not None
    if case.status != "awaiting_ruling":
        return Decision.refuse("not_awaiting_ruling", f"case {case.case_id} is {case.status}, not awaiting a ruling")
    req = agg.requests.get(case.refund_id) if case.refund_id else None
    arbitrator = msg.envelope.actor.id
    if (refused := held_by_other(case, arbitrator, ctx)) is not None:
        return refused
    if (r := check_ruling(case, req, d.outcome, arbitrator)) is not None:
        return Decision(reject=r)
    amount, r = refund_amount(d.outcome, d.refund_fen, req)
    if r is not None:
        return Decision(reject=r)
    if (d.return_shipping_fen or 0) > ctx.settings.max_postage_fen:
        return Decision.refuse("postage_exceeds_cap", f"return postage of at most {ctx.settings.max_postage_fen} fen "
                                                      f"is repaid; the ruling states {d.return_shipping_fen}")
    penalty = d.penalty_fen or default_fine(d.seller_at_fault, d.misconduct, ctx.settings)
    if penalty and not d.seller_at_fault:
        return Decision.refuse("penalty_without_fault", "only a seller found at fault can be fined")
    if (refused := check_compensation(agg, case, req, d)) is not None:
        return refused
    s = d.sanction
    if s is not None and ((s.party == "seller" and not d.seller_at_fault)
                          or (s.party == "buyer" and d.misconduct != "buyer")):
        return Decision.refuse("sanction_without_finding", f"a sanction of the {s.party} needs the ruling to find it "
                                                           f"at fault ({'seller_at_fault' if s.party == 'seller' else 'misconduct: buyer'})")
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    issue(c, case, outcome=d.outcome, refund_fen=amount, shipping=d.return_shipping_paid_by,
           at_fault=d.seller_at_fault, reasoning=d.reasoning, decided_by=arbitrator,
           costs={"return_shipping_fen": d.return_shipping_fen or 0, "misconduct": d.misconduct,
                  "penalty_fen": penalty, "compensation_fen": d.compensation_fen,
                  "sanction": s.model_dump() if s is not None else None,
                  "return_address": (((ctx.extra or {}).get("shops") or {}).get(agg.seller_id) or {}).get("return_address")
                  if d.outcome in GOODS_BACK else None})
    return c.decision()


def check_compensation(agg: ArbitrationOrder, case: Case, req: RequestFacts | None, d: Any) -> Decision | None:
    if not d.compensation_fen:
        return None
    if not d.seller_at_fault:
        return Decision.refuse("compensation_without_fault", "compensation is taken from the seller's deposit: "
                                                             "only a seller found at fault pays it")
    if req is not None and d.outcome == "reject":
        return Decision.refuse("compensation_with_reject", "a ruling that rejects the buyer's claim awards no "
                                                           "compensation")
    cap = compensation_cap(case.reason, agg.paid_fen)
    if d.compensation_fen > cap:
        return Decision.refuse("compensation_exceeds_cap", f"compensation of at most {cap} fen on this case "
                                                           f"({case.reason}); the ruling states {d.compensation_fen}")
    return None


def ruling_appeal(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    case, party, refused = case_for_party(agg, msg)
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
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    c.move(case, "ruling.appeal")
    case.round += 1
    case.appeals.append(party)  # type: ignore[arg-type]
    due = ctx.after(ctx.settings.evidence_window_s)
    case.evidence_due = {"buyer": due, "seller": due}
    case.submitted = {"buyer": False, "seller": False}
    case.done = {}
    case.submissions.append(Submission(party=party, at=ctx.now, description=msg.data.description,
                                       evidence=evidence_of(msg), kind="appeal", round=case.round))
    case.submitted[party] = True
    c.emit("ruling.appealed", {"case_id": case.case_id, "party": party, "refund_id": case.refund_id,
                                  "evidence_due_at": due}, case, by_actor=True)
    return c.decision()


NO_COSTS = {"return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 0, "compensation_fen": 0, "sanction": None}


def issue(c: ArbitrationCollector, case: Case, *, outcome: str, refund_fen: int, shipping: str, at_fault: bool, reasoning: str,
           decided_by: str, costs: dict[str, Any] = NO_COSTS, final: bool = False) -> None:
    ctx = c.ctx
    # Each party has one appeal of its own: a ruling is final once both have used theirs (the
    # winner of a round cannot use up the loser's appeal). `final`: one with no appeal at all.
    final = final or set(case.appeals) >= {"buyer", "seller"}
    appealable_until = None if final else ctx.after(ctx.settings.appeal_window_s)
    previous = case.last_ruling
    reverses = bool(previous) and ((previous.outcome == "reject") != (outcome == "reject")
                                   or previous.seller_at_fault != at_fault)
    case.rulings.append(RulingRecord(round=case.round, outcome=outcome, refund_fen=refund_fen,
                                     return_shipping_paid_by=shipping, seller_at_fault=at_fault, reasoning=reasoning,
                                     decided_by=decided_by, at=ctx.now, appealable_until=appealable_until, final=final,
                                     **costs))
    case.ruling_due_at = None
    c.emit("ruling.issued", {
        "case_id": case.case_id, "outcome": outcome, "refund_fen": refund_fen, "return_shipping_paid_by": shipping,
        "seller_at_fault": at_fault, "reasoning": reasoning, "decided_by": decided_by,
        "appealable_until": appealable_until, **costs,
        "refund_id": case.refund_id, "round": case.round, "final": final,
        "reverses_previous": reverses, "buyer_id": c.agg.buyer_id, "seller_id": c.agg.seller_id,
    }, case, by_actor=not decided_by.startswith("auto:"))
    if final:
        c.move(case, "final_ruling")
    elif case.status == "collecting_evidence":
        c.move(case, "auto_ruling")
    else:
        c.move(case, "ruling.decide")


def auto_rule(c: ArbitrationCollector, case: Case, req: RequestFacts, rule: Rule, final: bool = False) -> None:
    if rule.winner == "buyer":
        outcome = BUYER_WINS_OUTCOME[req.kind]
        amount = 0 if outcome == "exchange" else min(req.amount_fen, req.refundable_fen or req.amount_fen)
        shipping = "seller"
    else:
        outcome, amount, shipping = "reject", 0, "buyer"
    issue(c, case, outcome=outcome, refund_fen=amount, shipping=shipping, at_fault=rule.seller_at_fault,
           reasoning=rule.reasoning, decided_by=f"auto:{rule.name}", final=final)
