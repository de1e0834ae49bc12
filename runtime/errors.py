"""Which failures are worth waiting out (infrastructure) and which mean the message is poison."""
from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, RequestTimedOutError
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

TRANSIENT = (
    AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError,
    KafkaConnectionError, KafkaTimeoutError, RequestTimedOutError, ConnectionError, TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # Retriable broker errors (leader moving, not enough replicas) say so themselves.
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))
