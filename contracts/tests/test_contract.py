"""The external contract (../shared/contract.md) as the models implement it."""
from __future__ import annotations

import json

import pytest

from contracts import Invalid, authorize, parse_message
from contracts import topics as T
from contracts.build import encode, envelope
from contracts.export import stale
from contracts.registry import MESSAGES, spec_for, topics_of

# topic -> type -> the data fields the contract lists as required
CONTRACT = {
    T.ORDERS_EVENTS: {
        "order.paid": {"order_id", "buyer_id", "seller_id", "amount_fen", "currency", "paid_at"},
        "order.shipped": {"order_id", "carrier", "tracking_no", "shipped_at"},
        "order.delivered": {"order_id", "delivered_at"},
    },
    T.PAYMENTS_EVENTS: {
        "payout.succeeded": {"payout_id", "order_id", "amount_fen"},
        "payout.failed": {"payout_id", "order_id", "code", "message"},
    },
    T.REFUND_COMMANDS: {
        "refund.request": {"order_id", "kind", "reason", "amount_fen", "refund_to", "description", "evidence"},
        "refund.cancel": {"order_id", "refund_id"},
        "return.shipped": {"order_id", "refund_id", "carrier", "tracking_no", "postage_fen"},
        "offer.accept": {"order_id", "refund_id", "offer_id"},
        "offer.decline": {"order_id", "refund_id", "offer_id", "message"},
        "conversation.post": {"order_id", "refund_id", "text", "attachments"},
    },
    T.SELLER_COMMANDS: {
        "seller.approve": {"order_id", "refund_id"},
        "seller.reject": {"order_id", "refund_id", "reason", "message", "evidence"},
        "return.received": {"order_id", "refund_id"},
        "seller.offer": {"order_id", "refund_id", "offer", "message"},
        "complaint.file": {"complaint_id", "against_seller_id", "subject", "right", "description", "evidence"},  # v3
        "complaint.respond": {"complaint_id", "description", "evidence"},  # v3
    },
    T.ARBITRATION_COMMANDS: {
        "intervention.request": {"order_id", "reason", "description", "evidence"},
        "evidence.submit": {"order_id", "case_id", "description", "evidence"},
        "ruling.appeal": {"order_id", "case_id", "description", "evidence"},
    },
    T.ARBITRATION_DECISIONS: {
        "ruling.decide": {"order_id", "case_id", "outcome", "refund_fen", "return_shipping_paid_by", "seller_at_fault",
                          "reasoning", "return_shipping_fen", "misconduct", "penalty_fen"},
        "evidence.request": {"order_id", "case_id", "party", "message", "due_in_seconds"},
        "case.open": {"order_id", "reason", "description", "evidence"},  # v3
        "funds.hold": {"order_id", "case_id", "party", "reason"},  # v3
        "complaint.decide": {"complaint_id", "outcome", "reasoning"},  # v3
        "funds.release": {"order_id", "case_id", "party", "reason"},  # v3
    },
    T.NOTIFY_COMMANDS: {"message.read": {"user_id", "message_id"}},
    T.REFUND_EVENTS: {
        "refund.requested": {"order_id", "refund_id", "kind", "reason", "amount_fen", "seller_id", "buyer_id", "seller_due_at"},
        "refund.completed": {"order_id", "refund_id", "amount_fen", "refund_to"},
        "refund.closed": {"order_id", "refund_id", "why"},
        "refund.offer_accepted": {"order_id", "refund_id", "offer_id"},
        "refund.offer_declined": {"order_id", "refund_id", "offer_id"},
        "conversation.posted": {"order_id", "refund_id", "post_id", "author_role", "text", "attachments"},
        "command.rejected": {"command_event_id", "command_type", "code", "message"},
    },
    T.SELLER_EVENTS: {
        "seller.approved": {"order_id", "refund_id"},
        "seller.rejected": {"order_id", "refund_id", "reason", "message"},
        "seller.timed_out": {"order_id", "refund_id"},
        "seller.offered": {"order_id", "refund_id", "offer_id", "offer", "message", "buyer_due_at"},
        "seller.penalized": {"order_id", "seller_id", "case_id", "amount_fen", "reason"},
        "account.sanctioned": {"party", "party_id", "level", "until", "case_id"},  # v3
        "account.sanction_lifted": {"party", "party_id", "level", "case_id"},  # v3
    },
    T.ARBITRATION_EVENTS: {
        "case.opened": {"order_id", "case_id", "refund_id", "opened_by", "evidence_due_at"},
        "ruling.issued": {"order_id", "case_id", "outcome", "refund_fen", "return_shipping_paid_by", "seller_at_fault",
                          "reasoning", "decided_by", "appealable_until", "return_shipping_fen", "misconduct", "penalty_fen"},
        "account.sanctioned": {"party", "party_id", "level", "until", "case_id"},  # v3
        "account.sanction_lifted": {"party", "party_id", "level", "case_id"},  # v3
        "complaint.filed": {"complaint_id", "against_seller_id"},  # v3
        "complaint.answered": {"complaint_id", "against_seller_id"},  # v3
        "complaint.ruled": {"complaint_id", "against_seller_id", "outcome"},  # v3
    },
    T.PAYMENTS_COMMANDS: {"payout.request": {"payout_id", "order_id", "refund_id", "amount_fen", "refund_to", "purpose",
                                             "payee_id"},
                          "deposit.deduct": {"deduction_id", "order_id", "seller_id", "case_id", "amount_fen", "reason"},
                          # v3, made public
                          "deposit.refund": {"deduction_id", "order_id", "seller_id", "case_id", "amount_fen", "reason"},
                          "settlement.hold": {"hold_id", "order_id", "case_id", "party", "party_id", "reason"},  # v3
                          "settlement.release": {"hold_id", "order_id", "case_id", "party", "party_id", "reason"}},
    T.NOTIFY_EVENTS: {"message.sent": {"message_id", "user_id", "order_id", "template", "title", "body", "locale"}},
}


