"""`seller.commands` (seller backend) and `seller.events` (seller service)."""
from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StrictInt, StrictStr

from contracts.common import (
    MAX_MESSAGE_LEN, Data, EvidenceList, Fen, Id, NonNegativeFen, Offer, ReturnAddress, SellerRejectReason, ShortText,
)

Message = Annotated[StrictStr, Field(max_length=MAX_MESSAGE_LEN)]


class SellerApprove(Data):
    order_id: Id
    refund_id: Id
    return_address: ReturnAddress | None = None  # v3: required when the request needs goods back
    # extra, not in the external contract: the return postage the seller will repay (capped)
    return_shipping_fen: NonNegativeFen | None = None


class SellerReject(Data):
    order_id: Id
    refund_id: Id
    reason: SellerRejectReason
    message: Message
    evidence: EvidenceList


class ReturnReceived(Data):
    order_id: Id
    refund_id: Id


class ReplacementShip(Data):
    """Internal: for an exchange, the seller ships the replacement item."""

    order_id: Id
    refund_id: Id
    carrier: ShortText
    tracking_no: ShortText


class SellerOffer(Data):
    """The seller answers with a counter-offer instead of approving or rejecting (协商)."""

    order_id: Id
    refund_id: Id
    offer: Offer
    message: Message


class SellerApproved(Data):
    order_id: Id
    refund_id: Id
    return_address: ReturnAddress | None = None  # v3
    # extra, not in the external contract
    return_shipping_fen: NonNegativeFen | None = None
    # extras: the parties, so that a reader who has not seen the request yet knows them
    buyer_id: Id | None = None
    seller_id: Id | None = None
    attempt: StrictInt | None = None  # extra: which submission of the request this answers


class SellerRejected(Data):
    order_id: Id
    refund_id: Id
    reason: SellerRejectReason
    message: Message
    evidence: EvidenceList = []
    # extra: the shop is restricted (rejections_reviewed), so the platform reviews this rejection
    reviewed: bool = False
    # extras: the parties, so that a reader who has not seen the request yet knows them
    buyer_id: Id | None = None
    seller_id: Id | None = None
    attempt: StrictInt | None = None  # extra: which submission of the request this answers


class SellerTimedOut(Data):
    order_id: Id
    refund_id: Id
    seller_id: Id | None = None
    due_at: str | None = None


class SellerOffered(Data):
    order_id: Id
    refund_id: Id
    offer_id: Id
    offer: Offer
    message: Message
    buyer_due_at: AwareDatetime
    # extras, not in the external contract
    number: StrictInt = 1  # the seller's first or second offer on this request
    replaces: Id | None = None  # the open offer this one replaces
    # extras: the parties, so that a reader who has not seen the request yet knows them
    buyer_id: Id | None = None
    seller_id: Id | None = None
    attempt: StrictInt | None = None  # extra: which submission of the request this answers


class SellerReturnReceived(Data):
    """Internal: the seller confirmed the returned parcel (or it was confirmed for them)."""

    order_id: Id
    refund_id: Id
    # extras: the parties, so that a reader who has not seen the request yet knows them
    buyer_id: Id | None = None
    seller_id: Id | None = None


class SellerReplacementShipped(Data):
    """Internal: the replacement for an exchange is on its way."""

    order_id: Id
    refund_id: Id
    carrier: ShortText
    tracking_no: ShortText
    # extras: the parties, so that a reader who has not seen the request yet knows them
    buyer_id: Id | None = None
    seller_id: Id | None = None


class SellerReplacementExpired(Data):
    """Internal: the seller did not ship the replacement by its deadline; the buyer is refunded
    instead. The seller service owns the deadline, so a replacement shipped in time and this one
    can never both happen."""

    order_id: Id
    refund_id: Id
    due_at: AwareDatetime
    buyer_id: Id | None = None
    seller_id: Id | None = None


class ShopCreditChanged(Data):
    """Internal: a shop's credit score moved (a defect added or removed)."""

    seller_id: Id
    order_id: Id
    refund_id: Id
    score: StrictInt
    delta: StrictInt
    defects_in_window: StrictInt
    why: ShortText


class ShopRestricted(Data):
    """Internal: a shop crossed a level (a count of defects, or a defect rate) and lost a right."""

    seller_id: Id
    order_id: Id
    restriction: ShortText
    defects_in_window: StrictInt
    orders_in_window: StrictInt = 0
    defect_rate: float = 0.0


class ShopRestrictionsChanged(Data):
    """Internal, on the compacted `seller.restrictions`: the restrictions in force for a shop now,
    for every seller instance (a global table)."""

    seller_id: Id
    restrictions: list[ShortText]
    return_address: ReturnAddress | None = None  # the shop's last (for a ruling that orders a return)


class ShopRestored(Data):
    """Internal: a shop's defect count fell back under a threshold."""

    seller_id: Id
    order_id: Id
    restriction: ShortText
    defects_in_window: StrictInt


class SellerPenalized(Data):
    order_id: Id
    seller_id: Id
    case_id: Id
    amount_fen: Fen
    reason: ShortText
    # extra, not in the external contract
    deduction_id: Id | None = None


class SellerPenaltyRefunded(Data):
    """Internal: a fine lifted on appeal; the deduction goes back to the deposit."""

    order_id: Id
    seller_id: Id
    case_id: Id
    amount_fen: Fen
    deduction_id: Id
