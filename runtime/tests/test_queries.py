"""Interactive queries: the owner of a key's partition answers with the committed aggregate."""
from __future__ import annotations

from runtime.stream.fakes import FakeBroker
from runtime.stream.queries import aggregate_answer
from runtime.tests.test_task import DUE, HOLDING, ORDER, Offsets, Shop, order_on, requested
from services.seller.domain.service import SellerDomain


async def test_the_owner_answers_with_the_committed_state_and_its_deadlines() -> None:
    task = await Shop(FakeBroker(), HOLDING).task(0)
    await task.process([Offsets().record("refund.events", requested())])
    assert aggregate_answer(SellerDomain(), {0: task}, ORDER)[0] == 404  # held, not committed yet
    await task.commit_deferred()

    status, body = aggregate_answer(SellerDomain(), {0: task}, ORDER)

    assert status == 200
    assert body["v"] == 1 and body["partition"] == 0
    assert body["state"]["requests"]["RF-1"]["refund_id"] == "RF-1"
    assert body["next_due_at"] == DUE.isoformat() and list(body["timers"].values()) == [DUE.isoformat()]


async def test_a_key_of_another_partition_or_none_at_all_is_told_apart() -> None:
    task = await Shop(FakeBroker()).task(0)
    domain = SellerDomain()

    assert aggregate_answer(domain, {0: task}, order_on(1))[0] == 421  # another replica's
    assert aggregate_answer(domain, {0: task}, order_on(0, prefix="never"))[0] == 404
    assert aggregate_answer(domain, {0: task}, "")[0] == 400
