"""The workbench's settings (prefix `AFTERSALE_WORKBENCH_`, and the shared Kafka/MongoDB ones)."""
from __future__ import annotations

from pydantic import Field

from runtime.service.settings import ServiceSettings


class WorkbenchSettings(ServiceSettings):
    SECRETS = (*ServiceSettings.SECRETS, "secret", "sso_secret")
    http_port: int = Field(8085, validation_alias="AFTERSALE_WORKBENCH_HTTP_PORT")
    # Signs the session cookie. Unset: a random one per start (everyone logs in again after a restart).
    secret: str = Field("", validation_alias="AFTERSALE_WORKBENCH_SECRET")
    # Behind a reverse proxy that authenticates staff (SSO): the header carrying the arbitrator's
    # id. The proxy must strip it from what clients send; unset, the login form is used.
    sso_header: str = Field("", validation_alias="AFTERSALE_WORKBENCH_SSO_HEADER")
    # ...and the secret the proxy sends with it (header x-workbench-proxy-secret): the header alone is
    # trusted from nobody. An SSO header without a secret is refused at start.
    sso_secret: str = Field("", validation_alias="AFTERSALE_WORKBENCH_SSO_SECRET")
    session_max_age_s: int = Field(12 * 3600, validation_alias="AFTERSALE_WORKBENCH_SESSION_MAX_AGE_S")
    # Cookies only over https in production; the local demo runs on http.
    https_only: bool = Field(False, validation_alias="AFTERSALE_WORKBENCH_HTTPS_ONLY")
    # The refund service's cap on repaid return postage, so the form refuses what the service would.
    max_postage_fen: int = Field(3000, validation_alias="AFTERSALE_MAX_POSTAGE_FEN")
    queue_limit: int = 200
