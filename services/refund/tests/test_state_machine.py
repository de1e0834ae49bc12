"""The after-sale request's state machine, pure: every state against every trigger."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from contracts.build import encode, envelope
from contracts.parsing import parse_message
from runtime.api.context import Context
from services.refund.domain.model import OfferRecord, OrderFacts, OrderRefunds, Parcel, Refund
from services.refund.domain.move import payout_id_of
from services.refund.domain.service import RefundDomain
from services.refund.domain.transitions import AWAITING, CLOSED_WHY, STATES, TRANSITIONS, TRIGGERS, check_table, next_state
from services.refund.settings import RefundSettings

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
DUE = NOW + timedelta(hours=1)
SETTINGS = RefundSettings(payout_max_attempts=3)
BUYER, SELLER = ("buyer", "B1"), ("seller", "S1")
domain = RefundDomain()


def ctx(cause: str = "e1") -> Context:
    return Context(now=NOW, settings=SETTINGS, cause_id=cause)


def msg(type_: str, data: dict[str, Any], actor: tuple[str, str] = ("system", "x")):
    env = envelope(type_, {"order_id": "O1", **data}, actor={"role": actor[0], "id": actor[1]}, validate=False)
    return parse_message(encode(env))


def order_with(state: str, kind: str = "refund_only", **refund: Any) -> dict[str, Any]:
    agg = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=10000, paid_at=NOW,
                                                       shipped=Parcel(carrier="SF", tracking_no="1", at=NOW)))
    offer_kind = refund.pop("offer_kind", None)
    r = Refund(refund_id="R1", kind=kind, reason="quality", amount_fen=6000, refund_to="original",
               created_at=NOW, updated_at=NOW, state=state, awaiting=AWAITING[state], **refund)
    refund["offer_kind"] = offer_kind
    if state == "offer_pending":
        offer_kind = refund.pop("offer_kind", None) or "partial_refund"
        r.offers = [OfferRecord(offer_id="OF1", kind=offer_kind, at=NOW, buyer_due_at=DUE,
                                amount_fen=5000 if offer_kind in ("partial_refund", "return_and_refund") else None)]
    refund.pop("offer_kind", None)
    if state == "payout_pending" or state == "payout_failed":
        r.payout_id, r.payout_fen, r.payout_attempts = payout_id_of(r), 6000, 1
    agg.refunds["R1"] = r
    agg.open_refund_id = None if state == "closed" else "R1"
    return agg.dump()


REQUEST = {"kind": "refund_only", "reason": "quality", "amount_fen": 1000, "refund_to": "original",
           "description": "again, with photos", "evidence": []}


def apply(state: str, trigger: str, kind: str = "refund_only", arg: str | None = None):
    """Drive `trigger` at a request in `state`; returns (decision, refund-after or None)."""
    timer = None
    extra: dict[str, Any] = {}
    if trigger in ("escalation_expired", "return_ship_expired", "return_confirm_expired",
                   "payout_retry_due", "offer_lapsed"):
        extra = {"timer": trigger, "due_at": DUE}
        timer = trigger
    if trigger == "payout.exhausted":
        extra = {}
    if trigger == "offer.accept":
        extra["offer_kind"] = arg
    state_doc = order_with(state, kind, **extra)
    if trigger == "case.closed":  # a 'reject' ruled, and the case closed with it standing
        state_doc["refunds"]["R1"]["case_id"] = "C1"
        state_doc["refunds"]["R1"]["rulings"] = [{"case_id": "C1", "outcome": "reject", "refund_fen": 0,
                                                  "decided_by": "A1", "round": 1, "final": False}]
    if trigger == "payout.exhausted":
        state_doc["refunds"]["R1"]["payout_attempts"] = SETTINGS.payout_max_attempts
    if timer:
        d = domain.on_timer("O1", state_doc, f"{timer}:R1", DUE, ctx())
    else:
        m = {
            "refund.request": lambda: msg("refund.request", REQUEST, BUYER),
            "refund.cancel": lambda: msg("refund.cancel", {"refund_id": "R1"}, BUYER),
            "return.shipped": lambda: msg("return.shipped", {"refund_id": "R1", "carrier": "SF", "tracking_no": "1"}, BUYER),
            "payout.retry": lambda: msg("payout.retry", {"refund_id": "R1"}, ("system", "ops")),
            "seller.approved": lambda: msg("seller.approved", {"refund_id": "R1"}, SELLER),
            "seller.rejected": lambda: msg("seller.rejected", {"refund_id": "R1", "reason": "opened", "message": "m", "evidence": []}, SELLER),
            "seller.timed_out": lambda: msg("seller.timed_out", {"refund_id": "R1"}),
            "seller.offered": lambda: msg("seller.offered", {"refund_id": "R1", "offer_id": "OF2", "message": "m",
                                                             "offer": {"kind": "partial_refund", "amount_fen": 3000},
                                                             "buyer_due_at": "2026-11-28T08:00:00Z"}, SELLER),
            "offer.accept": lambda: msg("offer.accept", {"refund_id": "R1", "offer_id": "OF1"}, BUYER),
            "offer.decline": lambda: msg("offer.decline", {"refund_id": "R1", "offer_id": "OF1", "message": "no"}, BUYER),
            "seller.return_received": lambda: msg("seller.return_received", {"refund_id": "R1"}, SELLER),
            "seller.replacement_expired": lambda: msg("seller.replacement_expired", {"refund_id": "R1", "due_at": "2026-11-27T08:00:00Z"}),
            "seller.replacement_shipped": lambda: msg("seller.replacement_shipped", {"refund_id": "R1", "carrier": "SF", "tracking_no": "2"}, SELLER),
            "case.opened": lambda: msg("case.opened", {"case_id": "C1", "refund_id": "R1", "opened_by": "buyer",
                                                       "evidence_due_at": "2026-11-27T08:00:00Z"}, BUYER),
            "ruling.issued": lambda: _ruling(arg or "full_refund", final=False),
            "ruling.final_reject": lambda: _ruling("reject", final=True),
            "ruling.appealed": lambda: msg("ruling.appealed", {"case_id": "C1", "refund_id": "R1", "party": "buyer",
                                                               "evidence_due_at": "2026-11-27T08:00:00Z"}, BUYER),
            "case.closed": lambda: msg("case.closed", {"case_id": "C1", "why": "ruling_final"}),
            "payout.succeeded": lambda: msg("payout.succeeded", {"payout_id": "payout:R1", "amount_fen": 6000}),
            "payout.failed": lambda: msg("payout.failed", {"payout_id": "payout:R1", "code": "x", "message": "y"}),
            "payout.exhausted": lambda: msg("payout.failed", {"payout_id": "payout:R1", "code": "x", "message": "y"}),
        }[trigger]()
        d = domain.decide("O1", state_doc, m, ctx())
    after = OrderRefunds.load("O1", d.state).refunds["R1"] if d.state else None
    return d, after


def _ruling(outcome: str, final: bool):
    return msg("ruling.issued", {"case_id": "C1", "refund_id": "R1", "outcome": outcome, "refund_fen": 6000,
                                 "return_shipping_paid_by": "seller", "seller_at_fault": True, "reasoning": "r",
                                 "decided_by": "A1", "appealable_until": None if final else "2026-12-01T00:00:00Z",
                                 "return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 0,
                                 "round": 2 if final else 1, "final": final}, ("arbitrator", "A1"))


def test_the_table_is_consistent():
    assert check_table() == []


LEGAL = sorted(TRANSITIONS)
# `unshipped_refund` is no message anybody sends: it follows a refund.request on an unshipped order.
ILLEGAL = sorted((s, t) for s in STATES for t in TRIGGERS if (s, t) not in TRANSITIONS and t != "unshipped_refund")


@pytest.mark.parametrize("state,trigger", LEGAL)
def test_every_legal_transition_moves_as_the_table_says(state, trigger):
    if trigger == "unshipped_refund":
        return test_a_refund_before_shipment_is_approved_at_once_as_a_cancellation()
    kinds = ["refund_only", "return_and_refund", "exchange"]
    for kind in kinds:
        if trigger == "ruling.issued":
            for outcome in ("full_refund", "partial_refund", "return_and_refund", "exchange", "cancel_order"):
                d, after = apply(state, trigger, kind, outcome)
                assert d.reject is None and after is not None
                assert after.state == next_state(state, trigger, outcome), (kind, outcome)
            continue
        if trigger == "offer.accept":
            for offer in ("partial_refund", "return_and_refund", "exchange", "resend"):
                d, after = apply(state, trigger, kind, offer)
                assert d.reject is None and after is not None
                assert after.state == next_state(state, trigger, offer), (kind, offer)
            continue
        d, after = apply(state, trigger, kind)
        assert d.reject is None, d.reject
        assert after is not None, f"{state} --{trigger}--> changed nothing"
        assert after.state == next_state(state, trigger, kind)
        assert after.awaiting == AWAITING[after.state]
        if after.state == "closed":
            assert after.closed_why == CLOSED_WHY[trigger]
            assert any(e.type == "refund.closed" for e in d.emits)
        published = [e for e in d.emits if e.type == "refund.state_changed"]
        # A change of state is published once; a trigger that keeps the state publishes none.
        assert len(published) == (0 if after.state == state else 1), (state, trigger, kind)


@pytest.mark.parametrize("state,trigger", ILLEGAL)
def test_every_illegal_transition_changes_nothing(state, trigger):
    d, after = apply(state, trigger)
    assert after is None or after.state == state, (d, after)
    if state == "closed" and trigger == "refund.request":
        return  # not a transition of the closed request: a new request (see below)
    if trigger in ("refund.cancel", "return.shipped", "payout.retry", "refund.request", "offer.accept", "offer.decline"):
        assert d.reject is not None, "a command that cannot apply is refused with a reason"
    assert not [e for e in d.emits if e.type in ("payout.request", "refund.closed", "refund.completed")]


def test_a_new_request_after_a_closed_one_opens_a_second_request():
    d, _ = apply("closed", "refund.request")
    after = OrderRefunds.load("O1", d.state)
    assert len(after.refunds) == 2 and after.open_refund is not None and after.open_refund.state == "requested"


def test_a_late_ruling_is_recorded_for_operators_without_moving_money():
    d, after = apply("closed", "ruling.issued", arg="full_refund")
    assert after.state == "closed" and after.notes
    assert not [e for e in d.emits if e.type == "payout.request"]


def test_the_design_document_shows_every_transition_and_state():
    """docs/domain.md's tables are what the code does: a row per (state, trigger), a row per state."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "domain.md").read_text(encoding="utf-8")
    missing = [f"{s} --{t}-->" for s, t in TRANSITIONS if f"| `{s}` | `{t}` |" not in doc]
    missing += [f"state {s}" for s in STATES if f"| `{s}` | {AWAITING[s]} |" not in doc]
    assert missing == []


