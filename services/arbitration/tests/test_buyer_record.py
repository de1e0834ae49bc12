"""A buyer's record, pure: what it counts, and when arbitrators get to read it.

Every paid order adds to its buyer's record, so most records belong to buyers who never come
before an arbitrator. Those stay in the service's state and out of the query model; a buyer's
first case puts the whole record there, counts of the orders before it included."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from runtime.api.context import Context
from services.arbitration.domain import buyers
from services.arbitration.domain.service import BUYERS, ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
S = ArbitrationSettings(buyer_window_s=90 * 24 * 3600)
domain = ArbitrationDomain()
KEY = buyers.BUYER + "B1"


def msg(type_: str, data: dict[str, Any], order_id: str = "O1"):
    env = envelope(type_, {"order_id": order_id, **data}, actor={"role": "system", "id": "svc:test"}, validate=False)
    return parse_message(encode(env))


def paid(order_id: str):
    return msg("order.paid", {"buyer_id": "B1", "seller_id": "S1", "amount_fen": 10000, "currency": "CNY",
                              "paid_at": NOW.isoformat()}, order_id)


def refunded(order_id: str):
    return msg("refund.completed", {"refund_id": f"R-{order_id}", "amount_fen": 10000, "refund_to": "original",
                                    "buyer_id": "B1"}, order_id)


def case_opened(case_id: str, order_id: str = "O1", buyer_id: str | None = "B1"):
    return msg("case.opened", {"case_id": case_id, "refund_id": None, "opened_by": "buyer",
                               "evidence_due_at": (NOW + timedelta(days=3)).isoformat(), "buyer_id": buyer_id,
                               "seller_id": "S1"}, order_id)


def play(*messages, state: dict[str, Any] | None = None, now: datetime = NOW) -> dict[str, Any] | None:
    for i, m in enumerate(messages):
        assert domain.route(m)[-1] == KEY  # every one of them reaches the buyer's record
        decision = domain.decide(KEY, state, m, Context(now=now, settings=S, cause_id=f"e{i}"))
        if decision.changes_state:
            state = decision.state
    return state


def test_a_buyer_who_was_never_in_a_case_is_counted_but_not_in_the_query_model() -> None:
    state = play(paid("O1"), paid("O2"), refunded("O1"))
    summary = buyers.BuyerRecord.load(KEY, state).summary()
    assert (summary["orders"], summary["refunds"], summary["refund_rate"], summary["cases"]) == (2, 1, 0.5, 0)
    assert domain.views(KEY, state) == []


def test_the_first_case_puts_the_whole_record_before_the_arbitrators() -> None:
    state = play(paid("O1"), paid("O2"), refunded("O1"), case_opened("C1", "O2"))
    [doc] = domain.views(KEY, state)
    assert doc.collection == BUYERS
    assert doc.doc == {"_id": "B1", "orders": 2, "requests": 0, "refunds": 1, "refund_rate": 0.5, "cases": 1,
                       "misconduct": []}


def test_a_case_is_counted_once_however_often_it_is_told() -> None:
    state = play(case_opened("C1"), case_opened("C1"), case_opened("C2", "O2"))
    assert buyers.BuyerRecord.load(KEY, state).summary()["cases"] == 2


def test_a_case_older_than_the_window_drops_out_of_the_count() -> None:
    state = play(case_opened("C1"))
    later = NOW + timedelta(days=91)
    state = play(paid("O9"), state=state, now=later)
    record = buyers.BuyerRecord.load(KEY, state)
    assert record.summary()["cases"] == 0 and record.summary()["orders"] == 1
    assert domain.views(KEY, state) == []  # the query model keeps what it last had; a new case rewrites it


def test_a_case_without_a_known_buyer_reaches_only_its_order() -> None:
    assert domain.route(case_opened("C1", buyer_id=None)) == []


def test_a_buyers_sanction_is_said_on_its_own_topic_and_in_the_table_every_service_reads() -> None:
    from contracts import ladder
    from contracts.topics import ARBITRATION_EVENTS

    ruled = msg("ruling.issued", {"case_id": "C1", "refund_id": "R1", "outcome": "reject", "refund_fen": 0,
                                  "return_shipping_paid_by": "buyer", "seller_at_fault": False, "reasoning": "伪造凭证",
                                  "decided_by": "A1", "appealable_until": None, "return_shipping_fen": 0,
                                  "misconduct": "buyer", "penalty_fen": 0, "buyer_id": "B1",
                                  "sanction": {"party": "buyer", "level": "banned"}})
    assert domain.route(ruled)[-1] == KEY
    d = domain.decide(KEY, None, ruled, Context(now=NOW, settings=S, cause_id="r"))
    [said] = [e for e in d.emits if e.type == "account.sanctioned"]
    assert said.topic == ARBITRATION_EVENTS and (said.data["party"], said.data["level"]) == ("buyer", "banned")
    [flagged] = [e.data for e in d.emits if e.type == "buyer.flagged"]
    assert flagged["sanction"] == "banned" and flagged["sanction_until"] is None
    assert ladder.held_back(flagged, NOW) == "banned"
    assert ladder.held_back({"sanction": "suspended", "sanction_until": NOW.isoformat()}, NOW) is None  # over
    assert ladder.held_back({"sanction": "warning"}, NOW) is None
