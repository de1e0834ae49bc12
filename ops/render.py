"""One readable line per event: time, type, order, actor and the fields that matter for it."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

KEY_FIELDS = (
    "refund_id", "case_id", "state", "awaiting", "due_at", "kind", "reason", "amount_fen", "refund_fen",
    "outcome", "seller_at_fault", "decided_by", "why", "payout_id", "code", "user_id", "template", "party",
    "evidence_due_at", "seller_due_at", "appealable_until", "score", "restriction", "attempt", "round",
    "offer_id", "offer", "buyer_due_at", "author_role", "text", "opened_by", "penalty_fen", "ship_by", "late_shipment",
    "compensation_fen", "previous_fen", "purpose", "deduction_id", "hold_id", "released_by", "demands",
    "level", "until", "sanction", "restrictions", "complaint_id", "against_seller_id", "complainant_id", "right",
    "promised_by",
)


def parse(value: bytes | None) -> dict[str, Any] | None:
    try:
        doc = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def order_of(doc: dict[str, Any] | None, key: bytes | None) -> str | None:
    data = (doc or {}).get("data")
    if isinstance(data, dict) and isinstance(data.get("order_id"), str):
        return data["order_id"]
    return None


def line(topic: str, value: bytes | None, timestamp_ms: int | None = None, *, width_type: int = 24) -> str:
    doc = parse(value)
    if doc is None:
        when = datetime.fromtimestamp((timestamp_ms or 0) / 1000, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        return f"{when}  {'(unparseable)':<{width_type}} {topic}  {len(value or b'')} bytes"
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    when = str(doc.get("occurred_at", ""))[11:23]
    actor = doc.get("actor") or {}
    who = f"{actor.get('role', '?')}:{actor.get('id', '?')}" if isinstance(actor, dict) else "?"
    fields = " ".join(f"{k}={_short(data[k])}" for k in KEY_FIELDS if k in data and data[k] is not None)
    return f"{when}  {str(doc.get('type', '?')):<{width_type}} order={data.get('order_id', '-')}  {who}  {fields}"


def _short(v: Any) -> str:
    if isinstance(v, dict) and "kind" in v:  # an offer: its kind and, for money, how much
        return str(v["kind"]) + (f":{v['amount_fen']}" if v.get("amount_fen") is not None else "")
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    if len(s) > 25 and s[:4].isdigit() and "T" in s:  # a timestamp: keep date and time
        return s[:19] + "Z"
    return s if len(s) <= 40 else s[:37] + "..."


def matches(doc: dict[str, Any] | None, *, order: str | None, type_: str | None, correlation: str | None) -> bool:
    if doc is None:
        return not (order or type_ or correlation)
    if order and order_of(doc, None) != order:
        return False
    if type_ and not str(doc.get("type", "")).startswith(type_):
        return False
    if correlation and doc.get("correlation_id") != correlation:
        return False
    return True