def test_a_refund_before_shipment_is_approved_at_once_as_a_cancellation():
    unshipped = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=10000, paid_at=NOW))
    whole = {**REQUEST, "amount_fen": 10000}
    d = domain.decide("O1", unshipped.dump(), msg("refund.request", whole, BUYER), ctx())
    [refund] = OrderRefunds.load("O1", d.state).refunds.values()
    assert refund.state == "payout_pending" and refund.payout_fen == 10000
    types = [e.type for e in d.emits]
    assert types.index("refund.requested") < types.index("refund.order_cancel_requested") < types.index("payout.request")
    assert next(e for e in d.emits if e.type == "refund.requested").data["auto_approved"] is True
    goods_back = domain.decide("O1", unshipped.dump(), msg("refund.request", {**REQUEST, "kind": "return_and_refund"},
                                                           BUYER), ctx())
    assert [r.state for r in OrderRefunds.load("O1", goods_back.state).refunds.values()] == ["requested"]
    # A part of the order before shipment does not cancel it: the seller answers (and ships the rest).
    part = domain.decide("O1", unshipped.dump(), msg("refund.request", REQUEST, BUYER), ctx())
    assert [r.state for r in OrderRefunds.load("O1", part.state).refunds.values()] == ["requested"]
    assert "refund.order_cancel_requested" not in [e.type for e in part.emits]


