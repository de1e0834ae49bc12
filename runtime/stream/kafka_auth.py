"""Kafka client security from settings or the environment: plaintext locally, SASL/SCRAM where
the broker requires it (AFTERSALE_KAFKA_SECURITY=SASL_SCRAM_256 with a username and password)."""
from __future__ import annotations

import os
from typing import Any

SCRAM = "SASL_SCRAM_256"


def aiokafka_kwargs(security: str | None = None, username: str | None = None, password: str | None = None) -> dict[str, Any]:
    security = security if security is not None else os.environ.get("AFTERSALE_KAFKA_SECURITY", "")
    if security != SCRAM:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": username or os.environ.get("AFTERSALE_KAFKA_USERNAME", ""),
        "sasl_plain_password": password or os.environ.get("AFTERSALE_KAFKA_PASSWORD", ""),
    }
