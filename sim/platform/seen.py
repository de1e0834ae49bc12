"""What the people of an order know of it: only what the platform's public events told them
(refund, offer and case ids, states), from which the actors fill in their commands."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RefundSeen:
    refund_id: str
    kind: str
    amount_fen: int
    state: str = "requested"
    offers: list[str] = field(default_factory=list)


@dataclass
class CaseSeen:
    case_id: str
    refund_id: str | None
    status: str = "collecting_evidence"
    ruled_by: set[str] = field(default_factory=set)
    claimed_by: str | None = None


@dataclass
class OrderSeen:
    """What the people of one order know of it from the platform's public events."""

    order_id: str
    buyer_id: str
    seller_id: str
    paid_fen: int
    paid: bool = False
    shipped: bool = False
    delivered: bool = False
    refunds: dict[str, RefundSeen] = field(default_factory=dict)
    cases: dict[str, CaseSeen] = field(default_factory=dict)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (user id, message id) in the inboxes
    complaints: list[str] = field(default_factory=list)  # filed against this order's shop (ids sent)

    def learn(self, type_: str, d: dict[str, Any]) -> None:
        rid = d.get("refund_id")
        if type_ == "message.sent":
            self.messages.append((d["user_id"], d["message_id"]))
        elif type_ == "refund.requested":
            self.refunds[rid] = RefundSeen(rid, d["kind"], d["amount_fen"])
        elif type_ == "refund.state_changed" and rid in self.refunds:
            self.refunds[rid].state = d["state"]
            self.refunds[rid].kind = d["kind"]
        elif type_ == "seller.offered" and rid in self.refunds:
            self.refunds[rid].offers.append(d["offer_id"])
        elif type_ == "case.opened":
            self.cases[d["case_id"]] = CaseSeen(d["case_id"], d.get("refund_id"))
        elif type_ in ("case.claimed", "case.released") and d.get("case_id") in self.cases:
            self.cases[d["case_id"]].claimed_by = d["arbitrator_id"] if type_ == "case.claimed" else None
        elif type_ in ("case.awaiting_ruling", "ruling.issued", "ruling.appealed", "case.closed",
                       "evidence.requested") and d.get("case_id") in self.cases:
            case = self.cases[d["case_id"]]
            case.status = {"case.awaiting_ruling": "awaiting_ruling", "ruling.issued": "ruled",
                           "ruling.appealed": "collecting_evidence", "case.closed": "closed",
                           "evidence.requested": "collecting_evidence"}[type_]
            if type_ == "ruling.issued":
                case.ruled_by.add(d["decided_by"])
