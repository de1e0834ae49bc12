"""Interactive queries (as in Kafka Streams): what a service holds for one aggregate right now.

The owner of a key's partition answers from its state store: the committed version, the state,
the pending deadlines. Aggregates that the query model does not keep (notify's, for one) are
readable this way too, and an operator sees exactly what the service will decide from.
"""
from __future__ import annotations

from typing import Any, Mapping

from runtime.api.domain import Domain
from runtime.stream.task import Task


def aggregate_answer(domain: Domain, active: Mapping[int, Task], key: str) -> tuple[int, dict[str, Any]]:
    """An HTTP status and body for `GET /state?key=`."""
    if not key:
        return 400, {"error": "key is required", "example": "/state?key=O-123"}
    partition = domain.partition_of(key)
    task = active.get(partition)
    if task is None:
        # Another replica owns it (or a rebalance is on): asking this one again will not help.
        return 421, {"error": "not_owned_here", "key": key, "partition": partition, "owned": sorted(active)}
    agg = task.store.get(key)  # committed state only: a batch's changes reach the store after its commit
    if agg.version == 0:
        return 404, {"error": "no_such_aggregate", "key": key, "partition": partition}
    return 200, {"key": key, "partition": partition, "v": agg.version, "state": agg.state,
                 "timers": {name: due.isoformat() for name, due in agg.timers.items()},
                 "next_due_at": agg.next_due.isoformat() if agg.next_due else None}
