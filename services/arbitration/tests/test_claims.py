"""Claims, pure: two arbitrators never work on the same case, a claim lapses, a supervisor can
give a case to someone else, and an appeal goes to someone new."""
from __future__ import annotations

from datetime import timedelta

from services.arbitration.domain.model import ArbitrationOrder
from services.arbitration.tests.test_cases import NOW, S, _awaiting, appeal, case_of_state, close_window, ctx, domain, msg, rule, SELLER

T = NOW + timedelta(hours=3)


def command(state, type_, arbitrator, now=T, **data):
    return domain.decide("O1", state, msg(type_, {"case_id": case_of_state(state).case_id, **data},
                                          ("arbitrator", arbitrator)), ctx(now, f"{type_}{arbitrator}{now}"))


def test_an_arbitrator_claims_a_case_and_holds_it_for_the_claim_time():
    d = command(_awaiting(), "case.claim", "A1")
    [claimed] = d.emits
    assert claimed.type == "case.claimed" and claimed.actor_id == "A1"
    assert claimed.data["claimed_until"] == T + timedelta(seconds=S.claim_ttl_s)
    case = case_of_state(d.state)
    assert (case.claimed_by, case.holder(T)) == ("A1", "A1")


def test_a_second_arbitrator_cannot_claim_rule_or_ask_for_evidence_on_a_held_case():
    held = command(_awaiting(), "case.claim", "A1").state
    assert command(held, "case.claim", "A2").reject.code == "claimed_by_other"
    assert rule(held, "full_refund", "A2", now=T).reject.code == "claimed_by_other"
    asked = command(held, "evidence.request", "A2", party="seller", message="发货单")
    assert asked.reject.code == "claimed_by_other"
    # The holder itself may do all of it.
    assert command(held, "case.claim", "A1").reject is None
    assert rule(held, "full_refund", "A1", now=T).reject is None


def test_a_claim_lapses_and_someone_else_may_take_the_case():
    held = command(_awaiting(), "case.claim", "A1").state
    later = T + timedelta(seconds=S.claim_ttl_s + 1)
    assert case_of_state(held).holder(later) is None
    taken = command(held, "case.claim", "A2", now=later)
    assert taken.reject is None and case_of_state(taken.state).claimed_by == "A2"


def test_the_holder_releases_a_case_and_nobody_else_can():
    held = command(_awaiting(), "case.claim", "A1").state
    assert command(held, "case.release", "A2").reject.code == "not_your_claim"
    released = command(held, "case.release", "A1")
    assert [e.type for e in released.emits] == ["case.released"]
    assert case_of_state(released.state).claimed_by is None
    assert command(released.state, "case.claim", "A2").reject is None


def test_a_supervisor_gives_a_held_case_to_someone_else():
    held = command(_awaiting(), "case.claim", "A1").state
    given = command(held, "case.assign", "SUP", arbitrator_id="A2")
    [claimed] = given.emits
    assert claimed.data["arbitrator_id"] == "A2" and claimed.data["assigned_by"] == "SUP"
    assert rule(given.state, "full_refund", "A1", now=T).reject.code == "claimed_by_other"
    assert rule(given.state, "full_refund", "A2", now=T).reject is None


def test_only_a_supervisor_the_service_lists_gives_a_case_to_someone_else():
    held = command(_awaiting(), "case.claim", "A1").state
    assert command(held, "case.assign", "A1", arbitrator_id="A1").reject.code == "not_a_supervisor"
    assert command(held, "case.assign", "A2", arbitrator_id="A2").reject.code == "not_a_supervisor"
    assert case_of_state(held).claimed_by == "A1"


def test_a_ruling_ends_the_claim_and_the_appeal_goes_to_someone_new():
    held = command(_awaiting(), "case.claim", "A1").state
    ruled = rule(held, "full_refund", "A1", now=T)
    assert [e.type for e in ruled.emits] == ["ruling.issued", "case.released"]
    assert case_of_state(ruled.state).claimed_by is None
    again = close_window(appeal(ruled.state, SELLER, 4).state, NOW + timedelta(hours=6))
    later = NOW + timedelta(hours=7)
    assert command(again.state, "case.claim", "A1", now=later).reject.code == "same_arbitrator"
    assert command(again.state, "case.assign", "SUP", now=later, arbitrator_id="A1").reject.code == "same_arbitrator"
    assert command(again.state, "case.claim", "A2", now=later).reject is None


def test_a_ruled_case_cannot_be_claimed():
    ruled = rule(_awaiting(), "full_refund", "A1", now=T).state
    assert command(ruled, "case.claim", "A2").reject.code == "not_claimable"
    assert ArbitrationOrder.load("O1", ruled).cases
