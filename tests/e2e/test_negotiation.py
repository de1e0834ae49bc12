"""Negotiation (协商, domain.md: "通过友好协商的方式解决"): the seller offers another remedy, the
buyer takes it or not, and both talk on the request. Through the real services, Kafka and database."""
from __future__ import annotations

import asyncio

from services.arbitration.domain.service import read_case
from services.refund.queries import read_order
from sim.story import PHOTO, RETURN_ADDRESS, Market, PaymentSystem
from tests.e2e.test_operator_cli import cli


async def _offered(market: Market, asked_fen: int = 12900, **offer):
    order = await market.paid_order(amount_fen=asked_fen)
    await order.buyer_requests(kind="refund_only", reason="quality", amount_fen=asked_fen)
    await order.requested()
    await order.seller_offers(**offer)
    await order.offered()
    return order


async def test_an_accepted_partial_refund_pays_the_offered_amount_once(market: Market, payments: PaymentSystem, bus) -> None:
    order = await _offered(market, 12900, kind="partial_refund", amount_fen=5000)
    pending = await order.state("offer_pending", cause="seller.offered")
    assert pending["awaiting"] == "buyer" and pending["due_at"]
    received = await bus.expect("message.sent", user_id=order.buyer, template="offer_received")
    assert "¥50.00" in received["body"]

    await order.buyer_accepts_offer()

    accepted = await order.expect("refund.offer_accepted", offer_id=order.offer_id)
    assert accepted["offer"] == {"kind": "partial_refund", "amount_fen": 5000, "return_address": None}
    request = await order.payout()
    assert request["amount_fen"] == 5000
    await payments.pay(request)
    assert (await order.expect("refund.completed"))["amount_fen"] == 5000
    await order.expect("refund.closed", why="completed")
    await bus.expect("message.sent", user_id=order.seller, template="offer_accepted")
    again = await order.buyer_accepts_offer()  # a second tap on "accept" pays nothing more
    assert (await order.rejection_of(again))["code"] == "refund_closed"
    assert len(bus.all("payout.request", order_id=order.id)) == 1
    await order.expect_none("seller.timed_out", within=1)  # the offer was the seller's answer in time


async def test_a_declined_offer_can_be_escalated_and_the_case_shows_the_talks(market: Market, bus, dbs, env) -> None:
    order = await _offered(market, 9900, kind="partial_refund", amount_fen=3000, message="补偿30元")
    await order.posts("buyer", "杯子漏水，30元不够")

    await order.buyer_declines_offer(message="我要全额退款")

    rejected = await order.state("rejected", cause="offer.decline")
    assert rejected["awaiting"] == "buyer"
    declined = await order.expect("refund.offer_declined", offer_id=order.offer_id)
    assert declined["message"] == "我要全额退款"
    await bus.expect("message.sent", user_id=order.seller, template="offer_declined")
    await order.buyer_escalates()
    case = await order.case_opened()
    await order.state("in_arbitration")

    await dbs.settled()
    doc = await read_case(dbs.db("arbitration"), case["case_id"])
    talks = doc["request"]["negotiation"]
    assert [n["entry"] for n in talks] == ["offer", "post", "offer_declined"]
    assert talks[0]["offer"] == {"kind": "partial_refund", "amount_fen": 3000, "return_address": None} and talks[0]["message"] == "补偿30元"
    assert talks[1]["text"] == "杯子漏水，30元不够" and talks[1]["by"] == "buyer"
    code, out, err = await cli(env, "case", case["case_id"])
    assert code == 0, err
    lines = out.splitlines()
    at = lines.index("negotiation (协商):")
    assert "seller offered partial_refund 3000 fen" in lines[at + 1] and "补偿30元" in lines[at + 1]
    assert "buyer said: 杯子漏水，30元不够" in lines[at + 2]
    assert "buyer declined partial_refund 3000 fen: 我要全额退款" in lines[at + 3]


async def test_an_unanswered_offer_lapses_after_a_reminder(market: Market, bus) -> None:
    order = await _offered(market, kind="exchange")

    reminder = await bus.expect("message.sent", user_id=order.buyer, template="deadline_near", timeout=20)
    assert "协商方案" in reminder["body"]
    lapsed = await order.expect("refund.offer_lapsed", offer_id=order.offer_id, timeout=20)
    rejected = await order.state("rejected", cause="timer.offer_lapsed")

    assert lapsed["offer"] == {"kind": "exchange", "amount_fen": None, "return_address": RETURN_ADDRESS}
    assert rejected["awaiting"] == "buyer" and rejected["due_at"]  # the escalation window runs
    for user in (order.buyer, order.seller):
        await bus.expect("message.sent", user_id=user, template="offer_lapsed")
    late = await order.buyer_accepts_offer()
    assert (await order.rejection_of(late))["code"] == "no_open_offer"


