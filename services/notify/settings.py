"""The notify service's settings."""
from pydantic import Field

from runtime.service.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    http_port: int = Field(8084, validation_alias="AFTERSALE_NOTIFY_HTTP_PORT")
    reminder_lead_s: float = 6 * 3600  # a reminder goes out this long before a party's deadline
    # Who hears of a case the arbitrators have not ruled in time: the arbitration desk's inbox.
    arbitration_desk: str = "arbitration-desk"
