"""The arbitration service's aggregate: one document per order with its cases and the facts
a case gathers (the request, the seller's rejection, the order)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import CaseOpener

Status = Literal["collecting_evidence", "awaiting_ruling", "ruled", "closed"]
Party = Literal["buyer", "seller"]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Submission(Model):
    party: Party | Literal["platform"]  # the platform files what opened a case of its own
    at: datetime
    description: str = ""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    round: int = 1
    # "with_request" (the buyer's evidence filed with the request), "rejection" (the seller's, with
    # its rejection), "filing" (opening the case), "evidence", "appeal", "request" (the arbitrator
    # asked this party for more)
    kind: str = "evidence"


class RulingRecord(Model):
    round: int
    outcome: str
    refund_fen: int
    return_shipping_paid_by: str
    seller_at_fault: bool
    reasoning: str
    decided_by: str
    at: datetime
    appealable_until: datetime | None = None
    final: bool = False
    return_shipping_fen: int = 0
    misconduct: str = "none"
    penalty_fen: int = 0
    compensation_fen: int = 0
    sanction: dict[str, Any] | None = None  # party, level, days (contracts.arbitration.Sanction)


class Hold(Model):
    """A party's settlement of the order held during the case (冻结), until released or the case ends."""

    hold_id: str
    party: Party
    reason: str
    at: datetime
    released_at: datetime | None = None


class RequestFacts(Model):
    """What the arbitration service knows of an after-sale request, from refund.events."""

    refund_id: str
    kind: str
    reason: str
    amount_fen: int
    refundable_fen: int | None = None
    requested_at: datetime | None = None
    state: str = "requested"
    due_at: datetime | None = None
    attempt: int = 1
    description: str = ""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    seller_rejection: dict[str, Any] | None = None
    # The negotiation before the case, in order: offers, the buyer's answers, the conversation.
    negotiation: list[dict[str, Any]] = Field(default_factory=list)
    declined_full_offer: bool = False  # the buyer turned down an offer worth what it asked


def claim_holder(claimed_by: str | None, claimed_until: datetime | None, now: datetime) -> str | None:
    """Who holds a claim at `now`: its arbitrator until it lapses. The case and its documents in
    the query model (which the workbench reads) answer with this one rule."""
    return claimed_by if claimed_until is not None and now < claimed_until else None


class Case(Model):
    case_id: str
    refund_id: str | None
    opened_by: CaseOpener
    reason: str
    opened_at: datetime
    status: Status = "collecting_evidence"
    round: int = 1
    evidence_due: dict[str, datetime] = Field(default_factory=dict)  # party -> deadline this round
    submitted: dict[str, bool] = Field(default_factory=dict)  # party -> met its deadline this round
    done: dict[str, bool] = Field(default_factory=dict)  # party -> said it has nothing more this round
    submissions: list[Submission] = Field(default_factory=list)
    # What each party sent as evidence.submit is kept by reference (payloads.py): how many, and how
    # many evidence items; the n-th of the case is its document `<case_id>/<n>`.
    filed: dict[str, int] = Field(default_factory=dict)
    filed_items: dict[str, int] = Field(default_factory=dict)
    ruling_due_at: datetime | None = None
    overdue: bool = False  # still unruled when the ruling was due
    rulings: list[RulingRecord] = Field(default_factory=list)
    appeals: list[Party] = Field(default_factory=list)  # who appealed, in order; each party once
    # The arbitrator working on the case, until when (claims.py). An expired claim is no claim.
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    closed_why: str | None = None
    demands: dict[str, list[str]] = Field(default_factory=dict)  # party -> what it asked of the platform
    holds: list[Hold] = Field(default_factory=list)

    def held(self, party: str) -> Hold | None:
        return next((h for h in self.holds if h.party == party and h.released_at is None), None)

    @property
    def open(self) -> bool:
        return self.status != "closed"

    def evidence_count(self, party: str) -> int:
        return self.filed_items.get(party, 0) + sum(len(s.evidence) for s in self.submissions if s.party == party)

    def holder(self, now: datetime) -> str | None:
        """Who holds the case's claim now, if anyone."""
        return claim_holder(self.claimed_by, self.claimed_until, now)

    def ruled_by(self) -> set[str]:
        return {r.decided_by for r in self.rulings}

    @property
    def last_ruling(self) -> RulingRecord | None:
        return self.rulings[-1] if self.rulings else None


class ArbitrationOrder(Model):
    order_id: str
    buyer_id: str | None = None
    seller_id: str | None = None
    paid_fen: int | None = None
    # What an arbitrator reads of the order: its items, how it was shipped, when it arrived.
    items: list[dict[str, Any]] = Field(default_factory=list)
    ship_by: datetime | None = None  # the order's ship-by date (v3), if it had one
    shipped: dict[str, Any] | None = None  # carrier, tracking_no, shipped_at
    delivered_at: datetime | None = None
    requests: dict[str, RequestFacts] = Field(default_factory=dict)
    # Offers, answers and posts that arrived (on other topics) before their request did.
    early_negotiation: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    cases: dict[str, Case] = Field(default_factory=dict)
    # A case that ruled 'reject' on a request the buyer withdrew afterwards: the order's final 'no'.
    final_no: str | None = None
    # Denormalised for the arbitrators' queue: the earliest ruling due among cases awaiting one.
    queue_due_at: datetime | None = None

    def open_case_for(self, refund_id: str | None) -> Case | None:
        return next((c for c in self.cases.values() if c.open and c.refund_id == refund_id), None)

    def last_ruled_on(self, refund_id: str | None) -> Case | None:
        """The case that ruled last on a request, if one did: a request is ruled on in one case."""
        ruled = [c for c in self.cases.values() if c.refund_id == refund_id and c.rulings]
        return max(ruled, key=lambda c: c.rulings[-1].at, default=None)

    def party_of(self, role: str, actor_id: str) -> Party | None:
        if role == "buyer" and actor_id == self.buyer_id:
            return "buyer"
        if role == "seller" and actor_id == self.seller_id:
            return "seller"
        return None

    def user_of(self, party: str) -> str | None:
        return self.buyer_id if party == "buyer" else self.seller_id

    def refresh_queue(self) -> None:
        dues = [c.ruling_due_at for c in self.cases.values() if c.status == "awaiting_ruling" and c.ruling_due_at]
        self.queue_due_at = min(dues) if dues else None

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "ArbitrationOrder":
        return cls.model_validate(state) if state else cls(order_id=key)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")
