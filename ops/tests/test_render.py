"""`aftersale tail`: one line per event, with the fields that matter for it."""
from __future__ import annotations

from contracts.build import encode, envelope
from ops.render import line


def test_a_platform_case_and_its_fine_read_in_the_tail() -> None:
    opened = envelope("case.opened", {"order_id": "O-9", "case_id": "CS-1", "refund_id": None, "opened_by": "platform",
                                      "reason": "counterfeit", "evidence_due_at": "2026-12-09T08:00:00Z"},
                      actor={"role": "arbitrator", "id": "xiaoer1"})
    text = line("arbitration.events", encode(opened))
    assert "case.opened" in text and "order=O-9" in text and "arbitrator:xiaoer1" in text
    assert "opened_by=platform" in text and "reason=counterfeit" in text
    fined = envelope("seller.penalized", {"order_id": "O-9", "seller_id": "S-1", "case_id": "CS-1",
                                          "amount_fen": 50000, "reason": "at_fault", "deduction_id": "deduct:CS-1:r1"},
                     actor={"role": "system", "id": "svc:seller"})
    assert "amount_fen=50000" in line("seller.events", encode(fined))


def test_compensation_reads_in_the_tail_with_its_purpose_and_deduction() -> None:
    paid = envelope("payout.request", {"order_id": "O-9", "payout_id": "payout:CS-1:compensation:r1", "refund_id": "CS-1",
                                       "amount_fen": 100000, "refund_to": "balance", "purpose": "compensation",
                                       "payee_id": "B-1"}, actor={"role": "system", "id": "svc:refund"})
    assert "purpose=compensation" in line("payments.commands", encode(paid))
    drawn = envelope("deposit.deduct", {"order_id": "O-9", "seller_id": "S-1", "case_id": "CS-1", "amount_fen": 100000,
                                        "reason": "compensation", "deduction_id": "deduct:CS-1:compensation:r1"},
                     actor={"role": "system", "id": "svc:seller"})
    text = line("payments.commands", encode(drawn))
    assert "reason=compensation" in text and "deduction_id=deduct:CS-1:compensation:r1" in text


def test_a_sanction_reads_in_the_tail_with_its_level_and_end() -> None:
    said = envelope("account.sanctioned", {"party": "seller", "party_id": "S-1", "level": "suspended",
                                           "until": "2026-12-13T08:00:00Z", "case_id": "CS-1", "order_id": "O-9"},
                    actor={"role": "system", "id": "svc:seller"})
    text = line("seller.events", encode(said))
    assert "level=suspended" in text and "until=2026-12-13T08:00:00Z" in text and "party=seller" in text


def test_a_complaint_reads_in_the_tail_by_whom_against_whom() -> None:
    filed = envelope("complaint.filed", {"complaint_id": "CP-1", "against_seller_id": "S-2", "complainant_id": "S-1",
                                         "subject": "商标 ABC", "right": "trademark"},
                     actor={"role": "seller", "id": "S-1"})
    text = line("arbitration.events", encode(filed))
    assert "complaint_id=CP-1" in text and "against_seller_id=S-2" in text and "right=trademark" in text


def test_a_refunds_promise_reads_in_the_tail() -> None:
    ordered = envelope("refund.payout_requested", {"order_id": "O-9", "refund_id": "RF-1", "payout_id": "p", "amount_fen": 100,
                                                   "attempt": 1, "promised_by": "2026-12-09T02:00:00Z"},
                       actor={"role": "system", "id": "svc:refund"})
    assert "promised_by=2026-12-09T02:00:00Z" in line("refund.events", encode(ordered))
