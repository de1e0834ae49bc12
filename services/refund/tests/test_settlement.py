"""Money follows the final word, pure: what a ruling on appeal moves after an earlier one."""
from __future__ import annotations

from services.refund.domain import settlement
from services.refund.domain.model import OrderFacts, OrderRefunds, Refund
from services.refund.tests.test_state_machine import NOW


def carried_out(awarded: int, paid: int, state: str = "closed", why: str | None = "completed", paid_fen: int = 10000):
    agg = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=paid_fen, paid_at=NOW),
                       refunded_fen=paid)
    r = Refund(refund_id="R1", kind="refund_only", reason="quality", amount_fen=10000, refund_to="original",
               created_at=NOW, updated_at=NOW, state=state, awarded_fen=awarded, payout_fen=awarded, paid_fen=paid,
               closed_why=why)
    agg.refunds["R1"] = r
    return agg, r


def test_more_on_appeal_tops_the_buyer_up_by_the_difference():
    agg, r = carried_out(awarded=4000, paid=4000)
    owed = settlement.settlement_for(agg, r, "full_refund", 10000, 2)
    assert (owed.purpose, owed.amount_fen, owed.payee_id) == ("appeal_top_up", 6000, "B1")
    assert owed.payout_id == "payout:R1:top_up:r2" and r.awarded_fen == 10000


def test_less_on_appeal_compensates_the_seller_once_the_case_is_over_and_claws_nothing_back():
    from services.refund.domain.model import Ruling

    agg, r = carried_out(awarded=6000, paid=6000)
    assert settlement.settlement_for(agg, r, "reject", 0, 2) is None  # nothing yet: another appeal may restore it
    r.rulings = [Ruling(case_id="C1", outcome="full_refund", refund_fen=6000, decided_by="A1", round=1, final=False),
                 Ruling(case_id="C1", outcome="reject", refund_fen=0, decided_by="A2", round=2, final=False)]
    assert settlement.compensation_for(agg, r) is None  # the case is not over
    r.case_final = True
    owed = settlement.compensation_for(agg, r)
    assert (owed.purpose, owed.amount_fen, owed.payee_id) == ("seller_compensation", 6000, "S1")
    assert r.paid_fen == 6000  # the buyer keeps it
    r.settlements.append(owed)
    assert settlement.compensation_for(agg, r) is None  # once


def test_a_top_up_never_takes_the_order_past_what_was_paid_for_it():
    agg, r = carried_out(awarded=4000, paid=4000, paid_fen=9000)
    agg.refunded_fen = 4000 + 3000  # another request already refunded 3000
    owed = settlement.settlement_for(agg, r, "full_refund", 9000, 2)
    assert owed.amount_fen == 2000


def test_an_award_never_paid_out_is_not_compensated():
    agg, r = carried_out(awarded=5000, paid=0, why="expired")  # the buyer never sent the goods back
    assert settlement.settlement_for(agg, r, "reject", 0, 2) is None


def test_the_same_award_moves_no_money():
    agg, r = carried_out(awarded=5000, paid=5000)
    assert settlement.settlement_for(agg, r, "partial_refund", 5000, 2) is None
