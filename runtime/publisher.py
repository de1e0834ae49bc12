"""Everything a service sends to Kafka goes through here: outbox records, rejections, dead letters."""
from __future__ import annotations

import asyncio
import json
from typing import Any

from faststream.kafka import KafkaBroker

from contracts.build import encode, envelope
from contracts.envelope import Actor
from contracts.registry import EVENTS_TOPIC_OF
from runtime import metrics
from runtime.aggregate import OutboxRecord
from runtime.context import derived_uuid
from runtime.dlq import DeadLetter, RecordLike, dlq_topic_of, headers_for


BUSINESS_TYPES = frozenset({"ruling.issued", "refund.closed", "refund.completed", "payout.request", "message.sent"})


class Publisher:
    def __init__(self, broker: KafkaBroker, service: str) -> None:
        self.broker = broker
        self.service = service

    async def send_records(self, records: list[OutboxRecord]) -> None:
        """Publish in order and wait for all acks (acks=all, idempotent producer).

        Each send is queued before the next (no_confirm) so one aggregate's events keep their
        order on the partition, and the acks are awaited together.
        """
        futures = []
        for r in records:
            fut = await self.broker.publish(
                r.value.encode(), topic=r.topic, key=r.key.encode(),
                headers={"x-event-type": r.type, "x-producer": self.service}, no_confirm=True,
            )
            futures.append(fut)
        if futures:
            await asyncio.gather(*futures)
        for r in records:
            metrics.EMITTED.labels(self.service, r.type).inc()
            if r.type in BUSINESS_TYPES:
                metrics.count_business(r.type, json.loads(r.value).get("data", {}))

    async def send_rejection(
        self, *, command_event_id: str, command_type: str, order_id: str | None, code: str,
        message: str, correlation_id: str | None = None,
    ) -> dict[str, Any]:
        data = {"command_event_id": command_event_id[:128], "command_type": command_type[:128],
                "code": code, "message": message[:2000]}
        if order_id:
            data["order_id"] = order_id
        env = envelope(
            "command.rejected", data, actor=Actor(role="system", id=f"svc:{self.service}"),
            # Stable id: rejecting the same command twice is recognisably one rejection.
            event_id=derived_uuid("rejected", command_event_id, code),
            correlation_id=correlation_id, causation_id=command_event_id,
        )
        topic = EVENTS_TOPIC_OF[self.service]
        await self.broker.publish(encode(env), topic=topic, key=(order_id or "").encode(),
                                  headers={"x-event-type": "command.rejected", "x-producer": self.service})
        metrics.REJECTIONS.labels(self.service, command_type[:64], code).inc()
        return env

    async def send_dead_letter(self, record: RecordLike, letter: DeadLetter) -> str:
        topic = dlq_topic_of(record)
        await self.broker.publish(record.value or b"", topic=topic, key=record.key,
                                  headers=headers_for(record, letter, self.service))
        metrics.DEAD_LETTERS.labels(self.service, record.topic, letter.code).inc()
        return topic


def record_from_envelope(env: dict[str, Any], topic: str, key: str) -> OutboxRecord:
    return OutboxRecord(id=env["event_id"], topic=topic, key=key, type=env["type"],
                        value=json.dumps(env, ensure_ascii=False, separators=(",", ":")))
