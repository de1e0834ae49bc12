"""Platform intervention (平台介入, domain.md sections 3-4) through the real services."""
from __future__ import annotations

import asyncio

from services.arbitration.domain.service import case_file
from sim.story import CHAT, PHOTO, Market, PaymentSystem


async def test_the_seed_story(market: Market, payments: PaymentSystem, bus) -> None:
    """Return and refund, not as described; the seller refuses citing an opened package, subjective
    dissatisfaction and resale; the buyer escalates with photos and a chat log; the platform finds
    the reasons unfounded: full refund, return shipping paid by the seller, seller at fault."""
    order = await market.paid_order(amount_fen=25900)
    await order.buyer_requests(kind="return_and_refund", reason="not_as_described", description="实物与描述不符")
    await order.requested()
    await order.seller_rejects(reason="opened", message="商品已拆封；主观不满意；影响二次销售")
    await order.state("rejected")

    await order.buyer_escalates(evidence=[PHOTO, CHAT])
    opened = await order.case_opened(opened_by="buyer")
    assert opened["refund_id"] == order.refund_id and opened["evidence_due_at"]
    await order.state("in_arbitration", awaiting="platform")
    await order.submits_evidence("seller", "买家已使用商品")
    await order.expect("evidence.submitted", party="seller")
    waiting = await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    assert waiting["round"] == 1

    await order.arbitrator_rules("return_and_refund", refund_fen=25900, shipping="seller", seller_at_fault=True,
                                 reasoning="商家以已拆封、主观不满意、影响二次销售为由拒绝，理由不成立；请改进售后服务")
    ruling = await order.expect("ruling.issued", case_id=order.case_id)
    assert ruling["decided_by"] == "ARB-1" and ruling["refund_fen"] == 25900
    assert ruling["return_shipping_paid_by"] == "seller" and ruling["seller_at_fault"] is True
    assert ruling["appealable_until"]
    await order.state("return_pending")
    await order.buyer_ships_return(postage_fen=3001)  # more than the ¥30 repaid at most: taken, and capped
    await order.state("return_in_transit")
    await order.seller_receives_return()

    # Two payouts, each once: the refund, and the postage the seller bears (运费由商家承担).
    request = await order.payout()
    postage = await order.expect("payout.request", purpose="return_shipping")
    assert (request["purpose"], request["amount_fen"]) == ("refund", 25900)
    assert (postage["amount_fen"], postage["payee_id"]) == (3000, order.buyer)
    for p in (request, postage, postage):  # the payment system answers the postage twice
        await payments.pay(p)
    await order.expect("refund.closed", why="completed")
    await order.expect("refund.postage_repaid", amount_fen=3000)
    await bus.expect("message.sent", user_id=order.buyer, template="postage_repaid")
    await asyncio.sleep(1)
    assert len(bus.all("payout.request", order_id=order.id)) == 2
    assert len(bus.all("refund.postage_repaid", order_id=order.id)) == 1
    drop = await bus.expect("shop.credit_changed", seller_id=order.seller)
    assert drop["delta"] < 0 and drop["why"] == "ruling"


async def test_a_seller_timeout_is_ruled_automatically_for_the_buyer(market: Market, payments: PaymentSystem, bus,
                                                                     dbs) -> None:
    order = await market.paid_order(amount_fen=4000)
    await order.buyer_requests(kind="refund_only", amount_fen=4000)
    await order.requested()

    opened = await order.case_opened(opened_by="system", timeout=25)
    ruling = await order.expect("ruling.issued", case_id=order.case_id)

    assert opened["reason"] == "seller_timeout"
    assert ruling["decided_by"] == "auto:seller_timeout" and ruling["outcome"] == "full_refund"
    assert ruling["refund_fen"] == 4000 and ruling["seller_at_fault"] is True
    assert "卖家未在规定时间内处理" in ruling["reasoning"]
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")
    credit = await bus.expect("shop.credit_changed", seller_id=order.seller)
    assert credit["defects_in_window"] == 1  # the timeout and the ruling are one defect, not two
    # Shop credit in the query model: the latest score (the ruling weighs the defect anew).
    await bus.wait_until(lambda: len(bus.all("shop.credit_changed", seller_id=order.seller)) >= 2, timeout=10,
                         what="the ruling's credit change")
    latest = bus.all("shop.credit_changed", seller_id=order.seller)[-1]
    shop = await dbs.aggregate("seller", order.seller, collection="shops")
    assert shop["score"] == latest["score"] < credit["score"] and len(shop["defects"]) == 1


