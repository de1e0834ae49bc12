"""Waiting for the query models: the views are written asynchronously, so a test that reads
them first waits until every view writer has committed up to the end of what it reads."""
from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from runtime.api.domain import Domain
from runtime.stream.ownership import PARTITIONS
from runtime.stream.records import changelog_topic
from services.arbitration.domain.service import ArbitrationDomain
from services.notify.domain.service import NotifyDomain
from services.refund.domain.service import RefundDomain
from services.seller.domain.service import SellerDomain

DOMAINS: tuple[Domain, ...] = (RefundDomain(), SellerDomain(), ArbitrationDomain(), NotifyDomain())


async def views_caught_up(bootstrap: str, group_suffix: str, timeout: float = 30.0) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    ends_reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    await admin.start()
    await ends_reader.start()
    try:
        deadline = time.monotonic() + timeout
        for d in DOMAINS:
            group = f"aftersale-{d.service}{group_suffix}-views"
            tps = [TopicPartition(t, p) for t in (changelog_topic(f"aftersale-{d.service}{group_suffix}"),
                                                  *d.history_topics) for p in range(PARTITIONS)]
            ends = await ends_reader.end_offsets(tps)
            while True:
                committed = await admin.list_consumer_group_offsets(group)
                if all((committed.get(tp).offset if committed.get(tp) else 0) >= end for tp, end in ends.items()
                       if end > 0):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {d.service} views did not catch up within {timeout} s")
                await asyncio.sleep(0.05)
    finally:
        await ends_reader.stop()
        await admin.close()
