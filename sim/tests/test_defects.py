"""Each defect the whole-platform simulation found, kept as the story that shows it, with the rule
that now holds (docs/domain.md, "Invariants" and "Races"). Pure: the four services' domain code on
the simulation's in-memory log, in milliseconds."""
from __future__ import annotations

from typing import Any

from sim.platform.story import DAY, Story

HOUR = 3600.0


def rejected_then_escalated(s: Story, *services: str, **ask: Any) -> None:
    """Asked (as `ask` says) and refused, then escalated to a case both parties are done with, its
    records read by the services named (all when none) from the escalation on."""
    s.request(**ask)
    s.deliver()
    s.seller("seller.reject", refund_id=s.refund_id, reason="opened", message="已拆封", evidence=[])
    s.deliver()
    s.buyer("intervention.request", refund_id=s.refund_id, reason="seller_refused", description="请介入", evidence=[])
    s.deliver(*services)
    for party in (s.seller, s.buyer):  # both say they have nothing more: the case goes to the arbitrators
        party("evidence.submit", case_id=s.case_id, description="凭证", evidence=[], done=True)
        s.deliver(*services)


def to_the_arbitrators(s: Story) -> None:
    s.later(3 * DAY + 1)  # an appeal's evidence windows pass (no automatic rule after the first round)


def appeal_ruled(s: Story, party, outcome: str, who: str = "xiaoer2", **extra) -> None:
    """A party appeals, the evidence windows pass, and an arbitrator new to the case rules."""
    party("ruling.appeal", case_id=s.case_id, description="申诉", evidence=[])
    s.deliver()
    to_the_arbitrators(s)
    s.rule(outcome, who=who, **extra)
    s.deliver()


def test_an_appeal_never_pays_more_than_the_order_cost_beside_a_second_request():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("partial_refund", refund_fen=5000)
    s.deliver()
    assert s.paid() == 5000
    s.buyer("ruling.appeal", case_id=s.case_id, description="应全额退款", evidence=[])
    s.deliver()
    second = s.request(amount_fen=5000)  # while the appeal is open
    s.deliver()
    assert [r["command_event_id"] for r in s.rejections("case_undecided")] == [second]
    to_the_arbitrators(s)
    s.rule("full_refund", who="xiaoer2", refund_fen=10000)
    s.deliver()
    assert s.paid() + s.paid("appeal_top_up") == 10000
    assert s.settle() == []


def test_the_seller_is_compensated_only_for_money_the_buyer_received_and_only_at_the_end():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("return_and_refund", refund_fen=10000)
    s.deliver()
    assert s.state() == "return_pending"
    appeal_ruled(s, s.seller, "partial_refund", who="xiaoer2", refund_fen=3000)  # lower, while the goods are still with the buyer
    assert s.paid("seller_compensation") == 0  # nothing to compensate: the buyer has received nothing
    assert s.paid() == 3000  # the appeal's ruling replaced the first one: paid at once, no return needed
    s.later(8 * DAY)  # the case closes with its last ruling
    assert s.settle() == []
    assert s.paid("seller_compensation") == 0


def test_compensation_waits_for_the_last_appeal_and_follows_it():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("full_refund", refund_fen=10000)
    s.deliver()
    assert s.paid() == 10000
    appeal_ruled(s, s.seller, "reject", who="xiaoer2")
    assert s.paid("seller_compensation") == 0  # the buyer may still appeal
    appeal_ruled(s, s.buyer, "full_refund", who="xiaoer3", refund_fen=10000)  # final: both appealed
    assert s.settle() == []
    assert s.paid("seller_compensation") == 0  # the award stands as paid: nothing to compensate


def test_rulings_on_appeal_while_the_goods_travel_back_pay_the_buyer_once():
    # Found by the simulation's epilogue: a 'reject' on appeal, then a partial award, while the goods
    # were on their way back; the partial award was paid as a top-up and the first ruling's refund on
    # receipt as well (14,999 on 10,000).
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("return_and_refund", refund_fen=10000)
    s.deliver()
    s.buyer("return.shipped", refund_id=s.refund_id, carrier="YTO", tracking_no="YT1")
    s.deliver()
    assert s.state() == "return_in_transit"
    appeal_ruled(s, s.seller, "reject", who="xiaoer2")
    appeal_ruled(s, s.buyer, "partial_refund", who="xiaoer3", refund_fen=4999)  # final: both appealed
    assert s.paid("appeal_top_up") == 0  # the first ruling runs its course: its refund is still to come
    s.seller("return.received", refund_id=s.refund_id)
    assert s.settle() == []
    assert s.paid() == 10000 and s.paid("appeal_top_up") == 0
    assert s.paid("seller_compensation") == 10000 - 4999  # the seller bears the final award only


