"""Every template renders in both languages with realistic data; a missing template or
placeholder fails here, not in a user's message box."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.notify.domain import templates as T

DUE = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
REALISTIC = {
    "refund_requested": dict(kind="return_and_refund", reason="not_as_described", amount_fen=25900, due=DUE),
    "seller_approved": dict(kind="refund_only"),
    "seller_rejected": dict(reason="opened", due=DUE),
    "seller_timed_out": {},
    "return_requested": dict(due=DUE, return_address={"name": "王店长", "phone": "13800138000",
                                                      "address": "杭州市余杭区仓前街道 1 号"}),
    "return_received": dict(receiver="auto"),
    "replacement_shipped": dict(carrier="顺丰", tracking_no="SF100200300"),
    "case_opened": dict(case_id="CS1a2b", due=DUE),
    "evidence_requested": dict(case_id="CS1a2b", due=DUE),
    "deadline_near": dict(task="return_pending", due=DUE),
    "ruling_issued": dict(case_id="CS1a2b", outcome="full_refund", amount_fen=1250, shipping="seller",
                          reasoning="卖家拒绝理由不成立", round="1", appeal_until=DUE),
    "ruling_appealed": dict(case_id="CS1a2b", party="seller", due=DUE),
    "refund_paid": dict(amount_fen=1250, refund_to="original"),
    "refund_withdrawn": {},
    "shop_restricted": dict(restriction="promotions", defects=3),
    "shop_restored": dict(restriction="promotions", defects=2),
    "offer_received": dict(offer={"kind": "partial_refund", "amount_fen": 5000}, message="补偿50元，商品不用退回", due=DUE),
    "offer_accepted": dict(offer={"kind": "resend", "amount_fen": None}),
    "offer_declined": dict(offer={"kind": "exchange", "amount_fen": None}, message="我只要退款"),
    "offer_lapsed": dict(due=DUE),
    "conversation_post": dict(party="seller", text="亲，麻烦拍一下漏水的位置", attachments=1),
    "return_shipped": dict(carrier="顺丰", tracking_no="SF100200300"),
    "request_closed": dict(why="rejected_final"),
    "evidence_added": dict(case_id="CS1a2b", party="seller", count=3),
    "case_in_queue": dict(case_id="CS1a2b", due=DUE),
    "case_ended": dict(case_id="CS1a2b"),
    "case_ruled": dict(case_id="CS1a2b", finding="fined", penalty_fen=50000, reasoning="售假属实", round="1",
                       appeal_until=DUE),
    "platform_case_opened": dict(case_id="CS1a2b", reason="counterfeit", due=DUE),
    "replacement_requested": dict(due=DUE),
    "payout_delayed": {},
    "seller_compensated": dict(amount_fen=2500),
    "compensation_received": dict(case_id="CS1a2b", amount_fen=20000),
    "compensation_charged": dict(case_id="CS1a2b", amount_fen=20000),
    "compensation_lifted": dict(case_id="CS1a2b", amount_fen=20000),
    "complaint_filed": dict(complaint_id="CP1", subject="商标 ABC", right="trademark"),
    "complaint_answered": dict(complaint_id="CP1"),
    "complaint_ruled": dict(complaint_id="CP1", outcome="upheld", reasoning="仿冒属实"),
    "funds_held": dict(case_id="CS1a2b", party="seller", note="售假调查"),
    "account_sanctioned": dict(case_id="CS1a2b", level="suspended", until="2026-12-13T02:00:00+00:00"),
    "account_sanction_lifted": dict(case_id="CS1a2b", level="suspended"),
    "refund_on_its_way": dict(amount_fen=19900, due="2026-12-09T02:00:00+00:00"),
    "funds_released": dict(case_id="CS1a2b", party="seller", note="售假调查"),
    "ruling_overdue": dict(case_id="CS1a2b", due=DUE),
    "refund_unshipped": dict(amount_fen=12900),
    "cancelled_late_shipment": dict(amount_fen=12900),
    "shipped_late": dict(due=DUE),
    "postage_repaid": dict(amount_fen=1200),
    "seller_penalized": dict(case_id="CS1a2b", amount_fen=50000),
    "penalty_refunded": dict(case_id="CS1a2b", amount_fen=50000),
}


def test_every_template_file_has_realistic_test_data():
    assert sorted(REALISTIC) == T.names()


@pytest.mark.parametrize("locale", T.LOCALES)
@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_every_template_renders_in_both_languages(name, locale):
    title, body = T.render(name, locale, {"order_id": "O-20261126-001", **REALISTIC[name]})
    assert title and body and "{" not in title + body
    assert "O-20261126-001" in body or name.startswith(("shop_", "account_", "complaint_"))  # a shop's or account's standing, a complaint
    if locale == "zh-CN":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title)


def test_amounts_are_shown_in_yuan():
    assert T.yuan(1250) == "¥12.50" and T.yuan(5) == "¥0.05" and T.yuan(25900) == "¥259.00"
    _, body = T.render("refund_paid", "en", {"order_id": "O1", "amount_fen": 1250, "refund_to": "balance"})
    assert "¥12.50" in body and "platform balance" in body


def test_times_are_beijing_time_in_chinese_and_utc_in_english():
    assert T.when(DUE, "zh-CN") == "2026-11-27 16:30（北京时间）"
    assert T.when(DUE, "en") == "2026-11-27 08:30 UTC"


def test_a_missing_placeholder_value_is_an_error():
    with pytest.raises(T.TemplateError, match="due"):
        T.render("return_requested", "zh-CN", {"order_id": "O1"})


def test_a_missing_template_is_an_error():
    with pytest.raises(T.TemplateError, match="no template"):
        T.render("no_such_template", "en", {"order_id": "O1"})


def test_every_zh_template_has_an_en_twin_with_the_same_placeholders():
    for name in T.names():
        zt, zb = T.load(name, "zh-CN")
        et, eb = T.load(name, "en")
        assert T.placeholders(zt + zb) == T.placeholders(et + eb), name


def _templates_sent() -> set[str]:
    """Every template name the decisions use: `send(to, "<name>")`, `to_user(id, "<name>")`, or a
    handler factory's first argument (`to_seller("<name>", …)`, `funds_moved("<name>")`)."""
    import ast
    from pathlib import Path

    import services.notify.domain.cases as cases
    import services.notify.domain.decide as decide
    trees = [ast.parse(Path(m.__file__).read_text()) for m in (decide, cases)]
    used = set()
    for node in (n for tree in trees for n in ast.walk(tree)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        at = {"send": 1, "to_user": 1, "to_seller": 0, "offer_answered": 0, "funds_moved": 0}.get(name)
        if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
            used.add(node.args[at].value)
    return used


def test_every_message_sent_has_its_templates_and_every_template_is_sent():
    used = _templates_sent()
    assert used, "the scan found no message at all"
    for locale in T.LOCALES:
        have = {p.stem for p in (T.TEMPLATE_DIR / locale).glob("*.txt")}
        assert used - have == set(), f"sent without a {locale} template"
        assert have - used == set(), f"{locale} templates nothing sends"
