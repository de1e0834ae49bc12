"""A service restarted quickly under the same instance id, now reading one more topic, is given
that topic's partitions (the broker alone would keep the old assignment: KAFKA-12759)."""
from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from runtime.stream.membership import static_member_id

SESSION_MS = 6000


async def assigned_topics(bootstrap: str, group: str, topics: list[str]) -> set[str]:
    """Start a static member of `group` on `topics`, wait for a stable assignment, stop it
    (a static member leaves nothing behind: its session outlives it)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
                                group_instance_id=static_member_id(group, "0", topics))
    await consumer.start()
    try:
        consumer.subscribe(topics)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and {tp.topic for tp in consumer.assignment()} != set(topics):
            await consumer.getmany(timeout_ms=200)
        return {tp.topic for tp in consumer.assignment()}
    finally:
        await consumer.stop()


async def test_a_restart_that_reads_a_new_topic_is_assigned_it(infra) -> None:
    tag = uuid.uuid4().hex[:8]
    old_topic, new_topic = f"membership-a-{tag}", f"membership-b-{tag}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(old_topic, 2, 1), NewTopic(new_topic, 2, 1)])
        await asyncio.sleep(0.5)
        group = f"membership-{tag}"

        assert await assigned_topics(infra.bootstrap, group, [old_topic]) == {old_topic}
        # At once, well within the first session: the new version reads both topics.
        assert await assigned_topics(infra.bootstrap, group, [old_topic, new_topic]) == {old_topic, new_topic}
    finally:
        await admin.delete_topics([old_topic, new_topic])
        await admin.close()
