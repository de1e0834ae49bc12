"""What the view writer does with a document the database refuses: it writes the rest, and puts
the record the document came from on the service's own view dead-letter topic
(`<group>.views.dlq`), with the reason. One record the database will never take (an integer past
64 bits, a NUL in a string, a document too large) must not stop the query model.

Refused is told from unreachable: errors of the connection (the database away, a timeout) are
waited out and retried, as before; any other error of one document is a refusal once a tiny
probe write succeeds right after it, which shows the database is there and taking writes.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

import structlog
from aiokafka import AIOKafkaProducer
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

from runtime.service import metrics
from runtime.stream.dlq import MAX_REASON, DeadLetter, headers_for
from runtime.stream.records import RecordLike

log = structlog.get_logger("views")

UNREACHABLE = (ConnectionFailure, ExecutionTimeout, WTimeoutError, asyncio.TimeoutError, TimeoutError, OSError)
PROBE = "_writer_probe"


def unreachable(exc: BaseException) -> bool:
    return isinstance(exc, UNREACHABLE)


class ViewDeadLetters(Protocol):
    async def send(self, source: RecordLike, code: str, reason: str) -> None: ...


class KafkaViewDeadLetters:
    """Acks from all replicas before the writer commits its offsets past the record."""

    def __init__(self, bootstrap: str, topic: str, service: str, client: dict[str, Any]) -> None:
        self.bootstrap, self.topic, self.service, self.client = bootstrap, topic, service, client
        self.producer: AIOKafkaProducer | None = None

    async def send(self, source: RecordLike, code: str, reason: str) -> None:
        if self.producer is None:
            self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                                             **self.client)
            await self.producer.start()
        headers = headers_for(source, DeadLetter(code, reason), self.service)
        await self.producer.send_and_wait(self.topic, source.value or b"", key=source.key or b"",
                                          headers=[(k, v.encode()) for k, v in headers.items()])

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None


@dataclass
class MemoryViewDeadLetters:
    """For tests: what was dead-lettered, as (code, reason, source)."""

    sent: list[tuple[str, str, RecordLike]] = field(default_factory=list)

    async def send(self, source: RecordLike, code: str, reason: str) -> None:
        self.sent.append((code, reason, source))


@dataclass
class Write:
    """One document's write, and the record it came from."""

    collection: str
    doc_id: Any
    run: Callable[[], Awaitable[Any]]
    source: RecordLike
    doc: dict[str, Any] | None = None  # for a write many at a time: the document, and its digest
    content: bytes = b""


@dataclass
class Refusals:
    """The writer's refusals so far, for /health and the metric."""

    service: str
    dead_letters: ViewDeadLetters
    count: int = 0
    last: dict[str, Any] | None = None

    async def write_each(self, writes: list[Write], database: Any) -> None:
        """After a batch write failed for something else than the connection: each document on its
        own; one the database refuses while it takes the probe goes to the dead letters."""
        for w in writes:
            try:
                await w.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted below: unreachable is raised, refused is kept
                if unreachable(exc) or not await self._database_takes_writes(database):
                    raise
                await self.refused(w.source, w.collection, w.doc_id, exc)

    async def refused(self, source: RecordLike, collection: str, doc_id: Any, exc: BaseException) -> None:
        code = f"view.{type(exc).__name__}"
        reason = f"{collection} {str(doc_id)[:200]}: {exc!r}"[:MAX_REASON]
        await self.dead_letters.send(source, code, reason)
        self.count += 1
        self.last = {"topic": source.topic, "partition": source.partition, "offset": source.offset,
                     "collection": collection, "reason": reason}
        metrics.VIEW_DEAD_LETTERS.labels(self.service, type(exc).__name__).inc()
        log.error("view_document_refused", code=code, reason=reason, topic=source.topic,
                  partition=source.partition, offset=source.offset)

    @staticmethod
    async def _database_takes_writes(database: Any) -> bool:
        try:
            await database[PROBE].replace_one({"_id": "probe"}, {"_id": "probe", "ok": True}, upsert=True)
            return True
        except Exception:  # noqa: BLE001 - any failure here means: not a refusal of that one document
            return False
