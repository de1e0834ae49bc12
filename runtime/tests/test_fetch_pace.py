"""The processing consumer's fetches: short waits for company while records flow, one long
wait that the first record ends while none do."""
from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.consumer.fetcher import Fetcher

from runtime.service.settings import FETCH_MIN_BYTES
from runtime.stream.fetch_pace import FetchPace, FetchTerms, set_fetch_terms

BUSY = FetchTerms(FETCH_MIN_BYTES, 10)
IDLE = FetchTerms(1, 500)


def test_a_quiet_consumer_asks_rarely_and_is_answered_at_the_first_record() -> None:
    pace = FetchPace(busy_wait_ms=10)
    assert pace.terms(records=0, now=100.0) == IDLE  # nothing yet since start


def test_records_flowing_make_fetches_wait_briefly_for_company() -> None:
    pace = FetchPace(busy_wait_ms=10)
    assert pace.terms(records=3, now=100.0) == BUSY
    assert pace.terms(records=0, now=100.4) == BUSY  # a gap shorter than idle_after_s
    assert pace.terms(records=1, now=100.9) == BUSY


def test_a_second_without_records_is_quiet_again() -> None:
    pace = FetchPace(busy_wait_ms=10, idle_after_s=1.0)
    pace.terms(records=5, now=100.0)
    assert pace.terms(records=0, now=100.99) == BUSY
    assert pace.terms(records=0, now=101.0) == IDLE
    assert pace.terms(records=1, now=107.0) == BUSY


def test_records_sparser_than_the_wait_end_each_fetch_at_the_first_one() -> None:
    pace = FetchPace(busy_wait_ms=10, company_from_per_s=100)
    now = 100.0
    for _ in range(40):  # 20 records a second: a 10 ms wait would mostly bring nothing
        now += 0.05
        terms = pace.terms(records=1, now=now)
    assert terms == IDLE and 19 <= pace.rate_per_s <= 21
    for _ in range(300):  # 300 a second: each fetch waits for company again
        now += 0.01
        terms = pace.terms(records=3, now=now)
    assert terms == BUSY


def test_without_a_rate_records_flowing_always_wait_for_company() -> None:
    pace = FetchPace(busy_wait_ms=10)  # the view writers': their wait gathers changes to write once
    assert [pace.terms(records=1, now=100.0 + i) for i in (0.0, 0.5, 0.9, 1.2)] == [BUSY] * 4


async def test_the_terms_reach_the_fetch_requests_of_the_pinned_aiokafka() -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", fetch_min_bytes=FETCH_MIN_BYTES, fetch_max_wait_ms=10)
    consumer._fetcher = Fetcher.__new__(Fetcher)  # noqa: SLF001 - its attributes only, no broker
    set_fetch_terms(consumer, IDLE)
    assert (consumer._fetcher._fetch_min_bytes, consumer._fetcher._fetch_max_wait_ms) == (1, 500)  # noqa: SLF001
    # ...and the request builder still reads them: an aiokafka that renamed them fails here.
    import inspect

    source = inspect.getsource(Fetcher._get_actions_per_node)  # noqa: SLF001
    assert "self._fetch_max_wait_ms" in source and "self._fetch_min_bytes" in source
