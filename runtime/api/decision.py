"""What a pure domain function returns. No I/O here: services' state machines build these."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from runtime.api.context import Context


@dataclass(frozen=True)
class Emit:
    """An event to publish in the same transaction as the state change that emits it."""

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


def actor_of(msg: Any) -> tuple[str, str]:
    """Who sent a parsed message: (role, id), as `Collector(..., actor)` takes it."""
    return msg.envelope.actor.role, msg.envelope.actor.id


class Aggregate(Protocol):
    def dump(self) -> dict[str, Any]: ...


A = TypeVar("A", bound=Aggregate)


class Collector(Generic[A]):
    """Collects what one message (or one timer) does to one aggregate: the events it emits and the
    payloads it writes; `decision()` turns them, the aggregate's state and its deadlines into the
    Decision. One type for every service; a service's subclass adds the verbs of its domain
    (`RefundCollector.transition`, `NotifyCollector.send`) and says where its deadlines come from."""

    def __init__(self, agg: A, ctx: "Context", actor: tuple[str, str] | None = None) -> None:
        self.agg, self.ctx, self.actor = agg, ctx, actor
        self.emits: list[Emit] = []
        self.payloads: dict[str, dict[str, Any]] = {}

    def emit(self, type_: str, data: dict[str, Any], *, correlation_id: str | None = None,
             by_actor: bool = False, topic: str | None = None) -> None:
        """An event; `by_actor`: published in the name of whoever sent the message, not the service;
        `topic`: for a type the contract places on more than one service's topic."""
        role, aid = self.actor if (by_actor and self.actor) else ("system", None)
        self.emits.append(Emit(type_, data, actor_role=role, actor_id=aid, topic=topic, correlation_id=correlation_id))

    def timers(self) -> dict[str, datetime] | None:
        """The aggregate's pending deadlines after this decision (name -> due time); None: they stay
        as they were (an aggregate that keeps none)."""
        return None

    def decision(self) -> Decision:
        return Decision(state=self.agg.dump(), emits=self.emits, timers=self.timers(), payloads=self.payloads)
