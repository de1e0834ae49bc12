"""Wiring one service process: the domain, its tasks, the consumer loop, the view writer, the
global tables, and HTTP (health, metrics, the AsyncAPI contract). Each service's `bootstrap`
calls `build_service(domain, settings)`; nothing here looks for hooks by name.

The records are driven by aiokafka directly (runtime.stream.loop): FastStream's subscribers commit
offsets through the consumer, and exactly-once needs them committed inside the producer's
transaction. FastStream's ASGI helpers serve the HTTP routes; uvicorn runs the process.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog
import uvicorn
from faststream.asgi import AsgiResponse, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from runtime.api.domain import Domain
from runtime.service import logging as logmod
from runtime.service.describe import describe
from runtime.service.guard import behind_token
from runtime.service.settings import ServiceSettings
from runtime.stream.admin import ensure_internal_topics
from runtime.stream.kafka import KafkaChangelog, KafkaTransactions
from runtime.stream.kafka_auth import aiokafka_kwargs
from runtime.stream.loop import StreamLoop, Tasks
from runtime.stream.processor import Processor
from runtime.stream.queries import aggregate_answer
from runtime.stream.records import changelog_topic, repartition_topic, views_dlq_topic
from runtime.stream.stuck import stuck
from runtime.stream.tables import GlobalTable
from runtime.stream.task import Task
from runtime.views import db as dbmod
from runtime.views.refusals import KafkaViewDeadLetters
from runtime.views.writer import ViewWriter

log = structlog.get_logger("app")


@dataclass
class Service:
    settings: ServiceSettings
    domain: Domain
    tasks: Tasks
    loop: StreamLoop
    views: ViewWriter
    tables: dict[str, GlobalTable]
    changelog: KafkaChangelog
    db: Any
    client: Any
    app: Any  # the ASGI application
    kafka: dict[str, Any]  # client security settings
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    def health(self) -> dict[str, Any]:
        active = self.tasks.active
        stopped = {n: t.stopped_by for n, t in active.items() if t.stopped_by}
        views = self.views.health()
        blocked = stuck(self.domain.service, active, views, self.settings.stuck_after_s)
        ready = self.tasks.ready and bool(active) and not stopped and not blocked
        return {
            "service": self.domain.service, "ready": ready, "pid": os.getpid(), "partitions": sorted(active),
            "aggregates": sum(len(t.store) for t in active.values()),
            "restore_seconds": {n: round(t.restore_seconds, 3) for n, t in active.items()},
            "stopped_tasks": stopped, "stuck": blocked, "inflight": self.loop.inflight, "views": views,
        }

    async def start(self) -> None:
        steps: dict[str, float] = {}
        t = time.perf_counter()

        def done(step: str) -> None:
            nonlocal t
            steps[step] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()

        await ensure_internal_topics(self.settings.kafka_bootstrap, self.settings.group_id(self.domain.service),
                                     self.kafka)
        done("internal_topics")
        for table in self.tables.values():
            await table.start()
        done("global_tables")
        await self.loop.start()
        done("consumer")
        log.info("service_starting", seconds=steps)
        self.background = [asyncio.create_task(self.loop.run(self.stop)),
                           asyncio.create_task(self.loop.fire_timers(self.stop)),
                           asyncio.create_task(self.views.run(self.stop)),
                           asyncio.create_task(self.views.measure_behind(self.stop)),
                           asyncio.create_task(self.loop.measure_lag(self.stop))]
        log.info("service_started", topics=list(self.loop.topics), group=self.settings.group_id(self.domain.service),
                 database=self.settings.db_name(self.domain.service), http_port=self.settings.http_port)

    async def shutdown(self) -> None:
        """Graceful: the batch in hand commits, then the tasks close and the consumers leave, all
        within AFTERSALE_STOP_TIMEOUT_S, the broker or the database gone or not. What has not closed
        by then is left: a batch not committed is read again by its partition's next owner."""
        deadline = time.monotonic() + self.settings.stop_timeout_s
        left = lambda: max(0.1, deadline - time.monotonic())  # noqa: E731
        self.stop.set()
        await asyncio.wait(self.background, timeout=min(10.0, left() / 2))
        log.info("service_stopping", inflight=self.loop.inflight)
        for t in self.background:
            t.cancel()
        await asyncio.wait(self.background, timeout=left())
        parts = [("stream", self.loop.stop), ("views", self.views.stop), ("changelog", self.changelog.stop),
                 *((f"table {name}", table.stop) for name, table in self.tables.items()),
                 ("database", self.client.close)]
        for name, stop in parts:
            try:
                await asyncio.wait_for(stop(), timeout=left())
            except asyncio.TimeoutError:
                log.warning("stop_timed_out", part=name, timeout_s=self.settings.stop_timeout_s)
            except asyncio.CancelledError:
                # aiokafka's consumer lets the cancellation of its own fetch task escape its stop()
                # when the broker is gone; only a cancellation of this stop itself goes on.
                if (me := asyncio.current_task()) is not None and me.cancelling():
                    raise
                log.warning("stop_failed", part=name, error="cancelled inside the client")
            except Exception as exc:  # noqa: BLE001 - stopping: nothing else to do with it
                log.warning("stop_failed", part=name, error=repr(exc))
        log.info("service_stopped")


