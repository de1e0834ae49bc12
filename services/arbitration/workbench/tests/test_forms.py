"""The ruling form's checks and how evidence is shown, pure."""
from __future__ import annotations

import pytest

from services.arbitration.domain.model import RequestFacts
from services.arbitration.workbench.evidence import shown
from services.arbitration.workbench.forms import check_evidence_request, check_ruling, fen_of, outcomes_for

REQ = RequestFacts(refund_id="R1", kind="return_and_refund", reason="quality", amount_fen=10000, refundable_fen=8000)


def form(**over):
    return {"outcome": "full_refund", "refund_yuan": "80", "return_shipping_paid_by": "seller", "reasoning": "属实", **over}


@pytest.mark.parametrize("text,fen", [("12.5", 1250), ("¥1,000", 100000), ("", None), ("0.01", 1)])
def test_yuan_become_fen(text, fen):
    assert fen_of(text) == fen


@pytest.mark.parametrize("text", ["abc", "-1", "0.001", "1e400x"])
def test_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        fen_of(text)


def test_an_exchange_request_offers_an_exchange_and_a_case_without_request_only_reject():
    assert "exchange" in outcomes_for(RequestFacts(refund_id="R", kind="exchange", reason="q", amount_fen=1))
    assert "exchange" not in outcomes_for(REQ)
    assert outcomes_for(None) == ["reject"]


@pytest.mark.parametrize("over,field,code", [
    ({"refund_yuan": "80.01"}, "refund_yuan", "refund_exceeds_refundable"),
    ({"outcome": "partial_refund", "refund_yuan": ""}, "refund_yuan", "refund_amount_required"),
    ({"outcome": "partial_refund", "refund_yuan": "100"}, "refund_yuan", "refund_exceeds_refundable"),
    ({"outcome": "exchange"}, "outcome", "outcome_not_allowed"),
    ({"return_shipping_yuan": "30.01"}, "return_shipping_yuan", "postage_exceeds_cap"),
    ({"penalty_yuan": "10"}, "penalty_yuan", "penalty_without_fault"),
    ({"compensation_yuan": "10"}, "compensation_yuan", "compensation_without_fault"),
    ({"compensation_yuan": "100.01", "seller_at_fault": "on"}, "compensation_yuan", "compensation_exceeds_cap"),
    ({"compensation_yuan": "1", "seller_at_fault": "on", "outcome": "reject"}, "compensation_yuan",
     "compensation_with_reject"),
    ({"reasoning": ""}, "reasoning", "reasoning_required"),
    ({"return_shipping_paid_by": "nobody"}, "return_shipping_paid_by", "choose_one"),
])
def test_a_ruling_the_service_would_refuse_is_refused_in_the_form(over, field, code):
    checked = check_ruling(form(**over), REQ, max_postage_fen=3000, compensation_cap_fen=10000)
    assert checked.errors.get(field) == code and checked.data == {}


def test_a_good_ruling_becomes_the_command_data():
    checked = check_ruling(form(outcome="reject", refund_yuan="", return_shipping_paid_by="buyer", canned="证据不足"),
                           REQ, max_postage_fen=3000)
    assert checked.ok and checked.data == {"outcome": "reject", "return_shipping_paid_by": "buyer",
                                           "seller_at_fault": False, "reasoning": "证据不足：属实",
                                           "misconduct": "none", "penalty_fen": 0}


def test_an_evidence_request_needs_a_party_a_message_and_a_window():
    assert check_evidence_request({"party": "seller", "message": "发货底单", "window_hours": "24"}).data == {
        "party": "seller", "message": "发货底单", "due_in_seconds": 86400}
    assert set(check_evidence_request({"party": "x", "message": "", "window_hours": "0"}).errors) == {
        "party", "message", "window_hours"}


@pytest.mark.parametrize("item,how", [
    ({"kind": "photo", "uri": "https://a.cn/x"}, "image"),
    ({"kind": "logistics", "uri": "http://a.cn/x.PNG"}, "image"),
    ({"kind": "video", "uri": "https://a.cn/x.mp4"}, "link"),
    ({"kind": "document", "uri": "https://a.cn/x.pdf"}, "link"),
    ({"kind": "photo", "uri": "javascript:alert(1)"}, "text"),
    ({"kind": "photo", "uri": "data:image/png;base64,AAAA"}, "text"),
    ({"kind": "photo", "uri": "file:///etc/passwd"}, "text"),
    ({"kind": "photo", "uri": "oss://bucket/x.jpg"}, "text"),
    ({"kind": "photo", "uri": "https:///nohost.jpg"}, "text"),
])
def test_only_web_addresses_are_ever_fetched_or_linked(item, how):
    assert shown(item).how == how


