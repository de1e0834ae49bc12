"""A global table is read whole before its service starts, then followed. It reads to its end with
a short fetch wait and follows with the idle one: the broker answers a connection's requests in
turn, so a long wait held the end-offsets request of every start (docs/benchmarks.md)."""
from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from runtime.service.settings import LOAD_FETCH_WAIT_MS
from runtime.stream import tables
from runtime.stream.tables import GlobalTable


async def test_a_table_is_read_whole_at_start_then_follows_new_rows(infra, monkeypatch) -> None:
    made: list[dict] = []

    def consumer(*args, **kwargs):  # the real consumer, its terms noted
        made.append(kwargs)
        return AIOKafkaConsumer(*args, **kwargs)

    monkeypatch.setattr(tables, "AIOKafkaConsumer", consumer)
    topic = f"table-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, acks="all")
    table = GlobalTable(infra.bootstrap, topic, {}, follow_wait_ms=2000)
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
        await producer.start()
        await producer.send_and_wait(topic, b'{"data": {"level": 1}}', key=b"S1")
        await producer.send_and_wait(topic, b'{"data": {"level": 2}}', key=b"S2")
        await producer.send_and_wait(topic, None, key=b"S2")  # a tombstone: the row is gone
        await table.start()
        assert table.rows == {"S1": {"level": 1}}
        # Read to the end with the short wait, then followed with the long one.
        assert [kw["fetch_max_wait_ms"] for kw in made] == [LOAD_FETCH_WAIT_MS]
        assert table.consumer._fetcher._fetch_max_wait_ms == 2000  # noqa: SLF001 - the wait is the point
        await producer.send_and_wait(topic, b'{"data": {"level": 3}}', key=b"S3")
        for _ in range(100):
            if "S3" in table.rows:
                break
            await asyncio.sleep(0.1)
        assert table.rows == {"S1": {"level": 1}, "S3": {"level": 3}}
    finally:
        await table.stop()
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()
