"""What each message does to the seller's side of an order. Pure: state in, Decision out."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from contracts.common import GOODS_BACK, REVIEWED_REASONS, REVIEWED_RESTRICTION
from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Collector, Decision, actor_of
from services.seller.domain.model import SELLER_MOVES, PendingRequest, SellerOrder
from services.seller.domain.transitions import EMITS, FROM_REFUND_STATE, can, next_state

SELLER_TIMEOUT = "seller_timeout"  # the seller did not answer in time: seller.timed_out
REPLACEMENT_TIMER = "replacement_deadline"


def timers_of(order: SellerOrder) -> dict[str, datetime]:
    """The seller's deadlines: to answer a request, and to ship an exchange's replacement."""
    out = {f"{SELLER_TIMEOUT}:{r.refund_id}": r.due_at for r in order.requests.values()
           if r.seller_timeout_runs and r.step == "awaiting_answer" and r.due_at}
    out.update({f"{REPLACEMENT_TIMER}:{r.refund_id}": r.due_at for r in order.requests.values()
                if r.step == "awaiting_replacement" and r.due_at})
    return out


class SellerCollector(Collector[SellerOrder]):
    """What one message does to the seller's side of an order."""

    def timers(self) -> dict[str, datetime]:
        return timers_of(self.agg)


# ---- refund.events: learning what waits on the seller ------------------------------------------


