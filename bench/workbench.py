"""`make bench`, the workbench's part: how fast a case page and the queue load with 100,000 cases
in the arbitration query model. The cases are copies of a real case view (the domain's own
projection of an order with a dispute), written in the view writer's proven form (insert_many of
new documents), read through the real workbench process over HTTP, logged in like a person."""
from __future__ import annotations

import asyncio
import random
import re
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from ops.launcher import make_system
from ops.reads import add_arbitrator
from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts, RulingRecord, Submission
from services.arbitration.domain.service import CASES, QUEUE, ArbitrationDomain

PHOTO = {"kind": "photo", "uri": "https://img.example.cn/evidence/1.jpg"}
QUEUED_SHARE = 100  # one case in this many awaits a ruling; the rest are ruled or closed


def case_view(i: int, now: datetime) -> dict[str, dict[str, Any]]:
    """The query model's documents for the case of order i (by collection), as the arbitration
    service writes them."""
    order = ArbitrationOrder(order_id=f"O-wb-{i:07d}", buyer_id=f"B-{i % 5000}", seller_id=f"S-{i % 800}",
                             paid_fen=25900, items=[{"sku": "SKU-1", "title": "保温杯", "qty": 1, "price_fen": 25900}],
                             shipped={"carrier": "SF", "tracking_no": f"SF{i:010d}", "shipped_at": now - timedelta(days=9)},
                             delivered_at=now - timedelta(days=7))
    order.requests[f"R-wb-{i}"] = RequestFacts(refund_id=f"R-wb-{i}", kind="return_and_refund", reason="not_as_described",
                                        amount_fen=25900, refundable_fen=25900, description="实物与描述不符",
                                        evidence=[PHOTO], requested_at=now - timedelta(days=6), state="rejected",
                                        seller_rejection={"reason": "opened", "message": "商品已拆封", "evidence": [PHOTO]})
    queued = i % QUEUED_SHARE == 0
    case = Case(case_id=f"CS-wb-{i:07d}", refund_id=f"R-wb-{i}", opened_by="buyer", reason="seller_unfair",
                opened_at=now - timedelta(days=5), status="awaiting_ruling" if queued else "closed",
                ruling_due_at=now + timedelta(seconds=i) if queued else None,
                submissions=[Submission(party=p, at=now - timedelta(days=4), description="证据说明",
                                        evidence=[PHOTO, PHOTO]) for p in ("buyer", "seller")])
    if not queued:
        case.rulings.append(RulingRecord(round=1, outcome="return_and_refund", refund_fen=25900,
                                         return_shipping_paid_by="seller", seller_at_fault=True, reasoning="理由不成立",
                                         decided_by="xiaoer9", at=now - timedelta(days=1), final=True))
    order.cases[case.case_id] = case
    return {v.collection: v.doc for v in ArbitrationDomain().views(order.order_id, order.dump())}


async def fill(mongo_url: str, prefix: str, n: int) -> float:
    client: AsyncMongoClient = AsyncMongoClient(mongo_url, tz_aware=True)
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    try:
        db = client[f"{prefix}arbitration"]
        for start in range(0, n, 1000):
            views = [case_view(i, now) for i in range(start, min(n, start + 1000))]
            for collection in (CASES, QUEUE):
                await db[collection].insert_many([v[collection] for v in views], ordered=False)
        await add_arbitrator(mongo_url, prefix, "bench", "bench", "bench-password", False)
    finally:
        await client.close()
    return time.perf_counter() - t0


def timed_gets(base: str, paths: list[str]) -> list[float]:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    body = urllib.parse.urlencode({"user": "bench", "password": "bench-password", "csrf_token": token, "next": "/queue"})
    opener.open(f"{base}/login", data=body.encode(), timeout=10).read()
    out = []
    for path in paths:
        t0 = time.perf_counter()
        with opener.open(f"{base}{path}", timeout=30) as r:
            page = r.read()
            assert r.status == 200 and b"csrf_token" in page, f"{path}: not a page of a logged-in arbitrator"
        out.append(time.perf_counter() - t0)
    return out


async def workbench_pages(mongo_url: str, bootstrap: str, log_dir: Path, n: int, summary: Any) -> dict[str, Any]:
    prefix = f"bw{uuid.uuid4().hex[:6]}_"
    print(f"[bench] workbench: writing {n} cases to the arbitration query model ...", flush=True)
    fill_s = await fill(mongo_url, prefix, n)
    system = make_system({"KAFKA_BOOTSTRAP": bootstrap, "MONGO_URL": mongo_url, "AFTERSALE_DB_PREFIX": prefix,
                          "AFTERSALE_LOG_LEVEL": "WARNING"}, log_dir, ["workbench"], port_base=18195)
    system.start()
    try:
        base = f"http://127.0.0.1:{system.procs['workbench'].port}"
        rng = random.Random(7)
        cases = [f"/cases/CS-wb-{rng.randrange(n):07d}" for _ in range(200)]
        await asyncio.to_thread(timed_gets, base, cases[:10])  # the first loads warm the connections
        case_s = await asyncio.to_thread(timed_gets, base, cases)
        queue_s = await asyncio.to_thread(timed_gets, base, ["/queue"] * 20)
    finally:
        system.stop()
        client: AsyncMongoClient = AsyncMongoClient(mongo_url)
        for db in ("arbitration", "workbench"):
            await client.drop_database(f"{prefix}{db}")
        await client.close()
    return {"cases": n, "queued": len(range(0, n, QUEUED_SHARE)), "write_s": round(fill_s, 1),
            "case_page": summary(case_s), "queue_page": summary(queue_s)}
