"""Field types shared by many messages. Strict on what the contract lists, tolerant of extras."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

# Bounds are part of the contract's promise to reject oversized input with a reason.
MAX_EVIDENCE_ITEMS = 20
MAX_URI_LEN = 2048
MAX_DESCRIPTION_LEN = 2000
MAX_MESSAGE_LEN = 1000
MAX_ITEMS = 200  # lines of one order
MAX_ITEM_QTY = 1_000_000

Fen = Annotated[StrictInt, Field(gt=0, le=10**12, description="integer fen (1 yuan = 100 fen)")]
NonNegativeFen = Annotated[StrictInt, Field(ge=0, le=10**12)]
Id = Annotated[StrictStr, Field(min_length=1, max_length=128)]
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=128)]
Description = Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_LEN)]
Currency = Literal["CNY"]

RefundKind = Literal["refund_only", "return_and_refund", "exchange"]
RefundReason = Literal[
    "quality", "not_received", "not_as_described", "wrong_item", "damaged", "no_longer_wanted", "other"
]
RefundTo = Literal["original", "balance"]
EvidenceKind = Literal["photo", "video", "chat_log", "logistics", "document"]
SellerRejectReason = Literal["opened", "subjective", "resale_affected", "used", "other"]
SellerInterventionReason = Literal["malicious_complaint", "ip_infringement", "system_fault", "dispute"]
# Why the platform opened a case itself (`opened_by` "system"): an automatic rule that decides it
# (`seller_timeout`, `already_decided`), or a restricted shop's 'no' that the platform reviews.
SystemCaseReason = Literal["seller_timeout", "already_decided", "shop_restricted"]
# Why the platform opens a case on its own, without a complaint (主动介入): 售假, 虚假宣传, a rule broken.
PlatformCaseReason = Literal["counterfeit", "false_advertising", "policy_violation"]
# Who opened a case: a party, an automatic rule of the platform, or an arbitrator for the platform.
CaseOpener = Literal["buyer", "seller", "system", "platform"]
Outcome = Literal["full_refund", "partial_refund", "return_and_refund", "exchange", "reject", "cancel_order"]
ShippingPayer = Literal["seller", "buyer", "platform"]
Misconduct = Literal["none", "buyer", "seller"]  # a party acted in bad faith (e.g. false evidence)
# `compensation`: what a ruling awards the buyer beyond any refund (赔偿), from the seller's deposit;
# `seller_compensation`: the platform's to the seller when an appeal lowered an award already paid.
PayoutPurpose = Literal["refund", "return_shipping", "appeal_top_up", "seller_compensation", "compensation"]
# Why a seller's deposit (保证金) is drawn on: a fine (at fault, or misconduct), or the buyer's compensation.
DeductionReason = Literal["at_fault", "misconduct", "compensation"]
# What a party asks of the platform when it asks it to step in (v3): freeze the other side's
# settlement of the order until the case ends (冻结对方账户), refund at once, compensation, other.
Demand = Literal["freeze_counterparty", "force_refund", "compensation", "other"]
# The ladder of sanctions (v3): 警告, 限制 (no promotions, no automatic refunds for a buyer),
# 暂停 (a shop's requests are answered by the platform), 永久封禁 (a buyer's new requests refused).
SanctionLevel = Literal["warning", "restricted", "suspended", "banned"]
ClosedWhy = Literal["cancelled", "rejected_final", "expired", "completed"]
Party = Literal["buyer", "seller"]
Awaiting = Literal["buyer", "seller", "platform", "payment", "nobody"]
# What a seller may offer instead of approving or rejecting (协商: 部分退款, 换货, 补发, 退货退款).
OfferKind = Literal["partial_refund", "exchange", "resend", "return_and_refund"]
REFUND_OFFERS = frozenset({"partial_refund", "return_and_refund"})  # the offers that pay money
MAX_POST_LEN = 1000
# A shop restricted at this level does not get the last word on requests for these reasons: every
# 'no' of its (a rejection, an offer declined or left to lapse) goes to the platform for review.
REVIEWED_RESTRICTION = "rejections_reviewed"
REVIEWED_REASONS = frozenset({"quality", "not_received", "not_as_described"})


class Data(BaseModel):
    """Base of every `data` payload: unknown extra fields are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Evidence(Data):
    """A typed reference to material stored elsewhere; nothing binary travels on Kafka."""

    kind: EvidenceKind
    uri: Annotated[StrictStr, Field(min_length=1, max_length=MAX_URI_LEN, pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")]


EvidenceList = Annotated[list[Evidence], Field(max_length=MAX_EVIDENCE_ITEMS)]


class Item(Data):
    sku: ShortText
    title: Annotated[StrictStr, Field(max_length=256)]
    qty: Annotated[StrictInt, Field(gt=0, le=MAX_ITEM_QTY)]
    price_fen: NonNegativeFen


# The requests and offers whose goods go back to the seller: they need its return address.
GOODS_BACK = frozenset({"return_and_refund", "exchange"})


class ReturnAddress(Data):
    """(v3) Where the buyer sends the goods back (退货地址): shown to the buyer, masked in logs."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=50)]
    phone: Annotated[StrictStr, Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
    address: Annotated[StrictStr, Field(min_length=1, max_length=200)]


class Offer(Data):
    """A seller's counter-offer. The offers that pay money name how much; those whose goods go back
    say where (v3 `return_address`, required by the seller service)."""

    kind: OfferKind
    amount_fen: Fen | None = None
    return_address: ReturnAddress | None = None

    @model_validator(mode="after")
    def _amount_fits_kind(self) -> "Offer":
        if self.kind in REFUND_OFFERS and self.amount_fen is None:
            raise ValueError(f"a {self.kind} offer names its amount_fen")
        if self.kind not in REFUND_OFFERS and self.amount_fen is not None:
            raise ValueError(f"a {self.kind} offer pays no money: leave out amount_fen")
        return self
