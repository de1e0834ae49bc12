"""The ladder of sanctions (v3) as the contract states it, for the two services that keep a
party's standing: the seller service a shop's, the arbitration service a buyer's. One standing per
party, the latest ruling's: a ruling that sanctions the party sets it (a suspension for its days);
a later round of the same case without it lifts it (the appeal was won); a suspension ends by
itself. Pure: what changes, and the events that say so."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from contracts.common import Party, SanctionLevel


class Standing(BaseModel):
    model_config = ConfigDict(extra="ignore")
    level: SanctionLevel
    until: AwareDatetime | None = None
    case_id: str = ""  # the case that put it there, or
    complaint_id: str | None = None  # the complaint (a shop's)
    order_id: str = ""
    round: int = 1


Said = tuple[str, dict[str, Any]]  # (event type, its data)


def on_ruling(current: Standing | None, party: Party, party_id: str, d: Any,
              now: datetime) -> tuple[Standing | None, list[Said]]:
    """`d`: a ruling.issued's data. The party's standing after it, and what to say."""
    if current is not None and current.case_id == d.case_id and d.round <= current.round:
        return current, []  # heard before
    s = d.sanction if d.sanction is not None and d.sanction.party == party else None
    if s is not None:
        until = now + timedelta(days=s.days) if s.days else None
        new = Standing(level=s.level, until=until, case_id=d.case_id, order_id=d.order_id, round=d.round)
        return new, [("account.sanctioned", {"party": party, "party_id": party_id, "level": s.level, "until": until,
                                             "case_id": d.case_id, "order_id": d.order_id})]
    if current is not None and current.case_id == d.case_id:
        return None, [lifted(current, party, party_id, "appeal_won")]
    return current, []


def on_complaint(current: Standing | None, party_id: str, d: Any, now: datetime) -> tuple[Standing | None, list[Said]]:
    """`d`: a complaint.ruled's data. An upheld complaint's sanction puts the accused shop there."""
    s = d.sanction
    if d.outcome != "upheld" or s is None or (current is not None and current.complaint_id == d.complaint_id):
        return current, []
    until = now + timedelta(days=s.days) if s.days else None
    new = Standing(level=s.level, until=until, complaint_id=d.complaint_id)
    return new, [("account.sanctioned", {"party": "seller", "party_id": party_id, "level": s.level, "until": until,
                                         "complaint_id": d.complaint_id})]


def on_clock(current: Standing | None, party: Party, party_id: str, now: datetime) -> tuple[Standing | None, list[Said]]:
    if current is not None and current.until is not None and current.until <= now:
        return None, [lifted(current, party, party_id, "expired")]
    return current, []


def lifted(current: Standing, party: Party, party_id: str, why: str) -> Said:
    return ("account.sanction_lifted", {"party": party, "party_id": party_id, "level": current.level,
                                        "case_id": current.case_id or None, "order_id": current.order_id or None,
                                        "complaint_id": current.complaint_id, "why": why})


def held_back(entry: dict[str, Any] | None, now: datetime) -> str | None:
    """Why a buyer's entry of the flagged-buyers table (`buyer.flagged`) stops what the buyer would
    otherwise get, if it does: the sanction in force (`restricted`: no automatic refunds;
    `suspended`, `banned`: no new requests either), or `misconduct` (no automatic refunds)."""
    entry = entry or {}

    def later(value: Any) -> bool:
        return bool(value) and datetime.fromisoformat(str(value).replace("Z", "+00:00")) > now
    level = entry.get("sanction")
    if level and level != "warning" and (entry.get("sanction_until") is None or later(entry.get("sanction_until"))):
        return str(level)
    return "misconduct" if later(entry.get("flagged_until")) else None