@pytest.mark.parametrize("topic,type_,fields", [(t, ty, f) for t, m in CONTRACT.items() for ty, f in m.items()])
def test_every_contract_message_is_modelled_on_its_topic_with_its_fields(topic, type_, fields):
    spec = spec_for(type_)
    assert spec is not None, type_
    assert topic in topics_of(type_)
    props = set(spec.model.model_json_schema()["properties"])
    assert fields <= props, f"{type_} lacks {fields - props}"
    assert not spec.internal


def test_every_modelled_type_outside_the_contract_is_marked_internal():
    contract_types = {ty for m in CONTRACT.values() for ty in m}
    for type_, spec in MESSAGES.items():
        if type_ not in contract_types:
            assert spec.internal, f"{type_} is not in contract.md, so it must be marked internal"


def test_exported_schemas_and_asyncapi_are_fresh():
    assert stale() == [], "run `make export` and commit"


def _refund_request(**data_overrides):
    data = {"order_id": "O1", "kind": "refund_only", "reason": "quality", "amount_fen": 100, "refund_to": "original",
            "description": "坏了", "evidence": [{"kind": "photo", "uri": "https://x.cn/1.jpg"}], **data_overrides}
    return envelope("refund.request", data, actor={"role": "buyer", "id": "B1"}, validate=False)


def test_a_valid_command_parses_and_unknown_extra_fields_are_tolerated():
    env = _refund_request(color="blue")
    env["extra_top_level"] = 1
    msg = parse_message(encode(env), topic=T.REFUND_COMMANDS)
    assert msg.data.amount_fen == 100 and msg.type == "refund.request"


@pytest.mark.parametrize("overrides,code,field", [
    ({"amount_fen": "100"}, "invalid_amount", "amount_fen"),
    ({"amount_fen": 100.0}, "invalid_amount", "amount_fen"),
    ({"amount_fen": 0}, "invalid_amount", "amount_fen"),
    ({"amount_fen": -5}, "invalid_amount", "amount_fen"),
    ({"kind": "gift"}, "unknown_kind", "kind"),
    ({"reason": "bored"}, "unknown_reason", "reason"),
    ({"refund_to": "wechat"}, "invalid_refund_to", "refund_to"),
    ({"description": "长" * 2001}, "description_too_long", "description"),
    ({"evidence": [{"kind": "photo", "uri": "https://x.cn/1.jpg"}] * 21}, "invalid_evidence", "evidence"),
    ({"evidence": [{"kind": "photo", "uri": "not a uri"}]}, "invalid_evidence", "evidence"),
    ({"evidence": [{"kind": "hologram", "uri": "https://x.cn/1"}]}, "invalid_evidence", "evidence"),
    ({"evidence": [{"kind": "photo", "uri": "https://x.cn/" + "a" * 2100}]}, "invalid_evidence", "evidence"),
])
def test_listed_fields_are_strict_and_the_rejection_names_the_field(overrides, code, field):
    with pytest.raises(Invalid) as e:
        parse_message(encode(_refund_request(**overrides)), topic=T.REFUND_COMMANDS)
    assert e.value.code == code
    assert field in e.value.message
    assert e.value.event_id  # known, so a command.rejected can name the command


