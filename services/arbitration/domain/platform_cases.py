"""Cases the platform opens on its own (主动介入, 「即使没有消费者的投诉，拼多多也有权主动介入调查」):
an arbitrator opens one on an order for a counterfeit, false advertising or a broken rule. Both
parties are told and get the evidence window; the case then goes to the arbitrators (no automatic
rule rules on it) and is ruled like a case without a request. Pure."""
from __future__ import annotations

from contracts.parsing import ParsedMessage
from runtime.api.context import Context
from runtime.api.decision import Decision, actor_of
from services.arbitration.domain.collector import ArbitrationCollector, evidence_of, open_case
from services.arbitration.domain.model import ArbitrationOrder, Submission

OPENER = "platform"


def case_open(agg: ArbitrationOrder, msg: ParsedMessage, ctx: Context) -> Decision:
    d = msg.data
    if agg.buyer_id is None or agg.seller_id is None:
        return Decision.refuse("unknown_order", f"order {agg.order_id} is not known (no order.paid seen)")
    if (open_ := agg.open_case_for(None)) is not None:
        return Decision.refuse("case_already_open", f"case {open_.case_id} on order {agg.order_id} is still open; "
                                                    f"add to it (evidence.request) instead")
    c = ArbitrationCollector(agg, ctx, actor_of(msg))
    case = open_case(c, None, OPENER, d.reason, ctx)
    case.submissions.append(Submission(party=OPENER, at=ctx.now, description=d.description,
                                       evidence=evidence_of(msg), kind="filing"))
    return c.decision()
