"""Wiring one service process: the domain on its adapters (runtime.service.adapters), its tasks,
the consumer loop, the view writer, and HTTP (runtime.service.http). Each service's `bootstrap`
calls `build_service(domain, settings)`; a test passes fakes as `adapters`.

The records are driven by aiokafka directly (runtime.stream.loop): FastStream's subscribers commit
offsets through the consumer, and exactly-once needs them committed inside the producer's
transaction. HTTP is Starlette, like the workbench; uvicorn runs the process.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
import uvicorn
import uvloop
from starlette.routing import BaseRoute

from runtime.api.domain import Domain
from runtime.service import logging as logmod
from runtime.service.adapters import Adapters, kafka_adapters
from runtime.service.describe import describe
from runtime.service.http import http_app
from runtime.service.settings import ServiceSettings
from runtime.stream.loop import StreamLoop
from runtime.stream.processor import Processor
from runtime.stream.records import changelog_topic, repartition_topic
from runtime.stream.stuck import stuck
from runtime.stream.task import Task
from runtime.stream.tasks import Tasks
from runtime.views.writer import ViewWriter

log = structlog.get_logger("app")


@dataclass
class Service:
    settings: ServiceSettings
    domain: Domain
    adapters: Adapters
    tasks: Tasks
    loop: StreamLoop
    views: ViewWriter
    app: Any = None  # the ASGI application (runtime.service.http)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def db(self) -> Any:
        return self.adapters.database

    @property
    def active(self) -> dict[int, Task]:
        """The tasks this process runs now, by partition."""
        return self.tasks.active

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

        await self.adapters.ensure_topics()
        done("internal_topics")
        for table in self.adapters.tables.values():
            await table.start()
        done("global_tables")
        await self.loop.start()
        done("consumer")
        log.info("service_starting", seconds=steps)
        self.background = [asyncio.create_task(self.loop.run(self.stop)),
                           asyncio.create_task(self.loop.fire_timers(self.stop)),
                           asyncio.create_task(self.views.run(self.stop)),
                           asyncio.create_task(self.views.measure_behind(self.stop)),
                           asyncio.create_task(self.loop.measure_lag(self.stop)),
                           asyncio.create_task(self.loop.report_positions(self.stop))]
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
        parts = [("stream", self.loop.stop), ("views", self.views.stop), *self.adapters.stops]
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


def build_service(domain: Domain, settings: ServiceSettings, *, adapters: Adapters | None = None,
                  routes: list[BaseRoute] | None = None) -> Service:
    """The service on its adapters (Kafka's and the database's from settings unless given) with
    its HTTP app; `start` and `shutdown` run with the server's lifespan."""
    logmod.configure(domain.service, settings.log_level, settings.log_format)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    ports = adapters or kafka_adapters(domain.service, domain.global_tables, settings, domain.consumes)
    group = settings.group_id(domain.service)
    changelog, repartition = changelog_topic(group), repartition_topic(group)
    processor = Processor(domain, settings, repartition, {name: t.rows for name, t in ports.tables.items()})

    def make_task(n: int) -> Task:
        return Task(n, processor, ports.transactions(n), ports.changelog, changelog, settings)

    tasks = Tasks(make_task)
    loop = StreamLoop(settings, domain.service, (*domain.consumes, repartition), group, tasks, ports.kafka)
    views = ViewWriter(domain, settings, ports.database, ports.kafka, ports.view_dead_letters)
    svc = Service(settings, domain, ports, tasks, loop, views)
    svc.app = http_app(svc, routes or [])
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
    # uvloop: asyncio's loop in C; most of a service's CPU is the Kafka client's round trips.
    uvloop.run(uvicorn.Server(config).serve())
