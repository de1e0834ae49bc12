"""What a pure domain function returns. No I/O here: services' state machines build these."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Emit:
    """An event to publish once the state change is durable (it goes through the outbox)."""

    type: str
    data: dict[str, Any]
    actor_role: str = "system"
    actor_id: str | None = None  # None: the emitting service itself
    topic: str | None = None  # None: the topic the contract names for the type
    correlation_id: str | None = None  # None: inherited from the message being handled


@dataclass(frozen=True)
class Reject:
    """A command is refused: nothing changes, a `command.rejected` says why."""

    code: str
    message: str


@dataclass
class Decision:
    """The outcome of one message (or one timer) applied to one aggregate.

    - `state is None` and no reject: the message does not concern this aggregate (ignored, but
      remembered as processed if the aggregate exists).
    - `timers` replaces the aggregate's pending timers when given (name -> due time).
    - `payloads`: what grows with every message (a submission's text and attachments), each under
      a key of its own in the aggregate's partition, written once; the aggregate keeps its key. So
      one more message costs the same whatever came before (its own record in the changelog, not
      the whole aggregate's growth).
    """

    state: dict[str, Any] | None = None
    emits: list[Emit] = field(default_factory=list)
    timers: dict[str, datetime] | None = None
    reject: Reject | None = None
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def ignore(cls) -> "Decision":
        return cls()

    @classmethod
    def refuse(cls, code: str, message: str) -> "Decision":
        return cls(reject=Reject(code, message))

    @property
    def changes_state(self) -> bool:
        return self.state is not None