@pytest.mark.parametrize("raw,code", [
    (b"\xff\xfe", "not_json"),
    (b"{not json", "not_json"),
    # Not JSON by its RFC, though Python's own json module reads them: NaN, and a lone surrogate
    # (a string no UTF-8 encoder can write back out).
    (b'{"event_id": "e", "data": {"amount_fen": NaN}}', "not_json"),
    (b'{"event_id": "\\ud800"}', "not_json"),
    (b"[" * 2000, "not_json"),  # nested deeper than the parser goes
    (b"[1,2]", "not_an_object"),
    (b'{"type": "refund.request"}', "bad_envelope"),
    (None, "empty"),
    (b"{" + b" " * (300 * 1024) + b"}", "too_large"),
])
def test_unparseable_values_are_invalid_with_a_reason(raw, code):
    with pytest.raises(Invalid) as e:
        parse_message(raw)
    assert e.value.code == code


def test_unknown_type_wrong_version_wrong_topic_and_wrong_role_are_invalid():
    env = _refund_request()
    seller_sent = parse_message(encode({**env, "actor": {"role": "seller", "id": "S1"}}), topic=T.REFUND_COMMANDS)
    assert authorize(seller_sent).code == "forbidden"  # well-formed, but not the topic's role
    seller_anywhere = parse_message(encode({**env, "actor": {"role": "seller", "id": "S1"}}))
    assert authorize(seller_anywhere).code == "actor_not_allowed"  # read without a topic: the type's roles
    assert authorize(parse_message(encode(env))) is None
    for change, code in [({"type": "refund.teleport"}, "unknown_type"), ({"version": 2}, "unsupported_version"),
                         ({"actor": {"role": "emperor", "id": "X"}}, "bad_envelope"),
                         ({"occurred_at": "yesterday"}, "bad_envelope"), ({"event_id": ""}, "bad_envelope")]:
        with pytest.raises(Invalid) as e:
            parse_message(encode({**env, **change}), topic=T.REFUND_COMMANDS)
        assert e.value.code == code, change
    with pytest.raises(Invalid) as e:
        parse_message(encode(env), topic=T.SELLER_COMMANDS)
    assert e.value.code == "wrong_topic"


RULING = {"order_id": "O1", "case_id": "C1", "outcome": "full_refund", "refund_fen": 100,
          "return_shipping_paid_by": "seller", "seller_at_fault": True, "reasoning": "r"}


def test_an_arbitrators_command_is_accepted_only_on_arbitration_decisions_and_only_from_an_arbitrator():
    ruling = envelope("ruling.decide", RULING, actor={"role": "arbitrator", "id": "ARB-1"})
    assert authorize(parse_message(encode(ruling), topic=T.ARBITRATION_DECISIONS)) is None
    with pytest.raises(Invalid) as e:  # a ruling on the topic buyers and sellers may write
        parse_message(encode(ruling), topic=T.ARBITRATION_COMMANDS)
    assert e.value.code == "forbidden"
    forged = {**ruling, "actor": {"role": "buyer", "id": "B1"}}
    assert authorize(parse_message(encode(forged), topic=T.ARBITRATION_DECISIONS)).code == "forbidden"
    posing = envelope("intervention.request", {"order_id": "O1", "refund_id": "R1", "reason": "x", "description": "d",
                                               "evidence": []}, actor={"role": "arbitrator", "id": "ARB-1"})
    assert authorize(parse_message(encode(posing), topic=T.ARBITRATION_COMMANDS)).code == "forbidden"


