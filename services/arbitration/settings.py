"""The arbitration service's settings."""
from datetime import datetime, timedelta

from pydantic import Field

from runtime.service.settings import ServiceSettings


class ArbitrationSettings(ServiceSettings):
    http_port: int = Field(8083, validation_alias="AFTERSALE_ARBITRATION_HTTP_PORT")
    # --- deadlines of a case (seconds) ---
    evidence_window_s: float = 72 * 3600
    # The ruling target, in working days (几个工作日内给出处理意见; runtime/api/workdays.py), unless a
    # fixed span in seconds is set instead (tests and demos, where days are seconds).
    ruling_target_working_days: int = 3
    ruling_target_s: float = 0

    def ruling_due(self, now: datetime) -> datetime:
        if self.ruling_target_s > 0:
            return now + timedelta(seconds=self.ruling_target_s)
        return self.after_working_days(now, self.ruling_target_working_days)
    appeal_window_s: float = 7 * 24 * 3600
    claim_ttl_s: float = 30 * 60  # an arbitrator's claim on a case lapses unless taken again
    # Arbitrator ids who may give a case to another (case.assign), comma-separated: the service's
    # own list, whatever a tool that sends case.assign believes. Empty: nobody assigns.
    supervisors: str = ""

    @property
    def supervisor_ids(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.supervisors.split(",") if x.strip())
    # --- what a ruling costs ---
    max_postage_fen: int = 3000  # return postage a ruling may repay (¥30), as the refund service caps it
    # --- buyer credibility (never shown to sellers) ---
    buyer_window_s: float = 90 * 24 * 3600  # orders, requests, refunds and cases in a buyer's record
    misconduct_window_s: float = 365 * 24 * 3600  # a ruling of buyer misconduct stops automatic full refunds
    misconduct_fine_fen: int = 50000  # the fine when the seller is at fault with misconduct (¥500), unless stated
