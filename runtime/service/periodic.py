"""The service's background loops (deadlines, lag, the views' backlog): a turn now, then one every
so often, until the service stops, which ends the wait at once rather than at the next turn."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator


async def every(seconds: float, stop: asyncio.Event) -> AsyncIterator[None]:
    """Yields at once, then `seconds` after the end of each turn, until `stop` is set."""
    while not stop.is_set():
        yield
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass
