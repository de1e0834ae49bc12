"""Where a task has read to, kept in its changelog with its state.

Each transaction that moves a task's reading on writes one record under a key no aggregate has:
every source position of the task, (topic, partition) -> the next offset to read. It commits with
the state those records made, so a restore that reads the changelog knows exactly which records
the restored state already holds, and the consumer group's offsets are only a report
(`StreamLoop.report_positions`). A transaction that put the offsets in the group instead costs
two more round trips (AddOffsetsToTxn, TxnOffsetCommit) and a write of the group coordinator.

The changelog is compacted: only the latest positions record stays, and it names every source
partition of the task, not only those the last transaction read.
"""
from __future__ import annotations

import orjson

from runtime.stream.ports import Offsets
from runtime.stream.records import OutRecord

# No aggregate key starts with NUL (keys are order, shop and user ids): readers of the changelog
# tell this record apart by its key.
POSITIONS_KEY = b"\x00positions"


def is_positions(key: bytes | None) -> bool:
    return key == POSITIONS_KEY


def positions_record(topic: str, partition: int, positions: Offsets) -> OutRecord:
    value = orjson.dumps(sorted([t, p, o] for (t, p), o in positions.items()))
    return OutRecord(topic, POSITIONS_KEY, value, partition)


def decode_positions(value: bytes | None) -> Offsets:
    return {(t, p): o for t, p, o in orjson.loads(value or b"[]")}


def already_read(applied: Offsets, topic: str, partition: int, offset: int) -> bool:
    """A record before the position the task's state already holds: read again after a seek back
    (a batch fetched before the task opened, a rewind), it must change nothing."""
    return offset < applied.get((topic, partition), 0)
