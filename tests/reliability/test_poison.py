"""What one party sends cannot stop the platform, against the real broker and database: a value the
database refuses stops no query model, and a flood of submissions to one case is refused at its
limit while the partition goes on serving other orders."""
from __future__ import annotations

import json
import time
from collections import Counter

from contracts import topics as T
from contracts.build import encode, envelope
from runtime.stream.ownership import partition_of
from services.arbitration.domain.limits import SUBMISSIONS_PER_PARTY
from services.arbitration.domain.service import read_case
from sim.story import Market, unique


async def history_of(dbs, service: str, order_id: str, type_: str) -> list[dict]:
    await dbs.settled()  # every view writer caught up: it raises if one is stuck
    return [d async for d in dbs.db(service)["history"].find({"order_id": order_id, "type": type_})]


def refund_request(order_id: str, event_id: object) -> bytes:
    env = envelope("refund.request", {"order_id": order_id, "kind": "refund_only", "reason": "quality",
                                      "amount_fen": 100, "refund_to": "original", "description": "x", "evidence": []},
                   actor={"role": "buyer", "id": "B-poison"}, validate=False)
    env["event_id"] = event_id
    return json.dumps(env).encode()


async def test_an_event_id_past_64_bits_stops_no_query_model(market: Market, bus, dbs) -> None:
    await bus.send_raw(T.REFUND_COMMANDS, refund_request("O-poison-int", 9223372036854775808), b"O-poison-int")

    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()

    assert await history_of(dbs, "refund", order.id, "refund.requested"), "the refund query model stopped"
    assert [d async for d in dbs.db("refund")["history"].find({"order_id": "O-poison-int"})] == []


async def test_a_nul_in_an_id_is_refused_and_stops_no_query_model(market: Market, bus, dbs) -> None:
    poisoned = refund_request("O-\x00-nul", "E-nul-" + unique("x"))
    await bus.send_raw(T.REFUND_COMMANDS, poisoned, b"O-nul")
    def dead() -> list:
        return [s for s in bus.all(topic=T.dlq(T.REFUND_COMMANDS)) if s.value == poisoned]

    await bus.wait_until(dead, timeout=30, what="the NUL command dead-lettered")
    assert dead()[0].headers["x-dlq-code"] == "invalid.nul_in_text"

    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    assert await history_of(dbs, "refund", order.id, "refund.requested")


async def test_an_item_quantity_past_64_bits_is_dead_lettered_and_the_case_file_goes_on(market: Market, bus, dbs) -> None:
    order_id = unique("O")
    paid = envelope("order.paid", {"order_id": order_id, "buyer_id": "B-q", "seller_id": "S-q", "amount_fen": 100,
                                   "currency": "CNY", "paid_at": "2026-11-20T08:00:00Z",
                                   "items": [{"sku": "S", "title": "t", "qty": 2 ** 63, "price_fen": 100}]},
                    actor={"role": "system", "id": "order-system"}, validate=False)
    value = encode(paid)
    await bus.send_raw(T.ORDERS_EVENTS, value, order_id.encode())
    await bus.wait_until(lambda: [s for s in bus.all(topic=T.dlq(T.ORDERS_EVENTS)) if s.value == value],
                         timeout=30, what="the order.paid dead-lettered")

    order = await market.paid_order()
    await to_case(order)
    assert await history_of(dbs, "arbitration", order.id, "case.opened")


def same_partition_as(order_id: str) -> str:
    while True:
        other = unique("O")
        if partition_of(other) == partition_of(order_id):
            return other


async def to_case(order) -> float:
    """The buyer asks, the seller refuses, the buyer escalates: seconds from the request to its case
    (the partition's service to an order)."""
    started = time.monotonic()
    await order.buyer_requests()
    await order.requested()
    await order.seller_rejects()
    await order.state("rejected")
    await order.buyer_escalates()
    await order.case_opened()
    return time.monotonic() - started


async def asked_for_evidence(market: Market, bus) -> tuple:
    """An order in a case the arbitrator asked the buyer more evidence for, for 10 minutes (the real
    evidence window is days; the suite's is shortened)."""
    order = await market.paid_order()
    await to_case(order)
    case = await order.case_opened()
    await bus.send("evidence.request", {"order_id": order.id, "case_id": case["case_id"], "party": "buyer",
                                        "message": "请补充材料", "due_in_seconds": 600},
                   ("arbitrator", "ARB-1"), topic=T.ARBITRATION_DECISIONS)
    await order.expect("evidence.requested")
    return order, case


