"""Notify's decisions, told as the events it reads and the messages it sends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from runtime.context import Context
from services.notify.domain.service import NotifyDomain
from services.notify.settings import NotifySettings

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def test_an_appeal_tells_both_parties_who_appealed() -> None:
    order = {"order_id": "O-1", "buyer_id": "B-1", "seller_id": "S-1"}
    appealed = parse_message(encode(envelope("ruling.appealed", {
        "order_id": "O-1", "case_id": "CS-1", "party": "seller", "refund_id": "RF-1",
        "evidence_due_at": (NOW + timedelta(days=3)).isoformat()}, actor={"role": "seller", "id": "S-1"})))
    ctx = Context(now=NOW, settings=NotifySettings(), cause_id=appealed.envelope.event_id,
                  extra={"locales": {"B-1": "zh-CN", "S-1": "en"}})

    decision = NotifyDomain().decide("O-1", order, appealed, ctx)

    sent = {e.data["user_id"]: e.data for e in decision.emits if e.type == "message.sent"}
    assert set(sent) == {"B-1", "S-1"}
    assert all(m["template"] == "ruling_appealed" for m in sent.values())
    assert "the seller appealed" in sent["S-1"]["body"]
    assert "商家已提出申诉" in sent["B-1"]["body"]