async def test_the_seller_misses_its_evidence_deadline_and_the_buyer_wins(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only")
    await order.requested()
    await order.seller_rejects(reason="used")
    await order.state("rejected")
    await order.buyer_escalates()
    await order.case_opened()

    ruling = await order.expect("ruling.issued", case_id=order.case_id, timeout=20)

    assert ruling["decided_by"] == "auto:seller_missed_evidence"
    assert ruling["outcome"] == "full_refund" and ruling["seller_at_fault"] is True
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")


async def test_a_seller_opened_case_where_the_buyer_stays_silent_is_rejected(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", reason="other", description="不想要了", evidence=[])
    await order.requested()
    early = await order.seller_escalates(reason="malicious_complaint")
    assert (await order.rejection_of(early))["code"] == "answer_first"  # a case does not stop the clock
    await order.seller_rejects(reason="subjective", message="买家恶意投诉")
    await order.state("rejected")

    await order.seller_escalates(reason="malicious_complaint")
    opened = await order.case_opened(opened_by="seller")
    assert opened["reason"] == "malicious_complaint"
    await order.state("in_arbitration")

    ruling = await order.expect("ruling.issued", case_id=order.case_id, timeout=20)
    assert ruling["decided_by"] == "auto:buyer_missed_evidence" and ruling["outcome"] == "reject"
    assert ruling["seller_at_fault"] is False
    closed = await order.expect("refund.closed", timeout=20)  # after the appeal window passes
    assert closed["why"] == "rejected_final"
    await order.expect("case.closed", case_id=order.case_id, why="ruling_final")


async def test_a_seller_may_open_a_case_without_a_request(market: Market) -> None:
    order = await market.paid_order()
    await market.order_shipped(order)

    await order.seller_escalates(reason="system_fault", with_refund=False, description="系统故障导致错发")

    opened = await order.case_opened(opened_by="seller")
    assert opened["refund_id"] is None
    waiting = await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    assert waiting["round"] == 1  # no automatic rule decides a case without a request
    refused = await order.arbitrator_rules("full_refund", refund_fen=100)
    assert (await order.rejection_of(refused))["code"] == "outcome_not_allowed"
    # Cancelling the order would say ¥0 and move nothing: without the buyer's request there is no amount.
    cancel = await order.arbitrator_rules("cancel_order", shipping="platform", seller_at_fault=False, reasoning="取消订单")
    assert (await order.rejection_of(cancel))["code"] == "outcome_not_allowed"
    await order.arbitrator_rules("reject", shipping="platform", seller_at_fault=False, reasoning="系统原因，驳回投诉")
    assert (await order.expect("ruling.issued", case_id=order.case_id))["outcome"] == "reject"


async def test_an_appeal_reverses_the_ruling_and_restores_the_sellers_credit(market: Market, payments: PaymentSystem,
                                                                            bus) -> None:
    order = await market.paid_order(amount_fen=6600)
    await order.buyer_requests(kind="refund_only", amount_fen=6600)
    await order.requested()
    await order.seller_rejects(reason="used")
    await order.state("rejected")
    await order.buyer_escalates()
    await order.case_opened()
    await order.submits_evidence("seller")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    await order.arbitrator_rules("full_refund", arbitrator="ARB-1", seller_at_fault=True)
    first = await order.expect("ruling.issued", case_id=order.case_id)
    drop = await bus.expect("shop.credit_changed", seller_id=order.seller)
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")

    await order.appeals("seller", "物流记录显示买家签收后损坏")
    appealed = await order.expect("ruling.appealed", case_id=order.case_id)
    assert appealed["party"] == "seller"
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=20)
    same = await order.arbitrator_rules("reject", arbitrator="ARB-1", seller_at_fault=False, shipping="buyer")
    assert (await order.rejection_of(same))["code"] == "same_arbitrator"
    await order.arbitrator_rules("reject", arbitrator="ARB-2", seller_at_fault=False, shipping="buyer",
                                 reasoning="复核：损坏发生在签收后，卖家无责")

    second = await order.expect("ruling.issued", case_id=order.case_id, round=2)
    # The buyer still has its own appeal, so the word is not final yet.
    assert second["final"] is False and second["appealable_until"] and second["reverses_previous"] is True
    assert second["decided_by"] == "ARB-2" != first["decided_by"]
    restored = await bus.expect("shop.credit_changed", seller_id=order.seller, why="appeal_won")
    assert restored["delta"] == -drop["delta"] and restored["defects_in_window"] == 0
    # Money follows the final word: the buyer keeps the 6600 paid, the platform compensates the seller.
    compensation = await order.expect("payout.request", purpose="seller_compensation")
    assert compensation["amount_fen"] == 6600 and compensation["payee_id"] == order.seller
    await payments.pay(compensation)
    await order.expect("case.closed", case_id=order.case_id, why="ruling_final", timeout=20)  # the buyer let it be
    assert len(bus.all("payout.request", order_id=order.id)) == 2
    assert [c["amount_fen"] for c in bus.all("refund.completed", order_id=order.id)] == [6600]  # nothing clawed back
    second_appeal = await order.appeals("seller")
    assert (await order.rejection_of(second_appeal))["code"] in ("already_appealed", "not_appealable")


async def test_an_appeal_that_awards_the_buyer_more_pays_the_difference_once(market: Market, payments: PaymentSystem,
                                                                            bus) -> None:
    order = await market.paid_order(amount_fen=12900)
    await order.case_awaiting_ruling(kind="refund_only", amount_fen=12900)
    await order.arbitrator_rules("partial_refund", arbitrator="ARB-1", refund_fen=4000, reasoning="商品部分瑕疵")
    await order.expect("ruling.issued", case_id=order.case_id, round=1)
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")

    await order.appeals("buyer", "瑕疵严重，无法使用")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=20)
    await order.arbitrator_rules("full_refund", arbitrator="ARB-2", refund_fen=12900, reasoning="复核：商品无法使用，全额退款")

    top_up = await order.expect("payout.request", purpose="appeal_top_up")
    assert top_up["amount_fen"] == 8900 and top_up["payee_id"] == order.buyer
    assert top_up["payout_id"] != (await order.payout())["payout_id"]
    await payments.pay(top_up)
    await payments.pay(top_up)  # the payment system's retry: paid once all the same
    paid = await order.expect("refund.completed", amount_fen=8900)
    assert paid["refund_id"] == order.refund_id
    await asyncio.sleep(1)
    assert len(bus.all("refund.completed", order_id=order.id, amount_fen=8900)) == 1
    assert sum(p["amount_fen"] for p in bus.all("payout.request", order_id=order.id)) == 12900


