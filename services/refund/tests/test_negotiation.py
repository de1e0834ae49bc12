"""Negotiation on the refund side, pure: the buyer answers the seller's offer, and both talk."""
from __future__ import annotations

from datetime import timedelta

from runtime.api.context import Context
from runtime.api.payloads import is_payload
from services.refund.domain.model import OrderRefunds
from services.refund.tests.test_state_machine import BUYER, DUE, NOW, SELLER, SETTINGS, domain, msg, order_with

OFFER = {"kind": "partial_refund", "amount_fen": 2500}


def offered(state=None, offer_id: str = "OF1", offer=OFFER, cause: str = "o1"):
    data = {"refund_id": "R1", "offer_id": offer_id, "offer": offer, "message": "补偿25元",
            "buyer_due_at": DUE.isoformat()}
    return domain.decide("O1", state or order_with("requested"), msg("seller.offered", data, SELLER),
                         Context(now=NOW, settings=SETTINGS, cause_id=cause))


def answer(state, type_: str, offer_id: str = "OF1", actor=BUYER, now=NOW):
    data = {"refund_id": "R1", "offer_id": offer_id, **({"message": "不要"} if type_ == "offer.decline" else {})}
    return domain.decide("O1", state, msg(type_, data, actor), Context(now=now, settings=SETTINGS, cause_id="a1"))


def post(state, actor, text: str = "你好", now=NOW, cause: str = "p1"):
    return domain.decide("O1", state, msg("conversation.post", {"refund_id": "R1", "text": text, "attachments": []}, actor),
                         Context(now=now, settings=SETTINGS, cause_id=cause))


def refund_of(d):
    return OrderRefunds.load("O1", d.state).refunds["R1"]


def test_an_offer_puts_the_request_in_the_buyers_hands_until_the_offer_window_closes():
    d = offered()
    r = refund_of(d)
    assert (r.state, r.awaiting, r.timer, r.due_at) == ("offer_pending", "buyer", "offer_lapsed", DUE)
    assert d.timers == {"offer_lapsed:R1": DUE}


def test_accepting_a_partial_refund_pays_the_offered_amount_not_the_asked_one():
    d = answer(offered().state, "offer.accept")
    assert d.reject is None
    [payout] = [e for e in d.emits if e.type == "payout.request"]
    assert payout.data["amount_fen"] == 2500 and refund_of(d).remedy == "partial_refund"
    assert [e.type for e in d.emits][0] == "refund.offer_accepted"


def test_only_the_open_offer_can_be_answered_and_only_by_the_buyer():
    second = offered(offered().state, offer_id="OF2", offer={"kind": "resend"}, cause="o2")
    r = refund_of(second)
    assert [(o.offer_id, o.status) for o in r.offers] == [("OF1", "replaced"), ("OF2", "open")]
    assert answer(second.state, "offer.accept", "OF1").reject.code == "offer_not_open"
    assert answer(second.state, "offer.accept", "OF2", actor=SELLER).reject.code == "not_buyer"
    assert answer(order_with("requested"), "offer.decline").reject.code == "no_open_offer"


def test_a_declined_offer_leaves_the_request_as_a_rejection_would():
    d = answer(offered().state, "offer.decline")
    r = refund_of(d)
    assert (r.state, r.awaiting, r.timer) == ("rejected", "buyer", "escalation_expired")
    assert r.offers[0].status == "declined" and r.offers[0].answer == "不要"


def test_an_offer_left_unanswered_lapses_into_a_rejection():
    d = domain.on_timer("O1", offered().state, "offer_lapsed:R1", DUE, Context(now=DUE, settings=SETTINGS, cause_id="t"))
    r = refund_of(d)
    assert r.state == "rejected"
    lapsed = [e for e in d.emits if e.type == "refund.offer_lapsed"]
    # said once, with the buyer's new deadline (to resubmit or ask the platform), not the offer's
    assert len(lapsed) == 1 and lapsed[0].data["due_at"] == r.due_at and r.due_at > DUE


def test_posts_keep_their_order_and_the_daily_limit_is_per_party():
    state = order_with("requested")
    for n in range(SETTINGS.max_posts_per_day):
        state = post(state, BUYER, f"第{n}条", cause=f"p{n}").state
    assert post(state, BUYER, "再来一条", cause="px").reject.code == "rate_limited"
    assert post(state, SELLER, "商家回复", cause="py").reject is None
    tomorrow = post(state, BUYER, "第二天", now=NOW + timedelta(days=1, seconds=1), cause="pz")
    assert tomorrow.reject is None
    posts = refund_of(tomorrow).posts
    assert len(posts) == SETTINGS.max_posts_per_day + 1 and posts[-1].at == NOW + timedelta(days=1, seconds=1)
    # The texts are kept by reference, one payload a post, beside the order's aggregate.
    [(key, payload)] = tomorrow.payloads.items()
    assert is_payload(key) and payload["text"] == "第二天" and payload["post_id"] == refund_of(tomorrow).posts[-1].post_id


def test_strangers_and_closed_requests_get_no_posts():
    assert post(order_with("requested"), ("buyer", "B-other")).reject.code == "not_a_party"
    assert post(order_with("closed"), BUYER).reject.code == "refund_closed"


def test_posts_stop_at_the_requests_limit_whatever_the_days():
    from services.refund.domain.limits import POSTS_PER_REQUEST
    state = order_with("requested")
    for i in range(POSTS_PER_REQUEST.most):  # a day apart each pair: the daily cap never bites
        d = post(state, BUYER if i % 2 else SELLER, now=NOW + timedelta(days=i), cause=f"p{i}")
        assert d.reject is None, (i, d.reject)
        state = d.state
    over = post(state, BUYER, now=NOW + timedelta(days=POSTS_PER_REQUEST.most + 1), cause="over")
    assert over.reject is not None and over.reject.code == "limit_reached" and "posts_per_request" in over.reject.message
    assert over.state is None
