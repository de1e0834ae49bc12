"""(v3) Complaints against another shop (当发现有其他店铺或个人侵犯了自己的…知识产权时): a seller
complains of a shop's infringement, the accused answers, an arbitrator decides. Keyed by
`complaint_id`: a complaint belongs to no order."""
from __future__ import annotations

from typing import Literal

from contracts.arbitration import Reasoning, Sanction
from contracts.common import Data, Description, EvidenceList, Id, ShortText

IpRight = Literal["trademark", "copyright", "patent"]
ComplaintOutcome = Literal["upheld", "dismissed"]


class ComplaintFile(Data):
    complaint_id: Id
    against_seller_id: Id
    subject: ShortText  # what is infringed: a listing, a brand
    right: IpRight
    description: Description
    evidence: EvidenceList


class ComplaintRespond(Data):
    """The accused shop's answer."""

    complaint_id: Id
    description: Description
    evidence: EvidenceList


class ComplaintDecide(Data):
    complaint_id: Id
    outcome: ComplaintOutcome
    reasoning: Reasoning
    sanction: Sanction | None = None  # of the accused shop, when upheld


class ComplaintFiled(Data):
    complaint_id: Id
    against_seller_id: Id
    complainant_id: Id
    subject: ShortText
    right: IpRight


class ComplaintAnswered(Data):
    complaint_id: Id
    against_seller_id: Id
    complainant_id: Id


class ComplaintRuled(Data):
    complaint_id: Id
    against_seller_id: Id
    outcome: ComplaintOutcome
    # extras
    complainant_id: Id | None = None
    reasoning: Reasoning | None = None
    decided_by: Id | None = None
    sanction: Sanction | None = None
    seller_id: Id | None = None  # the accused again, for the readers that route shops by `seller_id`
