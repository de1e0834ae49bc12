"""A renamed setting: the new name is read, and the old one still works, with a warning."""
from __future__ import annotations

import pytest

from services.refund.settings import RefundSettings


def test_the_seller_timeout_under_its_new_name(monkeypatch) -> None:
    monkeypatch.delenv("AFTERSALE_SELLER_RESPONSE_S", raising=False)
    monkeypatch.setenv("AFTERSALE_SELLER_TIMEOUT_S", "60")
    assert RefundSettings().seller_timeout_s == 60


def test_the_seller_timeouts_former_name_still_works_and_says_so(monkeypatch) -> None:
    monkeypatch.delenv("AFTERSALE_SELLER_TIMEOUT_S", raising=False)
    monkeypatch.setenv("AFTERSALE_SELLER_RESPONSE_S", "90")
    with pytest.warns(FutureWarning, match="AFTERSALE_SELLER_RESPONSE_S is deprecated: set AFTERSALE_SELLER_TIMEOUT_S"):
        assert RefundSettings().seller_timeout_s == 90
