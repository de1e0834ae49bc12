"""The negotiation before a case is part of its file: each offer, answer and post of a request,
in order, and whether the buyer declined an offer worth what it asked. Pure."""
from __future__ import annotations

from typing import Any, Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision
from runtime.api.payloads import payload_key
from services.arbitration.domain.collector import ArbitrationCollector
from services.arbitration.domain.limits import NEGOTIATION_PER_REQUEST
from services.arbitration.domain.model import ArbitrationOrder, RequestFacts
from services.arbitration.domain.payloads import post_ref
from services.arbitration.domain.rules import full_value


def negotiated(entry: str) -> Callable[[ArbitrationOrder, ParsedMessage, Context], Decision]:
    """The negotiation is part of the case file: each offer, answer and post, in order."""
    def handle(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        req = agg.requests.get(d.refund_id)
        file = req.negotiation if req is not None else agg.early_negotiation.setdefault(d.refund_id, [])
        if any(n.get("event_id") == msg.event_id for n in file):
            return Decision.ignore()
        if NEGOTIATION_PER_REQUEST.check(len(file)) is not None:
            return Decision.ignore()  # a guard: the refund service's own limits keep far below it
        record: dict[str, Any] = {"entry": entry, "at": ctx.now, "by": msg.envelope.actor.role, "event_id": msg.event_id}
        if getattr(d, "offer_id", None):
            record["offer_id"] = d.offer_id
        if getattr(d, "offer", None) is not None:
            record["offer"] = d.offer.model_dump()
        if entry == "offer":
            record.update(message=d.message, buyer_due_at=d.buyer_due_at)
        elif entry == "offer_declined":
            record["message"] = d.message
        c = ArbitrationCollector(agg, ctx)
        if entry == "post":  # its text and attachments by reference (payloads.py): the file keeps who and when
            record.update(post_id=d.post_id, by=d.author_role)
            c.payloads[payload_key(agg.order_id, post_ref(d.post_id))] = {
                "order_id": agg.order_id, "refund_id": d.refund_id, "post_id": d.post_id, "by": d.author_role,
                "at": ctx.now, "text": d.text, "attachments": [e.model_dump() for e in d.attachments]}
        file.append(record)
        if req is not None:
            file_in(req, [record])
        return c.decision()
    handle.__name__ = f"negotiation_{entry}"
    return handle


def file_in(req: RequestFacts, records: list[dict[str, Any]]) -> None:
    """What the negotiation tells an arbitrator: whether the buyer declined an offer worth what it asked."""
    for record in records:
        if record["entry"] == "offer_declined":
            offer = record.get("offer") or {}
            req.declined_full_offer = req.declined_full_offer or full_value(offer, req.kind, req.amount_fen)