def test_every_trigger_publishes_a_declared_cause() -> None:
    """A new trigger must be added to `RefundCause` too, or its state change is refused downstream."""
    from typing import get_args

    from contracts.refund import RefundCause
    from services.refund.domain.transitions import DEADLINE, TRIGGERS

    timers = {name for name, _ in DEADLINE.values()} | {"offer_lapsed"}
    said_by_their_message = {"ruling.final_reject": "ruling.issued", "payout.exhausted": "payout.failed",
                             "payout_retry_due": None}  # the retry changes no state
    causes = set(get_args(RefundCause))
    for trigger in TRIGGERS:
        cause = f"timer.{trigger}" if trigger in timers else said_by_their_message.get(trigger, trigger)
        assert cause is None or cause in causes, trigger


def test_past_its_ship_by_an_unshipped_order_is_cancelled_for_late_shipment_whatever_part_was_asked():
    late = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=10000, paid_at=NOW,
                                                        ship_by=NOW - timedelta(hours=1)))
    d = domain.decide("O1", late.dump(), msg("refund.request", REQUEST, BUYER), ctx())  # asked ¥10 of ¥100
    [refund] = OrderRefunds.load("O1", d.state).refunds.values()
    assert refund.state == "payout_pending" and refund.payout_fen == 10000  # the whole order, at once
    requested = next(e for e in d.emits if e.type == "refund.requested").data
    assert requested["late_shipment"] is True and requested["auto_approved"] is True
    # before its ship_by, the same part is the seller's to answer
    on_time = late.model_copy(deep=True)
    on_time.order.ship_by = NOW + timedelta(hours=1)
    d = domain.decide("O1", on_time.dump(), msg("refund.request", REQUEST, BUYER), ctx())
    assert [r.state for r in OrderRefunds.load("O1", d.state).refunds.values()] == ["requested"]


