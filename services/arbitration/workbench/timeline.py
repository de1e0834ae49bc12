"""A case's whole story in time order, for its page: the request, the seller's rejection, the
negotiation (offers, answers, posts), every evidence submission and every ruling. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from services.arbitration.workbench.evidence import Shown, shown

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Entry:
    at: datetime | None
    who: str  # buyer | seller | platform | system
    what: str  # a text key: with_request, rejection, filing, evidence, appeal, request, offer, post, ruling ...
    text: str = ""
    evidence: tuple[Shown, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def _at(value: Any) -> datetime | None:
    """A time of the case file: a datetime, or the ISO text a free-form part of the state keeps."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def timeline(doc: dict[str, Any]) -> list[Entry]:
    case, request = doc.get("case") or {}, doc.get("request") or {}
    out: list[Entry] = []
    for n in request.get("negotiation") or []:
        offer = n.get("offer") or {}
        text = n.get("text") or n.get("message") or ""
        out.append(Entry(_at(n.get("at")), n.get("by") or "system", n.get("entry", ""), text,
                         tuple(shown(a) for a in n.get("attachments") or []),
                         {"offer_kind": offer.get("kind"), "offer_fen": offer.get("amount_fen")} if offer else {}))
    for s in case.get("submissions") or []:
        who = "platform" if s.get("kind") == "request" else s.get("party", "")
        out.append(Entry(_at(s.get("at")), who, s.get("kind", "evidence"), s.get("description") or "",
                         tuple(shown(e) for e in s.get("evidence") or []),
                         {"round": s.get("round", 1), "asked_of": s.get("party") if s.get("kind") == "request" else None}))
    rejection = request.get("seller_rejection")
    if rejection and not any(s.get("kind") == "rejection" for s in case.get("submissions") or []):
        # The seller's answer, when it came without evidence (with evidence it is a submission above).
        out.append(Entry(_at(rejection.get("at")), "seller", "rejection", rejection.get("message") or "", (),
                         {"reason": rejection.get("reason")}))
    for r in case.get("rulings") or []:
        out.append(Entry(_at(r.get("at")), "platform", "ruling", r.get("reasoning", ""), (), {
            "outcome": r.get("outcome"), "refund_fen": r.get("refund_fen"), "decided_by": r.get("decided_by"),
            "round": r.get("round"), "final": r.get("final"), "paid_by": r.get("return_shipping_paid_by"),
            "seller_at_fault": r.get("seller_at_fault"), "penalty_fen": r.get("penalty_fen") or 0,
            "compensation_fen": r.get("compensation_fen") or 0, "sanction": r.get("sanction")}))
    # Evidence filed before the case (with the request, with the rejection) comes first on a tie.
    return sorted(out, key=lambda e: e.at or EPOCH)
