"""Prometheus counters shared by the pipeline; services add business counters of their own."""
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

# Business counters, read off the events a service publishes (see Publisher.send_records).
RULINGS = Counter("aftersale_rulings_total", "Rulings issued", ["outcome", "decided_by"])
REFUNDS_CLOSED = Counter("aftersale_refunds_closed_total", "After-sale requests closed", ["why"])
REFUNDED_FEN = Counter("aftersale_refunded_fen_total", "Money that reached buyers, in fen")
PAYOUTS_REQUESTED = Counter("aftersale_payouts_requested_total", "payout.request sent (retries included)")
MESSAGES_SENT = Counter("aftersale_inbox_messages_total", "In-app messages sent", ["template", "locale"])
POSTAGE_REPAID_FEN = Counter("aftersale_postage_repaid_fen_total", "Return postage repaid to buyers, in fen")
FINES_FEN = Counter("aftersale_fines_fen_total", "Fines deducted from sellers' deposits, in fen")
FINES_REFUNDED_FEN = Counter("aftersale_fines_refunded_fen_total", "Fines given back after an appeal, in fen")
RESTRICTIONS = Counter("aftersale_shop_restrictions_total", "Shops restricted or restored, by level", ["level", "change"])
BUYERS_FLAGGED = Counter("aftersale_buyers_flagged_total", "Rulings that found a buyer in misconduct")
RULINGS_OVERDUE = Counter("aftersale_rulings_overdue_total", "Cases still unruled when their ruling was due", ["round"])


def count_business(type_: str, data: dict) -> None:
    if type_ == "ruling.issued":
        RULINGS.labels(data.get("outcome", "?"), "auto" if str(data.get("decided_by", "")).startswith("auto:") else "human").inc()
    elif type_ == "refund.closed":
        REFUNDS_CLOSED.labels(data.get("why", "?")).inc()
    elif type_ == "refund.completed":
        REFUNDED_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ == "payout.request":
        PAYOUTS_REQUESTED.inc()
    elif type_ == "message.sent":
        MESSAGES_SENT.labels(data.get("template", "?"), data.get("locale", "?")).inc()
    elif type_ == "refund.postage_repaid":
        POSTAGE_REPAID_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ == "seller.penalized":
        FINES_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ == "seller.penalty_refunded":
        FINES_REFUNDED_FEN.inc(int(data.get("amount_fen", 0)))
    elif type_ in ("shop.restricted", "shop.restored"):
        RESTRICTIONS.labels(data.get("restriction", "?"), type_.removeprefix("shop.")).inc()
    elif type_ == "buyer.flagged" and data.get("flagged_until"):
        BUYERS_FLAGGED.inc()  # a finding, not one lifted on appeal
    elif type_ == "case.ruling_overdue":
        RULINGS_OVERDUE.labels(str(data.get("round", "?"))).inc()

# The processing runtime: transactions, restores, views.
COMMIT_SECONDS = Histogram(
    "aftersale_commit_seconds", "Time to commit one batch's transaction", ["service"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
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
