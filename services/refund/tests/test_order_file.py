"""An order in the query model: what people look requests up by (buyer, seller, state) at the top,
and the whole aggregate as JSON text (FerretDB's work per write grows with every field), read back
whole by order_file."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from services.refund.domain.model import OrderFacts, OrderRefunds, Refund
from services.refund.domain.service import ORDERS, RefundDomain
from services.refund.queries import order_file

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def order_in_dispute() -> OrderRefunds:
    """A buyer's first request was refunded in part; the second waits for the seller."""
    order = OrderRefunds(order_id="O-1", order=OrderFacts(buyer_id="B-1", seller_id="S-1", paid_fen=25900,
                                                          paid_at=NOW - timedelta(days=3)))
    order.refunds["RF-1"] = Refund(refund_id="RF-1", kind="refund_only", reason="quality", amount_fen=5000,
                                   refund_to="original", state="closed", created_at=NOW - timedelta(days=2),
                                   updated_at=NOW - timedelta(days=1), closed_why="completed")
    order.refunds["RF-2"] = Refund(refund_id="RF-2", kind="return_and_refund", reason="not_as_described",
                                   amount_fen=20900, refund_to="original", due_at=NOW + timedelta(days=2),
                                   timer="seller_timeout", created_at=NOW, updated_at=NOW)
    order.refunded_fen, order.open_refund_id = 5000, "RF-2"
    return order


def stored(order: OrderRefunds) -> dict:
    """The state as the view writer has it: read back from the changelog's JSON."""
    return json.loads(json.dumps(order.dump(), default=lambda t: t.isoformat()))


def test_an_order_is_found_by_buyer_seller_and_request_state() -> None:
    order = order_in_dispute()
    [view] = RefundDomain().views(order.order_id, stored(order))
    doc = view.doc

    assert view.collection == ORDERS and doc["_id"] == "O-1"
    assert (doc["buyer_id"], doc["seller_id"]) == ("B-1", "S-1")
    assert doc["states"] == ["closed", "requested"] and doc["open_state"] == "requested"
    assert doc["open_refund_id"] == "RF-2" and doc["refunded_fen"] == 5000
    assert doc["due_at"] == NOW + timedelta(days=2)
    # Everything else is one field of JSON text: nine fields (the writer adds its version), where
    # the nested document of an approved order had 66.
    assert isinstance(doc["state"], str) and len(doc) == 9


def test_the_order_file_reads_back_the_whole_aggregate() -> None:
    order = order_in_dispute()
    [view] = RefundDomain().views(order.order_id, stored(order))

    read = OrderRefunds.load("O-1", order_file(view.doc)["state"])
    assert read == order


def test_an_order_before_its_payment_has_no_parties_yet() -> None:
    [view] = RefundDomain().views("O-2", {"order_id": "O-2"})
    assert view.doc["buyer_id"] is None and view.doc["states"] == [] and view.doc["open_state"] is None


def test_an_order_written_before_is_read_as_it_is() -> None:
    old = {"_id": "O-1", "v": 3, "state": {"order_id": "O-1", "refunds": {}}}
    assert order_file(old) == old
    assert order_file(None) is None
