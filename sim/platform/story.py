"""A scripted world: one order, the moves a test names, and the platform's records delivered in the
order the test says (to reproduce a race: one service hears of a move before another does).
At the end, `settle()` carries everything through and returns what the invariants found."""
from __future__ import annotations

from typing import Any

from contracts import topics as T
from contracts.common import GOODS_BACK
from sim.platform.actors import RETURN_ADDRESS, Command
from sim.platform.invariants import Violation
from sim.platform.simulation import World

DAY = 24 * 3600.0
PLATFORM = frozenset(T.ALL) - {T.ORDERS_EVENTS, T.PAYMENTS_EVENTS}  # what the platform writes


class Story:
    def __init__(self, paid_fen: int = 10000, shipped: bool = True) -> None:
        self.world = World(seed=0, disputes=1)
        self.world.epilogue = 0  # a story's parties make only the moves it tells
        [self.order] = self.world.orders.values()
        self.order.paid_fen = paid_fen
        self.world.pay_order(self.order)
        if shipped:
            self.send("system", "orders", "order.shipped", carrier="SF", tracking_no="SF1",
                      shipped_at="2026-12-01T00:00:00Z")
        self.deliver()

    # ---- moves ----------------------------------------------------------------------------

    def send(self, role: str, actor_id: str, type_: str, **data: Any) -> str:
        return self.world.send(Command(type_, {"order_id": self.order.order_id, **data}, role, actor_id))

    def buyer(self, type_: str, **data: Any) -> str:
        return self.send("buyer", self.order.buyer_id, type_, **data)

    def seller(self, type_: str, **data: Any) -> str:
        """The seller's command; an approval or a goods-back offer says where, unless told otherwise."""
        if type_ == "seller.approve":
            data.setdefault("return_address", RETURN_ADDRESS)
        if type_ == "seller.offer" and data["offer"].get("kind") in GOODS_BACK:
            data["offer"] = {"return_address": RETURN_ADDRESS, **data["offer"]}
        return self.send("seller", self.order.seller_id, type_, **data)

    def arbitrator(self, type_: str, who: str = "xiaoer1", **data: Any) -> str:
        return self.send("arbitrator", who, type_, **data)

    def request(self, amount_fen: int | None = None, kind: str = "refund_only", reason: str = "quality") -> str:
        return self.buyer("refund.request", kind=kind, reason=reason, amount_fen=amount_fen or self.order.paid_fen,
                          refund_to="original", description="有问题", evidence=[])

    def rule(self, outcome: str, who: str = "xiaoer1", **extra: Any) -> str:
        return self.arbitrator("ruling.decide", who, case_id=self.case_id, outcome=outcome,
                               return_shipping_paid_by="seller", seller_at_fault=outcome != "reject",
                               reasoning="依据证据裁决", **extra)

    # ---- the platform -----------------------------------------------------------------------

    def deliver(self, *services: str, pay: bool = True) -> None:
        """Every record to every service named (all four when none), until none is left; the
        payment system pays what it was asked (unless `pay` is False)."""
        nodes = [self.world.nodes[s] for s in services] if services else list(self.world.nodes.values())
        moved = True
        while moved:
            moved = False
            for node in nodes:
                for task in node.tasks:
                    while node.waiting(task):
                        node.process(task, node.take(task, self.world.rng, 50))
                        moved = True
            if pay:
                self.world.payments.read()
                while self.world.payments.answer_one():
                    moved = True

    def read(self, service: str, topic: str) -> None:
        """Only `topic`'s records to `service`: a service far behind on its other topics."""
        node = self.world.nodes[service]
        for task in node.tasks:
            records = self.world.log.partition(topic, task.partition)[task.positions.get(topic, 0):]
            if records:
                node.process(task, list(records))

    def later(self, seconds: float, *services: str) -> None:
        """Time passes: the deadlines of the services named (all when none) fire, and their records go."""
        self.world.clock.advance(seconds)
        for node in ([self.world.nodes[s] for s in services] if services else self.world.nodes.values()):
            for task in node.tasks:
                node.fire_due(task)
        self.deliver(*services)

    def settle(self) -> list[Violation]:
        self.world.settle()
        self.world.checker.at_rest()
        return self.world.checker.violations

    # ---- what the outside saw ------------------------------------------------------------------

    def events(self, type_: str) -> list[dict[str, Any]]:
        return [r.envelope["data"] for (topic, _), records in sorted(self.world.log.parts.items())
                if topic in PLATFORM for r in records if r.type == type_]

    def messages(self, template: str) -> list[dict[str, Any]]:
        return [m for m in self.events("message.sent") if m["template"] == template]

    def rejections(self, code: str) -> list[dict[str, Any]]:
        return [r for r in self.events("command.rejected") if r["code"] == code]

    @property
    def refund_id(self) -> str:
        return list(self.order.refunds)[-1]

    @property
    def case_id(self) -> str:
        return list(self.order.cases)[-1]

    @property
    def offer_id(self) -> str:
        return self.order.refunds[self.refund_id].offers[-1]

    def paid(self, purpose: str = "refund") -> int:
        return sum(p.amount_fen for p in self.world.payments.payouts.values() if p.paid and p.purpose == purpose)

    def state(self) -> str:
        return self.order.refunds[self.refund_id].state
