import asyncio
import time

from runtime.service.periodic import every, unless_stopped


async def test_a_turn_comes_at_once_then_one_each_period_until_the_service_stops() -> None:
    stop = asyncio.Event()
    turns: list[float] = []
    started = time.monotonic()
    async for _ in every(0.05, stop):
        turns.append(time.monotonic() - started)
        if len(turns) == 3:
            stop.set()
    assert len(turns) == 3
    assert turns[0] < 0.04  # the first turn does not wait
    assert turns[1] >= 0.045 and turns[2] - turns[1] >= 0.045


async def test_stopping_ends_the_wait_at_once_not_at_the_next_turn() -> None:
    stop = asyncio.Event()
    turns = 0

    async def loop() -> None:
        nonlocal turns
        async for _ in every(30.0, stop):
            turns += 1

    running = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(running, 1.0)
    assert turns == 1 and time.monotonic() - started < 0.5


async def test_a_service_already_stopped_takes_no_turn() -> None:
    stop = asyncio.Event()
    stop.set()
    assert [_ async for _ in every(0.01, stop)] == []


async def test_a_quiet_poll_ends_when_the_service_stops_not_when_its_wait_does() -> None:
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def quiet_poll() -> dict:
        try:
            await asyncio.sleep(30)  # a consumer's wait with nothing to read
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"tp": ["a record"]}

    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = asyncio.get_running_loop().time()
    assert await unless_stopped(quiet_poll(), stop) is None
    assert asyncio.get_running_loop().time() - started < 1 and cancelled.is_set()


async def test_a_poll_that_brings_records_returns_them() -> None:
    async def poll() -> dict:
        await asyncio.sleep(0.01)
        return {"tp": ["a record"]}

    assert await unless_stopped(poll(), asyncio.Event()) == {"tp": ["a record"]}
