"""Building messages: the one place that turns a type and its data into envelope bytes."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from contracts.envelope import Actor, Envelope, rfc3339, utc_now
from contracts.registry import spec_for


def new_event_id() -> str:
    return str(uuid.uuid4())


def envelope(
    type_: str,
    data: dict[str, Any],
    *,
    actor: Actor | dict[str, str],
    event_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """A JSON-ready envelope. With `validate`, the data must match the type's model."""
    spec = spec_for(type_)
    if validate:
        if spec is None:
            raise ValueError(f"unknown message type {type_!r}")
        data = spec.model.model_validate(data).model_dump(mode="json")
    actor_doc = actor.model_dump() if isinstance(actor, Actor) else dict(actor)
    return {
        "event_id": event_id or new_event_id(),
        "type": type_,
        "version": spec.version if spec else 1,
        "occurred_at": rfc3339(occurred_at or utc_now()),
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "actor": actor_doc,
        "data": data,
    }


def encode(env: dict[str, Any] | Envelope) -> bytes:
    if isinstance(env, Envelope):
        env = env.model_dump(mode="json")
    return orjson.dumps(env)


def key_of(env: dict[str, Any]) -> bytes:
    spec = spec_for(env["type"])
    field = spec.key_field if spec else "order_id"
    return str(env["data"].get(field, "")).encode()
