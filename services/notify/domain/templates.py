"""Message templates (files under ../templates/<locale>/<name>.txt: a title line, then the body)
and the words they are filled with. A template naming a placeholder nobody provides, or a
missing template, is an error here, caught by the test suite, never shown to a user."""
from __future__ import annotations

import string
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class TemplateError(Exception):
    pass


LABELS: dict[str, dict[str, dict[str, str]]] = {
    "kind": {
        "zh-CN": {"refund_only": "仅退款", "return_and_refund": "退货退款", "exchange": "换货"},
        "en": {"refund_only": "a refund", "return_and_refund": "a return and refund", "exchange": "an exchange"},
    },
    "reason": {
        "zh-CN": {"quality": "商品质量问题", "not_received": "未收到货物", "not_as_described": "与描述不符",
                  "wrong_item": "发错货", "damaged": "商品破损", "no_longer_wanted": "不想要了", "other": "其他",
                  "opened": "商品已拆封", "subjective": "主观不满意", "resale_affected": "影响二次销售",
                  "used": "商品已使用", "counterfeit": "涉嫌售假", "false_advertising": "涉嫌虚假宣传",
                  "policy_violation": "涉嫌违反平台规则"},
        "en": {"quality": "quality problem", "not_received": "not received", "not_as_described": "not as described",
               "wrong_item": "wrong item sent", "damaged": "damaged", "no_longer_wanted": "no longer wanted",
               "other": "other", "opened": "package opened", "subjective": "subjective dissatisfaction",
               "resale_affected": "affects resale", "used": "item used", "counterfeit": "a suspected counterfeit",
               "false_advertising": "suspected false advertising", "policy_violation": "a suspected breach of the platform's rules"},
    },
    "outcome": {
        "zh-CN": {"full_refund": "全额退款", "partial_refund": "部分退款", "return_and_refund": "退货退款",
                  "exchange": "换货", "reject": "驳回申请", "cancel_order": "取消订单",
                  "upheld": "投诉成立", "dismissed": "投诉不成立"},
        "en": {"full_refund": "full refund", "partial_refund": "partial refund", "return_and_refund": "return and refund",
               "exchange": "exchange", "reject": "claim rejected", "cancel_order": "order cancelled",
               "upheld": "the complaint is upheld", "dismissed": "the complaint is dismissed"},
    },
    "shipping": {
        "zh-CN": {"seller": "商家", "buyer": "买家", "platform": "平台"},
        "en": {"seller": "seller", "buyer": "buyer", "platform": "platform"},
    },
    "right": {
        "zh-CN": {"trademark": "商标权", "copyright": "著作权", "patent": "专利权"},
        "en": {"trademark": "a trademark", "copyright": "a copyright", "patent": "a patent"},
    },
    "level": {
        "zh-CN": {"warning": "警告", "restricted": "限制部分功能", "suspended": "暂停账户", "banned": "永久封禁"},
        "en": {"warning": "a warning", "restricted": "restricted", "suspended": "suspended", "banned": "banned for good"},
    },
    "party": {
        "zh-CN": {"buyer": "买家", "seller": "商家"},
        "en": {"buyer": "buyer", "seller": "seller"},
    },
    "receiver": {
        "zh-CN": {"seller": "商家", "auto": "系统（超时自动确认）"},
        "en": {"seller": "the seller", "auto": "the system (confirmed automatically after the deadline)"},
    },
    # What the platform found on a case with no request (its own investigation, a seller's complaint).
    "finding": {
        "zh-CN": {"fined": "商家存在违规，处以罚款 {amount}（从保证金中扣除）", "at_fault": "商家存在违规",
                  "no_breach": "未发现违规，不作处理"},
        "en": {"fined": "the seller broke the rules and is fined {amount} (taken from its deposit)",
               "at_fault": "the seller broke the rules", "no_breach": "no breach was found; nothing further is done"},
    },
    "refund_to": {
        "zh-CN": {"original": "原支付账户", "balance": "平台余额"},
        "en": {"original": "original payment method", "balance": "platform balance"},
    },
    "restriction": {
        "zh-CN": {"promotions": "参加营销活动", "new_listings": "发布新商品"},
        "en": {"promotions": "taking part in promotions", "new_listings": "listing new items"},
    },
    "offer": {  # what a seller offers; a refund offer is followed by its amount
        "zh-CN": {"partial_refund": "部分退款 {amount}", "return_and_refund": "退货退款 {amount}", "exchange": "换货",
                  "resend": "补发商品"},
        "en": {"partial_refund": "a partial refund of {amount}", "return_and_refund": "a return and refund of {amount}",
               "exchange": "an exchange", "resend": "to send the item again"},
    },
    "why": {  # why a request closed, told to the buyer
        "zh-CN": {"expired": "未在期限内寄回商品", "rejected_final": "商家拒绝后未在期限内申请平台介入，或平台最终驳回",
                  "cancelled": "您已撤销申请", "completed": "已完成"},
        "en": {"expired": "the goods were not shipped back in time",
               "rejected_final": "after the rejection nobody asked the platform in time, or the platform's final ruling "
                                 "rejected it",
               "cancelled": "you withdrew it", "completed": "it is done"},
    },
    "round": {
        "zh-CN": {"1": "裁决", "2": "复核"},
        "en": {"1": "ruling", "2": "ruling on appeal"},
    },
    "task": {  # what the party must do, by the refund state (or case step) a reminder is for
        "zh-CN": {"requested": "处理售后申请", "rejected": "申请平台介入", "return_pending": "寄回商品",
                  "return_in_transit": "确认收货", "replacement_pending": "发出换货商品", "evidence": "提交举证材料",
                  "offer_pending": "答复商家的协商方案", "appeal": "对裁决提出申诉（如不认可）"},
        "en": {"requested": "answer the after-sale request", "rejected": "ask the platform to step in",
               "return_pending": "ship the goods back", "return_in_transit": "confirm the returned parcel",
               "replacement_pending": "ship the replacement", "evidence": "submit your evidence",
               "offer_pending": "answer the seller's offer", "appeal": "appeal the ruling, if you disagree"},
    },
}

