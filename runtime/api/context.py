"""What a pure decision may know of the world: the time and deterministic ids.

Ids derive from the event being handled, so handling the same event again (after a crash,
before the result was stored) produces the very same ids and events.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_NS = uuid.UUID("5b8f0e2a-9d1c-4c55-8a51-2f5e0d6f7a10")


def derived_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join(parts)))


def short_id(prefix: str, *parts: str, length: int = 16) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]
    return f"{prefix}{digest}"


@dataclass
class Context:
    now: datetime
    settings: Any  # runtime.service.settings.ServiceSettings (or a subclass)
    cause_id: str
    extra: Any = None  # read-only facts a service loaded before deciding (see Domain.load_context)
    _n: int = field(default=0, repr=False)

    def new_id(self, prefix: str) -> str:
        """A new, stable id for something this event creates (a refund, a case, a message)."""
        self._n += 1
        return short_id(prefix, self.cause_id, str(self._n))

    def after(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)
