"""The transactional producer's settings that the hop latency depends on, checked against the
pinned aiokafka (its sender is private, so an upgrade must fail here, not slow down silently)."""
from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from aiokafka.producer import sender as aiokafka_sender

from runtime.stream.kafka import COORDINATOR_RETRY_BACKOFF_S, MARKERS_PENDING_BACKOFF_S, quick_coordinator_retries


@pytest.mark.asyncio
async def test_coordinator_requests_retry_quickly_and_metadata_keeps_its_backoff() -> None:
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", transactional_id="t-0", enable_idempotence=True)
    quick_coordinator_retries(producer)
    assert producer._sender._retry_backoff == COORDINATOR_RETRY_BACKOFF_S  # noqa: SLF001
    assert aiokafka_sender.BACKOFF_OVERRIDE == MARKERS_PENDING_BACKOFF_S  # the wait for the last commit's markers
    assert producer.client._retry_backoff == 0.1  # noqa: SLF001 - a broker that is down is not polled hard


def test_a_changed_sender_is_reported_rather_than_ignored() -> None:
    class NoSender:
        pass

    with pytest.raises(RuntimeError, match="sender changed"):
        quick_coordinator_retries(NoSender())  # type: ignore[arg-type]
