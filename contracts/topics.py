"""Topic names. The first block is fixed by the external contract."""

ORDERS_EVENTS = "orders.events"
PAYMENTS_EVENTS = "payments.events"
PAYMENTS_COMMANDS = "payments.commands"
REFUND_COMMANDS = "refund.commands"
REFUND_EVENTS = "refund.events"
SELLER_COMMANDS = "seller.commands"
SELLER_EVENTS = "seller.events"
ARBITRATION_COMMANDS = "arbitration.commands"
# Only the platform's arbitrator tools (their Kafka principal) may write it; `arbitrator` is the
# only role accepted on it, and accepted nowhere else.
ARBITRATION_DECISIONS = "arbitration.decisions"
ARBITRATION_EVENTS = "arbitration.events"
NOTIFY_COMMANDS = "notify.commands"
NOTIFY_EVENTS = "notify.events"
# Version 3: operators' commands (role `system`), written only by the operators' principal.
OPS_COMMANDS = "ops.commands"

# Internal: compacted, read whole by every notify instance (a global table of users' languages).
NOTIFY_LOCALES = "notify.locales"
# Internal: compacted, read whole by every seller instance (each shop's restrictions in force).
SELLER_RESTRICTIONS = "seller.restrictions"
# Internal: compacted, read whole by every arbitration instance (buyers a ruling found in misconduct).
ARBITRATION_FLAGGED_BUYERS = "arbitration.flagged_buyers"

ALL = (
    ORDERS_EVENTS, PAYMENTS_EVENTS, PAYMENTS_COMMANDS,
    REFUND_COMMANDS, REFUND_EVENTS,
    SELLER_COMMANDS, SELLER_EVENTS,
    ARBITRATION_COMMANDS, ARBITRATION_DECISIONS, ARBITRATION_EVENTS,
    NOTIFY_COMMANDS, NOTIFY_EVENTS, NOTIFY_LOCALES, SELLER_RESTRICTIONS, ARBITRATION_FLAGGED_BUYERS,
    OPS_COMMANDS,
)

# Every topic a service consumes has a dead-letter twin for what cannot be parsed or processed.
DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


ALL_WITH_DLQ = ALL + tuple(dlq(t) for t in ALL)
