"""Complaints against another shop: filed by a seller, answered by the accused, decided by an
arbitrator who may sanction the accused; each step once and by the right party."""
from __future__ import annotations

from typing import Any

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from services.arbitration.tests.test_cases import NOW, ctx, domain

KEY = "complaint:CP1"
FILING = {"complaint_id": "CP1", "against_seller_id": "S2", "subject": "商标 ABC", "right": "trademark",
          "description": "仿冒我方商标", "evidence": [{"kind": "document", "uri": "https://e.cn/tm.pdf"}]}


def msg(type_: str, data: dict[str, Any], actor: tuple[str, str]):
    return parse_message(encode(envelope(type_, data, actor={"role": actor[0], "id": actor[1]}, validate=False)))


def test_a_complaint_is_filed_answered_and_decided_once_each_by_its_party():
    filed = msg("complaint.file", FILING, ("seller", "S1"))
    assert domain.route(filed) == [KEY]
    d = domain.decide(KEY, None, filed, ctx())
    [e] = d.emits
    assert (e.type, e.data["complainant_id"], e.data["against_seller_id"]) == ("complaint.filed", "S1", "S2")
    assert domain.decide(KEY, d.state, filed, ctx()).reject.code == "complaint_exists"
    assert domain.decide(KEY, None, msg("complaint.file", {**FILING, "against_seller_id": "S1"}, ("seller", "S1")),
                         ctx()).reject.code == "complaint_against_self"
    [view] = domain.views(KEY, d.state)
    assert (view.collection, view.doc["_id"], view.doc["status"]) == ("complaints", "CP1", "filed")

    answer = {"complaint_id": "CP1", "description": "有授权", "evidence": []}
    assert domain.decide(KEY, d.state, msg("complaint.respond", answer, ("seller", "S1")), ctx()).reject.code == \
        "not_the_accused"
    answered = domain.decide(KEY, d.state, msg("complaint.respond", answer, ("seller", "S2")), ctx())
    assert [e.type for e in answered.emits] == ["complaint.answered"]

    decide = {"complaint_id": "CP1", "outcome": "dismissed", "reasoning": "授权有效",
              "sanction": {"party": "seller", "level": "warning"}}
    assert domain.decide(KEY, answered.state, msg("complaint.decide", decide, ("arbitrator", "A1")),
                         ctx()).reject.code == "sanction_without_finding"
    upheld = domain.decide(KEY, answered.state, msg("complaint.decide", {**decide, "outcome": "upheld"},
                                                    ("arbitrator", "A1")), ctx(NOW, "d"))
    [ruled] = upheld.emits
    assert (ruled.data["outcome"], ruled.data["seller_id"], ruled.data["sanction"]["level"]) == ("upheld", "S2", "warning")
    assert domain.decide(KEY, upheld.state, msg("complaint.decide", {**decide, "outcome": "upheld"},
                                                ("arbitrator", "A1")), ctx()).reject.code == "complaint_ruled"
