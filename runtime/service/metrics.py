"""Prometheus counters of the pipeline. Business counters are each service's own (its `metrics.py`,
counted through `Domain.count` after each commit)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("aftersale_messages_total", "Messages handled", ["service", "topic", "type", "outcome"])
REJECTIONS = Counter("aftersale_rejections_total", "Commands refused", ["service", "type", "code"])
DEAD_LETTERS = Counter("aftersale_dead_letters_total", "Messages sent to a DLQ", ["service", "topic", "code"])
LIMITS_REACHED = Counter("aftersale_limits_reached_total", "Changes refused at a declared limit", ["service", "limit"])
VIEW_DEAD_LETTERS = Counter("aftersale_view_dead_letters_total", "Records whose view documents the database refused",
                            ["service", "reason"])
STUCK_SECONDS = Gauge("aftersale_stuck_seconds", "How long a task or view writer has had work and made no progress",
                      ["service", "part"])
EMITTED = Counter("aftersale_events_emitted_total", "Events published", ["service", "type"])
TIMERS_FIRED = Counter("aftersale_timers_fired_total", "Deadlines that fired", ["service", "timer"])
HANDLE_SECONDS = Histogram(
    "aftersale_handle_seconds", "Time to handle one message", ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CONSUMER_LAG = Gauge("aftersale_consumer_lag", "Messages behind the end of each partition", ["service", "topic", "partition"])

# The processing runtime: transactions, restores, views.
COMMIT_SECONDS = Histogram(
    "aftersale_commit_seconds", "Time to commit one batch's transaction", ["service"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# What a transaction carried: events for other services, state changes alone, or offsets alone.
TRANSACTIONS = Counter("aftersale_transactions_total", "Transactions committed, by what they carried",
                       ["service", "carried"])
RECORD_WAIT_SECONDS = Histogram(
    "aftersale_record_wait_seconds", "From a record's timestamp to the start of its batch: fetch and queueing",
    ["service"], buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RESTORE_SECONDS = Histogram(
    "aftersale_restore_seconds", "Time to restore one task's state from its changelog", ["service"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RESTORED_AGGREGATES = Gauge("aftersale_task_aggregates", "Aggregates held by each task after its restore",
                            ["service", "partition"])
VIEW_LAG_SECONDS = Histogram(
    "aftersale_view_lag_seconds", "From a change's commit to its write in the query model", ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 300),
)
VIEW_BEHIND = Gauge("aftersale_view_records_behind", "Committed records the query model has not written yet", ["service"])
VIEW_UNCHANGED = Counter("aftersale_view_unchanged_total",
                         "Documents of the query model a change left as the writer last wrote them, so not written",
                         ["service", "collection"])
VIEW_WRITES = Counter("aftersale_view_writes_total", "Documents written to the query model, by collection and form",
                      ["service", "collection", "form"])
