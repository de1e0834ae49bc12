"""A payment system stand-in: answers `payout.request` with `payout.succeeded` after a short delay,
or `payout.failed` for a configurable share. It pays each `payout_id` at most once, as a real
payment system deduplicating on that key would, and reports what it paid on /ledger.

Not part of the platform: the demo, the benchmark and some tests use it.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
from typing import Any

from aiokafka import ConsumerRebalanceListener
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from contracts.build import encode, envelope
from contracts.parsing import Invalid, parse_message
from runtime.api.context import derived_uuid


class SimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYSIM_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP")
    delay_s: float = 0.2
    fail_share: float = 0.0  # 0..1: the share of attempts answered with payout.failed
    seed: int = 7
    http_port: int = 8089
    group: str = "payment-simulator"
    offset_reset: str = "earliest"
    # Against a secured broker, as the payment system's principal (PAYSIM_SECURITY=SASL_SCRAM_256;
    # its group must then be one the ACLs give it, e.g. payment-system-sim).
    security: str = ""
    username: str = ""
    password: str = ""


settings = SimSettings()


def _security() -> Any:
    if settings.security != "SASL_SCRAM_256":
        return None
    from faststream.security import SASLScram256
    return SASLScram256(settings.username, settings.password)


# Topics are the operator's (`aftersale topics ensure`): FastStream would otherwise create a
# subscriber's missing topic itself, with one partition, and the platform's count could not follow.
broker = KafkaBroker(settings.kafka_bootstrap, acks="all", enable_idempotence=True, logger=None,
                     security=_security(), allow_auto_create_topics=False)
rng = random.Random(settings.seed)
paid: dict[str, int] = {}  # payout_id -> fen
requests_seen: dict[str, int] = {}  # payout_id -> attempts


async def _raw(msg: Any, original: Any = None) -> Any:
    return msg.raw_message


async def answer(env: dict[str, Any], key: bytes) -> None:
    await broker.publish(encode(env), topic=topics.PAYMENTS_EVENTS, key=key)


class _Assigned(ConsumerRebalanceListener):
    partitions: set[Any] = set()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.partitions = set(assigned)

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.partitions = set()


assigned = _Assigned()


def answer_to(value: bytes | None) -> tuple[dict[str, Any], bytes] | None:
    """The answer to one payout request (None for what is not one), paying each id at most once."""
    try:
        m = parse_message(value, topic=topics.PAYMENTS_COMMANDS)
    except Invalid:
        return None
    if m.type != "payout.request":
        return None  # deductions, holds and releases move no money to answer for here
    d = m.data
    attempt = requests_seen[d.payout_id] = requests_seen.get(d.payout_id, 0) + 1
    actor = {"role": "system", "id": "payment-simulator"}
    common = dict(actor=actor, causation_id=m.event_id, correlation_id=m.envelope.correlation_id,
                  event_id=derived_uuid("paysim", m.event_id))
    if d.payout_id not in paid and rng.random() < settings.fail_share:
        env = envelope("payout.failed", {"payout_id": d.payout_id, "order_id": d.order_id, "code": "bank_unavailable",
                                         "message": f"simulated failure (attempt {attempt})"}, **common)
    else:
        paid.setdefault(d.payout_id, d.amount_fen)  # a repeated id is acknowledged, not paid again
        env = envelope("payout.succeeded", {"payout_id": d.payout_id, "order_id": d.order_id,
                                            "amount_fen": paid[d.payout_id]}, **common)
    return env, d.order_id.encode()


# A batch at a time: one request answered and committed after another held every payout behind
# the one before it (make bench at 50 disputes/s: 5 s from payout.request to its answer).
@broker.subscriber(topics.PAYMENTS_COMMANDS, group_id=settings.group, auto_offset_reset=settings.offset_reset,  # type: ignore[arg-type]
                   ack_policy=AckPolicy.ACK, decoder=_raw, listener=assigned, batch=True, max_records=500,
                   fetch_max_wait_ms=2000)  # returns at the first request: a long wait only spares an idle broker
async def payout_requests(body: Any, msg: KafkaMessage) -> None:
    answers = [a for r in msg.raw_message if (a := answer_to(r.value)) is not None]
    if answers and settings.delay_s:
        await asyncio.sleep(settings.delay_s)
    # Sent together, acknowledged before the batch's offsets are committed: a crash answers again.
    await asyncio.gather(*(answer(env, key) for env, key in answers))


async def ledger(scope: Any) -> AsgiResponse:
    body = {"paid": paid, "requests": requests_seen}
    return AsgiResponse(json.dumps(body).encode(), 200, headers={"content-type": "application/json"})


async def health(scope: Any) -> AsgiResponse:
    ready = bool(assigned.partitions)
    return AsgiResponse(json.dumps({"ready": ready, "pid": os.getpid()}).encode(), 200 if ready else 503,
                        headers={"content-type": "application/json"})


app = AsgiFastStream(broker, asgi_routes=[("/ledger", get(ledger)), ("/health", get(health))], logger=None)

if __name__ == "__main__":
    import logging

    asyncio.run(app.run(log_level=logging.WARNING, run_extra_options={"host": "127.0.0.1", "port": settings.http_port}))
