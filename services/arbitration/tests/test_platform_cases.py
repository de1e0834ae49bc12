"""Cases the platform opens on its own (主动介入): told to both parties, investigated with their
evidence, ruled by an arbitrator (never an automatic rule), a fine where the seller is at fault."""
from __future__ import annotations

from datetime import timedelta

from services.arbitration.domain.model import ArbitrationOrder
from services.arbitration.tests.test_cases import ARB, BUYER, NOW, SELLER, close_window, ctx, domain, msg, rule

FILING = {"reason": "counterfeit", "description": "鉴定为假货 / found to be a counterfeit",
          "evidence": [{"kind": "document", "uri": "https://evidence.example.cn/appraisal.pdf"}]}


def paid_order() -> dict:
    return ArbitrationOrder(order_id="O1", buyer_id="B1", seller_id="S1", paid_fen=10000).dump()


def open_platform_case(state=None, by=ARB):
    return domain.decide("O1", state or paid_order(), msg("case.open", FILING, by), ctx(NOW, "platform"))


def test_the_platform_opens_a_case_and_both_parties_are_asked_for_evidence():
    d = open_platform_case()
    [opened] = [e for e in d.emits if e.type == "case.opened"]
    assert opened.data["opened_by"] == "platform" and opened.data["reason"] == "counterfeit"
    assert opened.data["refund_id"] is None and opened.data["asks_evidence"] is True
    assert (opened.actor_role, opened.actor_id) == ARB  # the arbitrator who opened it, for the record
    case = next(iter(ArbitrationOrder.load("O1", d.state).cases.values()))
    assert set(case.evidence_due) == {"buyer", "seller"} and case.submitted == {"buyer": False, "seller": False}
    assert [(s.party, s.kind) for s in case.submissions] == [("platform", "filing")]


def test_only_an_arbitrator_on_a_known_order_and_one_open_case_at_a_time():
    assert domain.decide("O1", None, msg("case.open", FILING, ARB), ctx()).reject.code == "unknown_order"
    again = open_platform_case(open_platform_case().state)
    assert again.reject.code == "case_already_open"


def test_no_automatic_rule_rules_on_it_and_the_arbitrator_may_fine_the_seller():
    d = open_platform_case()
    d = domain.decide("O1", d.state, msg("evidence.submit", {
        "case_id": next(iter(ArbitrationOrder.load("O1", d.state).cases)), "description": "正品 / genuine",
        "evidence": []}, SELLER), ctx(NOW, "ev"))
    # the buyer said nothing and the seller answered: a party's case would be ruled for the seller here
    waited = close_window(d.state, NOW + timedelta(hours=2))
    assert [e.type for e in waited.emits] == ["case.awaiting_ruling"]
    assert rule(waited.state, "full_refund").reject.code == "outcome_not_allowed"  # money needs a request
    case = next(iter(ArbitrationOrder.load("O1", waited.state).cases.values()))
    fined = domain.decide("O1", waited.state, msg("ruling.decide", {
        "case_id": case.case_id, "outcome": "reject", "return_shipping_paid_by": "seller", "seller_at_fault": True,
        "reasoning": "售假属实 / counterfeit confirmed", "penalty_fen": 50000}, ARB), ctx(NOW + timedelta(hours=3), "r"))
    [issued] = [e for e in fined.emits if e.type == "ruling.issued"]
    assert issued.data["penalty_fen"] == 50000 and issued.data["seller_at_fault"] is True
    assert issued.data["decided_by"] == "A1"


def test_the_platforms_investigation_is_not_counted_on_the_buyers_record():
    from services.arbitration.domain import buyers
    opened = next(e for e in open_platform_case().emits if e.type == "case.opened")
    from contracts.build import encode, envelope
    from contracts.parsing import parse_message
    event = parse_message(encode(envelope("case.opened", opened.data, actor={"role": "arbitrator", "id": "A1"})))
    assert buyers.buyer_of(event) is None
    from contracts.parsing import authorize
    assert authorize(event, strict=True) is None  # its readers take it in the arbitrator's name


def test_a_buyer_or_seller_cannot_open_one():
    from contracts.parsing import authorize
    for party in (BUYER, SELLER):  # the contract gives case.open to arbitrators alone (the authorize step)
        assert authorize(msg("case.open", FILING, party), strict=True).code == "forbidden"
    assert authorize(msg("case.open", FILING, ARB), strict=True) is None


