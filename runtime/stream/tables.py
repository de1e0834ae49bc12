"""Global tables: a compacted topic that every instance of a service reads whole and keeps in
memory (Kafka Streams' GlobalKTable). For facts about a key that many partitions' aggregates need
to read, such as a user's language; each is still written by one task, its key's owner."""
from __future__ import annotations

import asyncio
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime.service.settings import LOAD_FETCH_WAIT_MS, QUIET_WAKE_MS
from runtime.stream.fetch_pace import FetchTerms, set_fetch_terms

log = structlog.get_logger("tables")


class GlobalTable:
    def __init__(self, bootstrap: str, topic: str, client: dict[str, Any], follow_wait_ms: int = 500) -> None:
        self.topic = topic
        self.follow_wait_ms = follow_wait_ms  # a fetch returns at the first row, so only an idle table waits
        self.rows: dict[str, Any] = {}  # key -> the latest envelope's data
        self.bootstrap = bootstrap
        self.client = client
        self.consumer: Any = None
        self._task: asyncio.Task[None] | None = None

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        k = (key or b"").decode()
        if value is None:
            self.rows.pop(k, None)
            return
        try:
            self.rows[k] = orjson.loads(value).get("data", {})
        except (ValueError, AttributeError):
            log.warning("table_record_unreadable", topic=self.topic, key=k)

    async def start(self) -> None:
        """Read the table up to its end, then keep following it in the background."""
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         isolation_level="read_committed", fetch_max_wait_ms=LOAD_FETCH_WAIT_MS,
                                         consumer_timeout_ms=QUIET_WAKE_MS, **self.client)
        await self.consumer.start()
        parts: set[int] = set()
        for _ in range(30):  # a topic just created takes a moment to show in the metadata
            cluster = await self.consumer._client.fetch_all_metadata()  # noqa: SLF001 - topics() keeps only names
            parts = cluster.partitions_for_topic(self.topic) or set()
            if parts:
                break
            await asyncio.sleep(1)
        if not parts:
            raise RuntimeError(f"topic {self.topic} does not exist (run `aftersale topics ensure`)")
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        ends = await self.consumer.end_offsets(tps)
        while [tp for tp in tps if await self.consumer.position(tp) < ends[tp]]:
            await self._poll()
        log.info("table_loaded", topic=self.topic, rows=len(self.rows))
        set_fetch_terms(self.consumer, FetchTerms(1, self.follow_wait_ms))
        self._task = asyncio.create_task(self._follow())

    async def _poll(self) -> None:
        batch = await self.consumer.getmany(timeout_ms=QUIET_WAKE_MS, max_records=5000)
        for records in batch.values():
            for r in records:
                self.apply(r.key, r.value)

    async def _follow(self) -> None:
        while True:
            try:
                await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the broker comes back; keep following
                log.warning("table_follow_failed", topic=self.topic, error=repr(exc))
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.consumer is not None:
            await self.consumer.stop()
