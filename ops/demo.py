"""The demo `make run` plays through real Kafka: an everyday refund, a refund settled by
negotiation (协商), the seed's dispute (平台介入) and a seller who never answers. Every event is printed as it happens."""
from __future__ import annotations

import asyncio
import os
import sys

from ops import render
from sim.bus import Bus
from sim.story import CHAT, PHOTO, Market

GREEN, BOLD, DIM, RESET = "\033[32m", "\033[1m", "\033[2m", "\033[0m"


def say(text: str) -> None:
    print(f"\n{BOLD}{GREEN}▶ {text}{RESET}", flush=True)


async def print_events(bus: Bus, stop: asyncio.Event) -> None:
    shown = 0
    while not stop.is_set():
        while shown < len(bus.seen):
            s = bus.seen[shown]
            shown += 1
            print(f"  {DIM}{s.topic:<22}{RESET} {render.line(s.topic, s.value)}", flush=True)
        await asyncio.sleep(0.05)


async def everyday_refund(market: Market) -> None:
    say("An order is paid (¥129.00); the buyer asks for a refund because the cup leaks")
    order = await market.paid_order(amount_fen=12900)
    await order.buyer_requests(kind="refund_only", reason="quality", amount_fen=12900, description="杯子漏水")
    await order.requested()
    say("The seller agrees; the payment system pays the refund")
    await order.seller_approves()
    await order.expect("refund.completed")
    await order.expect("refund.closed")


async def negotiated_refund(market: Market) -> None:
    say("Negotiation (协商): a kettle arrives scratched (¥199.00); the buyer asks for a full refund")
    order = await market.paid_order(amount_fen=19900)
    await order.buyer_requests(kind="refund_only", reason="damaged", amount_fen=19900, description="水壶外壳有划痕")
    await order.requested()
    say("Buyer and seller talk on the request; the seller offers ¥40.00 and the buyer keeps the kettle")
    await order.posts("buyer", "外壳划痕很明显，见照片", attachments=[PHOTO])
    await order.posts("seller", "抱歉！划痕不影响使用，我们补偿40元可以吗？")
    await order.seller_offers(kind="partial_refund", amount_fen=4000, message="补偿40元，商品无需退回")
    await order.offered()
    await order.state("offer_pending")
    say("The buyer accepts the offer; the payment system pays the agreed ¥40.00, once")
    await order.buyer_accepts_offer()
    await order.expect("refund.offer_accepted")
    await order.expect("refund.completed", amount_fen=4000)
    await order.expect("refund.closed")


async def seed_dispute(market: Market) -> None:
    say("The seed's story: return and refund, not as described (¥259.00)")
    order = await market.paid_order(amount_fen=25900)
    await order.buyer_requests(kind="return_and_refund", reason="not_as_described", description="实物与描述不符")
    await order.requested()
    say("The seller refuses: package opened, subjective dissatisfaction, affects resale")
    await order.seller_rejects(reason="opened", message="商品已拆封；主观不满意；影响二次销售")
    await order.state("rejected")
    say("The buyer asks the platform to step in (平台介入), with photos and the chat log")
    await order.buyer_escalates(evidence=[PHOTO, CHAT])
    await order.case_opened()
    await order.submits_evidence("seller", "买家已拆封使用")
    say("The evidence window closes; the case waits for an arbitrator")
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=60)
    say("The arbitrator rules: reasons unfounded; full refund, return shipping paid by the seller")
    await order.arbitrator_rules("return_and_refund", refund_fen=25900, shipping="seller", seller_at_fault=True,
                                 reasoning="商家拒绝理由不成立，支持买家退货退款，退货运费由商家承担；请商家改进售后服务")
    await order.state("return_pending")
    say("The buyer ships the goods back; the seller confirms; the refund is paid")
    await order.buyer_ships_return(carrier="顺丰", tracking_no="SF1234567890")
    await order.state("return_in_transit")
    await order.seller_receives_return()
    await order.expect("refund.closed", timeout=60)
    await market.bus.expect("shop.credit_changed", seller_id=order.seller, timeout=30)


async def silent_seller(market: Market) -> None:
    say("A seller who never answers: when the deadline passes the platform rules automatically")
    order = await market.paid_order(amount_fen=4990)
    await order.buyer_requests(kind="refund_only", reason="not_received", amount_fen=4990)
    await order.requested()
    await order.expect("ruling.issued", timeout=120)
    await order.expect("refund.closed", timeout=60)


