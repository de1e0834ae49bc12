"""Each service exposes Prometheus metrics on its health port: pipeline, business and lag."""
from __future__ import annotations

import asyncio
import re
import urllib.request

from sim.story import Market, PaymentSystem


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_count_what_happened(market: Market, payments: PaymentSystem) -> None:
    before_refund, before_arb = scrape(18081), scrape(18083)
    order = await market.paid_order()
    stranger = await order.buyer_requests(actor=("buyer", "B-nobody"))
    await order.rejection_of(stranger)
    await order.buyer_requests()
    await order.requested()
    await order.expect("ruling.issued", timeout=25)
    await payments.pay(await order.payout())
    await order.expect("refund.closed")
    await asyncio.sleep(6)  # the lag gauge is refreshed every 5 s

    refund, arb = scrape(18081), scrape(18083)
    assert value(refund, "aftersale_rejections_total", code="not_buyer") > value(before_refund, "aftersale_rejections_total", code="not_buyer")
    assert value(refund, "aftersale_refunds_closed_total", why="completed") > value(before_refund, "aftersale_refunds_closed_total", why="completed")
    assert value(refund, "aftersale_payouts_requested_total") > value(before_refund, "aftersale_payouts_requested_total")
    assert value(arb, "aftersale_rulings_total", decided_by="auto") > value(before_arb, "aftersale_rulings_total", decided_by="auto")
    assert value(refund, "aftersale_messages_total", topic="refund.commands", outcome="applied") > 0
    assert re.search(r'aftersale_consumer_lag\{partition="\d",service="refund",topic="refund.commands"\}', refund)
    assert value(refund, "aftersale_handle_seconds_count") > 0
    # The query model's work: the order's file inserted while new, then replaced as the dispute
    # goes on; its events inserted as history.
    for form in ("insert", "replace"):
        assert value(refund, "aftersale_view_writes_total", collection="orders", form=form) > \
            value(before_refund, "aftersale_view_writes_total", collection="orders", form=form)
    assert value(refund, "aftersale_view_writes_total", collection="history", form="insert") > \
        value(before_refund, "aftersale_view_writes_total", collection="history", form="insert")


def test_each_service_serves_its_asyncapi_document() -> None:
    import json as _json
    for port, service in ((18081, "refund"), (18082, "seller"), (18083, "arbitration"), (18084, "notify")):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/asyncapi.json", timeout=5) as r:
            doc = _json.loads(r.read())
        assert doc["asyncapi"].startswith("3.") and doc["info"]["title"] == f"Aftersale {service}"
        assert any(op["action"] == "receive" for op in doc["operations"].values())
