"""The operator's command line against the real broker and database."""
from __future__ import annotations

import asyncio
import json
import sys

from contracts.build import encode, envelope
from sim.story import Market, PaymentSystem


async def cli(env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ops.cli", *args, env={**__import__("os").environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_tail_sees_a_published_event(market: Market, env) -> None:
    order_id = "O-tail-" + __import__("uuid").uuid4().hex[:8]
    tail = asyncio.create_task(cli(env, "tail", "orders.events", "--order", order_id, "--max", "1", "--idle-exit", "30"))
    await asyncio.sleep(3)  # let it reach the end of the topic first

    await market.bus.send("order.paid", {"order_id": order_id, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 990,
                                         "currency": "CNY", "paid_at": "2026-11-26T08:00:00Z"}, ("system", "orders"))

    code, out, err = await tail
    assert code == 0, err
    assert "order.paid" in out and f"order={order_id}" in out and "amount_fen=990" in out


async def test_timeline_prints_a_whole_dispute_in_order(market: Market, payments: PaymentSystem, env, dbs) -> None:
    order = await market.paid_order(amount_fen=3000)
    await order.buyer_requests(kind="refund_only", amount_fen=3000)
    await order.requested()
    await order.expect("ruling.issued", timeout=25)  # the seller stays silent
    await payments.pay(await order.payout())
    await order.expect("message.sent", template="refund_paid")

    await dbs.settled()
    code, out, err = await cli(env, "timeline", order.id)

    assert code == 0, err
    types = [line.split()[2] for line in out.splitlines()]
    story = ["order.paid", "refund.request", "refund.requested", "seller.timed_out", "case.opened", "ruling.issued",
             "payout.request", "payout.succeeded", "refund.completed", "refund.closed"]
    positions = [types.index(t) for t in story]
    assert positions == sorted(positions), types
    assert all(f"order={order.id}" in line for line in out.splitlines())


async def test_dlq_replay_reprocesses_a_message_once_its_cause_is_fixed(market: Market, env, bus, system,
                                                                          live) -> None:
    order = await market.paid_order()
    refund_id = "RF-__fail_in_arbitration__"
    # A request the arbitration service fails on (a handler bug, injected): it is dead-lettered there.
    request = envelope("refund.requested", {
        "order_id": order.id, "refund_id": refund_id, "kind": "refund_only", "reason": "quality", "amount_fen": 500,
        "seller_id": order.seller, "buyer_id": order.buyer, "seller_due_at": "2026-11-26T08:00:00Z",
        "refundable_fen": 12900}, actor={"role": "buyer", "id": order.buyer})
    await bus.send_raw("refund.events", encode(request), order.id.encode())
    letter = await _dead_letter(bus, request["event_id"])
    assert letter.headers["x-dlq-code"] == "handler_error" and letter.headers["x-dlq-service"] == "arbitration"
    assert letter.headers["x-original-topic"] == "refund.events" and letter.value == encode(request)
    code, shown, err = await cli(env, "dlq", "show", "refund.events", str(letter.offset))
    assert code == 0, err
    assert '"x-dlq-code": "handler_error"' in shown and request["event_id"] in shown and refund_id in shown

    # The cause is fixed: the service runs without the bug now.
    system.restart("arbitration", env={"AFTERSALE_FAULT_INJECTION": "0"})
    try:
        code, out, err = await cli(env, "dlq", "replay", "refund.events", "--offset", str(letter.offset))
        assert code == 0, err
        assert f"refund.events.dlq@{letter.offset} -> refund.events" in out

        async def known() -> bool:
            doc = await live.aggregate("arbitration", order.id)
            return bool(doc and refund_id in doc["state"]["requests"])

        for _ in range(100):
            if await known():
                break
            await asyncio.sleep(0.2)
        assert await known(), "the replayed request reached the arbitration service"
    finally:
        system.restart("arbitration", env={"AFTERSALE_FAULT_INJECTION": "1"})


async def _dead_letter(bus, event_id: str):
    def found(s) -> bool:
        return s.topic == "refund.events.dlq" and (s.env or {}).get("event_id") == event_id
    await bus.wait_until(lambda: any(found(s) for s in bus.seen), timeout=30, what="the dead letter")
    return next(s for s in bus.seen if found(s))


async def test_publish_refuses_an_invalid_message_naming_the_wrong_field(env, bus) -> None:
    mark = bus.mark
    bad = {"order_id": "O-x", "kind": "refund_only", "reason": "quality", "amount_fen": "12.50",
           "refund_to": "original", "description": "x", "evidence": []}

    code, out, err = await cli(env, "publish", "refund.request", "-a", "buyer:B1", "-d", json.dumps(bad))

    assert code == 2
    assert "amount_fen" in err and "not sent" in err
    await bus.expect_none(within=2, since=mark, topic="refund.commands", order_id="O-x")


async def test_publish_sends_a_valid_message(env, bus) -> None:
    data = {"order_id": "O-pub-1", "buyer_id": "B1", "seller_id": "S1", "amount_fen": 100, "currency": "CNY",
            "paid_at": "2026-11-26T08:00:00Z"}
    code, out, err = await cli(env, "publish", "order.paid", "-a", "system:orders", "-d", json.dumps(data))
    assert code == 0, err
    assert (await bus.expect("order.paid", order_id="O-pub-1"))["amount_fen"] == 100


async def test_the_arbitrators_queue_lists_cases_awaiting_a_ruling(market: Market, env, dbs) -> None:
    order = await market.paid_order()
    await order.case_awaiting_ruling()
    await dbs.settled()  # the queue is the query model, written just behind the events

    code, out, err = await cli(env, "cases", "--json")
    assert code == 0, err
    queue = json.loads(out)
    mine = [c for c in queue if c["case_id"] == order.case_id]
    assert mine and mine[0]["order_id"] == order.id and mine[0]["round"] == 1
    dues = [c["ruling_due_at"] for c in queue]
    assert dues == sorted(dues)

    code, out, err = await cli(env, "case", order.case_id)
    assert code == 0, err
    assert f"case {order.case_id}" in out and "awaiting_ruling" in out and "filing" in out


async def test_the_cli_says_which_address_it_could_not_reach() -> None:
    code, out, err = await cli({"MONGO_URL": "mongodb://127.0.0.1:1/"}, "timeline", "O-1", timeout=60)
    assert code == 1 and "127.0.0.1:1" in err
