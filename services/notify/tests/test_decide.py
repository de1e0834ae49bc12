"""Notify's decisions, told as the events it reads and the messages it sends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from runtime.api.context import Context
from services.notify.domain.service import NotifyDomain
from services.notify.settings import NotifySettings

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def test_an_appeal_tells_both_parties_who_appealed() -> None:
    order = {"order_id": "O-1", "buyer_id": "B-1", "seller_id": "S-1"}
    appealed = parse_message(encode(envelope("ruling.appealed", {
        "order_id": "O-1", "case_id": "CS-1", "party": "seller", "refund_id": "RF-1",
        "evidence_due_at": (NOW + timedelta(days=3)).isoformat()}, actor={"role": "seller", "id": "S-1"})))
    ctx = Context(now=NOW, settings=NotifySettings(), cause_id=appealed.envelope.event_id,
                  extra={"locales": {"B-1": "zh-CN", "S-1": "en"}})

    decision = NotifyDomain().decide("O-1", order, appealed, ctx)

    sent = {e.data["user_id"]: e.data for e in decision.emits if e.type == "message.sent"}
    assert set(sent) == {"B-1", "S-1"}
    assert all(m["template"] == "ruling_appealed" for m in sent.values())
    assert "the seller appealed" in sent["S-1"]["body"]
    assert "商家已提出申诉" in sent["B-1"]["body"]


def _decide(type_: str, data: dict, actor: dict, state: dict | None = None):
    msg = parse_message(encode(envelope(type_, {"order_id": "O-1", **data}, actor=actor)))
    ctx = Context(now=NOW, settings=NotifySettings(), cause_id=msg.envelope.event_id,
                  extra={"locales": {"B-1": "zh-CN", "S-1": "en"}})
    return NotifyDomain().decide("O-1", state or {"order_id": "O-1", "buyer_id": "B-1", "seller_id": "S-1"}, msg, ctx)


def test_a_post_is_told_to_the_other_party_only() -> None:
    decision = _decide("conversation.posted", {
        "refund_id": "RF-1", "post_id": "P-1", "author_role": "seller", "text": "亲，麻烦拍一下杯底",
        "attachments": [{"kind": "photo", "uri": "https://img.example.cn/1.jpg"}]}, {"role": "seller", "id": "S-1"})

    [sent] = [e.data for e in decision.emits if e.type == "message.sent"]
    assert sent["user_id"] == "B-1" and sent["template"] == "conversation_post"
    assert "商家" in sent["title"] and "亲，麻烦拍一下杯底" in sent["body"] and "附 1 个凭证" in sent["body"]


def test_an_offer_tells_the_buyer_what_and_until_when_and_sets_a_reminder() -> None:
    due = NOW + timedelta(days=2)
    offered = _decide("seller.offered", {
        "refund_id": "RF-1", "offer_id": "OF-1", "offer": {"kind": "partial_refund", "amount_fen": 4000},
        "message": "补偿40元", "buyer_due_at": due.isoformat()}, {"role": "seller", "id": "S-1"})
    [sent] = [e.data for e in offered.emits if e.type == "message.sent"]
    assert sent["user_id"] == "B-1" and "部分退款 ¥40.00" in sent["body"] and "补偿40元" in sent["body"]

    waiting = _decide("refund.state_changed", {
        "refund_id": "RF-1", "state": "offer_pending", "previous_state": "requested", "awaiting": "buyer",
        "due_at": due.isoformat(), "kind": "refund_only", "amount_fen": 19900, "buyer_id": "B-1", "seller_id": "S-1",
        "cause": "seller.offered"}, {"role": "system", "id": "svc:refund"})
    assert [n for n in waiting.timers] == ["remind:RF-1:buyer"]


def test_a_case_an_automatic_rule_decides_asks_nobody_for_evidence() -> None:
    opened = {"case_id": "CS-1", "refund_id": "RF-1", "opened_by": "system", "buyer_id": "B-1", "seller_id": "S-1",
              "evidence_due_at": (NOW + timedelta(days=3)).isoformat()}
    for reason in ("seller_timeout", "already_decided"):  # whatever the rule is called
        decision = _decide("case.opened", {**opened, "reason": reason, "asks_evidence": False},
                           {"role": "system", "id": "svc:arbitration"})
        assert [e.data["template"] for e in decision.emits if e.type == "message.sent"] == []
    decision = _decide("case.opened", {**opened, "reason": "shop_restricted"}, {"role": "system", "id": "svc:arbitration"})
    assert sorted(e.data["template"] for e in decision.emits if e.type == "message.sent") == ["case_opened", "case_opened"]


def _changed(**over) -> dict:
    return {"refund_id": "RF-1", "state": "payout_pending", "previous_state": "return_in_transit", "awaiting": "payment",
            "due_at": None, "kind": "return_and_refund", "amount_fen": 19900, "buyer_id": "B-1", "seller_id": "S-1",
            "cause": "seller.return_received", **over}


def test_a_return_received_automatically_is_told_to_the_buyer_by_what_the_event_says() -> None:
    system = {"role": "system", "id": "svc:refund"}
    auto = _decide("refund.state_changed", _changed(cause="timer.return_confirm_expired", return_received_by="auto"), system)
    assert [e.data["template"] for e in auto.emits if e.type == "message.sent"] == ["return_received"]
    # the seller confirmed: the seller's own event tells the buyer, not the state change
    by_seller = _decide("refund.state_changed", _changed(return_received_by="seller"), system)
    assert [e.data["template"] for e in by_seller.emits if e.type == "message.sent"] == []


def test_a_lapsed_offer_tells_both_parties_until_when_the_buyer_may_go_on() -> None:
    due = NOW + timedelta(days=3)
    lapsed = _decide("refund.offer_lapsed", {"refund_id": "RF-1", "offer_id": "OF-1", "due_at": due.isoformat(),
                                             "offer": {"kind": "partial_refund", "amount_fen": 4000}},
                     {"role": "system", "id": "svc:refund"})
    sent = {e.data["user_id"]: e.data for e in lapsed.emits if e.type == "message.sent"}
    assert set(sent) == {"B-1", "S-1"} and {m["template"] for m in sent.values()} == {"offer_lapsed"}
    assert "2026-11-30" in sent["S-1"]["body"]
    # the request's move back to `rejected` says nothing more
    back = _decide("refund.state_changed", _changed(state="rejected", previous_state="offer_pending", awaiting="buyer",
                                                    due_at=due.isoformat(), cause="timer.offer_lapsed"),
                   {"role": "system", "id": "svc:refund"})
    assert [e.data["template"] for e in back.emits if e.type == "message.sent"] == []


def test_a_cause_nobody_declared_is_refused_at_the_door() -> None:
    import pytest
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        _decide("refund.state_changed", _changed(cause="timer.something_new"), {"role": "system", "id": "svc:refund"})


def test_a_case_the_platform_opens_tells_both_parties_why() -> None:
    opened = _decide("case.opened", {"case_id": "CS-9", "refund_id": None, "opened_by": "platform", "buyer_id": "B-1",
                                     "seller_id": "S-1", "reason": "counterfeit",
                                     "evidence_due_at": (NOW + timedelta(days=3)).isoformat()},
                     {"role": "arbitrator", "id": "A-1"})
    sent = {e.data["user_id"]: e.data for e in opened.emits if e.type == "message.sent"}
    assert {m["template"] for m in sent.values()} == {"platform_case_opened"} and set(sent) == {"B-1", "S-1"}
    assert "涉嫌售假" in sent["B-1"]["body"] and "a suspected counterfeit" in sent["S-1"]["body"]
    assert sorted(opened.timers) == ["remind:CS-9:buyer", "remind:CS-9:seller"]  # both may file evidence


def test_a_ruling_with_no_request_says_what_the_platform_found_not_a_refund() -> None:
    ruled = _decide("ruling.issued", {
        "case_id": "CS-9", "outcome": "reject", "refund_fen": 0, "return_shipping_paid_by": "seller",
        "seller_at_fault": True, "reasoning": "售假属实", "decided_by": "A-1", "appealable_until": None,
        "return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 50000, "buyer_id": "B-1", "seller_id": "S-1"},
        {"role": "arbitrator", "id": "A-1"})
    sent = {e.data["user_id"]: e.data for e in ruled.emits if e.type == "message.sent"}
    assert {m["template"] for m in sent.values()} == {"case_ruled"}
    assert "罚款 ¥500.00" in sent["B-1"]["body"] and "fined ¥500.00" in sent["S-1"]["body"]
    assert "rejected" not in sent["S-1"]["body"]


def test_compensation_tells_the_seller_what_its_deposit_does_and_the_buyer_when_paid() -> None:
    def awarded(amount: int, previous: int, round_: int):
        return _decide("refund.compensation_awarded", {
            "case_id": "CS-9", "refund_id": None, "amount_fen": amount, "previous_fen": previous, "round": round_,
            "buyer_id": "B-1", "seller_id": "S-1"}, {"role": "system", "id": "svc:refund"})
    first = [(e.data["user_id"], e.data["template"]) for e in awarded(100000, 0, 1).emits]
    assert first == [("S-1", "compensation_charged")]
    changed = [e.data for e in awarded(30000, 100000, 2).emits]
    assert [m["template"] for m in changed] == ["compensation_lifted", "compensation_charged"]
    assert "¥1000.00 goes back to your deposit" in changed[0]["body"] and "¥300.00" in changed[1]["body"]
    paid = _decide("refund.compensation_paid", {"case_id": "CS-9", "refund_id": None, "payout_id": "p",
                                                "amount_fen": 100000, "buyer_id": "B-1"},
                   {"role": "system", "id": "payments"})
    [told] = [e.data for e in paid.emits]
    assert (told["user_id"], told["template"]) == ("B-1", "compensation_received") and "¥1000.00" in told["body"]


def test_a_hold_is_told_to_both_parties_whose_it_is() -> None:
    held = _decide("funds.held", {"case_id": "CS-9", "hold_id": "hold:CS-9:seller:1", "party": "seller",
                                  "party_id": "S-1", "reason": "售假调查。"}, {"role": "arbitrator", "id": "A-1"})
    sent = {e.data["user_id"]: e.data for e in held.emits}
    assert {m["template"] for m in sent.values()} == {"funds_held"} and set(sent) == {"B-1", "S-1"}
    assert "冻结商家" in sent["B-1"]["body"] and "holds the seller's settlement" in sent["S-1"]["body"]


def test_an_ordered_refund_tells_the_buyer_by_when_once() -> None:
    data = {"refund_id": "RF-1", "payout_id": "payout:RF-1", "amount_fen": 19900, "attempt": 1,
            "promised_by": "2026-12-09T02:00:00Z"}
    first = _decide("refund.payout_requested", data, {"role": "system", "id": "svc:refund"})
    [told] = [e.data for e in first.emits]
    assert (told["user_id"], told["template"]) == ("B-1", "refund_on_its_way")
    assert "2026-12-09 10:00" in told["body"] and "¥199.00" in told["body"]
    assert not _decide("refund.payout_requested", {**data, "attempt": 2}, {"role": "system", "id": "svc:refund"}).emits


def test_a_sanction_is_told_to_the_party_with_its_end() -> None:
    sanctioned = _decide("account.sanctioned", {"party": "seller", "party_id": "S-1", "level": "suspended",
                                                "until": "2026-12-04T02:00:00Z", "case_id": "CS-9"},
                         {"role": "arbitrator", "id": "A-1"})
    [told] = [e.data for e in sanctioned.emits]
    assert (told["user_id"], told["template"]) == ("S-1", "account_sanctioned")
    assert "suspended" in told["body"] and "2026-12-04 02:00 UTC" in told["body"]  # English: UTC
    lifted = _decide("account.sanction_lifted", {"party": "seller", "party_id": "S-1", "level": "suspended",
                                                 "case_id": "CS-9", "why": "expired"}, {"role": "system", "id": "svc"})
    assert [e.data["template"] for e in lifted.emits] == ["account_sanction_lifted"]


def test_the_buyer_is_told_where_to_send_the_goods_back() -> None:
    def waiting(address):
        return _decide("refund.state_changed", {
            "refund_id": "RF-1", "state": "return_pending", "previous_state": "requested", "awaiting": "buyer",
            "due_at": (NOW + timedelta(days=7)).isoformat(), "kind": "return_and_refund", "amount_fen": 100,
            "buyer_id": "B-1", "seller_id": "S-1", "cause": "seller.approved", "return_address": address},
            {"role": "seller", "id": "S-1"})
    [told] = [e.data for e in waiting({"name": "王店长", "phone": "13800138000", "address": "杭州市余杭区 1 号"}).emits
              if e.data.get("template") == "return_requested"]
    assert "退货地址：王店长，13800138000，杭州市余杭区 1 号" in told["body"]
    [unknown] = [e.data for e in waiting(None).emits if e.data.get("template") == "return_requested"]
    assert "商家将提供退货地址" in unknown["body"]


def test_a_complaint_is_told_to_the_accused_then_the_complainant_and_its_ruling_to_both() -> None:
    actor = {"role": "seller", "id": "S-1"}

    def decide(type_: str, data: dict):
        m = parse_message(encode(envelope(type_, data, actor=actor)))
        key = NotifyDomain().route(m)[0]
        return key, NotifyDomain().decide(key, None, m, Context(now=NOW, settings=NotifySettings(), cause_id=m.event_id))
    key, filed = decide("complaint.filed", {"complaint_id": "CP1", "against_seller_id": "S-2", "complainant_id": "S-1",
                                            "subject": "商标 ABC", "right": "trademark"})
    assert key == "complaint:CP1"
    [told] = [e.data for e in filed.emits]
    assert (told["user_id"], told["template"]) == ("S-2", "complaint_filed") and "商标权" in told["body"]
    _, ruled = decide("complaint.ruled", {"complaint_id": "CP1", "against_seller_id": "S-2", "complainant_id": "S-1",
                                          "outcome": "upheld", "reasoning": "仿冒属实"})
    assert sorted(e.data["user_id"] for e in ruled.emits) == ["S-1", "S-2"]
