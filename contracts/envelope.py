"""The envelope every Kafka message value carries (contract.md, "Envelope")."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

Role = Literal["buyer", "seller", "arbitrator", "system"]

EventId = StrictStr


class Actor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    role: Role
    id: StrictStr = Field(min_length=1, max_length=128)


class Envelope(BaseModel):
    """One Kafka message value. `data` is validated separately against the type's model."""

    model_config = ConfigDict(extra="ignore")

    event_id: StrictStr = Field(min_length=1, max_length=128)
    type: StrictStr = Field(min_length=1, max_length=64)
    version: StrictInt = Field(ge=1)
    occurred_at: AwareDatetime
    correlation_id: StrictStr | None = Field(default=None, max_length=128)
    causation_id: StrictStr | None = Field(default=None, max_length=128)
    actor: Actor
    data: dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(ts: datetime) -> str:
    """UTC, second precision or better, with a `Z` (what the contract shows)."""
    ts = ts.astimezone(timezone.utc)
    text = ts.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
