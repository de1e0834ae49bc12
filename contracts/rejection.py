"""`command.rejected`: on the events topic of the service that owns the command topic."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from contracts.common import Data, Id

Code = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")]


class CommandRejected(Data):
    command_event_id: Annotated[StrictStr, Field(max_length=128)]
    command_type: Annotated[StrictStr, Field(max_length=128)]
    order_id: Id | None = None
    code: Code
    message: Annotated[StrictStr, Field(max_length=2000)]
