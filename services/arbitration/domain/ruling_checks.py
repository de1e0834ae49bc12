"""Checks on an arbitrator's ruling: outcome fits the request, money fits what is refundable."""
from __future__ import annotations

from runtime.api.decision import Reject
from services.arbitration.domain.model import Case, RequestFacts

# Which outcomes fit which request. None: a case with no after-sale request (a seller's complaint).
ALLOWED_OUTCOMES: dict[str | None, frozenset[str]] = {
    "refund_only": frozenset({"full_refund", "partial_refund", "return_and_refund", "reject", "cancel_order"}),
    "return_and_refund": frozenset({"full_refund", "partial_refund", "return_and_refund", "reject", "cancel_order"}),
    "exchange": frozenset({"exchange", "return_and_refund", "full_refund", "partial_refund", "reject"}),
    # A seller's complaint with no request: the platform dismisses it or not; cancelling the order or
    # moving money needs the buyer's request, which carries the amount and the way back.
    None: frozenset({"reject"}),
}
NEEDS_AMOUNT = frozenset({"full_refund", "partial_refund", "return_and_refund"})
# Compensation (赔偿) a case may award the buyer beyond any refund, as a multiple of what the buyer
# paid, by the case's reason: ten times for a counterfeit (假一赔十); once for any other case.
COMPENSATION_MULTIPLE: dict[str, int] = {"counterfeit": 10}


def compensation_cap(reason: str, paid_fen: int | None) -> int:
    return (paid_fen or 0) * COMPENSATION_MULTIPLE.get(reason, 1)


def refund_amount(outcome: str, asked: int | None, request: RequestFacts | None) -> tuple[int, Reject | None]:
    """The fen a ruling awards, or why the asked amount cannot be. Cancelling the order pays back
    everything still refundable, and the ruling says so."""
    if outcome == "cancel_order":
        return (request.refundable_fen if request and request.refundable_fen is not None else 0), None
    if outcome not in NEEDS_AMOUNT:
        return 0, None
    assert request is not None
    limit = request.refundable_fen if request.refundable_fen is not None else request.amount_fen
    amount = asked if asked is not None else (request.amount_fen if outcome != "partial_refund" else None)
    if amount is None or amount <= 0:
        return 0, Reject("refund_amount_required", f"a {outcome} ruling needs refund_fen > 0")
    if amount > limit:
        return 0, Reject("refund_exceeds_refundable", f"refund_fen {amount} exceeds the {limit} fen that can be refunded")
    if outcome == "partial_refund" and amount >= request.amount_fen:
        return 0, Reject("partial_not_partial", f"a partial refund must be below the {request.amount_fen} fen asked")
    return amount, None


def check_ruling(case: Case, request: RequestFacts | None, outcome: str, arbitrator: str) -> Reject | None:
    allowed = ALLOWED_OUTCOMES[request.kind if request else None]
    if outcome not in allowed:
        kind = request.kind if request else "a case without a request"
        return Reject("outcome_not_allowed", f"{outcome} does not fit {kind}; allowed: {', '.join(sorted(allowed))}")
    if case.round > 1 and any(r.decided_by == arbitrator for r in case.rulings):
        return Reject("same_arbitrator", "an appeal must be reviewed by an arbitrator who has not ruled on the case")
    return None
