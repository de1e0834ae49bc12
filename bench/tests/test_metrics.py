"""The benchmark reads each service's /metrics after a phase: what it reports must be what the
histograms counted."""
from __future__ import annotations

import socket
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.exposition import generate_latest

from bench.metrics import bounds, transactions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def histogram(registry: CollectorRegistry, name: str, values: list[float]) -> Histogram:
    h = Histogram(name, name, ["service"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25), registry=registry)
    for v in values:
        h.labels("refund").observe(v)
    return h


def parsed(registry: CollectorRegistry, family: str) -> list:
    text = generate_latest(registry).decode()
    return [s for fam in text_string_to_metric_families(text) if fam.name == family for s in fam.samples]


def test_a_quantile_is_the_upper_bound_of_the_bucket_it_falls_in() -> None:
    registry = CollectorRegistry()
    histogram(registry, "wait_seconds", [0.005] * 50 + [0.04] * 49 + [0.2])
    total, (p50, p99, p100) = bounds(parsed(registry, "wait_seconds"), 0.5, 0.99, 1.0)
    assert total == 100
    assert (p50, p99, p100) == (0.01, 0.05, 0.25)


def test_a_histogram_that_counted_nothing_has_no_bounds() -> None:
    registry = CollectorRegistry()
    Histogram("idle_seconds", "idle", ["service"], registry=registry)
    assert bounds(parsed(registry, "idle_seconds"), 0.5) is None
    assert bounds([], 0.5) is None


@dataclass
class Proc:
    port: int


@dataclass
class System:
    procs: dict


def test_transactions_per_dispute_and_where_a_record_waits() -> None:
    registry = CollectorRegistry()
    histogram(registry, "aftersale_commit_seconds", [0.02] * 30 + [0.2] * 10)  # 40 transactions
    histogram(registry, "aftersale_record_wait_seconds", [0.04] * 99 + [0.2])
    Counter("unrelated", "unrelated", registry=registry).inc()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        found = transactions(System({"refund": Proc(port), "gone": Proc(free_port())}), disputes=20)
    finally:
        server.shutdown()
        thread.join(5)
    # p99 of the commits: 39.6 of 40 counted fall in the bucket up to 0.25 s
    assert found == {"refund": {"per_dispute": 2.0, "commit_p50_s_at_most": 0.025, "commit_p99_s_at_most": 0.25,
                                "record_wait_p50_s_at_most": 0.05, "record_wait_p99_s_at_most": 0.05}}
