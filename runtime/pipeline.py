"""From a Kafka record to a durable effect: parse, route, dedupe, decide, commit, publish.

Offsets are committed by FastStream after a whole batch returns, so everything here finishes
(or is safely redone by dedupe) before a record counts as consumed.
"""
from __future__ import annotations

import asyncio
import heapq
import os
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, Iterable

import structlog

from contracts.build import envelope as build_envelope
from contracts.envelope import Actor, utc_now
from contracts.parsing import Invalid, ParsedMessage, authorize, parse_message
from contracts.registry import COMMAND_TOPIC_OWNER, spec_for
from runtime import metrics
from runtime.aggregate import Aggregate, AggregateStore, OutboxRecord, VersionConflict
from runtime.context import Context, derived_uuid
from runtime.decision import Decision
from runtime.dlq import DeadLetter, RecordLike
from runtime.domain import Domain
from runtime.errors import is_transient
from runtime.ownership import KeyLocks
from runtime.publisher import Publisher, record_from_envelope
from runtime.settings import ServiceSettings

log = structlog.get_logger("pipeline")

MAX_CONFLICT_RETRIES = 20
TIMER_EVENT_PREFIX = "timer:"


def now_ms() -> datetime:
    """The database keeps milliseconds; deciding with the same precision keeps times comparable."""
    now = utc_now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ShuttingDown(Exception):
    """Raised out of a retry loop on shutdown, so the batch is not committed and is redelivered."""


