"""The arbitration service's settings."""
from pydantic import Field

from runtime.settings import ServiceSettings


class ArbitrationSettings(ServiceSettings):
    http_port: int = Field(8083, validation_alias="AFTERSALE_ARBITRATION_HTTP_PORT")
