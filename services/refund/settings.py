"""The refund service's settings: the shared ones (deadlines included) plus its HTTP port."""
from pydantic import AliasChoices, Field

from runtime.service.settings import ServiceSettings


class RefundSettings(ServiceSettings):
    http_port: int = Field(8081, validation_alias="AFTERSALE_REFUND_HTTP_PORT")
    # --- deadlines (seconds) and limits of an after-sale request ---
    # The seller timeout: the seller answers by then (refund.requested's seller_due_at), else
    # seller.timed_out. AFTERSALE_SELLER_RESPONSE_S, its former name, still works (with a warning).
    seller_timeout_s: float = Field(48 * 3600, validation_alias=AliasChoices(
        "AFTERSALE_SELLER_TIMEOUT_S", "AFTERSALE_SELLER_RESPONSE_S"))
    RENAMED = {"AFTERSALE_SELLER_RESPONSE_S": "AFTERSALE_SELLER_TIMEOUT_S"}
    return_ship_s: float = 7 * 24 * 3600
    return_confirm_s: float = 10 * 24 * 3600
    escalation_window_s: float = 7 * 24 * 3600
    replacement_ship_s: float = 7 * 24 * 3600
    max_resubmissions: int = 2
    # Our deadline on a party fires this long after the time the party was given, where another
    # service may accept the party's move up to that time (an escalation): see transitions.GRACE.
    race_grace_s: float = 3600
    after_sale_window_s: float = 15 * 24 * 3600  # requests from delivery on; before delivery any time
    # A party's posts on one request's conversation within any 24 hours (against spam).
    max_posts_per_day: int = 20
    # --- what a ruling costs ---
    max_postage_fen: int = 3000  # return postage repaid to the buyer, at most (¥30)
    payout_max_attempts: int = 4
    # What the buyer is promised when its refund is ordered: paid within this many working days
    # (退款将在几个工作日内退回), counted on the calendar of runtime/api/workdays.py.
    payout_promise_working_days: int = 3
    payout_retry_base_s: float = 60.0
