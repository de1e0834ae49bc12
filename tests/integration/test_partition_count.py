"""A service does not start on topics of another partition count than AFTERSALE_PARTITIONS: its
tasks would not own the keys written there. It says which topics, and how to go on."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from runtime.stream.admin import PARTITIONS, PartitionCountMismatch, ensure_internal_topics, internal_topics


async def test_a_source_topic_of_another_count_stops_the_start_with_how_to_migrate(infra) -> None:
    tag = uuid.uuid4().hex[:8]
    wider = f"partitions-wider-{tag}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(wider, PARTITIONS + 3, 1)])
        for _ in range(50):  # created asynchronously
            (d,) = await admin.describe_topics([wider])
            if d.get("error_code", 0) == 0 and d.get("partitions"):
                break
            await asyncio.sleep(0.2)
        with pytest.raises(PartitionCountMismatch) as refused:
            await ensure_internal_topics(infra.bootstrap, f"aftersale-partitions-{tag}", {}, sources=(wider,))
        assert f"{wider}: has {PARTITIONS + 3}, wants {PARTITIONS}" in str(refused.value)
        assert "migrate" in str(refused.value)
        # The same sources at the right count: the service's own topics are made and it goes on.
        made = await ensure_internal_topics(infra.bootstrap, f"aftersale-partitions-{tag}", {})
        assert len(made) == 3
    finally:
        existing = set(await admin.list_topics())
        await admin.delete_topics([t for t in [wider, *(t.name for t in internal_topics(f"aftersale-partitions-{tag}"))]
                                   if t in existing])
        await admin.close()
