"""The workbench's pages against in-memory fakes: who may see what, the forms, and what is sent."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from services.arbitration.workbench.app import build_app
from services.arbitration.workbench.settings import WorkbenchSettings
from services.arbitration.workbench.tests.fakes import MemoryAccounts, MemoryReads, RecordingDecisions

NOW = datetime.now(timezone.utc)


def case_doc(case_id="CS1", due_in_h=24.0, **over):
    doc = {
        "_id": case_id, "order_id": "O1", "buyer_id": "B1", "seller_id": "S1", "paid_fen": 19900, "status": "awaiting_ruling",
        "round": 1, "opened_by": "buyer", "reason": "seller_unfair", "opened_at": NOW - timedelta(days=1),
        "ruling_due_at": NOW + timedelta(hours=due_in_h), "overdue": due_in_h < 0, "amount_fen": 19900, "appeals": 0,
        "claimed_by": None, "claimed_until": None, "ruled_by": [],
        "items": [{"sku": "SKU-1", "title": "蓝牙耳机", "qty": 1, "price_fen": 19900}],
        "shipped": {"carrier": "SF", "tracking_no": "SF123", "shipped_at": NOW - timedelta(days=5)},
        "delivered_at": NOW - timedelta(days=3),
        "case": {"case_id": case_id, "status": "awaiting_ruling", "round": 1, "rulings": [], "submissions": [
            {"party": "buyer", "at": NOW - timedelta(days=1), "description": "左耳无声", "kind": "with_request",
             "evidence": [{"kind": "photo", "uri": "https://img.example.cn/left.jpg"},
                          {"kind": "video", "uri": "https://img.example.cn/left.mp4"},
                          {"kind": "photo", "uri": "javascript:alert(1)"}]},
            {"party": "seller", "at": NOW - timedelta(hours=20), "description": "出厂检测正常", "kind": "evidence",
             "evidence": [{"kind": "document", "uri": "https://img.example.cn/qc.pdf"}]}]},
        "request": {"refund_id": "R1", "kind": "refund_only", "reason": "quality", "amount_fen": 19900,
                    "refundable_fen": 19900, "description": "耳机左耳无声", "evidence": [], "negotiation": [],
                    "seller_rejection": {"reason": "other", "message": "不同意", "evidence": []}},
    }
    doc.update(over)
    return doc


@pytest.fixture(scope="module")
def accounts():
    accounts = MemoryAccounts()  # hashed once: Argon2 is slow on purpose
    accounts.add("xiaoer1", "correct-horse-1")
    accounts.add("xiaoer2", "correct-horse-2")
    accounts.add("zhuguan", "correct-horse-3", supervisor=True)
    return accounts


@pytest.fixture
def wb(accounts):
    reads = MemoryReads([case_doc(), case_doc("CS2", due_in_h=-1, reason="quality", amount_fen=5000, appeals=1)],
                        buyers={"B1": {"refund_rate": 0.25, "refunds": 1, "orders": 4, "misconduct": []}},
                        shops={"S1": {"defect_rate": 0.031, "defects": {"a": 1}, "restrictions": []}})
    decisions = RecordingDecisions()
    app = build_app(WorkbenchSettings(secret="test-secret"), reads=reads, accounts=accounts, decisions=decisions)
    with TestClient(app, base_url="http://workbench.test") as client:
        client.decisions = decisions  # type: ignore[attr-defined]
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, user="xiaoer1", password="correct-horse-1"):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"user": user, "password": password, "csrf_token": token, "next": "/queue"},
                       follow_redirects=False)


def test_a_logged_out_visitor_is_sent_to_the_login_and_sees_no_case(wb):
    for path in ("/queue", "/cases/CS1", "/answers/x"):
        r = wb.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = wb.post("/cases/CS1/claim", data={}, follow_redirects=False)
    assert r.status_code == 401 and "左耳" not in r.text
    assert wb.decisions.sent == []


def test_a_wrong_password_is_refused_and_the_right_one_lets_in(wb):
    assert log_in(wb, password="wrong-password").status_code == 401
    r = log_in(wb)
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    assert "CS1" in wb.get("/queue").text


def test_a_login_without_the_form_token_is_refused(wb):
    wb.get("/login")
    r = wb.post("/login", data={"user": "xiaoer1", "password": "correct-horse-1", "next": "/queue"})
    assert r.status_code == 403


def test_the_queue_puts_the_overdue_case_first_and_filters(wb):
    log_in(wb)
    html = wb.get("/queue").text
    assert html.index("CS2") < html.index("CS1") and "已超期" in html
    assert "CS1" not in wb.get("/queue?appeals=1").text
    only = wb.get("/queue?min_yuan=100").text
    assert "CS1" in only and 'href="/cases/CS2"' not in only
    assert 'href="/cases/CS1"' not in wb.get("/queue?reason=quality").text


def test_a_forged_post_without_the_token_sends_nothing(wb):
    log_in(wb)
    r = wb.post("/cases/CS1/claim", data={"csrf_token": "forged"})
    assert r.status_code == 403 and wb.decisions.sent == []


def test_a_claim_is_sent_under_the_arbitrators_id_and_its_answer_shown(wb):
    log_in(wb)
    token = csrf_of(wb.get("/cases/CS1").text)
    r = wb.post("/cases/CS1/claim", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/CS1?sent=")
    assert wb.decisions.sent == [("case.claim", {"order_id": "O1", "case_id": "CS1"}, "xiaoer1")]
    event_id = r.headers["location"].split("sent=")[1]
    assert "hx-trigger" in wb.get(f"/answers/{event_id}").text  # still waiting: the page asks again
    wb.decisions.answers[event_id].rejection = {"code": "claimed_by_other", "message": "xiaoer2 holds it"}
    assert 'data-code="claimed_by_other"' in wb.get(f"/answers/{event_id}").text


def test_the_case_page_shows_the_story_with_images_inline_and_nothing_but_http(wb):
    log_in(wb)
    html = wb.get("/cases/CS1").text
    assert '<img src="https://img.example.cn/left.jpg"' in html
    assert 'href="https://img.example.cn/left.mp4"' in html and "<img src=\"https://img.example.cn/left.mp4\"" not in html
    assert 'href="https://img.example.cn/qc.pdf"' in html
    assert 'src="javascript:' not in html and 'href="javascript:' not in html and "alert(1)" in html
    assert "蓝牙耳机" in html and "SF123" in html and "3.1%" in html and "25%" in html
    assert html.index("左耳无声") < html.index("出厂检测正常")
    # Beijing time: the due time printed is eight hours ahead of UTC.
    due = (NOW + timedelta(hours=24)).astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert due in html


def test_the_ruling_form_offers_only_outcomes_that_fit_and_refuses_a_wrong_amount(wb):
    log_in(wb)
    html = wb.get("/cases/CS1").text
    offered = set(re.findall(r'<option value="(\w+)"', html.split('id="ruling"')[1].split("</select>")[0]))
    assert offered == {"full_refund", "partial_refund", "return_and_refund", "reject", "cancel_order"}
    token = csrf_of(html)
    too_much = wb.post("/cases/CS1/ruling/review", data={
        "csrf_token": token, "outcome": "full_refund", "refund_yuan": "300", "return_shipping_paid_by": "seller",
        "reasoning": "质量问题"})
    assert too_much.status_code == 400 and "超过可退金额" in too_much.text
    no_reason = wb.post("/cases/CS1/ruling/review", data={
        "csrf_token": token, "outcome": "full_refund", "refund_yuan": "199", "return_shipping_paid_by": "seller",
        "canned": "证据不足", "reasoning": " "})
    assert no_reason.status_code == 400 and "请写明裁决理由" in no_reason.text
    assert wb.decisions.sent == []


def test_a_ruling_is_sent_only_after_it_is_confirmed(wb):
    log_in(wb)
    token = csrf_of(wb.get("/cases/CS1").text)
    form = {"csrf_token": token, "outcome": "full_refund", "refund_yuan": "199.00", "return_shipping_paid_by": "seller",
            "return_shipping_yuan": "12", "seller_at_fault": "on", "canned": "拒绝理由不成立", "reasoning": "左耳无声属实"}
    review = wb.post("/cases/CS1/ruling/review", data=form)
    assert review.status_code == 200 and "¥199.00" in review.text and wb.decisions.sent == []
    confirmed = wb.post("/cases/CS1/ruling", data=form, follow_redirects=False)
    assert confirmed.status_code == 303
    [(type_, data, actor)] = wb.decisions.sent
    assert (type_, actor) == ("ruling.decide", "xiaoer1")
    assert data == {"order_id": "O1", "case_id": "CS1", "outcome": "full_refund", "refund_fen": 19900,
                    "return_shipping_paid_by": "seller", "return_shipping_fen": 1200, "seller_at_fault": True,
                    "misconduct": "none", "penalty_fen": 0, "reasoning": "拒绝理由不成立：左耳无声属实"}


def test_only_a_supervisor_assigns_a_case(wb):
    log_in(wb)
    token = csrf_of(wb.get("/cases/CS1").text)
    assert wb.post("/cases/CS1/assign", data={"csrf_token": token, "arbitrator_id": "xiaoer2"}).status_code == 403
    wb.post("/logout", data={"csrf_token": token})
    log_in(wb, "zhuguan", "correct-horse-3")
    token = csrf_of(wb.get("/cases/CS1").text)
    wb.post("/cases/CS1/assign", data={"csrf_token": token, "arbitrator_id": "xiaoer2"})
    assert wb.decisions.sent == [("case.assign", {"order_id": "O1", "case_id": "CS1", "arbitrator_id": "xiaoer2"}, "zhuguan")]


def test_logging_out_ends_the_session(wb):
    log_in(wb)
    token = csrf_of(wb.get("/queue").text)
    wb.post("/logout", data={"csrf_token": token})
    assert wb.get("/queue", follow_redirects=False).status_code == 303


def test_english_is_available(wb):
    log_in(wb)
    wb.get("/lang/en", headers={"referer": "http://workbench.test/queue"})
    assert "Queue" in wb.get("/queue").text


def test_the_language_switch_returns_only_to_the_workbenchs_own_pages(wb):
    log_in(wb)
    for referer, back in (("http://workbench.test/cases/CS-1", "/cases/CS-1"), ("https://evil.example/queue", "/queue"),
                          ("http://workbench.test//evil.example/x", "/queue"), ("https://evil.example", "/queue"),
                          ("/\\evil.example", "/queue"), ("", "/queue")):
        r = wb.get("/lang/zh", headers={"referer": referer} if referer else {}, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, back), referer


async def test_a_login_hashes_off_the_event_loop():
    import asyncio

    from services.arbitration.workbench.accounts import HASHER, Accounts

    class Docs:
        async def find_one(self, flt):
            return {"_id": "xiaoer1", "name": "小二", "password_hash": HASHER.hash("secret")}

    accounts = Accounts({"accounts": Docs(), "sessions": Docs()})
    ticks = 0

    async def meanwhile():
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    other = asyncio.create_task(meanwhile())
    account = await accounts.verify("xiaoer1", "secret")
    other.cancel()
    assert account is not None and account.id == "xiaoer1"
    assert ticks > 10  # the loop kept serving while Argon2 ran (on the loop it would be 0)


def test_the_sso_header_is_trusted_only_with_the_proxys_secret(accounts):
    from services.arbitration.workbench.security import PROXY_SECRET_HEADER

    with pytest.raises(ValueError, match="SSO_SECRET"):
        build_app(WorkbenchSettings(**{"AFTERSALE_WORKBENCH_SSO_HEADER": "x-staff-id"}), reads=MemoryReads([case_doc()]),
                  accounts=accounts, decisions=RecordingDecisions())
    behind_proxy = {"AFTERSALE_WORKBENCH_SSO_HEADER": "x-staff-id", "AFTERSALE_WORKBENCH_SSO_SECRET": "proxy-only"}
    app = build_app(WorkbenchSettings(**behind_proxy), reads=MemoryReads([case_doc()]), accounts=accounts,
                    decisions=RecordingDecisions())
    with TestClient(app, base_url="http://workbench.test") as client:
        forged = client.get("/queue", headers={"x-staff-id": "zhuguan"}, follow_redirects=False)
        wrong = client.get("/queue", headers={"x-staff-id": "zhuguan", PROXY_SECRET_HEADER: "guess"},
                           follow_redirects=False)
        proxied = client.get("/queue", headers={"x-staff-id": "zhuguan", PROXY_SECRET_HEADER: "proxy-only"},
                             follow_redirects=False)
    assert forged.status_code == 303 and wrong.status_code == 303
    assert proxied.status_code == 200


def test_failed_logins_are_throttled_per_account_and_the_refusal_says_so(wb):
    for _ in range(5):
        assert log_in(wb, password="wrong").status_code == 401
    throttled = log_in(wb)  # even the right password waits now
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text
    # ...and from this address any account: a guesser does not get five tries per account
    assert log_in(wb, user="xiaoer2", password="correct-horse-2").status_code == 429


def test_the_throttle_forgets_failures_older_than_its_window():
    from services.arbitration.workbench.throttle import LoginThrottle

    now = [0.0]
    t = LoginThrottle(most=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        t.failed("xiaoer1", "10.0.0.1")
    assert t.wait_s("xiaoer1", "10.0.0.9") == 60 and t.wait_s("xiaoer2", "10.0.0.1") == 60
    assert t.wait_s("xiaoer2", "10.0.0.9") == 0
    now[0] = 61
    assert t.wait_s("xiaoer1", "10.0.0.1") == 0


def test_a_logout_ends_the_session_everywhere_and_a_session_ends_at_its_lifetime(wb, accounts):
    log_in(wb)
    cookie = wb.cookies.get("session")
    token = csrf_of(wb.get("/queue").text)
    wb.post("/logout", data={"csrf_token": token})
    wb.cookies.set("session", cookie, domain="workbench.test")  # the cookie copied before the logout
    assert wb.get("/queue", follow_redirects=False).status_code == 303

    log_in(wb)
    assert wb.get("/queue", follow_redirects=False).status_code == 200
    for sid, (who, _) in list(accounts.sessions.items()):
        accounts.sessions[sid] = (who, 0.0)  # its absolute lifetime ran out
    assert wb.get("/queue", follow_redirects=False).status_code == 303


def test_an_arbitrator_opens_a_platform_case_from_the_form(wb):
    log_in(wb)
    page = wb.get("/cases/new").text
    assert "平台主动介入" in page and 'value="counterfeit"' in page
    token = csrf_of(page)
    bad = wb.post("/cases/new", data={"csrf_token": token, "order_id": "", "reason": "gossip", "description": " ",
                                       "evidence": "javascript:alert(1)"})
    assert bad.status_code == 400 and wb.decisions.sent == []
    assert all(word in bad.text for word in ("请填写订单号", "请选择", "请写明需要什么"))
    r = wb.post("/cases/new", data={"csrf_token": token, "order_id": "O-9", "reason": "counterfeit",
                                     "description": "鉴定为假货", "evidence": "https://img.example.cn/appraisal.pdf\n"},
                follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/new?sent=")
    assert wb.decisions.sent == [("case.open", {
        "order_id": "O-9", "reason": "counterfeit", "description": "鉴定为假货",
        "evidence": [{"kind": "document", "uri": "https://img.example.cn/appraisal.pdf"}]}, "xiaoer1")]
    event_id = r.headers["location"].split("sent=")[1]
    wb.decisions.answers[event_id].types.append("case.opened")
    assert 'data-types="case.opened"' in wb.get(f"/answers/{event_id}").text


def test_the_case_shows_what_the_parties_ask_and_holds_and_releases_a_partys_funds(accounts):
    held = case_doc("CS3")
    held["case"] = {**held["case"], "demands": {"buyer": ["freeze_counterparty", "compensation"]},
                    "holds": [{"hold_id": "hold:CS3:seller:1", "party": "seller", "reason": "售假调查",
                               "at": NOW - timedelta(hours=2), "released_at": None}]}
    reads = MemoryReads([held])
    decisions = RecordingDecisions()
    app = build_app(WorkbenchSettings(secret="test-secret"), reads=reads, accounts=accounts, decisions=decisions)
    with TestClient(app, base_url="http://workbench.test") as client:
        log_in(client)
        html = client.get("/cases/CS3").text
        assert "冻结对方账户" in html and "赔偿" in html.split('id="demands"')[1]
        assert 'data-hold="hold:CS3:seller:1"' in html and "售假调查" in html
        token = csrf_of(html)
        blank = client.post("/cases/CS3/hold", data={"csrf_token": token, "party": "buyer", "reason": " "})
        assert blank.status_code == 400 and "请写明原因" in blank.text and decisions.sent == []
        client.post("/cases/CS3/hold", data={"csrf_token": token, "party": "seller", "reason": "售假调查",
                                             "release": "1"}, follow_redirects=False)
        client.post("/cases/CS3/hold", data={"csrf_token": token, "party": "buyer", "reason": "疑似恶意退款"},
                    follow_redirects=False)
    assert decisions.sent == [
        ("funds.release", {"order_id": "O1", "case_id": "CS3", "party": "seller", "reason": "售假调查"}, "xiaoer1"),
        ("funds.hold", {"order_id": "O1", "case_id": "CS3", "party": "buyer", "reason": "疑似恶意退款"}, "xiaoer1")]


def test_the_shops_record_shows_its_sanction_and_return_address(accounts):
    shop = {"defect_rate": 0.1, "defects": {}, "restrictions": ["suspended"],
            "sanction": {"level": "suspended", "until": NOW + timedelta(days=7), "case_id": "CS9", "order_id": "O9"},
            "return_address": {"name": "售后部", "phone": "13800138000", "address": "杭州市余杭区 1 号"}}
    app = build_app(WorkbenchSettings(secret="test-secret"), reads=MemoryReads([case_doc()], shops={"S1": shop}),
                    accounts=accounts, decisions=RecordingDecisions())
    with TestClient(app, base_url="http://workbench.test") as client:
        log_in(client)
        records = client.get("/cases/CS1").text.split('id="records"')[1]
    assert "暂停" in records and "售后部, 13800138000, 杭州市余杭区 1 号" in records


def test_a_ruling_in_the_story_shows_what_it_cost_the_seller(accounts):
    ruled = case_doc("CS4")
    ruled["case"] = {**ruled["case"], "rulings": [{
        "round": 1, "outcome": "reject", "refund_fen": 0, "return_shipping_paid_by": "seller", "seller_at_fault": True,
        "reasoning": "售假属实", "decided_by": "xiaoer2", "at": NOW - timedelta(hours=1), "final": False,
        "penalty_fen": 50000, "compensation_fen": 199000, "sanction": {"party": "seller", "level": "suspended", "days": 7}}]}
    app = build_app(WorkbenchSettings(secret="test-secret"), reads=MemoryReads([ruled]), accounts=accounts,
                    decisions=RecordingDecisions())
    with TestClient(app, base_url="http://workbench.test") as client:
        log_in(client)
        story = client.get("/cases/CS4").text.split('id="timeline"')[1]
    assert "罚款 ¥500.00" in story and "赔偿 ¥1,990.00" in story and "卖家 暂停 7d" in story


def complaint_doc(status="answered"):
    return {"_id": "CP1", "complaint_id": "CP1", "complainant_id": "S9", "against_seller_id": "S1", "subject": "商标 ABC",
            "right": "trademark", "description": "仿冒我方商标", "filed_at": NOW - timedelta(days=1), "status": status,
            "evidence": [{"kind": "photo", "uri": "https://img.example.cn/fake.jpg"},
                         {"kind": "document", "uri": "javascript:alert(2)"}],
            "answer": "有授权", "answer_evidence": [], "answered_at": NOW - timedelta(hours=3)}


def test_complaints_wait_beside_the_cases_and_are_decided_from_their_page(accounts):
    decisions = RecordingDecisions()
    app = build_app(WorkbenchSettings(secret="test-secret"),
                    reads=MemoryReads([case_doc()], complaints=[complaint_doc(), {**complaint_doc("ruled"), "_id": "CP2"}]),
                    accounts=accounts, decisions=decisions)
    with TestClient(app, base_url="http://workbench.test") as client:
        log_in(client)
        queue = client.get("/queue").text
        assert 'data-case="CS1"' in queue and 'data-complaint="CP1"' in queue and 'data-complaint="CP2"' not in queue
        page = client.get("/complaints/CP1").text
        assert '<img src="https://img.example.cn/fake.jpg"' in page and 'href="javascript:' not in page
        assert "有授权" in page and "商标权" in page
        token = csrf_of(page)
        blank = client.post("/complaints/CP1/decide", data={"csrf_token": token, "outcome": "upheld", "reasoning": ""})
        assert blank.status_code == 400 and decisions.sent == []
        wrong = client.post("/complaints/CP1/decide", data={"csrf_token": token, "outcome": "dismissed",
                                                            "reasoning": "授权有效", "sanction_level": "warning"})
        assert wrong.status_code == 400 and decisions.sent == []  # no sanction for a dismissed complaint
        done = client.post("/complaints/CP1/decide", data={
            "csrf_token": token, "outcome": "upheld", "reasoning": "仿冒属实", "sanction_level": "suspended",
            "sanction_days": "30"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/complaints/CP1?sent=")
        assert client.get("/complaints/NOPE").status_code == 404
    assert decisions.sent == [("complaint.decide", {"complaint_id": "CP1", "outcome": "upheld", "reasoning": "仿冒属实",
                                                    "sanction": {"party": "seller", "level": "suspended", "days": 30}},
                               "xiaoer1")]


def test_the_order_shows_its_ship_by_date_and_a_late_shipment(accounts):
    late = case_doc("CS5", ship_by=NOW - timedelta(days=6))  # shipped five days ago: a day late
    app = build_app(WorkbenchSettings(secret="test-secret"), reads=MemoryReads([late, case_doc()]), accounts=accounts,
                    decisions=RecordingDecisions())
    with TestClient(app, base_url="http://workbench.test") as client:
        log_in(client)
        assert 'id="ship-by"' in (page := client.get("/cases/CS5").text) and "发货超时" in page
        assert 'id="ship-by"' not in client.get("/cases/CS1").text  # no ship-by date: nothing said
