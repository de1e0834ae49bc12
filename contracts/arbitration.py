"""`arbitration.commands` (buyers, sellers), `arbitration.decisions` (arbitrators) and
`arbitration.events` (arbitration service)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictBool, StrictInt, StrictStr, model_validator

from contracts.common import (
    CaseOpener, Data, Demand, Description, EvidenceList, Id, Misconduct, NonNegativeFen, Outcome, Party,
    PlatformCaseReason, ReturnAddress, SanctionLevel, ShippingPayer, ShortText,
)

Reasoning = Annotated[StrictStr, Field(min_length=1, max_length=4000)]
HoldReason = Annotated[StrictStr, Field(min_length=1, max_length=2000)]  # told to both parties: never empty

# ---- commands -------------------------------------------------------------------------------


class InterventionRequest(Data):
    order_id: Id
    refund_id: Id | None = None  # required for a buyer; optional for a seller
    reason: ShortText  # a seller must use one of contracts.common.SellerInterventionReason
    description: Description
    evidence: EvidenceList
    # v3: what the party asks of the platform, shown on the case; the arbitrator decides (funds.hold)
    demands: Annotated[list[Demand], Field(max_length=4)] = Field(default_factory=list)


class CaseOpen(Data):
    """(v3) The platform opens a case on an order without a complaint (主动介入): both parties are
    told and given the evidence window, and it is ruled like any other."""

    order_id: Id
    reason: PlatformCaseReason
    description: Description
    evidence: EvidenceList


class FundsHold(Data):
    """(v3) The arbitrator holds a party's settlement of this order until the case ends (冻结)."""

    order_id: Id
    case_id: Id
    party: Party
    reason: HoldReason


class FundsRelease(FundsHold):
    """(v3) The arbitrator releases a hold before the case ends (a case's end releases them all)."""


class EvidenceSubmit(Data):
    order_id: Id
    case_id: Id
    description: Description
    evidence: EvidenceList
    # extra, not in the external contract: "that is all I have". When both parties said so, the
    # case goes to the arbitrators without waiting out the evidence window.
    done: StrictBool = False


class EvidenceRequest(Data):
    """The arbitrator asks one party for more material (补充资料) by a new deadline."""

    order_id: Id
    case_id: Id
    party: Party
    message: Description
    due_in_seconds: Annotated[StrictInt, Field(gt=0, le=30 * 24 * 3600)] | None = None


class Sanction(Data):
    """(v3) A step on the ladder for a party found at fault: `days` for a suspension, none else."""

    party: Party
    level: SanctionLevel
    days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None

    @model_validator(mode="after")
    def _days_for_suspensions(self) -> "Sanction":
        if (self.level == "suspended") != (self.days is not None):
            raise ValueError("a suspension states its days; no other level does")
        return self


class RulingDecide(Data):
    order_id: Id
    case_id: Id
    outcome: Outcome
    refund_fen: NonNegativeFen | None = None
    return_shipping_paid_by: ShippingPayer
    seller_at_fault: StrictBool
    reasoning: Reasoning
    return_shipping_fen: NonNegativeFen | None = None  # the buyer's return postage, repaid when not the buyer's
    misconduct: Misconduct = "none"
    penalty_fen: NonNegativeFen = 0  # a fine on the seller, from its deposit
    # v3: paid to the buyer beyond any refund (赔偿, 补偿差价), from the seller's deposit; capped
    # (services/arbitration/domain/ruling_checks.py: COMPENSATION_MULTIPLE)
    compensation_fen: NonNegativeFen = 0
    sanction: Sanction | None = None  # v3


class CaseClaim(Data):
    """Internal: an arbitrator takes a case to work on; nobody else may rule or ask for evidence on
    it until the claim is released, expires, or a supervisor gives the case to someone else."""

    order_id: Id
    case_id: Id


class CaseRelease(Data):
    """Internal: the arbitrator holding a case's claim gives it back to the queue."""

    order_id: Id
    case_id: Id


class CaseAssign(Data):
    """Internal: a supervisor gives a case to an arbitrator (the console lets only supervisors send it)."""

    order_id: Id
    case_id: Id
    arbitrator_id: Id


class RulingAppeal(Data):
    order_id: Id
    case_id: Id
    description: Description
    evidence: EvidenceList


# ---- events ---------------------------------------------------------------------------------


class CaseOpened(Data):
    order_id: Id
    case_id: Id
    refund_id: Id | None
    opened_by: CaseOpener
    evidence_due_at: AwareDatetime
    # extras: what the arbitrator needs in one place
    buyer_id: Id | None = None
    seller_id: Id | None = None
    reason: ShortText | None = None
    refund_kind: ShortText | None = None
    amount_fen: NonNegativeFen | None = None
    # False when an automatic rule decides the case (or sends it to the arbitrators) without asking
    # the parties for evidence: nobody is told to submit any.
    asks_evidence: StrictBool = True


