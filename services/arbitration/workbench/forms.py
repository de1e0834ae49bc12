"""The ruling and evidence-request forms, checked before anything is sent. Pure.

The form offers only the outcomes that fit the request and checks the amount with the same
rules the service applies (services.arbitration.domain.ruling_checks), so an arbitrator sees a
mistake on the page, not as a rejection later. The service checks again: it is the authority."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, get_args

from contracts.common import PlatformCaseReason, SanctionLevel

from services.arbitration.domain.model import RequestFacts
from services.arbitration.domain.ruling_checks import ALLOWED_OUTCOMES, NEEDS_AMOUNT, refund_amount

# In the order the form offers them.
OUTCOMES = ("full_refund", "partial_refund", "return_and_refund", "exchange", "reject", "cancel_order")
PAYERS = ("seller", "buyer", "platform")
MISCONDUCT = ("none", "buyer", "seller")
# Canned reasons (常用理由): picked, they open the reasoning; the arbitrator still writes it out.
CANNED_REASONS = ("拒绝理由不成立", "证据不足", "商品与描述不符", "商品存在质量问题", "买家已签收且无异常证据",
                  "退回商品影响二次销售", "卖家未在规定时间内举证", "双方证据均不充分，酌情处理")
MAX_WINDOW_HOURS = 30 * 24


def outcomes_for(request: RequestFacts | None) -> list[str]:
    allowed = ALLOWED_OUTCOMES[request.kind if request else None]
    return [o for o in OUTCOMES if o in allowed]


def fen_of(text: str) -> int | None:
    """'12.5' (yuan) -> 1250 fen; None for an empty field. ValueError for anything else."""
    text = (text or "").strip().replace("¥", "").replace(",", "")
    if not text:
        return None
    try:
        yuan = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    fen = yuan * 100
    if yuan < 0 or fen != fen.to_integral_value():
        raise ValueError(text)
    return int(fen)


@dataclass
class Checked:
    errors: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # the ruling.decide data, when no errors

    @property
    def ok(self) -> bool:
        return not self.errors


def check_ruling(form: Mapping[str, str], request: RequestFacts | None, max_postage_fen: int,
                 compensation_cap_fen: int = 0) -> Checked:
    """`compensation_cap_fen`: the most this case may award beyond any refund (compensation_cap)."""
    out = Checked()
    outcome = form.get("outcome", "")
    if outcome not in outcomes_for(request):
        out.errors["outcome"] = "outcome_not_allowed"
        return out
    amounts: dict[str, int | None] = {}
    for name in ("refund", "return_shipping", "penalty", "compensation"):
        try:
            amounts[name] = fen_of(form.get(f"{name}_yuan", ""))
        except ValueError:
            out.errors[f"{name}_yuan"] = "not_an_amount"
    if out.errors:
        return out
    if outcome in NEEDS_AMOUNT or outcome == "cancel_order":
        refund_fen, refused = refund_amount(outcome, amounts["refund"], request)
        if refused is not None:
            out.errors["refund_yuan"] = refused.code
    else:
        refund_fen = 0
    payer = form.get("return_shipping_paid_by", "")
    if payer not in PAYERS:
        out.errors["return_shipping_paid_by"] = "choose_one"
    if (amounts["return_shipping"] or 0) > max_postage_fen:
        out.errors["return_shipping_yuan"] = "postage_exceeds_cap"
    misconduct = form.get("misconduct", "none")
    if misconduct not in MISCONDUCT:
        out.errors["misconduct"] = "choose_one"
    at_fault = form.get("seller_at_fault") in ("on", "true", "1")
    if amounts["penalty"] and not at_fault:
        out.errors["penalty_yuan"] = "penalty_without_fault"
    if amounts["compensation"]:
        if not at_fault:
            out.errors["compensation_yuan"] = "compensation_without_fault"
        elif request is not None and outcome == "reject":
            out.errors["compensation_yuan"] = "compensation_with_reject"
        elif amounts["compensation"] > compensation_cap_fen:
            out.errors["compensation_yuan"] = "compensation_exceeds_cap"
    sanction = _sanction(form, at_fault, misconduct, out.errors)
    reasoning = "：".join(p for p in (form.get("canned", "").strip(), form.get("reasoning", "").strip()) if p)
    if not form.get("reasoning", "").strip():
        out.errors["reasoning"] = "reasoning_required"
    elif len(reasoning) > 4000:
        out.errors["reasoning"] = "too_long"
    if out.errors:
        return out
    out.data = {"outcome": outcome, "return_shipping_paid_by": payer, "seller_at_fault": at_fault,
                "reasoning": reasoning, "misconduct": misconduct, "penalty_fen": amounts["penalty"] or 0}
    if amounts["compensation"]:
        out.data["compensation_fen"] = amounts["compensation"]
    if sanction:
        out.data["sanction"] = sanction
    if outcome in NEEDS_AMOUNT:
        out.data["refund_fen"] = refund_fen
    if amounts["return_shipping"] is not None:
        out.data["return_shipping_fen"] = amounts["return_shipping"]
    return out


SANCTION_LEVELS: tuple[str, ...] = get_args(SanctionLevel)


def _sanction(form: Mapping[str, str], at_fault: bool, misconduct: str, errors: dict[str, str]) -> dict[str, Any] | None:
    """The ladder (contracts/ladder.py): a level for the party the ruling finds at fault; days for a suspension."""
    level = form.get("sanction_level", "")
    if not level:
        return None
    party = form.get("sanction_party", "")
    if level not in SANCTION_LEVELS or party not in ("buyer", "seller"):
        errors["sanction_level"] = "choose_one"
        return None
    if (party == "seller" and not at_fault) or (party == "buyer" and misconduct != "buyer"):
        errors["sanction_level"] = "sanction_without_finding"
        return None
    out: dict[str, Any] = {"party": party, "level": level}
    if level == "suspended":
        try:
            days = int(form.get("sanction_days", "") or 0)
        except ValueError:
            days = 0
        if not 1 <= days <= 3650:
            errors["sanction_days"] = "days_out_of_range"
            return None
        out["days"] = days
    return out


def _party(form: Mapping[str, str], errors: dict[str, str]) -> str:
    party = form.get("party", "")
    if party not in ("buyer", "seller"):
        errors["party"] = "choose_one"
    return party


def _text(form: Mapping[str, str], name: str, required: str, errors: dict[str, str], limit: int | None = None) -> str:
    """A free-text field, trimmed: `required` names the error when it is empty, `too_long` past `limit`."""
    text = form.get(name, "").strip()
    if not text:
        errors[name] = required
    elif limit is not None and len(text) > limit:
        errors[name] = "too_long"
    return text


def check_complaint_decision(form: Mapping[str, str]) -> Checked:
    """complaint.decide: upheld or dismissed, why, and a sanction of the accused shop when upheld."""
    out = Checked()
    outcome = form.get("outcome", "")
    if outcome not in ("upheld", "dismissed"):
        out.errors["outcome"] = "choose_one"
    reasoning = _text(form, "reasoning", "reasoning_required", out.errors, 4000)
    sanction = _sanction({**form, "sanction_party": "seller"}, outcome == "upheld", "none", out.errors)
    if not out.errors:
        out.data = {"outcome": outcome, "reasoning": reasoning, **({"sanction": sanction} if sanction else {})}
    return out


def check_evidence_request(form: Mapping[str, str]) -> Checked:
    out = Checked()
    party = _party(form, out.errors)
    message = _text(form, "message", "message_required", out.errors)
    try:
        hours = float(form.get("window_hours", "") or 0)
    except ValueError:
        hours = 0
    if not 0 < hours <= MAX_WINDOW_HOURS:
        out.errors["window_hours"] = "window_out_of_range"
    if not out.errors:
        out.data = {"party": party, "message": message, "due_in_seconds": max(1, int(hours * 3600))}
    return out


def check_hold(form: Mapping[str, str]) -> Checked:
    """funds.hold / funds.release: whose settlement, and why (told to both parties)."""
    out = Checked()
    party = _party(form, out.errors)
    reason = _text(form, "reason", "reason_required", out.errors, 2000)
    if not out.errors:
        out.data = {"party": party, "reason": reason}
    return out


PLATFORM_REASONS: tuple[str, ...] = get_args(PlatformCaseReason)
MAX_EVIDENCE_LINKS = 20


def check_case_open(form: Mapping[str, str]) -> Checked:
    """The platform's own case (主动介入): an order, why, what was found, and links to the material."""
    out = Checked()
    order_id = form.get("order_id", "").strip()
    if not order_id or len(order_id) > 64 or any(ch.isspace() for ch in order_id):
        out.errors["order_id"] = "order_id_required"
    reason = form.get("reason", "")
    if reason not in PLATFORM_REASONS:
        out.errors["reason"] = "choose_one"
    description = _text(form, "description", "message_required", out.errors)
    links = [line.strip() for line in form.get("evidence", "").splitlines() if line.strip()]
    if len(links) > MAX_EVIDENCE_LINKS or any(not link.startswith(("https://", "http://")) or len(link) > 2048
                                              for link in links):
        out.errors["evidence"] = "evidence_links"
    if not out.errors:
        out.data = {"order_id": order_id, "reason": reason, "description": description,
                    "evidence": [{"kind": "document", "uri": link} for link in links]}
    return out
