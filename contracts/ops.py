"""Operators' commands on `ops.commands` (contract version 3), besides `payout.retry`."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr

from contracts.common import Data, Id

# Base64 of a record the services wrote themselves: well under the envelope's 256 KB.
MAX_REPLAY_B64 = 192 * 1024


class DeadLetterReplay(Data):
    """Internal: an operator sends a dead letter back to the service that set it aside, for a
    record of a topic only a service writes (operators may not write it). The service handles it
    as if read again from `topic`; its event id makes a second replay a duplicate."""

    key: Id  # the record's Kafka key: the replay lands on the partition that holds its aggregate
    service: Literal["refund", "seller", "arbitration", "notify"]
    topic: Id
    value_b64: Annotated[StrictStr, Field(min_length=1, max_length=MAX_REPLAY_B64)]
    dead_letter: Id  # where it was kept, e.g. refund.events.dlq@12