def refund_requested(order: SellerOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    order.seller_id, order.buyer_id = d.seller_id, d.buyer_id
    current = order.requests.get(d.refund_id)
    if current is not None and current.attempt >= d.attempt:
        return Decision.ignore()  # an older or repeated announcement
    if d.auto_approved:  # a refund before shipment: nothing for the seller to answer
        order.requests[d.refund_id] = PendingRequest(
            refund_id=d.refund_id, kind=d.kind, amount_fen=d.amount_fen, attempt=d.attempt, step="not_seller_move",
            history=[{"step": "not_seller_move", "at": ctx.now, "why": "refund before shipment"}])
        return SellerCollector(order, ctx).decision()
    req = order.requests[d.refund_id] = PendingRequest(
        refund_id=d.refund_id, kind=d.kind, amount_fen=d.amount_fen, reason=d.reason, attempt=d.attempt,
        step="awaiting_answer", due_at=d.seller_due_at, seller_timeout_runs=True, offers=current.offers if current else 0,
        history=(current.history if current else []) + [{"step": "awaiting_answer", "at": ctx.now, "attempt": d.attempt}],
    )
    c = SellerCollector(order, ctx)
    if ANSWERED_BY_PLATFORM & set((ctx.extra or {}).get("restrictions", [])):
        # A suspended or banned shop cannot answer: the platform approves at once, in its name.
        req.step = next_state(req.step, "seller.approve")  # type: ignore[assignment]
        req.seller_timeout_runs = False
        req.answered_at = ctx.now
        req.history.append({"step": req.step, "at": ctx.now, "by": "platform"})
        data = _event_data(order, req, None)
        if (address := (ctx.extra or {}).get("return_address")) is not None:
            data["return_address"] = address  # the shop's last, for goods that go back
        c.emit("seller.approved", data, correlation_id=req.refund_id)
    return c.decision()


def refund_state_changed(order: SellerOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    req = order.requests.get(d.refund_id)
    if req is None or d.state == "requested":
        return Decision.ignore()  # `refund.requested` carries what we need for a new answer
    order.seller_id, order.buyer_id = d.seller_id, d.buyer_id
    step = FROM_REFUND_STATE.get(d.state, "not_seller_move")
    if step == req.step:
        return Decision.ignore()
    req.step = step  # type: ignore[assignment]
    req.due_at = d.due_at if step in SELLER_MOVES else None
    req.seller_timeout_runs = False
    req.history.append({"step": step, "at": ctx.now, "refund_state": d.state})
    return SellerCollector(order, ctx).decision()


# ---- seller.commands ----------------------------------------------------------------------------



def _check(order: SellerOrder, msg: ParsedMessage) -> tuple[PendingRequest | None, Decision | None]:
    actor = msg.envelope.actor
    if order.seller_id is None:
        return None, Decision.refuse("unknown_order", f"order {order.order_id} has no after-sale request for a seller")
    if actor.role != "seller" or actor.id != order.seller_id:
        return None, Decision.refuse("not_seller", f"only the order's seller may send {msg.type}")
    req = order.requests.get(msg.data.refund_id)
    if req is None:
        return None, Decision.refuse("unknown_refund", f"order {order.order_id} has no request {msg.data.refund_id}")
    if not can(req.step, msg.type):
        return req, Decision.refuse("not_your_move", f"request {req.refund_id} is {req.step}; {msg.type} is not possible now")
    return req, None


def _event_data(order: SellerOrder, req: PendingRequest, msg: ParsedMessage | None) -> dict[str, Any]:
    data: dict[str, Any] = {"order_id": order.order_id, "refund_id": req.refund_id, "buyer_id": order.buyer_id,
                            "seller_id": order.seller_id, "attempt": req.attempt}
    if msg is None:
        return data
    d = msg.data
    if msg.type == "seller.reject":
        data.update(reason=d.reason, message=d.message, evidence=[e.model_dump() for e in d.evidence])
    elif msg.type == "replacement.ship":
        data.update(carrier=d.carrier, tracking_no=d.tracking_no)
    elif msg.type == "seller.approve":
        if d.return_shipping_fen is not None:
            data.update(return_shipping_fen=d.return_shipping_fen)
        if d.return_address is not None:
            data.update(return_address=d.return_address.model_dump())
    return data


def seller_offer(order: SellerOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    """A counter-offer (协商): at most `max_offers` per request; a newer one replaces the open one."""
    req, refused = _check(order, msg)
    if refused is not None:
        return refused
    assert req is not None
    d, limit = msg.data, ctx.settings.max_offers
    if req.offers >= limit:
        return Decision.refuse("offer_limit", f"at most {limit} offers per request; {req.refund_id} has had {req.offers}")
    if d.offer.kind in GOODS_BACK and d.offer.return_address is None:
        return Decision.refuse("return_address_required", f"a {d.offer.kind} offer sends goods back: say where "
                                                          f"(offer.return_address)")
    if d.offer.amount_fen is not None and d.offer.amount_fen > req.amount_fen:
        return Decision.refuse("offer_exceeds_request", f"{d.offer.amount_fen} fen offered, more than the "
                                                        f"{req.amount_fen} fen asked; approve the request instead")
    replaces = req.open_offer_id if req.step == "offered" else None
    req.step = next_state(req.step, msg.type)  # type: ignore[assignment]
    req.offers += 1
    req.open_offer_id = ctx.new_id("OF")
    req.seller_timeout_runs = False
    req.answered_at = ctx.now
    req.history.append({"step": req.step, "at": ctx.now, "by": msg.envelope.actor.id, "offer_id": req.open_offer_id})
    c = SellerCollector(order, ctx, actor_of(msg))
    c.emit("seller.offered", {
        "order_id": order.order_id, "refund_id": req.refund_id, "offer_id": req.open_offer_id,
        "offer": d.offer.model_dump(), "message": d.message, "buyer_due_at": ctx.after(ctx.settings.offer_window_s),
        "number": req.offers, "replaces": replaces, "buyer_id": order.buyer_id, "seller_id": order.seller_id,
        "attempt": req.attempt,
    }, correlation_id=req.refund_id, by_actor=True)
    return c.decision()


def seller_command(order: SellerOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    req, refused = _check(order, msg)
    if refused is not None:
        return refused
    if msg.type == "seller.approve" and req is not None and req.kind in GOODS_BACK and msg.data.return_address is None:
        return Decision.refuse("return_address_required", f"request {req.refund_id} ({req.kind}) sends goods back: "
                                                          f"approve it with the return_address they go to")
    postage = getattr(msg.data, "return_shipping_fen", None) or 0
    if postage > ctx.settings.max_postage_fen:
        return Decision.refuse("postage_exceeds_cap", f"return postage of at most {ctx.settings.max_postage_fen} fen "
                                                      f"is repaid; {postage} fen was stated")
    assert req is not None
    req.step = next_state(req.step, msg.type)  # type: ignore[assignment]
    req.seller_timeout_runs = False
    req.answered_at = ctx.now
    req.history.append({"step": req.step, "at": ctx.now, "by": msg.envelope.actor.id})
    data = _event_data(order, req, msg)
    if msg.type == "seller.reject" and reviewed(req, ctx):
        data["reviewed"] = True  # the platform reviews it: a case opens instead of the buyer deciding
    c = SellerCollector(order, ctx, actor_of(msg))
    c.emit(EMITS[msg.type], data, correlation_id=req.refund_id, by_actor=True)
    return c.decision()




# The ladder's levels at which the shop no longer answers its requests (contracts/ladder.py).
ANSWERED_BY_PLATFORM = frozenset({"suspended", "banned"})


def reviewed(req: PendingRequest, ctx: Context) -> bool:
    restrictions = (ctx.extra or {}).get("restrictions", [])
    return REVIEWED_RESTRICTION in restrictions and req.reason in REVIEWED_REASONS


# ---- deadlines ----------------------------------------------------------------------------


def on_seller_timeout(order: SellerOrder, refund_id: str, due_at: datetime, ctx: Context) -> Decision:
    req = order.requests.get(refund_id)
    if req is None or req.step != "awaiting_answer" or req.due_at != due_at:
        return Decision.ignore()  # answered in time, or the deadline moved
    req.step = next_state(req.step, SELLER_TIMEOUT)  # type: ignore[assignment]
    req.seller_timeout_runs = False
    req.history.append({"step": req.step, "at": ctx.now})
    c = SellerCollector(order, ctx)
    c.emit("seller.timed_out", {**_event_data(order, req, None), "seller_id": order.seller_id,
                                "due_at": due_at.isoformat()}, correlation_id=req.refund_id)
    return c.decision()


def on_replacement_deadline(order: SellerOrder, refund_id: str, due_at: datetime, ctx: Context) -> Decision:
    req = order.requests.get(refund_id)
    if req is None or req.step != "awaiting_replacement" or req.due_at != due_at:
        return Decision.ignore()  # shipped in time, or the request moved on
    req.step = next_state(req.step, REPLACEMENT_TIMER)  # type: ignore[assignment]
    req.history.append({"step": req.step, "at": ctx.now})
    c = SellerCollector(order, ctx)
    c.emit(EMITS[REPLACEMENT_TIMER], {**_event_data(order, req, None), "due_at": due_at}, correlation_id=req.refund_id)
    return c.decision()


# "answer_deadline": the seller timeout's name in deadlines set before it was renamed.
TIMERS = {SELLER_TIMEOUT: on_seller_timeout, "answer_deadline": on_seller_timeout,
          REPLACEMENT_TIMER: on_replacement_deadline}

HANDLERS: dict[str, Callable[[SellerOrder, ParsedMessage, Context], Decision]] = {
    "refund.requested": refund_requested,
    "refund.state_changed": refund_state_changed,
    "seller.approve": seller_command,
    "seller.reject": seller_command,
    "seller.offer": seller_offer,
    "return.received": seller_command,
    "replacement.ship": seller_command,
}