def test_the_platforms_own_events_may_name_an_arbitrator_as_the_actor():
    issued = envelope("ruling.issued", {**RULING, "decided_by": "ARB-1", "appealable_until": None,
                                        "return_shipping_fen": 0, "misconduct": "none", "penalty_fen": 0},
                      actor={"role": "arbitrator", "id": "ARB-1"})
    assert authorize(parse_message(encode(issued), topic=T.ARBITRATION_EVENTS)) is None


def test_command_rejected_is_accepted_on_every_service_events_topic():
    env = envelope("command.rejected", {"command_event_id": "e1", "command_type": "x", "code": "not_buyer",
                                        "message": "no"}, actor={"role": "system", "id": "svc:seller"})
    for topic in (T.REFUND_EVENTS, T.SELLER_EVENTS, T.ARBITRATION_EVENTS, T.NOTIFY_EVENTS):
        assert parse_message(encode(env), topic=topic).type == "command.rejected"


def test_money_is_integer_fen_and_times_are_rfc3339_utc():
    env = envelope("order.paid", {"order_id": "O", "buyer_id": "B", "seller_id": "S", "amount_fen": 12900,
                                  "currency": "CNY", "paid_at": "2026-11-26T08:00:00Z"}, actor={"role": "system", "id": "o"})
    text = json.loads(encode(env))
    assert text["occurred_at"].endswith("Z")
    with pytest.raises(Invalid):
        parse_message(encode({**env, "data": {**env["data"], "currency": "USD"}}))


POST = {"order_id": "O1", "refund_id": "R1", "text": "你好", "attachments": []}
APPEAL = {"order_id": "O1", "case_id": "C1", "description": "不服", "evidence": []}


def _as(type_: str, data: dict, role: str, topic: str):
    return parse_message(encode(envelope(type_, data, actor={"role": role, "id": f"{role}-1"})), topic=topic)


def test_each_inbound_topic_takes_one_role_the_seller_speaks_only_on_seller_commands():
    # Contract version 3: the seller's posts and appeals on seller.commands, the buyer's on its own.
    assert authorize(_as("conversation.post", POST, "seller", T.SELLER_COMMANDS)) is None
    assert authorize(_as("ruling.appeal", APPEAL, "seller", T.SELLER_COMMANDS)) is None
    assert authorize(_as("conversation.post", POST, "buyer", T.REFUND_COMMANDS)) is None
    assert authorize(_as("ruling.appeal", APPEAL, "buyer", T.ARBITRATION_COMMANDS)) is None
    # Claiming the other party on a topic only that party's app writes: refused, strict or not.
    accept = {"order_id": "O1", "refund_id": "R1", "offer_id": "F1"}
    for msg in (_as("offer.accept", accept, "seller", T.REFUND_COMMANDS),
                _as("refund.cancel", {"order_id": "O1", "refund_id": "R1"}, "seller", T.REFUND_COMMANDS),
                _as("conversation.post", POST, "buyer", T.SELLER_COMMANDS),
                _as("ruling.appeal", APPEAL, "buyer", T.SELLER_COMMANDS),
                _as("payout.retry", {"order_id": "O1", "refund_id": "R1"}, "buyer", T.OPS_COMMANDS)):
        assert authorize(msg).code == "forbidden", msg.type
        assert authorize(msg, strict=True).code == "forbidden", msg.type


def test_version_2_placements_pass_for_one_release_unless_strict():
    from contracts.parsing import v2_placement
    old = [_as("conversation.post", POST, "seller", T.REFUND_COMMANDS),
           _as("ruling.appeal", APPEAL, "seller", T.ARBITRATION_COMMANDS),
           _as("payout.retry", {"order_id": "O1", "refund_id": "R1"}, "system", T.REFUND_COMMANDS)]
    for msg in old:
        assert v2_placement(msg) and authorize(msg) is None, msg.type
        assert authorize(msg, strict=True).code == "forbidden", msg.type
    assert not v2_placement(_as("conversation.post", POST, "seller", T.SELLER_COMMANDS))
    assert authorize(_as("payout.retry", {"order_id": "O1", "refund_id": "R1"}, "system", T.OPS_COMMANDS)) is None