ATTACHMENTS = {"zh-CN": "（附 {n} 个凭证）", "en": " ({n} attachment(s))"}
POST_PREVIEW = 200  # characters of a post quoted in a message; the whole post is on the request

# Where the goods go back, when the seller (or a ruling) said.
ADDRESS = {"zh-CN": ("退货地址：{name}，{phone}，{address}。", "商家将提供退货地址。"),
           "en": (" Send them to: {name}, {phone}, {address}.", " The seller will give the return address.")}
# How long a sanction lasts: a suspension until a date; anything else until lifted.
UNTIL = {"zh-CN": ("处罚持续至 {until}。", ""), "en": ("It lasts until {until}. ", "")}
APPEAL = {
    "zh-CN": ("如不认可，可在 {until} 前申诉一次。", "此为最终结果。"),
    "en": ("You may appeal once before {until}.", "This ruling is final."),
}


def label(kind: str, locale: str, code: Any) -> str:
    return LABELS[kind][locale].get(str(code), str(code))


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def when(value: Any, locale: str) -> str:
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if locale == "zh-CN":
        return ts.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@lru_cache(maxsize=None)
def load(name: str, locale: str) -> tuple[str, str]:
    path = TEMPLATE_DIR / locale / f"{name}.txt"
    if not path.exists():
        raise TemplateError(f"no template {name!r} for locale {locale}")
    title, _, body = path.read_text(encoding="utf-8").partition("\n")
    return title.strip(), body.strip()


def placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def names() -> list[str]:
    return sorted(p.stem for p in (TEMPLATE_DIR / DEFAULT_LOCALE).glob("*.txt"))


def words(params: dict[str, Any], locale: str) -> dict[str, str]:
    """Turn raw event values into the words of one language."""
    out: dict[str, str] = {}
    for k, v in params.items():
        if v is None:
            continue
        if k in ("amount_fen",):
            out["amount"] = yuan(int(v))
        elif k == "offer":
            amount = yuan(int(v["amount_fen"])) if v.get("amount_fen") is not None else ""
            out[k] = label(k, locale, v["kind"]).format(amount=amount)
        elif k == "finding":
            out[k] = label(k, locale, v).format(amount=yuan(int(params.get("penalty_fen") or 0)))
        elif k == "attachments":
            out[k] = ATTACHMENTS[locale].format(n=int(v)) if int(v) else ""
        elif k == "text":
            text = str(v).strip()
            out[k] = text if len(text) <= POST_PREVIEW else text[:POST_PREVIEW] + "…"
        elif k in ("due", "until"):
            out[k] = when(v, locale)
        elif k in LABELS:
            out[k] = label(k, locale, v)
        elif k == "reasoning":
            out[k] = str(v).strip().rstrip("。.")  # the template ends the sentence itself
        else:
            out[k] = str(v)
    if "return_address" in params:
        a = params["return_address"]
        out["address_text"] = ADDRESS[locale][0].format(**a) if a else ADDRESS[locale][1]
    if "until" in params:
        until = params["until"]
        out["until_text"] = UNTIL[locale][0].format(until=when(until, locale)) if until else UNTIL[locale][1]
    if "appeal_until" in params:
        until = params["appeal_until"]
        out["appeal"] = APPEAL[locale][0].format(until=when(until, locale)) if until else APPEAL[locale][1]
    return out


def render(name: str, locale: str, params: dict[str, Any]) -> tuple[str, str]:
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    title, body = load(name, locale)
    filled = words(params, locale)
    missing = (placeholders(title) | placeholders(body)) - set(filled)
    if missing:
        raise TemplateError(f"template {name!r} ({locale}) needs {sorted(missing)}")
    return title.format_map(filled), body.format_map(filled)
