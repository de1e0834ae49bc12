"""What one batch of one task changes and writes, before its transaction commits.

Aggregates changed by the batch are read through to the store; records to write pile up in
order. A record whose handling fails is undone alone (its writes and changes dropped), so the
rest of the batch still commits.
"""
from __future__ import annotations

from runtime.stream.aggregate import Aggregate
from runtime.stream.records import OutRecord
from runtime.stream.store import StateStore


class Batch:
    def __init__(self, store: StateStore, partition: int, held: "Batch | None" = None) -> None:
        """`held`: an earlier batch's changes, not committed yet, that this one goes on from. They
        are copied, so a batch that fails to be handled leaves them as they were."""
        self.store = store
        self.partition = partition
        self.changed: dict[str, Aggregate] = dict(held.changed) if held is not None else {}
        self.out: list[OutRecord] = []
        self._undo: list[tuple[str, Aggregate | None]] = []
        self._out_mark = 0

    def get(self, key: str) -> Aggregate:
        return self.changed.get(key) or self.store.get(key)

    def put(self, agg: Aggregate) -> None:
        self._undo.append((agg.key, self.changed.get(agg.key)))
        self.changed[agg.key] = agg

    def write(self, record: OutRecord) -> None:
        self.out.append(record)

    # ---- one record at a time ----------------------------------------------------------------

    def begin_record(self) -> None:
        self._undo.clear()
        self._out_mark = len(self.out)

    def undo_record(self) -> None:
        del self.out[self._out_mark:]
        for key, before in reversed(self._undo):
            if before is None:
                self.changed.pop(key, None)
            else:
                self.changed[key] = before
        self._undo.clear()

    # ---- the transaction ---------------------------------------------------------------------

    def changelog(self, topic: str) -> list[OutRecord]:
        """One record per changed aggregate (several changes in a batch coalesce into one), marked
        when it is the aggregate's first."""
        return [OutRecord(topic, key.encode(), agg.encode(), self.partition,
                          tuple(agg.headers(new=self.store.get(key).version == 0)))
                for key, agg in self.changed.items()]

    def committed(self) -> None:
        self.store.put_all(self.changed)

    @property
    def empty(self) -> bool:
        return not self.out and not self.changed
