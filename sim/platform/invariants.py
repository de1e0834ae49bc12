"""What must hold for every order, whatever happened to it: the rules of money, of agreement, of
deadlines and of messages, in the domain's words. Written once, checked after every step of every
simulated world (the money and the dead letters) and once more when the world is at rest
(at_rest.py).

The checker reads what the outside world can see (the log's records and the payment system's
ledger) and, at rest, what each service holds."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from contracts import topics as T
from services.arbitration.domain.rules import EVIDENCE_RULES
from services.arbitration.domain.ruling_checks import COMPENSATION_MULTIPLE
from sim.platform.actors import Command
from sim.platform.at_rest import BUYER_MONEY, AtRest
from sim.platform.payments import Payout


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


class Checker(AtRest):
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
