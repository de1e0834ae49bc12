"""The seller's side of a request as a table: what each trigger does in each step. Pure."""
from __future__ import annotations

# (step, trigger) -> next step. Commands are legal only in a step where it is the seller's move.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("awaiting_answer", "seller.approve"): "approved",
    ("awaiting_answer", "seller.reject"): "rejected",
    ("awaiting_answer", "seller.offer"): "offered",  # a counter-offer answers too, and stops the clock
    ("offered", "seller.offer"): "offered",  # while the buyer has not answered: the newer one replaces it
    ("awaiting_answer", "seller_timeout"): "timed_out",
    ("awaiting_receipt", "return.received"): "received",
    ("awaiting_replacement", "replacement.ship"): "replacement_shipped",
    # Ours, not the refund service's: shipped in time or expired, never both.
    ("awaiting_replacement", "replacement_deadline"): "replacement_expired",
}

# What the refund service's state means for the seller (from `refund.state_changed`).
FROM_REFUND_STATE: dict[str, str] = {
    "requested": "awaiting_answer",
    "offer_pending": "offered",
    "return_in_transit": "awaiting_receipt",
    "replacement_pending": "awaiting_replacement",
    "closed": "closed",
}

# The event each accepted step emits on seller.events.
EMITS: dict[str, str] = {
    "seller.approve": "seller.approved",
    "seller.reject": "seller.rejected",
    "seller.offer": "seller.offered",
    "seller_timeout": "seller.timed_out",
    "return.received": "seller.return_received",
    "replacement.ship": "seller.replacement_shipped",
    "replacement_deadline": "seller.replacement_expired",
}


def next_state(step: str, trigger: str) -> str | None:
    return TRANSITIONS.get((step, trigger))


def can(step: str, trigger: str) -> bool:
    return (step, trigger) in TRANSITIONS