class Pipeline:
    def __init__(self, domain: Domain, store: AggregateStore, publisher: Publisher, settings: ServiceSettings,
                 concurrency: int = 64, owned_partitions: Any = None) -> None:
        self.domain = domain
        self.locks = KeyLocks()
        # Which partition numbers this process owns now (timers and relay touch only those keys).
        self.owned_partitions = owned_partitions or (lambda: set())
        self.store = store
        self.publisher = publisher
        self.settings = settings
        self.service = domain.service
        self._limit = asyncio.Semaphore(concurrency)
        self.stopping = False
        self.inflight = 0

    # ---- batches ---------------------------------------------------------------------------

    async def process_batch(self, records: Iterable[RecordLike]) -> None:
        """Records with the same key are applied in order; different keys run concurrently."""
        by_key: OrderedDict[bytes, dict[tuple[str, int], list[RecordLike]]] = OrderedDict()
        for r in records:
            by_key.setdefault(r.key or b"", {}).setdefault((r.topic, r.partition), []).append(r)
        # One key's records can come from several topics (an order.paid and a refund.request):
        # merge them by time, never reordering records of the same partition.
        groups = {k: list(heapq.merge(*parts.values(), key=lambda r: r.timestamp)) for k, parts in by_key.items()}

        async def run(group: list[RecordLike]) -> None:
            async with self._limit:
                for r in group:
                    await self.process_record(r)

        self.inflight += 1
        try:
            await asyncio.gather(*(run(g) for g in groups.values()))
        finally:
            self.inflight -= 1

    async def process_record(self, record: RecordLike) -> None:
        """Never raises for a bad message: it is rejected, dead-lettered or applied."""
        attempts = 0
        backoff = self.settings.retry_backoff_s
        while True:
            try:
                await self._handle(record)
                return
            except Exception as exc:  # noqa: BLE001 - classifying is the point
                if self.stopping:
                    raise ShuttingDown() from exc
                if is_transient(exc):
                    # The broker or the database is away: wait for it, do not give the message up.
                    log.warning("transient_failure", error=repr(exc), topic=record.topic, offset=record.offset)
                else:
                    attempts += 1
                    log.error("handler_failure", error=repr(exc), attempt=attempts, topic=record.topic,
                              offset=record.offset, exc_info=attempts == 1)
                    if attempts >= self.settings.handler_attempts:
                        await self._dead_letter(record, DeadLetter.handler_error(exc, attempts))
                        metrics.MESSAGES.labels(self.service, record.topic, "?", "dead_lettered").inc()
                        return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_backoff_max_s)
            finally:
                structlog.contextvars.unbind_contextvars("event_id", "type", "order_id", "correlation_id")

    async def _dead_letter(self, record: RecordLike, letter: DeadLetter) -> None:
        while True:
            try:
                topic = await self.publisher.send_dead_letter(record, letter)
                log.warning("dead_lettered", dlq=topic, code=letter.code, reason=letter.reason,
                            topic=record.topic, partition=record.partition, offset=record.offset)
                return
            except Exception as exc:  # noqa: BLE001 - the DLQ itself must not lose the record
                log.warning("dead_letter_failed", error=repr(exc))
                await asyncio.sleep(self.settings.retry_backoff_max_s)

    async def _handle(self, record: RecordLike) -> None:
        started = time.perf_counter()
        try:
            msg = parse_message(record.value, topic=record.topic)
        except Invalid as inv:
            await self._refuse_unparseable(record, inv)
            return
        env = msg.envelope
        structlog.contextvars.bind_contextvars(
            event_id=env.event_id, type=env.type, correlation_id=env.correlation_id,
            order_id=getattr(msg.data, "order_id", None),
        )
        if (refused := authorize(msg)) is not None:
            # Well-formed but from a role that may never send it: refused, not dead-lettered.
            if msg.spec.kind == "command" and COMMAND_TOPIC_OWNER.get(record.topic) == self.service:
                await self.publisher.send_rejection(
                    command_event_id=env.event_id, command_type=env.type, order_id=refused.order_id,
                    code=refused.code, message=refused.message, correlation_id=env.correlation_id)
            log.info("rejected", code=refused.code, reason=refused.message)
            metrics.MESSAGES.labels(self.service, record.topic, env.type, "rejected").inc()
            return
        outcome = "ignored"
        for key in self.domain.route(msg):
            result = await self.apply(key, msg)
            if result == "rejected":
                outcome = "rejected"
                break
            if result == "applied" or outcome == "ignored":
                outcome = result
        metrics.MESSAGES.labels(self.service, record.topic, env.type, outcome).inc()
        metrics.HANDLE_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        log.info("handled", outcome=outcome, topic=record.topic, partition=record.partition, offset=record.offset,
                 actor=env.actor.role)

    async def _refuse_unparseable(self, record: RecordLike, inv: Invalid) -> None:
        structlog.contextvars.bind_contextvars(event_id=inv.event_id, type=inv.type, order_id=inv.order_id)
        if COMMAND_TOPIC_OWNER.get(record.topic) == self.service and inv.event_id:
            await self.publisher.send_rejection(
                command_event_id=inv.event_id, command_type=inv.type or "unknown", order_id=inv.order_id,
                code=inv.code, message=inv.message,
            )
        await self._dead_letter(record, DeadLetter.invalid(inv.code, inv.message))
        metrics.MESSAGES.labels(self.service, record.topic, (inv.type or "?")[:64], "invalid").inc()

    # ---- one message, one aggregate ------------------------------------------------------------

    async def apply(self, key: str, msg: ParsedMessage) -> str:
        """Returns "applied", "duplicate", "ignored" or "rejected"."""
        async with self.locks.hold(key):
            return await self._apply(key, msg)

    async def _apply(self, key: str, msg: ParsedMessage) -> str:
        for _ in range(MAX_CONFLICT_RETRIES):
            agg = await self.store.load(key)
            if agg.has_processed(msg.event_id):
                await self._finish_outbox(agg)  # a crash may have left it unpublished
                log.info("duplicate", key=key)
                return "duplicate"
            now = now_ms()
            ctx = Context(now=now, settings=self.settings, cause_id=f"{msg.event_id}|{key}",
                          extra=await self._context(key, agg.state, msg))
            decision = self.domain.decide(key, agg.state, msg, ctx)
            if decision.reject is not None:
                await self._reject(msg, decision)
                return "rejected"
            if not decision.changes_state and not decision.emits and decision.timers is None:
                return "ignored"
            records = self._records(decision, agg, msg.envelope.correlation_id, msg.event_id, key)
            try:
                records = await self.store.commit(agg, state=decision.state, processed_id=msg.event_id,
                                                  outbox=records, timers=decision.timers, now=now)
            except VersionConflict:
                continue
            self._maybe_crash(records)
            await self._publish(key, records)
            return "applied"
        raise RuntimeError(f"aggregate {key} kept changing under us; giving up for now")

    async def fire_timer(self, key: str, name: str, due_at: datetime) -> str:
        """Apply one due timer. The caller holds the key's lock."""
        event_id = f"{TIMER_EVENT_PREFIX}{name}:{due_at.isoformat()}"
        structlog.contextvars.bind_contextvars(event_id=event_id, type=f"timer.{name}", order_id=key)
        try:
            for _ in range(MAX_CONFLICT_RETRIES):
                agg = await self.store.load(key)
                if agg.has_processed(event_id) or agg.timers.get(name) != due_at:
                    return "duplicate"
                now = now_ms()
                ctx = Context(now=now, settings=self.settings, cause_id=f"{event_id}|{key}",
                              extra=await self._context(key, agg.state, None))
                decision = self.domain.on_timer(key, agg.state, name, due_at, ctx)
                if decision.timers is None:  # a fired timer is gone unless the domain sets it again
                    decision.timers = {n: t for n, t in agg.timers.items() if n != name}
                records = self._records(decision, agg, None, event_id, key)
                try:
                    records = await self.store.commit(agg, state=decision.state, processed_id=event_id,
                                                      outbox=records, timers=decision.timers, now=now)
                except VersionConflict:
                    continue
                metrics.TIMERS_FIRED.labels(self.service, name).inc()
                log.info("timer_fired", timer=name, due_at=due_at.isoformat(), emitted=[r.type for r in records])
                self._maybe_crash(records)
                await self._publish(key, records)
                return "applied"
            raise RuntimeError(f"aggregate {key} kept changing under us")
        finally:
            structlog.contextvars.unbind_contextvars("event_id", "type", "order_id")

    # ---- helpers -------------------------------------------------------------------------------

    def _records(self, decision: Decision, agg: Aggregate, correlation_id: str | None, cause_id: str,
                 key: str) -> list[OutboxRecord]:
        out = []
        for i, e in enumerate(decision.emits):
            spec = spec_for(e.type)
            if spec is None:
                raise ValueError(f"domain emitted unknown type {e.type!r}")
            env = build_envelope(
                e.type, e.data,
                actor=Actor(role=e.actor_role, id=e.actor_id or f"svc:{self.service}"),
                event_id=derived_uuid(cause_id, key, str(i)),
                correlation_id=e.correlation_id or correlation_id,
                causation_id=cause_id,
            )
            out.append(record_from_envelope(env, e.topic or spec.topic, str(env["data"][spec.key_field])))
        return out

    async def _reject(self, msg: ParsedMessage, decision: Decision) -> None:
        assert decision.reject is not None
        env = msg.envelope
        if msg.spec.kind == "command":
            await self.publisher.send_rejection(
                command_event_id=env.event_id, command_type=env.type, order_id=getattr(msg.data, "order_id", None),
                code=decision.reject.code, message=decision.reject.message, correlation_id=env.correlation_id,
            )
        log.info("rejected", code=decision.reject.code, reason=decision.reject.message)

    async def _context(self, key: str, state: Any, msg: ParsedMessage | None) -> Any:
        loader = getattr(self.domain, "load_context", None)
        return await loader(key, state, msg) if loader else None

    async def _publish(self, key: str, records: list[OutboxRecord]) -> None:
        if not records:
            return
        effects = getattr(self.domain, "before_publish", None)
        if effects:
            await effects(records)
        await self.publisher.send_records(records)
        # Cleared from the document with the aggregate's next write, or by the relay if none comes.
        self.store.mark_published(key, [r.id for r in records])

    async def _finish_outbox(self, agg: Aggregate) -> None:
        if agg.unpublished:
            await self._publish(agg.key, agg.unpublished)

    def _maybe_crash(self, records: list[OutboxRecord]) -> None:
        target = self.settings.crash_after_commit_type
        if target and any(r.type == target for r in records):
            log.warning("fault_injection_crash", after_commit_of=target)
            os._exit(86)

    # ---- background work ----------------------------------------------------------------------

    async def relay_stale_outboxes(self) -> int:
        """Publish what a crashed predecessor stored but never sent, and clear what was published
        from aggregates that went quiet (owned keys only, known from memory; see rescan)."""
        older = utc_now() - timedelta(seconds=self.settings.relay_grace_s)
        n = 0
        for key in self.store.waiting_outboxes(older):
            async with self.locks.hold(key):
                agg = await self.store.load(key)
                pending = agg.unpublished
                if pending:  # stored but never sent: a predecessor crashed before publishing
                    log.warning("relaying_stale_outbox", key=key, records=len(pending))
                    await self._publish(key, pending)
                    n += len(pending)
                await self.store.clear_outbox(key, [r.id for r in agg.outbox])
        return n

    async def rescan(self) -> None:
        """Reload the owned aggregates' pending timers and outboxes from the database."""
        horizon = utc_now() + timedelta(seconds=self.settings.timer_horizon_s)
        await self.store.rescan(self.owned_partitions(), horizon)

    async def fire_due_timers(self) -> int:
        """Fire the due timers of the aggregates this process owns; a lease keeps a replica that
        is losing the partition in a rebalance from firing the same timer."""
        fired = 0
        lease = timedelta(seconds=self.settings.timer_lease_s)
        now = now_ms()
        owned = self.owned_partitions()
        for key in self.store.due_now(now):
            if self.stopping:
                break
            if self.store.partition(key) not in owned:
                self.store.due.pop(key, None)
                continue
            async with self.locks.hold(key):
                agg = await self.store.claim(key, now, lease)
                if agg is None:
                    self.store.due.pop(key, None)  # not due after all (moved); the database knows best
                    fresh = await self.store.load(key)
                    if fresh.timers:
                        self.store.due[key] = min(fresh.timers.values())
                    continue
                try:
                    for name, due in sorted(agg.timers.items(), key=lambda kv: kv[1]):
                        if due <= now and await self.fire_timer(key, name, due) == "applied":
                            fired += 1
                finally:
                    await self.store.release(key)
        return fired


async def run_periodically(name: str, interval: float, fn: Any, stop: asyncio.Event) -> None:
    """Run `fn` every `interval` seconds until `stop`; failures are logged, never fatal."""
    while not stop.is_set():
        try:
            await fn()
        except Exception as exc:  # noqa: BLE001 - a background loop must outlive a bad moment
            log.warning("background_failure", loop=name, error=repr(exc))
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass
