"""Automatic rulings, as data. Each row says when it applies, who wins, and the reasoning a
person reads (Chinese first, then English). `decided_by` is `auto:<rule>`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    # When the evidence window closes: did each side meet its deadline this round?
    buyer_met: bool | None  # None: either
    seller_met: bool | None
    winner: str  # "buyer" or "seller"
    seller_at_fault: bool
    reasoning: str
    title: tuple[str, str]  # what people read for the rule (the workbench, the CLI): Chinese, English


SELLER_TIMEOUT = Rule(
    "seller_timeout", None, None, "buyer", True,
    "卖家未在规定时间内处理售后申请，平台支持买家诉求。 The seller did not answer the request within the deadline; "
    "the platform rules for the buyer.",
    ("卖家超时", "seller timeout"),
)

# The buyer withdrew a request after a case ruled 'reject' on it, then asked again: a withdrawn
# 'reject' is final (docs/domain.md). The refund service refuses such a request when it heard the
# ruling first; when it had not (it lagged behind this service), the platform closes the request.
ALREADY_DECIDED = Rule(
    "already_decided", None, None, "seller", False,
    "此订单的售后诉求已被平台驳回，买家撤回后不能再次申请。 The platform rejected this order's claim; withdrawing it "
    "afterwards did not undo that, and it cannot be asked again.",
    ("已被驳回的诉求", "already decided"),
)

# Not a rule that decides: a restricted shop's 'no' on a reviewed reason goes to the arbitrators.
SHOP_RESTRICTED = "shop_restricted"

# Tried in order when a round-1 evidence window closes; the first that matches decides.
EVIDENCE_RULES: tuple[Rule, ...] = (
    Rule("seller_missed_evidence", True, False, "buyer", True,
         "卖家未在举证期限内提交凭证，买家按时举证，平台支持买家。 The seller submitted no evidence by its deadline while "
         "the buyer met its own; the platform rules for the buyer.", ("卖家未举证", "seller missed its evidence")),
    Rule("buyer_missed_evidence", False, True, "seller", False,
         "买家未在举证期限内提交凭证，卖家已按时举证，驳回买家诉求。 The buyer submitted no evidence by its deadline while "
         "the seller answered; the claim is rejected.", ("买家未举证", "buyer missed its evidence")),
)


# Every automatic rule: a case reason or a ruling's `decided_by` (auto:<name>) names one.
AUTOMATIC_RULES: tuple[Rule, ...] = (SELLER_TIMEOUT, ALREADY_DECIDED, *EVIDENCE_RULES)


def matching_rule(buyer_met: bool, seller_met: bool) -> Rule | None:
    for r in EVIDENCE_RULES:
        if (r.buyer_met is None or r.buyer_met == buyer_met) and (r.seller_met is None or r.seller_met == seller_met):
            return r
    return None


# What "the buyer wins" means for each kind of request: the outcome matching what was asked.
BUYER_WINS_OUTCOME = {"refund_only": "full_refund", "return_and_refund": "return_and_refund", "exchange": "exchange"}


def full_value(offer: dict, kind: str, amount_fen: int) -> bool:
    """Whether an offer gives the buyer what it asked: the money asked (or more), or, for an
    exchange, the goods (an exchange or a resend)."""
    if offer.get("amount_fen") is not None:
        return offer["amount_fen"] >= amount_fen
    return kind == "exchange" and offer.get("kind") in ("exchange", "resend")


@dataclass(frozen=True)
class FineRule:
    """A fine the ruling carries unless the arbitrator states one: when it applies, and the
    setting that says how much."""

    name: str
    seller_at_fault: bool
    misconduct: str
    setting: str


FINES: tuple[FineRule, ...] = (
    # The seller acted in bad faith (e.g. false evidence) and is at fault: a fixed fine from its deposit.
    FineRule("seller_misconduct", True, "seller", "misconduct_fine_fen"),
)


def default_fine(seller_at_fault: bool, misconduct: str, settings: object) -> int:
    for f in FINES:
        if f.seller_at_fault == seller_at_fault and f.misconduct == misconduct:
            return int(getattr(settings, f.setting))
    return 0
