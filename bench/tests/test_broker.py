"""Reading the broker's request counters: JmxTool's one-time CSV, versions summed, sub-kinds
of Fetch not counted twice."""
from __future__ import annotations

import pytest

from bench.broker import parse, per_dispute, per_second

ANSWER = '''Trying to connect to JMX url: service:jmx:rmi:///jndi/rmi://127.0.0.1:19299/jmxrmi
"time","kafka.network:type=RequestMetrics,name=RequestsPerSec,request=EndTxn,version=4:Count","kafka.network:type=RequestMetrics,name=RequestsPerSec,request=EndTxn,version=5:Count","kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Fetch,version=16:Count","kafka.network:type=RequestMetrics,name=RequestsPerSec,request=FetchConsumer,version=16:Count"
1796609030445,10,5,300,300
'''


def test_the_counters_are_summed_over_versions() -> None:
    assert parse(ANSWER) == {"EndTxn": 15, "Fetch": 300, "FetchConsumer": 300}


def test_an_answer_without_counters_is_an_error_not_zero() -> None:
    with pytest.raises(ValueError):
        parse("Trying to connect to JMX url: ...\nConnection refused")


def test_per_dispute_counts_each_fetch_once_and_names_the_transactions() -> None:
    before = {"EndTxn": 15, "Fetch": 300, "FetchConsumer": 300, "Heartbeat": 7}
    after = {"EndTxn": 55, "Fetch": 500, "FetchConsumer": 500, "Heartbeat": 7}
    assert per_dispute(before, after, 20) == {"all": 12.0, "transactions": 2.0, "Fetch": 10.0, "EndTxn": 2.0}
    assert per_second(before, after, 10.0) == {"all": 24.0, "Fetch": 20.0, "EndTxn": 4.0}
