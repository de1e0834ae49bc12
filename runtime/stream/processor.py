"""The steps a record takes inside a task, with no I/O: parse → authorize → route → apply.

`apply_decision` is the one place a decision becomes a new aggregate version and records to
write; messages and timers both go through it. The task (runtime.stream.task) runs these steps over a
batch and commits what they wrote in one transaction.
"""
from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime
from typing import Any, Callable, Mapping

import structlog

from contracts.build import envelope as build_envelope
from contracts.envelope import Actor, utc_now
from contracts.parsing import Invalid, ParsedMessage, authorize, parse_message, v2_placement
from contracts.registry import COMMAND_TOPIC_OWNER, EVENTS_TOPIC_OF, command_owner, spec_for, topic_for, topics_of
from runtime.api.context import Context, derived_uuid
from runtime.api.decision import Decision
from runtime.api.domain import Domain
from runtime.service import metrics
from runtime.service.settings import ServiceSettings
from runtime.stream.aggregate import Aggregate
from runtime.stream.batch import Batch
from runtime.stream.dlq import InvalidMessage, dead_letter_record
from runtime.stream.records import H_AGGREGATE_KEY, H_SOURCE_TOPIC, InRecord, OutRecord, RecordLike, event_record, header

log = structlog.get_logger("processor")

TIMER_EVENT_PREFIX = "timer:"
# Outcomes of one record, as counted in metrics.MESSAGES.
APPLIED, DUPLICATE, IGNORED, REJECTED, INVALID, FORWARDED = (
    "applied", "duplicate", "ignored", "rejected", "invalid", "forwarded")


def now_ms() -> datetime:
    """Milliseconds, like every time the platform writes."""
    now = utc_now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


REPLAY = "dead_letter.replay"  # an operator sends back a dead letter of a service's own topic


