"""What must hold for every order, whatever happened to it: the rules of money, of agreement, of
deadlines and of messages, in the domain's words. Written once, checked after every step of every
simulated world (the money and the dead letters) and once more when the world is at rest.

The checker reads what the outside world can see (the log's records and the payment system's
ledger) and, at rest, what each service holds."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from contracts import topics as T
from services.arbitration.domain.buyers import BUYER, BuyerRecord
from services.arbitration.domain.model import ArbitrationOrder
from services.arbitration.domain.rules import EVIDENCE_RULES
from services.arbitration.domain.ruling_checks import COMPENSATION_MULTIPLE
from services.refund.domain.model import OrderRefunds
from services.seller.domain.credit import Shop
from sim.platform.actors import Command
from sim.platform.payments import Payout


# Each aggregate's encoded size stays within this (the changelog's records must always fit).
AGGREGATE_BUDGET = 256 * 1024
BUYER_MONEY = frozenset({"refund", "appeal_top_up"})
MONEY_OUTCOMES = frozenset({"full_refund", "partial_refund", "return_and_refund", "cancel_order"})
EVIDENCE_RULED = frozenset(f"auto:{r.name}" for r in EVIDENCE_RULES)
NEGOTIATION = frozenset({"seller.offered", "refund.offer_accepted", "refund.offer_declined", "refund.offer_lapsed",
                         "conversation.posted"})
WAITING_ON_PARTY = frozenset({"requested", "offer_pending", "rejected", "return_pending", "return_in_transit",
                              "replacement_pending"})
REVIEWED_REASONS = frozenset({"quality", "not_received", "not_as_described"})


@dataclass(frozen=True)
class Violation:
    invariant: str
    message: str
    order_id: str


@dataclass
class Event:
    topic: str
    type: str
    event_id: str
    causation_id: str | None
    actor: dict[str, Any]
    data: dict[str, Any]


@dataclass
class OrderFacts:
    """What the log shows of one order."""

    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)  # refund_id -> reason, kind ...
    no_count: int = 0  # times a request of the order was answered "no" (rejected)
    rulings: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))  # case -> rulings
    cancel_requested: list[dict[str, Any]] = field(default_factory=list)
    replacement_shipped: set[str] = field(default_factory=set)
    reviewable_no: set[str] = field(default_factory=set)  # refund ids a restricted shop said no to
    # Requests the refund service took after a final 'no' it had not heard of yet: what became of them.
    after_final_no: dict[str, tuple[str, str]] = field(default_factory=dict)  # refund -> (case, why)
    negotiation: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # refund -> entries
    declined_full: set[str] = field(default_factory=set)
    case_refund: dict[str, str | None] = field(default_factory=dict)
    case_reason: dict[str, str] = field(default_factory=dict)


class Watched(Protocol):
    """What the checker reads of the simulated platform (simulation.World)."""

    nodes: dict[str, Any]
    payments: Any
    orders: dict[str, Any]


class Checker:
    def __init__(self, world: "Watched") -> None:
        self.world = world
        self.violations: list[Violation] = []
        self.events: dict[str, Event] = {}
        self.orders: dict[str, OrderFacts] = defaultdict(OrderFacts)
        self.messages: list[Event] = []
        self.commands: dict[str, Command] = {}
        self.waits: list[tuple[Event, str, str]] = []  # (event, party, why): a party must be told
        self.offers: dict[str, dict[str, Any]] = {}  # offer_id -> offer
        self.state: dict[str, str] = {}  # refund_id -> its state, as the refund service last said
        self.closed_at: dict[str, int] = {}  # refund_id -> when (in events heard) the refund service closed it
        # Cases closed because the refund service carried their request out another way first (the
        # seller approved, an offer was accepted): their rulings bind nothing, a 'reject' included.
        self.settled_cases: set[str] = set()
        self.cases_closed: set[str] = set()
        self.unfinished: set[str] = set()  # requests the refund service closed other than completed
        self.compensating: set[str] = set()  # requests (or cases without one) with compensation asked for
        world.payments.on_paid.append(self._paid)

    def fail(self, invariant: str, message: str, order_id: str) -> None:
        self.violations.append(Violation(invariant, message, order_id))

    # ---- what is heard as it happens -----------------------------------------------------------

    def sent(self, cmd: Command, event_id: str) -> None:
        self.commands[event_id] = cmd

    def heard(self, rec: Any) -> None:
        if rec.topic not in (T.REFUND_EVENTS, T.SELLER_EVENTS, T.ARBITRATION_EVENTS, T.NOTIFY_EVENTS,
                             T.PAYMENTS_COMMANDS, T.PAYMENTS_EVENTS):
            return
        env = rec.envelope
        e = Event(rec.topic, env["type"], env["event_id"], env.get("causation_id"), env.get("actor") or {},
                  env["data"])
        if e.event_id in self.events and rec.topic not in (T.PAYMENTS_EVENTS,) and e.type != "command.rejected":
            # One decision's events are written once: a deadline that fired twice, or a record applied
            # twice, would write the same ids again (a refused command may be refused again: no change).
            self.fail("each_event_once", f"{e.type} {e.event_id} was written twice (caused by {e.causation_id})",
                      e.data.get("order_id", ""))
        self.events[e.event_id] = e
        handler = getattr(self, "_on_" + e.type.replace(".", "_"), None)
        if handler is not None:
            handler(e)

    def _order(self, e: Event) -> OrderFacts:
        return self.orders[e.data.get("order_id", "")]

    def _on_refund_requested(self, e: Event) -> None:
        o, d = self._order(e), e.data
        o.refunds[d["refund_id"]] = {"reason": d["reason"], "kind": d["kind"]}
        limit = self.world.nodes["refund"].settings.max_resubmissions
        if d.get("attempt") != o.no_count + 1:  # which submission it is: one more than the order's 'no's
            self.fail("a_final_no_is_final", f"request {d['refund_id']} says it is submission {d.get('attempt')}, but the "
                                             f"order's requests were answered 'no' {o.no_count} times", d["order_id"])
        if o.no_count > limit:  # after each 'no' the buyer may ask again, `limit` times in all
            self.fail("a_final_no_is_final", f"request {d['refund_id']} was accepted after the order's requests were "
                                             f"answered 'no' {o.no_count} times; at most {limit} times may be asked again",
                      d["order_id"])
        # Asked again after a 'reject' ruled on a request that was still open: withdrawing it during the
        # appeal window does not undo the 'no'. (A 'reject' that reached a request already withdrawn is
        # no answer to it: its case ends request_closed.)
        # (The ruled request itself, sent again before the refund service heard of its case, is no
        # new claim: the case takes it over, and rulings_carried_out holds it to the ruling.) A refund
        # service behind the arbitration service may take such a request before it hears the ruling:
        # then it must end with nothing paid (checked as money moves and at rest).
        for case_id, rulings in o.rulings.items():
            refund_id = o.case_refund.get(case_id)
            if refund_id and refund_id != d["refund_id"] and rulings and rulings[-1]["outcome"] == "reject" \
                    and self.closed_at.get(refund_id, 1 << 60) > rulings[-1]["heard_at"]:
                o.after_final_no[d["refund_id"]] = (
                    case_id, f"case {case_id} ruled 'reject' on request {refund_id} while it was open")

    def _on_case_closed(self, e: Event) -> None:
        self.cases_closed.add(e.data["case_id"])
        if e.data.get("why") == "request_settled":
            self.settled_cases.add(e.data["case_id"])

    def _on_refund_state_changed(self, e: Event) -> None:
        o, d = self._order(e), e.data
        self.state[d["refund_id"]] = d["state"]
        if d["state"] == d.get("previous_state"):
            return
        if d["state"] == "rejected":
            o.no_count += 1
            restrictions = self.world.nodes["seller"].tables.get(T.SELLER_RESTRICTIONS, {}).get(d["seller_id"]) or {}
            reason = o.refunds.get(d["refund_id"], {}).get("reason")
            if "rejections_reviewed" in restrictions.get("restrictions", []) and reason in REVIEWED_REASONS:
                o.reviewable_no.add(d["refund_id"])
        if d["state"] in WAITING_ON_PARTY and d["awaiting"] in ("buyer", "seller"):
            cause = self.events.get(e.causation_id or "") or self._command(e.causation_id)
            if not (cause and cause.actor.get("role") == d["awaiting"]):  # the party's own move: it knows
                self.waits.append((e, d["awaiting"], f"request {d['refund_id']} is {d['state']}"))
        if d["state"] == "payout_failed":
            self.waits.append((e, "buyer", f"the payout of request {d['refund_id']} is parked"))

    def _command(self, event_id: str | None) -> Event | None:
        cmd = self.commands.get(event_id or "")
        if cmd is None:
            return None
        return Event(cmd.topic, cmd.type, event_id or "", None, {"role": cmd.role, "id": cmd.actor_id}, cmd.data)

    def _on_refund_closed(self, e: Event) -> None:
        self.closed_at.setdefault(e.data["refund_id"], len(self.events))
        if e.data["why"] != "completed":
            self.unfinished.add(e.data["refund_id"])

    def _on_payout_request(self, e: Event) -> None:
        d = e.data
        if d["purpose"] != "compensation" or d["refund_id"] in self.compensating:
            return
        self.compensating.add(d["refund_id"])
        # A ruling's compensation moves only as the ruling is carried out: never first for a request
        # that had ended another way before the ruling reached it.
        if d["refund_id"] in self.unfinished:
            self.fail("money_only_for_rulings_carried_out", f"compensation {d['payout_id']} was asked for on request "
                                                            f"{d['refund_id']}, which had already ended unpaid",
                      d["order_id"])

    def _on_refund_order_cancel_requested(self, e: Event) -> None:
        self._order(e).cancel_requested.append(e.data)

    def _on_seller_replacement_shipped(self, e: Event) -> None:
        self._order(e).replacement_shipped.add(e.data["refund_id"])

    def _on_seller_offered(self, e: Event) -> None:
        self.offers[e.data["offer_id"]] = e.data["offer"]
        self._negotiated(e)

    def _negotiated(self, e: Event) -> None:
        self._order(e).negotiation[e.data["refund_id"]] += 1

    _on_refund_offer_accepted = _negotiated
    _on_refund_offer_lapsed = _negotiated
    _on_conversation_posted = _negotiated

    def _on_refund_offer_declined(self, e: Event) -> None:
        self._negotiated(e)
        o, d = self._order(e), e.data
        offer = self.offers.get(d["offer_id"]) or {}
        asked = self._asked(d["order_id"], d["refund_id"])
        kind = o.refunds.get(d["refund_id"], {}).get("kind")
        if (offer.get("amount_fen") or 0) >= asked > 0 or (kind == "exchange" and offer.get("kind") in ("exchange", "resend")):
            o.declined_full.add(d["refund_id"])

    def _asked(self, order_id: str, refund_id: str) -> int:
        for ev in reversed(list(self.events.values())):
            if ev.type == "refund.requested" and ev.data.get("refund_id") == refund_id:
                return ev.data["amount_fen"]
        return 0

    def _on_case_opened(self, e: Event) -> None:
        d = e.data
        self._order(e).case_refund[d["case_id"]] = d.get("refund_id")
        self._order(e).case_reason[d["case_id"]] = d.get("reason") or ""
        if d.get("asks_evidence", True):  # a case an automatic rule decides asks nobody for anything
            for party in ("buyer", "seller"):
                self.waits.append((e, party, f"case {d['case_id']} opened"))

    def _on_evidence_requested(self, e: Event) -> None:
        self.waits.append((e, e.data["party"], f"more evidence is asked for on case {e.data['case_id']}"))

    def _on_ruling_issued(self, e: Event) -> None:
        o, d = self._order(e), e.data
        o.rulings[d["case_id"]].append({**d, "heard_at": len(self.events)})
        for party in ("buyer", "seller"):
            self.waits.append((e, party, f"case {d['case_id']} ruled {d['outcome']}"))
        order = self.world.orders.get(d["order_id"])
        cap = (order.paid_fen if order else 0) * COMPENSATION_MULTIPLE.get(o.case_reason.get(d["case_id"], ""), 1)
        if d.get("compensation_fen", 0) > cap:
            self.fail("compensation_within_the_cap", f"case {d['case_id']} awarded {d['compensation_fen']} fen of "
                                                     f"compensation; the cap is {cap}", d["order_id"])
        rid = d.get("refund_id")
        # The evidence rules weigh the negotiation; a rule for a seller that never answered has none.
        if d["decided_by"] in EVIDENCE_RULED and d["outcome"] != "reject" and rid in o.declined_full:
            self.fail("case_file_complete", f"an automatic rule ruled for the buyer on request {rid}, whose buyer "
                                            f"had declined an offer worth what it asked", d["order_id"])

    def _on_refund_seller_compensated(self, e: Event) -> None:
        self.waits.append((e, "seller", f"compensation for request {e.data['refund_id']} was paid"))

    def _on_refund_compensation_awarded(self, e: Event) -> None:
        self.waits.append((e, "seller", f"the compensation of case {e.data['case_id']} changed its deposit"))

    def _on_refund_compensation_paid(self, e: Event) -> None:
        self.waits.append((e, "buyer", f"compensation on case {e.data['case_id']} was paid"))

    def _on_funds_held(self, e: Event) -> None:
        for party in ("buyer", "seller"):
            self.waits.append((e, party, f"the {e.data['party']}'s funds were held on case {e.data['case_id']}"))
        if e.data["case_id"] in self.cases_closed:
            self.fail("holds_end_with_their_case", f"hold {e.data['hold_id']} began after case {e.data['case_id']} "
                                                   f"closed", e.data["order_id"])

    def _on_funds_released(self, e: Event) -> None:
        for party in ("buyer", "seller"):
            self.waits.append((e, party, f"the {e.data['party']}'s funds were released on case {e.data['case_id']}"))

    def _on_message_sent(self, e: Event) -> None:
        self.messages.append(e)

    def _on_command_rejected(self, e: Event) -> None:
        d = e.data
        cmd = self.commands.get(d["command_event_id"])
        if cmd is None or cmd.type != "return.shipped":
            return
        if self.state.get(cmd.data["refund_id"]) == "return_pending":
            self.fail("returns_in_time_are_taken", f"request {cmd.data['refund_id']} waited for the return and "
                                                   f"refused it ({d['code']}: {d['message']})", d.get("order_id", ""))

    # ---- money: checked as soon as a payout is paid -------------------------------------------

    def _paid(self, payout: Payout) -> None:
        ledger = [p for p in self.world.payments.payouts.values() if p.order_id == payout.order_id and p.paid]
        order = self.world.orders.get(payout.order_id)
        if order is None:
            self.fail("money_has_an_order", f"payout {payout.payout_id} for an unknown order", payout.order_id)
            return
        to_buyer = sum(p.amount_fen for p in ledger if p.purpose in BUYER_MONEY)
        if to_buyer > order.paid_fen:
            self.fail("buyer_paid_within_rules", f"the buyer was refunded {to_buyer} fen on an order that cost "
                                                 f"{order.paid_fen}", payout.order_id)
        cap = self.world.nodes["refund"].settings.max_postage_fen
        postage = [p for p in ledger if p.purpose == "return_shipping" and p.refund_id == payout.refund_id]
        if sum(p.amount_fen for p in postage) > cap:
            self.fail("buyer_paid_within_rules", f"return postage of {sum(p.amount_fen for p in postage)} fen repaid "
                                                 f"for request {payout.refund_id}; the cap is {cap}", payout.order_id)
        if payout.purpose == "seller_compensation":
            got = sum(p.amount_fen for p in ledger if p.purpose in BUYER_MONEY and p.refund_id == payout.refund_id)
            comp = sum(p.amount_fen for p in ledger if p.purpose == "seller_compensation"
                       and p.refund_id == payout.refund_id)
            if comp > got:
                self.fail("seller_compensated_only_for_money_paid", f"the seller was compensated {comp} fen for request "
                                                               f"{payout.refund_id}, whose buyer was paid {got}",
                          payout.order_id)
        if payout.purpose == "compensation":
            facts = self.orders[payout.order_id]
            ruled = sum(max((r.get("compensation_fen", 0) for r in rs), default=0) for rs in facts.rulings.values())
            comp = sum(p.amount_fen for p in ledger if p.purpose == "compensation")
            if comp > ruled:
                self.fail("compensation_as_ruled", f"the buyer was paid {comp} fen of compensation; the order's "
                                                   f"rulings awarded at most {ruled}", payout.order_id)
        if payout.purpose in BUYER_MONEY and (why := self._final_nos(payout.order_id).get(payout.refund_id)):
            self.fail("a_final_no_is_final", f"request {payout.refund_id} was paid, though {why}", payout.order_id)
        if payout.purpose in BUYER_MONEY and payout.refund_id in self.orders[payout.order_id].replacement_shipped:
            self.fail("replacement_or_refund", f"request {payout.refund_id} was refunded after its replacement "
                                               f"shipped", payout.order_id)

    def after_step(self) -> None:
        for node in self.world.nodes.values():
            for rec, reason in node.dead_letters:
                self.fail("nothing_dead_lettered", f"{node.service} dead-lettered {rec.type or rec.topic} from "
                                                   f"{rec.topic}: {reason}", rec.key.decode())
            node.dead_letters.clear()
        for problem in self.world.payments.problems:
            self.fail("payout_ids_stable", problem, "")
        self.world.payments.problems.clear()
        for oid, o in self.orders.items():
            for rid in o.replacement_shipped:
                paid = [p for p in self.world.payments.payouts.values()
                        if p.refund_id == rid and p.paid and p.purpose in BUYER_MONEY]
                if paid:
                    self.fail("replacement_or_refund", f"request {rid} was refunded and its replacement shipped", oid)

    # ---- at rest ------------------------------------------------------------------------------

    def at_rest(self) -> None:
        refunds = {k: OrderRefunds.load(k, a.state) for k, a in self.world.nodes["refund"].aggregates().items()}
        arbitration = self.world.nodes["arbitration"].aggregates()
        cases = {k: ArbitrationOrder.load(k, a.state) for k, a in arbitration.items() if not k.startswith(BUYER)}
        buyers = {k: BuyerRecord.load(k, a.state) for k, a in arbitration.items() if k.startswith(BUYER)}
        for oid, order in self.world.orders.items():
            self._order_at_rest(oid, order.paid_fen, refunds.get(oid), cases.get(oid))
        self._misconduct(buyers, cases)
        self._sanctions(buyers, cases)
        for hold in self.world.payments.holds.values():
            if hold.releases != 1:
                self.fail("holds_released_once", f"hold {hold.hold_id} on case {hold.case_id} was released "
                                                 f"{hold.releases} times", hold.hold_id)
        self._told()
        self._sizes()
        self.after_step()

    def _paid_on(self, order_id: str) -> list[Payout]:
        return [p for p in self.world.payments.payouts.values() if p.order_id == order_id and p.paid]

    def _final_nos(self, oid: str) -> dict[str, str]:
        """The requests asked after a 'no' that still stands (its case did not close request_settled)."""
        return {rid: why for rid, (case_id, why) in self.orders[oid].after_final_no.items()
                if case_id not in self.settled_cases}

    def _order_at_rest(self, oid: str, paid_fen: int, agg: OrderRefunds | None, arb: ArbitrationOrder | None) -> None:
        facts = self.orders[oid]
        ledger = self._paid_on(oid)
        for rid, why in self._final_nos(oid).items():
            r = agg.refunds.get(rid) if agg else None
            if r is None or r.state != "closed" or r.closed_why not in ("rejected_final", "cancelled", "expired"):
                self.fail("a_final_no_is_final", f"request {rid} ended {r.closed_why if r else 'unknown'}, though {why}",
                          oid)
        buyer_total = sum(p.amount_fen for p in ledger if p.purpose in BUYER_MONEY)
        for r in (agg.refunds.values() if agg else ()):
            if r.state != "closed":
                self.fail("every_request_ends", f"request {r.refund_id} waits in {r.state} (for {r.awaiting}) with "
                                                f"nothing left to move it", oid)
            if r.returned is not None and r.postage_paid_by is None:
                self.fail("postage_has_a_payer", f"request {r.refund_id} had goods sent back and nobody bears the "
                                                 f"postage", oid)
        for c in (arb.cases.values() if arb else ()):
            if c.status != "closed":
                self.fail("every_case_ends", f"case {c.case_id} waits in {c.status} with nothing left to move it", oid)
                continue
            last = c.last_ruling
            standing = last if c.closed_why in ("ruling_final", "final_ruling") else None
            r = agg.refunds.get(c.refund_id or "") if agg else None
            self._deposit_at_rest(oid, c.case_id, c.refund_id, standing)
            if standing is None:
                continue
            if standing.outcome == "cancel_order" and buyer_total < paid_fen:
                self.fail("rulings_carried_out", f"case {c.case_id} cancelled the order; the buyer got {buyer_total} "
                                                 f"of {paid_fen} fen", oid)
            if r is None:
                continue
            got = sum(p.amount_fen for p in ledger if p.purpose in BUYER_MONEY and p.refund_id == r.refund_id)
            others = buyer_total - got
            if standing.outcome in MONEY_OUTCOMES and standing.refund_fen > 0:
                owed = min(standing.refund_fen, paid_fen - others)
                if r.closed_why == "expired" and standing.outcome == "return_and_refund":
                    continue  # the buyer never sent the goods back
                # A replacement already shipped is worth what was asked, as the refund service counts
                # it (settlement.award): a later ruling for less money owes the buyer nothing more.
                goods = r.amount_fen if r.refund_id in facts.replacement_shipped else 0
                if got + goods < owed:
                    self.fail("rulings_carried_out", f"case {c.case_id} ruled {standing.outcome} {standing.refund_fen} "
                                                     f"fen; request {r.refund_id} ended {r.closed_why} with {got} paid",
                              oid)
            if standing.outcome == "reject" and r.closed_why not in ("rejected_final", "cancelled") and got == 0 \
                    and r.closed_why != "completed":
                self.fail("services_agree", f"case {c.case_id} rejected the claim; request {r.refund_id} ended "
                                            f"{r.closed_why}", oid)
            comp = sum(p.amount_fen for p in ledger if p.purpose == "seller_compensation" and p.refund_id == r.refund_id)
            award = standing.refund_fen if standing.outcome in MONEY_OUTCOMES else 0
            if comp > max(0, got - award):
                self.fail("compensation_follows_the_final_ruling", f"the seller keeps {comp} fen of compensation on request "
                                                               f"{r.refund_id}; the buyer has {got} of an award of "
                                                               f"{award}", oid)
        for cancel in facts.cancel_requested:
            if buyer_total < paid_fen:
                self.fail("cancelled_orders_repaid", f"the order was cancelled before shipment for request "
                                                     f"{cancel['refund_id']}; the buyer got {buyer_total} of "
                                                     f"{paid_fen} fen", oid)
        for rid in facts.reviewable_no:
            has_case = bool(arb and any(c.refund_id == rid for c in arb.cases.values()))
            closed = agg.refunds.get(rid) if agg else None
            if not has_case and not (closed and closed.closed_why in ("cancelled", "completed")):
                self.fail("restricted_shops_reviewed", f"request {rid} ended '{closed.closed_why if closed else '?'}' "
                                                       f"on a 'no' from a shop whose rejections the platform reviews, "
                                                       f"and no case looked at it", oid)
        for req in (arb.requests.values() if arb else ()):
            seen = facts.negotiation.get(req.refund_id, 0)
            if len(req.negotiation) < seen:
                self.fail("case_file_complete", f"the case file of request {req.refund_id} holds {len(req.negotiation)} "
                                                f"of its {seen} offers, answers and posts", oid)
            if req.refund_id in facts.declined_full and not req.declined_full_offer:
                self.fail("case_file_complete", f"the case file of request {req.refund_id} forgot that the buyer "
                                                f"declined a full-value offer", oid)

    def _deposit_at_rest(self, oid: str, case_id: str, refund_id: str | None, standing: Any) -> None:
        """Compensation a case carried out: the buyer has what its last word awards, and the seller's
        deposit holds exactly that; a case that carried none out drew nothing."""
        pay = self.world.payments
        asked = [p for p in pay.payouts.values() if p.order_id == oid and p.purpose == "compensation"
                 and p.refund_id in (refund_id, case_id)]
        held = sum(d.amount_fen for d in pay.deductions.values()
                   if d.case_id == case_id and d.reason == "compensation" and not d.refunded)
        if not asked:
            if held:
                self.fail("deposit_follows_the_ruling", f"{held} fen of the seller's deposit is held as compensation "
                                                        f"on case {case_id}, which paid the buyer none", oid)
            return
        if standing is None:
            return  # closed another way (the request was carried out first): what moved stays
        paid = sum(p.amount_fen for p in asked if p.paid)
        if paid < standing.compensation_fen:
            self.fail("rulings_carried_out", f"case {case_id} awards {standing.compensation_fen} fen of compensation; "
                                             f"the buyer was paid {paid}", oid)
        if held != standing.compensation_fen:
            self.fail("deposit_follows_the_ruling", f"case {case_id} awards {standing.compensation_fen} fen of "
                                                    f"compensation; the seller's deposit holds {held}", oid)

    def _sanctions(self, buyers: dict[str, BuyerRecord], cases: dict[str, ArbitrationOrder]) -> None:
        """A party's standing on the ladder is what the last ruling of its case said of it."""
        last = {c.case_id: c.last_ruling for arb in cases.values() for c in arb.cases.values() if c.last_ruling}
        shops = {k: Shop.load(k, a.state) for k, a in self.world.nodes["seller"].aggregates().items()
                 if k.startswith("shop:")}
        standings = [("seller", s.seller_id, s.sanction) for s in shops.values()]
        standings += [("buyer", b.buyer_id, b.sanction) for b in buyers.values()]
        for party, who, s in standings:
            if s is None:
                continue
            ruled = last.get(s.case_id)
            said = ruled.sanction if ruled else None
            if not said or said.get("party") != party or said.get("level") != s.level:
                self.fail("sanctions_follow_the_ruling", f"the {party} {who} stands {s.level} for case {s.case_id}, "
                                                         f"whose last ruling says {said}", s.order_id)

    def _misconduct(self, buyers: dict[str, BuyerRecord], cases: dict[str, ArbitrationOrder]) -> None:
        last: dict[str, str] = {}
        for arb in cases.values():
            for c in arb.cases.values():
                if c.last_ruling:
                    last[c.case_id] = c.last_ruling.misconduct
        for record in buyers.values():
            for m in record.misconduct:
                if last.get(m.case_id, "buyer") != "buyer":
                    self.fail("misconduct_follows_the_ruling", f"buyer {record.buyer_id} is still flagged for case "
                                                               f"{m.case_id}, whose last ruling found no misconduct",
                              m.order_id)

    def _told(self) -> None:
        users = {o.order_id: {"buyer": o.buyer_id, "seller": o.seller_id} for o in self.world.orders.values()}
        told: dict[str, set[tuple[str, str]]] = defaultdict(set)  # event id -> (user, template)
        for m in self.messages:
            cause = self.events.get(m.causation_id or "")
            if cause is None:
                continue
            for key in (cause.event_id, cause.causation_id or ""):
                told[key].add((m.data["user_id"], m.data["template"]))
        for e, party, why in self.waits:
            user = users.get(e.data.get("order_id", ""), {}).get(party)
            keys = (e.event_id, e.causation_id or "")
            if not any(u == user for k in keys for u, _ in told.get(k, ())):
                self.fail("waiting_parties_told", f"{why}: the {party} was not told", e.data.get("order_id", ""))

    def _sizes(self) -> None:
        for node in self.world.nodes.values():
            for key, agg in node.aggregates().items():
                size = len(agg.encode())
                if size > AGGREGATE_BUDGET:
                    self.fail("aggregates_within_budget", f"{node.service} aggregate {key} is {size} bytes", key)

