"""A whole service built on fakes: `build_service` takes its adapters, so the seller service runs a
task on the in-memory broker and answers over HTTP, with no Kafka and no database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from starlette.testclient import TestClient

from contracts.build import encode, envelope
from runtime.service.adapters import Adapters
from runtime.stream.fakes import FakeBroker, FakeChangelog, FakeTransactions
from runtime.stream.ownership import partition_of
from runtime.stream.records import InRecord
from runtime.views.refusals import MemoryViewDeadLetters
from services.seller.bootstrap import bootstrap
from services.seller.settings import SellerSettings

CHANGELOG = "aftersale-seller.changelog"


def fakes(broker: FakeBroker) -> Adapters:
    return Adapters(transactions=lambda n: FakeTransactions(broker, f"aftersale-seller-{n}"),
                    changelog=FakeChangelog(broker, CHANGELOG), database=None,
                    view_dead_letters=MemoryViewDeadLetters())


async def test_the_seller_service_on_fakes_keeps_a_request_and_answers_for_it() -> None:
    broker = FakeBroker()
    svc = bootstrap(SellerSettings(admin_token="t0ken"), adapters=fakes(broker))
    order = "O-7"
    task = svc.tasks.make_task(partition_of(order))
    await svc.tasks.open(task)
    due = datetime.now(timezone.utc) + timedelta(hours=1)
    requested = envelope("refund.requested", {
        "order_id": order, "refund_id": "RF-1", "kind": "refund_only", "reason": "quality", "amount_fen": 500,
        "seller_id": "S-1", "buyer_id": "B-1", "seller_due_at": due.isoformat()}, actor={"role": "buyer", "id": "B-1"})

    await task.process([InRecord("refund.events", task.partition, 0, order.encode(), encode(requested), ())])
    assert broker.aggregates(CHANGELOG) == []  # the seller took note, no event: held for the next commit
    assert await task.commit_deferred()

    assert [r.key for r in broker.aggregates(CHANGELOG)] == [order.encode()]
    http = TestClient(svc.app)  # no lifespan: the fakes need no start
    assert http.get("/state", params={"key": order}).status_code == 401  # personal data: the token
    answer = http.get("/state", params={"key": order}, headers={"authorization": "Bearer t0ken"}).json()
    assert answer["state"]["requests"]["RF-1"]["step"] == "awaiting_answer"
    assert list(answer["timers"]) == ["seller_timeout:RF-1"]
    elsewhere = next(k for k in (f"O-{n}" for n in range(100)) if partition_of(k) != task.partition)
    assert http.get("/state", params={"key": elsewhere}, headers={"authorization": "Bearer t0ken"}).status_code == 421
    assert http.get("/asyncapi.json").json()["info"]["title"]