async def counterfeit(market: Market) -> None:
    say("The platform steps in on its own (主动介入): a counterfeit found by spot check (¥199.00)")
    order = await market.paid_order(amount_fen=19900)
    await order.platform_opens_case(reason="counterfeit", description="抽检鉴定为假货")
    await order.case_opened(opened_by="platform")
    say("The buyer asks for the seller's funds to be frozen; the arbitrator holds them until the case ends")
    await order.arbitrator_holds("seller", reason="售假调查期间冻结")
    await order.expect("funds.held", case_id=order.case_id)
    await order.submits_evidence("seller", "有进货凭证", done=True)
    await order.submits_evidence("buyer", "做工粗糙，与正品不符", done=True)
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=60)
    say("The ruling: counterfeit confirmed; ten times the price to the buyer (假一赔十) from the deposit, "
        "the shop suspended for 7 days")
    await order.arbitrator_rules("reject", reasoning="进货凭证不能证明来源，售假属实；假一赔十，暂停店铺七天",
                                 compensation_fen=199000, sanction={"party": "seller", "level": "suspended", "days": 7})
    await market.bus.expect("deposit.deduct", case_id=order.case_id, reason="compensation", timeout=30)
    await market.bus.expect("account.sanctioned", party_id=order.seller, timeout=30)
    await order.expect("refund.compensation_paid", case_id=order.case_id, timeout=60)
    say("While it is suspended, the shop's next request is approved by the platform at once")
    await market.bus.expect("shop.restrictions_changed", seller_id=order.seller, restrictions=["suspended"], timeout=30)
    await asyncio.sleep(1)
    after = await market.paid_order(seller=order.seller, amount_fen=5900)
    await after.buyer_requests(kind="refund_only", reason="quality", amount_fen=5900)
    await after.expect("seller.approved", timeout=30)
    await after.expect("refund.closed", timeout=60)


def photo(name: str) -> dict[str, str]:
    """A photo in the demo's evidence store (`make run` serves one), else the stories' usual one."""
    base = os.environ.get("AFTERSALE_DEMO_EVIDENCE")
    return {"kind": "photo", "uri": base + name} if base else PHOTO


async def case_for_the_workbench(market: Market) -> None:
    say("A case for you: a refund refused, escalated, and waiting in the arbitrators' workbench")
    order = await market.paid_order(amount_fen=15900)
    await order.buyer_requests(kind="refund_only", reason="quality", description="屏幕有坏点，开机即见",
                               evidence=[photo("screen-dead-pixels.png")])
    await order.requested()
    await order.seller_rejects(reason="used", message="屏幕完好，买家使用后损坏")
    await order.state("rejected")
    await order.buyer_escalates(evidence=[photo("unboxing.png"), CHAT])
    await order.case_opened()
    await order.submits_evidence("seller", "出厂检测报告", done=True, evidence=[photo("factory-check.png")])
    await order.submits_evidence("buyer", "开箱视频已附", done=True, evidence=[photo("unboxing.png")])
    await order.expect("case.awaiting_ruling", case_id=order.case_id, timeout=60)
    say(f"Case {order.case_id} awaits a ruling: log in to the workbench, claim it and rule")


async def main(bootstrap: str, follow: bool) -> int:
    bus = Bus(bootstrap)
    await bus.start()
    stop = asyncio.Event()
    printer = asyncio.create_task(print_events(bus, stop))
    market = Market(bus)
    try:
        await everyday_refund(market)
        await negotiated_refund(market)
        await seed_dispute(market)
        await silent_seller(market)
        await counterfeit(market)
        await case_for_the_workbench(market)
        say("Demo done. Still following every topic live; Ctrl-C stops everything.")
        if follow:
            await asyncio.Event().wait()
        await asyncio.sleep(1)
        return 0
    except AssertionError as e:
        print(f"\nThe demo did not go as expected: {e}", file=sys.stderr)
        return 1
    finally:
        stop.set()
        await printer
        await bus.stop()


if __name__ == "__main__":
    follow = "--no-follow" not in sys.argv
    try:
        raise SystemExit(asyncio.run(main(os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"), follow)))
    except KeyboardInterrupt:
        raise SystemExit(0)