def test_a_replacement_on_its_way_counts_when_an_appeal_awards_money():
    # Found by the simulation's epilogue: an exchange ruled, a part on appeal while the goods went
    # back, then a full refund on the second appeal while the replacement was due: the difference
    # was topped up in money and the replacement shipped too.
    s = Story(paid_fen=10000)
    rejected_then_escalated(s, kind="exchange")
    s.rule("exchange")
    s.deliver()
    s.buyer("return.shipped", refund_id=s.refund_id, carrier="YTO", tracking_no="YT1")
    s.deliver()
    appeal_ruled(s, s.seller, "partial_refund", who="xiaoer2", refund_fen=5000)
    s.seller("return.received", refund_id=s.refund_id)
    s.deliver()
    assert s.state() == "replacement_pending"
    appeal_ruled(s, s.buyer, "full_refund", who="xiaoer3", refund_fen=10000)
    assert s.paid("appeal_top_up") == 0  # the replacement, worth what was asked, is on its way
    s.seller("replacement.ship", refund_id=s.refund_id, carrier="SF", tracking_no="SF9")
    assert s.settle() == []
    assert s.paid() == 0 and s.paid("appeal_top_up") == 0 and s.events("seller.replacement_shipped")


def test_an_escalation_accepted_in_time_wins_over_the_refund_services_deadline():
    s = Story()
    s.request()
    s.deliver()
    s.seller("seller.reject", refund_id=s.refund_id, reason="opened", message="已拆封", evidence=[])
    s.deliver()
    s.later(7 * DAY - 1)
    s.buyer("intervention.request", refund_id=s.refund_id, reason="seller_refused", description="请介入", evidence=[])
    s.deliver("arbitration")  # accepted a second before the deadline; the refund service has not heard yet
    s.later(2, "refund")  # the deadline has passed there too, and the escalation reaches it just after
    assert s.state() == "in_arbitration"  # the grace: its deadline had not fired yet
    assert s.settle() == []


def test_an_escalation_that_loses_the_race_anyway_ends_its_case_too():
    s = Story()
    s.request()
    s.deliver()
    s.seller("seller.reject", refund_id=s.refund_id, reason="opened", message="已拆封", evidence=[])
    s.deliver()
    s.later(7 * DAY - 1)
    s.buyer("intervention.request", refund_id=s.refund_id, reason="seller_refused", description="请介入", evidence=[])
    s.deliver("arbitration")
    s.later(2 * HOUR, "refund")  # the refund service lagged past the grace
    assert s.state() == "closed"
    s.deliver()
    assert s.events("case.closed")[-1]["why"] == "request_closed"
    assert len(s.messages("case_ended")) == 2  # both parties hear the case will not be carried out
    assert s.settle() == []


def test_an_appeal_accepted_in_time_is_carried_out():
    s = Story()
    rejected_then_escalated(s)
    s.rule("reject")
    s.deliver()
    s.later(7 * DAY - 1)
    s.buyer("ruling.appeal", case_id=s.case_id, description="不服", evidence=[])
    s.deliver("arbitration")
    s.later(2, "refund")  # the refund service has no appeal deadline of its own to lose a race with
    s.deliver()
    to_the_arbitrators(s)
    s.rule("full_refund", who="xiaoer2", refund_fen=10000)
    s.deliver()
    assert s.paid() == 10000
    assert s.settle() == []


def test_a_partial_refund_before_shipment_goes_to_the_seller():
    s = Story(shipped=False)
    s.request(amount_fen=3000)
    s.deliver()
    assert s.state() == "requested" and s.events("refund.order_cancel_requested") == []
    s.seller("seller.approve", refund_id=s.refund_id)
    s.deliver()
    assert s.paid() == 3000
    assert s.settle() == []


def test_withdrawing_a_resubmission_does_not_reset_the_count_of_nos():
    s = Story()
    s.request()
    s.deliver()
    for _ in range(3):
        s.seller("seller.reject", refund_id=s.refund_id, reason="subjective", message="不同意", evidence=[])
        s.deliver()
        s.request()
        s.deliver()
        if s.state() == "requested":
            s.buyer("refund.cancel", refund_id=s.refund_id)  # withdraw the resubmission, ask afresh
            s.deliver()
            s.request()
            s.deliver()
    assert s.rejections("resubmission_limit")
    assert s.settle() == []