async def test_each_party_has_its_own_appeal(market: Market) -> None:
    order = await market.paid_order(amount_fen=10000)
    await order.case_awaiting_ruling(kind="refund_only", amount_fen=10000)
    await order.arbitrator_rules("partial_refund", arbitrator="ARB-1", refund_fen=3000)
    await order.expect("ruling.issued", case_id=order.case_id, round=1)

    await order.appeals("buyer", "应全额退款")  # the buyer, who won in part, appeals first
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=20)
    await order.arbitrator_rules("partial_refund", arbitrator="ARB-2", refund_fen=6000)
    second = await order.expect("ruling.issued", case_id=order.case_id, round=2)
    assert second["final"] is False  # the buyer's appeal did not use up the seller's

    again = await order.appeals("buyer", "再次申诉")
    assert (await order.rejection_of(again))["code"] == "already_appealed"
    await order.appeals("seller", "商品已使用")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=3, timeout=20)
    for used in ("ARB-1", "ARB-2"):
        refused = await order.arbitrator_rules("partial_refund", arbitrator=used, refund_fen=5000)
        assert (await order.rejection_of(refused))["code"] == "same_arbitrator"
    await order.arbitrator_rules("partial_refund", arbitrator="ARB-3", refund_fen=5000)
    third = await order.expect("ruling.issued", case_id=order.case_id, round=3)
    assert third["final"] is True and third["appealable_until"] is None
    await order.expect("case.closed", case_id=order.case_id, why="final_ruling")


async def test_late_evidence_is_rejected_with_a_reason(market: Market) -> None:
    order = await market.paid_order()
    await order.case_awaiting_ruling()

    late = await order.submits_evidence("buyer", "迟到的凭证")

    refused = await order.rejection_of(late)
    assert refused["code"] == "evidence_late" and refused.topic == "arbitration.events"


async def test_the_arbitrator_asks_a_party_for_more_and_gets_it(market: Market, bus) -> None:
    order = await market.paid_order()
    await order.case_awaiting_ruling()

    await bus.send("evidence.request", {"order_id": order.id, "case_id": order.case_id, "party": "buyer",
                                        "message": "请提供开箱视频", "due_in_seconds": 3}, ("arbitrator", "ARB-1"))
    asked = await order.expect("evidence.requested", party="buyer")
    assert asked["user_id"] == order.buyer
    await order.submits_evidence("buyer", "开箱视频", [{"kind": "video", "uri": "https://v.example.cn/unbox.mp4"}])
    await order.expect("evidence.submitted", party="buyer")
    again = await order.expect("case.awaiting_ruling", case_id=order.case_id, count=2, timeout=20)
    assert again["round"] == 1


