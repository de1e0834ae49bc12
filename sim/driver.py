"""Disputes that play themselves: each party reacts to the state the dispute is in, so a dispute
reaches its end whatever order events arrive in, and however often services die meanwhile.
Used by the crash tests and the benchmark."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sim.bus import Bus, Seen
from sim.story import Market, Order

PLANS = ("approve", "reject_escalate", "silent", "return")
# Refusals that only mean "not yet": another service has not heard the news. An app retries.
NOT_YET = frozenset({"not_escalatable", "unknown_refund", "unknown_order", "unknown_case"})
RETRIES = 5


@dataclass
class Dispute:
    plan: str
    order: Order
    done: asyncio.Event = field(default_factory=asyncio.Event)
    closed_why: str | None = None
    acted: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    reacting: asyncio.Task[None] | None = None  # the latest reaction; the next one waits for it

    @property
    def refund_id(self) -> str | None:
        return self.order.refund_id


class Follower:
    """Reacts to every message the bus sees from the moment it starts, in order, in one task."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._cursor = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._cursor = self.bus.mark
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            while self._cursor < len(self.bus.seen):
                s = self.bus.seen[self._cursor]
                if not await self.on_message(s):
                    await asyncio.sleep(0.5)  # could not act now (the broker is away): try it again
                    break
                self._cursor += 1
            await asyncio.sleep(0.02)

    async def on_message(self, s: Seen) -> bool:
        """Returns False to see the same message again later."""
        raise NotImplementedError


class Driver(Follower):
    """Watches the bus and moves every dispute along; one task for all disputes."""

    def __init__(self, bus: Bus, arbitrators: tuple[str, ...] = ("ARB-1", "ARB-2")) -> None:
        super().__init__(bus)
        self.market = Market(bus)
        self.disputes: dict[str, Dispute] = {}
        self.arbitrators = arbitrators

    async def stop(self) -> None:
        await super().stop()
        for d in self.disputes.values():
            if d.reacting is not None:
                d.reacting.cancel()

    async def open(self, plan: str, amount_fen: int = 10000) -> Dispute:
        order = await self.market.paid_order(amount_fen=amount_fen)
        d = Dispute(plan, order)
        self.disputes[order.id] = d
        kind = "return_and_refund" if plan == "return" else "refund_only"
        await order.buyer_requests(kind=kind, amount_fen=amount_fen)
        return d

    async def on_message(self, s: Seen) -> bool:
        d = self.disputes.get(s.data.get("order_id")) if s.env else None
        if d is not None and not d.done.is_set():
            # Each dispute reacts in order, and the disputes side by side: a reaction waits for its
            # send to be acknowledged, and one after another they held up every dispute behind them
            # (make bench at 100 disputes/s: seconds between a message and the seller's answer).
            d.reacting = asyncio.create_task(self._react_after(d, d.reacting, s))
        return True

    async def _react_after(self, d: Dispute, previous: asyncio.Task[None] | None, s: Seen) -> None:
        if previous is not None:
            await previous
        try:
            await self._react(d, s)
        except Exception as e:  # noqa: BLE001 - recorded; the test or benchmark reports it
            d.errors.append(repr(e))

    async def _once(self, d: Dispute, step: str) -> bool:
        if step in d.acted:
            return False
        d.acted.add(step)
        return True

    async def _retry_later(self, d: Dispute, command: dict[str, Any]) -> None:
        await asyncio.sleep(1.0)
        if not d.done.is_set():
            role_id = (command["actor"]["role"], command["actor"]["id"])
            d.order.commands.append(await self.bus.send(command["type"], command["data"], role_id,
                                                        correlation_id=command.get("correlation_id")))

    async def _react(self, d: Dispute, s: Seen) -> None:
        o = d.order
        if s.type == "command.rejected":
            command = next((c for c in o.commands if c["event_id"] == s["command_event_id"]), None)
            tries = sum(1 for step in d.acted if step.startswith(f"retry:{s['command_type']}"))
            if command is not None and s["code"] in NOT_YET and tries < RETRIES:
                d.acted.add(f"retry:{s['command_type']}:{tries}")
                asyncio.get_running_loop().create_task(self._retry_later(d, command))
            return
        if s.type == "refund.requested":
            o.refund_id = s["refund_id"]
            if d.plan in ("approve", "return") and await self._once(d, "approve"):
                await o.seller_approves()
            elif d.plan == "reject_escalate" and await self._once(d, "reject"):
                await o.seller_rejects(reason="subjective")
        elif s.type == "refund.state_changed":
            st = s["state"]
            if st == "rejected" and await self._once(d, "escalate"):
                await o.buyer_escalates()
            elif st == "return_pending" and await self._once(d, f"ship:{s['cause']}"):
                await o.buyer_ships_return()
            elif st == "return_in_transit" and await self._once(d, "receive"):
                await o.seller_receives_return()
            elif st == "closed":
                d.closed_why = s["closed_why"]
                d.finished = time.monotonic()
                d.done.set()
        elif s.type == "case.opened":
            o.case_id = s["case_id"]
            if s["opened_by"] == "buyer" and await self._once(d, "evidence"):
                await o.submits_evidence("seller", "卖家补充凭证")
        elif s.type == "case.awaiting_ruling" and await self._once(d, f"rule:{s['round']}"):
            o.case_id = s["case_id"]
            await o.arbitrator_rules("full_refund", arbitrator=self.arbitrators[s["round"] - 1],
                                     refund_fen=o.amount_fen, seller_at_fault=True)


class PayOnce(Follower):
    """A payment system that, like a real one deduplicating on `payout_id`, pays each id once and
    acknowledges repeats without paying again."""

    def __init__(self, bus: Bus) -> None:
        super().__init__(bus)
        self.paid: dict[str, int] = {}
        self.requests: dict[str, int] = {}

    async def on_message(self, s: Seen) -> bool:
        if s.type != "payout.request":
            return True
        d: dict[str, Any] = s.data
        self.paid.setdefault(d["payout_id"], d["amount_fen"])
        try:
            await self.bus.send("payout.succeeded", {"payout_id": d["payout_id"], "order_id": d["order_id"],
                                                     "amount_fen": self.paid[d["payout_id"]]}, ("system", "payment-system"))
        except Exception:  # noqa: BLE001 - the broker is restarting: answer this request again later
            return False
        self.requests[d["payout_id"]] = self.requests.get(d["payout_id"], 0) + 1
        return True
