"""Compensation a ruling awards the buyer beyond any refund (赔偿): paid once per round's increase,
never clawed back, the seller's deposit told to follow the latest award, and nothing moved for a
ruling the refund service does not carry out."""
from __future__ import annotations

from typing import Any

from services.refund.domain.model import OrderRefunds
from services.refund.tests.test_state_machine import ctx, domain, msg, order_with

ARB = ("arbitrator", "A1")


def ruling(compensation_fen: int, *, round_: int = 1, outcome: str = "full_refund", refund_id: str | None = "R1",
           case_id: str = "C1") -> Any:
    return msg("ruling.issued", {
        "case_id": case_id, "refund_id": refund_id, "outcome": outcome, "refund_fen": 6000 if outcome != "reject" else 0,
        "return_shipping_paid_by": "seller", "seller_at_fault": compensation_fen > 0, "reasoning": "r",
        "decided_by": f"A{round_}", "appealable_until": "2026-12-01T00:00:00Z", "return_shipping_fen": 0,
        "misconduct": "none", "penalty_fen": 0, "compensation_fen": compensation_fen, "round": round_,
        "final": False, "buyer_id": "B1", "seller_id": "S1"}, ARB)


def of(d, type_: str) -> list[dict[str, Any]]:
    return [e.data for e in d.emits if e.type == type_]


def test_a_ruling_with_compensation_pays_the_buyer_to_its_balance_and_tells_the_deposit():
    d = domain.decide("O1", order_with("in_arbitration"), ruling(20000), ctx())
    payouts = {p["purpose"]: p for p in of(d, "payout.request")}
    assert set(payouts) == {"refund", "compensation"}  # each its own payout
    assert payouts["refund"]["amount_fen"] == 6000
    assert payouts["compensation"] == {
        "payout_id": "payout:C1:compensation:r1", "order_id": "O1", "refund_id": "R1", "amount_fen": 20000,
        "refund_to": "balance", "purpose": "compensation", "payee_id": "B1"}
    [awarded] = of(d, "refund.compensation_awarded")
    assert (awarded["amount_fen"], awarded["previous_fen"], awarded["seller_id"]) == (20000, 0, "S1")
    again = domain.decide("O1", d.state, ruling(20000), ctx("again"))  # delivered twice
    assert not of(again, "payout.request") and not of(again, "refund.compensation_awarded")


def test_an_appeal_pays_only_an_increase_and_lifting_it_claws_nothing_back():
    first = domain.decide("O1", order_with("in_arbitration"), ruling(20000), ctx())
    higher = domain.decide("O1", first.state, ruling(50000, round_=2), ctx("r2"))
    [top_up] = [p for p in of(higher, "payout.request") if p["purpose"] == "compensation"]
    assert (top_up["payout_id"], top_up["amount_fen"]) == ("payout:C1:compensation:r2", 30000)
    lifted = domain.decide("O1", higher.state, ruling(0, round_=3, outcome="reject"), ctx("r3"))
    assert not [p for p in of(lifted, "payout.request") if p["purpose"] == "compensation"]
    [awarded] = of(lifted, "refund.compensation_awarded")
    assert (awarded["amount_fen"], awarded["previous_fen"]) == (0, 50000)
    record = OrderRefunds.load("O1", lifted.state).compensations["C1"]
    assert record.requested_fen == 50000 and record.awarded_fen == 0  # the buyer keeps what it was paid


def test_a_case_without_a_request_moves_only_compensation():
    state = order_with("closed", why="completed")
    d = domain.decide("O1", state, ruling(100000, refund_id=None, outcome="reject", case_id="CP"), ctx())
    [p] = of(d, "payout.request")
    assert (p["refund_id"], p["amount_fen"], p["purpose"]) == ("CP", 100000, "compensation")
    assert not of(d, "refund.state_changed")


def test_a_ruling_on_a_request_withdrawn_before_it_arrived_moves_no_compensation():
    state = order_with("closed", closed_why="cancelled")
    d = domain.decide("O1", state, ruling(20000), ctx())
    assert not of(d, "payout.request") and not of(d, "refund.compensation_awarded")


def test_the_payment_systems_answers_settle_it_and_failures_are_retried_then_parked():
    d = domain.decide("O1", order_with("in_arbitration"), ruling(20000), ctx())
    pid = "payout:C1:compensation:r1"
    failed = d
    for i in range(2):  # payout_max_attempts is 3 in these settings
        failed = domain.decide("O1", failed.state, msg("payout.failed", {"payout_id": pid, "code": "x", "message": "y"}),
                               ctx(f"f{i}"))
        assert [p["payout_id"] for p in of(failed, "payout.request")] == [pid]  # the same id again
    parked = domain.decide("O1", failed.state, msg("payout.failed", {"payout_id": pid, "code": "x", "message": "y"}),
                           ctx("f3"))
    assert not of(parked, "payout.request")
    assert "operators to pay it" in OrderRefunds.load("O1", parked.state).compensations["C1"].notes[0]
    paid = domain.decide("O1", d.state, msg("payout.succeeded", {"payout_id": pid, "amount_fen": 20000}), ctx("ok"))
    [told] = of(paid, "refund.compensation_paid")
    assert (told["amount_fen"], told["buyer_id"], told["case_id"]) == (20000, "B1", "C1")
    twice = domain.decide("O1", paid.state, msg("payout.succeeded", {"payout_id": pid, "amount_fen": 20000}), ctx("2"))
    assert not twice.emits


def test_an_ordered_refund_promises_payment_within_three_working_days():
    # NOW is Thursday 26 November 2026, 16:00 in Beijing: Friday, Monday, Tuesday.
    d = domain.decide("O1", order_with("in_arbitration"), ruling(0), ctx())
    [ordered] = of(d, "refund.payout_requested")
    assert ordered["promised_by"].isoformat() == "2026-12-01T08:00:00+00:00"
