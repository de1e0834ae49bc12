"""The retry and dead-letter step: a record the service fails on is retried, then dead-lettered.

Handling is pure, so a failure is a bug in the service, not the weather: a few attempts, then the
record goes to its DLQ inside the same transaction as the rest of the batch, and the partition
moves on. Too many such failures close together mean the bug is everywhere: the task stops
(DeadLetterLimitExceeded) instead of dead-lettering its partition away.
"""
from __future__ import annotations

import structlog

from runtime.service import metrics
from runtime.stream.batch import Batch
from runtime.stream.dlq import DeadLetterLimit, HandlerFailed, dead_letter_record
from runtime.stream.processor import Processor
from runtime.stream.records import RecordLike

log = structlog.get_logger("retry")
DEAD_LETTERED = "dead_lettered"


def handle_with_retry(processor: Processor, record: RecordLike, batch: Batch, attempts: int,
                      limit: DeadLetterLimit) -> str:
    error: Exception | None = None
    for attempt in range(1, max(1, attempts) + 1):
        batch.begin_record()
        try:
            outcome = processor.handle(record, batch)
        except Exception as exc:  # noqa: BLE001 - whatever the bug, the partition must go on
            batch.undo_record()
            error = exc
            log.error("handler_failure", error=repr(exc), attempt=attempt, topic=record.topic,
                      partition=record.partition, offset=record.offset, exc_info=attempt == 1)
            continue
        limit.record(False)
        return outcome
    assert error is not None
    letter = HandlerFailed.of(error, attempts)
    batch.write(dead_letter_record(record, letter, processor.service))
    metrics.DEAD_LETTERS.labels(processor.service, record.topic, letter.code).inc()
    metrics.MESSAGES.labels(processor.service, record.topic, "?", DEAD_LETTERED).inc()
    log.warning("dead_lettered", code=letter.code, reason=letter.reason, topic=record.topic,
                partition=record.partition, offset=record.offset)
    limit.record(True)
    return DEAD_LETTERED
