"""The arbitrators' workbench in headless Chromium (Debian's package), against the real services:
the seed story's case worked from the queue to a ruling, claims, an appeal, and the guards.

The module runs its own set of services (own databases and consumer groups), so its queue holds
only its own cases and "the queue is empty" means what it says."""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio

from ops.launcher import System, make_system
from ops.reads import add_arbitrator
from sim.bus import Bus
from sim.evidence import EvidenceStore
from sim.story import CHAT, Market, Order
from tests.conftest import LOG_DIR, service_env
from tests.support.infra import ROOT

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6]
PREFIX = f"w{RUN}_"
PORTS = {"refund": 18091, "seller": 18092, "arbitration": 18093, "notify": 18094, "workbench": 18095}
BASE = f"http://127.0.0.1:{PORTS['workbench']}"
PASSWORD = "workbench-test-pw"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a sandbox without a network: no sandbox, no GPU, nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SCREENSHOT = ROOT / ".run" / "screenshots" / "workbench-case.png"
README_SCREENSHOT = ROOT / "docs" / "images" / "workbench-case.png"


@pytest.fixture(scope="module")
def wb_system(infra: Any) -> Iterator[System]:
    env = {**service_env(infra), "AFTERSALE_DB_PREFIX": PREFIX, "AFTERSALE_GROUP_SUFFIX": f"-w{RUN}",
           "AFTERSALE_WORKBENCH_SECRET": "test-only-secret", "AFTERSALE_RULING_TARGET_S": "600",
           "AFTERSALE_APPEAL_WINDOW_S": "30",
           **{f"AFTERSALE_{n.upper()}_HTTP_PORT": str(p) for n, p in PORTS.items()}}
    asyncio.run(_accounts(infra.mongo_url))
    system = make_system(env, LOG_DIR / "workbench", list(PORTS))
    system.start()
    yield system
    system.stop()


async def _accounts(mongo_url: str) -> None:
    for account_id, supervisor in (("xiaoer1", False), ("xiaoer2", False), ("zhuguan", True)):
        await add_arbitrator(mongo_url, PREFIX, account_id, account_id, PASSWORD, supervisor)


@pytest_asyncio.fixture(scope="module")
async def wb_market(infra: Any, wb_system: System) -> AsyncIterator[Market]:
    bus = Bus(infra.bootstrap)
    await bus.start()

    async def recorded(order_id: str, shipped: bool) -> bool:
        url = f"http://127.0.0.1:{PORTS['refund']}/state?key={order_id}"
        try:
            doc = await asyncio.to_thread(lambda: json.loads(urllib.request.urlopen(url, timeout=5).read()))
        except OSError:
            return False  # 404 until the order is recorded (421 if another replica owned it)
        order = (doc.get("state") or {}).get("order") or {}
        return bool(order) and (not shipped or bool(order.get("shipped")))

    yield Market(bus, recorded)
    await bus.stop()


@pytest.fixture(scope="module")
def store() -> Iterator[EvidenceStore]:
    photos = {"buyer-request.png": (220, 60, 60), "buyer-case.png": (200, 90, 40),
              "seller-rejection.png": (40, 90, 200), "seller-case.png": (40, 160, 90)}
    with EvidenceStore(photos) as s:
        yield s


@pytest_asyncio.fixture(scope="module")
async def browser(wb_system: System) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (scripts/setup.sh)"
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def logged_in(browser: Any, who: str) -> Any:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")).new_page()
    await page.goto(f"{BASE}/login")
    await page.fill("input[name=user]", who)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{BASE}/queue")
    return page


async def answer_of(page: Any) -> Any:
    """What the service made of the command the page just sent (the page follows it with htmx)."""
    box = page.locator("#answer")
    await box.wait_for(timeout=15000)
    return box


