"""`orders.events` and `payments.events`: published by the order and payment systems."""
from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from contracts.common import (MAX_ITEMS, Currency, Data, DeductionReason, Description, Fen, Id, Item, Party,
                              PayoutPurpose, RefundTo, ShortText)


class OrderPaid(Data):
    order_id: Id
    buyer_id: Id
    seller_id: Id
    amount_fen: Fen
    currency: Currency
    paid_at: AwareDatetime
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS)] | None = None
    ship_by: AwareDatetime | None = None  # (v3) the seller ships by then (发货时效)


class OrderShipped(Data):
    order_id: Id
    carrier: ShortText
    tracking_no: ShortText
    shipped_at: AwareDatetime


class OrderDelivered(Data):
    order_id: Id
    delivered_at: AwareDatetime


class PayoutSucceeded(Data):
    payout_id: Id
    order_id: Id
    amount_fen: Fen


class PayoutFailed(Data):
    payout_id: Id
    order_id: Id
    code: ShortText
    message: str


class PayoutRequest(Data):
    """On `payments.commands`: the platform asks the payment system to move money."""

    payout_id: Id
    order_id: Id
    refund_id: Id
    amount_fen: Fen
    refund_to: RefundTo
    purpose: PayoutPurpose
    payee_id: Id


class DepositDeduct(Data):
    """On `payments.commands`: take a fine, or the buyer's compensation, from the seller's deposit
    (保证金). `deduction_id` is the idempotency key."""

    deduction_id: Id
    order_id: Id
    seller_id: Id
    case_id: Id
    amount_fen: Fen
    reason: DeductionReason


class SettlementHold(Data):
    """(v3) On `payments.commands`: keep that party's settlement of this order until released.
    `hold_id` is stable; every hold is released once, when its case ends at the latest."""

    hold_id: Id
    order_id: Id
    case_id: Id
    party: Party
    party_id: Id
    reason: Description


class SettlementRelease(SettlementHold):
    """(v3) On `payments.commands`: the hold `hold_id` ends; once per hold."""


class DepositRefund(Data):
    """On `payments.commands` (public since version 3): give a deduction back (a fine or compensation
    lifted or changed on appeal). One per `deduction_id`."""

    deduction_id: Id
    order_id: Id
    seller_id: Id
    case_id: Id
    amount_fen: Fen
    reason: ShortText
