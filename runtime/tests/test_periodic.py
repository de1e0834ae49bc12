import asyncio
import time

from runtime.service.periodic import every


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