def build_service(domain: Domain, settings: ServiceSettings,
                  extra_routes: list[tuple[str, Any]] | None = None) -> Service:
    logmod.configure(domain.service, settings.log_level, settings.log_format)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    kafka = aiokafka_kwargs(settings.kafka_security, settings.kafka_username, settings.kafka_password)
    group = settings.group_id(domain.service)
    client = dbmod.connect(settings.mongo_url, settings.mongo_username, settings.mongo_password)
    database = dbmod.database(client, settings.db_name(domain.service))
    tables = {t: GlobalTable(settings.kafka_bootstrap, t, kafka) for t in domain.global_tables}
    internal = (changelog_topic(group), repartition_topic(group))
    processor = Processor(domain, settings, internal[1], {name: t.rows for name, t in tables.items()})
    changelog = KafkaChangelog(settings.kafka_bootstrap, internal[0], kafka)

    def make_task(n: int) -> Task:
        producer = KafkaTransactions(settings.kafka_bootstrap, f"{group}-{n}", group, kafka,
                                     settings.crash_in_transaction_type)
        return Task(n, processor, producer, changelog, internal[0], settings)

    tasks = Tasks(make_task)
    loop = StreamLoop(settings, domain.service, (*domain.consumes, internal[1]), group, tasks, kafka)
    views = ViewWriter(domain, settings, database, kafka,
                       KafkaViewDeadLetters(settings.kafka_bootstrap, views_dlq_topic(group), domain.service, kafka))
    contract_doc = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi" / f"{domain.service}.json"
    svc: Service

    async def health(scope: Any) -> AsgiResponse:
        body = svc.health()
        return AsgiResponse(json.dumps(body).encode(), 200 if body["ready"] else 503,
                            headers={"content-type": "application/json"})

    async def prometheus(scope: Any) -> AsgiResponse:
        svc.health()  # sets aftersale_stuck_seconds, so that a scrape alone keeps it current
        return AsgiResponse(generate_latest(), 200, headers={"content-type": CONTENT_TYPE_LATEST})

    async def contract(scope: Any) -> AsgiResponse:
        """The service's AsyncAPI document as exported from contracts/ (every message it reads and sends)."""
        return AsgiResponse(contract_doc.read_bytes(), 200, headers={"content-type": "application/json"})

    async def state(scope: Any) -> AsgiResponse:
        """GET /state?key=K: the aggregate this process holds for K (an interactive query)."""
        key = (parse_qs(scope.get("query_string", b"").decode()).get("key") or [""])[0]
        status, body = aggregate_answer(domain, svc.tasks.active, key)
        return AsgiResponse(json.dumps(body, ensure_ascii=False, default=str).encode(), status,
                            headers={"content-type": "application/json; charset=utf-8"})

    routes = {"/health": get(health), "/metrics": get(behind_token(settings.admin_token, prometheus)),
              "/asyncapi.json": get(contract), "/state": get(behind_token(settings.admin_token, state)),
              **dict(extra_routes or [])}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """HTTP routes, and the service's start and graceful stop with the server's lifespan."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        await svc.start()
                    except Exception as exc:  # noqa: BLE001 - said once, clearly, and the process exits
                        log.critical("service_start_failed", error=repr(exc), exc_info=True)
                        await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await svc.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        handler = routes.get(scope.get("path", ""))
        if handler is None:
            await AsgiResponse(b"not found", 404)(scope, receive, send)
            return
        await handler(scope, receive, send)

    svc = Service(settings, domain, tasks, loop, views, tables, changelog, database, client, app, kafka)
    return svc


def run(svc: Service) -> None:
    s = svc.settings
    if sys.argv[1:] == ["describe"]:  # `python -m services.<name> describe`: its topology, then exit
        print(describe(svc.domain, s))
        return
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again under the
    # handler it found; with this one in place a clean stop exits 0 instead of "killed by SIGTERM".
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    config = uvicorn.Config(svc.app, host=s.http_host, port=s.http_port, log_level=logging.WARNING, lifespan="on",
                            timeout_graceful_shutdown=15)
    asyncio.run(uvicorn.Server(config).serve())
