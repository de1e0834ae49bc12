"""Version 3's new fields, tried as a careless or hostile sender would: each is refused at the door
with a code that says why, never taken in half-formed."""
from __future__ import annotations

from typing import Any

import pytest

from contracts.build import encode, envelope
from contracts.parsing import Invalid, parse_message

ADDRESS = {"name": "售后部", "phone": "13800138000", "address": "杭州市 1 号"}


def send(type_: str, data: dict[str, Any], role: str = "arbitrator") -> Any:
    return parse_message(encode(envelope(type_, {"order_id": "O1", **data}, actor={"role": role, "id": "x"},
                                         validate=False)))


RULING = {"case_id": "C1", "outcome": "reject", "return_shipping_paid_by": "seller", "seller_at_fault": True,
          "reasoning": "r"}


@pytest.mark.parametrize("type_,data,role", [
    ("ruling.decide", {**RULING, "sanction": {"party": "seller", "level": "suspended"}}, "arbitrator"),  # no days
    ("ruling.decide", {**RULING, "sanction": {"party": "seller", "level": "banned", "days": 3}}, "arbitrator"),
    ("ruling.decide", {**RULING, "sanction": {"party": "seller", "level": "suspended", "days": 0}}, "arbitrator"),
    ("ruling.decide", {**RULING, "sanction": {"party": "platform", "level": "warning"}}, "arbitrator"),
    ("ruling.decide", {**RULING, "compensation_fen": 10**12 + 1}, "arbitrator"),  # past any 64-bit-safe bound
    ("ruling.decide", {**RULING, "compensation_fen": -1}, "arbitrator"),
    ("funds.hold", {"case_id": "C1", "party": "seller", "reason": ""}, "arbitrator"),
    ("funds.hold", {"case_id": "C1", "party": "nobody", "reason": "r"}, "arbitrator"),
    ("intervention.request", {"refund_id": "R1", "reason": "r", "description": "d", "evidence": [],
                              "demands": ["freeze_counterparty"] * 5}, "buyer"),
    ("intervention.request", {"refund_id": "R1", "reason": "r", "description": "d", "evidence": [],
                              "demands": ["take_everything"]}, "buyer"),
    ("seller.approve", {"refund_id": "R1", "return_address": {**ADDRESS, "phone": "call me"}}, "seller"),
    ("seller.approve", {"refund_id": "R1", "return_address": {**ADDRESS, "address": "x" * 201}}, "seller"),
    ("seller.approve", {"refund_id": "R1", "return_address": {"name": "售后部"}}, "seller"),
    ("case.open", {"reason": "because", "description": "d", "evidence": []}, "arbitrator"),
])
def test_a_malformed_v3_field_is_refused_as_invalid(type_, data, role):
    with pytest.raises(Invalid) as refused:
        send(type_, data, role)
    # a bad `reason` has a code of its own (unknown_reason); any other field, invalid_data
    expected = "unknown_reason" if "reason" in refused.value.message.split(":")[0] else "invalid_data"
    assert refused.value.code == expected and refused.value.message.startswith("data.")


def test_the_well_formed_ones_pass():
    send("ruling.decide", {**RULING, "sanction": {"party": "seller", "level": "suspended", "days": 7},
                           "compensation_fen": 10**12})
    send("seller.approve", {"refund_id": "R1", "return_address": {**ADDRESS, "phone": "+86 138-0013-8000"}}, "seller")
    send("intervention.request", {"refund_id": "R1", "reason": "r", "description": "d", "evidence": [],
                                  "demands": ["freeze_counterparty", "compensation"]}, "buyer")