def test_an_order_shipped_after_its_ship_by_is_said_once():
    state = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=10000, paid_at=NOW,
                                                         ship_by=NOW)).dump()
    shipped = {"carrier": "SF", "tracking_no": "SF1", "shipped_at": (NOW + timedelta(hours=2)).isoformat()}
    d = domain.decide("O1", state, msg("order.shipped", shipped), ctx())
    [late] = [e.data for e in d.emits if e.type == "order.shipped_late"]
    assert late["seller_id"] == "S1" and late["ship_by"] == NOW
    again = domain.decide("O1", d.state, msg("order.shipped", shipped), ctx("e2"))
    assert [e for e in again.emits if e.type == "order.shipped_late"] == []
    in_time = domain.decide("O1", state, msg("order.shipped", {**shipped, "shipped_at": NOW.isoformat()}), ctx())
    assert [e for e in in_time.emits if e.type == "order.shipped_late"] == []


def test_a_suspended_or_banned_buyer_asks_no_more_and_a_restricted_one_still_may():
    from services.refund.domain.model import OrderFacts
    state = OrderRefunds(order_id="O1", order=OrderFacts(buyer_id="B1", seller_id="S1", paid_fen=10000,
                                                         paid_at=NOW)).dump()
    for entry, code in (({"sanction": "banned"}, "account_banned"),
                        ({"sanction": "suspended", "sanction_until": (NOW + timedelta(days=1)).isoformat()},
                         "account_suspended"),
                        ({"sanction": "restricted"}, None), (None, None)):
        c = Context(now=NOW, settings=SETTINGS, cause_id="e1", extra={"buyer": entry})
        d = domain.decide("O1", state, msg("refund.request", REQUEST, BUYER), c)
        assert (d.reject.code if d.reject else None) == code


def test_the_return_address_of_an_approval_travels_with_the_wait_for_the_goods():
    address = {"name": "售后部", "phone": "13800138000", "address": "杭州市余杭区 1 号"}
    state = order_with("requested", kind="return_and_refund")
    d = domain.decide("O1", state, msg("seller.approved", {"refund_id": "R1", "return_address": address}, SELLER), ctx())
    [changed] = [e.data for e in d.emits if e.type == "refund.state_changed"]
    assert (changed["state"], changed["return_address"]) == ("return_pending", address)