async def test_a_ruling_from_anyone_but_an_arbitrator_is_rejected(market: Market, live) -> None:
    order = await market.paid_order()
    await order.case_awaiting_ruling()  # no deadline runs now: only a ruling can change the case
    before = await live.version("arbitration", order.id)

    forged = await order.arbitrator_rules("full_refund", actor=("buyer", order.buyer))

    refused = await order.rejection_of(forged)
    assert refused["code"] == "forbidden"
    assert await live.version("arbitration", order.id) == before
    assert not order.bus.all(topic="arbitration.decisions.dlq", order_id=order.id)


async def test_a_ruling_sent_where_buyers_and_sellers_write_is_refused(market: Market, live, bus) -> None:
    order = await market.paid_order()
    await order.case_awaiting_ruling()
    before = await live.version("arbitration", order.id)

    misrouted = await bus.send("ruling.decide", {
        "order_id": order.id, "case_id": order.case_id, "outcome": "full_refund", "refund_fen": order.amount_fen,
        "return_shipping_paid_by": "seller", "seller_at_fault": True, "reasoning": "冒充仲裁"},
        ("arbitrator", "ARB-1"), topic="arbitration.commands")
    posing = await order._send("evidence.submit", {"order_id": order.id, "case_id": order.case_id,
                                                   "description": "仲裁员补充", "evidence": []}, ("arbitrator", "ARB-1"))

    assert (await order.rejection_of(misrouted))["code"] == "forbidden"
    assert (await order.rejection_of(posing))["code"] == "forbidden"
    assert await live.version("arbitration", order.id) == before
    await order.expect_none("ruling.issued", within=1)