def test_a_claim_ruled_reject_cannot_be_asked_again_after_withdrawing_it():
    s = Story()
    rejected_then_escalated(s)
    s.rule("reject")
    s.deliver()
    s.buyer("refund.cancel", refund_id=s.refund_id)  # during the appeal window
    s.deliver()
    again = s.request()
    s.deliver()
    assert [r["command_event_id"] for r in s.rejections("already_decided")] == [again]
    assert s.settle() == []


def test_a_resubmission_keeps_the_negotiation_and_a_declined_full_offer_in_the_case_file():
    s = Story()
    s.request(amount_fen=10000)
    s.deliver()
    s.seller("seller.offer", refund_id=s.refund_id, offer={"kind": "partial_refund", "amount_fen": 10000}, message="全退")
    s.deliver()
    s.buyer("offer.decline", refund_id=s.refund_id, offer_id=s.offer_id, message="不要")
    s.deliver()
    s.request(amount_fen=10000)  # resubmitted
    s.deliver()
    s.seller("seller.reject", refund_id=s.refund_id, reason="used", message="已使用", evidence=[])
    s.deliver()
    s.buyer("intervention.request", refund_id=s.refund_id, reason="seller_refused", description="请介入", evidence=[])
    s.deliver()
    s.later(3 * DAY + 1)  # the seller misses its evidence window: the rule would rule for the buyer...
    assert [r["decided_by"] for r in s.events("ruling.issued")] == []  # ...who declined what it asked: a person rules
    assert s.settle() == []


def test_a_won_appeal_lifts_the_buyers_misconduct_flag():
    s = Story()
    rejected_then_escalated(s)
    s.rule("reject", misconduct="buyer")
    s.deliver()
    appeal_ruled(s, s.buyer, "full_refund", who="xiaoer2", refund_fen=10000)
    assert s.events("buyer.flagged")[-1]["flagged_until"] is None
    assert s.settle() == []


def test_a_restricted_shop_cannot_escape_review_with_a_lapsing_offer():
    s = Story()
    s.world.nodes["arbitration"].tables["seller.restrictions"][s.order.seller_id] = {
        "seller_id": s.order.seller_id, "restrictions": ["rejections_reviewed"]}
    s.request(reason="quality")
    s.deliver()
    s.seller("seller.offer", refund_id=s.refund_id, offer={"kind": "partial_refund", "amount_fen": 1}, message="一分钱")
    s.deliver()
    s.later(2 * DAY + 1)  # the buyer lets the offer lapse
    assert [c["reason"] for c in s.events("case.opened")] == ["shop_restricted"]
    assert s.settle() == []


def exchange_sent_back(s: Story) -> None:
    """An exchange approved, and the goods on their way back to the seller."""
    s.request(kind="exchange")
    s.deliver()
    s.seller("seller.approve", refund_id=s.refund_id)
    s.deliver()
    s.buyer("return.shipped", refund_id=s.refund_id, carrier="YTO", tracking_no="YT1")
    s.deliver()


def test_a_replacement_is_shipped_in_time_or_refunded_never_both():
    s = Story()
    exchange_sent_back(s)
    s.seller("return.received", refund_id=s.refund_id)
    s.deliver()
    s.later(7 * DAY + 1, "seller")  # the seller's own deadline passes there
    late = s.seller("replacement.ship", refund_id=s.refund_id, carrier="SF", tracking_no="SF9")
    s.deliver()
    assert [r["command_event_id"] for r in s.rejections("not_your_move")] == [late]
    assert s.paid() == 10000 and s.events("seller.replacement_shipped") == []
    assert s.settle() == []


def test_a_withdrawal_that_beats_the_seller_timeout_opens_no_case():
    s = Story()
    s.request()
    s.deliver()
    s.buyer("refund.cancel", refund_id=s.refund_id)
    s.deliver("refund")  # the refund service took the withdrawal...
    s.later(2 * DAY + 1, "seller")  # ...and the seller service times out before it hears of it
    s.deliver()
    assert s.events("case.opened") == [] and s.events("ruling.issued") == []
    assert s.messages("seller_timed_out") == []
    assert s.settle() == []


