"""A deployment started with .env.example's placeholder secrets refuses to start, naming the setting."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.arbitration.workbench.settings import WorkbenchSettings
from services.refund.settings import RefundSettings


@pytest.mark.parametrize("make,field,env", [
    (RefundSettings, "kafka_password", "AFTERSALE_KAFKA_PASSWORD"),
    (RefundSettings, "admin_token", "AFTERSALE_ADMIN_TOKEN"),
    (RefundSettings, "mongo_password", "AFTERSALE_MONGO_PASSWORD"),
    (WorkbenchSettings, "mongo_password", "AFTERSALE_MONGO_PASSWORD"),
    (WorkbenchSettings, "secret", "AFTERSALE_WORKBENCH_SECRET"),
])
def test_a_placeholder_secret_is_refused_at_start(make, field, env, monkeypatch) -> None:
    monkeypatch.setenv(env, "change-me-please")
    with pytest.raises(ValidationError, match=env):
        make()
    monkeypatch.setenv(env, "a-real-secret")
    assert getattr(make(), field) == "a-real-secret"
