"""In-app messages (站内信, domain.md section 5): every step reaches the right party, in their language."""
from __future__ import annotations

import asyncio
import json
import urllib.request

from runtime.api.workdays import BEIJING
from runtime.service.settings import ServiceSettings
from sim.story import Market, PaymentSystem


def _at(value: str):
    from datetime import datetime
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def inbox(user_id: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:18084/inbox?user_id={user_id}", timeout=5) as r:
        return json.loads(r.read())


async def test_a_full_dispute_messages_each_party_in_order_and_in_their_language(
        market: Market, payments: PaymentSystem, bus, dbs) -> None:
    order = await market.paid_order(amount_fen=25900)
    await bus.send("locale.set", {"user_id": order.seller, "locale": "en"}, ("seller", order.seller))
    await bus.expect("locale.changed", user_id=order.seller)  # in every notify instance's table from now on
    await order.buyer_requests(kind="refund_only", reason="not_as_described", amount_fen=25900)
    await order.requested()
    await bus.expect("message.sent", user_id=order.seller, template="refund_requested")
    await order.seller_rejects(reason="opened")
    await order.state("rejected")
    await order.buyer_escalates()
    await order.case_opened()
    await order.submits_evidence("seller")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=20)
    await order.arbitrator_rules("full_refund", refund_fen=25900)
    await order.expect("ruling.issued", case_id=order.case_id)
    await payments.pay(await order.payout())
    await bus.expect("message.sent", user_id=order.buyer, template="refund_paid")

    # Reminders come on their own clock (the appeal window's among them); the story is the rest.
    buyer = [m for m in bus.all("message.sent", order_id=order.id, user_id=order.buyer) if m["template"] != "deadline_near"]
    seller = [m for m in bus.all("message.sent", order_id=order.id, user_id=order.seller) if m["template"] != "deadline_near"]
    assert [m["template"] for m in buyer] == ["seller_rejected", "case_opened", "evidence_added", "case_in_queue",
                                              "ruling_issued", "refund_on_its_way", "refund_paid"]
    # The promise: three working days from the order of the payout, on China's calendar, in Beijing time.
    ordered = bus.all("refund.payout_requested", order_id=order.id)[0]
    promised = ServiceSettings().after_working_days(_at(ordered.env["occurred_at"]), 3)
    assert abs((_at(ordered["promised_by"]) - promised).total_seconds()) < 1  # the decision's clock, not the record's
    on_its_way = next(m for m in buyer if m["template"] == "refund_on_its_way")
    assert promised.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") in on_its_way["body"]
    assert [m["template"] for m in seller][:4] == ["refund_requested", "case_opened", "case_in_queue", "ruling_issued"]
    assert {m["locale"] for m in buyer} == {"zh-CN"} and {m["locale"] for m in seller} == {"en"}
    paid = buyer[-1]
    assert paid["title"] == "退款已到账" and "¥259.00" in paid["body"]
    ruled = seller[3]
    assert ruled["title"].startswith("The platform's ruling") and "full refund" in ruled["body"]
    assert all(m.key == m["user_id"].encode() for m in buyer + seller)  # keyed by user, like notify.commands
    await dbs.settled()
    box = inbox(order.buyer)
    stored = [m for m in box["messages"] if m["order_id"] == order.id]
    assert {m["message_id"] for m in buyer} <= {m["message_id"] for m in stored}
    assert box["unread"] >= len(buyer)


