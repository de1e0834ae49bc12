"""The after-sale request's state machine, as a table. Pure: no I/O, no clock.

Each state says whose move it is (`AWAITING`) and which deadline runs (`DEADLINE`); each
(state, trigger) pair that is legal names its next state, either directly or by a rule that
looks at the request's kind or the ruling's outcome. A pair missing from the table is illegal.
"""
from __future__ import annotations

from typing import Callable, Union

from services.refund.domain.model import State

# Whose move it is in each state (PayPal's per-party state, eBay's respondByDate).
AWAITING: dict[str, str] = {
    "requested": "seller",
    "offer_pending": "buyer",  # the seller offered another remedy; the buyer answers by buyer_due_at
    "rejected": "buyer",
    "in_arbitration": "platform",
    "return_pending": "buyer",
    "return_in_transit": "seller",
    "replacement_pending": "seller",
    "payout_pending": "payment",
    "payout_failed": "platform",
    "closed": "nobody",
}

# The deadline that runs in a state: (timer name, settings attribute with its length in seconds).
# `requested` has none here: the seller service owns the answer deadline and says when it passed;
# likewise the replacement's (STATED).
# `offer_pending` runs `offer_lapsed`, at the `buyer_due_at` the seller's offer states.
DEADLINE: dict[str, tuple[str, str]] = {
    "rejected": ("escalation_expired", "escalation_window_s"),
    "return_pending": ("return_ship_expired", "return_ship_s"),
    "return_in_transit": ("return_confirm_expired", "return_confirm_s"),
}
# Every deadline a request can run: its states' own, the offer's window and the payout's retry.
TIMERS: tuple[str, ...] = (*(name for name, _ in DEADLINE.values()), "offer_lapsed", "payout_retry_due")
# Deadlines we state but another service keeps (its timer, its event when it passes): the seller
# service keeps the seller's, so that the seller's move and its deadline can never both win.
STATED: dict[str, str] = {"replacement_pending": "replacement_ship_s"}

# How long after the deadline a party sees the refund service acts on it: an escalation, or an
# appeal of the ruling a return carries out, that the arbitration service accepted in time (by its
# clock) reaches us before we close the request.
GRACE: dict[str, str] = {"escalation_expired": "race_grace_s", "return_ship_expired": "race_grace_s"}

REFUND_OUTCOMES = frozenset({"full_refund", "partial_refund", "cancel_order"})
GOODS_BACK_OUTCOMES = frozenset({"return_and_refund", "exchange"})


def after_approval(kind: str) -> str:
    """Refund only pays at once; a return or exchange first needs the goods back."""
    return "payout_pending" if kind == "refund_only" else "return_pending"


def after_goods_back(kind: str) -> str:
    return "replacement_pending" if kind == "exchange" else "payout_pending"


def after_offer(offer_kind: str) -> str:
    """An accepted offer goes on as that remedy: money at once, the goods back first, or a resend."""
    return {"partial_refund": "payout_pending", "resend": "replacement_pending"}.get(offer_kind, "return_pending")


def after_ruling(outcome: str) -> str:
    if outcome in REFUND_OUTCOMES:
        return "payout_pending"
    if outcome in GOODS_BACK_OUTCOMES:
        return "return_pending"
    return "in_arbitration"  # reject: the claim stays open for an appeal until the window passes


Target = Union[str, Callable[[str], str]]  # a state, or a rule taking the kind / outcome

