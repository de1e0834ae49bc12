"""Personal data never reaches a log line in clear: addresses, phones, free text."""
from __future__ import annotations

from runtime.service.logging import mask_pii


def test_a_return_address_and_phone_numbers_are_masked_wherever_they_appear() -> None:
    line = mask_pii(None, "info", {
        "event": "approved; call 13800138000", "order_id": "O-1",
        "data": {"return_address": {"name": "王店长", "phone": "13800138000", "address": "杭州市余杭区 1 号"},
                 "note": "x", "refund_id": "RF-1"},
        "return_address": {"name": "王店长"}})
    assert line["return_address"] == "***" and line["data"]["return_address"] == "***"
    assert line["data"]["note"] == "***" and line["data"]["refund_id"] == "RF-1" and line["order_id"] == "O-1"
    assert line["event"] == "approved; call 138****8000"
    assert "13800138000" not in repr(line) and "杭州" not in repr(line)