async def test_a_buyer_cannot_escalate_before_the_seller_has_answered(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    early = await order.buyer_escalates()

    assert (await order.rejection_of(early))["code"] == "not_escalatable"


async def test_a_seller_cannot_open_a_case_to_stop_its_own_clock_or_a_refund_under_way(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only")
    await order.requested()

    early = await order.seller_escalates(reason="dispute")
    assert (await order.rejection_of(early))["code"] == "answer_first"
    timed_out = await order.expect("seller.timed_out", timeout=20)  # the 48 h clock ran on
    assert timed_out["refund_id"] == order.refund_id
    await order.state("payout_pending")
    late = await order.seller_escalates(reason="malicious_complaint")
    assert (await order.rejection_of(late))["code"] == "refund_in_progress"


async def test_evidence_filed_before_the_case_counts_for_both_parties(market: Market, dbs) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", reason="quality", evidence=[PHOTO])
    await order.requested()
    await order.seller_rejects(reason="used", message="有使用痕迹", evidence=[CHAT])
    await order.state("rejected")
    await order.buyer_escalates(evidence=[])
    case = await order.case_opened()

    # Neither party submits in the window: both filed before, so no rule decides on a missed
    # deadline, and an arbitrator gets the case.
    queued = await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)

    assert queued["round"] == 1
    await order.expect_none("ruling.issued", within=1)
    doc = case_file(await dbs.aggregate("arbitration", case["case_id"], "cases"))
    kinds = [(s["party"], s["kind"], len(s["evidence"])) for s in doc["case"]["submissions"]]
    assert ("buyer", "with_request", 1) in kinds and ("seller", "rejection", 1) in kinds


async def test_no_rule_decides_a_case_whose_arbitrator_asked_for_more(market: Market, bus) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", evidence=[])
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")
    await order.buyer_escalates()
    await order.case_opened()

    await bus.send("evidence.request", {"order_id": order.id, "case_id": order.case_id, "party": "seller",
                                        "message": "请提供发货前的质检记录", "due_in_seconds": 3}, ("arbitrator", "ARB-1"))
    await order.expect("evidence.requested", party="seller")

    # The seller sends nothing: the rule "the seller missed its evidence" would rule for the buyer,
    # but the arbitrator asked, so the arbitrator decides.
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    await order.expect_none("ruling.issued", within=1)


async def test_a_case_goes_to_the_arbitrators_at_once_when_both_parties_are_done(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only")
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")
    await order.buyer_escalates()
    opened = await order.case_opened()

    empty = await order._send("evidence.submit", {"order_id": order.id, "case_id": order.case_id, "description": " ",
                                                  "evidence": []}, ("seller", order.seller))
    assert (await order.rejection_of(empty))["code"] == "nothing_submitted"  # no case event for nothing
    await order.submits_evidence("seller", "质检记录", done=True)
    await order.submits_evidence("buyer", "没有更多了", evidence=[CHAT], done=True)

    queued = await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=10)
    assert _at(queued.env["occurred_at"]) < _at(opened["evidence_due_at"])  # the window had not closed


async def test_cancelling_the_order_by_ruling_says_and_pays_what_was_paid(market: Market, bus) -> None:
    order = await market.paid_order(amount_fen=7700)
    await order.case_awaiting_ruling(kind="refund_only", amount_fen=5000)

    await order.arbitrator_rules("cancel_order", shipping="platform", seller_at_fault=False, reasoning="商品缺货，取消订单")

    ruling = await order.expect("ruling.issued", case_id=order.case_id)
    assert ruling["outcome"] == "cancel_order" and ruling["refund_fen"] == 7700
    assert (await order.payout())["amount_fen"] == 7700
    told = await bus.expect("message.sent", user_id=order.buyer, template="ruling_issued")
    assert "¥77.00" in told["body"]


async def test_a_party_files_at_most_sixty_evidence_items_in_a_case(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", evidence=[])
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")
    photos = [{"kind": "photo", "uri": f"https://img.example.cn/evidence/{n}.jpg"} for n in range(20)]
    await order.buyer_escalates(evidence=photos)
    await order.case_opened()
    for n in (1, 2):
        await order.submits_evidence("buyer", f"第{n}批照片", evidence=photos)
        await order.expect("evidence.submitted", party="buyer", count=n)

    over = await order.submits_evidence("buyer", "第61张", evidence=photos[:1])

    assert (await order.rejection_of(over))["code"] == "limit_reached"
    third = order.bus.all("evidence.submitted", order_id=order.id, party="buyer")[-1]
    assert third["total_evidence"] == 60


def _at(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_case_left_unruled_past_its_target_is_flagged_and_the_desk_is_told(market: Market, bus, env, dbs) -> None:
    from tests.e2e.test_operator_cli import cli

    order = await market.paid_order()
    queued = await order.case_awaiting_ruling()

    overdue = await order.expect("case.ruling_overdue", case_id=order.case_id, timeout=30)

    assert overdue["ruling_due_at"] == queued["ruling_due_at"]
    told = await bus.expect("message.sent", user_id="arbitration-desk", template="ruling_overdue", order_id=order.id)
    assert order.case_id in told["body"]
    await dbs.settled()
    code, out, err = await cli(env, "cases")
    assert code == 0, err
    assert any(line.startswith("OVERDUE") and order.case_id in line for line in out.splitlines())
    await order.arbitrator_rules("full_refund", refund_fen=order.amount_fen)
    await order.expect("ruling.issued", case_id=order.case_id)


async def test_a_fine_is_deducted_from_the_deposit_once_and_given_back_after_a_won_appeal(
        market: Market, payments: PaymentSystem, bus, dbs) -> None:
    order = await market.paid_order(amount_fen=8800)
    await order.case_awaiting_ruling(kind="refund_only", amount_fen=8800)
    await order.arbitrator_rules("full_refund", arbitrator="ARB-1", refund_fen=8800, misconduct="seller",
                                 reasoning="商家伪造发货凭证")  # no amount stated: the rule table's fine

    deduct = await bus.expect("deposit.deduct", order_id=order.id)
    penalized = await bus.expect("seller.penalized", order_id=order.id)
    assert deduct["amount_fen"] == penalized["amount_fen"] == 50000 and deduct["seller_id"] == order.seller
    assert deduct["deduction_id"] == f"deduct:{order.case_id}:r1"
    told = await bus.expect("message.sent", user_id=order.seller, template="seller_penalized")
    assert "¥500.00" in told["body"]
    await dbs.settled()
    shop = await dbs.aggregate("seller", order.seller, collection="shops")
    assert shop["fines"][order.case_id]["amount_fen"] == 50000

    await order.appeals("seller", "发货凭证真实，有物流记录")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=20)
    await order.arbitrator_rules("reject", arbitrator="ARB-2", seller_at_fault=False, shipping="buyer",
                                 reasoning="复核：凭证真实，撤销罚款")

    back = await bus.expect("deposit.refund", order_id=order.id)
    assert back["deduction_id"] == deduct["deduction_id"] and back["amount_fen"] == 50000
    await bus.expect("message.sent", user_id=order.seller, template="penalty_refunded")
    await asyncio.sleep(1)
    assert len(bus.all("deposit.deduct", order_id=order.id)) == 1
    assert len(bus.all("deposit.refund", order_id=order.id)) == 1


async def test_a_shop_restricted_by_its_defect_rate_no_longer_has_the_last_word_on_quality(market: Market, bus) -> None:
    late = await market.paid_order()
    shop = late.seller
    second = await market.paid_order(seller=shop)
    await late.buyer_requests(kind="refund_only", reason="not_received")
    await late.requested()
    await late.expect("seller.timed_out", timeout=20)  # one defect in two orders: a rate of 50 %

    restricted = await bus.expect("shop.restricted", seller_id=shop, restriction="rejections_reviewed")
    assert restricted["defect_rate"] == 0.5 and restricted["orders_in_window"] == 2
    await bus.expect("shop.restrictions_changed", seller_id=shop)
    await asyncio.sleep(1)  # every seller instance reads the table
    await second.buyer_requests(kind="refund_only", reason="quality")
    await second.requested()
    await second.seller_rejects(reason="subjective", message="不影响使用")

    rejected = await second.expect("seller.rejected")
    assert rejected["reviewed"] is True
    case = await second.case_opened(opened_by="system")
    assert case["reason"] == "shop_restricted"
    await second.state("in_arbitration")


async def test_a_buyer_ruled_in_misconduct_gets_no_automatic_refund_on_a_seller_timeout(market: Market, bus, env) -> None:
    from tests.e2e.test_operator_cli import cli

    first = await market.paid_order()
    buyer = first.buyer
    await first.case_awaiting_ruling(kind="refund_only", reason="quality")
    await first.arbitrator_rules("reject", seller_at_fault=False, shipping="buyer", misconduct="buyer",
                                 reasoning="买家提供的照片系伪造")
    flagged = await bus.expect("buyer.flagged", buyer_id=buyer)
    assert flagged["last_case_id"] == first.case_id
    await asyncio.sleep(1)  # every arbitration instance reads the table

    second = await market.paid_order(buyer=buyer)
    await second.buyer_requests(kind="refund_only", reason="not_received")
    await second.requested()
    await second.expect("seller.timed_out", timeout=20)  # the seller stays silent

    case = await second.case_opened(opened_by="system")
    queued = await second.expect("case.awaiting_ruling", case_id=second.case_id, timeout=10)
    assert queued["round"] == 1 and case["reason"] == "seller_timeout"
    await second.expect_none("ruling.issued", within=2)  # an arbitrator decides, not auto:seller_timeout
    code, out, err = await cli(env, "case", second.case_id)
    assert code == 0, err
    record = next(line for line in out.splitlines() if line.startswith("buyer record"))
    assert "2 orders" in record and "misconduct rulings (365 days): 1" in record
    assert any(line.startswith("shop record") for line in out.splitlines())


async def test_the_platform_opens_a_case_of_its_own_and_fines_a_counterfeit(market: Market, payments: PaymentSystem,
                                                                           bus) -> None:
    """主动介入: no complaint; the platform opens a case for a counterfeit, both parties are told and
    file evidence, an arbitrator finds the seller at fault and fines it from its deposit."""
    order = await market.paid_order(amount_fen=19900)
    await order.platform_opens_case()
    opened = await order.case_opened(opened_by="platform")
    assert opened["reason"] == "counterfeit" and opened["refund_id"] is None and opened["asks_evidence"] is True
    for user in (order.buyer, order.seller):
        told = await bus.expect("message.sent", user_id=user, template="platform_case_opened")
        assert "涉嫌售假" in told["body"]
    await order.submits_evidence("seller", "有进货凭证", done=True)
    await order.submits_evidence("buyer", "收到的商品做工粗糙", done=True)
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)

    await order.arbitrator_rules("reject", seller_at_fault=True, reasoning="进货凭证不能证明来源，售假属实",
                                 penalty_fen=50000)
    ruling = await order.expect("ruling.issued", case_id=order.case_id)
    assert ruling["penalty_fen"] == 50000 and ruling["refund_id"] is None
    deduct = await bus.expect("deposit.deduct", case_id=order.case_id)
    assert (deduct["amount_fen"], deduct["seller_id"]) == (50000, order.seller)
    await bus.expect("seller.penalized", case_id=order.case_id)
    told = await bus.expect("message.sent", user_id=order.seller, template="case_ruled")
    assert "¥500.00" in told["body"]
    await asyncio.sleep(1)
    assert bus.all("payout.request", order_id=order.id) == []  # no request, no money to the buyer


async def test_a_counterfeit_is_compensated_ten_times_from_the_deposit_and_an_appeal_lowers_it(
        market: Market, payments: PaymentSystem, bus) -> None:
    """假一赔十: the platform's case rules compensation of ten times the price; the buyer is paid it
    to its balance, the seller's deposit gives it; an appeal lowers it to the price, the deposit
    gets the difference back and the buyer keeps what it was paid."""
    order = await market.paid_order(amount_fen=19900)
    await order.platform_case_awaiting_ruling()
    over = await order.arbitrator_rules("reject", reasoning="售假属实", compensation_fen=199001)
    assert (await order.rejection_of(over))["code"] == "compensation_exceeds_cap"

    await order.arbitrator_rules("reject", reasoning="售假属实，假一赔十", compensation_fen=199000)
    payout = await bus.expect("payout.request", order_id=order.id, purpose="compensation")
    assert (payout["amount_fen"], payout["payee_id"], payout["refund_to"]) == (199000, order.buyer, "balance")
    assert payout["refund_id"] == order.case_id  # no request: the case names it
    deduct = await bus.expect("deposit.deduct", case_id=order.case_id, reason="compensation")
    assert (deduct["amount_fen"], deduct["seller_id"]) == (199000, order.seller)
    charged = await bus.expect("message.sent", user_id=order.seller, template="compensation_charged")
    assert "¥1990.00" in charged["body"]
    await payments.pay(payout)
    await order.expect("refund.compensation_paid", case_id=order.case_id)
    received = await bus.expect("message.sent", user_id=order.buyer, template="compensation_received")
    assert "¥1990.00" in received["body"]

    await order.appeals("seller", "进货渠道正规，赔偿过高")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=20)
    await order.arbitrator_rules("reject", arbitrator="ARB-2", reasoning="复核：赔偿以实付为限", compensation_fen=19900)
    back = await bus.expect("deposit.refund", case_id=order.case_id)
    assert (back["deduction_id"], back["amount_fen"]) == (deduct["deduction_id"], 199000)
    again = await bus.expect("deposit.deduct", case_id=order.case_id, amount_fen=19900)
    assert again["deduction_id"] == f"deduct:{order.case_id}:compensation:r2"
    await bus.expect("message.sent", user_id=order.seller, template="compensation_lifted")
    await asyncio.sleep(1)
    assert len(bus.all("payout.request", order_id=order.id)) == 1  # the buyer keeps it: nothing clawed back


