"""`describe`: a service's topology, derived from its domain and the contract."""
from __future__ import annotations

import subprocess
import sys

from runtime.service.describe import describe
from services.arbitration.domain.service import ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings


def test_the_refund_services_topology() -> None:
    text = describe(RefundDomain(), RefundSettings())
    assert text.splitlines()[0] == "Service refund: consumer group aftersale-refund, 3 partitions, one task each"
    for topic in RefundDomain.consumes:
        assert f"\n    {topic}\n" in text and f"{topic}.dlq" in text
    assert "changelog aftersale-refund.changelog (compacted)" in text
    assert "    payments.commands: payout.request\n" in text
    assert "history of: refund.commands, refund.events, orders.events, payments.commands, payments.events" in text


def test_arbitration_shows_its_global_tables_and_its_queue_index() -> None:
    text = describe(ArbitrationDomain(), ArbitrationSettings())
    assert "Global tables" in text and "arbitration.flagged_buyers" in text
    assert "indexes: queue (status, ruling_due_at)" in text


def test_the_operators_cli_prints_it() -> None:
    out = subprocess.run([sys.executable, "-m", "ops.cli", "describe", "seller"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Service seller: consumer group aftersale-seller")


def test_the_copy_in_the_design_doc_is_what_it_prints() -> None:
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "design.md").read_text(encoding="utf-8")
    assert describe(RefundDomain(), RefundSettings()) in doc, "docs/design.md: paste `aftersale describe refund` again"


def test_each_service_lists_the_deadlines_it_keeps() -> None:
    from services.notify.domain.service import NotifyDomain
    from services.notify.settings import NotifySettings
    assert "Deadlines (timers, kept with the state): remind\n" in describe(NotifyDomain(), NotifySettings())
    assert "evidence_window" in describe(ArbitrationDomain(), ArbitrationSettings())
