"""Settings from the environment (prefix `AFTERSALE_`); every deadline is here so tests shrink them."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALE_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP")
    mongo_url: str = Field("mongodb://127.0.0.1:27017/", validation_alias="MONGO_URL")
    # Isolates one deployment (or one test session) from another on shared infrastructure.
    db_prefix: str = "aftersale_"
    group_suffix: str = ""
    offset_reset: str = "earliest"
    # Static group membership (KIP-345): a replica that restarts under the same id takes its
    # partitions back at once instead of waiting out the session timeout. One id per replica.
    instance_id: str = ""
    # "" (plaintext) or "SASL_SCRAM_256"; each service has its own principal (see ops/security.py)
    kafka_security: str = ""
    kafka_username: str = ""
    kafka_password: str = ""
    session_timeout_ms: int = 10000
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    log_format: str = "auto"  # json | console | auto (console on a terminal, JSON otherwise)

    # Handling failures: transient errors (broker/database down) retry forever with backoff;
    # anything else retries `handler_attempts` times and then dead-letters.
    handler_attempts: int = 3
    retry_backoff_s: float = 0.2
    retry_backoff_max_s: float = 5.0

    timer_tick_s: float = 1.0
    timer_lease_s: float = 30.0
    relay_interval_s: float = 2.0
    # Timers are kept in memory for this far ahead (and reloaded from the database this often).
    timer_horizon_s: float = 600.0
    rescan_interval_s: float = 60.0
    relay_grace_s: float = 5.0
    # Event ids remembered per aggregate for deduplication: far more than one key ever has in
    # flight (a redelivered batch), far fewer than would bloat every write of the document.
    processed_window: int = 64

    # Fault injection for tests: die (os._exit) after the state is durable, before publishing.
    crash_after_commit_type: str = ""

    # --- deadlines (seconds) ---
    seller_response_s: float = 48 * 3600
    return_ship_s: float = 7 * 24 * 3600
    return_confirm_s: float = 10 * 24 * 3600
    escalation_window_s: float = 7 * 24 * 3600
    evidence_window_s: float = 72 * 3600
    ruling_target_s: float = 3 * 24 * 3600
    appeal_window_s: float = 7 * 24 * 3600
    replacement_ship_s: float = 7 * 24 * 3600
    max_resubmissions: int = 2
    payout_max_attempts: int = 4
    payout_retry_base_s: float = 60.0
    reminder_lead_s: float = 6 * 3600  # a reminder goes out this long before a party's deadline

    # --- shop credit (seller service) ---
    credit_window_s: float = 60 * 24 * 3600  # defects count for 60 days, like an order defect rate
    credit_penalty_timeout: int = 3
    credit_penalty_at_fault: int = 5
    # restriction:defects-in-window, lowest first; lifted when the count falls back below
    shop_restrictions: str = "promotions:3,new_listings:6"

    def restriction_thresholds(self) -> list[tuple[str, int]]:
        pairs = [p.split(":") for p in self.shop_restrictions.split(",") if p.strip()]
        return sorted(((name.strip(), int(n)) for name, n in pairs), key=lambda x: x[1])

    def db_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def group_id(self, service: str) -> str:
        return f"aftersale-{service}{self.group_suffix}"
