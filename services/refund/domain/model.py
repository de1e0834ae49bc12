"""The refund service's aggregate: one document per order with its after-sale requests."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.refund import ReturnReceiver

State = Literal[
    "requested", "offer_pending", "rejected", "in_arbitration", "return_pending", "return_in_transit",
    "replacement_pending", "payout_pending", "payout_failed", "closed",
]
OPEN_STATES: frozenset[str] = frozenset(set(State.__args__) - {"closed"})  # type: ignore[attr-defined]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)


class Parcel(Model):
    carrier: str
    tracking_no: str
    at: datetime


class Ruling(Model):
    case_id: str
    outcome: str
    refund_fen: int
    decided_by: str
    round: int
    final: bool
    appealable_until: datetime | None = None
    return_shipping_paid_by: str | None = None
    seller_at_fault: bool = False


class OfferRecord(Model):
    """A seller's counter-offer and what became of it."""

    offer_id: str
    kind: str
    amount_fen: int | None = None
    message: str = ""
    at: datetime
    buyer_due_at: datetime
    status: Literal["open", "accepted", "declined", "lapsed", "replaced"] = "open"
    answered_at: datetime | None = None
    answer: str = ""  # the buyer's message when declining
    return_address: dict[str, Any] | None = None  # where goods go back, for an offer that sends them


class Settlement(Model):
    """Money a later ruling moves after an earlier one was carried out: a top-up to the buyer, or
    the platform's compensation to the seller. Its own stable payout id, paid once."""

    payout_id: str
    purpose: Literal["appeal_top_up", "seller_compensation", "return_shipping", "compensation"]
    amount_fen: int
    payee_id: str
    round: int
    attempts: int = 1
    status: Literal["requested", "paid", "failed"] = "requested"
    errors: list[str] = Field(default_factory=list)


class CaseCompensation(Model):
    """What a case awards the buyer beyond any refund (compensation.py), and its payouts."""

    case_id: str
    refund_id: str | None = None
    buyer_id: str
    seller_id: str
    awarded_fen: int = 0  # what the latest ruling carried out awards
    round: int = 0  # the latest ruling carried out
    payouts: list[Settlement] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # for operators: a payout that kept failing

    @property
    def requested_fen(self) -> int:
        return sum(p.amount_fen for p in self.payouts)


class Post(Model):
    """One post of the request's conversation (协商记录). Its text and attachments are kept by
    reference (runtime/api/payloads.py): the query model's `posts` holds them, one document a post."""

    post_id: str
    author_role: str
    author_id: str
    at: datetime
    text: str = ""  # only in requests recorded before posts were kept by reference
    attachments: list[dict[str, Any]] = Field(default_factory=list)


class Refund(Model):
    refund_id: str
    kind: str
    reason: str
    amount_fen: int
    refund_to: str
    description: str = ""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    attempt: int = 1
    state: State = "requested"
    awaiting: str = "seller"
    due_at: datetime | None = None
    timer: str | None = None  # the deadline that fires at `due_at`, if this service owns it
    fires_at: datetime | None = None  # when it fires, if later than `due_at` (a grace: transitions.GRACE)
    created_at: datetime
    updated_at: datetime
    seller_rejection: dict[str, Any] | None = None
    case_id: str | None = None
    case_final: bool = False  # the case is closed: its last ruling stands, no appeal can change it
    rulings: list[Ruling] = Field(default_factory=list)
    returned: Parcel | None = None
    return_received_by: ReturnReceiver | None = None
    replacement: Parcel | None = None
    postage_fen: int = 0  # what the buyer says it paid to send the goods back
    postage_paid_by: str | None = None  # who bears the return postage: "seller", "platform" or "buyer"
    postage_ruled_fen: int = 0  # the postage a ruling states, if it does
    return_address: dict[str, Any] | None = None  # where the goods go back (the seller's word, or a ruling's)
    offers: list[OfferRecord] = Field(default_factory=list)
    remedy: str | None = None  # the offer kind the buyer accepted, if the request goes on as one
    posts: list[Post] = Field(default_factory=list)
    payout_id: str | None = None
    payout_fen: int = 0
    awarded_fen: int = 0  # what the latest word (approval, offer or ruling) gives the buyer
    settlements: list[Settlement] = Field(default_factory=list)
    payout_attempts: int = 0
    payout_errors: list[str] = Field(default_factory=list)
    paid_fen: int = 0
    closed_why: str | None = None
    cancelled_while: str | None = None  # the state the buyer withdrew it in
    # Withdrawn: whether the arbitration service said what stood on it (withdrawal.noted), and if
    # a 'no' did, which makes it final. True for requests withdrawn before the service waited for it.
    withdrawal_noted: bool = True
    final_no: bool = False
    notes: list[str] = Field(default_factory=list)  # for operators: what was not done automatically

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def promised_fen(self) -> int:
        """What the buyer has or will have from this request (an exchange's goods worth what was asked):
        what was paid, when it closed without paying the rest; otherwise its latest award, or more
        while an earlier word runs its course (its own refund and top-ups, paid or on their way:
        buyers are never clawed back)."""
        if self.state == "closed" and self.closed_why != "completed":
            return self.paid_fen
        running = self.payout_fen + sum(s.amount_fen for s in self.settlements if s.purpose == "appeal_top_up")
        if self.kind == "exchange" and self.payout_id is None and (
                self.state in ("return_in_transit", "replacement_pending") or self.replacement is not None):
            running += self.amount_fen  # a replacement on its way, or shipped
        return max(self.awarded_fen, running)

    @property
    def open_offer(self) -> OfferRecord | None:
        return next((o for o in reversed(self.offers) if o.status == "open"), None)


class OrderFacts(Model):
    buyer_id: str
    seller_id: str
    paid_fen: int
    currency: str = "CNY"
    paid_at: datetime
    ship_by: datetime | None = None
    shipped: Parcel | None = None
    delivered_at: datetime | None = None


class OrderRefunds(Model):
    """The aggregate. `order` is None until `order.paid` is seen."""

    order_id: str
    order: OrderFacts | None = None
    refunded_fen: int = 0  # money that reached the buyer
    nos: int = 0  # times the order's requests were answered "no" (rejected, an offer declined or lapsed)
    open_refund_id: str | None = None
    refunds: dict[str, Refund] = Field(default_factory=dict)
    compensations: dict[str, CaseCompensation] = Field(default_factory=dict)  # key: case_id

    @property
    def open_refund(self) -> Refund | None:
        return self.refunds.get(self.open_refund_id) if self.open_refund_id else None

    def committed_fen(self, excluding: str | None = None) -> int:
        """Money promised to the buyer and not paid yet (by any request but `excluding`): what open
        requests promise, and the top-ups on their way for closed ones."""
        out = 0
        for r in self.refunds.values():
            if r.refund_id == excluding:
                continue
            if r.is_open:
                out += max(0, r.promised_fen() - r.paid_fen)
            else:
                out += sum(s.amount_fen for s in r.settlements if s.purpose == "appeal_top_up" and s.status != "paid")
        return out

    def refundable_fen(self, excluding: str | None = None) -> int:
        """What the order can still give back: paid, less what reached the buyer and what is promised
        (by every request but `excluding`, when asked for that one's own payout)."""
        if self.order is None:
            return 0
        return max(0, self.order.paid_fen - self.refunded_fen - self.committed_fen(excluding))

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "OrderRefunds":
        return cls.model_validate(state) if state else cls(order_id=key)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")