async def test_a_hold_asked_for_is_kept_until_the_case_ends_and_released_once(market: Market, payments: PaymentSystem,
                                                                             bus, dbs) -> None:
    """冻结对方账户直至调查结束: the buyer asks for the seller's funds to be frozen; the arbitrator holds
    them; both parties hear it; the case ends with its ruling and the hold ends with it, once."""
    order = await market.paid_order(amount_fen=6600)
    await order.buyer_requests(kind="refund_only", amount_fen=6600)
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")
    await order.buyer_escalates(demands=["freeze_counterparty", "compensation"])
    await order.case_opened(opened_by="buyer")
    doc = case_file(await dbs.aggregate("arbitration", order.case_id, collection="cases"))
    assert doc["case"]["demands"] == {"buyer": ["freeze_counterparty", "compensation"]}  # shown on the case page

    await order.arbitrator_holds("seller")
    hold = await bus.expect("settlement.hold", order_id=order.id)
    assert (hold["party"], hold["party_id"], hold["case_id"]) == ("seller", order.seller, order.case_id)
    for user in (order.buyer, order.seller):
        await bus.expect("message.sent", user_id=user, template="funds_held")
    refused = await order.arbitrator_holds("seller")
    assert (await order.rejection_of(refused))["code"] == "already_held"

    await order.submits_evidence("seller", "理由充分")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    await order.arbitrator_rules("full_refund", refund_fen=6600)
    await payments.pay(await order.payout())
    await order.expect("case.closed", case_id=order.case_id, timeout=30)  # the appeal window passed
    release = await bus.expect("settlement.release", order_id=order.id)
    assert release["hold_id"] == hold["hold_id"]
    released = await bus.expect("funds.released", order_id=order.id)
    assert released["released_by"] == "case_closed"
    await bus.expect("message.sent", user_id=order.seller, template="funds_released")
    await asyncio.sleep(1)
    assert len(bus.all("settlement.release", order_id=order.id)) == 1


