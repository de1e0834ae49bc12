"""The invariants checked when a simulated world is at rest (sim/platform/invariants.py checks the
others as they happen): every request and case ended, rulings carried out, deposits and holds
settled, standings as ruled, waiting parties told, aggregates within budget. Read from what each
service holds and the payment system's ledger, in the domain's words."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.arbitration.domain.buyers import BUYER, BuyerRecord
from services.arbitration.domain.model import ArbitrationOrder
from services.refund.domain.model import OrderRefunds
from services.seller.domain.credit import Shop
from sim.platform.payments import Payout

# Each aggregate's encoded size stays within this (the changelog's records must always fit).
AGGREGATE_BUDGET = 256 * 1024
BUYER_MONEY = frozenset({"refund", "appeal_top_up"})
MONEY_OUTCOMES = frozenset({"full_refund", "partial_refund", "return_and_refund", "cancel_order"})


class AtRest:
    """Checker's checks at rest (a mixin: it reads the checker's world, facts and messages)."""

    world: Any
    orders: Any
    messages: Any
    waits: Any
    events: Any
    settled_cases: set[str]

    def fail(self, invariant: str, message: str, order_id: str) -> None:
        raise NotImplementedError

    def after_step(self) -> None:
        raise NotImplementedError

    def at_rest(self) -> None:
        refunds = {k: OrderRefunds.load(k, a.state) for k, a in self.world.nodes["refund"].aggregates().items()}
        arbitration = self.world.nodes["arbitration"].aggregates()
        cases = {k: ArbitrationOrder.load(k, a.state) for k, a in arbitration.items()
                 if not k.startswith((BUYER, "complaint:"))}
        buyers = {k: BuyerRecord.load(k, a.state) for k, a in arbitration.items() if k.startswith(BUYER)}
        for oid, order in self.world.orders.items():
            self._order_at_rest(oid, order.paid_fen, refunds.get(oid), cases.get(oid))
        for key, agg in arbitration.items():
            if key.startswith("complaint:") and (agg.state or {}).get("status") != "ruled":
                self.fail("every_complaint_ends", f"{key} waits {agg.state.get('status')} with nothing left to "
                                                  f"move it", key)
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
            if s is None or s.complaint_id:
                continue  # a complaint's standing is the complaint's, outside any order's case
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

