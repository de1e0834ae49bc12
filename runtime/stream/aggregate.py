"""An aggregate as the state store holds it, and its changelog record.

The store keeps, per key: the domain's state, the deadlines it is waiting for (timers are state),
the ids of the last events applied (to recognise a duplicate another system sends) and a version.
Every change is written to the service's compacted changelog in the same Kafka transaction as
the events it causes, so the changelog is the durable copy and memory is a cache of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
from pydantic_core import to_json

# The earliest pending deadline travels in a header, so a restore can schedule timers without
# decoding every aggregate (they are decoded on first use).
H_NEXT_DUE = "x-next-due"
# On an aggregate's first changelog record: nothing of it was written before, so the query model
# has no document of it yet and can insert one (many per round trip) instead of replacing.
H_NEW = "x-new"


@dataclass(frozen=True)
class Aggregate:
    key: str
    version: int = 0  # 0: never stored
    state: dict[str, Any] | None = None
    timers: dict[str, datetime] = field(default_factory=dict)
    processed: tuple[str, ...] = ()  # recent event ids, newest last
    # Its changelog value once encoded: measured against the budget, then written, encoded once.
    _encoded: bytes | None = field(default=None, compare=False, repr=False)

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed

    @property
    def next_due(self) -> datetime | None:
        return min(self.timers.values()) if self.timers else None

    def changed(self, *, state: dict[str, Any] | None, timers: dict[str, datetime] | None, event_id: str,
                window: int) -> "Aggregate":
        """The next version: a new state (None keeps the old), timers (None keeps them)."""
        return replace(
            self, version=self.version + 1, _encoded=None,
            state=self.state if state is None else state,
            timers=dict(self.timers if timers is None else timers),
            processed=(*self.processed, event_id)[-window:],
        )

    # ---- the changelog record ----------------------------------------------------------------

    def encode(self) -> bytes:
        if self._encoded is None:
            object.__setattr__(self, "_encoded", to_json({
                "v": self.version, "state": self.state, "timers": {n: t.isoformat() for n, t in self.timers.items()},
                "processed": list(self.processed)}))
        assert self._encoded is not None
        return self._encoded

    def headers(self, new: bool = False) -> list[tuple[str, bytes]]:
        due = self.next_due
        return [*([(H_NEXT_DUE, due.isoformat().encode())] if due else []), *([(H_NEW, b"1")] if new else [])]

    @classmethod
    def decode(cls, key: str, value: bytes) -> "Aggregate":
        d = orjson.loads(value)
        return cls(key=key, version=d["v"], state=d.get("state"),
                   timers={n: datetime.fromisoformat(t) for n, t in (d.get("timers") or {}).items()},
                   processed=tuple(d.get("processed") or ()))


def is_new(headers: Any) -> bool:
    return any(k == H_NEW for k, _ in headers or ())


def next_due_of(headers: Any) -> datetime | None:
    for k, v in headers or ():
        if k == H_NEXT_DUE and v:
            return datetime.fromisoformat(v.decode())
    return None
