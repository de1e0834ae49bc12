"""Business counters are each service's: the runtime names no event of a service, and each service
counts only events it publishes."""
from __future__ import annotations

from pathlib import Path

from contracts.registry import ALL_SPECS
from services.arbitration.domain.service import ArbitrationDomain
from services.notify.domain.service import NotifyDomain
from services.refund.domain.service import RefundDomain
from services.seller.domain.service import SellerDomain

DOMAINS = (RefundDomain(), SellerDomain(), ArbitrationDomain(), NotifyDomain())
RUNTIME = Path(__file__).resolve().parents[1]


def test_each_service_counts_events_it_publishes() -> None:
    for d in DOMAINS:
        published = {s.type for s in ALL_SPECS if s.producer == d.service}
        assert d.counted and d.counted <= published, d.service


def test_the_runtime_names_no_event_of_a_service() -> None:
    # command.rejected is the runtime's own: it refuses a command for whichever service reads it.
    theirs = {s.type for s in ALL_SPECS if s.producer in {d.service for d in DOMAINS}} - {"command.rejected"}
    named = [(f.name, t) for f in sorted(RUNTIME.glob("*.py")) for t in theirs if f'"{t}"' in f.read_text()]
    assert named == []
