"""A window on Kafka for the demo, the benchmark and the tests: publish like an outside system
would, and see every message on every topic (from the moment it starts) to wait for what should
happen."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from contracts import topics as T
from contracts.build import encode, envelope, key_of, new_event_id
from contracts.registry import spec_for, topic_for
from runtime.service.settings import FETCH_MIN_BYTES
from runtime.stream.dlq import decode_headers

DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True)
class Seen:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]
    env: dict[str, Any] | None
    index: int  # arrival order in this session
    timestamp: float = 0.0  # when the producer sent it (Kafka CreateTime), in seconds

    @property
    def type(self) -> str | None:
        return self.env.get("type") if self.env else None

    @property
    def data(self) -> dict[str, Any]:
        return (self.env or {}).get("data") or {}

    @property
    def event_id(self) -> str | None:
        return self.env.get("event_id") if self.env else None

    def __getitem__(self, field: str) -> Any:
        return self.data[field]


def _matches(s: Seen, type_: str | None, topic: str | None, match: dict[str, Any]) -> bool:
    if type_ and s.type != type_:
        return False
    if topic and s.topic != topic:
        return False
    for k, v in match.items():
        if callable(v):
            if not v(s.data.get(k)):
                return False
        elif s.data.get(k) != v:
            return False
    return True


class Bus:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: list[Seen] = []
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        await self._producer.start()
        # read_committed, as the contract asks of readers: what the platform commits, once.
        # It watches every topic: fetches that wait up to 20 ms for company keep the broker's work
        # for this observer small (latencies are measured on the records' own timestamps).
        c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                             isolation_level="read_committed", fetch_min_bytes=FETCH_MIN_BYTES, fetch_max_wait_ms=20)
        await c.start()
        cluster = await c._client.fetch_all_metadata()
        names = list(T.ALL_WITH_DLQ)
        parts = [TopicPartition(t, p) for t in names for p in cluster.partitions_for_topic(t) or ()]
        c.assign(parts)
        await c.seek_to_end(*parts)
        for tp in parts:  # resolve positions now, so nothing published after start() is missed
            await c.position(tp)
        self._consumer = c
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for recs in batch.values():
                for r in recs:
                    try:
                        env = orjson.loads(r.value) if r.value else None
                        env = env if isinstance(env, dict) else None
                    except (ValueError, UnicodeDecodeError):
                        env = None
                    self.seen.append(Seen(r.topic, r.partition, r.offset, r.key, r.value,
                                          decode_headers(r.headers), env, len(self.seen), r.timestamp / 1000))
            if batch:
                self._changed.set()
                self._changed = asyncio.Event()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()
        if self._producer:
            await self._producer.stop()

    # ---- sending ----------------------------------------------------------------------------

    async def send(self, type_: str, data: dict[str, Any], actor: tuple[str, str] | dict[str, str], *,
                   event_id: str | None = None, correlation_id: str | None = None, validate: bool = False,
                   topic: str | None = None) -> dict[str, Any]:
        """Publish one message as an outside system would (unvalidated unless asked: tests send bad ones too)."""
        a = {"role": actor[0], "id": actor[1]} if isinstance(actor, tuple) else actor
        env = envelope(type_, data, actor=a, event_id=event_id or new_event_id(), correlation_id=correlation_id,
                       validate=validate)
        spec = spec_for(type_)
        where = topic or (topic_for(type_, a["role"]) if spec else T.REFUND_COMMANDS)
        await self.send_raw(where, encode(env), key_of(env) if spec else b"")
        return env

    async def send_raw(self, topic: str, value: bytes | None, key: bytes | None = None, attempts: int = 60) -> None:
        """Send and wait for the ack; while the broker is away (a restart), keep trying for a minute."""
        assert self._producer is not None
        for attempt in range(attempts):
            try:
                await self._producer.send_and_wait(topic, value, key=key)
                return
            except KafkaError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(1)

    # ---- seeing ----------------------------------------------------------------------------

    def all(self, type_: str | None = None, *, topic: str | None = None, since: int = 0, **match: Any) -> list[Seen]:
        return [s for s in self.seen[since:] if _matches(s, type_, topic, match)]

    async def expect(self, type_: str | None = None, *, topic: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                     since: int = 0, count: int = 1, **match: Any) -> Seen:
        """Wait for the `count`-th message matching; return it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.all(type_, topic=topic, since=since, **match)
            if len(found) >= count:
                return found[count - 1]
            left = deadline - time.monotonic()
            if left <= 0:
                recent = [(s.topic, s.type, s.data.get("order_id")) for s in self.seen[-15:]]
                raise AssertionError(f"no {type_ or 'message'} on {topic or 'any topic'} matching {match} "
                                     f"within {timeout} s (found {len(found)}/{count}); last seen: {recent}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def expect_none(self, type_: str | None = None, *, within: float = 3.0, topic: str | None = None,
                          since: int = 0, **match: Any) -> None:
        await asyncio.sleep(within)
        found = self.all(type_, topic=topic, since=since, **match)
        assert not found, f"expected no {type_} matching {match}, saw {[(s.type, s.data) for s in found]}"

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.1)

    @property
    def mark(self) -> int:
        """Position to pass as `since=` to look only at what comes after now."""
        return len(self.seen)
