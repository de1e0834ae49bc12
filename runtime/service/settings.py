"""Settings every service shares, from the environment (prefix `AFTERSALE_`). Each service adds
its own deadlines and rules in its settings.py."""
from __future__ import annotations

import os
import socket
import warnings
from datetime import datetime
from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.api import workdays


# A fetch's minimum size, larger than what any wait gathers: the wait (fetch_max_wait_ms) decides
# when a fetch returns, for the services' consumers, their view writers and the load generator.
FETCH_MIN_BYTES = 1 << 20
# How often a consumer with nothing to read wakes anyway: aiokafka's fetcher routine
# (consumer_timeout_ms, 200 ms by default) and each getmany's timeout. A record, an assignment or
# a revocation wakes them at once; this only bounds the sleep of a quiet consumer.
QUIET_WAKE_MS = 1000
# How long the broker may hold a fetch of a consumer that reads a topic to its end (a task's
# restore, a global table's load). The broker answers a connection's requests in turn, so the
# end-offsets request after a read waited for the held fetch: 2 s for an empty table at start.
LOAD_FETCH_WAIT_MS = 10


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALE_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP")
    mongo_url: str = Field("mongodb://127.0.0.1:27017/", validation_alias="MONGO_URL")
    # The database login of this part, when the database asks for one (docker-compose.yml: one per
    # service, over FerretDB's PLAIN mechanism, each owning its own database). Apart from the URL
    # so that a password needs no escaping.
    mongo_username: str = ""
    mongo_password: str = ""
    # Isolates one deployment (or one test session) from another on shared infrastructure.
    db_prefix: str = "aftersale_"
    group_suffix: str = ""
    offset_reset: str = "earliest"
    # Static group membership (KIP-345): a replica that restarts under the same id takes its
    # partitions back at once instead of waiting out the session timeout. One id per replica;
    # the consumers add their subscription to it (runtime/stream/membership.py).
    instance_id: str = ""  # "hostname": the host's name, one per container, so `--scale` just works
    # "" (plaintext) or "SASL_SCRAM_256"; each service has its own principal (see ops/security.py)
    kafka_security: str = ""
    kafka_username: str = ""
    kafka_password: str = ""
    # With it, /state (aggregates, personal data) and /metrics answer only `Authorization: Bearer <it>`.
    admin_token: str = ""
    session_timeout_ms: int = 10000
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    log_format: str = "auto"  # json | console | auto (console on a terminal, JSON otherwise)
    # Contract version 3 only: refuse version 2's placements of the seller's messages (on
    # refund.commands / arbitration.commands) and payout.retry on refund.commands, instead of
    # accepting them with a deprecation warning.
    contract_strict: bool = False
    # The calendar of working days (runtime/api/workdays.py): China's holidays of this year are in
    # the repository; an operator points this at a file with next year's once it is published.
    holidays_file: str = ""

    def after_working_days(self, start: datetime, days: int) -> datetime:
        return workdays.load(self.holidays_file).after(start, days)

    # A record the service fails on is tried `handler_attempts` times, then dead-lettered; more
    # than `dead_letter_limit` of those among `dead_letter_window` records stop the task (a bug).
    handler_attempts: int = 3
    dead_letter_limit: int = 20
    dead_letter_window: int = 100
    # The broker away or a transaction refused: wait this long (doubling) before trying again.
    retry_backoff_s: float = 0.2
    retry_backoff_max_s: float = 5.0
    # A stop (SIGTERM) commits the batch in hand and closes everything within this, Kafka gone or not.
    stop_timeout_s: float = 20.0
    batch_max_records: int = 500
    # How long the broker may hold a consumer's fetch to gather more records. Without it, records
    # that trickle in are fetched a few at a time as fast as they come, and the broker's CPU goes
    # to the fetches; with it, each consumer fetches at most 1000/fetch_wait_ms times a second
    # and a hop waits at most this long for its record. While no record comes, the processing
    # consumer's fetches wait longer and return at the first record instead (fetch_pace.py).
    fetch_wait_ms: int = 10
    # ... and after a second without records, how long a fetch may wait for the first one (it
    # returns at once when one comes). Longer: fewer requests from an idle platform; a partition
    # moved back (a retried batch) is fetched again after at most this.
    fetch_idle_wait_ms: int = 2000
    # ... and while fewer records than this come a second, a fetch returns at the first record
    # rather than wait `fetch_wait_ms` for company: at 10 disputes/s each service asked a hundred
    # times a second, for a few records. 0: always wait for company while records flow.
    fetch_company_from_per_s: float = 100.0
    # The least time between two transactions of a task. A record that arrives later than this
    # after the last commit goes at once; one that arrives sooner waits for it, with whatever else
    # arrives meanwhile. make bench: 3-4 transactions per dispute per service became 1.1-1.3.
    commit_interval_s: float = 0.05
    # Records that change nothing here (another service's event this one does not follow) commit
    # no transaction of their own: their offsets go with the task's next one, or alone after
    # this long (task.py). At 10 disputes/s: 15.6 transactions per dispute became 13.7 (benchmarks.md).
    deferred_offsets_s: float = 5.0
    # State changes that emit no event (the service only takes note) commit no transaction of their
    # own either: the task holds them and goes on from them; they commit with its next events, or
    # alone after this long. Only the query model waits for them. 0: every change commits at once.
    deferred_state_s: float = 1.0
    # How often the group's offsets are set to where the tasks have read. They are a report (for
    # lag tools, and where a consumer starts): the tasks' positions commit with their state.
    positions_report_s: float = 5.0

    # The most an aggregate may take, encoded (its changelog record). A command whose decision
    # would cross it is refused (`limit_reached`); an event, dead-lettered. Kafka refuses records
    # past its max.message.bytes (1 MB), and a record it refuses would stop the partition.
    aggregate_budget_bytes: int = 256 * 1024

    # A task or view writer that has had work and made no progress this long is named in /health
    # (`stuck`), which then says not ready (runtime/stream/stuck.py).
    stuck_after_s: float = 30.0

    timer_tick_s: float = 1.0
    # Event ids remembered per aggregate, to recognise a duplicate that another system sends.
    # Kafka's transactions already keep the platform's own records from being processed twice.
    processed_window: int = 32
    # The query model: how many changes the view writer takes at once, and writes in flight.
    view_batch_records: int = 2000
    # How long the broker gathers changes for it before answering: an aggregate changed several
    # times meanwhile is written once. The views lag by about this much. It is the least while the
    # database keeps up easily, and grows up to the most as writes take longer (view_pace.py).
    view_gather_s: float = 0.2
    view_gather_max_s: float = 1.0
    view_concurrency: int = 16
    # Documents whose last written content the writer remembers, to skip writing them unchanged.
    view_memo_size: int = 20000

    # Fault injection for tests: die (os._exit) with a transaction open, after its records were
    # sent and before it commits, when the batch emits an event of this type.
    crash_in_transaction_type: str = ""
    # Fault injection for tests: a handler bug. With it on, a record whose value contains
    # `__fail_in_<service>__` fails in that service every time it is handled (and is dead-lettered).
    fault_injection: bool = False

    def db_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    SECRETS: ClassVar[tuple[str, ...]] = ("kafka_password", "mongo_password", "admin_token")
    # Environment variables renamed (old name: new name): the old one still works, with a warning.
    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="after")
    def _instance_from_hostname(self) -> "ServiceSettings":
        """Replicas started from one definition (compose's --scale) each take their host's name, so
        no two share a static member id and fence each other out of the group."""
        if self.instance_id == "hostname":
            self.instance_id = socket.gethostname()
        return self

    @model_validator(mode="after")
    def _warn_of_renamed_settings(self) -> "ServiceSettings":
        for old, new in self.RENAMED.items():
            if old in os.environ and new not in os.environ:
                warnings.warn(f"{old} is deprecated: set {new} instead", FutureWarning, stacklevel=2)
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> "ServiceSettings":
        """A deployment started with .env.example's placeholders would run with published secrets."""
        for name in self.SECRETS:
            if getattr(self, name).startswith("change-me"):
                field = type(self).model_fields[name]
                env = field.validation_alias if isinstance(field.validation_alias, str) else f"AFTERSALE_{name.upper()}"
                raise ValueError(f"{env} is still the placeholder from .env.example; set a secret")
        return self

    def group_id(self, service: str) -> str:
        return f"aftersale-{service}{self.group_suffix}"
