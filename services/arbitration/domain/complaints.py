"""Complaints against another shop (知识产权投诉): one aggregate per complaint
(`complaint:<id>`): filed by a seller, answered by the accused shop, decided by an arbitrator,
who may sanction the accused (the seller service keeps the shop's standing). Pure."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision, actor_of

COMPLAINT = "complaint:"


class Complaint(BaseModel):
    model_config = ConfigDict(extra="ignore")
    complaint_id: str
    complainant_id: str
    against_seller_id: str
    subject: str
    right: str
    description: str = ""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    filed_at: datetime
    status: Literal["filed", "answered", "ruled"] = "filed"
    answer: str = ""
    answer_evidence: list[dict[str, Any]] = Field(default_factory=list)
    answered_at: datetime | None = None
    outcome: str | None = None
    reasoning: str = ""
    decided_by: str | None = None
    ruled_at: datetime | None = None
    sanction: dict[str, Any] | None = None

    @classmethod
    def load(cls, state: dict[str, Any] | None) -> "Complaint | None":
        return cls.model_validate(state) if state else None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")


def _evidence(msg: ParsedMessage) -> list[dict[str, Any]]:
    return [e.model_dump() for e in msg.data.evidence]


def _said(c: Complaint) -> dict[str, Any]:
    return {"complaint_id": c.complaint_id, "against_seller_id": c.against_seller_id, "complainant_id": c.complainant_id}


def complaint_file(state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    if state:
        return Decision.refuse("complaint_exists", f"complaint {d.complaint_id} was filed already")
    role, actor_id = actor_of(msg)
    if actor_id == d.against_seller_id:
        return Decision.refuse("complaint_against_self", "a shop complains of another shop, not of itself")
    c = Complaint(complaint_id=d.complaint_id, complainant_id=actor_id, against_seller_id=d.against_seller_id,
                  subject=d.subject, right=d.right, description=d.description, evidence=_evidence(msg),
                  filed_at=ctx.now)
    out = Collector(c, ctx, (role, actor_id))
    out.emit("complaint.filed", {**_said(c), "subject": c.subject, "right": c.right}, by_actor=True)
    return out.decision()


def complaint_respond(state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
    c = Complaint.load(state)
    if c is None:
        return Decision.refuse("unknown_complaint", f"there is no complaint {msg.data.complaint_id}")
    if actor_of(msg)[1] != c.against_seller_id:
        return Decision.refuse("not_the_accused", "only the shop complained of answers a complaint")
    if c.status == "ruled":
        return Decision.refuse("complaint_ruled", f"complaint {c.complaint_id} was decided")
    c.status, c.answer, c.answer_evidence, c.answered_at = "answered", msg.data.description, _evidence(msg), ctx.now
    out = Collector(c, ctx, actor_of(msg))
    out.emit("complaint.answered", _said(c), by_actor=True)
    return out.decision()


def complaint_decide(state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = Complaint.load(state)
    if c is None:
        return Decision.refuse("unknown_complaint", f"there is no complaint {d.complaint_id}")
    if c.status == "ruled":
        return Decision.refuse("complaint_ruled", f"complaint {c.complaint_id} was decided")
    if d.sanction is not None and (d.sanction.party != "seller" or d.outcome != "upheld"):
        return Decision.refuse("sanction_without_finding", "a complaint sanctions only the accused shop, and only "
                                                           "when it is upheld")
    c.status, c.outcome, c.reasoning, c.ruled_at = "ruled", d.outcome, d.reasoning, ctx.now
    c.decided_by = actor_of(msg)[1]
    c.sanction = d.sanction.model_dump() if d.sanction else None
    out = Collector(c, ctx, actor_of(msg))
    out.emit("complaint.ruled", {**_said(c), "outcome": c.outcome, "reasoning": c.reasoning,
                                 "decided_by": c.decided_by, "sanction": c.sanction,
                                 "seller_id": c.against_seller_id}, by_actor=True)
    return out.decision()


HANDLERS: dict[str, Callable[[dict[str, Any] | None, ParsedMessage, Context], Decision]] = {
    "complaint.file": complaint_file,
    "complaint.respond": complaint_respond,
    "complaint.decide": complaint_decide,
}