class EvidenceSubmitted(Data):
    """Internal: a party added material to a case."""

    order_id: Id
    case_id: Id
    party: Party
    evidence_count: StrictInt
    total_evidence: StrictInt
    done: StrictBool = False  # the party said it has nothing more


class EvidenceRequested(Data):
    """Internal: the arbitrator asked a party for more material."""

    order_id: Id
    case_id: Id
    party: Party
    user_id: Id
    due_at: AwareDatetime


class CaseAwaitingRuling(Data):
    """Internal: evidence is closed; the case is in the arbitrators' queue."""

    order_id: Id
    case_id: Id
    ruling_due_at: AwareDatetime
    round: StrictInt


class CaseRulingOverdue(Data):
    """Internal: a case in the queue passed its ruling target unruled; it is flagged and first."""

    order_id: Id
    case_id: Id
    ruling_due_at: AwareDatetime
    round: StrictInt


class RulingIssued(Data):
    order_id: Id
    case_id: Id
    outcome: Outcome
    refund_fen: NonNegativeFen
    return_shipping_paid_by: ShippingPayer
    seller_at_fault: StrictBool
    reasoning: Reasoning
    decided_by: Id
    appealable_until: AwareDatetime | None
    return_shipping_fen: NonNegativeFen
    misconduct: Misconduct
    penalty_fen: NonNegativeFen
    compensation_fen: NonNegativeFen = 0  # v3; 0 in rulings recorded before it
    sanction: Sanction | None = None  # v3
    # v3: a ruling that orders goods back names where: the shop's last return address, if known
    return_address: ReturnAddress | None = None
    # extras
    refund_id: Id | None = None
    round: StrictInt = 1
    final: StrictBool = False
    reverses_previous: StrictBool = False
    buyer_id: Id | None = None
    seller_id: Id | None = None


class RulingAppealed(Data):
    """Internal: a party appealed the first ruling; the case goes back to review."""

    order_id: Id
    case_id: Id
    party: Party
    refund_id: Id | None = None
    evidence_due_at: AwareDatetime


class CaseClaimed(Data):
    """Internal: an arbitrator holds the case until `claimed_until`."""

    order_id: Id
    case_id: Id
    arbitrator_id: Id
    claimed_until: AwareDatetime
    assigned_by: Id | None = None  # the supervisor, when it was given rather than taken


class CaseReleased(Data):
    """Internal: the case is back in the queue, unclaimed."""

    order_id: Id
    case_id: Id
    arbitrator_id: Id


class CaseClosed(Data):
    """Internal: the case is over (ruling final, or the request was withdrawn)."""

    order_id: Id
    case_id: Id
    why: ShortText


class FundsHeld(Data):
    """Internal: a party's settlement of the order is held (what `settlement.hold` asked for)."""

    order_id: Id
    case_id: Id
    hold_id: Id
    party: Party
    party_id: Id
    reason: Description


class FundsReleased(FundsHeld):
    """Internal: a hold ended: an arbitrator released it, or its case ended (`released_by` says)."""

    released_by: Literal["arbitrator", "case_closed"]


class WithdrawalNoted(Data):
    """Internal: the arbitration service heard that the buyer withdrew a request, and says whether a
    'no' stood on it then (`final_no`: a case had ruled 'reject'), which makes it final. The refund
    service takes no new request on the order before it hears this."""

    order_id: Id
    refund_id: Id
    case_id: Id | None = None
    final_no: StrictBool


class _Standing(Data):
    """A party's step on the ladder (contracts/ladder.py), and what put it there: a case of an
    order, or a complaint."""

    party: Party
    party_id: Id
    level: SanctionLevel
    case_id: Id | None = None
    order_id: Id | None = None
    complaint_id: Id | None = None


class AccountSanctioned(_Standing):
    """(v3) A party moved up the ladder: `seller` on seller.events, `buyer` on arbitration.events.
    `until`: when a suspension ends (none: until lifted)."""

    until: AwareDatetime | None = None


class AccountSanctionLifted(_Standing):
    """(v3) A sanction ended: its time ran out, or an appeal lifted it."""

    why: Literal["expired", "appeal_won"]


class BuyerFlagged(Data):
    """Internal, on the compacted `arbitration.flagged_buyers`: a ruling found the buyer in
    misconduct; until `flagged_until` no automatic rule refunds this buyer in full. Never shown to
    sellers."""

    buyer_id: Id
    misconduct_cases: StrictInt
    last_case_id: Id
    flagged_until: AwareDatetime | None  # None: no finding stands any more (lifted on appeal)
    # v3: the buyer's sanction in force, if any: `restricted` stops automatic refunds, `banned`
    # refuses its new requests (the refund service reads this table too).
    sanction: SanctionLevel | None = None
    sanction_until: AwareDatetime | None = None
