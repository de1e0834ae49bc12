"""A case file is bounded: a party's submissions and evidence stop at the declared limits,
refused as `limit_reached` naming the limit, and the case goes on."""
from __future__ import annotations


from runtime.api.payloads import is_payload, ref_of
from services.arbitration.domain.limits import EVIDENCE_PER_PARTY, SUBMISSIONS_PER_PARTY
from services.arbitration.domain.payloads import refs, with_submissions
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
    assert case_of(d).filed == {"buyer": SUBMISSIONS_PER_PARTY.most}


def test_a_submission_is_kept_by_reference_and_the_case_file_reads_back_whole():
    state = escalate().state
    first = evidence(state, BUYER)
    second = evidence(first.state, SELLER)
    [(key, payload)] = second.payloads.items()
    assert is_payload(key) and key.startswith("O1") and payload["party"] == "seller" and payload["description"] == "x"
    case = case_of(second).model_dump(mode="python")
    docs = [{"_id": ref_of(k), **p} for d in (first, second) for k, p in d.payloads.items()]
    whole = with_submissions(case, reversed(docs))
    assert [(s["party"], s["kind"]) for s in whole["submissions"]][-2:] == [("buyer", "evidence"), ("seller", "evidence")]
    assert refs(case) == [ref_of(k) for d in (first, second) for k in d.payloads]


def test_evidence_items_are_counted_per_party_and_case():
    assert EVIDENCE_PER_PARTY.check(EVIDENCE_PER_PARTY.most - 1, 1) is None
    refused = EVIDENCE_PER_PARTY.check(EVIDENCE_PER_PARTY.most - 1, 2)
    assert refused is not None and refused.code == "limit_reached" and "evidence_per_party_per_case" in refused.message