async def seed_case(market: Market, store: EvidenceStore) -> Order:
    """The seed's story up to the platform: return and refund of ¥259, refused, escalated."""
    order = await market.paid_order(amount_fen=25900)
    await order.buyer_requests(kind="return_and_refund", reason="not_as_described", description="实物与描述不符",
                               evidence=[{"kind": "photo", "uri": store.url("buyer-request.png")}])
    await order.requested()
    await order.seller_rejects(reason="opened", message="商品已拆封；主观不满意；影响二次销售",
                               evidence=[{"kind": "photo", "uri": store.url("seller-rejection.png")}])
    await order.state("rejected")
    await order.buyer_escalates(evidence=[{"kind": "photo", "uri": store.url("buyer-case.png")}, CHAT])
    await order.case_opened()
    await order.submits_evidence("seller", "买家已拆封使用", done=True,
                                 evidence=[{"kind": "photo", "uri": store.url("seller-case.png")}])
    await order.submits_evidence("buyer", "没有更多了", done=True,
                                 evidence=[{"kind": "photo", "uri": store.url("buyer-case.png")}])
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=30)
    return order


async def images_loaded(page: Any, timeout_s: float = 15.0) -> None:
    """Waits from here, not with a function polled in the page: the page's CSP forbids eval there."""
    for _ in range(int(timeout_s / 0.1)):
        if await page.evaluate("Array.from(document.images).every(i => i.complete)"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the case page's images did not finish loading")


async def queue_shows(page: Any, case_id: str | None, timeout_s: float = 10.0) -> None:
    """The queue reads the query model, a moment behind the service: reload until it shows."""
    for _ in range(int(timeout_s / 0.25)):
        await page.goto(f"{BASE}/queue")
        if case_id is None and await page.locator("#empty-queue").count():
            return
        if case_id is not None and await page.locator(f"tr[data-case='{case_id}']").count():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"the queue never showed {case_id or 'empty'}:\n{await page.inner_text('main')}")