async def test_a_flood_of_submissions_is_refused_at_the_limit_and_the_partition_serves_other_orders(
        market: Market, bus, dbs, live) -> None:
    flooded, case = await asked_for_evidence(market, bus)

    sent = []
    for n in range(SUBMISSIONS_PER_PARTY.most + 50):
        env = envelope("evidence.submit", {"order_id": flooded.id, "case_id": case["case_id"],
                                           "description": f"{n:04d}" + "长" * 1996, "evidence": [], "done": False},
                       actor={"role": "buyer", "id": flooded.buyer})
        sent.append(env["event_id"])
        await bus.send_raw(T.ARBITRATION_COMMANDS, encode(env), flooded.id.encode())

    # Meanwhile a dispute on another order of the same partition goes all the way to its case.
    other = await market.paid_order(order_id=same_partition_as(flooded.id))
    took = await to_case(other)

    def answered() -> tuple[int, int]:
        taken = [s for s in bus.all("evidence.submitted", order_id=flooded.id) if s.env["causation_id"] in sent]
        refused = [s for s in bus.all("command.rejected", order_id=flooded.id) if s.data["command_event_id"] in sent]
        return len(taken), len(refused)

    await bus.wait_until(lambda: sum(answered()) >= len(sent), timeout=120, what="every submission answered")
    accepted, refused = answered()
    codes = {s.data["code"] for s in bus.all("command.rejected", order_id=flooded.id)
             if s.data["command_event_id"] in sent}
    assert codes == {"limit_reached"} and (accepted, refused) == (SUBMISSIONS_PER_PARTY.most, 50)
    print(f"\n[flood] {accepted} submissions taken, {refused} refused (limit_reached); another order's dispute "
          f"reached its case in {took:.1f} s")
    assert await history_of(dbs, "arbitration", other.id, "case.opened")
    # Each submission is kept by reference: the order's aggregate stays small, the case file whole.
    state = await live.aggregate("arbitration", flooded.id)
    assert state is not None and len(json.dumps(state, default=str)) < 64 * 1024
    file = await read_case(dbs.db("arbitration"), case["case_id"])
    texts = [s["description"] for s in file["case"]["submissions"] if s["kind"] == "evidence"]
    assert len(texts) == SUBMISSIONS_PER_PARTY.most and all(t.endswith("长" * 1996) for t in texts)


async def test_two_thousand_largest_messages_to_one_order_are_refused_past_the_limits(market: Market, bus, live) -> None:
    flooded, case = await asked_for_evidence(market, bus)
    before = [await to_case(await market.paid_order(order_id=same_partition_as(flooded.id))) for _ in range(3)]

    photos = [{"kind": "photo", "uri": f"https://img.example.cn/{i:02d}/" + "p" * 2022} for i in range(20)]  # 2,048 each
    sent = []
    for n in range(2000):
        if n % 20 == 19:  # the seller: offers
            env = envelope("seller.offer", {"order_id": flooded.id, "refund_id": flooded.refund_id,
                                            "offer": {"kind": "partial_refund", "amount_fen": 100},
                                            "message": "协" * 1000}, actor={"role": "seller", "id": flooded.seller})
        elif n % 2:  # the buyer: posts
            env = envelope("conversation.post", {"order_id": flooded.id, "refund_id": flooded.refund_id,
                                                 "text": "帖" * 1000, "attachments": photos},
                           actor={"role": "buyer", "id": flooded.buyer})
        else:  # the buyer: submissions to the case
            env = envelope("evidence.submit", {"order_id": flooded.id, "case_id": case["case_id"],
                                               "description": "长" * 2000, "evidence": photos, "done": False},
                           actor={"role": "buyer", "id": flooded.buyer})
        sent.append(env["event_id"])
        await bus.send_raw(_topic(env["type"]),
                           encode(env), flooded.id.encode())
    during = [await to_case(await market.paid_order(order_id=same_partition_as(flooded.id))) for _ in range(3)]

    ids = set(sent)

    def answers() -> tuple[list, list]:
        taken = [s for s in bus.seen if s.env and s.env.get("causation_id") in ids and s.type != "command.rejected"
                 and s.type in ("evidence.submitted", "conversation.posted", "seller.offered")]
        refused = [s for s in bus.all("command.rejected", order_id=flooded.id) if s.data["command_event_id"] in ids]
        return taken, refused

    await bus.wait_until(lambda: len({s.env["causation_id"] for s in answers()[0]} | {s.data["command_event_id"]
                                                                                       for s in answers()[1]}) >= 2000,
                         timeout=300, what="every one of the 2,000 answered")
    taken, refused = answers()
    codes = Counter(s.data["code"] for s in refused)
    assert codes["limit_reached"] > 0 and set(codes) <= {"limit_reached", "rate_limited", "not_your_move", "offer_limit"}
    for service in ("refund", "arbitration", "seller"):
        state = await live.aggregate(service, flooded.id)
        assert state is not None and len(json.dumps(state, default=str)) <= 256 * 1024, service
    print(f"\n[flood] 2,000 largest messages: {len(taken)} taken, {len(refused)} refused {dict(codes)}; another order's "
          f"request reached its case in {max(before):.2f} s at most before the flood, {max(during):.2f} s during it")


def _topic(type_: str) -> str:
    from contracts.registry import spec_for
    spec = spec_for(type_)
    assert spec is not None
    return spec.topic