def test_a_case_without_a_request_cannot_cancel_the_order():
    s = Story()
    s.seller("intervention.request", reason="system_fault", description="系统故障", evidence=[])
    s.deliver()
    to_the_arbitrators(s)
    cancel = s.rule("cancel_order")
    s.deliver()
    assert [r["command_event_id"] for r in s.rejections("outcome_not_allowed")] == [cancel]
    assert s.settle() == []


def test_the_seller_is_told_to_ship_a_replacement_after_an_automatic_receipt():
    s = Story()
    exchange_sent_back(s)
    s.later(10 * DAY + 1)  # the seller never confirms: receipt is confirmed automatically
    assert [m["user_id"] for m in s.messages("replacement_requested")] == [s.order.seller_id]
    assert s.settle() == []


def test_a_parked_payout_tells_the_buyer():
    s = Story()
    s.world.payments.fail_share = 1.0
    s.request()
    s.deliver()
    s.seller("seller.approve", refund_id=s.refund_id)
    for _ in range(5):
        s.later(1 * DAY)
    assert s.state() == "payout_failed"
    assert [m["user_id"] for m in s.messages("payout_delayed")] == [s.order.buyer_id]
    assert s.settle() == []


def test_a_second_request_waits_for_the_appeal_and_never_waits_for_ever():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("partial_refund", refund_fen=5000)
    s.deliver()
    appeal_ruled(s, s.buyer, "full_refund", who="xiaoer2", refund_fen=10000)
    s.request(amount_fen=5000)  # the top-up has paid the rest: nothing is left to ask
    s.deliver()
    assert [r["code"] for r in s.events("command.rejected")] == ["case_undecided"]
    assert s.settle() == []


def test_a_return_above_the_postage_cap_is_taken_and_an_accepted_return_offer_names_the_payer():
    s = Story()
    s.request(kind="return_and_refund", reason="damaged")
    s.deliver()
    s.seller("seller.offer", refund_id=s.refund_id, offer={"kind": "return_and_refund", "amount_fen": 8000}, message="退货")
    s.deliver()
    s.buyer("offer.accept", refund_id=s.refund_id, offer_id=s.offer_id)
    s.deliver()
    s.buyer("return.shipped", refund_id=s.refund_id, carrier="YTO", tracking_no="YT1", postage_fen=4500)
    s.deliver()
    assert s.state() == "return_in_transit"
    s.seller("return.received", refund_id=s.refund_id)
    s.deliver()
    assert (s.paid(), s.paid("return_shipping")) == (8000, 3000)  # damaged: the seller bears it, capped
    assert s.settle() == []


def test_compensation_is_paid_once_the_case_is_over_and_the_seller_is_told():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("full_refund", refund_fen=10000)
    s.deliver()
    appeal_ruled(s, s.seller, "partial_refund", who="xiaoer2", refund_fen=4000)
    assert s.paid("seller_compensation") == 0  # the buyer may still appeal
    s.later(7 * DAY + 1)  # nobody does: the case closes with 4000 awarded, 10000 received
    assert s.paid("seller_compensation") == 6000
    assert [m["user_id"] for m in s.messages("seller_compensated")] == [s.order.seller_id]
    assert s.settle() == []


LAGGING_REFUND = ("arbitration", "seller", "notify")  # every service but the refund service


def withdrawn_and_asked_again(s: Story, **ask: Any) -> str:
    """The buyer withdraws its request and asks again at once; the refund service, behind on
    everything else, takes the withdrawal and refuses the new request until the arbitration service
    has said what stood on the withdrawn one (`withdrawal.noted`). The refused command's id."""
    ruled = s.refund_id
    s.buyer("refund.cancel", refund_id=ruled)
    s.read("refund", "refund.commands")
    again = s.request(**ask)
    s.read("refund", "refund.commands")
    assert s.refund_id == ruled and [r["command_event_id"] for r in s.rejections("withdrawal_pending")] == [again]
    return again


def refused_as_a_final_no(s: Story, **ask: Any) -> None:
    """Once the word reached the refund service, asking again is refused: the 'no' stands."""
    assert [e["final_no"] for e in s.events("withdrawal.noted")] == [True]
    again = s.request(**ask)
    s.deliver()
    assert [r["command_event_id"] for r in s.rejections("already_decided")] == [again]
    assert len(s.events("refund.requested")) == 1 and s.paid() == 0
    assert s.settle() == []


