"""The floors a phase's CPU per dispute is read against: its transactions at one hop's cost, and
the parts outside the services and Kafka."""
from __future__ import annotations

from bench.hop import floors

HOP = {"client_ms_per_hop": 2.0, "kafka_ms_per_hop": 3.0}


def test_transactions_at_one_hops_cost_and_the_world_outside() -> None:
    phase = {"disputes_per_second": 10.0,
             "transactions": {"refund": {"per_dispute": 2.5}, "seller": {"per_dispute": 1.5}},
             "cpu_cores_busy": {"seconds": 60.0, "bench driver": 0.1, "paysim": 0.02, "ferretdb": 0.05,
                                "postgresql": 0.03, "kafka": 0.4, "refund": 0.2}}
    assert floors(phase, HOP) == {"transactions": 4.0, "transactions_at_hop_cost": 20.0, "outside": 20.0}


def test_a_phase_without_disputes_has_no_floor() -> None:
    idle = {"disputes_per_second": 0, "transactions": {}, "cpu_cores_busy": {"kafka": 0.03}}
    assert floors(idle, HOP) is None
