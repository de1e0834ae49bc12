"""Every message type: its model, topic, direction, who may send it and who reads it.

This table is the single source for validation, the JSON Schema / AsyncAPI export and the docs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts import arbitration as arb
from contracts import complaints, notify, orders, refund, seller, topics
from contracts import ops as ops_
from contracts.common import Data
from contracts.rejection import CommandRejected

Kind = Literal["command", "event"]
Service = Literal["refund", "seller", "arbitration", "notify"]

EXTERNAL = "external"  # a system outside this project (order system, payment system, apps)


@dataclass(frozen=True)
class MessageSpec:
    type: str
    version: int
    model: type[Data]
    topic: str
    kind: Kind
    producer: str  # a service name or EXTERNAL
    roles: tuple[str, ...]  # actor roles allowed to send it
    internal: bool = False  # not in the external contract, the project's own
    key_field: str = "order_id"
    summary: str = ""


def _spec(type_, model, topic, kind, producer, roles, summary, *, internal=False, key="order_id"):
    return MessageSpec(type_, 1, model, topic, kind, producer, tuple(roles), internal, key, summary)


SYSTEM = ("system",)
BUYER = ("buyer",)
SELLER = ("seller",)
PARTIES = ("buyer", "seller")
ARBITRATOR = ("arbitrator",)

_ALL = [
    # -- order and payment systems --
    _spec("order.paid", orders.OrderPaid, topics.ORDERS_EVENTS, "event", EXTERNAL, SYSTEM, "An order was paid."),
    _spec("order.shipped", orders.OrderShipped, topics.ORDERS_EVENTS, "event", EXTERNAL, SYSTEM, "The seller shipped the order."),
    _spec("order.delivered", orders.OrderDelivered, topics.ORDERS_EVENTS, "event", EXTERNAL, SYSTEM, "The order was delivered."),
    _spec("payout.succeeded", orders.PayoutSucceeded, topics.PAYMENTS_EVENTS, "event", EXTERNAL, SYSTEM, "The payment system paid a refund."),
    _spec("payout.failed", orders.PayoutFailed, topics.PAYMENTS_EVENTS, "event", EXTERNAL, SYSTEM, "The payment system could not pay a refund."),
    _spec("payout.request", orders.PayoutRequest, topics.PAYMENTS_COMMANDS, "command", "refund", SYSTEM, "Pay a refund; `payout_id` is the idempotency key."),
    _spec("deposit.deduct", orders.DepositDeduct, topics.PAYMENTS_COMMANDS, "command", "seller", SYSTEM, "Take a fine or the buyer's compensation from the seller's deposit; `deduction_id` is the idempotency key."),
    _spec("deposit.refund", orders.DepositRefund, topics.PAYMENTS_COMMANDS, "command", "seller", SYSTEM, "Give a deduction back to the seller's deposit (a fine or compensation lifted on appeal)."),
    # -- refund --
    _spec("refund.request", refund.RefundRequest, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer opens (or resubmits) an after-sale request."),
    _spec("refund.cancel", refund.RefundCancel, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer withdraws an open request."),
    _spec("return.shipped", refund.ReturnShipped, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer shipped the goods back."),
    _spec("offer.accept", refund.OfferAccept, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer accepts the seller's open offer."),
    _spec("offer.decline", refund.OfferDecline, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer declines the seller's open offer."),
    _spec("conversation.post", refund.ConversationPost, topics.REFUND_COMMANDS, "command", EXTERNAL, BUYER, "The buyer posts on an open request."),
    _spec("payout.retry", refund.PayoutRetry, topics.OPS_COMMANDS, "command", EXTERNAL, SYSTEM, "An operator re-triggers a parked payout.", internal=True),
    _spec("refund.requested", refund.RefundRequested, topics.REFUND_EVENTS, "event", "refund", BUYER, "A request was accepted; the seller must answer by `seller_due_at`."),
    _spec("refund.order_cancel_requested", refund.OrderCancelRequested, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "A refund before shipment: the order system cancels the order and does not ship.", internal=True),
    _spec("order.shipped_late", refund.OrderShippedLate, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "An order shipped after its ship_by date: late, in the shop's credit.", internal=True),
    _spec("refund.postage_repaid", refund.PostageRepaid, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "The buyer's return postage was repaid.", internal=True),
    _spec("refund.seller_compensated", refund.SellerCompensated, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "The platform's compensation reached the seller.", internal=True),
    _spec("refund.compensation_awarded", refund.CompensationAwarded, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "What a case awards the buyer beyond any refund changed; the seller's deposit follows.", internal=True),
    _spec("refund.compensation_paid", refund.CompensationPaid, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "A compensation payout reached the buyer.", internal=True),
    _spec("refund.completed", refund.RefundCompleted, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "The money reached the buyer."),
    _spec("refund.closed", refund.RefundClosed, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "The request is over, and why."),
    _spec("refund.state_changed", refund.RefundStateChanged, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "Every transition, with whose move it is and until when.", internal=True),
    _spec("refund.payout_requested", refund.PayoutRequested, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "A payout was ordered (mirror of `payout.request`).", internal=True),
    _spec("refund.offer_accepted", refund.RefundOfferAccepted, topics.REFUND_EVENTS, "event", "refund", BUYER, "The buyer accepted an offer; the request goes on as that remedy."),
    _spec("refund.offer_declined", refund.RefundOfferDeclined, topics.REFUND_EVENTS, "event", "refund", BUYER, "The buyer declined an offer; the request is back as if rejected."),
    _spec("refund.offer_lapsed", refund.RefundOfferLapsed, topics.REFUND_EVENTS, "event", "refund", SYSTEM, "The offer window passed unanswered; the request is back as if rejected.", internal=True),
    _spec("conversation.posted", refund.ConversationPosted, topics.REFUND_EVENTS, "event", "refund", PARTIES, "A post on a request's conversation, in order."),
    # -- seller --
    _spec("seller.approve", seller.SellerApprove, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller agrees to the request."),
    _spec("seller.reject", seller.SellerReject, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller refuses, with a reason."),
    _spec("return.received", seller.ReturnReceived, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller confirms the returned parcel."),
    _spec("replacement.ship", seller.ReplacementShip, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller ships an exchange's replacement.", internal=True),
    _spec("seller.offer", seller.SellerOffer, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller answers with a counter-offer."),
    _spec("seller.approved", seller.SellerApproved, topics.SELLER_EVENTS, "event", "seller", SELLER + SYSTEM, "The seller agreed (or the platform, for a suspended or banned shop)."),
    _spec("seller.rejected", seller.SellerRejected, topics.SELLER_EVENTS, "event", "seller", SELLER, "The seller refused."),
    _spec("seller.offered", seller.SellerOffered, topics.SELLER_EVENTS, "event", "seller", SELLER, "The seller offered another remedy; the buyer answers by `buyer_due_at`."),
    _spec("seller.timed_out", seller.SellerTimedOut, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "The seller did not answer in time."),
    _spec("seller.return_received", seller.SellerReturnReceived, topics.SELLER_EVENTS, "event", "seller", PARTIES + SYSTEM, "The returned parcel was received.", internal=True),
    _spec("seller.replacement_shipped", seller.SellerReplacementShipped, topics.SELLER_EVENTS, "event", "seller", SELLER, "The replacement is on its way.", internal=True),
    _spec("seller.replacement_expired", seller.SellerReplacementExpired, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "The replacement was not shipped in time: the buyer is refunded instead.", internal=True),
    _spec("seller.penalized", seller.SellerPenalized, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "A ruling fined the seller; the fine is taken from its deposit."),
    _spec("seller.penalty_refunded", seller.SellerPenaltyRefunded, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "A fine was lifted on appeal and given back.", internal=True),
    _spec("shop.credit_changed", seller.ShopCreditChanged, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "A shop's credit score moved.", internal=True),
    _spec("shop.restricted", seller.ShopRestricted, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "A shop lost a right.", internal=True),
    _spec("shop.restrictions_changed", seller.ShopRestrictionsChanged, topics.SELLER_RESTRICTIONS, "event", "seller", SYSTEM, "The restrictions in force for a shop, for every seller instance.", internal=True, key="seller_id"),
    _spec("shop.restored", seller.ShopRestored, topics.SELLER_EVENTS, "event", "seller", SYSTEM, "A shop got a right back.", internal=True),
    # -- arbitration --
    _spec("intervention.request", arb.InterventionRequest, topics.ARBITRATION_COMMANDS, "command", EXTERNAL, BUYER, "The buyer asks the platform to step in."),
    _spec("evidence.submit", arb.EvidenceSubmit, topics.ARBITRATION_COMMANDS, "command", EXTERNAL, BUYER, "The buyer adds evidence to a case."),
    _spec("case.open", arb.CaseOpen, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "The platform opens a case on an order without a complaint (主动介入)."),
    _spec("evidence.request", arb.EvidenceRequest, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "The arbitrator asks a party for more."),
    _spec("funds.hold", arb.FundsHold, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "The arbitrator holds a party's settlement of the order until the case ends."),
    _spec("funds.release", arb.FundsRelease, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "The arbitrator releases a hold before the case ends."),
    _spec("ruling.decide", arb.RulingDecide, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "An arbitrator rules."),
    _spec("case.claim", arb.CaseClaim, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "An arbitrator takes a case to work on.", internal=True),
    _spec("case.release", arb.CaseRelease, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "The arbitrator holding a case gives it back.", internal=True),
    _spec("case.assign", arb.CaseAssign, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "A supervisor gives a case to an arbitrator.", internal=True),
    _spec("ruling.appeal", arb.RulingAppeal, topics.ARBITRATION_COMMANDS, "command", EXTERNAL, BUYER, "The buyer appeals a ruling."),
    _spec("case.opened", arb.CaseOpened, topics.ARBITRATION_EVENTS, "event", "arbitration", PARTIES + SYSTEM + ARBITRATOR, "The platform stepped in: on a party's request, by a rule, or of its own accord."),
    _spec("evidence.submitted", arb.EvidenceSubmitted, topics.ARBITRATION_EVENTS, "event", "arbitration", PARTIES, "A party added evidence.", internal=True),
    _spec("evidence.requested", arb.EvidenceRequested, topics.ARBITRATION_EVENTS, "event", "arbitration", ("arbitrator",), "More evidence is wanted from a party.", internal=True),
    _spec("case.awaiting_ruling", arb.CaseAwaitingRuling, topics.ARBITRATION_EVENTS, "event", "arbitration", SYSTEM, "The case is in the arbitrators' queue.", internal=True),
    _spec("case.ruling_overdue", arb.CaseRulingOverdue, topics.ARBITRATION_EVENTS, "event", "arbitration", SYSTEM, "A queued case passed its ruling target unruled.", internal=True),
    _spec("ruling.issued", arb.RulingIssued, topics.ARBITRATION_EVENTS, "event", "arbitration", ("arbitrator", "system"), "The platform ruled."),
    _spec("ruling.appealed", arb.RulingAppealed, topics.ARBITRATION_EVENTS, "event", "arbitration", PARTIES, "A ruling was appealed.", internal=True),
    _spec("account.sanctioned", arb.AccountSanctioned, topics.SELLER_EVENTS, "event", "seller", ARBITRATOR + SYSTEM, "A shop moved up the ladder of sanctions.", key="party_id"),
    _spec("account.sanction_lifted", arb.AccountSanctionLifted, topics.SELLER_EVENTS, "event", "seller", ARBITRATOR + SYSTEM, "A shop's sanction ended.", key="party_id"),
    _spec("account.sanctioned", arb.AccountSanctioned, topics.ARBITRATION_EVENTS, "event", "arbitration", ARBITRATOR + SYSTEM, "A buyer moved up the ladder of sanctions.", key="party_id"),
    _spec("account.sanction_lifted", arb.AccountSanctionLifted, topics.ARBITRATION_EVENTS, "event", "arbitration", ARBITRATOR + SYSTEM, "A buyer's sanction ended.", key="party_id"),
    _spec("complaint.file", complaints.ComplaintFile, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "A seller complains that another shop infringes its rights.", key="complaint_id"),
    _spec("complaint.respond", complaints.ComplaintRespond, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The accused shop answers a complaint.", key="complaint_id"),
    _spec("complaint.decide", complaints.ComplaintDecide, topics.ARBITRATION_DECISIONS, "command", EXTERNAL, ARBITRATOR, "An arbitrator decides a complaint.", key="complaint_id"),
    _spec("complaint.filed", complaints.ComplaintFiled, topics.ARBITRATION_EVENTS, "event", "arbitration", SELLER, "A complaint against a shop was filed.", key="complaint_id"),
    _spec("complaint.answered", complaints.ComplaintAnswered, topics.ARBITRATION_EVENTS, "event", "arbitration", SELLER, "The accused shop answered.", key="complaint_id"),
    _spec("complaint.ruled", complaints.ComplaintRuled, topics.ARBITRATION_EVENTS, "event", "arbitration", ARBITRATOR, "A complaint was upheld or dismissed.", key="complaint_id"),
    _spec("buyer.flagged", arb.BuyerFlagged, topics.ARBITRATION_FLAGGED_BUYERS, "event", "arbitration", SYSTEM, "A ruling found the buyer in misconduct, for every arbitration instance.", internal=True, key="buyer_id"),
    _spec("case.claimed", arb.CaseClaimed, topics.ARBITRATION_EVENTS, "event", "arbitration", ("arbitrator",), "An arbitrator holds the case.", internal=True),
    _spec("case.released", arb.CaseReleased, topics.ARBITRATION_EVENTS, "event", "arbitration", ("arbitrator", "system"), "The case is unclaimed again.", internal=True),
    _spec("case.closed", arb.CaseClosed, topics.ARBITRATION_EVENTS, "event", "arbitration", SYSTEM, "The case is over.", internal=True),
    _spec("funds.held", arb.FundsHeld, topics.ARBITRATION_EVENTS, "event", "arbitration", ARBITRATOR, "A party's settlement of the order is held.", internal=True),
    _spec("funds.released", arb.FundsReleased, topics.ARBITRATION_EVENTS, "event", "arbitration", ARBITRATOR + SYSTEM, "A hold ended (released, or its case ended).", internal=True),
    _spec("settlement.hold", orders.SettlementHold, topics.PAYMENTS_COMMANDS, "command", "arbitration", ARBITRATOR, "Keep a party's settlement of the order until released; `hold_id` is stable."),
    _spec("settlement.release", orders.SettlementRelease, topics.PAYMENTS_COMMANDS, "command", "arbitration", ARBITRATOR + SYSTEM, "End the hold `hold_id`; once per hold."),
    _spec("withdrawal.noted", arb.WithdrawalNoted, topics.ARBITRATION_EVENTS, "event", "arbitration", SYSTEM, "A withdrawn request, and whether a 'no' stood on it.", internal=True),
    # -- the seller's own placements (version 3) --
    # The seller backend writes only seller.commands, so its posts, interventions, evidence
    # and appeals travel there; the refund and arbitration services read it for those.
    _spec("conversation.post", refund.ConversationPost, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller posts on an open request."),
    _spec("intervention.request", arb.InterventionRequest, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller asks the platform to step in."),
    _spec("evidence.submit", arb.EvidenceSubmit, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller adds evidence to a case."),
    _spec("ruling.appeal", arb.RulingAppeal, topics.SELLER_COMMANDS, "command", EXTERNAL, SELLER, "The seller appeals a ruling."),
    # -- operators (version 3) --
    _spec("dead_letter.replay", ops_.DeadLetterReplay, topics.OPS_COMMANDS, "command", EXTERNAL, SYSTEM, "An operator sends a dead letter of a service's own topic back to that service.", internal=True, key="key"),
    # -- notify --
    _spec("message.read", notify.MessageRead, topics.NOTIFY_COMMANDS, "command", EXTERNAL, PARTIES, "The recipient read a message.", key="user_id"),
    _spec("locale.set", notify.LocaleSet, topics.NOTIFY_COMMANDS, "command", EXTERNAL, PARTIES, "A user picks a language.", internal=True, key="user_id"),
    _spec("locale.changed", notify.LocaleChanged, topics.NOTIFY_LOCALES, "event", "notify", PARTIES, "A user's language, for every notify instance.", internal=True, key="user_id"),
    _spec("message.sent", notify.MessageSent, topics.NOTIFY_EVENTS, "event", "notify", SYSTEM, "A message was put in a user's inbox.", key="user_id"),
    _spec("message.marked_read", notify.MessageMarkedRead, topics.NOTIFY_EVENTS, "event", "notify", PARTIES, "A message was read.", internal=True, key="user_id"),
]

# `command.rejected` lives on the events topic of each service that owns a command topic.
_REJECTIONS = [
    _spec("command.rejected", CommandRejected, t, "event", svc, SYSTEM, "A command was refused, and why.")
    for svc, t in (
        ("refund", topics.REFUND_EVENTS), ("seller", topics.SELLER_EVENTS),
        ("arbitration", topics.ARBITRATION_EVENTS), ("notify", topics.NOTIFY_EVENTS),
    )
]

ALL_SPECS: tuple[MessageSpec, ...] = tuple(_ALL + _REJECTIONS)
# A type's first placement is its home (its model, its owner); a few commands have a second, for
# the other party's own topic: (type, topic) -> that placement.
MESSAGES: dict[str, MessageSpec] = {}
for _s in _ALL:
    MESSAGES.setdefault(_s.type, _s)
PLACEMENTS: dict[tuple[str, str], MessageSpec] = {(s.type, s.topic): s for s in _ALL}

COMMAND_TOPIC_OWNER: dict[str, Service] = {
    topics.REFUND_COMMANDS: "refund",
    topics.SELLER_COMMANDS: "seller",
    topics.ARBITRATION_COMMANDS: "arbitration",
    topics.ARBITRATION_DECISIONS: "arbitration",
    topics.NOTIFY_COMMANDS: "notify",
    topics.OPS_COMMANDS: "refund",  # payout.retry's; every service reads it for its dead_letter.replay
}

# Contract version 3: every inbound topic has one writer (a Kafka principal, ops.security) and the
# roles that writer may claim. A message claiming another role there is refused: `forbidden`.
INBOUND_ROLES: dict[str, tuple[str, ...]] = {
    topics.ORDERS_EVENTS: SYSTEM,
    topics.PAYMENTS_EVENTS: SYSTEM,
    topics.REFUND_COMMANDS: BUYER,
    topics.ARBITRATION_COMMANDS: BUYER,
    topics.SELLER_COMMANDS: SELLER,
    topics.ARBITRATION_DECISIONS: ARBITRATOR,
    topics.OPS_COMMANDS: SYSTEM,
    topics.NOTIFY_COMMANDS: PARTIES,
}
# Version 2's placements, accepted for one release (with a deprecation warning in the log) unless
# AFTERSALE_CONTRACT_STRICT=1: (topic, type, role).
V2_PLACEMENTS: frozenset[tuple[str, str, str]] = frozenset({
    (topics.REFUND_COMMANDS, "conversation.post", "seller"),
    (topics.ARBITRATION_COMMANDS, "intervention.request", "seller"),
    (topics.ARBITRATION_COMMANDS, "evidence.submit", "seller"),
    (topics.ARBITRATION_COMMANDS, "ruling.appeal", "seller"),
    (topics.REFUND_COMMANDS, "payout.retry", "system"),
})


def command_owner(type_: str) -> Service | None:
    """The service that answers a command (and refuses it), wherever it was placed."""
    spec = MESSAGES.get(type_)
    return COMMAND_TOPIC_OWNER.get(spec.topic) if spec is not None and spec.kind == "command" else None


# (type, role) -> the topic of its first placement that takes the role (looked up per message sent).
_TOPIC_FOR: dict[tuple[str, str], str] = {}
for _s in _ALL:
    for _role in _s.roles:
        _TOPIC_FOR.setdefault((_s.type, _role), _s.topic)


def topic_for(type_: str, role: str) -> str:
    """Where a sender in `role` puts a message of this type (version 3): its home otherwise."""
    return _TOPIC_FOR.get((type_, role)) or MESSAGES[type_].topic


EVENTS_TOPIC_OF: dict[str, str] = {
    "refund": topics.REFUND_EVENTS,
    "seller": topics.SELLER_EVENTS,
    "arbitration": topics.ARBITRATION_EVENTS,
    "notify": topics.NOTIFY_EVENTS,
}


# Which topics each service consumes (its one consumer group reads all of them).
CONSUMES: dict[Service, tuple[str, ...]] = {
    # seller.commands for the seller's posts (version 3); every service reads ops.commands.
    "refund": (topics.ORDERS_EVENTS, topics.REFUND_COMMANDS, topics.SELLER_EVENTS, topics.ARBITRATION_EVENTS,
               topics.PAYMENTS_EVENTS, topics.SELLER_COMMANDS, topics.OPS_COMMANDS),
    # The seller service reads its own events too: shop credit is a projection of timeouts and rulings;
    # orders.events gives each shop its orders, the denominator of its defect rate.
    "seller": (topics.SELLER_COMMANDS, topics.ORDERS_EVENTS, topics.REFUND_EVENTS, topics.ARBITRATION_EVENTS,
               topics.SELLER_EVENTS, topics.OPS_COMMANDS),
    # arbitration reads its own events too: a ruling finding a buyer in misconduct reaches the buyer's record.
    # seller.commands for the seller's interventions, evidence and appeals (version 3).
    "arbitration": (topics.ARBITRATION_COMMANDS, topics.ARBITRATION_DECISIONS, topics.ORDERS_EVENTS, topics.REFUND_EVENTS,
                    topics.SELLER_EVENTS, topics.ARBITRATION_EVENTS, topics.SELLER_COMMANDS, topics.OPS_COMMANDS),
    # notify reads its own events too: message.sent (keyed by user) tells each user's inbox what it holds.
    "notify": (topics.NOTIFY_COMMANDS, topics.REFUND_EVENTS, topics.SELLER_EVENTS, topics.ARBITRATION_EVENTS,
               topics.NOTIFY_EVENTS, topics.OPS_COMMANDS),
}


def spec_for(type_: str) -> MessageSpec | None:
    if type_ == "command.rejected":
        return _REJECTIONS[0]
    return MESSAGES.get(type_)


_TOPICS_OF: dict[str, frozenset[str]] = {
    t: frozenset({s.topic for s in ALL_SPECS if s.type == t} | {topic for topic, ty, _ in V2_PLACEMENTS if ty == t})
    for t in {s.type for s in ALL_SPECS}}


def spec_on(type_: str, topic: str | None) -> MessageSpec | None:
    """The placement of a type on a topic (its home when it has none there)."""
    return PLACEMENTS.get((type_, topic or "")) or spec_for(type_)


def topics_of(type_: str) -> frozenset[str]:
    """The topics a type may be sent on (looked up for every record a service reads)."""
    return _TOPICS_OF.get(type_, frozenset())
