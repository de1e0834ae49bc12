"""The messages of a case (arbitration.events): who hears of an opening, evidence, a ruling, an
appeal, a hold and a sanction, and the reminders each sets. Pure."""
from __future__ import annotations

from typing import Callable

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision
from services.notify.domain.collector import forget, learn, out, remind
from services.notify.domain.model import NotifyOrder


def case_opened(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    learn(agg, d)
    c = out(agg, msg, ctx)
    if d.asks_evidence:  # a case an automatic rule decides asks nobody for evidence (ruled at once, or queued)
        for party in ("buyer", "seller"):
            if d.opened_by == "platform":  # the platform's own investigation says why
                c.send(party, "platform_case_opened", case_id=d.case_id, reason=d.reason, due=d.evidence_due_at)
            else:
                c.send(party, "case_opened", case_id=d.case_id, due=d.evidence_due_at)
            if party != d.opened_by:  # the opener's filing is its evidence already
                remind(agg, d.case_id, party, "evidence", d.evidence_due_at, ctx)
    return c.decision()


def evidence_submitted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    forget(agg, d.case_id, d.party)
    c = out(agg, msg, ctx)
    if d.evidence_count:
        other = "seller" if d.party == "buyer" else "buyer"
        c.send(other, "evidence_added", case_id=d.case_id, party=d.party, count=d.evidence_count)
    return c.decision()


def evidence_requested(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(d.user_id, "evidence_requested", case_id=d.case_id, due=d.due_at)
    remind(agg, d.case_id, d.party, "evidence", d.due_at, ctx)
    return c.decision()


def case_awaiting_ruling(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    forget(agg, d.case_id)
    c = out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "case_in_queue", case_id=d.case_id, due=d.ruling_due_at)
    return c.decision()


def case_ruling_overdue(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(ctx.settings.arbitration_desk, "ruling_overdue", case_id=d.case_id, due=d.ruling_due_at)
    return c.decision()


def ruling_issued(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    learn(agg, d)
    forget(agg, d.case_id)
    c = out(agg, msg, ctx)
    finding = "fined" if d.penalty_fen else "at_fault" if d.seller_at_fault else "no_breach"
    for party in ("buyer", "seller"):
        if d.refund_id is None:  # no request to refund or reject: what the platform found is the news
            c.send(party, "case_ruled", case_id=d.case_id, finding=finding, penalty_fen=d.penalty_fen,
                   reasoning=d.reasoning, round=str(d.round), appeal_until=d.appealable_until)
        else:
            c.send(party, "ruling_issued", case_id=d.case_id, outcome=d.outcome, amount_fen=d.refund_fen,
                   shipping=d.return_shipping_paid_by, reasoning=d.reasoning, round=str(d.round),
                   appeal_until=d.appealable_until)
        if d.appealable_until:  # each party may appeal once: remind both before the window closes
            remind(agg, d.case_id, party, "appeal", d.appealable_until, ctx)
    return c.decision()


def funds_moved(template: str) -> Callable[[NotifyOrder, ParsedMessage, Context], Decision]:
    """A hold begins or ends: both parties hear whose settlement it is."""
    def handle(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
        d = msg.data
        c = out(agg, msg, ctx)
        for party in ("buyer", "seller"):
            c.send(party, template, case_id=d.case_id, party=d.party, note=d.reason.strip().rstrip("。."))
        return c.decision()
    return handle


def account_sanctioned(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(d.party_id, "account_sanctioned", level=d.level, case_id=d.case_id or d.complaint_id or "-", until=d.until)
    return c.decision()


def account_sanction_lifted(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(d.party_id, "account_sanction_lifted", level=d.level, case_id=d.case_id or d.complaint_id or "-")
    return c.decision()


def complaint_filed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(d.against_seller_id, "complaint_filed", complaint_id=d.complaint_id, subject=d.subject, right=d.right)
    return c.decision()


def complaint_answered(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    c.to_user(d.complainant_id, "complaint_answered", complaint_id=d.complaint_id)
    return c.decision()


def complaint_ruled(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    c = out(agg, msg, ctx)
    for user in (d.complainant_id, d.against_seller_id):
        if user:
            c.to_user(user, "complaint_ruled", complaint_id=d.complaint_id, outcome=d.outcome,
                      reasoning=d.reasoning or "")
    return c.decision()


COMPLAINT_HANDLERS: dict[str, Callable[[NotifyOrder, ParsedMessage, Context], Decision]] = {
    "complaint.filed": complaint_filed, "complaint.answered": complaint_answered, "complaint.ruled": complaint_ruled,
}


def ruling_appealed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    forget(agg, d.case_id)  # the appeal reminders: one was used, the other party's turns into evidence
    c = out(agg, msg, ctx)
    for party in ("buyer", "seller"):
        c.send(party, "ruling_appealed", case_id=d.case_id, party=d.party, due=d.evidence_due_at)
        if party != d.party:  # the appeal carries the appellant's evidence
            remind(agg, d.case_id, party, "evidence", d.evidence_due_at, ctx)
    return c.decision()


def case_closed(agg: NotifyOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    forget(agg, d.case_id)
    c = out(agg, msg, ctx)
    if d.why in ("request_closed", "request_settled"):  # the case will not rule, or its ruling not be carried out
        for party in ("buyer", "seller"):
            c.send(party, "case_ended", case_id=d.case_id)
    return c.decision()


