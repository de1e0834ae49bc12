"""The payment system as the simulation plays it: it reads `payments.commands`, pays each
`payout_id` at most once (as a payment system deduplicating on it would), and answers at random:
paid, failed, late, or twice. Its ledger is what the money invariants read."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from contracts import topics as T
from contracts.build import encode, envelope
from sim.platform.world import Clock, Log, Logged


@dataclass
class Payout:
    payout_id: str
    order_id: str
    refund_id: str
    amount_fen: int
    purpose: str
    payee_id: str
    requests: int = 1
    paid: bool = False


@dataclass
class Deduction:
    deduction_id: str
    order_id: str
    seller_id: str
    case_id: str
    amount_fen: int
    reason: str
    refunded: bool = False


@dataclass
class Hold:
    hold_id: str
    case_id: str
    party: str
    releases: int = 0


@dataclass
class Payments:
    log: Log
    clock: Clock
    rng: random.Random
    fail_share: float = 0.15
    twice_share: float = 0.05
    position: dict[int, int] = field(default_factory=dict)
    inbox: list[Logged] = field(default_factory=list)  # requests read, not yet answered
    payouts: dict[str, Payout] = field(default_factory=dict)
    deductions: dict[str, Deduction] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what a payment system would refuse
    on_paid: list[Callable[[Payout], None]] = field(default_factory=list)
    reliable: bool = False  # while draining: every payout succeeds
    _n: int = 0

    def read(self) -> int:
        """Take what the platform committed to payments.commands since the last read."""
        n = 0
        for (topic, p), records in list(self.log.parts.items()):
            if topic != T.PAYMENTS_COMMANDS:
                continue
            for r in records[self.position.get(p, 0):]:
                self._take(r)
                n += 1
            self.position[p] = len(records)
        return n

    def _take(self, r: Logged) -> None:
        env = r.envelope
        d, type_ = env["data"], env["type"]
        if type_ == "payout.request":
            known = self.payouts.get(d["payout_id"])
            if known is None:
                self.payouts[d["payout_id"]] = Payout(d["payout_id"], d["order_id"], d["refund_id"], d["amount_fen"],
                                                      d["purpose"], d["payee_id"])
            else:
                known.requests += 1
                if (known.amount_fen, known.purpose, known.payee_id) != (d["amount_fen"], d["purpose"], d["payee_id"]):
                    self.problems.append(f"payout {known.payout_id} asked again with other terms: {known.amount_fen} "
                                         f"{known.purpose} to {known.payee_id}, now {d['amount_fen']} {d['purpose']} "
                                         f"to {d['payee_id']}")
            self.inbox.append(r)
        elif type_ == "deposit.deduct":
            if d["deduction_id"] not in self.deductions:
                self.deductions[d["deduction_id"]] = Deduction(d["deduction_id"], d["order_id"], d["seller_id"],
                                                               d["case_id"], d["amount_fen"], d["reason"])
        elif type_ == "settlement.hold":
            if d["hold_id"] in self.holds:
                self.problems.append(f"hold {d['hold_id']} asked for twice")
            else:
                self.holds[d["hold_id"]] = Hold(d["hold_id"], d["case_id"], d["party"])
        elif type_ == "settlement.release":
            hold = self.holds.get(d["hold_id"])
            if hold is None:
                self.problems.append(f"settlement.release of unknown hold {d['hold_id']}")
            else:
                hold.releases += 1
                if hold.releases > 1:
                    self.problems.append(f"hold {d['hold_id']} released {hold.releases} times")
        elif type_ == "deposit.refund":
            known_d = self.deductions.get(d["deduction_id"])
            if known_d is None:
                self.problems.append(f"deposit.refund of unknown deduction {d['deduction_id']}")
            elif known_d.refunded:
                pass  # once per id: a repeat is ignored, as the contract says
            else:
                known_d.refunded = True

    def pending(self) -> bool:
        return bool(self.inbox)

    def answer_one(self) -> bool:
        """Answer one request read earlier (not necessarily the oldest: answers come late)."""
        if not self.inbox:
            return False
        i = 0 if self.reliable else self.rng.randrange(len(self.inbox))
        r = self.inbox.pop(i)
        d = r.envelope["data"]
        payout = self.payouts[d["payout_id"]]
        if not self.reliable and self.rng.random() < self.fail_share and not payout.paid:
            self._send("payout.failed", {"payout_id": payout.payout_id, "order_id": payout.order_id,
                                         "code": "bank_declined", "message": "the bank declined"}, r.key)
            return True
        first = not payout.paid
        payout.paid = True
        if first:
            for listen in self.on_paid:
                listen(payout)
        answer = {"payout_id": payout.payout_id, "order_id": payout.order_id, "amount_fen": payout.amount_fen}
        self._send("payout.succeeded", answer, r.key)
        if not self.reliable and self.rng.random() < self.twice_share:
            self._send("payout.succeeded", answer, r.key)  # answered twice, under another event id
        return True

    def _send(self, type_: str, data: dict[str, Any], key: bytes) -> None:
        self._n += 1
        env = envelope(type_, data, actor={"role": "system", "id": "payments"}, event_id=f"pay-{self._n}",
                       occurred_at=self.clock(), validate=False)
        self.log.append(T.PAYMENTS_EVENTS, key, encode(env))