async def test_a_second_offer_replaces_the_first_and_a_third_is_refused(market: Market, payments: PaymentSystem) -> None:
    order = await _offered(market, 12900, kind="partial_refund", amount_fen=3000)
    first = order.offer_id
    await order.state("offer_pending", cause="seller.offered")

    await order.seller_offers(kind="partial_refund", amount_fen=6000, message="再加30元")
    second = await order.expect("seller.offered", number=2)
    assert second["replaces"] == first and second["offer_id"] != first
    await asyncio.sleep(1)  # the request stays offer_pending: no second state change is published
    assert len(order.bus.all("refund.state_changed", order_id=order.id, state="offer_pending")) == 1
    third = await order.seller_offers(kind="partial_refund", amount_fen=8000)
    assert (await order.rejection_of(third))["code"] == "offer_limit"

    stale = await order.buyer_accepts_offer(first)
    assert (await order.rejection_of(stale))["code"] == "offer_not_open"
    await order.buyer_accepts_offer(second["offer_id"])
    request = await order.payout()
    assert request["amount_fen"] == 6000


async def test_an_accepted_resend_closes_once_the_seller_ships(market: Market, bus) -> None:
    order = await _offered(market, kind="resend", message="给您补发一个新的")

    await order.buyer_accepts_offer()

    waiting = await order.state("replacement_pending")
    assert waiting["awaiting"] == "seller"
    await order.seller_ships_replacement(carrier="SF", tracking_no="SF777")
    shipped = await order.expect("seller.replacement_shipped")
    assert shipped["carrier"] == "SF" and shipped["tracking_no"] == "SF777"
    assert (await order.expect("refund.closed"))["why"] == "completed"
    assert not bus.all("payout.request", order_id=order.id)


async def test_both_parties_post_in_order_and_each_hears_of_the_other(market: Market, bus, dbs) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    # Each reply follows the post it answers: since contract v3 the parties write topics of their own,
    # and the conversation's order is the order the refund service takes their posts in.
    posts = []
    for n, (role, text, attachments) in enumerate((("buyer", "杯子漏水，请看照片", [PHOTO]),
                                                    ("seller", "亲，麻烦再拍一下杯底", []),
                                                    ("buyer", "好的，已补拍", [PHOTO, PHOTO])), start=1):
        await order.posts(role, text, attachments=attachments)
        posts.append(await order.expect("conversation.posted", count=n))
    assert [(p["author_role"], p["text"]) for p in posts] == [
        ("buyer", "杯子漏水，请看照片"), ("seller", "亲，麻烦再拍一下杯底"), ("buyer", "好的，已补拍")]
    assert len({p["post_id"] for p in posts}) == 3 and len(posts[2]["attachments"]) == 2
    to_seller = await bus.expect("message.sent", user_id=order.seller, template="conversation_post", count=2)
    assert "好的，已补拍" in to_seller["body"] and "2 个凭证" in to_seller["body"]
    to_buyer = await bus.expect("message.sent", user_id=order.buyer, template="conversation_post")
    assert "亲，麻烦再拍一下杯底" in to_buyer["body"]
    await dbs.settled()
    doc = await read_order(dbs.db("refund"), order.id)
    assert [p["text"] for p in doc["state"]["refunds"][order.refund_id]["posts"]] == [p["text"] for p in posts]


async def test_posts_are_refused_from_strangers_on_closed_requests_and_past_the_daily_limit(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    stranger = await order.posts("buyer", "我也想说两句", actor=("buyer", "B-stranger"))
    assert (await order.rejection_of(stranger))["code"] == "not_a_party"
    for n in range(20):
        await order.posts("seller", f"第 {n + 1} 条留言")
    await order.expect("conversation.posted", count=20)
    spam = await order.posts("seller", "第 21 条留言")
    assert (await order.rejection_of(spam))["code"] == "rate_limited"
    await order.posts("buyer", "我这边还能留言")  # the limit is per party
    await order.expect("conversation.posted", text="我这边还能留言", author_role="buyer")

    await order.buyer_cancels()
    await order.expect("refund.closed", why="cancelled")
    after = await order.posts("buyer", "算了")
    assert (await order.rejection_of(after))["code"] == "refund_closed"


async def test_a_buyer_who_declined_a_full_value_offer_is_not_ruled_for_by_the_timeout_rule(market: Market) -> None:
    order = await _offered(market, 9900, kind="partial_refund", amount_fen=9900, message="全额退款，商品请留着")
    await order.buyer_declines_offer(message="我要换货")
    await order.state("rejected", cause="offer.decline")
    await order.buyer_escalates()
    await order.case_opened()

    # The seller submits nothing: the evidence rule would rule for the buyer, but the buyer turned
    # down everything it asked for, so the case waits for an arbitrator instead.
    queued = await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)

    assert queued["round"] == 1
    await order.expect_none("ruling.issued", within=1)
