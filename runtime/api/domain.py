"""What a service's domain gives the runtime: `build_service(domain, settings)` takes one of these.

A domain must say which topics it reads, route a message to aggregate keys, decide, and react to
its own deadlines. It may override the rest; the defaults here are what most services want.
Everything is pure: the runtime does all I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from contracts.parsing import ParsedMessage
from contracts.registry import COMMAND_TOPIC_OWNER, EVENTS_TOPIC_OF
from runtime.api.context import Context
from runtime.api.decision import Decision
from runtime.stream.ownership import partition_of


@dataclass(frozen=True)
class ViewDoc:
    """One document of the query model: inserted with its aggregate's first change, then replaced
    whole by `_id`, never by an older version."""

    collection: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class ViewIndex:
    """An index of the query model, made by the service that owns it (its readers may not)."""

    collection: str
    keys: tuple[tuple[str, int], ...]  # (field, 1 or -1), in order


class Domain:
    # ---- must ------------------------------------------------------------------------------
    service: str  # "refund", "seller", ...
    consumes: tuple[str, ...]  # the topics it reads

    def route(self, msg: ParsedMessage) -> list[str]:
        """The aggregate keys a message concerns, in the order they are to be applied."""
        raise NotImplementedError

    def decide(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage, ctx: Context) -> Decision:
        """Apply one message to one aggregate."""
        raise NotImplementedError

    def on_timer(self, key: str, state: dict[str, Any] | None, name: str, due_at: datetime, ctx: Context) -> Decision:
        """A deadline of this aggregate passed."""
        raise NotImplementedError

    # ---- may -------------------------------------------------------------------------------
    # Compacted topics every instance reads whole (Kafka Streams' global tables), by name.
    global_tables: tuple[str, ...] = ()
    # The query model's indexes, made by the view writer before its first write.
    indexes: tuple[ViewIndex, ...] = ()
    # The deadlines its aggregates keep, by name (a timer is "<name>" or "<name>:<what it is for>"):
    # `describe` lists them, and a decision that sets one not named here is a bug (the processor
    # raises, so a test or the simulation finds it).
    timers: tuple[str, ...] = ()
    # Event types the service counts for its business metrics, once committed (`count`).
    counted: frozenset[str] = frozenset()

    def count(self, type_: str, data: dict[str, Any]) -> None:
        """Business counters (Prometheus) of a committed event of a `counted` type: the one place a
        domain's module touches the outside, and only to count."""

    def partition_of(self, key: str) -> int:
        """The partition an aggregate lives on: the hash of the key its messages carry. A key
        routed from another partition reaches it through the repartition topic."""
        return partition_of(key)

    def context(self, key: str, state: dict[str, Any] | None, msg: ParsedMessage | None,
                tables: Mapping[str, Mapping[str, Any]]) -> Any:
        """Read-only facts for `decide` from the global tables (it arrives as `ctx.extra`)."""
        return None

    def views(self, key: str, state: dict[str, Any]) -> list[ViewDoc]:
        """The query model's documents of an aggregate: what people and tools look up. None by
        default: every write is the database's work (a replace takes FerretDB ~1 ms of CPU), and
        what a service holds is an interactive query away (`GET /state?key=`)."""
        return []

    @property
    def history_topics(self) -> tuple[str, ...]:
        """The topics whose events the query model keeps for good (timelines outlive retention):
        the service's command topic and its events topic."""
        own = [t for t, s in COMMAND_TOPIC_OWNER.items() if s == self.service]
        return (*own, EVENTS_TOPIC_OF[self.service])

    def project(self, topic: str, envelope: dict[str, Any]) -> list[ViewDoc]:
        """Documents of the query model derived from one event read from `history_topics`."""
        return []