TRANSITIONS: dict[tuple[str, str], Target] = {
    ("requested", "seller.approved"): after_approval,
    ("requested", "seller.rejected"): "rejected",
    ("requested", "seller.timed_out"): "in_arbitration",
    ("requested", "case.opened"): "in_arbitration",
    ("requested", "refund.cancel"): "closed",
    # 未发货仅退款: a refund before the order shipped is a cancellation, approved without the seller.
    ("requested", "unshipped_refund"): "payout_pending",
    # 协商: the seller's counter-offer is its answer; the buyer takes it, declines it, or lets it lapse.
    ("requested", "seller.offered"): "offer_pending",
    ("offer_pending", "seller.offered"): "offer_pending",  # a newer offer replaces the open one
    ("offer_pending", "offer.accept"): after_offer,
    ("offer_pending", "offer.decline"): "rejected",  # as a rejection: the buyer resubmits or escalates
    ("offer_pending", "offer_lapsed"): "rejected",
    ("offer_pending", "case.opened"): "in_arbitration",
    ("offer_pending", "refund.cancel"): "closed",
    ("rejected", "refund.request"): "requested",  # 再次提交: resubmitted with more explanation
    ("rejected", "case.opened"): "in_arbitration",
    ("rejected", "escalation_expired"): "closed",
    ("rejected", "refund.cancel"): "closed",
    ("in_arbitration", "ruling.issued"): after_ruling,
    # A 'reject' stands once its case closes (the appeal window is the case's, so an appeal filed in
    # time can never lose a race with a deadline of ours).
    ("in_arbitration", "case.closed"): "closed",
    ("in_arbitration", "ruling.final_reject"): "closed",
    ("in_arbitration", "refund.cancel"): "closed",
    ("in_arbitration", "case.opened"): "in_arbitration",
    ("in_arbitration", "ruling.appealed"): "in_arbitration",  # back to the platform; the appeal timer stops
    ("return_pending", "ruling.issued"): after_ruling,  # an appeal ruled while the goods are still with the buyer
    ("return_pending", "ruling.appealed"): "in_arbitration",  # the ruling is appealed: the return waits for the appeal
    ("return_pending", "ruling.final_reject"): "closed",
    ("return_pending", "return.shipped"): "return_in_transit",
    ("return_pending", "return_ship_expired"): "closed",
    ("return_pending", "refund.cancel"): "closed",
    ("return_in_transit", "seller.return_received"): after_goods_back,
    ("return_in_transit", "return_confirm_expired"): after_goods_back,  # receipt confirmed automatically
    ("replacement_pending", "seller.replacement_shipped"): "closed",
    ("replacement_pending", "seller.replacement_expired"): "payout_pending",  # no replacement came: refund instead
    ("payout_pending", "payout.succeeded"): "closed",
    ("payout_pending", "payout.failed"): "payout_pending",  # retried with backoff ...
    ("payout_pending", "payout.exhausted"): "payout_failed",  # ... until the limit, then parked
    ("payout_pending", "payout_retry_due"): "payout_pending",
    ("payout_failed", "payout.retry"): "payout_pending",  # an operator re-triggers it
    ("payout_failed", "payout.succeeded"): "closed",  # a late success still counts
}

# Why a request closes, by the trigger that closed it.
CLOSED_WHY: dict[str, str] = {
    "refund.cancel": "cancelled",
    "escalation_expired": "rejected_final",
    "case.closed": "rejected_final",
    "ruling.final_reject": "rejected_final",
    "return_ship_expired": "expired",
    "seller.replacement_shipped": "completed",
    "payout.succeeded": "completed",
}

TRIGGERS: frozenset[str] = frozenset(t for _, t in TRANSITIONS)
STATES: tuple[str, ...] = tuple(AWAITING)


def next_state(state: str, trigger: str, arg: str = "") -> str | None:
    """The state after `trigger` in `state`, or None when the table does not allow it.

    `arg` is the request's kind, the ruling's outcome for `ruling.issued`, or the offer's kind
    for `offer.accept`.
    """
    target = TRANSITIONS.get((state, trigger))
    if target is None:
        return None
    return target(arg) if callable(target) else target


def can(state: str, trigger: str) -> bool:
    return (state, trigger) in TRANSITIONS


def check_table() -> list[str]:
    """Consistency of the table itself (used by the unit tests)."""
    problems = []
    for (state, trigger), target in TRANSITIONS.items():
        if state not in AWAITING:
            problems.append(f"unknown state {state}")
        targets = [target] if isinstance(target, str) else [
            target(a) for a in ("refund_only", "return_and_refund", "exchange", *REFUND_OUTCOMES, *GOODS_BACK_OUTCOMES,
                                "reject", "partial_refund", "resend")
        ]
        for t in targets:
            if t not in AWAITING:
                problems.append(f"{state} --{trigger}--> unknown state {t}")
            if t == "closed" and trigger not in CLOSED_WHY:
                problems.append(f"{state} --{trigger}--> closed without a reason")
    for s in State.__args__:  # type: ignore[attr-defined]
        if s not in AWAITING:
            problems.append(f"state {s} has no awaiting")
    return problems