async def test_the_seed_case_is_claimed_worked_and_ruled_in_the_browser(browser, wb_market, store):
    order = await seed_case(wb_market, store)
    page = await logged_in(browser, "xiaoer1")
    await queue_shows(page, order.case_id)

    # Claim it from the queue; the case page says who holds it.
    await page.locator(f"tr[data-case='{order.case_id}'] button").click()
    await page.wait_for_url(re.compile(rf"/cases/{order.case_id}\?sent="))
    assert "case.claimed" in await (await answer_of(page)).get_attribute("data-types")
    await order.expect("case.claimed", case_id=order.case_id, arbitrator_id="xiaoer1")

    # A second arbitrator cannot take it.
    other = await logged_in(browser, "xiaoer2")
    await other.goto(f"{BASE}/cases/{order.case_id}")
    await other.click("#claim")
    assert await (await answer_of(other)).get_attribute("data-code") == "claimed_by_other"

    # The whole story, both parties' photos shown and loaded, the records beside them.
    await page.goto(f"{BASE}/cases/{order.case_id}")
    await images_loaded(page)
    loaded = await page.eval_on_selector_all(
        "#timeline img", "imgs => imgs.map(i => [i.closest('li').dataset.who, i.getAttribute('src'), i.naturalWidth])")
    by_party = {(who, src.rsplit("/", 1)[1]) for who, src, width in loaded if width == 160}
    assert by_party == {("buyer", "buyer-request.png"), ("buyer", "buyer-case.png"),
                        ("seller", "seller-rejection.png"), ("seller", "seller-case.png")}
    story = await page.inner_text("#timeline")
    assert story.index("实物与描述不符") < story.index("商品已拆封") < story.index("买家已拆封使用")
    assert "¥259.00" in await page.inner_text("#request") and "保温杯" in await page.inner_text("#order")
    assert "北京时间" in await page.inner_text(".case-head")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    if os.environ.get("AFTERSALE_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SCREENSHOT, README_SCREENSHOT)

    # A wrong amount is refused by the form: nothing is sent.
    ruling = page.locator("#ruling")
    await ruling.locator("select[name=outcome]").select_option("full_refund")
    await ruling.locator("input[name=refund_yuan]").fill("300")
    await ruling.locator("select[name=return_shipping_paid_by]").select_option("seller")
    await ruling.locator("input[name=seller_at_fault]").check()
    await ruling.locator("select[name=canned]").select_option("拒绝理由不成立")
    await ruling.locator("textarea[name=reasoning]").fill("商家拒绝理由不成立，退货运费由商家承担")
    await page.click("#review")
    assert "超过可退金额" in await page.inner_text("#refund-error")

    # The right amount, reviewed, confirmed: the ruling is issued as this arbitrator.
    await page.locator("#ruling input[name=refund_yuan]").fill("259")
    await page.click("#review")
    assert await page.inner_text("#confirm-amount") == "¥259.00"
    await page.click("#confirm")
    assert "ruling.issued" in await (await answer_of(page)).get_attribute("data-types")
    issued = await order.expect("ruling.issued", case_id=order.case_id)
    assert (issued["outcome"], issued["refund_fen"], issued["return_shipping_paid_by"], issued["decided_by"]) == \
        ("full_refund", 25900, "seller", "xiaoer1")
    await queue_shows(page, None)

    # The seller appeals: the case is back, but not for the arbitrator who ruled.
    await order.appeals("seller")
    await order.submits_evidence("seller", "补充说明", done=True,
                                 evidence=[{"kind": "photo", "uri": store.url("seller-case.png")}])
    await order.submits_evidence("buyer", "同上", done=True,
                                 evidence=[{"kind": "photo", "uri": store.url("buyer-case.png")}])
    await order.expect("case.awaiting_ruling", case_id=order.case_id, round=2, timeout=30)
    await queue_shows(page, order.case_id)
    await page.goto(f"{BASE}/cases/{order.case_id}")
    assert await page.locator("#claim").count() == 0 and await page.locator("#ruling").count() == 0
    token = await page.get_attribute("input[name=csrf_token]", "value")
    await page.request.post(f"{BASE}/cases/{order.case_id}/claim", form={"csrf_token": token})
    refused = await order.expect("command.rejected", command_type="case.claim", code="same_arbitrator")
    assert refused["code"] == "same_arbitrator"
    await other.goto(f"{BASE}/cases/{order.case_id}")
    await other.click("#claim")
    assert "case.claimed" in await (await answer_of(other)).get_attribute("data-types")


async def test_the_service_refuses_a_wrong_amount_the_form_would_not_have_sent(browser, wb_market, store):
    order = await seed_case(wb_market, store)
    refused = await order.arbitrator_rules("full_refund", arbitrator="xiaoer1", refund_fen=25901)
    assert (await order.rejection_of(refused))["code"] == "refund_exceeds_refundable"


async def test_a_logged_out_visitor_is_redirected_and_a_forged_post_is_refused(browser, wb_market, store):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{BASE}/cases/CS-anything")
    assert page.url.startswith(f"{BASE}/login?next=")
    page = await logged_in(browser, "xiaoer2")
    order = await seed_case(wb_market, store)
    forged = await page.request.post(f"{BASE}/cases/{order.case_id}/claim", form={})
    assert forged.status == 403
    await order.expect_none("case.claimed", within=2.0)


async def test_a_supervisor_gives_a_case_to_another_arbitrator(browser, wb_market, store):
    order = await seed_case(wb_market, store)
    page = await logged_in(browser, "zhuguan")
    await queue_shows(page, order.case_id)
    await page.goto(f"{BASE}/cases/{order.case_id}")
    await page.select_option("select[name=arbitrator_id]", "xiaoer2")
    await page.click("#assign")
    assert "case.claimed" in await (await answer_of(page)).get_attribute("data-types")
    claimed = await order.expect("case.claimed", case_id=order.case_id)
    assert (claimed["arbitrator_id"], claimed["assigned_by"]) == ("xiaoer2", "zhuguan")


def test_an_operator_adds_an_arbitrator_who_can_then_log_in(infra, wb_system):
    import subprocess
    import sys

    def add(password: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "MONGO_URL": infra.mongo_url, "AFTERSALE_DB_PREFIX": PREFIX,
               "AFTERSALE_ARBITRATOR_PASSWORD": password}
        return subprocess.run([sys.executable, "-m", "ops.cli", "arbitrator", "add", "xiaoer7", "--name", "小七"],
                              env=env, capture_output=True, text=True, timeout=60)

    short = add("short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    added = add("seven-is-lucky")
    assert added.returncode == 0, added.stderr
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    token = re.search(r'name="csrf_token" value="([^"]+)"', opener.open(f"{BASE}/login").read().decode()).group(1)
    body = urllib.parse.urlencode({"user": "xiaoer7", "password": "seven-is-lucky", "csrf_token": token, "next": "/queue"})
    page = opener.open(f"{BASE}/login", data=body.encode()).read().decode()
    assert "小七" in page and 'id="me"' in page
