"""Cross-service tests run the four real service processes against a real Kafka and database.

Every test session gets its own database prefix and consumer-group suffix, so a shared broker
or database (a developer's running system) is never disturbed and old messages are never replayed.
"""
from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from ops.launcher import System, make_system
from ops.topics import ensure_topics
from runtime.stream.admin import PartitionCountMismatch
from services.refund.queries import order_file
from sim.bus import Bus
from tests.support.infra import ROOT, Infra, start_infra
from tests.support.views import views_caught_up
from sim.story import Market, PaymentSystem

# The three-broker session is `make test-cluster`'s (tests/cluster/conftest.py): a run of its own.
collect_ignore = [] if os.environ.get("AFTERSALE_KAFKA_BROKERS", "1") == "3" else ["cluster"]

RUN_ID = uuid.uuid4().hex[:8]
LOG_DIR = ROOT / ".run" / "test-logs" / RUN_ID

# Deadlines shrunk from hours and days to seconds (see docs/operating.md, "Deadlines").
TEST_DEADLINES = {
    "AFTERSALE_SELLER_TIMEOUT_S": "5",
    "AFTERSALE_RETURN_SHIP_S": "4",
    "AFTERSALE_RETURN_CONFIRM_S": "4",
    "AFTERSALE_ESCALATION_WINDOW_S": "6",
    # A handler bug on demand: a record carrying `__fail_in_<service>__` fails there (runtime/service/settings.py).
    "AFTERSALE_FAULT_INJECTION": "1",
    "AFTERSALE_SUPERVISORS": "zhuguan",  # the workbench test's supervisor, as the arbitration service lists it
    "AFTERSALE_RACE_GRACE_S": "1",
    "AFTERSALE_EVIDENCE_WINDOW_S": "4",
    "AFTERSALE_RULING_TARGET_S": "10",
    "AFTERSALE_APPEAL_WINDOW_S": "6",
    "AFTERSALE_REPLACEMENT_SHIP_S": "5",
    "AFTERSALE_OFFER_WINDOW_S": "6",
    # A defect rate counts from a shop's second order (production: its twentieth).
    "AFTERSALE_RATE_MIN_ORDERS": "2",
    "AFTERSALE_PAYOUT_RETRY_BASE_S": "0.3",
    "AFTERSALE_PAYOUT_MAX_ATTEMPTS": "3",
    "AFTERSALE_REMINDER_LEAD_S": "2",
    "AFTERSALE_TIMER_TICK_S": "0.2",
    # A change that emits no event reaches the query models within a tick, as deadlines do.
    "AFTERSALE_DEFERRED_STATE_S": "0.2",
    # The broker's minimum: a replica that vanished is noticed in 6 s, not 10.
    "AFTERSALE_SESSION_TIMEOUT_MS": "6000",
}


def service_env(infra: Infra) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP": infra.bootstrap,
        "MONGO_URL": infra.mongo_url,
        "AFTERSALE_DB_PREFIX": f"t{RUN_ID}_",
        "AFTERSALE_GROUP_SUFFIX": f"-t{RUN_ID}",
        # Fresh groups start at the end: the services are ready before any test publishes.
        "AFTERSALE_OFFSET_RESET": "latest",
        "AFTERSALE_LOG_LEVEL": os.environ.get("AFTERSALE_LOG_LEVEL", "INFO"),
        **TEST_DEADLINES,
    }


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    i = start_infra()
    try:
        asyncio.run(ensure_topics(i.bootstrap))
    except PartitionCountMismatch:
        if not i.how.startswith("project scripts"):
            raise  # somebody else's broker: theirs to recreate
        print("\n[tests] the test instance's topics predate this partition count: starting it empty")
        i = start_infra(fresh=True)
        asyncio.run(ensure_topics(i.bootstrap))
    print(f"\n[tests] infrastructure from {i.how}: Kafka {i.bootstrap}, MongoDB {i.mongo_url}; run {RUN_ID}")
    yield i
    i.close()


@pytest.fixture(scope="session")
def env(infra: Infra) -> dict[str, str]:
    return service_env(infra)


@pytest.fixture(scope="session")
def system(env: dict[str, str]) -> Iterator[System]:
    s = make_system({**env, "AFTERSALE_REFUND_HTTP_PORT": "18081", "AFTERSALE_SELLER_HTTP_PORT": "18082",
                     "AFTERSALE_ARBITRATION_HTTP_PORT": "18083", "AFTERSALE_NOTIFY_HTTP_PORT": "18084"}, LOG_DIR)
    s.start()
    yield s
    s.stop()


@pytest_asyncio.fixture(scope="session")
async def bus(infra: Infra, system: System) -> AsyncIterator[Bus]:
    b = Bus(infra.bootstrap)
    await b.start()
    yield b
    await b.stop()


@pytest.fixture
def market(bus: Bus, mongo: AsyncMongoClient, system: System) -> Market:
    refund_orders = mongo[f"t{RUN_ID}_refund"]["orders"]
    live = LiveState(system)

    async def recorded(order_id: str, shipped: bool) -> bool:
        """Whether the refund service holds the paid (and shipped) order: asked of the service
        itself, which answers at once; the query model, which runs behind, only when another
        replica owns the order."""
        try:
            doc = await live.aggregate("refund", order_id)
        except AssertionError:  # 421: not owned by the first replica
            doc = order_file(await refund_orders.find_one({"_id": order_id}))
        order = ((doc or {}).get("state") or {}).get("order")
        return order is not None and (not shipped or bool(order.get("shipped")))

    return Market(bus, recorded)


@pytest.fixture
def payments(bus: Bus) -> PaymentSystem:
    return PaymentSystem(bus)


@pytest_asyncio.fixture(scope="session")
async def mongo(infra: Infra) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(infra.mongo_url, tz_aware=True)
    yield client
    await client.close()


class Databases:
    """Read-only looks at the services' query models, to prove what changed and what did not.
    Each look first waits until the view writers have caught up with what is committed."""

    def __init__(self, client: AsyncMongoClient, bootstrap: str) -> None:
        self.client = client
        self.bootstrap = bootstrap

    def db(self, service: str) -> Any:
        return self.client[f"t{RUN_ID}_{service}"]

    async def settled(self) -> None:
        await views_caught_up(self.bootstrap, f"-t{RUN_ID}")

    async def aggregate(self, service: str, key: str, collection: str = "orders") -> dict[str, Any] | None:
        await self.settled()
        return await self.db(service)[collection].find_one({"_id": key})

    async def version(self, service: str, key: str) -> int:
        doc = await self.aggregate(service, key)
        return doc["v"] if doc else 0


@pytest.fixture
def dbs(mongo: AsyncMongoClient, infra: Infra) -> Databases:
    return Databases(mongo, infra.bootstrap)


class LiveState:
    """What a service holds for an aggregate right now (`GET /state?key=`), for the aggregates
    the query model does not keep."""

    def __init__(self, system: System) -> None:
        self.system = system

    async def aggregate(self, service: str, key: str) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.system.procs[service].port}/state?key={urllib.parse.quote(key)}"

        def get() -> dict[str, Any] | None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return None
                raise AssertionError(f"{url}: {e.code} {e.read()!r}") from e

        return await asyncio.to_thread(get)

    async def version(self, service: str, key: str) -> int:
        doc = await self.aggregate(service, key)
        return doc["v"] if doc else 0


@pytest.fixture
def live(system: System) -> LiveState:
    return LiveState(system)


@pytest.fixture(scope="session")
def log_dir() -> Path:
    return LOG_DIR
