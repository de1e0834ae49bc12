"""Prometheus counters shared by the pipeline; services add business counters of their own."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("aftersale_messages_total", "Messages handled", ["service", "topic", "type", "outcome"])
REJECTIONS = Counter("aftersale_rejections_total", "Commands refused", ["service", "type", "code"])
DEAD_LETTERS = Counter("aftersale_dead_letters_total", "Messages sent to a DLQ", ["service", "topic", "code"])
EMITTED = Counter("aftersale_events_emitted_total", "Events published", ["service", "type"])
TIMERS_FIRED = Counter("aftersale_timers_fired_total", "Deadlines that fired", ["service", "timer"])
HANDLE_SECONDS = Histogram(
    "aftersale_handle_seconds", "Time to handle one message", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CONSUMER_LAG = Gauge("aftersale_consumer_lag", "Messages behind the end of each partition", ["service", "topic", "partition"])
