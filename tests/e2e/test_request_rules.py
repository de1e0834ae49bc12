"""What a buyer may ask, and when: a final "no" stays final, limits cannot be reset, the
after-sale window counts from delivery, and no request asks for more than is left to refund."""
from __future__ import annotations

from sim.story import Market, PaymentSystem


async def test_a_request_finally_rejected_cannot_be_asked_again(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")

    closed = await order.expect("refund.closed", timeout=20)  # the buyer let the escalation window pass
    assert closed["why"] == "rejected_final"
    again = await order.buyer_requests(description="再试一次")

    assert (await order.rejection_of(again))["code"] == "already_decided"


async def test_cancelling_and_asking_again_does_not_reset_the_resubmission_limit(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    for attempt in (2, 3):  # two resubmissions after rejections: the limit
        await order.seller_rejects()
        await order.state("rejected", count=attempt - 1)
        await order.buyer_requests(description=f"第{attempt}次提交")
        await order.requested(attempt=attempt)
    await order.seller_rejects()
    await order.state("rejected", count=3)
    over = await order.buyer_requests(description="第4次提交")
    assert (await order.rejection_of(over))["code"] == "resubmission_limit"

    await order.buyer_cancels()
    await order.expect("refund.closed", why="cancelled")
    fresh_start = await order.buyer_requests(description="撤销后重新申请")

    assert (await order.rejection_of(fresh_start))["code"] == "resubmission_limit"


async def test_the_after_sale_window_counts_from_delivery(market: Market, bus) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", reason="not_received")
    await order.requested()  # not delivered: a request may come at any time
    await order.buyer_cancels()
    await order.expect("refund.closed", why="cancelled")

    late = await market.paid_order()
    await market.order_shipped(late)
    await bus.send("order.delivered", {"order_id": late.id, "delivered_at": "2026-10-01T08:00:00Z"},
                   ("system", "order-system"), validate=True)
    await bus.expect("order.delivered", order_id=late.id)
    refused = await late.buyer_requests(kind="return_and_refund", reason="quality")

    assert (await late.rejection_of(refused))["code"] == "after_sale_window_closed"


async def test_a_second_request_after_a_partial_refund_asks_at_most_what_is_left(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order(amount_fen=10000)
    await order.buyer_requests(kind="refund_only", amount_fen=3000)
    await order.requested()
    await order.seller_approves()
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")

    too_much = await order.buyer_requests(kind="refund_only", amount_fen=8000)
    refused = await order.rejection_of(too_much)
    assert refused["code"] == "amount_exceeds_refundable" and "7000" in refused["message"]
    await order.buyer_requests(kind="refund_only", amount_fen=7000)

    second = await order.expect("refund.requested", amount_fen=7000)
    assert second["refundable_fen"] == 7000


async def test_an_order_not_shipped_by_its_ship_by_is_cancelled_at_once_and_counts_against_the_shop(
        market, payments, bus) -> None:
    order = await market.paid_order(amount_fen=8800, shipped=False, ship_by="2026-11-21T08:00:00Z")
    await order.buyer_requests(kind="refund_only", amount_fen=1000)  # a part: late, the whole order is cancelled
    requested = await order.requested()
    assert requested["late_shipment"] is True and requested["auto_approved"] is True
    payout = await order.payout()
    assert payout["amount_fen"] == 8800
    credit = await bus.expect("shop.credit_changed", seller_id=order.seller)
    assert credit["why"] == "late_shipment"
    told = await bus.expect("message.sent", user_id=order.seller, template="cancelled_late_shipment")
    assert "发货" in told["body"]
    await payments.pay(payout)
    await order.expect("refund.closed", why="completed")


async def test_an_order_shipped_after_its_ship_by_is_late_in_the_shops_credit(market, bus) -> None:
    order = await market.paid_order(amount_fen=8800, ship_by="2026-11-21T00:00:00Z")  # shipped 2026-11-21T08:00
    late = await bus.expect("order.shipped_late", order_id=order.id)
    assert late["seller_id"] == order.seller
    credit = await bus.expect("shop.credit_changed", seller_id=order.seller)
    assert credit["why"] == "late_shipment"
    await bus.expect("message.sent", user_id=order.seller, template="shipped_late")