def test_a_request_asked_again_after_a_withdrawn_reject_is_closed_though_the_refund_service_lagged():
    # Found by the long run (seed 4005603): the refund service, far behind on arbitration.events,
    # took the buyer's withdrawal of a request the platform had ruled 'reject', then a new request.
    s = Story()
    rejected_then_escalated(s, *LAGGING_REFUND)
    s.rule("reject")
    s.deliver(*LAGGING_REFUND)
    withdrawn_and_asked_again(s)
    s.deliver()
    refused_as_a_final_no(s)


def test_a_withdrawal_while_a_reject_is_appealed_is_a_final_no_whatever_the_appeal_rules_after():
    # Found by the million-dispute run (seed 8003365): both services behind, the buyer withdrew a
    # request ruled 'reject' while appealing it; the appeal's ruling (a part) was issued the very
    # moment the refund service took the withdrawal, and the arbitration service then judged the
    # withdrawal by that ruling, not by the 'reject' that stood when the buyer withdrew.
    s = Story()
    rejected_then_escalated(s, *LAGGING_REFUND)
    s.rule("reject")
    s.deliver(*LAGGING_REFUND)
    s.buyer("ruling.appeal", case_id=s.case_id, description="不服", evidence=[])
    s.deliver(*LAGGING_REFUND)
    s.later(3 * DAY + 1, *LAGGING_REFUND)  # the appeal's evidence windows pass
    s.rule("partial_refund", who="xiaoer2", refund_fen=5000)
    withdrawn_and_asked_again(s)
    s.read("arbitration", "arbitration.decisions")  # the appeal is ruled at that very moment
    s.deliver()
    refused_as_a_final_no(s)


def test_a_withdrawn_reject_is_not_paid_by_a_refund_before_shipment_asked_at_once():
    # Found by the million-dispute run (seed 9226700): a part of an unshipped order refused, ruled
    # 'reject' and withdrawn; the buyer asked for the whole order back at once, and the refund
    # service, far behind on arbitration.events, approved and paid it (a refund before shipment
    # needs no seller) before the platform's 'no' reached it.
    s = Story(shipped=False)
    rejected_then_escalated(s, *LAGGING_REFUND, amount_fen=3000)
    s.rule("reject")
    s.deliver(*LAGGING_REFUND)
    withdrawn_and_asked_again(s)
    assert s.events("refund.order_cancel_requested") == [] and s.paid() == 0
    s.deliver()
    refused_as_a_final_no(s)


def test_a_withdrawal_with_no_no_standing_lets_the_buyer_ask_again():
    s = Story()
    s.request(amount_fen=3000)
    s.deliver()
    s.buyer("refund.cancel", refund_id=s.refund_id)
    s.deliver()
    assert [e["final_no"] for e in s.events("withdrawal.noted")] == [False]
    s.request(amount_fen=5000)
    s.deliver()
    s.seller("seller.approve", refund_id=s.refund_id)
    s.deliver()
    assert len(s.events("refund.requested")) == 2 and s.paid() == 5000
    assert s.settle() == []


def test_compensation_is_paid_as_ruled_and_the_deposit_follows_each_appeal():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.rule("full_refund", refund_fen=10000, compensation_fen=10000)
    s.deliver()
    assert (s.paid(), s.paid("compensation")) == (10000, 10000)
    appeal_ruled(s, s.seller, "reject", who="xiaoer2")  # lifted: the buyer keeps it, the deposit gets it back
    assert s.paid("compensation") == 10000
    held = {d.deduction_id: d.refunded for d in s.world.payments.deductions.values() if d.reason == "compensation"}
    assert list(held.values()) == [True]
    assert [m["template"] for m in s.messages("compensation_lifted")] == ["compensation_lifted"]
    s.later(8 * DAY)
    assert s.settle() == []


def test_a_ruling_that_reaches_a_withdrawn_request_moves_no_compensation():
    s = Story(paid_fen=10000)
    rejected_then_escalated(s)
    s.buyer("refund.cancel", refund_id=s.refund_id)
    s.deliver("refund")  # the refund service took the withdrawal; the arbitration service has not heard
    s.rule("full_refund", refund_fen=10000, compensation_fen=10000)
    s.read("arbitration", "arbitration.decisions")  # ruled before it heard of the withdrawal
    assert s.events("ruling.issued")
    s.deliver()
    assert s.paid("compensation") == 0 and not s.world.payments.deductions
    s.later(8 * DAY)
    assert s.settle() == []
