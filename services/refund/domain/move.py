"""Moving a request through the table: the one place a trigger changes a request's state, its
deadline and the events that say so (`RefundCollector`), and the payout a move into
payout_pending orders."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from contracts.parsing import ParsedMessage
from runtime.api.decision import Collector
from services.refund.domain import settlement
from services.refund.domain.model import OrderRefunds, Refund, Settlement
from services.refund.domain.transitions import AWAITING, CLOSED_WHY, DEADLINE, GRACE, STATED, next_state


def payout_id_of(refund: Refund, round_: int = 1) -> str:
    """Stable: every retry of the same payout carries the same id, so it is paid once."""
    return f"payout:{refund.refund_id}" if round_ <= 1 else f"payout:{refund.refund_id}:r{round_}"


def timers_of(agg: OrderRefunds) -> dict[str, datetime]:
    """Pending deadlines are derived from the requests, never stored apart from them."""
    out = {}
    for r in agg.refunds.values():
        if r.is_open and r.timer and r.due_at:
            out[f"{r.timer}:{r.refund_id}"] = r.fires_at or r.due_at
    return out


class RefundCollector(Collector[OrderRefunds]):
    """What one message does to an order's requests; its events correlate by request."""

    def emit(self, type_: str, data: dict[str, Any], refund: Refund | None = None, *,  # type: ignore[override]
             correlation_id: str | None = None, by_actor: bool = False) -> None:
        super().emit(type_, data, correlation_id=refund.refund_id if refund else correlation_id, by_actor=by_actor)

    def timers(self) -> dict[str, datetime]:
        return timers_of(self.agg)

    def go(self, refund: Refund, trigger: str, cause: str, arg: str | None = None) -> str:
        """Apply `trigger` to `refund` through the table; the caller has checked it is legal."""
        previous = refund.state
        target = next_state(previous, trigger, arg if arg is not None else refund.kind)
        assert target is not None, f"illegal {previous} --{trigger}-->"
        why = CLOSED_WHY.get(trigger)
        if target == "payout_pending" and previous not in ("payout_pending", "payout_failed") and not self._owed(refund):
            # Other requests and top-ups already gave the buyer all the order can give back.
            refund.notes.append(f"{trigger}: nothing left to refund on the order; closed without a payout")
            target, why = "closed", "completed"
        if target == "rejected" and previous != "rejected":
            self.agg.nos += 1  # counted on the order: withdrawing and asking again does not reset it
        refund.state = target  # type: ignore[assignment]
        refund.awaiting = AWAITING[target]
        refund.updated_at = self.ctx.now
        refund.timer, refund.due_at, refund.fires_at = None, None, None
        if target in DEADLINE:
            name, setting = DEADLINE[target]
            refund.timer, refund.due_at = name, self.ctx.after(getattr(self.ctx.settings, setting))
            if name in GRACE:
                refund.fires_at = refund.due_at + timedelta(seconds=getattr(self.ctx.settings, GRACE[name]))
        elif target in STATED:
            refund.due_at = self.ctx.after(getattr(self.ctx.settings, STATED[target]))
        if target == "closed":
            refund.closed_why = why
            if self.agg.open_refund_id == refund.refund_id:
                self.agg.open_refund_id = None
            self.compensate(refund)
        if target == "payout_pending" and previous != "payout_pending":
            self._order_payout(refund, fresh=previous != "payout_failed")
        if previous == "return_in_transit" and target != "closed":
            self._repay_postage(refund)  # the goods are back
        return target

    def _owed(self, refund: Refund) -> int:
        return refund.payout_fen or min(refund.amount_fen, self.agg.refundable_fen(refund.refund_id))

    def _repay_postage(self, refund: Refund) -> None:
        owed = settlement.postage_for(self.agg, refund, self.ctx.settings.max_postage_fen)
        if owed is not None:
            self.request_settlement(refund, owed)

    def compensate(self, refund: Refund) -> None:
        """The seller's compensation, when the case is over and the request closed."""
        if (owed := settlement.compensation_for(self.agg, refund)) is not None:
            self.request_settlement(refund, owed)

    def request_settlement(self, refund: Refund, owed: Settlement) -> None:
        """A payout of its own (postage, top-up, compensation): recorded once, asked for again on retry
        under the same payout_id."""
        if owed not in refund.settlements:
            refund.settlements.append(owed)
        self.emit("payout.request", settlement.payout_request(self.agg, refund, owed), refund)

    def _order_payout(self, refund: Refund, *, fresh: bool) -> None:
        if fresh or not refund.payout_id:
            refund.payout_id = refund.payout_id or payout_id_of(refund)
            refund.payout_fen = self._owed(refund)
            refund.awarded_fen = refund.awarded_fen or refund.payout_fen
        refund.payout_attempts = 0 if fresh else refund.payout_attempts
        self.request_payout(refund)

    def request_payout(self, refund: Refund) -> None:
        refund.payout_attempts += 1
        assert refund.payout_id
        self.emit("payout.request", {
            "payout_id": refund.payout_id, "order_id": self.agg.order_id, "refund_id": refund.refund_id,
            "amount_fen": refund.payout_fen, "refund_to": refund.refund_to, "purpose": "refund",
            "payee_id": self.agg.order.buyer_id if self.agg.order else "",
        }, refund)
        self.emit("refund.payout_requested", {
            "order_id": self.agg.order_id, "refund_id": refund.refund_id, "payout_id": refund.payout_id,
            "amount_fen": refund.payout_fen, "attempt": refund.payout_attempts,
            "promised_by": self.ctx.settings.after_working_days(self.ctx.now, self.ctx.settings.payout_promise_working_days),
        }, refund)

    def changed(self, refund: Refund, previous: str | None, cause: str) -> None:
        """Publish the transition. Only a change of state is one: whose move it is and until when
        travel with it, and the events that moved a deadline within a state say so themselves."""
        o = self.agg.order
        assert o is not None
        if refund.state == previous:
            return
        self.emit("refund.state_changed", {
            "order_id": self.agg.order_id, "refund_id": refund.refund_id, "state": refund.state,
            "previous_state": previous, "awaiting": refund.awaiting, "due_at": refund.due_at,
            "kind": refund.kind, "amount_fen": refund.amount_fen, "buyer_id": o.buyer_id, "seller_id": o.seller_id,
            "cause": cause,
            "return_carrier": refund.returned.carrier if refund.returned else None,
            "return_tracking_no": refund.returned.tracking_no if refund.returned else None,
            "payout_id": refund.payout_id, "payout_attempts": refund.payout_attempts,
            "closed_why": refund.closed_why, "return_received_by": refund.return_received_by,
            "return_address": refund.return_address if refund.state == "return_pending" else None,
        }, refund)
        if refund.state == "closed" and previous != "closed":
            self.emit("refund.closed", {"order_id": self.agg.order_id, "refund_id": refund.refund_id,
                                        "why": refund.closed_why}, refund)

    def transition(self, refund: Refund, trigger: str, cause: str, arg: str | None = None) -> None:
        previous = refund.state
        self.go(refund, trigger, cause, arg)
        self.changed(refund, previous, cause)



def find_refund(agg: OrderRefunds, refund_id: str | None) -> Refund | None:
    return agg.refunds.get(refund_id) if refund_id else None


def retry_or_park(owed: Settlement, notes: list[str], msg: ParsedMessage, max_attempts: int,
                  ask_again: Callable[[], None]) -> None:
    """A payout of its own that the payment system refused: asked again at once under the same
    payout id, or, after the last attempt, parked with a note for operators."""
    owed.errors = with_error(owed.errors, msg)
    if owed.attempts >= max_attempts:
        owed.status = "failed"
        notes.append(f"{owed.purpose} {owed.payout_id} ({owed.amount_fen} fen) failed {owed.attempts} times; "
                     f"operators to pay it")
    else:
        owed.attempts += 1
        ask_again()


def with_error(errors: list[str], msg: ParsedMessage) -> list[str]:
    """The payment system's latest refusals of a payout, the last ten."""
    return (errors + [f"{msg.data.code}: {msg.data.message}"[:200]])[-10:]