async def test_a_redelivered_ruling_sends_nothing_new(market: Market, bus) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    ruling = await order.expect("ruling.issued", timeout=25)  # the seller stays silent: auto ruling
    await bus.expect("message.sent", order_id=order.id, user_id=order.seller, template="ruling_issued")
    await bus.expect("message.sent", order_id=order.id, user_id=order.buyer, template="ruling_issued")
    mark = bus.mark

    await bus.send_raw("arbitration.events", ruling.value, ruling.key)  # the very same bytes again

    await bus.expect("ruling.issued", since=mark, case_id=ruling["case_id"])  # it did go round again
    await asyncio.sleep(4)
    again = [m for m in bus.all("message.sent", order_id=order.id, since=mark)
             if m["template"] not in ("deadline_near", "refund_on_its_way")]
    assert again == []  # only the appeal reminders run on, on their own clock, and the payout's own news
    assert len(bus.all("message.sent", order_id=order.id, template="ruling_issued")) == 2


async def test_a_reminder_comes_before_the_deadline_and_not_after_the_party_acted(market: Market, bus) -> None:
    silent = await market.paid_order()
    prompt = await market.paid_order()
    await silent.buyer_requests()
    await prompt.buyer_requests()
    due = (await silent.requested())["seller_due_at"]
    await prompt.requested()
    await prompt.seller_approves()

    reminder = await bus.expect("message.sent", order_id=silent.id, template="deadline_near", timeout=20)

    assert reminder["user_id"] == silent.seller
    assert reminder.env["occurred_at"] < due  # before the deadline, not after it
    await silent.expect("seller.timed_out", timeout=20)
    assert not bus.all("message.sent", order_id=prompt.id, template="deadline_near")


async def test_only_the_recipient_may_mark_a_message_read(market: Market, bus, dbs) -> None:
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    sent = await bus.expect("message.sent", order_id=order.id, user_id=order.seller, template="refund_requested")
    message_id = sent["message_id"]
    await dbs.settled()  # the inbox is the query model, written just behind the events
    unread_before = inbox(order.seller)["unread"]

    nosy = await bus.send("message.read", {"user_id": order.seller, "message_id": message_id}, ("buyer", order.buyer))
    refused = await bus.expect("command.rejected", command_event_id=nosy["event_id"])
    assert refused["code"] == "not_recipient" and refused.topic == "notify.events"

    await bus.send("message.read", {"user_id": order.seller, "message_id": message_id}, ("seller", order.seller))
    await bus.expect("message.marked_read", message_id=message_id)
    await bus.wait_until(lambda: inbox(order.seller)["unread"] == unread_before - 1, what="unread count to drop")


async def test_each_party_hears_what_it_must_know_about_returns_closures_evidence_and_appeals(market: Market, bus) -> None:
    returning = await market.paid_order()
    await returning.buyer_requests(kind="return_and_refund")
    await returning.requested()
    await returning.seller_approves()
    await returning.state("return_pending")
    await returning.buyer_ships_return(carrier="SF", tracking_no="SF246810")
    shipped = await bus.expect("message.sent", user_id=returning.seller, template="return_shipped")
    assert "SF246810" in shipped["body"]

    lapsed = await market.paid_order()
    await lapsed.buyer_requests(kind="return_and_refund")
    await lapsed.requested()
    await lapsed.seller_approves()
    await lapsed.expect("refund.closed", why="expired", timeout=20)  # never shipped back
    closed = await bus.expect("message.sent", user_id=lapsed.buyer, template="request_closed")
    assert "未在期限内寄回商品" in closed["body"]

    disputed = await market.paid_order()
    await disputed.case_awaiting_ruling()  # the seller's evidence comes in, then the case is queued
    added = await bus.expect("message.sent", user_id=disputed.buyer, template="evidence_added")
    assert "商家" in added["body"]
    for user in (disputed.buyer, disputed.seller):
        await bus.expect("message.sent", user_id=user, template="case_in_queue")
    await disputed.arbitrator_rules("partial_refund", refund_fen=5000)
    await disputed.expect("ruling.issued", case_id=disputed.case_id)
    for user in (disputed.buyer, disputed.seller):  # each may appeal once: both are reminded in time
        reminder = await bus.expect("message.sent", user_id=user, template="deadline_near", timeout=20)
        assert "申诉" in reminder["body"]
