"""A case file is bounded: a party's submissions and evidence stop at the declared limits,
refused as `limit_reached` naming the limit, and the case goes on."""
from __future__ import annotations

from services.arbitration.domain.limits import EVIDENCE_PER_PARTY, SUBMISSIONS_PER_PARTY
from services.arbitration.tests.test_cases import BUYER, SELLER, case_of, escalate, evidence


def test_a_party_flooding_a_case_is_refused_at_its_limit_and_the_other_party_still_submits():
    state = escalate().state
    for i in range(SUBMISSIONS_PER_PARTY.most):
        d = evidence(state, BUYER)
        assert d.reject is None, (i, d.reject)
        state = d.state
    over = evidence(state, BUYER)
    assert over.reject is not None and over.reject.code == "limit_reached"
    assert SUBMISSIONS_PER_PARTY.name in over.reject.message and over.state is None
    assert evidence(state, SELLER).reject is None
    submitted = [s for s in case_of(d).submissions if s.kind == "evidence"]
    assert len(submitted) == SUBMISSIONS_PER_PARTY.most


def test_evidence_items_are_counted_per_party_and_case():
    assert EVIDENCE_PER_PARTY.check(EVIDENCE_PER_PARTY.most - 1, 1) is None
    refused = EVIDENCE_PER_PARTY.check(EVIDENCE_PER_PARTY.most - 1, 2)
    assert refused is not None and refused.code == "limit_reached" and "evidence_per_party_per_case" in refused.message
