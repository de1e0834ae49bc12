"""Turning Kafka bytes into a validated message, or a precise reason why not."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from contracts.common import Data
from contracts.envelope import Envelope
from contracts.registry import EXTERNAL, INBOUND_ROLES, V2_PLACEMENTS, MessageSpec, spec_for, spec_on, topics_of
from contracts.topics import ARBITRATION_DECISIONS

MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class ParsedMessage:
    envelope: Envelope
    spec: MessageSpec
    data: Data
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)  # the JSON as it came
    topic: str | None = None  # where it was read (the topic it was sent to, when repartitioned)

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def event_id(self) -> str:
        return self.envelope.event_id


@dataclass
class Invalid(Exception):
    """The bytes are not an acceptable message. `code` is stable, `message` is for people."""

    code: str
    message: str
    event_id: str | None = None
    type: str | None = None
    order_id: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# A precise code for the fields people most often get wrong; anything else is `invalid_data`.
FIELD_CODES = {
    "amount_fen": "invalid_amount", "refund_fen": "invalid_amount", "kind": "unknown_kind", "reason": "unknown_reason",
    "refund_to": "invalid_refund_to", "evidence": "invalid_evidence", "outcome": "unknown_outcome",
}


def _data_code(err: ValidationError) -> str:
    first = err.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if field in ("description", "message", "reasoning") and first["type"] == "string_too_long":
        return "description_too_long" if field == "description" else f"{field}_too_long"
    return FIELD_CODES.get(field, "invalid_data")


def _first_error(err: ValidationError, prefix: str) -> str:
    first = err.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    extra = f" ({len(err.errors())} problems)" if len(err.errors()) > 1 else ""
    return f"{prefix}{where}: {first['msg']}{extra}"


def _holds_nul(v: Any) -> bool:
    if isinstance(v, str):
        return "\x00" in v
    if isinstance(v, dict):
        return any("\x00" in k or _holds_nul(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_holds_nul(x) for x in v)
    return False


def parse_message(raw: bytes | None, *, topic: str | None = None) -> ParsedMessage:
    """Validate envelope and data. Raises `Invalid` with what is wrong; never anything else."""
    if raw is None:
        raise Invalid("empty", "the message has no value")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Invalid("too_large", f"the message is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        doc: Any = orjson.loads(raw)
    except ValueError as e:  # orjson.JSONDecodeError, bad UTF-8 included
        raise Invalid("not_json", f"the value is not UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise Invalid("not_an_object", "the value must be a JSON object (the envelope)")
    # What we can learn before validation, so a rejection can name the command.
    event_id = doc.get("event_id") if isinstance(doc.get("event_id"), str) else None
    type_ = doc.get("type") if isinstance(doc.get("type"), str) else None
    data = doc.get("data")
    order_id = data.get("order_id") if isinstance(data, dict) and isinstance(data.get("order_id"), str) else None
    ids = dict(event_id=event_id[:128] if event_id else None, type=type_[:128] if type_ else None,
               order_id=order_id[:128] if order_id else None)
    if b"\\u0000" in raw and _holds_nul(doc):  # the cheap test first: JSON writes NUL only so
        ids = {k: v if v and "\x00" not in v else None for k, v in ids.items()}  # the refusal names no NUL
        raise Invalid("nul_in_text", "no key or string may hold the NUL character (\\u0000): no store keeps it", **ids)
    try:
        env = Envelope.model_validate(doc)
    except ValidationError as e:
        raise Invalid("bad_envelope", _first_error(e, "envelope."), **ids) from None
    spec = spec_on(env.type, topic)
    if spec is None:
        raise Invalid("unknown_type", f"unknown message type {env.type!r}", **ids)
    if topic is not None and topic not in topics_of(env.type) and spec.topic == ARBITRATION_DECISIONS:
        raise Invalid("forbidden", f"{env.type!r} is accepted only on {ARBITRATION_DECISIONS!r}, which only the "
                                   f"arbitrators' tools may write; not on {topic!r}", **ids)
    if topic is not None and topic not in topics_of(env.type):
        raise Invalid("wrong_topic", f"{env.type!r} belongs on {spec.topic!r}, not {topic!r}", **ids)
    if env.version != spec.version:
        raise Invalid("unsupported_version", f"{env.type!r} version {env.version} is not supported (expected {spec.version})", **ids)
    try:
        data_model = spec.model.model_validate(env.data)
    except ValidationError as e:
        raise Invalid(_data_code(e), _first_error(e, "data."), **ids) from None
    return ParsedMessage(env, spec, data_model, doc, topic)


def authorize(msg: ParsedMessage, *, strict: bool = False) -> Invalid | None:
    """Whether the actor's role may send this type on its topic (a well-formed message, refused).

    Kafka authorizes by topic, not by message: every inbound topic has one writer, and the role a
    message claims must be that writer's (contract version 3; `INBOUND_ROLES`). `arbitrator` is
    accepted only on arbitration.decisions, and nothing else there. Version 2's placements of the
    seller's messages pass unless `strict` (`v2_placement`). (The platform's own events say who
    acted, an arbitrator included; their topics only the services may write.)"""
    role = msg.envelope.actor.role
    ids = (msg.event_id, msg.type, getattr(msg.data, "order_id", None))
    allowed = INBOUND_ROLES.get(msg.topic or "")
    if allowed is not None and role not in allowed:
        if not strict and v2_placement(msg):
            return None
        if role == "arbitrator" or msg.topic == ARBITRATION_DECISIONS:
            return _arbitrators_only(role, msg.type, msg.topic, ids)
        return Invalid("forbidden", f"a {role} may not write {msg.topic!r}: only {' or '.join(allowed)} messages "
                                    f"are accepted there (one writer and one role per topic)", *ids)
    if msg.topic is None and msg.spec.producer == EXTERNAL \
            and (role == "arbitrator") != (msg.spec.topic == ARBITRATION_DECISIONS):
        return _arbitrators_only(role, msg.type, msg.spec.topic, ids)
    if role not in msg.spec.roles:
        return Invalid("actor_not_allowed", f"a {msg.envelope.actor.role} may not send {msg.type!r}", *ids)
    return None


def _arbitrators_only(role: str, type_: str, topic: str | None, ids: tuple) -> Invalid:
    return Invalid("forbidden", f"a {role} may not send {type_!r} on {topic!r}; arbitrators' commands are "
                                f"accepted only on {ARBITRATION_DECISIONS!r}, and only from them", *ids)


def v2_placement(msg: ParsedMessage) -> bool:
    """A message where contract version 2 put it and version 3 moved it (the seller's posts,
    interventions, evidence and appeals; payout.retry): accepted for one release, with a warning."""
    return (msg.topic or "", msg.type, msg.envelope.actor.role) in V2_PLACEMENTS
