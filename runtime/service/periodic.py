"""The service's background loops (deadlines, lag, the views' backlog): a turn now, then one every
so often, until the service stops, which ends the wait at once rather than at the next turn."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Awaitable, TypeVar

T = TypeVar("T")


async def every(seconds: float, stop: asyncio.Event) -> AsyncIterator[None]:
    """Yields at once, then `seconds` after the end of each turn, until `stop` is set."""
    while not stop.is_set():
        yield
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass


async def unless_stopped(poll: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`poll`'s result, or None as soon as `stop` is set (the poll is cancelled): a consumer's
    quiet wait (QUIET_WAKE_MS) may be long without a stop waiting for its end."""
    polling, stopping = asyncio.ensure_future(poll), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((polling, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if polling.done():
        return polling.result()
    polling.cancel()
    await asyncio.gather(polling, return_exceptions=True)
    return None
