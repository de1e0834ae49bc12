"""Dead letters: what could not be parsed or processed goes, untouched, to `<topic>.dlq`.

The value is the original bytes; headers say why and where it came from, so `aftersale dlq
replay` can send it back to where it was read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from contracts.envelope import rfc3339, utc_now
from contracts.topics import DLQ_SUFFIX, dlq

H_REASON = "x-dlq-reason"
H_CODE = "x-dlq-code"
H_SERVICE = "x-dlq-service"
H_AT = "x-dlq-at"
H_TOPIC = "x-original-topic"
H_PARTITION = "x-original-partition"
H_OFFSET = "x-original-offset"
H_KEY = "x-original-key"
MAX_REASON = 1000


class RecordLike(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


@dataclass(frozen=True)
class DeadLetter:
    """Why a record was given up on. `code` is stable: `invalid.<why>` or `handler_error`."""

    code: str
    reason: str

    @classmethod
    def invalid(cls, code: str, reason: str) -> "DeadLetter":
        return cls(f"invalid.{code}", reason)

    @classmethod
    def handler_error(cls, exc: BaseException, attempts: int) -> "DeadLetter":
        return cls("handler_error", f"{type(exc).__name__}: {exc} (after {attempts} attempts)")


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


def decode_headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw or ():
        out[k] = v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)
    return out