def _ruled(state, compensation_fen: int, *, outcome: str = "reject", at_fault: bool = True):
    case = next(iter(ArbitrationOrder.load("O1", state).cases.values()))
    return domain.decide("O1", state, msg("ruling.decide", {
        "case_id": case.case_id, "outcome": outcome, "return_shipping_paid_by": "seller", "seller_at_fault": at_fault,
        "reasoning": "售假属实 / counterfeit confirmed", "compensation_fen": compensation_fen}, ARB),
        ctx(NOW + timedelta(hours=80), "r"))


def test_a_counterfeit_may_be_compensated_up_to_ten_times_what_the_buyer_paid():
    waited = close_window(open_platform_case().state, NOW + timedelta(hours=73)).state
    [issued] = [e for e in _ruled(waited, 100000).emits if e.type == "ruling.issued"]  # 假一赔十 on ¥100
    assert issued.data["compensation_fen"] == 100000
    assert _ruled(waited, 100001).reject.code == "compensation_exceeds_cap"
    assert _ruled(waited, 5000, at_fault=False).reject.code == "compensation_without_fault"


def test_other_cases_compensate_at_most_what_was_paid_and_never_with_a_rejected_claim():
    from services.arbitration.tests.test_cases import _awaiting, rule
    awaiting = _awaiting()  # the buyer's case over a ¥60 request on a ¥100 order
    case = next(iter(ArbitrationOrder.load("O1", awaiting).cases.values()))

    def decide(outcome: str, fen: int):
        return domain.decide("O1", awaiting, msg("ruling.decide", {
            "case_id": case.case_id, "outcome": outcome, "refund_fen": 6000, "return_shipping_paid_by": "seller",
            "seller_at_fault": True, "reasoning": "理由", "compensation_fen": fen}, ARB), ctx(NOW + timedelta(hours=3)))
    assert decide("full_refund", 10001).reject.code == "compensation_exceeds_cap"
    [issued] = [e for e in decide("full_refund", 10000).emits if e.type == "ruling.issued"]
    assert (issued.data["refund_fen"], issued.data["compensation_fen"]) == (6000, 10000)
    assert decide("reject", 100).reject.code == "compensation_with_reject"
    [plain] = [e for e in rule(awaiting, "full_refund").emits if e.type == "ruling.issued"]
    assert plain.data["compensation_fen"] == 0


def test_a_hold_stands_until_released_or_the_case_ends_and_ends_once():
    def send(state, type_: str, party: str = "seller", cause: str = "h"):
        case_id = next(iter(ArbitrationOrder.load("O1", state).cases))
        return domain.decide("O1", state, msg(type_, {"case_id": case_id, "party": party, "reason": "售假调查"}, ARB),
                             ctx(NOW + timedelta(hours=1), cause))
    opened = open_platform_case().state
    held = send(opened, "funds.hold")
    [hold] = [e.data for e in held.emits if e.type == "settlement.hold"]
    assert (hold["party"], hold["party_id"], hold["hold_id"]) == ("seller", "S1", hold["hold_id"])
    assert [e.type for e in held.emits] == ["settlement.hold", "funds.held"]
    assert send(held.state, "funds.hold").reject.code == "already_held"
    assert send(held.state, "funds.release", "buyer").reject.code == "not_held"
    released = send(held.state, "funds.release")
    [back] = [e.data for e in released.emits if e.type == "settlement.release"]
    assert back["hold_id"] == hold["hold_id"]
    again = send(released.state, "funds.hold", cause="h2")  # held anew: a hold of its own
    [second] = [e.data for e in again.emits if e.type == "settlement.hold"]
    assert second["hold_id"] != hold["hold_id"]

    # The case ends (ruled, and the appeal window passes): the hold standing is released with it.
    waited = close_window(again.state, NOW + timedelta(hours=73)).state
    ruled = domain.decide("O1", waited, msg("ruling.decide", {
        "case_id": next(iter(ArbitrationOrder.load("O1", waited).cases)), "outcome": "reject",
        "return_shipping_paid_by": "seller", "seller_at_fault": True, "reasoning": "售假属实"}, ARB),
        ctx(NOW + timedelta(hours=80), "r"))
    case = next(iter(ArbitrationOrder.load("O1", ruled.state).cases.values()))
    ended = domain.on_timer("O1", ruled.state, f"appeal_window:{case.case_id}", case.last_ruling.appealable_until,
                            ctx(case.last_ruling.appealable_until, "end"))
    releases = [e.data for e in ended.emits if e.type == "settlement.release"]
    assert [r["hold_id"] for r in releases] == [second["hold_id"]]
    assert [e.data["released_by"] for e in ended.emits if e.type == "funds.released"] == ["case_closed"]
    assert send(ended.state, "funds.hold", cause="h3").reject.code == "case_closed"