class Processor:
    def __init__(self, domain: Domain, settings: ServiceSettings, repartition: str,
                 tables: Mapping[str, Mapping[str, Any]] | None = None,
                 clock: Callable[[], datetime] = now_ms) -> None:
        self.domain = domain
        self.clock = clock  # the simulation gives a virtual one
        self.settings = settings
        self.service = domain.service
        self.tables = tables or {}
        self.repartition = repartition
        self.fault_mark = f"__fail_in_{self.service}__".encode() if settings.fault_injection else None

    # ---- a record --------------------------------------------------------------------------

    def handle(self, record: RecordLike, batch: Batch) -> str:
        """A record through the steps (STEPS, in runtime.stream.steps): parse → authorize → route →
        apply; the task commits. Never raises for a bad message (it is refused or dead-lettered);
        raises for a bug."""
        started = time.perf_counter()
        if self.fault_mark is not None and record.value and self.fault_mark in record.value:
            raise RuntimeError(f"fault injected: the record carries {self.fault_mark.decode()}")
        source = header(record.headers, H_SOURCE_TOPIC) if record.topic == self.repartition else None
        msg = self.parse(record, source, batch)
        if msg is None:
            return INVALID
        env = msg.envelope
        structlog.contextvars.bind_contextvars(
            event_id=env.event_id, type=env.type, correlation_id=env.correlation_id,
            order_id=getattr(msg.data, "order_id", None))
        try:
            if not self.authorize(record, msg, source, batch):
                outcome = REJECTED
            elif msg.type == REPLAY:
                outcome = self._replay(record, msg, batch)
            else:
                outcome = self.route(record, msg, source is not None, batch)
            metrics.MESSAGES.labels(self.service, record.topic, env.type, outcome).inc()
            metrics.HANDLE_SECONDS.labels(self.service).observe(time.perf_counter() - started)
            log.info("handled", outcome=outcome, topic=record.topic, partition=record.partition,
                      offset=record.offset, actor=env.actor.role)
            return outcome
        finally:
            structlog.contextvars.unbind_contextvars("event_id", "type", "order_id", "correlation_id")

    def parse(self, record: RecordLike, source: str | None, batch: Batch) -> ParsedMessage | None:
        """The record's bytes into a message of the contract; a record that is none is dead-lettered
        (and refused, when a command of this service)."""
        try:
            return parse_message(record.value, topic=source or record.topic)
        except Invalid as inv:
            self._refuse_unparseable(record, inv, batch)
            return None

    def authorize(self, record: RecordLike, msg: ParsedMessage, source: str | None, batch: Batch) -> bool:
        """The role its topic allows for its type; anything else is refused (`forbidden`), not
        dead-lettered. A record forwarded by another task was authorized there."""
        if source is not None:
            return True
        if (refused := authorize(msg, strict=self.settings.contract_strict)) is not None:
            if msg.spec.kind == "command" and command_owner(msg.type) == self.service:
                batch.write(self.rejection(msg, refused.code, refused.message))
            log.info("rejected", code=refused.code, reason=refused.message)
            return False
        if v2_placement(msg) and command_owner(msg.type) == self.service:
            log.warning("deprecated_placement", topic=record.topic, role=msg.envelope.actor.role,
                        moved_to=topic_for(msg.type, msg.envelope.actor.role))
        return True

    def _replay(self, record: RecordLike, msg: ParsedMessage, batch: Batch) -> str:
        """An operator's dead_letter.replay (ops.commands): the record it carries, handled as if read
        again from its topic, by the service that dead-lettered it. Its partition on ops.commands is
        its aggregate's, as the key is the same."""
        d = msg.data
        if d.service != self.service:
            return IGNORED
        try:
            value = base64.b64decode(d.value_b64, validate=True)
        except binascii.Error:
            log.warning("replay_refused", dead_letter=d.dead_letter, reason="value_b64 is not base64")
            return IGNORED
        if d.topic not in self.domain.consumes:
            log.warning("replay_refused", dead_letter=d.dead_letter, reason=f"{self.service} does not read {d.topic}")
            return IGNORED
        log.info("replaying", dead_letter=d.dead_letter, topic=d.topic)
        return self.handle(InRecord(d.topic, record.partition, record.offset, d.key.encode(), value,
                                    (("x-replayed-from", d.dead_letter.encode()),)), batch)

    def route(self, record: RecordLike, msg: ParsedMessage, repartitioned: bool, batch: Batch) -> str:
        """To the aggregate keys it concerns; a key of another partition goes there through the
        repartition topic, since each aggregate has one writer."""
        keys = [header(record.headers, H_AGGREGATE_KEY) or ""] if repartitioned else self.domain.route(msg)
        outcome = IGNORED
        for key in keys:
            home = self.domain.partition_of(key)
            if home != batch.partition:
                # Another partition's aggregate (a shop, a user): it has one writer, its owner.
                batch.write(OutRecord(self.repartition, key.encode(), record.value, home, (
                    (H_AGGREGATE_KEY, key.encode()), (H_SOURCE_TOPIC, record.topic.encode()))))
                result = FORWARDED
            else:
                result = self.apply(key, msg, batch, record)
            if result == REJECTED:
                return REJECTED
            if result in (APPLIED, FORWARDED) or outcome == IGNORED:
                outcome = result
        return outcome

    def apply(self, key: str, msg: ParsedMessage, batch: Batch, record: RecordLike | None = None) -> str:
        """The domain decides on the aggregate; its new version, events and deadlines go into the
        batch (once per event id: a duplicate changes nothing)."""
        agg = batch.get(key)
        if agg.has_processed(msg.event_id):
            log.info("duplicate", key=key)
            return DUPLICATE
        ctx = self._context(key, agg, msg, f"{msg.event_id}|{key}")
        decision = self.domain.decide(key, agg.state, msg, ctx)
        if decision.reject is not None:
            if msg.spec.kind == "command":
                batch.write(self.rejection(msg, decision.reject.code, decision.reject.message))
            log.info("rejected", code=decision.reject.code, reason=decision.reject.message)
            return REJECTED
        if not decision.changes_state and not decision.emits and decision.timers is None:
            return IGNORED
        new = agg.changed(state=decision.state, timers=decision.timers, event_id=msg.event_id,
                          window=self.settings.processed_window)
        if (size := len(new.encode())) > self.settings.aggregate_budget_bytes:
            return self._over_budget(msg, record, key, size, batch)
        self.apply_decision(batch, agg, decision, msg.event_id, msg.envelope.correlation_id, new)
        return APPLIED

    def _over_budget(self, msg: ParsedMessage, record: RecordLike | None, key: str, size: int, batch: Batch) -> str:
        """A change that would grow the aggregate past its budget is not made: a command is refused,
        an event dead-lettered. Either way the partition goes on."""
        budget = self.settings.aggregate_budget_bytes
        reason = (f"aggregate_budget: {key} would take {size} bytes, past its budget of {budget}; "
                  f"nothing more can be added to it")
        metrics.LIMITS_REACHED.labels(self.service, "aggregate_budget").inc()
        log.warning("over_budget", key=key, size=size, budget=budget)
        if msg.spec.kind == "command":
            batch.write(self.rejection(msg, "limit_reached", reason))
        elif record is not None:
            batch.write(dead_letter_record(record, InvalidMessage.of("limit_reached", reason), self.service))
            metrics.DEAD_LETTERS.labels(self.service, record.topic, "invalid.limit_reached").inc()
        return REJECTED

    # ---- a timer ---------------------------------------------------------------------------

    def fire(self, key: str, name: str, due_at: datetime, batch: Batch) -> str:
        agg = batch.get(key)
        # The version it fires at is part of its id: a deadline set again to the very same time after
        # it fired is another deadline (it fires, and its events are new), while a firing lost in a
        # crash fires again from the same version with the same ids.
        event_id = f"{TIMER_EVENT_PREFIX}{name}:{due_at.isoformat()}:v{agg.version}"
        if agg.timers.get(name) != due_at or agg.has_processed(event_id):
            return DUPLICATE  # the deadline moved or was cleared since it was scheduled
        structlog.contextvars.bind_contextvars(event_id=event_id, type=f"timer.{name}", order_id=key)
        try:
            ctx = self._context(key, agg, None, f"{event_id}|{key}")
            decision = self.domain.on_timer(key, agg.state, name, due_at, ctx)
            if decision.timers is None:  # a fired timer is gone unless the domain sets it again
                decision.timers = {n: t for n, t in agg.timers.items() if n != name}
            new = self.apply_decision(batch, agg, decision, event_id, None)
            metrics.TIMERS_FIRED.labels(self.service, name).inc()
            log.info("timer_fired", timer=name, due_at=due_at.isoformat(), version=new.version)
            return APPLIED
        finally:
            structlog.contextvars.unbind_contextvars("event_id", "type", "order_id")

    # ---- shared ----------------------------------------------------------------------------

    def apply_decision(self, batch: Batch, agg: Aggregate, decision: Decision, cause: str,
                       correlation_id: str | None, new: Aggregate | None = None) -> Aggregate:
        """The decision's new version of the aggregate and the events it emits, into the batch."""
        for name in (decision.timers or {}).keys() - agg.timers.keys():
            if name.split(":", 1)[0] not in self.domain.timers:
                raise ValueError(f"domain set an undeclared deadline {name!r} (Domain.timers)")
        for i, e in enumerate(decision.emits):
            spec = spec_for(e.type)
            if spec is None:
                raise ValueError(f"domain emitted unknown type {e.type!r}")
            env = build_envelope(
                e.type, e.data, actor=Actor(role=e.actor_role, id=e.actor_id or f"svc:{self.service}"),
                # The service is part of it: two services reacting to one event emit different events.
                event_id=derived_uuid(self.service, cause, agg.key, str(i)),
                correlation_id=e.correlation_id or correlation_id, causation_id=cause, occurred_at=self.clock())
            batch.write(event_record(env, e.topic or spec.topic, str(env["data"][spec.key_field]), self.service))
        if new is None:
            new = agg.changed(state=decision.state, timers=decision.timers, event_id=cause,
                              window=self.settings.processed_window)
        batch.put(new)
        for key, payload in decision.payloads.items():
            # In the aggregate's partition whatever its key hashes to: it lives and restores beside it.
            if (there := batch.get(key)).version == 0:
                batch.put(there.changed(state=payload, timers={}, event_id=cause, window=1))
        return new

    def _context(self, key: str, agg: Aggregate, msg: ParsedMessage | None, cause_id: str) -> Context:
        extra = self.domain.context(key, agg.state, msg, self.tables)
        return Context(now=self.clock(), settings=self.settings, cause_id=cause_id, extra=extra)

    def rejection(self, msg: ParsedMessage, code: str, message: str) -> OutRecord:
        env = msg.envelope
        return self.rejection_of(env.event_id, env.type, getattr(msg.data, "order_id", None), code, message,
                                 env.correlation_id)

    def rejection_of(self, command_event_id: str, command_type: str, order_id: str | None, code: str,
                     message: str, correlation_id: str | None = None) -> OutRecord:
        data = {"command_event_id": command_event_id[:128], "command_type": command_type[:128],
                "code": code, "message": message[:2000]}
        if order_id:
            data["order_id"] = order_id
        env = build_envelope(
            "command.rejected", data, actor=Actor(role="system", id=f"svc:{self.service}"),
            # Stable id: rejecting the same command twice is recognisably one rejection.
            event_id=derived_uuid("rejected", command_event_id, code),
            correlation_id=correlation_id, causation_id=command_event_id)
        metrics.REJECTIONS.labels(self.service, command_type[:64], code).inc()
        return event_record(env, EVENTS_TOPIC_OF[self.service], order_id or "", self.service)

    def _refuse_unparseable(self, record: RecordLike, inv: Invalid, batch: Batch) -> None:
        # Refused by the service that answers the command; by the topic's owner when the type is unknown.
        placed = inv.type is not None and record.topic in topics_of(inv.type)
        owner = command_owner(inv.type or "") if placed else COMMAND_TOPIC_OWNER.get(record.topic)
        if owner == self.service and inv.event_id:
            batch.write(self.rejection_of(inv.event_id, inv.type or "unknown", inv.order_id, inv.code, inv.message))
        letter = InvalidMessage.of(inv.code, inv.message)
        batch.write(dead_letter_record(record, letter, self.service))
        metrics.MESSAGES.labels(self.service, record.topic, (inv.type or "?")[:64], INVALID).inc()
        metrics.DEAD_LETTERS.labels(self.service, record.topic, letter.code).inc()
        log.warning("dead_lettered", code=letter.code, reason=letter.reason, topic=record.topic,
                    partition=record.partition, offset=record.offset, event_id=inv.event_id)
