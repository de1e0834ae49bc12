"""The everyday after-sale path (domain.md sections 1-2), through the real services, Kafka and database."""
from __future__ import annotations

from sim.story import RETURN_ADDRESS, Market, PaymentSystem


async def test_refund_only_is_approved_and_paid(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order(amount_fen=12900)
    await order.buyer_requests(kind="refund_only", reason="not_received", amount_fen=12900, refund_to="balance")
    await order.requested()

    await order.seller_approves()

    await order.expect("seller.approved", refund_id=order.refund_id)
    await order.state("payout_pending", awaiting="payment")
    request = await order.payout()
    assert request["payout_id"] == f"payout:{order.refund_id}"
    assert request["amount_fen"] == 12900 and request["refund_to"] == "balance"
    await payments.pay(request)
    completed = await order.expect("refund.completed")
    assert completed["amount_fen"] == 12900 and completed["refund_to"] == "balance"
    closed = await order.expect("refund.closed")
    assert closed["why"] == "completed"
    assert completed.env["correlation_id"] == order.refund_id


async def test_return_and_refund_shipped_received_and_paid(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order(amount_fen=8800)
    await market.order_shipped(order)
    await order.buyer_requests(kind="return_and_refund", reason="not_as_described")
    await order.requested()
    bare = await order._send("seller.approve", {"order_id": order.id, "refund_id": order.refund_id},
                             ("seller", order.seller))
    assert (await order.rejection_of(bare))["code"] == "return_address_required"  # goods go back: say where
    await order.seller_approves()
    pending = await order.state("return_pending")
    assert pending["awaiting"] == "buyer" and pending["due_at"]
    assert pending["return_address"] == RETURN_ADDRESS
    told = await order.bus.expect("message.sent", user_id=order.buyer, template="return_requested")
    assert "退货地址：售后部，13800138000，浙江省杭州市余杭区仓前街道 1 号" in told["body"]

    await order.buyer_ships_return(carrier="SF", tracking_no="SF100200300")
    transit = await order.state("return_in_transit")
    assert transit["awaiting"] == "seller" and transit["return_tracking_no"] == "SF100200300"
    await order.seller_receives_return()

    await order.expect("seller.return_received")
    await payments.pay(await order.payout())
    assert (await order.expect("refund.closed"))["why"] == "completed"


async def test_receipt_is_confirmed_automatically_when_the_seller_stays_silent(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="return_and_refund", reason="damaged")
    await order.requested()
    await order.seller_approves()
    await order.state("return_pending")
    await order.buyer_ships_return()
    await order.state("return_in_transit")

    paying = await order.state("payout_pending", cause="timer.return_confirm_expired")

    assert paying["awaiting"] == "payment"
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")


async def test_a_return_never_shipped_closes_the_request(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="return_and_refund", reason="no_longer_wanted")
    await order.requested()
    await order.seller_approves()
    await order.state("return_pending")

    closed = await order.expect("refund.closed")

    assert closed["why"] == "expired"
    assert not order.bus.all("payout.request", order_id=order.id)


async def test_exchange_sends_a_replacement_instead_of_money(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="exchange", reason="wrong_item")
    await order.requested()
    await order.seller_approves()
    await order.state("return_pending")
    await order.buyer_ships_return()
    await order.state("return_in_transit")
    await order.seller_receives_return()
    waiting = await order.state("replacement_pending")
    assert waiting["awaiting"] == "seller"

    await order.seller_ships_replacement(carrier="YTO", tracking_no="YT555")

    shipped = await order.expect("seller.replacement_shipped")
    assert shipped["tracking_no"] == "YT555"
    assert (await order.expect("refund.closed"))["why"] == "completed"
    assert not order.bus.all("payout.request", order_id=order.id)


async def test_after_a_rejection_the_buyer_resubmits_with_more_explanation(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order()
    await order.buyer_requests(kind="refund_only", reason="quality", description="杯子漏水")
    first = await order.requested()
    await order.seller_rejects(reason="subjective", message="主观不满意")
    rejected = await order.state("rejected")
    assert rejected["awaiting"] == "buyer"
    assert (await order.expect("seller.rejected"))["reason"] == "subjective"

    await order.buyer_requests(kind="refund_only", reason="quality", description="杯子漏水，附视频",
                               evidence=[{"kind": "video", "uri": "https://v.example.cn/leak.mp4"}])

    second = await order.requested(attempt=2)
    assert second["refund_id"] == first["refund_id"]
    assert second["seller_due_at"] > first["seller_due_at"]
    await order.seller_approves()
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")


async def test_the_buyer_withdraws_and_the_seller_can_no_longer_answer(market: Market) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    await order.buyer_cancels()

    assert (await order.expect("refund.closed"))["why"] == "cancelled"
    await order.bus.expect("refund.state_changed", order_id=order.id, state="closed")
    late = await order.seller_approves()
    assert (await order.rejection_of(late))["code"] == "not_your_move"
    await order.expect_none("seller.timed_out", within=6)


async def test_payout_failure_is_retried_with_the_same_payout_id_then_succeeds(market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    await order.seller_approves()
    first = await order.payout()
    await payments.fail(first)

    second = await order.payout(count=2)

    assert second["payout_id"] == first["payout_id"]
    await payments.pay(second)
    await order.expect("refund.completed")
    assert (await order.expect("refund.closed"))["why"] == "completed"
    # Events say what changed: the retries kept the request payout_pending, so one change was published.
    states = [e["state"] for e in order.bus.all("refund.state_changed", order_id=order.id)]
    assert states == ["requested", "payout_pending", "closed"]


async def test_payout_failing_past_the_retry_limit_is_parked_for_operators_and_retriggered(
        market: Market, payments: PaymentSystem) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    await order.seller_approves()
    for attempt in (1, 2, 3):  # AFTERSALE_PAYOUT_MAX_ATTEMPTS=3 in the tests
        await payments.fail(await order.payout(count=attempt))

    parked = await order.state("payout_failed")
    assert parked["awaiting"] == "platform" and parked["payout_attempts"] == 3
    await order.bus.expect_none("payout.request", within=2, order_id=order.id, since=parked.index)
    assert len(order.bus.all("payout.request", order_id=order.id)) == 3

    await order.bus.send("payout.retry", {"order_id": order.id, "refund_id": order.refund_id}, ("system", "ops:alice"))

    again = await order.payout(count=4)
    assert again["payout_id"] == f"payout:{order.refund_id}"
    await payments.pay(again)
    await order.expect("refund.closed", why="completed")


async def test_a_refund_before_shipment_cancels_the_order_without_asking_the_seller(market: Market, payments: PaymentSystem,
                                                                                    bus) -> None:
    order = await market.paid_order(amount_fen=5900, shipped=False)

    await order.buyer_requests(kind="refund_only", reason="no_longer_wanted", amount_fen=5900)

    requested = await order.requested()
    assert requested["auto_approved"] is True
    cancel = await order.expect("refund.order_cancel_requested")
    assert cancel["amount_fen"] == 5900 and cancel["seller_id"] == order.seller
    await order.state("payout_pending", cause="unshipped_refund")
    told = await bus.expect("message.sent", user_id=order.seller, template="refund_unshipped")
    assert "请勿再发货" in told["body"]
    await payments.pay(await order.payout())
    await order.expect("refund.closed", why="completed")
    late = await order.seller_rejects()
    assert (await order.rejection_of(late))["code"] == "not_your_move"
    await order.expect_none("seller.timed_out", within=6)  # the seller was never on the clock


async def test_after_an_approval_the_return_postage_follows_the_reason(market: Market, payments: PaymentSystem, bus) -> None:
    faulty, unwanted = await market.paid_order(), await market.paid_order()
    for order, reason in ((faulty, "quality"), (unwanted, "no_longer_wanted")):
        await order.buyer_requests(kind="return_and_refund", reason=reason)
        await order.requested()
        await order.seller_approves()
        await order.state("return_pending")
        await order.buyer_ships_return(postage_fen=1000)
        await order.state("return_in_transit")
        await order.seller_receives_return()
        await payments.pay(await order.payout())
        await order.expect("refund.closed", why="completed")

    postage = await faulty.expect("payout.request", purpose="return_shipping")  # a faulty item: the seller pays
    assert postage["amount_fen"] == 1000
    assert not bus.all("payout.request", order_id=unwanted.id, purpose="return_shipping")  # 七天无理由: the buyer

    generous = await market.paid_order()
    await generous.buyer_requests(kind="return_and_refund", reason="no_longer_wanted")
    await generous.requested()
    too_much = await generous.seller_approves(return_shipping_fen=3500)
    assert (await generous.rejection_of(too_much))["code"] == "postage_exceeds_cap"
    await generous.seller_approves(return_shipping_fen=800)  # the seller offers to repay it anyway
    await generous.state("return_pending")
    await generous.buyer_ships_return()
    await generous.state("return_in_transit")
    await generous.seller_receives_return()
    assert (await generous.expect("payout.request", purpose="return_shipping"))["amount_fen"] == 800
