"""A case file in the query model: the fields people filter on at the top, the case and its request
as JSON text (FerretDB's work per write grows with every field), read back whole by case_file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.arbitration.domain.model import ArbitrationOrder, Case, RequestFacts, Submission
from services.arbitration.domain.service import CASES, QUEUE, ArbitrationDomain, case_file

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
PHOTO = {"kind": "photo", "uri": "https://img.example.cn/evidence/1.jpg"}


def escalated_order() -> ArbitrationOrder:
    """The seed's story at the point the buyer asked the platform to step in."""
    order = ArbitrationOrder(order_id="O-1", buyer_id="B-1", seller_id="S-1", paid_fen=25900,
                             items=[{"sku": "SKU-1", "title": "保温杯", "qty": 1, "price_fen": 25900}])
    order.requests["RF-1"] = RequestFacts(refund_id="RF-1", kind="return_and_refund", reason="not_as_described",
                                          amount_fen=25900, refundable_fen=25900, description="实物与描述不符",
                                          evidence=[PHOTO], requested_at=NOW - timedelta(days=2), state="rejected",
                                          seller_rejection={"reason": "opened", "message": "商品已拆封", "evidence": [PHOTO]})
    order.cases["CS-1"] = Case(case_id="CS-1", refund_id="RF-1", opened_by="buyer", reason="seller_unfair",
                               opened_at=NOW, status="awaiting_ruling", ruling_due_at=NOW + timedelta(days=2),
                               submissions=[Submission(party="buyer", at=NOW, description="证据说明", evidence=[PHOTO])])
    return order


def test_the_case_file_keeps_few_fields_and_reads_back_whole() -> None:
    order = escalated_order()
    docs = {v.collection: v.doc for v in ArbitrationDomain().views(order.order_id, order.dump())}
    written = docs[CASES]

    # What the queue and the pages filter on stays a field; the case and request are one each.
    assert written["status"] == "awaiting_ruling" and written["amount_fen"] == 25900
    assert isinstance(written["case"], str) and isinstance(written["request"], str)
    assert docs[QUEUE]["_id"] == "CS-1"

    read = case_file(written)
    assert read["case"] == order.cases["CS-1"].model_dump(mode="python")
    assert read["request"] == order.requests["RF-1"].model_dump(mode="python")
    assert read["case"]["submissions"][0]["evidence"] == [PHOTO]
    assert read["case"]["ruling_due_at"] == NOW + timedelta(days=2)


def test_a_case_file_written_before_is_read_as_it_is() -> None:
    old = {"_id": "CS-1", "case": {"case_id": "CS-1", "submissions": []}, "request": None}
    assert case_file(old) == old
    assert case_file(None) is None