async def test_a_suspended_shop_is_answered_by_the_platform_and_a_banned_buyer_asks_no_more(
        market: Market, payments: PaymentSystem, bus) -> None:
    """The ladder of sanctions: a counterfeit suspends the shop for 7 days (its next request is
    approved by the platform at once); a buyer found forging evidence is banned (refused)."""
    order = await market.paid_order(amount_fen=19900)
    await order.platform_case_awaiting_ruling()
    wrong = await order.arbitrator_rules("reject", seller_at_fault=False, reasoning="售假属实",
                                         sanction={"party": "seller", "level": "suspended", "days": 7})
    assert (await order.rejection_of(wrong))["code"] == "sanction_without_finding"
    await order.arbitrator_rules("reject", reasoning="售假属实，暂停店铺七天",
                                 sanction={"party": "seller", "level": "suspended", "days": 7})
    said = await bus.expect("account.sanctioned", party_id=order.seller)
    assert (said["level"], said["party"], said["case_id"]) == ("suspended", "seller", order.case_id)
    told = await bus.expect("message.sent", user_id=order.seller, template="account_sanctioned")
    assert "暂停账户" in told["body"]
    await bus.expect("shop.restrictions_changed", seller_id=order.seller, restrictions=["suspended"])
    await asyncio.sleep(1)  # every seller instance reads the table

    next_order = await market.paid_order(seller=order.seller)
    await next_order.buyer_requests(kind="refund_only", amount_fen=next_order.amount_fen)
    await next_order.requested()
    approved = await next_order.expect("seller.approved", timeout=20)
    assert approved.env["actor"]["role"] == "system"  # the platform answered for the suspended shop
    await payments.pay(await next_order.payout())
    await next_order.expect("refund.closed", why="completed")

    # A buyer who forged evidence, banned: its next request is refused.
    cheat = await market.paid_order()
    await cheat.case_awaiting_ruling(kind="refund_only", amount_fen=cheat.amount_fen)
    await cheat.arbitrator_rules("reject", seller_at_fault=False, shipping="buyer", misconduct="buyer",
                                 reasoning="凭证系伪造", sanction={"party": "buyer", "level": "banned"})
    await bus.expect("account.sanctioned", party_id=cheat.buyer, level="banned")
    await bus.expect("buyer.flagged", buyer_id=cheat.buyer, sanction="banned")
    await asyncio.sleep(1)  # every refund instance reads the table
    again = await market.paid_order(buyer=cheat.buyer)
    refused = await again.buyer_requests(kind="refund_only", amount_fen=again.amount_fen)
    assert (await again.rejection_of(refused))["code"] == "account_banned"


