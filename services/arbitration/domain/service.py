"""The arbitration service's domain as the runtime sees it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from contracts.parsing import ParsedMessage
from contracts.registry import CONSUMES
from contracts.topics import ARBITRATION_FLAGGED_BUYERS, SELLER_RESTRICTIONS
from runtime.api.context import Context
from runtime.api.decision import Decision
from runtime.api.domain import Domain, ViewDoc, ViewIndex
from runtime.api.payloads import is_payload, ref_of
from runtime.stream.ownership import partition_of
from services.arbitration import metrics
from services.arbitration.domain import buyers, complaints
from services.arbitration.domain.decide import HANDLERS, TIMERS
from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts
from services.arbitration.domain.payloads import POSTS, SUBMISSIONS, post_ids, refs, with_posts, with_submissions


CASES = "cases"  # the query model's collection of cases (each with its whole file)
QUEUE = "queue"  # the same cases, a few fields each: the workbench's queue scans these, not the files
BUYERS = "buyers"  # the buyers' records, for arbitrators only
COMPLAINTS = "complaints"  # complaints against shops, for the workbench beside its cases


QUEUE_FIELDS = ("_id", "order_id", "status", "round", "opened_by", "reason", "ruling_due_at", "overdue",
                "amount_fen", "refund_kind", "appeals", "claimed_by", "claimed_until", "ruled_by")


class ArbitrationDomain(Domain):
    service = "arbitration"
    consumes = CONSUMES["arbitration"]
    timers = tuple(TIMERS)  # a case's evidence window, ruling target and appeal window
    counted = metrics.COUNTED  # its business counters (services/arbitration/metrics.py)

    def count(self, type_: str, data: dict[str, Any]) -> None:
        metrics.count(type_, data)


    # Buyers a ruling found in misconduct, for the automatic rules of every order; the shops'
    # restrictions, for the review of a restricted shop's 'no'.
    global_tables = (ARBITRATION_FLAGGED_BUYERS, SELLER_RESTRICTIONS)
    # The workbench's queue: cases awaiting a ruling, oldest due first. Made here: the workbench
    # only reads this query model (its database login may not change it).
    indexes = (ViewIndex(QUEUE, (("status", 1), ("ruling_due_at", 1))),)

    def partition_of(self, key: str) -> int:
        # A buyer's record lives on its buyer id's partition (reached through the repartition topic).
        return partition_of(key.removeprefix(buyers.BUYER))

    def route(self, msg: ParsedMessage) -> list[str]:
        if msg.type in complaints.HANDLERS:
            return [complaints.COMPLAINT + msg.data.complaint_id]
        keys = [msg.data.order_id] if msg.type in HANDLERS else []
        if (buyer := buyers.buyer_of(msg)) is not None:
            keys.append(buyers.BUYER + buyer)
        return keys

    def context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None,
                tables: Mapping[str, Mapping[str, Any]]) -> Any:
        if key.startswith((buyers.BUYER, complaints.COMPLAINT)) or msg is None:
            return None
        if msg.type == "ruling.decide":  # a ruling that orders goods back names the shop's last address
            return {"shops": tables.get(SELLER_RESTRICTIONS, {})}  # looked up by the order's seller there
        if msg.type != "refund.state_changed":
            return None
        if msg.data.state == "rejected":
            shop = tables.get(SELLER_RESTRICTIONS, {}).get(msg.data.seller_id) or {}
            return {"restrictions": shop.get("restrictions", [])}
        if msg.data.cause != "seller.timed_out":
            return None
        buyer_id = ArbitrationOrder.load(key, state).buyer_id or ""
        return {"buyer": tables.get(ARBITRATION_FLAGGED_BUYERS, {}).get(buyer_id)}

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        if key.startswith(buyers.BUYER):
            return buyers.HANDLERS[msg.type](buyers.BuyerRecord.load(key, state), msg, ctx)
        if key.startswith(complaints.COMPLAINT):
            return complaints.HANDLERS[msg.type](state, msg, ctx)
        return HANDLERS[msg.type](ArbitrationOrder.load(key, state), msg, ctx)

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        if key.startswith((buyers.BUYER, complaints.COMPLAINT)):
            return Decision.ignore()
        kind, _, case_id = name.partition(":")
        handler = TIMERS.get(kind)
        return handler(ArbitrationOrder.load(key, state), case_id, due_at, ctx) if handler else Decision.ignore()

    # The query model keeps the cases (views), which hold what an arbitrator reads of the order;
    # the order aggregates themselves are behind GET /state?key=.
    def views(self, key: str, state: dict[str, Any]) -> list[ViewDoc]:
        """One document per case for the arbitrators' queue and case pages (`aftersale cases`, `case`),
        and the record of a buyer who was in a case beside them."""
        if is_payload(key):
            ref = ref_of(key)
            if ref.startswith("post/"):
                return [ViewDoc(POSTS, {**state, "_id": state["post_id"]})]
            return [ViewDoc(SUBMISSIONS, {"_id": ref, **state})]
        if key.startswith(complaints.COMPLAINT):  # the workbench's complaints, beside its cases
            return [ViewDoc(COMPLAINTS, {"_id": state["complaint_id"], **state})]
        if key.startswith(buyers.BUYER):
            record = buyers.BuyerRecord.load(key, state)
            if not record.read_by_arbitrators():
                return []
            return [ViewDoc(BUYERS, {"_id": record.buyer_id, **record.summary()})]
        order = ArbitrationOrder.load(key, state)
        out = []
        for c in order.cases.values():
            request = order.requests.get(c.refund_id or "")
            out.append(ViewDoc(CASES, {
                "_id": c.case_id, "order_id": order.order_id, "buyer_id": order.buyer_id,
                "seller_id": order.seller_id, "paid_fen": order.paid_fen, "items": order.items,
                "shipped": order.shipped, "ship_by": order.ship_by, "delivered_at": order.delivered_at, "status": c.status, "round": c.round,
                "opened_by": c.opened_by, "reason": c.reason, "opened_at": c.opened_at,
                "ruling_due_at": c.ruling_due_at, "overdue": c.overdue,
                # for the workbench's queue: its filters and who holds the case
                "amount_fen": request.amount_fen if request else None, "refund_kind": request.kind if request else None,
                "appeals": len(c.appeals), "claimed_by": c.claimed_by, "claimed_until": c.claimed_until,
                "ruled_by": sorted(c.ruled_by()),
                # The case and its request as JSON text: FerretDB's work per write grows with every
                # field (a replace of the 113-field document cost 3.2 ms, of a 5-field one 1.0 ms),
                # and nothing is looked up inside them. case_file() reads them back.
                "case": c.model_dump_json(), "request": request.model_dump_json() if request else None}))
        return out + [ViewDoc(QUEUE, {k: v.doc[k] for k in QUEUE_FIELDS}) for v in out]


def case_file(doc: dict[str, Any] | None, submissions: Iterable[dict[str, Any]] = ()) -> dict[str, Any] | None:
    """A case document as the query model holds it, with its case and request read back into
    dicts (a document written before they became JSON text has them as dicts already), and the
    submissions kept by reference filled in from their documents (`submissions`)."""
    if doc is None:
        return None
    out = dict(doc)
    if isinstance(doc.get("case"), str):
        out["case"] = Case.model_validate_json(doc["case"]).model_dump(mode="python")
    if isinstance(out.get("case"), dict):
        out["case"] = with_submissions(out["case"], submissions)
    if isinstance(doc.get("request"), str):
        out["request"] = RequestFacts.model_validate_json(doc["request"]).model_dump(mode="python")
    return out


async def read_case(db: Any, case_id: str) -> dict[str, Any] | None:
    """A case file from the query model, whole: its document, then the documents of what it holds
    by reference (its submissions, its request's posts), by id."""
    doc = await db[CASES].find_one({"_id": case_id})
    if doc is None:
        return None
    file = case_file(doc)
    assert file is not None

    async def by_id(collection: str, ids: list[str]) -> list[dict[str, Any]]:
        return [d async for d in db[collection].find({"_id": {"$in": ids}})] if ids else []

    out = case_file(doc, await by_id(SUBMISSIONS, refs(file.get("case") or {"case_id": case_id})))
    assert out is not None
    out["request"] = with_posts(out.get("request"), await by_id(POSTS, post_ids(out.get("request"))))
    return out