def test_the_story_is_in_time_order_with_the_sellers_answer_even_without_evidence():
    from datetime import datetime, timedelta, timezone

    from services.arbitration.workbench.timeline import timeline

    t = datetime(2026, 11, 20, tzinfo=timezone.utc)
    doc = {"case": {"submissions": [
        {"party": "buyer", "at": t, "kind": "with_request", "description": "坏了", "evidence": [{"kind": "photo", "uri": "https://a.cn/1.jpg"}]},
        {"party": "seller", "at": t + timedelta(days=3), "kind": "request", "description": "请补充"}],
        "rulings": [{"at": t + timedelta(days=4), "outcome": "full_refund", "refund_fen": 100, "decided_by": "A1", "reasoning": "属实"}]},
        # as the case file keeps it after a trip through the changelog: ISO text
        "request": {"seller_rejection": {"reason": "used", "message": "已使用", "at": (t + timedelta(days=1)).isoformat()},
                    "negotiation": [{"entry": "post", "by": "buyer", "at": t + timedelta(days=2), "text": "请退款", "attachments": []}]}}
    story = timeline(doc)
    assert [(e.who, e.what) for e in story] == [("buyer", "with_request"), ("seller", "rejection"), ("buyer", "post"),
                                               ("platform", "request"), ("platform", "ruling")]
    assert story[0].evidence[0].how == "image" and story[3].detail["asked_of"] == "seller"


@pytest.mark.parametrize("value,shown", [
    ("2026-11-21T08:00:00Z", "2026-11-21 16:00"), ("2026-11-21T08:00:00+00:00", "2026-11-21 16:00"),
    (None, "—"), ("not a time", "not a time")])
def test_times_are_shown_in_beijing_time(value, shown):
    from services.arbitration.workbench.pages import beijing

    assert beijing(value) == shown


def test_every_declared_reason_has_words_in_both_languages() -> None:
    """A case reason (or a request's, or a seller's refusal's) added to the contract without words
    would show as its code on the case page."""
    from typing import get_args

    from contracts.common import (
        PlatformCaseReason, RefundReason, SellerInterventionReason, SellerRejectReason, SystemCaseReason,
    )
    from services.arbitration.domain.rules import AUTOMATIC_RULES
    from services.arbitration.workbench.texts import has_words

    reasons = {r for lit in (RefundReason, SellerInterventionReason, SellerRejectReason, SystemCaseReason,
                             PlatformCaseReason)
               for r in get_args(lit)} | {rule.name for rule in AUTOMATIC_RULES}
    wordless = sorted(r for r in reasons if not has_words(r))
    assert wordless == []


def test_compensation_within_the_cap_goes_into_the_ruling():
    checked = check_ruling(form(seller_at_fault="on", compensation_yuan="1,000"), REQ,
                           max_postage_fen=3000, compensation_cap_fen=100000)
    assert checked.ok and checked.data["compensation_fen"] == 100000 and checked.data["seller_at_fault"] is True


@pytest.mark.parametrize("over,expected", [
    ({"sanction_level": "suspended", "sanction_party": "seller", "sanction_days": "7"},
     {"party": "seller", "level": "suspended", "days": 7}),
    ({"sanction_level": "banned", "sanction_party": "seller"}, {"party": "seller", "level": "banned"}),
    ({"sanction_level": "suspended", "sanction_party": "seller", "sanction_days": ""}, "days_out_of_range"),
    ({"sanction_level": "warning", "sanction_party": "buyer"}, "sanction_without_finding"),  # no misconduct found
])
def test_a_sanction_names_a_party_found_at_fault_and_a_suspension_its_days(over, expected):
    checked = check_ruling(form(seller_at_fault="on", **over), REQ, max_postage_fen=3000)
    if isinstance(expected, dict):
        assert checked.ok and checked.data["sanction"] == expected
    else:
        assert expected in checked.errors.values()
