"""The marketplace's people, as the vocabulary of the demo, the benchmark and the tests: an order
is paid, the buyer asks, the seller answers, the platform rules, the payment system pays."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from contracts.common import GOODS_BACK
from sim.bus import Bus, Seen

PHOTO = {"kind": "photo", "uri": "https://img.example.cn/evidence/1.jpg"}
CHAT = {"kind": "chat_log", "uri": "https://chat.example.cn/log/42"}
RETURN_ADDRESS = {"name": "售后部", "phone": "13800138000", "address": "浙江省杭州市余杭区仓前街道 1 号"}

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Order:
    bus: Bus
    id: str
    buyer: str
    seller: str
    amount_fen: int
    refund_id: str | None = None
    case_id: str | None = None
    offer_id: str | None = None
    commands: list[dict[str, Any]] = field(default_factory=list)

    # -- what the buyer does --
    async def buyer_requests(self, kind: str = "refund_only", reason: str = "quality", amount_fen: int | None = None,
                             refund_to: str = "original", description: str = "商品有质量问题",
                             evidence: list[dict[str, str]] | None = None, actor: tuple[str, str] | None = None,
                             **extra: Any) -> dict[str, Any]:
        data = {"order_id": self.id, "kind": kind, "reason": reason,
                "amount_fen": self.amount_fen if amount_fen is None else amount_fen,
                "refund_to": refund_to, "description": description,
                "evidence": [PHOTO] if evidence is None else evidence, **extra}
        return await self._send("refund.request", data, actor or ("buyer", self.buyer))

    async def buyer_cancels(self, refund_id: str | None = None, actor: tuple[str, str] | None = None) -> dict[str, Any]:
        return await self._send("refund.cancel", {"order_id": self.id, "refund_id": refund_id or self.refund_id},
                                actor or ("buyer", self.buyer))

    async def buyer_ships_return(self, carrier: str = "SF", tracking_no: str = "SF1234567890",
                                 actor: tuple[str, str] | None = None, postage_fen: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"order_id": self.id, "refund_id": self.refund_id, "carrier": carrier,
                                "tracking_no": tracking_no}
        if postage_fen is not None:
            data["postage_fen"] = postage_fen
        return await self._send("return.shipped", data, actor or ("buyer", self.buyer))

    # -- what the seller does --
    async def seller_approves(self, actor: tuple[str, str] | None = None,
                              return_shipping_fen: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"order_id": self.id, "refund_id": self.refund_id, "return_address": RETURN_ADDRESS}
        if return_shipping_fen is not None:
            data["return_shipping_fen"] = return_shipping_fen  # the postage the seller promises to repay
        return await self._send("seller.approve", data, actor or ("seller", self.seller))

    async def seller_rejects(self, reason: str = "opened", message: str = "商品已拆封，影响二次销售",
                             evidence: list[dict[str, str]] | None = None,
                             actor: tuple[str, str] | None = None) -> dict[str, Any]:
        return await self._send("seller.reject", {"order_id": self.id, "refund_id": self.refund_id, "reason": reason,
                                                  "message": message, "evidence": evidence or []},
                                actor or ("seller", self.seller))

    async def seller_receives_return(self, actor: tuple[str, str] | None = None) -> dict[str, Any]:
        return await self._send("return.received", {"order_id": self.id, "refund_id": self.refund_id},
                                actor or ("seller", self.seller))

    async def seller_ships_replacement(self, carrier: str = "YTO", tracking_no: str = "YT998877") -> dict[str, Any]:
        return await self._send("replacement.ship", {"order_id": self.id, "refund_id": self.refund_id,
                                                     "carrier": carrier, "tracking_no": tracking_no},
                                ("seller", self.seller))

    # -- negotiating (协商) --
    async def seller_offers(self, kind: str = "partial_refund", amount_fen: int | None = None,
                            message: str = "给您补偿部分货款，商品不用退回") -> dict[str, Any]:
        offer: dict[str, Any] = {"kind": kind}
        if amount_fen is not None:
            offer["amount_fen"] = amount_fen
        if kind in GOODS_BACK:
            offer["return_address"] = RETURN_ADDRESS
        return await self._send("seller.offer", {"order_id": self.id, "refund_id": self.refund_id, "offer": offer,
                                                 "message": message}, ("seller", self.seller))

    async def offered(self, **match: Any) -> Seen:
        seen = await self.expect("seller.offered", **match)
        self.offer_id = seen["offer_id"]
        return seen

    async def buyer_accepts_offer(self, offer_id: str | None = None) -> dict[str, Any]:
        return await self._send("offer.accept", {"order_id": self.id, "refund_id": self.refund_id,
                                                 "offer_id": offer_id or self.offer_id}, ("buyer", self.buyer))

    async def buyer_declines_offer(self, offer_id: str | None = None, message: str = "我只接受全额退款") -> dict[str, Any]:
        return await self._send("offer.decline", {"order_id": self.id, "refund_id": self.refund_id,
                                                  "offer_id": offer_id or self.offer_id, "message": message},
                                ("buyer", self.buyer))

    async def posts(self, party: str, text: str, attachments: list[dict[str, str]] | None = None,
                    actor: tuple[str, str] | None = None) -> dict[str, Any]:
        who = actor or (party, self.buyer if party == "buyer" else self.seller)
        return await self._send("conversation.post", {"order_id": self.id, "refund_id": self.refund_id, "text": text,
                                                      "attachments": attachments or []}, who)

    # -- asking the platform (平台介入) --
    async def buyer_escalates(self, description: str = "商家拒绝退款，理由不成立", evidence: list[dict[str, str]] | None = None,
                              reason: str = "seller_rejected_unfairly", demands: list[str] | None = None) -> dict[str, Any]:
        data = {"order_id": self.id, "refund_id": self.refund_id, "reason": reason, "description": description,
                "evidence": [PHOTO, CHAT] if evidence is None else evidence}
        if demands:
            data["demands"] = demands
        return await self._send("intervention.request", data, ("buyer", self.buyer))

    async def arbitrator_holds(self, party: str, release: bool = False, arbitrator: str = "ARB-1",
                               reason: str = "调查期间冻结") -> dict[str, Any]:
        return await self._send("funds.release" if release else "funds.hold", {
            "order_id": self.id, "case_id": self.case_id, "party": party, "reason": reason}, ("arbitrator", arbitrator))

    async def seller_escalates(self, reason: str = "malicious_complaint", with_refund: bool = True,
                               description: str = "买家恶意投诉") -> dict[str, Any]:
        data = {"order_id": self.id, "reason": reason, "description": description, "evidence": [CHAT]}
        if with_refund:
            data["refund_id"] = self.refund_id
        return await self._send("intervention.request", data, ("seller", self.seller))

    async def case_opened(self, **match: Any) -> Any:
        seen = await self.expect("case.opened", **match)
        self.case_id = seen["case_id"]
        return seen

    async def submits_evidence(self, party: str, description: str = "补充凭证",
                               evidence: list[dict[str, str]] | None = None, done: bool = False) -> dict[str, Any]:
        who = (party, self.buyer if party == "buyer" else self.seller)
        return await self._send("evidence.submit", {"order_id": self.id, "case_id": self.case_id,
                                                    "description": description, "evidence": evidence or [PHOTO],
                                                    "done": done}, who)

    async def platform_opens_case(self, reason: str = "counterfeit", description: str = "抽检鉴定为假货",
                                  arbitrator: str = "ARB-1") -> dict[str, Any]:
        """The platform opens a case of its own on the order (主动介入, `case.open`)."""
        return await self._send("case.open", {"order_id": self.id, "reason": reason, "description": description,
                                              "evidence": [PHOTO]}, ("arbitrator", arbitrator))

    async def arbitrator_rules(self, outcome: str, arbitrator: str = "ARB-1", refund_fen: int | None = None,
                               shipping: str = "seller", seller_at_fault: bool = True,
                               reasoning: str = "卖家拒绝理由不成立", actor: tuple[str, str] | None = None,
                               **costs: Any) -> dict[str, Any]:
        """`costs`: return_shipping_fen, misconduct, penalty_fen (what the ruling costs, if any)."""
        data: dict[str, Any] = {"order_id": self.id, "case_id": self.case_id, "outcome": outcome,
                                "return_shipping_paid_by": shipping, "seller_at_fault": seller_at_fault,
                                "reasoning": reasoning, **costs}
        if refund_fen is not None:
            data["refund_fen"] = refund_fen
        return await self._send("ruling.decide", data, actor or ("arbitrator", arbitrator))

    async def appeals(self, party: str, description: str = "申诉：有新证据") -> dict[str, Any]:
        who = (party, self.buyer if party == "buyer" else self.seller)
        return await self._send("ruling.appeal", {"order_id": self.id, "case_id": self.case_id,
                                                  "description": description, "evidence": [PHOTO]}, who)

    async def case_awaiting_ruling(self, **request: Any) -> Any:
        """The usual road to an arbitrator: asked, refused by the seller, escalated by the buyer,
        answered by the seller in the evidence window, then queued for a ruling."""
        await self.buyer_requests(**request)
        await self.requested()
        await self.seller_rejects()
        await self.state("rejected")
        await self.buyer_escalates()
        await self.case_opened()
        await self.submits_evidence("seller")
        return await self.expect("case.awaiting_ruling", case_id=self.case_id, timeout=20)

    async def platform_case_awaiting_ruling(self) -> Any:
        """The platform's own road (主动介入): a counterfeit case opened, both parties done with their
        evidence, then queued for a ruling."""
        await self.platform_opens_case()
        await self.case_opened(opened_by="platform")
        await self.submits_evidence("seller", "有进货凭证", done=True)
        await self.submits_evidence("buyer", "收到的商品做工粗糙", done=True)
        return await self.expect("case.awaiting_ruling", case_id=self.case_id, timeout=20)

    # -- what happens --
    async def expect(self, type_: str, **match: Any) -> Seen:
        return await self.bus.expect(type_, order_id=self.id, **match)

    async def expect_none(self, type_: str, within: float = 3.0, **match: Any) -> None:
        await self.bus.expect_none(type_, within=within, order_id=self.id, **match)

    async def requested(self, attempt: int = 1) -> Seen:
        seen = await self.expect("refund.requested", attempt=attempt)
        self.refund_id = seen["refund_id"]
        return seen

    async def state(self, state: str, **match: Any) -> Seen:
        return await self.expect("refund.state_changed", state=state, **match)

    async def rejection_of(self, command: dict[str, Any], timeout: float = 20.0) -> Seen:
        return await self.bus.expect("command.rejected", command_event_id=command["event_id"], timeout=timeout)

    async def payout(self, count: int = 1) -> Seen:
        return await self.bus.expect("payout.request", order_id=self.id, count=count)

    async def _send(self, type_: str, data: dict[str, Any], actor: tuple[str, str]) -> dict[str, Any]:
        env = await self.bus.send(type_, data, actor, correlation_id=self.refund_id)
        self.commands.append(env)
        return env


@dataclass
class Market:
    bus: Bus
    # Optional: wait until the platform has recorded a paid (and shipped) order, as a buyer app sees
    # it before it offers a refund (orders.events and refund.commands are different topics).
    recorded: Callable[[str, bool], Awaitable[bool]] | None = None

    async def paid_order(self, amount_fen: int = 12900, buyer: str | None = None, seller: str | None = None,
                         shipped: bool = True, order_id: str | None = None, ship_by: str | None = None) -> Order:
        """A paid order, shipped unless asked otherwise (a refund before shipment is a cancellation);
        `ship_by`: the date it must ship by (order.paid's, contract version 3)."""
        order = Order(self.bus, order_id or unique("O"), buyer or unique("B"), seller or unique("S"), amount_fen)
        paid = {"order_id": order.id, "buyer_id": order.buyer, "seller_id": order.seller, "amount_fen": amount_fen,
                "currency": "CNY", "paid_at": "2026-11-20T08:00:00Z",
                "items": [{"sku": "SKU-1", "title": "保温杯", "qty": 1, "price_fen": amount_fen}]}
        if ship_by:
            paid["ship_by"] = ship_by
        await self.bus.send("order.paid", paid, ("system", "order-system"), validate=True)
        if shipped:
            await self.order_shipped(order)
        if self.recorded is not None:
            for _ in range(200):
                if await self.recorded(order.id, shipped):
                    break
                await asyncio.sleep(0.05)
        return order

    async def order_shipped(self, order: Order) -> None:
        await self.bus.send("order.shipped", {"order_id": order.id, "carrier": "ZTO", "tracking_no": "ZT100",
                                              "shipped_at": "2026-11-21T08:00:00Z"}, ("system", "order-system"),
                            validate=True)


@dataclass
class PaymentSystem:
    """Playing the payment system by hand: answering each payout request explicitly."""

    bus: Bus

    async def pay(self, request: Seen) -> None:
        d = request.data
        await self.bus.send("payout.succeeded", {"payout_id": d["payout_id"], "order_id": d["order_id"],
                                                 "amount_fen": d["amount_fen"]}, ("system", "payment-system"),
                            correlation_id=request.env.get("correlation_id") if request.env else None)

    async def fail(self, request: Seen, code: str = "bank_timeout") -> None:
        d = request.data
        await self.bus.send("payout.failed", {"payout_id": d["payout_id"], "order_id": d["order_id"], "code": code,
                                              "message": "银行系统繁忙"}, ("system", "payment-system"))
