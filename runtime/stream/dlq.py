"""Dead letters: what could not be parsed or processed goes, untouched, to `<topic>.dlq`.

The value is the original bytes; headers say why and where it came from, so `aftersale dlq
replay` can send it back to where it was read. Two kinds, each its own type: a message that is
not acceptable (`InvalidMessage`, expected: other systems make mistakes) and a message the
service failed on (`HandlerFailed`, a bug: many in a row stop the task, see DeadLetterLimit).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from contracts.envelope import rfc3339, utc_now
from contracts.topics import DLQ_SUFFIX, dlq
from runtime.stream.records import OutRecord, RecordLike

H_REASON = "x-dlq-reason"
H_CODE = "x-dlq-code"
H_SERVICE = "x-dlq-service"
H_AT = "x-dlq-at"
H_TOPIC = "x-original-topic"
H_PARTITION = "x-original-partition"
H_OFFSET = "x-original-offset"
H_KEY = "x-original-key"
MAX_REASON = 1000


@dataclass(frozen=True)
class DeadLetter:
    code: str
    reason: str


@dataclass(frozen=True)
class InvalidMessage(DeadLetter):
    @classmethod
    def of(cls, code: str, reason: str) -> "InvalidMessage":
        return cls(f"invalid.{code}", reason)


@dataclass(frozen=True)
class HandlerFailed(DeadLetter):
    @classmethod
    def of(cls, exc: BaseException, attempts: int) -> "HandlerFailed":
        return cls("handler_error", f"{type(exc).__name__}: {exc} (after {attempts} attempts)")


class DeadLetterLimitExceeded(Exception):
    """Too many handler failures among the last records: a bug, not bad input. The task stops
    rather than dead-letter its whole partition."""


class DeadLetterLimit:
    """Like arroyo's DLQ limit: at most `max_failed` handler failures among the last `window` records."""

    def __init__(self, max_failed: int, window: int) -> None:
        self.max_failed = max_failed
        self._recent: deque[bool] = deque(maxlen=window)

    def record(self, failed: bool) -> None:
        self._recent.append(failed)
        if failed and sum(self._recent) > self.max_failed:
            raise DeadLetterLimitExceeded(
                f"{sum(self._recent)} handler failures in the last {len(self._recent)} records")


def headers_for(record: RecordLike, letter: DeadLetter, service: str) -> dict[str, str]:
    return {
        H_CODE: letter.code,
        H_REASON: letter.reason[:MAX_REASON],
        H_SERVICE: service,
        H_AT: rfc3339(utc_now()),
        H_TOPIC: record.topic,
        H_PARTITION: str(record.partition),
        H_OFFSET: str(record.offset),
        H_KEY: (record.key or b"").decode("utf-8", "replace"),
    }


def dlq_topic_of(record: RecordLike) -> str:
    # A dead letter of a dead letter stays in the same DLQ rather than growing `.dlq.dlq`.
    return record.topic if record.topic.endswith(DLQ_SUFFIX) else dlq(record.topic)


def dead_letter_record(record: RecordLike, letter: DeadLetter, service: str) -> OutRecord:
    headers = tuple((k, v.encode()) for k, v in headers_for(record, letter, service).items())
    return OutRecord(dlq_topic_of(record), record.key or b"", record.value or b"", headers=headers)


def decode_headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw or ():
        out[k] = v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)
    return out