async def test_a_shop_complains_of_another_and_an_upheld_complaint_restricts_the_accused(bus, dbs) -> None:
    """知识产权投诉: a seller complains of another shop's trademark infringement; the accused is told
    and answers; an arbitrator upholds it and restricts the accused shop."""
    from sim.story import unique
    complainant, accused, complaint_id = unique("S"), unique("S"), unique("CP")
    await bus.send("complaint.file", {"complaint_id": complaint_id, "against_seller_id": accused, "subject": "商标 ABC",
                                      "right": "trademark", "description": "仿冒我方注册商标",
                                      "evidence": [{"kind": "document", "uri": "https://e.example.cn/tm.pdf"}]},
                   ("seller", complainant), validate=True)
    filed = await bus.expect("complaint.filed", complaint_id=complaint_id)
    assert (filed["complainant_id"], filed["against_seller_id"]) == (complainant, accused)
    told = await bus.expect("message.sent", user_id=accused, template="complaint_filed")
    assert "商标权" in told["body"]
    self_complaint = await bus.send("complaint.file", {"complaint_id": unique("CP"), "against_seller_id": accused,
                                                       "subject": "x", "right": "patent", "description": "d",
                                                       "evidence": []}, ("seller", accused), validate=True)
    assert (await bus.expect("command.rejected", command_event_id=self_complaint["event_id"]))["code"] == \
        "complaint_against_self"

    await bus.send("complaint.respond", {"complaint_id": complaint_id, "description": "有授权书", "evidence": []},
                   ("seller", accused), validate=True)
    await bus.expect("complaint.answered", complaint_id=complaint_id)
    await bus.expect("message.sent", user_id=complainant, template="complaint_answered")
    await dbs.settled()
    doc = await dbs.aggregate("arbitration", complaint_id, collection="complaints")
    assert doc["status"] == "answered" and doc["answer"] == "有授权书"  # what the workbench shows

    await bus.send("complaint.decide", {"complaint_id": complaint_id, "outcome": "upheld", "reasoning": "授权书系伪造",
                                        "sanction": {"party": "seller", "level": "restricted"}},
                   ("arbitrator", "ARB-1"), validate=True)
    ruled = await bus.expect("complaint.ruled", complaint_id=complaint_id)
    assert ruled["outcome"] == "upheld"
    sanctioned = await bus.expect("account.sanctioned", party_id=accused)
    assert (sanctioned["level"], sanctioned["complaint_id"]) == ("restricted", complaint_id)
    for user in (complainant, accused):
        await bus.expect("message.sent", user_id=user, template="complaint_ruled")
