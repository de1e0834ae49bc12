"""The seller service's settings."""
from pydantic import Field

from runtime.settings import ServiceSettings


class SellerSettings(ServiceSettings):
    http_port: int = Field(8082, validation_alias="AFTERSALE_SELLER_HTTP_PORT")
