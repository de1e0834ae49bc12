"""`refund.commands` (buyer app, operators) and `refund.events` (refund service)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictBool, StrictInt, StrictStr

from contracts.common import (
    MAX_MESSAGE_LEN, MAX_POST_LEN, Awaiting, ClosedWhy, Data, Description, EvidenceList, Fen, Id, NonNegativeFen,
    Offer, Party, RefundKind, RefundReason, RefundTo, ReturnAddress, ShortText,
)

Message = Annotated[StrictStr, Field(max_length=MAX_MESSAGE_LEN)]
PostText = Annotated[StrictStr, Field(min_length=1, max_length=MAX_POST_LEN)]

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
    postage_fen: NonNegativeFen | None = None  # what the buyer paid to send it back


class OfferAccept(Data):
    """The buyer takes the seller's open offer: the request goes on as that remedy."""

    order_id: Id
    refund_id: Id
    offer_id: Id


class OfferDecline(Data):
    order_id: Id
    refund_id: Id
    offer_id: Id
    message: Message


class ConversationPost(Data):
    """Buyer or seller says something on an open request (text, and evidence if any)."""

    order_id: Id
    refund_id: Id
    text: PostText
    attachments: EvidenceList


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
    auto_approved: bool = False  # a refund before shipment: approved at once, the seller is not asked
    # ... because the order had not shipped by its ship_by: a cancellation for late shipment, which
    # counts against the shop.
    late_shipment: StrictBool = False


class OrderShippedLate(Data):
    """Internal: an order shipped after its ship_by (order.paid), which counts against the shop."""

    order_id: Id
    seller_id: Id
    ship_by: AwareDatetime
    shipped_at: AwareDatetime


class RefundCompleted(Data):
    order_id: Id
    refund_id: Id
    amount_fen: Fen
    refund_to: RefundTo
    # extra, not in the external contract
    buyer_id: Id | None = None


class RefundClosed(Data):
    order_id: Id
    refund_id: Id
    why: ClosedWhy


RefundState = Literal[
    "requested", "offer_pending", "rejected", "in_arbitration", "return_pending", "return_in_transit",
    "replacement_pending", "payout_pending", "payout_failed", "completed", "closed",
]


# What moved a request: the message that did (its type), or one of the refund service's own
# deadlines (`timer.<name>`), or a refund before shipment approved at once (`unshipped_refund`).
RefundCause = Literal[
    "refund.request", "refund.cancel", "return.shipped", "offer.accept", "offer.decline", "payout.retry",
    "seller.approved", "seller.offered", "seller.rejected", "seller.timed_out", "seller.return_received",
    "seller.replacement_shipped", "seller.replacement_expired", "case.opened", "ruling.issued",
    "ruling.appealed", "case.closed", "payout.succeeded", "payout.failed", "unshipped_refund",
    "timer.escalation_expired", "timer.return_ship_expired", "timer.return_confirm_expired", "timer.offer_lapsed",
]
# Who confirmed that the returned goods arrived: the seller, or the refund service when the seller
# let its confirmation window pass.
ReturnReceiver = Literal["seller", "auto"]


class RefundStateChanged(Data):
    """Internal: every transition of an after-sale request, saying whose move it is and until when.
    `return_address`: where the goods go back, once the request waits for them."""

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
    cause: RefundCause = Field(description="the message type or deadline that caused the change")
    return_carrier: ShortText | None = None
    return_tracking_no: ShortText | None = None
    payout_id: Id | None = None
    payout_attempts: StrictInt = 0
    closed_why: ClosedWhy | None = None
    return_received_by: ReturnReceiver | None = None
    return_address: ReturnAddress | None = None

    @property
    def seller_timeout_taken(self) -> bool:
        """The refund service took the seller's timeout (no withdrawal reached it first): what opens
        the automatic case, weighs on the shop and tells the buyer."""
        return self.state == "in_arbitration" and self.previous_state == "requested" and self.cause == "seller.timed_out"


class PayoutRequested(Data):
    """Internal mirror on `refund.events` of each `payout.request`, so the order's story is on one topic."""

    order_id: Id
    refund_id: Id
    payout_id: Id
    amount_fen: Fen
    attempt: StrictInt
    # The promise to the buyer (退款将在几个工作日内退回): paid by then, in working days from the order.
    promised_by: AwareDatetime | None = None


class RefundOfferAccepted(Data):
    order_id: Id
    refund_id: Id
    offer_id: Id
    # extras, not in the external contract
    offer: Offer | None = None


class RefundOfferDeclined(Data):
    order_id: Id
    refund_id: Id
    offer_id: Id
    # extras, not in the external contract
    offer: Offer | None = None
    message: Message = ""


class RefundOfferLapsed(Data):
    """Internal: the buyer let the offer window pass; the request is back as if rejected."""

    order_id: Id
    refund_id: Id
    offer_id: Id
    offer: Offer | None = None
    due_at: AwareDatetime | None = Field(None, description="until when the buyer may resubmit or ask the platform")


class ConversationPosted(Data):
    order_id: Id
    refund_id: Id
    post_id: Id
    author_role: Party
    text: PostText
    attachments: EvidenceList
    # extras, not in the external contract
    author_id: Id | None = None
    buyer_id: Id | None = None
    seller_id: Id | None = None


class OrderCancelRequested(Data):
    """Internal: a refund was asked before the order shipped, so it was approved as a cancellation;
    the order system stops the shipment and cancels the order (未发货仅退款)."""

    order_id: Id
    refund_id: Id
    amount_fen: Fen
    seller_id: Id
    buyer_id: Id


class PostageRepaid(Data):
    """Internal: the buyer's return postage reached the buyer (the seller or the platform bore it)."""

    order_id: Id
    refund_id: Id
    payout_id: Id
    amount_fen: Fen


class CompensationAwarded(Data):
    """Internal: what a case's rulings now award the buyer beyond any refund changed (a ruling that
    the refund service carried out). The seller service draws the seller's deposit to this figure."""

    order_id: Id
    case_id: Id
    refund_id: Id | None = None  # none for a case without a request (the platform's own)
    amount_fen: NonNegativeFen
    previous_fen: NonNegativeFen
    round: StrictInt
    buyer_id: Id
    seller_id: Id


class CompensationPaid(Data):
    """Internal: a compensation payout reached the buyer."""

    order_id: Id
    case_id: Id
    refund_id: Id | None = None
    payout_id: Id
    amount_fen: Fen
    buyer_id: Id


class SellerCompensated(Data):
    """Internal: the platform's compensation reached the seller (a ruling on appeal lowered an award
    the buyer had already received; the buyer keeps it)."""

    order_id: Id
    refund_id: Id
    payout_id: Id
    amount_fen: Fen
    seller_id: Id
