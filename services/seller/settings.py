"""The seller service's settings."""
from pydantic import Field

from runtime.service.settings import ServiceSettings


class SellerSettings(ServiceSettings):
    http_port: int = Field(8082, validation_alias="AFTERSALE_SELLER_HTTP_PORT")
    # --- negotiation (协商) ---
    offer_window_s: float = 48 * 3600  # the buyer answers an offer by then (seller.offered's buyer_due_at)
    max_offers: int = 2  # per request; a newer offer replaces the open one
    max_postage_fen: int = 3000  # return postage an approval may promise to repay (¥30), as the refund service caps it
    # --- shop credit ---
    credit_window_s: float = 60 * 24 * 3600  # defects count for 60 days, like an order defect rate
    credit_penalty_timeout: int = 3
    credit_penalty_at_fault: int = 5
    credit_penalty_late_shipment: int = 2  # not shipped by the order's ship_by (发货超时)
    # The levels (rules table): name:defects[:rate], lowest first. A shop is restricted at a level
    # when its defects in the window reach the count, or its defect rate (defects / orders paid in
    # the window) reaches the rate once it has `rate_min_orders`; lifted when both fall back below.
    # rejections_reviewed: its rejections of quality / not_received / not_as_described requests go
    # to the platform instead of the buyer.
    shop_restrictions: str = "promotions:3:0.05,new_listings:6:0.1,rejections_reviewed:8:0.15"
    rate_min_orders: int = 20

    def restriction_levels(self) -> list[tuple[str, int, float | None]]:
        levels = []
        for part in (p.strip() for p in self.shop_restrictions.split(",") if p.strip()):
            name, count, *rate = part.split(":")
            levels.append((name.strip(), int(count), float(rate[0]) if rate else None))
        return sorted(levels, key=lambda x: x[1])
