"""The payment simulator (the demo's and the benchmark's payment system) answers every payout
request it is sent at once, in batches, and pays each `payout_id` once however often it is asked."""
from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid

from ops.launcher import make_system
from sim.bus import Bus
from tests.conftest import LOG_DIR

PORT = 18096


async def test_a_burst_of_payout_requests_is_answered_and_each_id_paid_once(infra) -> None:
    run = uuid.uuid4().hex[:8]
    system = make_system({"KAFKA_BOOTSTRAP": infra.bootstrap, "PAYSIM_GROUP": f"paysim-t{run}",
                          "PAYSIM_OFFSET_RESET": "latest", "PAYSIM_DELAY_S": "0"},
                         LOG_DIR / f"paysim-{run}", ["paysim"], port_base=PORT)
    system.start()
    bus = Bus(infra.bootstrap)
    await bus.start()
    try:
        payouts = [f"PAY-{run}-{i}" for i in range(30)]
        asked = [*payouts, payouts[0], payouts[1]]  # two ids asked twice, as a retrying platform would
        def request(i: int, payout_id: str):
            return bus.send("payout.request", {"payout_id": payout_id, "order_id": f"O-{run}-{i % 30}",
                                               "refund_id": f"R-{run}-{i % 30}", "amount_fen": 100 + i % 30,
                                               "refund_to": "original", "purpose": "refund", "payee_id": "B-1"},
                            ("system", "aftersale-refund"), validate=True)

        # Sent together, so that the simulator takes them as one burst, with the commands that move
        # no money to answer for among them (a deduction, a hold): they must not stop the burst.
        others = [bus.send("deposit.deduct", {"deduction_id": f"D-{run}", "order_id": f"O-{run}-0", "seller_id": "S-1",
                                              "case_id": "CS-1", "amount_fen": 500, "reason": "compensation"},
                           ("system", "aftersale-seller"), validate=True),
                  bus.send("settlement.hold", {"hold_id": f"H-{run}", "order_id": f"O-{run}-1", "case_id": "CS-1",
                                               "party": "seller", "party_id": "S-1", "reason": "调查"},
                           ("arbitrator", "A-1"), validate=True)]
        await asyncio.gather(*(request(i, p) for i, p in enumerate(asked)), *others)

        def ours() -> list:
            return bus.all("payout.succeeded", payout_id=lambda p: isinstance(p, str) and p.startswith(f"PAY-{run}-"))

        await bus.wait_until(lambda: len(ours()) == len(asked), timeout=20, what="an answer to every request")
        answers = ours()
        assert sorted(a["payout_id"] for a in answers) == sorted(asked)
        # A repeated request gets the first answer's amount, and a distinct answer of its own.
        assert {a["amount_fen"] for a in answers if a["payout_id"] == payouts[0]} == {100}
        assert len({a.event_id for a in answers}) == len(asked)
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ledger", timeout=5) as r:
            ledger = json.loads(r.read())
        assert {p: ledger["paid"][p] for p in payouts} == {p: 100 + i for i, p in enumerate(payouts)}
        assert ledger["requests"][payouts[0]] == 2 and ledger["requests"][payouts[2]] == 1
    finally:
        await bus.stop()
        system.stop()
