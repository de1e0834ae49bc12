"""The cluster's session (`make test-cluster`): three brokers of the project's own instance
`cluster`, every topic in 6 partitions of 3 replicas with 2 in sync, and deadlines the parties
must meet kept longer than the outages these tests cause (tests/support/promises.py)."""
from __future__ import annotations

import os

import pytest

from tests.conftest import service_env
from tests.support.infra import Infra
from tests.support.promises import PATIENT

CLUSTER = {"AFTERSALE_INSTANCE": "cluster", "AFTERSALE_KAFKA_BROKERS": "3", "AFTERSALE_PARTITIONS": "6",
           "AFTERSALE_REPLICATION_FACTOR": "3", "AFTERSALE_MIN_INSYNC_REPLICAS": "2"}


def pytest_configure(config: pytest.Config) -> None:
    wrong = {k: os.environ.get(k) for k, v in CLUSTER.items() if os.environ.get(k) != v}
    if wrong:
        raise pytest.UsageError(f"tests/cluster runs with {CLUSTER} in the environment (`make test-cluster`); "
                                f"here: {wrong}")


@pytest.fixture(scope="session")
def env(infra: Infra) -> dict[str, str]:
    return {**service_env(infra), **PATIENT}
