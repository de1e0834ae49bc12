"""Keys of payloads (runtime/api/decision.py): what grows with every message, kept under a key of its
own beside the aggregate that counts it. The key is the aggregate's, a NUL, and the payload's ref.
Every message with a NUL anywhere is refused (contracts/parsing.py), so no aggregate's key can
ever be a payload's."""
from __future__ import annotations

MARK = "\x00"


def payload_key(owner: str, ref: str) -> str:
    return f"{owner}{MARK}{ref}"


def is_payload(key: str) -> bool:
    return MARK in key


def ref_of(key: str) -> str:
    return key.partition(MARK)[2]
