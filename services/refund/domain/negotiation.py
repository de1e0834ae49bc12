"""Negotiation (协商) on a request: the seller's counter-offer puts it in the buyer's hands, the
buyer accepts or declines, and both talk on it. Pure."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts.common import REFUND_OFFERS
from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from runtime.api.payloads import payload_key
from services.refund.domain import rules, settlement
from services.refund.domain.limits import POSTS_PER_REQUEST
from services.refund.domain.model import OfferRecord, OrderRefunds, Post, Refund
from services.refund.domain.move import RefundCollector, find_refund
from services.refund.domain.transitions import can


def seller_offered(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The seller's counter-offer is its answer: the buyer's move now, until `buyer_due_at`."""
    d = msg.data
    refund = find_refund(agg, d.refund_id)
    if refund is None or not can(refund.state, "seller.offered") or any(o.offer_id == d.offer_id for o in refund.offers) \
            or (d.attempt is not None and d.attempt < refund.attempt):
        return Decision.ignore()  # stale (already accepted, declined or closed, or for an earlier submission) or repeated
    c = RefundCollector(agg, ctx, actor_of(msg))
    previous = refund.state
    if (replaced := refund.open_offer) is not None:
        replaced.status, replaced.answered_at = "replaced", ctx.now
    refund.offers.append(OfferRecord(offer_id=d.offer_id, kind=d.offer.kind, amount_fen=d.offer.amount_fen,
                                     message=d.message, at=ctx.now, buyer_due_at=d.buyer_due_at,
                                     return_address=d.offer.return_address.model_dump() if d.offer.return_address
                                     else None))
    c.go(refund, "seller.offered", msg.type)
    refund.timer, refund.due_at = "offer_lapsed", d.buyer_due_at
    c.changed(refund, previous, msg.type)
    return c.decision()


def offer_data(agg: OrderRefunds, refund: Refund, offer: OfferRecord) -> dict[str, Any]:
    return {"order_id": agg.order_id, "refund_id": refund.refund_id, "offer_id": offer.offer_id,
            "offer": {"kind": offer.kind, "amount_fen": offer.amount_fen, "return_address": offer.return_address}}


def _answering(agg: OrderRefunds, msg: ParsedMessage) -> tuple[Refund | None, OfferRecord | None, Decision | None]:
    """The buyer's request and the open offer its answer names, or why the answer is refused."""
    refund, r = rules.buyers_request(agg, msg)
    if r is None:
        assert refund is not None
        offer, r = rules.open_offer(refund, msg.data.offer_id)
        if r is None:
            return refund, offer, None
    return None, None, Decision(reject=r)


def offer_accept(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """The request goes on as the offered remedy, as if the seller had approved it."""
    refund, offer, refused = _answering(agg, msg)
    if refused is not None:
        return refused
    assert refund is not None and offer is not None
    offer.status, offer.answered_at = "accepted", ctx.now
    refund.remedy = offer.kind
    if offer.kind in REFUND_OFFERS and offer.amount_fen:
        refund.payout_fen = min(offer.amount_fen, agg.refundable_fen(refund.refund_id))  # agreed, not asked
    if offer.kind in ("return_and_refund", "exchange"):
        refund.kind = offer.kind
        refund.return_address = offer.return_address or refund.return_address
        # Goods go back: as after an approval, the request's reason says who bears the postage.
        refund.postage_paid_by = settlement.postage_payer_on_approval(refund.reason)
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.emit("refund.offer_accepted", offer_data(agg, refund, offer), refund, by_actor=True)
    c.transition(refund, "offer.accept", msg.type, arg=offer.kind)
    return c.decision()


def offer_decline(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    """Back as a rejection would be: the buyer may resubmit or escalate within the window."""
    refund, offer, refused = _answering(agg, msg)
    if refused is not None:
        return refused
    assert refund is not None and offer is not None
    offer.status, offer.answered_at, offer.answer = "declined", ctx.now, msg.data.message
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.emit("refund.offer_declined", {**offer_data(agg, refund, offer), "message": msg.data.message}, refund,
           by_actor=True)
    c.transition(refund, "offer.decline", msg.type)
    return c.decision()


def conversation_post(agg: OrderRefunds, msg: ParsedMessage, ctx: Context) -> Decision:
    if (r := rules.party(agg, msg)) is not None:
        return Decision(reject=r)
    refund, r = rules.refund_of(agg, msg.data.refund_id)
    if r is not None:
        return Decision(reject=r)
    assert refund is not None and agg.order is not None
    role, author = actor_of(msg)
    if (r := rules.post_rate(refund, role, ctx.now - timedelta(days=1), ctx.settings.max_posts_per_day)) is not None \
            or (r := POSTS_PER_REQUEST.check(len(refund.posts))) is not None:
        return Decision(reject=r)
    d = msg.data
    post = Post(post_id=ctx.new_id("PS"), author_role=role, author_id=author, at=ctx.now)
    refund.posts.append(post)
    attachments = [e.model_dump() for e in d.attachments]
    refund.updated_at = ctx.now
    c = RefundCollector(agg, ctx, actor_of(msg))
    c.emit("conversation.posted", {
        "order_id": agg.order_id, "refund_id": refund.refund_id, "post_id": post.post_id, "author_role": role,
        "text": d.text, "attachments": attachments, "author_id": author,
        "buyer_id": agg.order.buyer_id, "seller_id": agg.order.seller_id,
    }, refund, by_actor=True)
    decision = c.decision()
    decision.payloads[payload_key(agg.order_id, post.post_id)] = {
        "order_id": agg.order_id, "refund_id": refund.refund_id, "post_id": post.post_id, "author_role": role,
        "author_id": author, "at": ctx.now, "text": d.text, "attachments": attachments}
    return decision
