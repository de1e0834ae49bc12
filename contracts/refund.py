"""`refund.commands` (buyer app, operators) and `refund.events` (refund service)."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, StrictInt, StrictStr

from contracts.common import (
    Awaiting, ClosedWhy, Data, Description, EvidenceList, Fen, Id, NonNegativeFen, RefundKind,
    RefundReason, RefundTo, ShortText,
)

# ---- commands -------------------------------------------------------------------------------


class RefundRequest(Data):
    order_id: Id
    kind: RefundKind
    reason: RefundReason
    amount_fen: Fen
    refund_to: RefundTo
    description: Description
    evidence: EvidenceList


class RefundCancel(Data):
    order_id: Id
    refund_id: Id


class ReturnShipped(Data):
    order_id: Id
    refund_id: Id
    carrier: ShortText
    tracking_no: ShortText


class PayoutRetry(Data):
    """Internal: an operator re-triggers a request parked as `payout_failed`."""

    order_id: Id
    refund_id: Id


# ---- events ---------------------------------------------------------------------------------


class RefundRequested(Data):
    order_id: Id
    refund_id: Id
    kind: RefundKind
    reason: RefundReason
    amount_fen: Fen
    seller_id: Id
    buyer_id: Id
    seller_due_at: AwareDatetime
    # extras, not in the external contract
    refund_to: RefundTo | None = None
    attempt: StrictInt = 1
    evidence_count: StrictInt = 0
    description: Description | None = None
    evidence: EvidenceList = []
    refundable_fen: NonNegativeFen | None = None  # paid minus already refunded, when requested


class RefundCompleted(Data):
    order_id: Id
    refund_id: Id
    amount_fen: Fen
    refund_to: RefundTo


class RefundClosed(Data):
    order_id: Id
    refund_id: Id
    why: ClosedWhy


RefundState = Literal[
    "requested", "rejected", "in_arbitration", "return_pending", "return_in_transit",
    "replacement_pending", "payout_pending", "payout_failed", "completed", "closed",
]


class RefundStateChanged(Data):
    """Internal: every transition of an after-sale request, saying whose move it is and until when."""

    order_id: Id
    refund_id: Id
    state: RefundState
    previous_state: RefundState | None
    awaiting: Awaiting
    due_at: AwareDatetime | None
    kind: RefundKind
    amount_fen: NonNegativeFen
    buyer_id: Id
    seller_id: Id
    cause: StrictStr = Field(max_length=64, description="the event type that caused the change")
    return_carrier: ShortText | None = None
    return_tracking_no: ShortText | None = None
    payout_id: Id | None = None
    payout_attempts: StrictInt = 0
    closed_why: ClosedWhy | None = None


class PayoutRequested(Data):
    """Internal mirror on `refund.events` of each `payout.request`, so the order's story is on one topic."""

    order_id: Id
    refund_id: Id
    payout_id: Id
    amount_fen: Fen
    attempt: StrictInt
