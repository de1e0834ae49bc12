"""Nothing lost, nothing twice: a crash with a transaction open, a poison message, and what the
logs may say."""
from __future__ import annotations

import asyncio

from contracts.build import encode, envelope
from runtime.stream.ownership import partition_of
from services.refund.queries import order_file
from sim.story import Market, unique


async def test_a_crash_inside_a_transaction_loses_nothing_and_repeats_nothing(market: Market, system, bus, dbs) -> None:
    # A refund service that dies (os._exit) with its transaction open: refund.requested and the
    # changelog record are on the broker, not committed.
    system.restart("refund", env={"AFTERSALE_CRASH_IN_TRANSACTION_TYPE": "refund.requested"})
    order = await market.paid_order()
    await order.buyer_requests()
    refund = system.procs["refund"]
    await asyncio.get_running_loop().run_in_executor(None, refund.popen.wait, 30)
    assert refund.popen.returncode == 86, "the fault was injected"
    assert not bus.all("refund.requested", order_id=order.id), "a read_committed reader sees nothing of it"

    system.restart("refund", env={"AFTERSALE_CRASH_IN_TRANSACTION_TYPE": ""})

    requested = await order.requested()
    # The stored state first: the seller's answer deadline (5 s in tests) moves the request on after it.
    stored = order_file(await dbs.aggregate("refund", order.id))
    assert stored["state"]["refunds"][requested["refund_id"]]["state"] == "requested"
    await bus.expect_none("refund.requested", within=3, order_id=order.id, since=requested.index + 1)
    assert len(bus.all("refund.requested", order_id=order.id)) == 1


async def test_a_poison_message_is_dead_lettered_and_the_partition_goes_on(market: Market, bus, live) -> None:
    healthy = await market.paid_order()
    poison_order = unique("O")
    while partition_of(poison_order) != partition_of(healthy.id):
        poison_order = unique("O")
    await healthy.buyer_requests()
    await healthy.requested()
    # A record the arbitration service fails on every time (a handler bug, injected by its mark).
    poison = envelope("seller.timed_out", {"order_id": poison_order, "refund_id": "RF-__fail_in_arbitration__",
                                           "seller_id": "S-x"}, actor={"role": "system", "id": "svc:seller"})
    await bus.send_raw("seller.events", encode(poison), poison_order.encode())

    await healthy.seller_rejects(reason="used")  # behind the poison, on the same partition of seller.events

    rejected = await healthy.expect("seller.rejected")
    assert rejected.partition == partition_of(poison_order)
    await bus.wait_until(lambda: any(s.topic == "seller.events.dlq" and s.value == encode(poison) for s in bus.seen),
                         timeout=30, what="the poison message in the DLQ")
    letter = next(s for s in bus.seen if s.topic == "seller.events.dlq" and s.value == encode(poison))
    assert letter.headers["x-dlq-service"] == "arbitration" and "after 3 attempts" in letter.headers["x-dlq-reason"]
    assert letter.headers["x-original-partition"] == str(rejected.partition)

    async def recorded() -> bool:
        doc = await live.aggregate("arbitration", healthy.id)
        return bool(doc and doc["state"]["requests"][healthy.refund_id].get("seller_rejection"))

    for _ in range(100):
        if await recorded():
            break
        await asyncio.sleep(0.2)
    assert await recorded(), "the message behind the poison was applied"


async def test_logs_carry_no_personal_data_in_clear(market: Market, log_dir, bus) -> None:
    phone, address = "13912345678", "上海市浦东新区世纪大道100号"
    order = await market.paid_order()
    await order.buyer_requests(description=f"请联系 {phone}，寄回地址 {address}")
    await order.requested()
    await order.seller_rejects(message=f"已联系买家 {phone}")
    await order.expect("seller.rejected")
    await bus.expect("message.sent", order_id=order.id, template="seller_rejected")
    await asyncio.sleep(1)

    text = "".join((log_dir / f"{s}.log").read_text(errors="replace") for s in ("refund", "seller", "arbitration", "notify"))
    assert order.id in text  # the logs do talk about this order ...
    assert phone not in text and address not in text and "寄回地址" not in text  # ... but not about the people
