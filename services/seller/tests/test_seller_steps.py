"""The seller's side of a request, pure: every step against every seller command and the deadline."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from runtime.api.context import Context
from services.seller.domain import credit
from services.seller.domain.model import PendingRequest, SellerOrder
from services.seller.domain.service import SellerDomain
from services.seller.domain.transitions import EMITS, TRANSITIONS, next_state
from services.seller.settings import SellerSettings

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
DUE = NOW + timedelta(hours=48)
SETTINGS = SellerSettings(shop_restrictions="promotions:2,new_listings:3", credit_window_s=3600)
domain = SellerDomain()
ALL_STEPS = ("awaiting_answer", "offered", "approved", "rejected", "timed_out", "awaiting_receipt", "received",
             "awaiting_replacement", "replacement_shipped", "replacement_expired", "not_seller_move", "closed")
COMMANDS = {
    "seller.approve": {},
    "seller.reject": {"reason": "opened", "message": "已拆封", "evidence": []},
    "return.received": {},
    "replacement.ship": {"carrier": "SF", "tracking_no": "1"},
    "seller.offer": {"offer": {"kind": "partial_refund", "amount_fen": 60}, "message": "补偿六毛"},
}


def ctx(now: datetime = NOW) -> Context:
    return Context(now=now, settings=SETTINGS, cause_id="e1")


def msg(type_: str, data: dict[str, Any], actor: tuple[str, str] = ("seller", "S1")):
    env = envelope(type_, {"order_id": "O1", **data}, actor={"role": actor[0], "id": actor[1]}, validate=False)
    return parse_message(encode(env))


def order_at(step: str) -> dict[str, Any]:
    o = SellerOrder(order_id="O1", seller_id="S1", buyer_id="B1")
    o.requests["R1"] = PendingRequest(refund_id="R1", kind="refund_only", amount_fen=100, step=step, due_at=DUE,
                                      seller_timeout_runs=step == "awaiting_answer")
    return o.dump()


@pytest.mark.parametrize("step", ALL_STEPS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_seller_command_in_every_step(step, command):
    d = domain.decide("O1", order_at(step), msg(command, {"refund_id": "R1", **COMMANDS[command]}), ctx())
    target = next_state(step, command)
    if target is None:
        assert d.reject is not None and d.reject.code == "not_your_move" and d.state is None
    else:
        assert d.reject is None
        assert SellerOrder.load("O1", d.state).requests["R1"].step == target
        assert [e.type for e in d.emits] == [EMITS[command]]
        assert d.timers == {}  # answering stops the deadline


def test_only_the_orders_seller_may_answer():
    d = domain.decide("O1", order_at("awaiting_answer"), msg("seller.approve", {"refund_id": "R1"}, ("seller", "S-other")), ctx())
    assert d.reject.code == "not_seller"


def test_an_answer_for_an_unknown_order_or_request_is_refused():
    assert domain.decide("O9", None, msg("seller.approve", {"refund_id": "R1"}), ctx()).reject.code == "unknown_order"
    assert domain.decide("O1", order_at("awaiting_answer"), msg("seller.approve", {"refund_id": "R9"}), ctx()).reject.code == "unknown_refund"


@pytest.mark.parametrize("step", ALL_STEPS)
def test_the_seller_timeout_fires_only_while_the_seller_has_not_answered(step):
    d = domain.on_timer("O1", order_at(step), "seller_timeout:R1", DUE, ctx(DUE))
    if step == "awaiting_answer":
        assert [e.type for e in d.emits] == ["seller.timed_out"]
        assert SellerOrder.load("O1", d.state).requests["R1"].step == "timed_out"
    else:
        assert d.state is None and not d.emits


def test_a_moved_deadline_does_not_fire_at_the_old_time():
    d = domain.on_timer("O1", order_at("awaiting_answer"), "seller_timeout:R1", DUE - timedelta(hours=1), ctx(DUE))
    assert d.state is None and not d.emits


def test_a_seller_timeout_set_before_its_rename_still_fires() -> None:
    # Aggregates and deadlines written under the old names: `answer_timer`, "answer_deadline:<refund>".
    old = order_at("awaiting_answer")
    for r in old["requests"].values():
        r["answer_timer"] = r.pop("seller_timeout_runs")
    from services.seller.domain.decide import timers_of
    assert timers_of(SellerOrder.load("O1", old)) == {"seller_timeout:R1": DUE}
    d = domain.on_timer("O1", old, "answer_deadline:R1", DUE, ctx(DUE))
    assert [e.type for e in d.emits] == ["seller.timed_out"]


def test_the_table_only_lets_the_seller_act_on_its_own_moves():
    # `offered`: the buyer's move, but the seller may replace its open offer meanwhile
    assert {s for s, _ in TRANSITIONS} == {"awaiting_answer", "offered", "awaiting_receipt", "awaiting_replacement"}


# ---- counter-offers (协商) -----------------------------------------------------------------------------


def offer(state: dict[str, Any], amount_fen: int = 60, kind: str = "partial_refund", cause: str = "e1"):
    body = {"refund_id": "R1", "offer": {"kind": kind, "amount_fen": amount_fen}, "message": "m"}
    return domain.decide("O1", state, msg("seller.offer", body), Context(now=NOW, settings=SETTINGS, cause_id=cause))


def test_an_offer_answers_the_request_and_gives_the_buyer_a_window():
    d = offer(order_at("awaiting_answer"))
    assert d.reject is None and d.timers == {}  # the seller's 48 h clock stops
    [e] = d.emits
    assert e.type == "seller.offered" and e.data["number"] == 1 and e.data["replaces"] is None
    assert e.data["buyer_due_at"] == NOW + timedelta(seconds=SETTINGS.offer_window_s)


def test_a_second_offer_replaces_the_open_one_and_a_third_is_refused():
    first = offer(order_at("awaiting_answer"), cause="e1")
    second = offer(first.state, 80, cause="e2")
    assert second.emits[0].data["replaces"] == first.emits[0].data["offer_id"]
    assert second.emits[0].data["offer_id"] != first.emits[0].data["offer_id"]
    third = offer(second.state, 90, cause="e3")
    assert third.reject is not None and third.reject.code == "offer_limit" and third.state is None


def test_an_offer_of_more_money_than_asked_is_refused():
    d = offer(order_at("awaiting_answer"), amount_fen=101)
    assert d.reject is not None and d.reject.code == "offer_exceeds_request"


# ---- shop credit ------------------------------------------------------------------------------------


def ruling(refund: str, at_fault: bool, round_: int = 1, penalty_fen: int = 0):
    return msg("ruling.issued", {"case_id": "C-" + refund, "refund_id": refund, "outcome": "full_refund", "refund_fen": 1,
                                 "return_shipping_paid_by": "seller", "seller_at_fault": at_fault, "reasoning": "r",
                                 "decided_by": "A1", "appealable_until": None, "round": round_, "seller_id": "S1",
                                 "return_shipping_fen": 0, "misconduct": "seller" if penalty_fen else "none",
                                 "penalty_fen": penalty_fen},
               ("arbitrator", "A1"))


def test_a_fine_is_deducted_once_and_given_back_once_when_an_appeal_lifts_it():
    fined = domain.decide("shop:S1", None, ruling("R1", True, penalty_fen=50000), ctx())
    deduct = [e for e in fined.emits if e.type == "deposit.deduct"]
    assert [e.type for e in fined.emits if e.type in ("deposit.deduct", "seller.penalized")] == ["deposit.deduct",
                                                                                               "seller.penalized"]
    assert deduct[0].data["deduction_id"] == "deduct:C-R1:r1" and deduct[0].data["amount_fen"] == 50000
    again = domain.decide("shop:S1", fined.state, ruling("R1", True, penalty_fen=50000), ctx())
    assert not [e for e in again.emits if e.type == "deposit.deduct"]

    lifted = domain.decide("shop:S1", fined.state, ruling("R1", False, round_=2), ctx())
    [back] = [e for e in lifted.emits if e.type == "deposit.refund"]
    assert back.data["deduction_id"] == "deduct:C-R1:r1" and back.data["amount_fen"] == 50000
    twice = domain.decide("shop:S1", lifted.state, ruling("R1", False, round_=3), ctx())
    assert not [e for e in twice.emits if e.type == "deposit.refund"]


def awarded(amount_fen: int, previous_fen: int, round_: int):
    return msg("refund.compensation_awarded", {"case_id": "C1", "refund_id": "R1", "amount_fen": amount_fen,
                                               "previous_fen": previous_fen, "round": round_, "buyer_id": "B1",
                                               "seller_id": "S1"}, ("system", "svc:refund"))


def test_the_deposit_follows_the_buyers_compensation_through_appeals():
    def moves(d):
        return [(e.type, e.data["deduction_id"], e.data["amount_fen"], e.data["reason"]) for e in d.emits]
    drawn = domain.decide("shop:S1", None, awarded(20000, 0, 1), ctx())
    assert moves(drawn) == [("deposit.deduct", "deduct:C1:compensation:r1", 20000, "compensation")]
    assert not domain.decide("shop:S1", drawn.state, awarded(20000, 0, 1), ctx()).emits  # heard twice
    changed = domain.decide("shop:S1", drawn.state, awarded(50000, 20000, 2), ctx())
    assert moves(changed) == [("deposit.refund", "deduct:C1:compensation:r1", 20000, "lifted_on_appeal"),
                              ("deposit.deduct", "deduct:C1:compensation:r2", 50000, "compensation")]
    lifted = domain.decide("shop:S1", changed.state, awarded(0, 50000, 3), ctx())
    assert moves(lifted) == [("deposit.refund", "deduct:C1:compensation:r2", 50000, "lifted_on_appeal")]
    assert not domain.decide("shop:S1", lifted.state, awarded(0, 50000, 3), ctx()).emits


def timeout(refund: str):
    """A seller timeout as the refund service took it: what weighs on the shop."""
    return msg("refund.state_changed", {"refund_id": refund, "state": "in_arbitration", "previous_state": "requested",
                                        "awaiting": "platform", "due_at": None, "kind": "refund_only", "amount_fen": 100,
                                        "buyer_id": "B1", "seller_id": "S1", "cause": "seller.timed_out"},
               ("system", "svc:refund"))


def test_defects_lower_the_score_restrict_the_shop_and_a_won_appeal_restores_it():
    key = "shop:S1"
    d1 = domain.decide(key, None, ruling("R1", True), ctx())
    assert [e.type for e in d1.emits] == ["shop.credit_changed"] and d1.emits[0].data["score"] == 95
    d2 = domain.decide(key, d1.state, timeout("R2"), ctx())
    assert [e.type for e in d2.emits] == ["shop.credit_changed", "shop.restricted", "shop.restrictions_changed"]
    assert d2.emits[1].data["restriction"] == "promotions"
    assert d2.emits[2].data["restrictions"] == ["promotions"]  # the table every seller instance reads
    d3 = domain.decide(key, d2.state, ruling("R1", False, round_=2), ctx())
    assert [e.type for e in d3.emits] == ["shop.credit_changed", "shop.restored", "shop.restrictions_changed"]
    assert d3.emits[0].data["why"] == "appeal_won" and d3.emits[0].data["delta"] == 5


def paid(order: str):
    return msg("order.paid", {"order_id": order, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 100,
                              "currency": "CNY", "paid_at": "2026-11-26T08:00:00Z"}, ("system", "orders"))


def test_a_shop_is_restricted_by_its_defect_rate_once_it_has_enough_orders():
    s = SellerSettings(shop_restrictions="promotions:5:0.5", rate_min_orders=2, credit_window_s=3600)
    c = lambda: Context(now=NOW, settings=s, cause_id="e")  # noqa: E731
    state = domain.decide("shop:S1", None, paid("O1"), c()).state
    one = domain.decide("shop:S1", state, ruling("R1", True), c())
    assert credit.Shop.load("shop:S1", one.state).restrictions == []  # 1 of 1 orders, but too few orders
    two = domain.decide("shop:S1", one.state, paid("O2"), c())
    assert [e.type for e in two.emits] == ["shop.restricted", "shop.restrictions_changed"]
    assert two.emits[0].data["defect_rate"] == 0.5 and two.emits[0].data["orders_in_window"] == 2
    three = domain.decide("shop:S1", two.state, paid("O3"), c())  # the rate falls to a third
    assert [e.type for e in three.emits] == ["shop.restored", "shop.restrictions_changed"]


def test_a_restricted_shops_rejection_of_a_quality_request_goes_to_the_platform():
    order = SellerOrder(order_id="O1", seller_id="S1", buyer_id="B1")
    order.requests["R1"] = PendingRequest(refund_id="R1", kind="refund_only", amount_fen=100, reason="quality",
                                          step="awaiting_answer", due_at=DUE, seller_timeout_runs=True)
    reject = msg("seller.reject", {"refund_id": "R1", **COMMANDS["seller.reject"]})
    for restrictions, reviewed in (([], False), (["promotions"], False), (["rejections_reviewed"], True)):
        c = Context(now=NOW, settings=SETTINGS, cause_id="e1", extra={"restrictions": restrictions})
        [e] = domain.decide("O1", order.dump(), reject, c).emits
        assert e.type == "seller.rejected" and e.data.get("reviewed", False) is reviewed


def test_a_timeout_then_a_ruling_on_the_same_request_is_one_defect():
    key = "shop:S1"
    d1 = domain.decide(key, None, timeout("R1"), ctx())
    d2 = domain.decide(key, d1.state, ruling("R1", True), ctx())
    shop = credit.Shop.load(key, d2.state)
    assert len(shop.defects) == 1 and shop.score == 95
    assert domain.decide(key, d2.state, timeout("R1"), ctx()).state is None  # nothing new


def test_defects_expire_after_the_window_and_lift_restrictions():
    key = "shop:S1"
    state = None
    for r in ("R1", "R2"):
        state = domain.decide(key, state, ruling(r, True), ctx()).state
    assert credit.Shop.load(key, state).restrictions == ["promotions"]
    later = NOW + timedelta(seconds=SETTINGS.credit_window_s + 1)
    d = domain.on_timer(key, state, credit.EXPIRY_TIMER, later, ctx(later))
    shop = credit.Shop.load(key, d.state)
    assert shop.defects == {} and shop.restrictions == [] and shop.score == 100
    assert "shop.restored" in [e.type for e in d.emits]


def test_the_replacement_deadline_is_the_sellers_shipped_in_time_or_expired_never_both():
    waiting = order_at("awaiting_replacement")
    assert domain.decide("O1", waiting, msg("replacement.ship", {"refund_id": "R1", **COMMANDS["replacement.ship"]}),
                         ctx()).timers == {}
    expired = domain.on_timer("O1", waiting, "replacement_deadline:R1", DUE, ctx(DUE))
    assert [e.type for e in expired.emits] == ["seller.replacement_expired"]
    late = domain.decide("O1", expired.state, msg("replacement.ship", {"refund_id": "R1", **COMMANDS["replacement.ship"]}),
                         ctx(DUE))
    assert late.reject.code == "not_your_move"


def test_a_late_shipment_is_one_defect_per_order_whether_shipped_late_or_cancelled_for_it():
    late = msg("order.shipped_late", {"seller_id": "S1", "ship_by": NOW.isoformat(),
                                      "shipped_at": (NOW + timedelta(hours=5)).isoformat()}, ("system", "svc:refund"))
    assert domain.route(late) == ["shop:S1"]
    d = domain.decide("shop:S1", None, late, ctx())
    [changed] = [e.data for e in d.emits if e.type == "shop.credit_changed"]
    assert changed["why"] == "late_shipment" and changed["delta"] == -SETTINGS.credit_penalty_late_shipment
    cancelled = msg("refund.requested", {"refund_id": "R9", "kind": "refund_only", "reason": "other", "amount_fen": 100,
                                         "seller_id": "S1", "buyer_id": "B1", "seller_due_at": DUE.isoformat(),
                                         "auto_approved": True, "late_shipment": True}, ("buyer", "B1"))
    assert "shop:S1" in domain.route(cancelled)
    assert domain.decide("shop:S1", d.state, cancelled, ctx()).emits == []  # the same order: counted once
    on_time = msg("refund.requested", {"refund_id": "R9", "kind": "refund_only", "reason": "other", "amount_fen": 100,
                                       "seller_id": "S1", "buyer_id": "B1", "seller_due_at": DUE.isoformat()},
                  ("buyer", "B1"))
    assert domain.route(on_time) == ["O1"]  # an ordinary request is not the shop's credit


def sanctioning(round_: int, sanction: dict[str, Any] | None, at_fault: bool = True):
    return msg("ruling.issued", {"case_id": "C-R1", "refund_id": "R1", "outcome": "full_refund", "refund_fen": 1,
                                 "return_shipping_paid_by": "seller", "seller_at_fault": at_fault, "reasoning": "r",
                                 "decided_by": f"A{round_}", "appealable_until": None, "round": round_,
                                 "seller_id": "S1", "return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 0,
                                 "sanction": sanction}, ("arbitrator", "A1"))


def test_a_suspension_is_published_answered_by_the_platform_and_ends_by_itself():
    suspended = domain.decide("shop:S1", None, sanctioning(1, {"party": "seller", "level": "suspended", "days": 7}), ctx())
    said = {e.type: e.data for e in suspended.emits}
    assert said["account.sanctioned"]["level"] == "suspended"
    assert said["account.sanctioned"]["until"] == NOW + timedelta(days=7)
    assert said["shop.restrictions_changed"]["restrictions"] == ["suspended"]
    hour = NOW + timedelta(seconds=SETTINGS.credit_window_s)  # the ruling's defect expires first
    assert suspended.timers == {credit.EXPIRY_TIMER: hour}
    state = domain.on_timer("shop:S1", suspended.state, credit.EXPIRY_TIMER, hour, ctx(hour)).state
    assert credit.timers_of(credit.Shop.load("shop:S1", state), SETTINGS.credit_window_s) == {
        credit.EXPIRY_TIMER: NOW + timedelta(days=7)}  # then the suspension's end

    # A new request to the suspended shop: the platform approves it at once.
    asked = msg("refund.requested", {"refund_id": "R9", "kind": "refund_only", "reason": "quality", "amount_fen": 100,
                                     "seller_id": "S1", "buyer_id": "B1", "seller_due_at": DUE.isoformat()},
                ("buyer", "B1"))
    c = Context(now=NOW, settings=SETTINGS, cause_id="e2", extra={"restrictions": ["suspended"]})
    [approved] = domain.decide("O2", None, asked, c).emits
    assert (approved.type, approved.actor_role, approved.data["refund_id"]) == ("seller.approved", "system", "R9")
    assert not domain.decide("O2", None, asked, ctx()).emits  # an active shop answers itself

    ended = domain.on_timer("shop:S1", state, credit.EXPIRY_TIMER, NOW + timedelta(days=7),
                            ctx(NOW + timedelta(days=7)))
    said = {e.type: e.data for e in ended.emits}
    assert said["account.sanction_lifted"]["why"] == "expired" and said["shop.restrictions_changed"]["restrictions"] == []


def test_an_appeal_won_lifts_the_sanction_of_its_case():
    banned = domain.decide("shop:S1", None, sanctioning(1, {"party": "seller", "level": "banned"}), ctx())
    assert not domain.decide("shop:S1", banned.state, sanctioning(1, {"party": "seller", "level": "banned"}), ctx()).emits
    won = domain.decide("shop:S1", banned.state, sanctioning(2, None, at_fault=False), ctx())
    [lifted] = [e.data for e in won.emits if e.type == "account.sanction_lifted"]
    assert (lifted["level"], lifted["why"]) == ("banned", "appeal_won")


ADDRESS = {"name": "售后部", "phone": "13800138000", "address": "杭州市余杭区 1 号"}


def test_goods_that_go_back_need_an_address_and_the_shop_keeps_its_last_for_the_table():
    o = SellerOrder(order_id="O1", seller_id="S1", buyer_id="B1")
    o.requests["R1"] = PendingRequest(refund_id="R1", kind="return_and_refund", amount_fen=100, step="awaiting_answer",
                                      due_at=DUE, seller_timeout_runs=True)
    bare = domain.decide("O1", o.dump(), msg("seller.approve", {"refund_id": "R1"}), ctx())
    assert bare.reject.code == "return_address_required"
    offer = domain.decide("O1", o.dump(), msg("seller.offer", {"refund_id": "R1", "message": "换货",
                                                                "offer": {"kind": "exchange"}}), ctx())
    assert offer.reject.code == "return_address_required"
    [approved] = domain.decide("O1", o.dump(), msg("seller.approve", {"refund_id": "R1", "return_address": ADDRESS}),
                               ctx()).emits
    assert approved.data["return_address"] == ADDRESS

    event = msg("seller.approved", {"refund_id": "R1", "seller_id": "S1", "return_address": ADDRESS})
    assert domain.route(event) == ["shop:S1"]
    [entry] = domain.decide("shop:S1", None, event, ctx()).emits
    assert (entry.type, entry.data["return_address"]) == ("shop.restrictions_changed", ADDRESS)
    state = domain.decide("shop:S1", None, event, ctx()).state
    assert not domain.decide("shop:S1", state, event, ctx()).emits  # the same address: nothing to say


def test_an_upheld_complaint_puts_the_accused_shop_on_the_ladder():
    ruled = msg("complaint.ruled", {"complaint_id": "CP1", "against_seller_id": "S2", "seller_id": "S2",
                                    "outcome": "upheld", "sanction": {"party": "seller", "level": "restricted"}},
                ("arbitrator", "A1"))
    assert domain.route(ruled) == ["shop:S2"]
    d = domain.decide("shop:S2", None, ruled, ctx())
    said = {e.type: e.data for e in d.emits}
    assert (said["account.sanctioned"]["level"], said["account.sanctioned"]["complaint_id"]) == ("restricted", "CP1")
    assert said["shop.restrictions_changed"]["restrictions"] == ["restricted"]
    assert not domain.decide("shop:S2", d.state, ruled, ctx()).emits  # heard twice
