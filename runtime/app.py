"""Wiring one service process: FastStream broker and subscriber, database, background loops,
health and metrics over HTTP. Each service's `bootstrap` calls `build_app` with its domain."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from pathlib import Path
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from runtime import db as dbmod
from runtime import metrics
from runtime import logging as logmod
from runtime.aggregate import AggregateStore
from runtime.kafka_auth import faststream_security
from runtime.ownership import partition_of
from runtime.domain import Domain
from runtime.pipeline import Pipeline, run_periodically
from runtime.publisher import Publisher
from runtime.settings import ServiceSettings

log = structlog.get_logger("app")


class _Assignment(ConsumerRebalanceListener):
    def __init__(self) -> None:
        self.partitions: set[Any] = set()
        self.on_change: list[Any] = []  # e.g. forget cached aggregates: their owner may change

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.partitions |= set(assigned)
        for fn in self.on_change:
            fn()
        log.info("partitions_assigned", count=len(self.partitions))

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.partitions -= set(revoked)
        for fn in self.on_change:
            fn()

    def numbers(self) -> set[int]:
        """Partition numbers owned (the same for every topic under the RangeAssignor)."""
        return {tp.partition for tp in self.partitions}


async def _raw(msg: Any, original: Any = None) -> Any:
    # The pipeline parses bytes itself, so a message that is not JSON still reaches it.
    return msg.raw_message


@dataclass
class Service:
    settings: ServiceSettings
    domain: Domain
    broker: KafkaBroker
    pipeline: Pipeline
    store: AggregateStore
    db: Any
    client: Any
    app: AsgiFastStream
    assignment: _Assignment


def build_service(domain: Domain, settings: ServiceSettings,
                  extra_routes: list[tuple[str, Any]] | None = None) -> Service:
    logmod.configure(domain.service, settings.log_level, settings.log_format)
    logging.getLogger("faststream").setLevel(logging.WARNING)
    broker = KafkaBroker(
        settings.kafka_bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
        client_id=f"aftersale-{domain.service}", logger=None,
        security=faststream_security(settings.kafka_security, settings.kafka_username, settings.kafka_password),
    )
    client = dbmod.connect(settings.mongo_url)
    database = dbmod.database(client, settings.db_name(domain.service))
    if hasattr(domain, "bind"):
        domain.bind(database)  # type: ignore[attr-defined]
    store = AggregateStore(database[domain.collection], settings.processed_window,
                           getattr(domain, "partition_of", partition_of), horizon_s=settings.timer_horizon_s)
    publisher = Publisher(broker, domain.service)
    service_ref: dict[str, Service] = {}
    assignment = _Assignment()
    assignment.on_change.append(store.forget)
    rescans: set[asyncio.Task[Any]] = set()  # kept referenced until done

    def schedule_rescan() -> None:
        # Partitions moved: forget the cache and learn the new set's timers and outboxes.
        if service_ref.get("svc") and not pipeline.stopping:
            task = asyncio.get_running_loop().create_task(pipeline.rescan())
            rescans.add(task)
            task.add_done_callback(rescans.discard)

    assignment.on_change.append(schedule_rescan)
    pipeline = Pipeline(domain, store, publisher, settings, owned_partitions=assignment.numbers)

    inbox = broker.subscriber(
        *domain.consumes, group_id=settings.group_id(domain.service), batch=True, max_records=500,
        batch_timeout_ms=50, auto_offset_reset=settings.offset_reset,  # type: ignore[arg-type]
        group_instance_id=f"{domain.service}-{settings.instance_id}" if settings.instance_id else None,
        session_timeout_ms=settings.session_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR, listener=assignment, decoder=_raw,
        # Range, not round robin: one consumer gets partition p of every topic, so it alone owns a key.
        partition_assignment_strategy=(RangePartitionAssignor,),
        title=f"{domain.service}-inbox",
        description=f"The {domain.service} service's consumer group: every record is parsed, deduplicated and applied.",
    )

    @inbox
    async def consume(records: Any, msg: KafkaMessage) -> None:
        await pipeline.process_batch(msg.raw_message)

    async def health(scope: Any) -> AsgiResponse:
        ready = bool(assignment.partitions)
        try:
            await asyncio.wait_for(client.admin.command("ping"), 2)
            db_ok = True
        except Exception:  # noqa: BLE001
            db_ok = False
        body = {"service": domain.service, "ready": ready and db_ok, "database": db_ok,
                "partitions": len(assignment.partitions), "inflight": pipeline.inflight, "pid": os.getpid()}
        return AsgiResponse(json.dumps(body).encode(), 200 if body["ready"] else 503,
                            headers={"content-type": "application/json"})

    async def prometheus(scope: Any) -> AsgiResponse:
        return AsgiResponse(generate_latest(), 200, headers={"content-type": CONTENT_TYPE_LATEST})

    async def measure_lag() -> None:
        """Consumer lag per owned partition: the end of the log minus our committed position."""
        consumer = getattr(inbox, "consumer", None)
        if consumer is None or not assignment.partitions:
            return
        parts = list(assignment.partitions)
        ends = await consumer.end_offsets(parts)
        for tp in parts:
            committed = await consumer.committed(tp)
            metrics.CONSUMER_LAG.labels(domain.service, tp.topic, str(tp.partition)).set(
                max(0, ends.get(tp, 0) - (committed or 0)))

    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []

    async def started() -> None:
        await store.ensure_indexes()
        if hasattr(domain, "ensure_indexes"):
            await domain.ensure_indexes()  # type: ignore[attr-defined]
        loops = [("rescan", settings.rescan_interval_s, pipeline.rescan),
                 ("timers", settings.timer_tick_s, pipeline.fire_due_timers),
                 ("relay", settings.relay_interval_s, pipeline.relay_stale_outboxes),
                 ("lag", 5.0, measure_lag)]
        for name, interval, fn in loops:
            tasks.append(asyncio.create_task(run_periodically(name, interval, fn, stop)))
        log.info("service_started", topics=list(domain.consumes), group=settings.group_id(domain.service),
                 database=settings.db_name(domain.service), http_port=settings.http_port)

    async def stopping() -> None:
        # Graceful: no new retries, let the batch in hand finish, then the broker commits and closes.
        pipeline.stopping = True
        stop.set()
        for _ in range(100):
            if pipeline.inflight == 0:
                break
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("service_stopping", inflight=pipeline.inflight)

    async def closed() -> None:
        await client.close()
        log.info("service_stopped")

    contract_doc = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi" / f"{domain.service}.json"

    async def contract(scope: Any) -> AsgiResponse:
        """The service's AsyncAPI document as exported from contracts/ (every message it reads and sends)."""
        return AsgiResponse(contract_doc.read_bytes(), 200, headers={"content-type": "application/json"})

    routes = [("/health", get(health)), ("/metrics", get(prometheus)), ("/asyncapi.json", get(contract)),
              *(extra_routes or [])]
    app = AsgiFastStream(broker, asgi_routes=routes, after_startup=[started], on_shutdown=[stopping],
                         after_shutdown=[closed], asyncapi_path="/asyncapi", logger=None)
    svc = Service(settings, domain, broker, pipeline, store, database, client, app, assignment)
    service_ref["svc"] = svc
    return svc


def run(svc: Service) -> None:
    s = svc.settings
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again under the
    # handler it found; with this one in place a clean stop exits 0 instead of "killed by SIGTERM".
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    asyncio.run(svc.app.run(log_level=logging.WARNING,
                            run_extra_options={"host": s.http_host, "port": s.http_port, "timeout_graceful_shutdown": 15}))
