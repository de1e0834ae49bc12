"""The refund service's settings: the shared ones (deadlines included) plus its HTTP port."""
from pydantic import Field

from runtime.settings import ServiceSettings


class RefundSettings(ServiceSettings):
    http_port: int = Field(8081, validation_alias="AFTERSALE_REFUND_HTTP_PORT")
