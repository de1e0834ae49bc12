"""The outside world's people and systems, acting at random: the order system, buyers, sellers,
arbitrators and operators. Each sends any command the contract lets it send, at any moment,
legal or not, filled in from what it has seen on the platform's public topics (a refund id, a
case id, an offer id), or now and then from something stale."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, get_args

from contracts.common import GOODS_BACK, Demand, Outcome, PlatformCaseReason, RefundKind, RefundReason
from contracts.registry import spec_for, topic_for
from sim.platform.seen import CaseSeen, OrderSeen, RefundSeen

# What the actors choose among is the contract's own: a value it adds is chosen too.
REASONS: tuple[str, ...] = get_args(RefundReason)
KINDS: tuple[str, ...] = get_args(RefundKind)
# Money moves most often: that is where rulings and appeals meet.
OUTCOME_WEIGHT: dict[str, int] = {"full_refund": 3, "partial_refund": 3, "return_and_refund": 2, "exchange": 1,
                                  "reject": 2, "cancel_order": 1}
OUTCOMES: tuple[str, ...] = get_args(Outcome)
OUTCOME_WEIGHTS = tuple(OUTCOME_WEIGHT[o] for o in OUTCOMES)  # an outcome without a weight fails at import
ARBITRATORS = ("xiaoer1", "xiaoer2", "xiaoer3")
PLATFORM_REASONS: tuple[str, ...] = get_args(PlatformCaseReason)
PHOTO = [{"kind": "photo", "uri": "https://img.example/1.jpg"}]
DEMANDS: list[str] = list(get_args(Demand))
RETURN_ADDRESS = {"name": "售后部", "phone": "13800138000", "address": "浙江省杭州市余杭区仓前街道 1 号"}


@dataclass(frozen=True)
class Command:
    type: str
    data: dict[str, Any]
    role: str
    actor_id: str

    @property
    def topic(self) -> str:
        return topic_for(self.type, self.role)

    @property
    def key_field(self) -> str:
        spec = spec_for(self.type)
        assert spec is not None
        return spec.key_field

    def describe(self) -> str:
        shown = {k: v for k, v in self.data.items() if k not in ("description", "evidence", "message", "reasoning",
                                                                 "attachments", "text", "order_id", "user_id")}
        return f"{self.role} {self.actor_id}: {self.type} {shown}"


Pick = Callable[[random.Random, OrderSeen], Command | None]


def _any(rng: random.Random, items: Any) -> Any:
    items = list(items)
    return rng.choice(items) if items else None


def _refund(rng: random.Random, o: OrderSeen) -> RefundSeen | None:
    """Mostly the newest request; sometimes an older one."""
    if not o.refunds:
        return None
    items = list(o.refunds.values())
    return items[-1] if rng.random() < 0.8 else rng.choice(items)


def _case(rng: random.Random, o: OrderSeen) -> CaseSeen | None:
    if not o.cases:
        return None
    items = list(o.cases.values())
    return items[-1] if rng.random() < 0.8 else rng.choice(items)


def _amount(rng: random.Random, o: OrderSeen, asked: int | None = None) -> int:
    base = asked or o.paid_fen
    return max(1, rng.choice((base, base, base // 2, o.paid_fen - 1, 1, o.paid_fen // 3)))


# ---- the order system ----------------------------------------------------------------------


def order_shipped(rng: random.Random, o: OrderSeen) -> Command | None:
    shipped_at = rng.choice(("2026-12-01T00:00:00Z", "2026-12-01T02:00:00Z", "2026-12-06T00:00:00Z"))  # late, or not
    return Command("order.shipped", {"order_id": o.order_id, "carrier": "SF", "tracking_no": f"SF{rng.randrange(10**6)}",
                                     "shipped_at": shipped_at}, "system", "orders")


def order_delivered(rng: random.Random, o: OrderSeen) -> Command | None:
    return Command("order.delivered", {"order_id": o.order_id, "delivered_at": "2026-12-01T00:00:00Z"},
                   "system", "orders")


# ---- the buyer -----------------------------------------------------------------------------


def buyer(type_: str, data: dict[str, Any], o: OrderSeen) -> Command:
    return Command(type_, {"order_id": o.order_id, **data}, "buyer", o.buyer_id)


def refund_request(rng: random.Random, o: OrderSeen) -> Command | None:
    kind = rng.choice(KINDS)
    return buyer("refund.request", {"kind": kind, "reason": rng.choice(REASONS), "amount_fen": _amount(rng, o),
                                    "refund_to": rng.choice(("original", "balance")), "description": "不满意",
                                    "evidence": PHOTO if rng.random() < 0.6 else []}, o)


def refund_cancel(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    return buyer("refund.cancel", {"refund_id": r.refund_id}, o) if r else None


def return_shipped(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    if r is None:
        return None
    postage = rng.choice((None, 0, 800, 1200, 3000, 4500))
    return buyer("return.shipped", {"refund_id": r.refund_id, "carrier": "YTO", "tracking_no": "YT1",
                                    **({"postage_fen": postage} if postage is not None else {})}, o)


def offer_answer(type_: str) -> Pick:
    def pick(rng: random.Random, o: OrderSeen) -> Command | None:
        r = _refund(rng, o)
        if r is None or not r.offers:
            return None
        offer_id = r.offers[-1] if rng.random() < 0.85 else rng.choice(r.offers)
        extra = {"message": "不行"} if type_ == "offer.decline" else {}
        return buyer(type_, {"refund_id": r.refund_id, "offer_id": offer_id, **extra}, o)
    return pick


def party_post(role: str) -> Pick:
    def pick(rng: random.Random, o: OrderSeen) -> Command | None:
        r = _refund(rng, o)
        if r is None:
            return None
        return Command("conversation.post", {"order_id": o.order_id, "refund_id": r.refund_id, "text": "你好",
                                             "attachments": []}, role, o.buyer_id if role == "buyer" else o.seller_id)
    return pick


def intervention(role: str) -> Pick:
    def pick(rng: random.Random, o: OrderSeen) -> Command | None:
        r = _refund(rng, o)
        actor = o.buyer_id if role == "buyer" else o.seller_id
        reason = "seller_refused" if role == "buyer" else rng.choice(("malicious_complaint", "dispute"))
        data: dict[str, Any] = {"order_id": o.order_id, "reason": reason, "description": "请平台介入",
                                "evidence": PHOTO}
        if r is not None and (role == "buyer" or rng.random() < 0.8):
            data["refund_id"] = r.refund_id
        if rng.random() < 0.3:
            data["demands"] = rng.sample(DEMANDS, rng.randint(1, 2))
        return Command("intervention.request", data, role, actor)
    return pick


def evidence(role: str) -> Pick:
    def pick(rng: random.Random, o: OrderSeen) -> Command | None:
        c = _case(rng, o)
        if c is None:
            return None
        actor = o.buyer_id if role == "buyer" else o.seller_id
        return Command("evidence.submit", {"order_id": o.order_id, "case_id": c.case_id, "description": "凭证",
                                           "evidence": PHOTO if rng.random() < 0.7 else [],
                                           "done": rng.random() < 0.4}, role, actor)
    return pick


def appeal(role: str) -> Pick:
    def pick(rng: random.Random, o: OrderSeen) -> Command | None:
        c = _case(rng, o)
        if c is None:
            return None
        actor = o.buyer_id if role == "buyer" else o.seller_id
        return Command("ruling.appeal", {"order_id": o.order_id, "case_id": c.case_id, "description": "申诉",
                                         "evidence": PHOTO}, role, actor)
    return pick


# ---- the seller ----------------------------------------------------------------------------


def seller(type_: str, data: dict[str, Any], o: OrderSeen) -> Command:
    return Command(type_, {"order_id": o.order_id, **data}, "seller", o.seller_id)


def seller_approve(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    if r is None:
        return None
    promised = rng.choice((None, None, 0, 1000, 3500))
    return seller("seller.approve", {"refund_id": r.refund_id,
                                     **({"return_shipping_fen": promised} if promised is not None else {}),
                                     **({"return_address": RETURN_ADDRESS} if rng.random() < 0.9 else {})}, o)


def seller_reject(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    if r is None:
        return None
    return seller("seller.reject", {"refund_id": r.refund_id, "reason": rng.choice(("opened", "subjective", "used")),
                                    "message": "不同意", "evidence": PHOTO if rng.random() < 0.5 else []}, o)


def seller_offer(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    if r is None:
        return None
    kind = rng.choice(("partial_refund", "exchange", "resend", "return_and_refund"))
    offer: dict[str, Any] = {"kind": kind}
    if kind in ("partial_refund", "return_and_refund"):
        offer["amount_fen"] = rng.choice((1, max(1, r.amount_fen // 2), r.amount_fen))
    if kind in GOODS_BACK and rng.random() < 0.9:
        offer["return_address"] = RETURN_ADDRESS
    return seller("seller.offer", {"refund_id": r.refund_id, "offer": offer, "message": "协商"}, o)


def return_received(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    return seller("return.received", {"refund_id": r.refund_id}, o) if r else None


def replacement_ship(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    return seller("replacement.ship", {"refund_id": r.refund_id, "carrier": "SF", "tracking_no": "SF2"}, o) if r else None


# ---- the platform's people ---------------------------------------------------------------


def arbitrator_of(rng: random.Random, c: CaseSeen) -> str:
    """Mostly the one who holds the case, else one new to it; now and then anybody."""
    if c.claimed_by and rng.random() < 0.9:
        return c.claimed_by
    fresh = [a for a in ARBITRATORS if a not in c.ruled_by]
    return rng.choice(fresh) if fresh and rng.random() < 0.9 else rng.choice(ARBITRATORS)


def ruling(rng: random.Random, o: OrderSeen, c: CaseSeen | None = None, plain: bool = False) -> Command | None:
    """An arbitrator's ruling, any outcome; `plain`: one that fits every case (after refusals)."""
    c = c or _case(rng, o)
    if c is None:
        return None
    r = o.refunds.get(c.refund_id or "")
    outcome = "reject" if plain else rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
    data: dict[str, Any] = {"order_id": o.order_id, "case_id": c.case_id, "outcome": outcome,
                            "return_shipping_paid_by": rng.choice(("seller", "buyer", "platform")),
                            "seller_at_fault": rng.random() < 0.5, "reasoning": "依据证据裁决"}
    if outcome == "partial_refund":
        data["refund_fen"] = max(1, (r.amount_fen if r else o.paid_fen) // 2 - 1)
    elif outcome in ("full_refund", "return_and_refund") and rng.random() < 0.5:
        data["refund_fen"] = r.amount_fen if r else o.paid_fen
    if rng.random() < 0.3:
        data["return_shipping_fen"] = rng.choice((0, 1200, 3000))
    if rng.random() < 0.15:
        data["misconduct"] = rng.choice(("buyer", "seller"))
    if data["seller_at_fault"] and rng.random() < 0.2:
        data["penalty_fen"] = 5000
    if rng.random() < 0.15:  # 赔偿, legal or not: half the price, the price, a counterfeit's cap, past any cap
        data["compensation_fen"] = rng.choice((o.paid_fen // 2, o.paid_fen, o.paid_fen * 10, o.paid_fen * 10 + 1))
    if rng.random() < 0.1:  # the ladder, legal or not (a party not found at fault, a suspension's days)
        party, level = rng.choice(("seller", "buyer")), rng.choice(("warning", "restricted", "suspended", "banned"))
        data["sanction"] = {"party": party, "level": level, **({"days": rng.choice((1, 7))} if level == "suspended" else {})}
    return Command("ruling.decide", data, "arbitrator", arbitrator_of(rng, c))


def platform_case(rng: random.Random, o: OrderSeen) -> Command | None:
    """The platform opens a case of its own on the order (主动介入), at any moment, legal or not."""
    return Command("case.open", {"order_id": o.order_id, "reason": rng.choice(PLATFORM_REASONS),
                                 "description": "抽检发现疑似问题", "evidence": PHOTO}, "arbitrator",
                   rng.choice(ARBITRATORS))


def evidence_request(rng: random.Random, o: OrderSeen) -> Command | None:
    c = _case(rng, o)
    if c is None:
        return None
    return Command("evidence.request", {"order_id": o.order_id, "case_id": c.case_id,
                                        "party": rng.choice(("buyer", "seller")), "message": "请补充",
                                        "due_in_seconds": rng.choice((3600, 86400))}, "arbitrator",
                   arbitrator_of(rng, c))


def funds(rng: random.Random, o: OrderSeen) -> Command | None:
    """An arbitrator holds a party's settlement during the case, or releases it, legal or not."""
    c = _case(rng, o)
    if c is None:
        return None
    return Command(rng.choice(("funds.hold", "funds.hold", "funds.release")), {
        "order_id": o.order_id, "case_id": c.case_id, "party": rng.choice(("buyer", "seller")),
        "reason": "调查期间冻结"}, "arbitrator", arbitrator_of(rng, c))


def complaint(rng: random.Random, o: OrderSeen) -> Command | None:
    """A rival shop complains of this order's shop, the shop answers, an arbitrator decides: legal or not."""
    rival = f"{o.seller_id}-rival"
    if not o.complaints or rng.random() < 0.3:
        cid = f"CP-{o.order_id}-{len(o.complaints) + 1}"
        o.complaints.append(cid)
        return Command("complaint.file", {"complaint_id": cid, "against_seller_id": o.seller_id, "subject": "商标",
                                          "right": rng.choice(("trademark", "copyright", "patent")),
                                          "description": "仿冒", "evidence": PHOTO}, "seller", rival)
    cid = rng.choice(o.complaints)
    if rng.random() < 0.5:
        return Command("complaint.respond", {"complaint_id": cid, "description": "有授权", "evidence": []}, "seller",
                       rng.choice((o.seller_id, o.seller_id, rival)))
    return decide_complaint(rng, cid)


def decide_complaint(rng: random.Random, cid: str, plain: bool = False) -> Command:
    """`plain`: one that is always legal (dismissed, no sanction), once the others were refused."""
    outcome = "dismissed" if plain else rng.choice(("upheld", "dismissed"))
    data: dict[str, Any] = {"complaint_id": cid, "outcome": outcome, "reasoning": "依据证据"}
    if not plain and rng.random() < 0.3:
        data["sanction"] = {"party": "seller", "level": rng.choice(("warning", "restricted"))}
    return Command("complaint.decide", data, "arbitrator", rng.choice(ARBITRATORS))


def claim(rng: random.Random, o: OrderSeen) -> Command | None:
    c = _case(rng, o)
    if c is None:
        return None
    return Command(rng.choice(("case.claim", "case.release")), {"order_id": o.order_id, "case_id": c.case_id},
                   "arbitrator", arbitrator_of(rng, c))


def payout_retry(rng: random.Random, o: OrderSeen) -> Command | None:
    r = _refund(rng, o)
    return Command("payout.retry", {"order_id": o.order_id, "refund_id": r.refund_id}, "system", "ops") if r else None


# ---- the app's message box ----------------------------------------------------------------


def message_read(rng: random.Random, o: OrderSeen) -> Command | None:
    if not o.messages:
        return None
    user, message_id = rng.choice(o.messages)
    role = "buyer" if user == o.buyer_id else "seller"
    reader = user if rng.random() < 0.9 else (o.seller_id if role == "buyer" else o.buyer_id)  # now and then not theirs
    return Command("message.read", {"user_id": user, "message_id": message_id}, role, reader)


def locale_set(rng: random.Random, o: OrderSeen) -> Command | None:
    user, role = rng.choice(((o.buyer_id, "buyer"), (o.seller_id, "seller")))
    return Command("locale.set", {"user_id": user, "locale": rng.choice(("zh-CN", "en"))}, role, user)


# name -> (weight, pick). Weights favour the moves that carry a dispute forward.
ACTIONS: dict[str, tuple[float, Pick]] = {
    "order.shipped": (2, order_shipped),
    "order.delivered": (1, order_delivered),
    "refund.request": (5, refund_request),
    "refund.cancel": (1.5, refund_cancel),
    "return.shipped": (3, return_shipped),
    "offer.accept": (2, offer_answer("offer.accept")),
    "offer.decline": (1.5, offer_answer("offer.decline")),
    "buyer.post": (1, party_post("buyer")),
    "seller.post": (1, party_post("seller")),
    "buyer.intervention": (3, intervention("buyer")),
    "seller.intervention": (0.3, intervention("seller")),  # a complaint with no request is rarer than a dispute
    "buyer.evidence": (2, evidence("buyer")),
    "seller.evidence": (2, evidence("seller")),
    "buyer.appeal": (2, appeal("buyer")),
    "seller.appeal": (1.5, appeal("seller")),
    "seller.approve": (4, seller_approve),
    "seller.reject": (3, seller_reject),
    "seller.offer": (2.5, seller_offer),
    "return.received": (2, return_received),
    "replacement.ship": (1.5, replacement_ship),
    "ruling.decide": (4, ruling),
    "evidence.request": (1, evidence_request),
    "case.open": (0.25, platform_case),  # rarer than a party's case: the platform's own investigation
    "case.claim": (0.5, claim),
    "funds.hold": (0.6, funds),
    "complaint.file": (0.3, complaint),
    "payout.retry": (1, payout_retry),
    "message.read": (0.7, message_read),
    "locale.set": (0.2, locale_set),
}
_NAMES = tuple(ACTIONS)
_WEIGHTS = tuple(w for w, _ in ACTIONS.values())


# The moves that fit a request's state (as its people last saw it), or a case's status: most
# moves are drawn from these, so that disputes go deep (a ruling, an appeal, a second request
# while it is open); the rest from every move, whatever the state.
FITTING: dict[str, tuple[str, ...]] = {
    "none": ("refund.request", "refund.request", "order.shipped", "order.delivered"),
    "requested": ("seller.approve", "seller.reject", "seller.offer", "refund.cancel", "buyer.post", "seller.post"),
    "offer_pending": ("offer.accept", "offer.decline", "seller.offer", "refund.cancel"),
    "rejected": ("buyer.intervention", "buyer.intervention", "refund.request", "refund.cancel", "buyer.post"),
    "in_arbitration": ("buyer.evidence", "seller.evidence", "refund.cancel"),
    "return_pending": ("return.shipped", "refund.cancel"),
    "return_in_transit": ("return.received",),
    "replacement_pending": ("replacement.ship",),
    "payout_pending": ("refund.request", "buyer.appeal"),
    "payout_failed": ("payout.retry",),
    "closed": ("refund.request", "order.delivered"),
    "case:collecting_evidence": ("buyer.evidence", "seller.evidence", "buyer.evidence", "seller.evidence",
                                 "evidence.request", "funds.hold"),
    "case:awaiting_ruling": ("ruling.decide", "ruling.decide", "evidence.request", "case.claim", "funds.hold"),
    "case:ruled": ("buyer.appeal", "seller.appeal", "buyer.appeal", "seller.appeal", "refund.request"),
}


def fitting(o: OrderSeen) -> list[str]:
    r = list(o.refunds.values())[-1] if o.refunds else None
    names = list(FITTING[r.state if r else "none"])
    for c in o.cases.values():
        names += FITTING.get(f"case:{c.status}", ())
    return names


def act(rng: random.Random, o: OrderSeen) -> Command | None:
    """One random move by one of the order's people (None: the one picked had nothing to act on)."""
    names = fitting(o) if rng.random() < 0.7 else None
    name = rng.choice(names) if names else rng.choices(_NAMES, _WEIGHTS)[0]
    return ACTIONS[name][1](rng, o)
