"""The seller service's settings."""
from pydantic import Field

from runtime.settings import ServiceSettings


class SellerSettings(ServiceSettings):
    http_port: int = Field(8082, validation_alias="AFTERSALE_SELLER_HTTP_PORT")
    # --- negotiation (协商) ---
    offer_window_s: float = 48 * 3600  # the buyer answers an offer by then (seller.offered's buyer_due_at)
    max_offers: int = 2  # per request; a newer offer replaces the open one
    # --- shop credit ---
    credit_window_s: float = 60 * 24 * 3600  # defects count for 60 days, like an order defect rate
    credit_penalty_timeout: int = 3
    credit_penalty_at_fault: int = 5
    # restriction:defects-in-window, lowest first; lifted when the count falls back below
    shop_restrictions: str = "promotions:3,new_listings:6"

    def restriction_thresholds(self) -> list[tuple[str, int]]:
        pairs = [p.split(":") for p in self.shop_restrictions.split(",") if p.strip()]
        return sorted(((name.strip(), int(n)) for name, n in pairs), key=lambda x: x[1])
