"""The seller service's view of an order: the requests waiting on the seller."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Step = Literal[
    "awaiting_answer", "offered", "approved", "rejected", "timed_out", "awaiting_receipt", "received",
    "awaiting_replacement", "replacement_shipped", "replacement_expired", "not_seller_move", "closed",
]
SELLER_MOVES = frozenset({"awaiting_answer", "awaiting_receipt", "awaiting_replacement"})


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PendingRequest(Model):
    refund_id: str
    kind: str
    amount_fen: int
    reason: str = ""
    attempt: int = 1
    step: Step = "awaiting_answer"
    due_at: datetime | None = None
    # Whether the seller timeout runs (read from `answer_timer` in aggregates written before the name).
    seller_timeout_runs: bool = Field(False, validation_alias=AliasChoices("seller_timeout_runs", "answer_timer"))
    answered_at: datetime | None = None
    offers: int = 0  # counter-offers sent on this request, across resubmissions
    open_offer_id: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class SellerOrder(Model):
    order_id: str
    seller_id: str | None = None
    buyer_id: str | None = None
    requests: dict[str, PendingRequest] = Field(default_factory=dict)

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "SellerOrder":
        return cls.model_validate(state) if state else cls(order_id=key)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")
