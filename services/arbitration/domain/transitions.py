"""A case's life as a table. Pure.

collecting_evidence -> awaiting_ruling -> ruled -> closed (the appeal window passed), or
ruled -> collecting_evidence (appealed: the next round) -> awaiting_ruling -> ruled again, until
both parties have used their one appeal each: then the ruling is final and the case closes.
An automatic rule can rule straight from collecting_evidence.
"""
from __future__ import annotations

TRANSITIONS: dict[tuple[str, str], str] = {
    ("collecting_evidence", "evidence.submit"): "collecting_evidence",
    ("collecting_evidence", "evidence.request"): "collecting_evidence",
    ("collecting_evidence", "evidence_window_closed"): "awaiting_ruling",
    ("collecting_evidence", "auto_ruling"): "ruled",
    ("awaiting_ruling", "evidence.request"): "collecting_evidence",  # the arbitrator wants more first
    ("awaiting_ruling", "ruling.decide"): "ruled",
    ("awaiting_ruling", "final_ruling"): "closed",  # round 2: the ruling is final
    ("collecting_evidence", "final_ruling"): "closed",  # a claim already decided: rules.ALREADY_DECIDED
    ("ruled", "ruling.appeal"): "collecting_evidence",
    ("ruled", "appeal_window_closed"): "closed",
    ("collecting_evidence", "withdrawn"): "closed",
    ("awaiting_ruling", "withdrawn"): "closed",
    # The refund service ended the request first (its deadline passed, the buyer withdrew during the
    # appeal window): the request is over, and so is its case; no ruling of it is carried out.
    ("collecting_evidence", "request_closed"): "closed",
    ("awaiting_ruling", "request_closed"): "closed",
    ("ruled", "request_closed"): "closed",
    # The refund service carries the request out another way first (an offer accepted, an approval):
    # a case not yet ruled has nothing left to decide.
    ("collecting_evidence", "request_settled"): "closed",
    ("awaiting_ruling", "request_settled"): "closed",
}

CLOSED_WHY = {"final_ruling": "final_ruling", "appeal_window_closed": "ruling_final", "withdrawn": "withdrawn",
              "request_closed": "request_closed", "request_settled": "request_settled"}


def next_state(status: str, trigger: str) -> str | None:
    return TRANSITIONS.get((status, trigger))


def can(status: str, trigger: str) -> bool:
    return (status, trigger) in TRANSITIONS
