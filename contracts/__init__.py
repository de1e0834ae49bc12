"""The Kafka contract of Aftersale: envelope, topics and every message, as pydantic v2 models.

`../shared/contract.md` fixes the external part (topic names, event types, envelope, listed
fields). Everything here marked `internal=True` is the project's own and documented the same way.
"""
from contracts.envelope import Actor, Envelope, Role
from contracts.parsing import Invalid, ParsedMessage, authorize, parse_message
from contracts.registry import MESSAGES, MessageSpec, spec_for

__all__ = [
    "Actor", "Envelope", "Role", "MESSAGES", "MessageSpec", "spec_for",
    "Invalid", "parse_message", "ParsedMessage", "authorize",
]
