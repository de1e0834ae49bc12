"""`make bench` measures one hop alone (bench/hop.py): a child process answers every record fed
to it with a transaction of the tasks' own producer port, and its CPU and Kafka's are divided by
the hops it answered."""
from __future__ import annotations

from bench.hop import raw_hop


async def test_every_record_fed_is_answered_and_its_cost_measured(infra) -> None:
    hop = await raw_hop(infra.bootstrap, per_second=20.0, seconds=2.0, warm_s=1.0, quiet_s=1.0)
    # raw_hop raises unless the child answered every record fed, the uncounted ones too.
    assert hop["hops"] == 40
    assert 0.05 < hop["client_ms_per_hop"] < 100  # a process that answered 40 records spent CPU on them
    assert hop["seconds"] >= 2.0
    assert set(hop) == {"per_second", "hops", "seconds", "client_ms_per_hop", "kafka_ms_per_hop", "kafka_quiet_cores"}
