"""Sending an arbitrator's commands on `arbitration.decisions`, and learning what became of them.

Each command's event id is remembered; `arbitration.events` is followed live (from its end when
the workbench starts, read_committed) and what the service answered to a command (its events,
or `command.rejected`) is kept by that id for a while, so the page can show it."""
from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import topics as T
from contracts.build import encode, envelope, key_of
from runtime.stream.kafka_auth import aiokafka_kwargs

log = structlog.get_logger("workbench")

KEPT = 10_000  # answers remembered (the oldest are forgotten first)


@dataclass
class Answer:
    sent_at: float
    types: list[str] = field(default_factory=list)
    rejection: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return bool(self.types) or self.rejection is not None


class Decisions:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.producer: AIOKafkaProducer | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.answers: OrderedDict[str, Answer] = OrderedDict()
        self._follow: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all",
                                         **aiokafka_kwargs())
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", **aiokafka_kwargs())
        await self.consumer.start()
        parts = [TopicPartition(T.ARBITRATION_EVENTS, p)
                 for p in sorted(self.consumer.partitions_for_topic(T.ARBITRATION_EVENTS)
                                 or await self._partitions())]
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the positions now: a command sent after start() is answered after them
            await self.consumer.position(tp)
        self._follow = asyncio.create_task(self._follow_answers())

    async def _partitions(self) -> set[int]:
        assert self.consumer is not None
        cluster = await self.consumer._client.fetch_all_metadata()  # noqa: SLF001 - partitions of one topic
        return cluster.partitions_for_topic(T.ARBITRATION_EVENTS) or set()

    async def stop(self) -> None:
        if self._follow is not None:
            self._follow.cancel()
            await asyncio.gather(self._follow, return_exceptions=True)
        for client in (self.consumer, self.producer):
            if client is not None:
                await client.stop()

    async def send(self, type_: str, data: dict[str, Any], arbitrator_id: str) -> str:
        """Publish one command as this arbitrator; returns its event id."""
        assert self.producer is not None, "start() first"
        env = envelope(type_, data, actor={"role": "arbitrator", "id": arbitrator_id})
        self.answers[env["event_id"]] = Answer(sent_at=time.monotonic())
        while len(self.answers) > KEPT:
            self.answers.popitem(last=False)
        await self.producer.send_and_wait(T.ARBITRATION_DECISIONS, encode(env), key=key_of(env))
        return env["event_id"]

    def answer(self, event_id: str) -> Answer | None:
        return self.answers.get(event_id)

    async def _follow_answers(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                batch = await self.consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker comes back; answers wait meanwhile
                log.warning("answers_poll_failed", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for r in records:
                    self._note(r.value)

    def _note(self, value: bytes | None) -> None:
        try:
            env = json.loads(value or b"")
            answer = self.answers.get(env.get("causation_id") or "")
        except (ValueError, AttributeError):
            return
        if answer is None:
            return
        if env.get("type") == "command.rejected":
            data = env.get("data") or {}
            answer.rejection = {"code": data.get("code"), "message": data.get("message")}
            log.info("workbench_answer", command_event_id=env.get("causation_id"), rejected=data.get("code"))
        else:
            answer.types.append(str(env.get("type")))
            log.info("workbench_answer", command_event_id=env.get("causation_id"), caused=env.get("type"))
